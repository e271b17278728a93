//! `vitrine bench --batch N`: the job system's cost. N products of a
//! generated catalogue go through a batch (the worker pool, claims,
//! transactions, events), and the same N listings through the pipeline
//! directly in a fresh store as the reference, in the same run and with
//! the same model.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};
use serde::Serialize;
use vitrine_core::batch::runner::RunOptions;
use vitrine_core::batch::{BatchSpec, Output};
use vitrine_core::studio::ListingRequest;
use vitrine_core::{DataDir, Studio};
use vitrine_infer::CancelToken;

use crate::commands::Context;

const GOODS: [(&str, &str, &str); 10] = [
    ("Organic Cotton Crew T-Shirt", "navy", "cotton"),
    ("Heavyweight Pullover Hoodie", "grey", "fleece"),
    ("Classic Pique Polo Shirt", "white", "cotton"),
    ("Linen Midi Dress", "beige", "linen"),
    ("Canvas Tote Bag", "black", "canvas"),
    ("Merino Wool Scarf", "red", "wool"),
    ("Stoneware Coffee Mug", "green", "ceramic"),
    ("Slim Fit Chino Trousers", "khaki", "cotton"),
    ("Leather Card Wallet", "brown", "leather"),
    ("Bamboo Cutting Board", "beige", "bamboo"),
];

#[derive(Serialize)]
struct Figures {
    model: String,
    products: usize,
    import_ms: u64,
    batch_ms: u64,
    batch_ms_per_item: f64,
    batch_items_per_min: f64,
    direct_ms: u64,
    direct_ms_per_item: f64,
    overhead_ms_median: f64,
    overhead_ms_mean: f64,
    overhead_ms_p95: f64,
    failed: u64,
}

pub async fn run(ctx: &Context, products: usize, model: &str, json: bool) -> Result<()> {
    if products == 0 {
        bail!("--batch needs at least one product");
    }
    let tmp = tempfile::tempdir()?;
    let csv = tmp.path().join("catalogue.csv");
    write_catalogue(&csv, products)?;
    let models = ctx.dirs()?.models_dir().to_path_buf();
    let open = |name: &str| {
        let dirs = DataDir::resolve(Some(&tmp.path().join(name)))
            .map(|d| d.with_models_dir(models.clone()));
        let device = ctx.device_pref();
        async move { anyhow::Ok(Studio::open(dirs?).await?.with_device(device?)) }
    };

    // Through the job system.
    let studio = open("batch").await?;
    studio.check_models(Some(model))?;
    let parsed = vitrine_core::catalogue::parse_file(&csv)?;
    let t = Instant::now();
    let imported = studio
        .import_catalogue(&parsed, &csv, &mut |_, _| {})
        .await?;
    let import_ms = t.elapsed().as_millis() as u64;
    let spec = BatchSpec {
        outputs: vec![Output::Listing],
        langs: vec!["en".into()],
        marketplace: "generic".into(),
        brand: None,
        model: Some(model.to_string()),
        concurrency: 1,
        reviews_dir: None,
        script_minutes: None,
        use_cache: false,
    };
    let batch = studio
        .store()
        .create_batch("bench", &spec, &imported.product_ids, &[])
        .await?;
    eprintln!("batch of {products} listings with {model}…");
    let t = Instant::now();
    let report = studio
        .run_batch(batch.id, RunOptions::default(), Arc::new(|_| {}))
        .await?;
    let batch_ms = t.elapsed().as_millis() as u64;
    let mut overheads: Vec<i64> = studio
        .store()
        .batch_items(batch.id, None)
        .await?
        .iter()
        .filter_map(|i| i.overhead_us)
        .collect();
    overheads.sort_unstable();
    let p95 = overheads
        .get((overheads.len() * 95 / 100).min(overheads.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default();

    // The reference: the same listings, one pipeline call after another.
    let direct = open("direct").await?;
    let imported = direct
        .import_catalogue(&parsed, &csv, &mut |_, _| {})
        .await?;
    eprintln!("the same {products} listings without the job system…");
    let t = Instant::now();
    for id in &imported.product_ids {
        let req = ListingRequest {
            product_id: *id,
            lang: "en".into(),
            marketplace: "generic".into(),
            model: Some(model.to_string()),
            params: None,
            use_cache: false,
            brand: None,
            batch_item: None,
        };
        // A failure costs time as in the batch; it is counted there.
        let _ = direct
            .generate_listing(req, Box::new(|_| {}), CancelToken::new())
            .await;
    }
    let direct_ms = t.elapsed().as_millis() as u64;

    let n = products as f64;
    let figures = Figures {
        model: model.to_string(),
        products,
        import_ms,
        batch_ms,
        batch_ms_per_item: batch_ms as f64 / n,
        batch_items_per_min: report.items_per_minute,
        direct_ms,
        direct_ms_per_item: direct_ms as f64 / n,
        overhead_ms_median: report.overhead_us_median.unwrap_or_default() / 1000.0,
        overhead_ms_mean: report.overhead_us_mean.unwrap_or_default() / 1000.0,
        overhead_ms_p95: p95 as f64 / 1000.0,
        failed: report.batch.counts.failed,
    };
    if json {
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(());
    }
    println!("| products | model | import | batch per item | direct per item | items/min | job overhead median / mean / p95 | failed |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} ms | {:.0} ms | {:.0} ms | {:.1} | {:.2} / {:.2} / {:.2} ms | {} |",
        figures.products,
        figures.model,
        figures.import_ms,
        figures.batch_ms_per_item,
        figures.direct_ms_per_item,
        figures.batch_items_per_min,
        figures.overhead_ms_median,
        figures.overhead_ms_mean,
        figures.overhead_ms_p95,
        figures.failed
    );
    Ok(())
}

/// A generic CSV of `n` products cycling through everyday goods.
pub(super) fn write_catalogue(path: &Path, n: usize) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["handle", "title", "colour", "material", "price"])?;
    for i in 0..n {
        let (title, colour, material) = GOODS[i % GOODS.len()];
        w.write_record([
            format!("item-{i:05}"),
            title.to_string(),
            colour.to_string(),
            material.to_string(),
            format!("{}.00", 10 + i % 50),
        ])?;
    }
    w.flush()?;
    Ok(())
}
