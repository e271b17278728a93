//! `vitrine analyze PHOTO...`: what Vitrine understands from product photos
//! (category from the classifier mapped onto the knowledge graph, dominant
//! colours, the cut-out), stored as facts of each photo's product.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use vitrine_core::analysis::CategoryGuess;
use vitrine_core::{Fact, IngestOutcome};

use super::{print_json, Context};

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Product photos (JPEG, PNG or WebP); a photo already in the store is
    /// analysed again (the user's own facts are kept)
    #[arg(required = true)]
    photos: Vec<PathBuf>,
    /// The product's title, as you would list it (one photo only): it
    /// names the product and votes on its category with the photo
    #[arg(long)]
    title: Option<String>,
    /// Also ask a vision-language model (Qwen3-VL family): a local
    /// Hugging Face-format directory, or hf:OWNER/REPO[@REVISION]
    #[arg(long, env = "VITRINE_VLM", value_name = "DIR|hf:REPO")]
    vlm: Option<String>,
    /// Read the text printed on every photo (PP-OCRv4, `vitrine models
    /// fetch ppocr-v4`; about 1.5 s a photo on one core). Without it, when
    /// the models are installed, a photo's label is read only when there
    /// is no title and the classifier is unsure or sees packaged goods
    #[arg(long, conflicts_with = "no_ocr")]
    ocr: bool,
    /// Never read printed text, even where it could settle the category
    #[arg(long)]
    no_ocr: bool,
    /// Print a JSON array (one object per photo) instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Analysed<'a> {
    file: String,
    product_id: i64,
    photo_id: i64,
    /// The photo was already stored (and was analysed again).
    reanalysed: bool,
    cutout_path: Option<&'a str>,
    /// `null` when no classifier is installed.
    category: Option<&'a CategoryGuess>,
    facts: &'a [Fact],
}

#[derive(Serialize)]
struct Failed {
    file: String,
    error: String,
}

pub async fn run(ctx: &Context, args: AnalyzeArgs) -> Result<()> {
    if args.title.is_some() && args.photos.len() > 1 {
        bail!("--title names one product: give one photo with it");
    }
    let mut studio = ctx.studio().await?;
    if let Some(source) = args.vlm.clone() {
        let device = ctx.device_pref()?;
        let vlm =
            tokio::task::spawn_blocking(move || vitrine_core::vlm_facts::load(&source, device))
                .await??;
        studio = studio.with_vlm(vlm);
    }
    if args.ocr {
        studio = tokio::task::spawn_blocking(move || studio.with_ocr()).await??;
    } else if args.no_ocr {
        studio = studio.without_ocr();
    }
    let classifier = studio.classifier_notice().await;
    if let Some(notice) = &classifier {
        eprintln!("note: {notice}");
    }
    let mut done: Vec<(String, IngestOutcome)> = Vec::new();
    let mut failed = Vec::new();
    // One bad photo does not stop the others; each failure is reported.
    for path in &args.photos {
        match studio.analyze_path(path, args.title.as_deref()).await {
            Ok(out) => done.push((path.display().to_string(), out)),
            Err(e) => {
                if !args.json {
                    eprintln!("error: {e}");
                }
                failed.push(Failed {
                    file: path.display().to_string(),
                    error: e.to_string(),
                });
            }
        }
    }
    if args.json {
        let analysed: Vec<Analysed> = done
            .iter()
            .map(|(file, o)| Analysed {
                file: file.clone(),
                product_id: o.product_id,
                photo_id: o.photo.id,
                reanalysed: o.duplicate,
                cutout_path: o.photo.cutout_path.as_deref(),
                category: o.category.as_ref(),
                facts: &o.facts,
            })
            .collect();
        print_json(&serde_json::json!({
            "classifier_notice": classifier,
            "photos": analysed,
            "failed": failed,
        }))?;
    } else {
        for (file, o) in &done {
            print_text(file, o);
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} photos could not be analysed",
            failed.len(),
            args.photos.len()
        );
    }
    Ok(())
}

fn print_text(file: &str, o: &IngestOutcome) {
    println!("{file} → product {}", o.product_id);
    if let Some(g) = &o.category {
        match (&g.key, &g.en, &g.zh) {
            (Some(key), Some(en), Some(zh)) => println!(
                "  category: {en} / {zh} ({key}, confidence {:.2})",
                g.confidence
            ),
            _ => println!(
                "  category: unknown (no category reaches the threshold; best {:.2})",
                g.confidence
            ),
        }
    }
    if let Some(g) = &o.category {
        let top: Vec<String> = g
            .classes
            .iter()
            .take(3)
            .map(|c| format!("{} {:.2}", c.label, c.probability))
            .collect();
        println!("  classifier: {}", top.join(" · "));
    }
    let colours: Vec<String> = o
        .facts
        .iter()
        .filter(|f| f.key == "colour")
        .map(|f| {
            format!(
                "{} / {} ({:.0}%, {})",
                f.label_en,
                f.label_zh,
                f.confidence * 100.0,
                f.source.as_str()
            )
        })
        .collect();
    if !colours.is_empty() {
        println!("  colours: {}", colours.join(", "));
    }
    for f in o
        .facts
        .iter()
        .filter(|f| f.key != "colour" && f.key != "category")
    {
        println!("  {}: {} ({})", f.key, f.label_en, f.source.as_str());
    }
    if let Some(user) = o
        .facts
        .iter()
        .find(|f| f.key == "category" && f.source == vitrine_core::FactSource::User)
    {
        println!(
            "  category set by you: {} / {}",
            user.label_en, user.label_zh
        );
    }
    if let Some(c) = &o.photo.cutout_path {
        println!("  cut-out: {c}");
    }
}
