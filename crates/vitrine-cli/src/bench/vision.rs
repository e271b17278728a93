//! `vitrine bench --analyze PHOTO...`: the time to understand one photo as
//! ingest does it (decode, colours, cut-out, thumbnail, classifier and the
//! knowledge-graph mapping), median of several runs, with the classifier's
//! own share. Run with `--threads 1` for the one-core figure.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::commands::Context;

#[derive(Serialize)]
pub struct VisionRow {
    photo: String,
    width: u32,
    height: u32,
    runs: usize,
    threads: usize,
    /// Whole analysis, as ingest runs it, storing nothing.
    median_ms: f64,
    /// Of which the classifier (preprocessing and forward pass).
    classifier_ms: f64,
    category: Option<String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    }
}

pub async fn run(ctx: &Context, photos: &[PathBuf], runs: usize, json: bool) -> Result<()> {
    // The classifier path alone: a photo's label is read only where the
    // classifier is unsure, and OCR's cost is reported on its own
    // (docs/PERFORMANCE.md).
    let studio = ctx.studio().await?.without_ocr();
    let Some(classifier) = studio.classifier().await else {
        bail!(
            "{}",
            studio
                .classifier_notice()
                .await
                .unwrap_or_else(|| "no photo classifier".into())
        );
    };
    let understanding = studio.understanding().await?;
    let threads = vitrine_infer::native::default_threads();
    for photo in photos {
        // One untimed run: page cache, allocations, lazy statics.
        let first = vitrine_core::ingest::analyse_file(photo, &understanding).await?;
        let mut whole = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            vitrine_core::ingest::analyse_file(photo, &understanding).await?;
            whole.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let img = image::open(photo)?;
        let mut cls = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            classifier.probabilities(&img)?;
            cls.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let row = VisionRow {
            photo: photo.display().to_string(),
            width: first.width,
            height: first.height,
            runs,
            threads,
            median_ms: (median(whole) * 10.0).round() / 10.0,
            classifier_ms: (median(cls) * 10.0).round() / 10.0,
            category: first.category.and_then(|g| g.key),
        };
        if json {
            println!("{}", serde_json::to_string(&row)?);
        } else {
            println!(
                "{} ({}x{}, {} thread(s)): {:.1} ms per photo, of which the classifier {:.1} ms → {}",
                row.photo,
                row.width,
                row.height,
                row.threads,
                row.median_ms,
                row.classifier_ms,
                row.category.as_deref().unwrap_or("unknown")
            );
        }
    }
    Ok(())
}
