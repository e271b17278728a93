//! `vitrine batch`: generate copy for a whole catalogue, with progress,
//! pause (Ctrl-C or `batch pause`), resume and cancel.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use vitrine_core::batch::catalogue_import::ImportReport;
use vitrine_core::batch::runner::{BatchEvent, BatchReport, RunOptions};
use vitrine_core::batch::{Batch, BatchSpec, BatchStatus, Output};
use vitrine_core::catalogue::{self, SourceFormat};
use vitrine_core::studio::Backend;
use vitrine_core::Studio;

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum BatchCommand {
    /// Import a catalogue (Shopify product CSV, generic CSV, or a folder of
    /// photos) and generate copy for every product. Running it again on
    /// the same catalogue with the same options resumes the unfinished
    /// batch instead of starting another.
    Run(RunArgs),
    /// Go on with a paused or interrupted batch
    Resume {
        id: i64,
        /// Run failed items again too
        #[arg(long)]
        retry_failed: bool,
        /// Items at once for this run
        #[arg(long)]
        concurrency: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Where a batch stands: counts, failures, import errors
    Status {
        id: i64,
        /// List every item
        #[arg(long)]
        items: bool,
        #[arg(long)]
        json: bool,
    },
    /// Pause a running batch (from any terminal); `resume` goes on
    Pause { id: i64 },
    /// Cancel a batch for good; finished items keep their drafts
    Cancel { id: i64 },
    /// All batches, newest first
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct RunArgs {
    /// A catalogue CSV file or a folder of product photos
    pub source: PathBuf,
    /// What to write for each product: listing, script, reviews (comma-separated)
    #[arg(long, value_delimiter = ',', default_value = "listing")]
    pub outputs: Vec<String>,
    /// Languages, comma-separated: en, zh-CN
    #[arg(long, value_delimiter = ',', default_value = "en")]
    pub langs: Vec<String>,
    /// Marketplace profile of the listings (generic, shopify, amazon,
    /// taobao); shopify for a Shopify CSV, else generic
    #[arg(long)]
    pub marketplace: Option<String>,
    /// A stored brand profile (`vitrine brand import`)
    #[arg(long)]
    pub brand: Option<String>,
    /// Pin a model from the manifest (the router chooses otherwise)
    #[arg(long)]
    pub model: Option<String>,
    /// Items at once: 1 with local models (they share one loaded model),
    /// 4 against a remote server
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Folder of review files (HANDLE.csv, .json, .jsonl or .txt) for the
    /// reviews output
    #[arg(long)]
    pub reviews: Option<PathBuf>,
    /// Minutes of each livestream script
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Always generate, even when an identical request is cached
    #[arg(long)]
    pub no_cache: bool,
    /// Only import the catalogue and create the batch; `batch resume` runs it
    #[arg(long)]
    pub no_run: bool,
    /// Print the report as JSON (no progress bars)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, cmd: BatchCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    match cmd {
        BatchCommand::Run(args) => run_catalogue(&studio, args).await,
        BatchCommand::Resume {
            id,
            retry_failed,
            concurrency,
            json,
        } => {
            let report = execute(
                &studio,
                id,
                RunOptions {
                    retry_failed,
                    concurrency,
                },
                json,
            )
            .await?;
            finish(&report, json)
        }
        BatchCommand::Status { id, items, json } => status(&studio, id, items, json).await,
        BatchCommand::Pause { id } => {
            let b = studio.pause_batch(id).await?;
            println!(
                "batch {id} paused ({} of {} items finished); `vitrine batch resume {id}` goes on",
                b.counts.finished(),
                b.counts.total
            );
            Ok(())
        }
        BatchCommand::Cancel { id } => {
            let b = studio.cancel_batch(id).await?;
            println!(
                "batch {id} cancelled: {} item(s) done keep their drafts, {} will not be generated",
                b.counts.done,
                b.counts.pending + b.counts.running
            );
            Ok(())
        }
        BatchCommand::List { json } => {
            let batches = studio.store().batches().await?;
            if json {
                return print_json(&batches);
            }
            if batches.is_empty() {
                println!("no batches yet; start one with `vitrine batch run CATALOGUE.csv`");
            }
            for b in batches {
                println!("{}", one_line(&b));
            }
            Ok(())
        }
    }
}

async fn run_catalogue(studio: &Studio, args: RunArgs) -> Result<()> {
    let source = std::fs::canonicalize(&args.source)
        .with_context(|| format!("{}: cannot open", args.source.display()))?;
    let parse_path = source.clone();
    let parsed = tokio::task::spawn_blocking(move || catalogue::parse_file(&parse_path))
        .await
        .context("the catalogue reader failed")??;
    let remote = matches!(studio.backend(), Backend::Remote(_));
    let spec = BatchSpec {
        outputs: args
            .outputs
            .iter()
            .map(|o| Output::parse(o))
            .collect::<Result<_, _>>()?,
        langs: args.langs.iter().map(|l| l.trim().to_string()).collect(),
        marketplace: args.marketplace.clone().unwrap_or_else(|| {
            match parsed.format {
                SourceFormat::Shopify => "shopify",
                _ => "generic",
            }
            .to_string()
        }),
        brand: args.brand.clone(),
        model: args.model.clone(),
        concurrency: args.concurrency.unwrap_or(if remote { 4 } else { 1 }),
        reviews_dir: args
            .reviews
            .as_deref()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
        script_minutes: args.minutes,
        use_cache: !args.no_cache,
    };
    spec.validate()?;
    if let Some(brand) = &spec.brand {
        studio.store().brand(brand).await?;
    }
    if !remote {
        studio.check_models(spec.model.as_deref())?;
    }
    let source_name = source.display().to_string();

    // The import runs every time: a product already in the store is
    // found by its handle, so nothing is made twice.
    let bar = (!args.json).then(|| {
        let b = ProgressBar::new(parsed.products.len() as u64);
        b.set_style(
            ProgressStyle::with_template("importing {bar:30} {pos}/{len} products {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let progress_bar = bar.clone();
    let report = studio
        .import_catalogue(&parsed, &source, &mut move |done, _| {
            if let Some(b) = &progress_bar {
                b.set_position(done as u64);
            }
        })
        .await?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if !args.json {
        print_import(&report, &source);
    }
    if report.product_ids.is_empty() {
        bail!(
            "{}: no product could be imported ({} problem(s) above)",
            source.display(),
            report.errors.len()
        );
    }

    let batch = match studio.store().open_batch_for(&source_name, &spec).await? {
        Some(b) => {
            if !args.json {
                eprintln!(
                    "resuming batch {} (same catalogue and options; {} of {} items finished)",
                    b.id,
                    b.counts.finished(),
                    b.counts.total
                );
            }
            b
        }
        None => {
            let b = studio
                .store()
                .create_batch(&source_name, &spec, &report.product_ids, &report.errors)
                .await?;
            if !args.json {
                eprintln!(
                    "batch {}: {} item(s) ({} product(s) × {} output(s) × {} language(s))",
                    b.id,
                    b.counts.total,
                    report.product_ids.len(),
                    spec.outputs.len(),
                    spec.langs.len()
                );
            }
            b
        }
    };
    if args.no_run {
        if args.json {
            return print_json(&batch);
        }
        println!(
            "batch {} is ready; `vitrine batch resume {}` runs it",
            batch.id, batch.id
        );
        return Ok(());
    }
    let report = execute(studio, batch.id, RunOptions::default(), args.json).await?;
    finish(&report, args.json)
}

fn print_import(report: &ImportReport, source: &Path) {
    eprintln!(
        "{}: {} product(s) ({} new, {} already in the store), {} photo(s), {}",
        source.display(),
        report.product_ids.len(),
        report.created,
        report.existing,
        report.photos,
        report.encoding
    );
    for e in report.errors.iter().take(20) {
        match (e.line, &e.handle) {
            (Some(l), Some(h)) => eprintln!("  line {l} ({h}): {}", e.message),
            (Some(l), None) => eprintln!("  line {l}: {}", e.message),
            (None, Some(h)) => eprintln!("  {h}: {}", e.message),
            (None, None) => eprintln!("  {}", e.message),
        }
    }
    if report.errors.len() > 20 {
        eprintln!(
            "  … and {} more (`vitrine batch status ID` lists them all)",
            report.errors.len() - 20
        );
    }
}

/// Run a batch with a progress bar; Ctrl-C pauses it.
async fn execute(studio: &Studio, id: i64, opts: RunOptions, json: bool) -> Result<BatchReport> {
    let batch = studio.store().batch(id).await?;
    let bar = if json {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(batch.counts.total);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} batch {prefix} {bar:30} {pos}/{len} {msg} [{elapsed}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_prefix(id.to_string());
        b.set_position(batch.counts.finished());
        b.enable_steady_tick(Duration::from_millis(200));
        b
    };
    let events_bar = bar.clone();
    let on_event = Arc::new(move |e: BatchEvent| match e {
        BatchEvent::Progress { counts, eta_secs } => {
            events_bar.set_position(counts.finished());
            let mut msg = String::new();
            if counts.failed > 0 {
                msg.push_str(&format!("{} failed ", counts.failed));
            }
            if let Some(eta) = eta_secs {
                msg.push_str(&format!("ETA {}", human_secs(eta)));
            }
            events_bar.set_message(msg);
        }
        BatchEvent::ItemFailed {
            product_id, error, ..
        } => events_bar.println(format!("  product {product_id}: {error}")),
        _ => {}
    });

    // Ctrl-C pauses through the store, the way `batch pause` does from
    // another terminal; the run then stops with its items safe.
    let store = studio.store().clone();
    let pause_bar = bar.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            pause_bar.println("pausing… (items in flight go back to the queue)");
            if let Err(e) = store.set_batch_status(id, BatchStatus::Paused, None).await {
                pause_bar.println(format!("cannot pause: {e}"));
            }
        }
    });
    let result = studio.run_batch(id, opts, on_event).await;
    ctrl_c.abort();
    bar.finish_and_clear();
    Ok(result?)
}

fn finish(report: &BatchReport, json: bool) -> Result<()> {
    let b = &report.batch;
    if json {
        print_json(report)?;
    } else {
        println!(
            "batch {} {}: {} done, {} failed, {} skipped, {} pending of {} — this run: {} item(s) in {}, {:.1}/min",
            b.id,
            b.status.as_str(),
            b.counts.done,
            b.counts.failed,
            b.counts.skipped,
            b.counts.pending + b.counts.running,
            b.counts.total,
            report.done + report.failed + report.skipped,
            human_secs(report.elapsed_ms as f64 / 1000.0),
            report.items_per_minute,
        );
        if let (Some(mean), Some(median)) = (report.overhead_us_mean, report.overhead_us_median) {
            println!(
                "job system overhead per item: median {:.2} ms, mean {:.2} ms",
                median / 1000.0,
                mean / 1000.0
            );
        }
        for f in &report.failures {
            println!(
                "  failed: product {} {} {}: {}",
                f.product_id,
                f.kind,
                f.lang,
                f.error.as_deref().unwrap_or("")
            );
        }
    }
    match b.status {
        BatchStatus::Paused => {
            if !json {
                println!("paused; `vitrine batch resume {}` goes on", b.id);
            }
            Ok(())
        }
        BatchStatus::Done if b.counts.failed > 0 => bail!(
            "batch {} finished with {} failed item(s); `vitrine batch resume {} --retry-failed` runs them again",
            b.id,
            b.counts.failed,
            b.id
        ),
        _ => Ok(()),
    }
}

async fn status(studio: &Studio, id: i64, items: bool, json: bool) -> Result<()> {
    let batch = studio.store().batch(id).await?;
    let list = studio.store().batch_items(id, None).await?;
    let import_errors = studio.store().batch_import_errors(id).await?;
    if json {
        return print_json(&serde_json::json!({
            "batch": batch,
            "items": if items { Some(&list) } else { None },
            "failures": list.iter().filter(|i| i.status == "failed").collect::<Vec<_>>(),
            "import_errors": import_errors,
        }));
    }
    println!("{}", one_line(&batch));
    println!("  source: {}", batch.source);
    println!(
        "  outputs: {} — languages: {} — marketplace: {}{}",
        batch
            .spec
            .outputs
            .iter()
            .map(|o| o.kind())
            .collect::<Vec<_>>()
            .join(", "),
        batch.spec.langs.join(", "),
        batch.spec.marketplace,
        batch
            .spec
            .brand
            .as_deref()
            .map(|b| format!(" — brand: {b}"))
            .unwrap_or_default()
    );
    if let Some(e) = &batch.error {
        println!("  stopped by: {e}");
    }
    for i in &list {
        if items || i.status == "failed" || i.status == "skipped" {
            println!(
                "  item {} product {} {} {} {}{}{}",
                i.id,
                i.product_id,
                i.kind,
                i.lang,
                i.status,
                i.draft_id
                    .map(|d| format!(" draft {d}"))
                    .unwrap_or_default(),
                i.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
    for e in &import_errors {
        println!(
            "  import{}{}: {}",
            e.line.map(|l| format!(" line {l}")).unwrap_or_default(),
            e.handle
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default(),
            e.message
        );
    }
    Ok(())
}

fn one_line(b: &Batch) -> String {
    format!(
        "batch {} {} — {}/{} done, {} failed, {} skipped — {} — {}",
        b.id,
        b.status.as_str(),
        b.counts.done,
        b.counts.total,
        b.counts.failed,
        b.counts.skipped,
        b.created_at,
        b.source
    )
}

fn human_secs(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
