//! `vitrine eval vision DIR --labels FILE`: photo understanding against
//! labelled photos — category accuracy (top level and leaf), dominant
//! colour accuracy, and the confusions. Nothing is stored.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Category and colour accuracy on a folder of labelled photos
    Vision {
        /// Folder holding the photos the labels file names
        dir: PathBuf,
        /// TOML with `[[photo]]` entries: file, category (a knowledge-graph
        /// key), colour (a colour key); see assets/samples/labels.toml
        #[arg(long)]
        labels: PathBuf,
        /// Never read the photos' printed labels (by default they are read
        /// as `vitrine analyze` reads them: when the OCR models are
        /// installed, and the classifier is unsure or sees packaged goods)
        #[arg(long)]
        no_ocr: bool,
        #[arg(long)]
        json: bool,
    },
    /// Listings for labelled sample products, scored by the checks: valid
    /// structure, limits, banned words, contradictions, unsupported specs,
    /// language
    Copy(super::eval_copy::EvalCopyArgs),
}

/// A labels file (assets/samples/labels.toml); `eval copy` reads its titles.
#[derive(Deserialize)]
pub(super) struct Labels {
    pub(super) photo: Vec<Label>,
}

#[derive(Deserialize)]
pub(super) struct Label {
    pub(super) file: String,
    category: String,
    colour: String,
    /// The product's title, when known: scored as photo + title too.
    #[serde(default)]
    pub(super) title: Option<String>,
}

#[derive(Serialize)]
struct Case {
    file: String,
    expected_category: String,
    got_category: Option<String>,
    confidence: f32,
    top_level_ok: bool,
    leaf_ok: bool,
    expected_colour: String,
    got_colour: Option<String>,
    colour_ok: bool,
    top_class: Option<String>,
    /// Text was read on the photo's printed label (OCR), and the
    /// categories it named.
    label_read: bool,
    printed_categories: Vec<String>,
    /// With the label's title as well (absent without a title).
    with_title: Option<String>,
    with_title_top_level_ok: bool,
    /// The product's colour with the title: a colour it names, else the
    /// photo's.
    with_title_colour: Option<String>,
    with_title_colour_ok: bool,
}

#[derive(Serialize)]
struct Report {
    photos: usize,
    missing_files: usize,
    classifier: bool,
    top_level_accuracy: f64,
    leaf_accuracy: f64,
    colour_accuracy: f64,
    unknown: usize,
    /// Photos whose printed label was read and had text (photo alone).
    labels_read: usize,
    /// Photo and title together, over the photos that have a title.
    titled: usize,
    with_title_top_level_accuracy: f64,
    with_title_leaf_accuracy: f64,
    with_title_colour_accuracy: f64,
    cases: Vec<Case>,
}

pub async fn run(ctx: &Context, cmd: EvalCommand) -> Result<()> {
    let (dir, labels, no_ocr, json) = match cmd {
        EvalCommand::Vision {
            dir,
            labels,
            no_ocr,
            json,
        } => (dir, labels, no_ocr, json),
        EvalCommand::Copy(args) => return super::eval_copy::run(ctx, args).await,
    };
    let text = std::fs::read_to_string(&labels)
        .with_context(|| format!("reading {}", labels.display()))?;
    let labels: Labels =
        toml::from_str(&text).with_context(|| format!("parsing {}", labels.display()))?;
    let mut studio = ctx.studio().await?;
    if no_ocr {
        studio = studio.without_ocr();
    }
    if let Some(notice) = studio.classifier_notice().await {
        eprintln!("note: {notice}");
    }
    let understanding = studio.understanding().await?;
    let Some(kg) = understanding.kg.clone() else {
        anyhow::bail!("no knowledge graph");
    };
    let top = |key: &str| key.split('.').next().unwrap_or(key).to_string();
    let mut cases = Vec::new();
    let mut missing = 0;
    for l in &labels.photo {
        if kg.category(&l.category).is_none() {
            anyhow::bail!("label for {}: `{}` is not a category", l.file, l.category);
        }
        let path = dir.join(&l.file);
        if !path.is_file() {
            missing += 1;
            continue;
        }
        let r = vitrine_core::ingest::analyse_file(&path, &understanding).await?;
        let got = r.category.as_ref().and_then(|g| g.key.clone());
        let got_colour = r.colours.first().map(|c| c.key.clone());
        let (with_title, with_title_colour) = match &l.title {
            Some(t) => {
                let mut u = understanding.clone();
                u.title = Some(t.clone());
                let r = vitrine_core::ingest::analyse_file(&path, &u).await?;
                let colour = r
                    .title
                    .iter()
                    .find(|f| f.attribute == "colour")
                    .map(|f| f.value.key.clone())
                    .or_else(|| got_colour.clone());
                let category = r
                    .category
                    .and_then(|g| g.key)
                    .unwrap_or_else(|| "unknown".into());
                (Some(category), colour)
            }
            None => (None, None),
        };
        cases.push(Case {
            file: l.file.clone(),
            top_level_ok: got.as_deref().map(top) == Some(top(&l.category)),
            leaf_ok: got.as_deref() == Some(l.category.as_str()),
            expected_category: l.category.clone(),
            confidence: r.category.as_ref().map_or(0.0, |g| g.confidence),
            top_class: r
                .category
                .as_ref()
                .and_then(|g| g.classes.first())
                .map(|c| format!("{} ({:.2})", c.label, c.probability)),
            label_read: !r.text.is_empty(),
            printed_categories: r
                .category
                .as_ref()
                .map(|g| g.printed_categories.clone())
                .unwrap_or_default(),
            got_category: got,
            with_title_top_level_ok: with_title.as_deref().map(top) == Some(top(&l.category)),
            with_title,
            with_title_colour_ok: with_title_colour.as_deref() == Some(l.colour.as_str()),
            with_title_colour,
            colour_ok: got_colour.as_deref() == Some(l.colour.as_str()),
            expected_colour: l.colour.clone(),
            got_colour,
        });
    }
    let n = cases.len().max(1) as f64;
    let share = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count() as f64 / n;
    let titled: Vec<&Case> = cases.iter().filter(|c| c.with_title.is_some()).collect();
    let tn = titled.len().max(1) as f64;
    let t_top = titled.iter().filter(|c| c.with_title_top_level_ok).count() as f64 / tn;
    let t_leaf = titled
        .iter()
        .filter(|c| c.with_title.as_deref() == Some(c.expected_category.as_str()))
        .count() as f64
        / tn;
    let t_colour = titled.iter().filter(|c| c.with_title_colour_ok).count() as f64 / tn;
    let report = Report {
        photos: cases.len(),
        missing_files: missing,
        classifier: understanding.classifier.is_some(),
        top_level_accuracy: share(&|c| c.top_level_ok),
        leaf_accuracy: share(&|c| c.leaf_ok),
        colour_accuracy: share(&|c| c.colour_ok),
        unknown: cases.iter().filter(|c| c.got_category.is_none()).count(),
        labels_read: cases.iter().filter(|c| c.label_read).count(),
        titled: titled.len(),
        with_title_top_level_accuracy: t_top,
        with_title_leaf_accuracy: t_leaf,
        with_title_colour_accuracy: t_colour,
        cases,
    };
    if json {
        return print_json(&report);
    }
    println!(
        "{} photos ({} labelled files not in {}), the photo alone: top-level category {:.1}% · leaf category {:.1}% · dominant colour {:.1}% · unknown {} · {}",
        report.photos,
        report.missing_files,
        dir.display(),
        report.top_level_accuracy * 100.0,
        report.leaf_accuracy * 100.0,
        report.colour_accuracy * 100.0,
        report.unknown,
        if no_ocr {
            "labels not read (--no-ocr)".to_string()
        } else {
            format!("text found on {} printed labels", report.labels_read)
        }
    );
    if report.titled > 0 {
        println!(
            "with their titles ({} photos): top-level category {:.1}% · leaf category {:.1}% · colour {:.1}%",
            report.titled,
            report.with_title_top_level_accuracy * 100.0,
            report.with_title_leaf_accuracy * 100.0,
            report.with_title_colour_accuracy * 100.0
        );
    }
    let wrong: Vec<&Case> = report
        .cases
        .iter()
        .filter(|c| {
            !c.top_level_ok
                || !c.leaf_ok
                || !c.colour_ok
                || (c.with_title.is_some() && !c.with_title_colour_ok)
        })
        .collect();
    if !wrong.is_empty() {
        println!("\nconfusions (expected → got):");
        for c in wrong {
            let mut parts = Vec::new();
            if !c.leaf_ok {
                parts.push(format!(
                    "category {} → {} ({:.2}; top class {}){}",
                    c.expected_category,
                    c.got_category.as_deref().unwrap_or("unknown"),
                    c.confidence,
                    c.top_class.as_deref().unwrap_or("-"),
                    c.with_title
                        .as_deref()
                        .map(|w| format!("; with title → {w}"))
                        .unwrap_or_default()
                ));
            }
            if !c.colour_ok || (c.with_title.is_some() && !c.with_title_colour_ok) {
                parts.push(format!(
                    "colour {} → {}{}",
                    c.expected_colour,
                    c.got_colour.as_deref().unwrap_or("none"),
                    c.with_title_colour
                        .as_deref()
                        .map(|w| format!("; with title → {w}"))
                        .unwrap_or_default()
                ));
            }
            println!("  {}: {}", c.file, parts.join("; "));
        }
    }
    Ok(())
}
