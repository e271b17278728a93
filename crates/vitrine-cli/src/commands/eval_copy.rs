//! `vitrine eval copy DIR --labels FILE`: listings for labelled sample
//! products, in each language and marketplace asked for, scored by the
//! checks. Drafts go to a throwaway data dir; the user's store is untouched.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::Serialize;
use vitrine_core::checks::{Finding, Severity};
use vitrine_core::studio::{ListingRequest, Studio};
use vitrine_core::DataDir;
use vitrine_infer::CancelToken;

use super::eval::Labels;
use super::{print_json, Context};

#[derive(Args)]
pub struct EvalCopyArgs {
    /// Folder holding the photos the labels file names
    dir: PathBuf,
    /// The labels file (assets/samples/labels.toml): each photo's title
    #[arg(long)]
    labels: PathBuf,
    /// Pin a model (default: the router's choice, the heavy model when installed)
    #[arg(long)]
    model: Option<String>,
    /// Languages, comma-separated
    #[arg(long, default_value = "en,zh-CN", value_delimiter = ',')]
    langs: Vec<String>,
    /// Marketplaces, comma-separated
    #[arg(long, default_value = "generic", value_delimiter = ',')]
    marketplaces: Vec<String>,
    /// At most this many photos (in labels order, first of each product)
    #[arg(long)]
    limit: Option<usize>,
    /// Review files to summarise in each language as well
    /// (e.g. assets/samples/reviews-hoodie.csv)
    #[arg(long)]
    reviews: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Case {
    file: String,
    title: String,
    lang: String,
    marketplace: String,
    /// A listing was stored (the reply was a JSON listing).
    valid: bool,
    error: Option<String>,
    attempts: u32,
    seconds: f64,
    title_chars: usize,
    description_chars: usize,
    findings: Vec<Finding>,
    /// Blocking problems a re-check finds that the draft does not carry:
    /// must be none.
    unflagged: Vec<String>,
}

#[derive(Serialize)]
struct Report {
    model: String,
    drafts: usize,
    valid: usize,
    clean: usize,
    with_blocking: usize,
    unflagged: usize,
    /// Drafts with at least one blocking finding of each check.
    blocking_by_check: BTreeMap<String, usize>,
    /// Drafts with at least one warning of each check.
    warnings_by_check: BTreeMap<String, usize>,
    mean_title_chars: f64,
    mean_description_chars: f64,
    mean_seconds: f64,
    cases: Vec<Case>,
    summaries: Vec<SummaryCase>,
}

/// One review summary, scored.
#[derive(Serialize)]
struct SummaryCase {
    file: String,
    lang: String,
    error: Option<String>,
    /// `model`, `template` (both tries rejected) or `not_enough`.
    paragraph_source: String,
    usable_reviews: usize,
    suspicious: usize,
    quotes: usize,
    /// Quotes dropped because they were not verbatim in the file: must be 0
    /// in what is shown.
    quotes_dropped: usize,
    /// The checks on the paragraph.
    findings: Vec<Finding>,
    seconds: f64,
}

fn key(f: &Finding) -> String {
    format!("{}@{}: {}", f.rule, f.field, f.excerpt)
}

pub async fn run(ctx: &Context, args: EvalCopyArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.labels)
        .with_context(|| format!("reading {}", args.labels.display()))?;
    let labels: Labels =
        toml::from_str(&text).with_context(|| format!("parsing {}", args.labels.display()))?;
    // One photo per product title: the same product twice says nothing new.
    let mut seen = Vec::new();
    let photos: Vec<(PathBuf, String)> = labels
        .photo
        .iter()
        .filter_map(|l| Some((args.dir.join(&l.file), l.title.clone()?)))
        .filter(|(p, t)| {
            p.is_file() && !seen.contains(t) && {
                seen.push(t.clone());
                true
            }
        })
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    if photos.is_empty() && args.reviews.is_empty() {
        bail!(
            "none of the photos {} names is in {} (vitrine samples fetch --dir {})",
            args.labels.display(),
            args.dir.display(),
            args.dir.display()
        );
    }
    let scratch = tempfile::tempdir().context("creating a scratch data dir")?;
    let dirs = DataDir::resolve(Some(scratch.path()))?
        .with_models_dir(ctx.dirs()?.models_dir().to_path_buf());
    let studio = Studio::open(dirs)
        .await?
        .with_device(ctx.device_pref()?)
        .with_backend(ctx.backend()?);
    studio.check_models(args.model.as_deref())?;

    let total = photos.len() * args.langs.len() * args.marketplaces.len();
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut cases = Vec::new();
    let mut model = String::new();
    for (photo, title) in &photos {
        let outcome = studio.analyze_path(photo, Some(title)).await?;
        for lang in &args.langs {
            for mp in &args.marketplaces {
                bar.set_message(format!("{title} · {lang} · {mp}"));
                let started = Instant::now();
                let req = ListingRequest {
                    product_id: outcome.product_id,
                    lang: lang.clone(),
                    marketplace: mp.clone(),
                    model: args.model.clone(),
                    params: None,
                    use_cache: true,
                    batch_item: None,
                    brand: None,
                };
                let result = studio
                    .generate_listing(req, Box::new(|_| {}), CancelToken::new())
                    .await;
                let seconds = started.elapsed().as_secs_f64();
                let file = photo
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let case = match result {
                    Ok(draft) => {
                        let v = draft.versions.last().context("a draft has a version")?;
                        let p = v
                            .provenance
                            .as_ref()
                            .context("a generated draft has provenance")?;
                        model.clone_from(&p.model_id);
                        let stored: Vec<String> = p.findings.iter().map(key).collect();
                        let unflagged = studio
                            .check_draft(draft.id)
                            .await?
                            .iter()
                            .filter(|f| f.severity == Severity::Blocking)
                            .map(key)
                            .filter(|k| !stored.contains(k))
                            .collect();
                        Case {
                            file,
                            title: title.clone(),
                            lang: lang.clone(),
                            marketplace: mp.clone(),
                            valid: true,
                            error: None,
                            attempts: p.attempts,
                            seconds,
                            title_chars: v.listing.title.chars().count(),
                            description_chars: v.listing.description.chars().count(),
                            findings: p.findings.clone(),
                            unflagged,
                        }
                    }
                    Err(e) => Case {
                        file,
                        title: title.clone(),
                        lang: lang.clone(),
                        marketplace: mp.clone(),
                        valid: false,
                        error: Some(e.to_string()),
                        attempts: 0,
                        seconds,
                        title_chars: 0,
                        description_chars: 0,
                        findings: Vec::new(),
                        unflagged: Vec::new(),
                    },
                };
                cases.push(case);
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();

    let mut summaries = Vec::new();
    for file in &args.reviews {
        for lang in &args.langs {
            let started = Instant::now();
            let req = vitrine_core::reviews::summarize::SummaryRequest {
                product_id: None,
                lang: lang.clone(),
                model: args.model.clone(),
                params: None,
                use_cache: true,
                batch_item: None,
            };
            let result = studio
                .summarize_reviews(file, req, Box::new(|_| {}), CancelToken::new())
                .await;
            let name = file.display().to_string();
            summaries.push(match result {
                Ok(s) => SummaryCase {
                    findings: studio.check_text(&s.paragraph, None, lang, None).await?,
                    file: name,
                    lang: lang.clone(),
                    error: None,
                    paragraph_source: s.paragraph_source.clone(),
                    usable_reviews: s.analysis.usable,
                    suspicious: s.analysis.suspicious.len(),
                    quotes: s.analysis.quotes.len(),
                    quotes_dropped: s.analysis.quotes_dropped,
                    seconds: started.elapsed().as_secs_f64(),
                },
                Err(e) => SummaryCase {
                    file: name,
                    lang: lang.clone(),
                    error: Some(e.to_string()),
                    paragraph_source: String::new(),
                    usable_reviews: 0,
                    suspicious: 0,
                    quotes: 0,
                    quotes_dropped: 0,
                    findings: Vec::new(),
                    seconds: started.elapsed().as_secs_f64(),
                },
            });
        }
    }

    let blocking = |c: &Case| c.findings.iter().any(|f| f.severity == Severity::Blocking);
    // Per check, the number of drafts with at least one finding of it.
    let by_check = |severity: Severity| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for c in &cases {
            let mut checks: Vec<&str> = c
                .findings
                .iter()
                .filter(|f| f.severity == severity)
                .map(|f| f.check.as_str())
                .collect();
            checks.sort_unstable();
            checks.dedup();
            for k in checks {
                *counts.entry(k.to_string()).or_default() += 1;
            }
        }
        counts
    };
    let valid: Vec<&Case> = cases.iter().filter(|c| c.valid).collect();
    let mean = |f: &dyn Fn(&Case) -> usize| {
        valid.iter().map(|c| f(c) as f64).sum::<f64>() / valid.len().max(1) as f64
    };
    let report = Report {
        model,
        drafts: cases.len(),
        valid: cases.iter().filter(|c| c.valid).count(),
        clean: cases.iter().filter(|c| c.valid && !blocking(c)).count(),
        with_blocking: cases.iter().filter(|c| blocking(c)).count(),
        unflagged: cases.iter().map(|c| c.unflagged.len()).sum(),
        blocking_by_check: by_check(Severity::Blocking),
        warnings_by_check: by_check(Severity::Warning),
        mean_title_chars: mean(&|c| c.title_chars),
        mean_description_chars: mean(&|c| c.description_chars),
        mean_seconds: cases.iter().map(|c| c.seconds).sum::<f64>() / cases.len().max(1) as f64,
        cases,
        summaries,
    };
    if args.json {
        return print_json(&report);
    }
    if !report.cases.is_empty() {
        print_listing_summary(&report);
    }
    for s in &report.summaries {
        let blocking: Vec<String> = s
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .map(|f| format!("{} “{}”", f.rule, f.excerpt))
            .collect();
        match &s.error {
            Some(e) => println!("  reviews {} · {}: FAILED: {e}", s.file, s.lang),
            None => println!(
                "  reviews {} · {}: paragraph by {}, {} usable reviews, {} suspicious, {} verified quotes ({} dropped) · {:.1} s{}",
                s.file,
                s.lang,
                s.paragraph_source,
                s.usable_reviews,
                s.suspicious,
                s.quotes,
                s.quotes_dropped,
                s.seconds,
                if blocking.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", blocking.join("; "))
                }
            ),
        }
    }
    Ok(())
}

fn print_listing_summary(report: &Report) {
    println!(
        "{} drafts by {}: {} valid, {} with no blocking finding, {} carrying blocking findings, {} problems unflagged · {:.1} s a listing",
        report.drafts,
        if report.model.is_empty() { "-" } else { &report.model },
        report.valid,
        report.clean,
        report.with_blocking,
        report.unflagged,
        report.mean_seconds
    );
    println!(
        "  mean title {:.0} characters, description {:.0}",
        report.mean_title_chars, report.mean_description_chars
    );
    for (check, n) in &report.blocking_by_check {
        println!("  blocking {check}: {n} draft(s)");
    }
    for (check, n) in &report.warnings_by_check {
        println!("  warning {check}: {n} draft(s)");
    }
    for c in &report.cases {
        let problems: Vec<String> = c
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .map(|f| format!("{} “{}”", f.rule, f.excerpt))
            .collect();
        println!(
            "  {} · {} · {}: {}{}",
            c.title,
            c.lang,
            c.marketplace,
            match &c.error {
                Some(e) => format!("FAILED: {e}"),
                None if problems.is_empty() => format!("clean ({} attempt(s))", c.attempts),
                None => problems.join("; "),
            },
            if c.unflagged.is_empty() {
                String::new()
            } else {
                format!(" · UNFLAGGED: {}", c.unflagged.join("; "))
            }
        );
    }
}
