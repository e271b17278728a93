//! `vitrine script PHOTO...|--products IDS`: a livestream sales script for
//! one product or a line-up, printed as a timed run sheet and stored as a
//! `script` draft.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vitrine_core::script::{Script, ScriptRequest};
use vitrine_core::studio::{Backend, GenerationEvent};
use vitrine_core::Draft;
use vitrine_infer::{CancelToken, RemoteTextModel};

use super::Context;

#[derive(Args)]
pub struct ScriptArgs {
    /// Product photos (JPEG, PNG or WebP), ingested like `vitrine listing`
    /// does; one product each, presented in this order
    #[arg(required_unless_present = "products", conflicts_with = "products")]
    photos: Vec<PathBuf>,
    /// Stored products instead of photos, in presenting order: 3,5,8
    #[arg(long, value_delimiter = ',')]
    products: Option<Vec<i64>>,
    /// Language of the script: en or zh-CN
    #[arg(long, default_value = "en")]
    lang: String,
    /// Target length in minutes per product (5 by default)
    #[arg(long)]
    minutes: Option<f64>,
    /// The price or offer to announce, word for word ("20% off with code
    /// LIVE20"); without it the script names no price and cues the host to
    /// announce the shop's current offer
    #[arg(long)]
    offer: Option<String>,
    /// A stored brand profile (`vitrine brand import`)
    #[arg(long)]
    brand: Option<String>,
    /// Pin a model id from `vitrine models list` (default: the router picks)
    #[arg(long)]
    model: Option<String>,
    /// Sampling seed
    #[arg(long)]
    seed: Option<u64>,
    /// Print one JSON object instead of the run sheet
    #[arg(long)]
    json: bool,
    /// Always run the model, even for a request answered before
    #[arg(long)]
    no_cache: bool,
}

#[derive(Serialize)]
struct ScriptOutput<'a> {
    draft_id: i64,
    product_ids: &'a [i64],
    script: &'a Script,
    draft: &'a Draft,
}

pub async fn run(ctx: &Context, args: ScriptArgs) -> Result<()> {
    let studio = ctx.studio().await?;
    for p in &args.photos {
        if !p.exists() {
            return Err(vitrine_core::CoreError::MissingFile { path: p.clone() }.into());
        }
    }
    match studio.backend() {
        Backend::Local => studio.check_models(args.model.as_deref())?,
        Backend::Remote(config) => {
            if args.model.is_some() {
                bail!("--model picks a local model; with --remote-url the model is --remote-model");
            }
            let config = config.clone();
            tokio::task::spawn_blocking(move || RemoteTextModel::connect(config)).await??;
        }
    }
    let product_ids = match &args.products {
        Some(ids) => ids.clone(),
        None => {
            let mut ids = Vec::new();
            for photo in &args.photos {
                let outcome = studio.ingest_path(photo).await?;
                if !args.json {
                    eprintln!(
                        "{}: product #{}{}",
                        photo.display(),
                        outcome.product_id,
                        if outcome.duplicate {
                            " (already stored)"
                        } else {
                            ""
                        }
                    );
                }
                if !ids.contains(&outcome.product_id) {
                    ids.push(outcome.product_id);
                }
            }
            ids
        }
    };
    let mut params = vitrine_core::script::script_params();
    if let Some(seed) = args.seed {
        params.seed = seed;
    }
    let req = ScriptRequest {
        product_ids,
        lang: args.lang.clone(),
        minutes: args.minutes,
        offer: args.offer.clone(),
        brand: args.brand.clone(),
        model: args.model.clone(),
        params: Some(params),
        use_cache: !args.no_cache,
        batch_item: None,
    };
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message("Preparing…");
    let bar = spinner.clone();
    // The JSON streams by as it is written; the spinner says how far it is
    // rather than printing half-built segments.
    let mut chars = 0usize;
    let on_event = Box::new(move |ev: GenerationEvent| match ev {
        GenerationEvent::LoadingModel { model_id } => {
            bar.set_message(format!("Loading model {model_id}…"))
        }
        GenerationEvent::ModelLoaded { model_id, ms, .. } => bar.set_message(format!(
            "Writing the script with {model_id} (loaded in {:.1} s)…",
            ms as f64 / 1000.0
        )),
        GenerationEvent::Retry { reason } => {
            chars = 0;
            bar.set_message(format!("Repairing the script ({reason})…"))
        }
        GenerationEvent::Token { text } => {
            chars += text.chars().count();
            if chars % 200 < text.chars().count() {
                bar.set_message(format!("Writing the script… {chars} characters"));
            }
        }
    });
    let result = studio
        .generate_script(req, on_event, CancelToken::new())
        .await;
    spinner.finish_and_clear();
    let draft = result?;
    let version = draft
        .versions
        .last()
        .ok_or_else(|| anyhow::anyhow!("draft {} has no version", draft.id))?;
    let content = version
        .content
        .clone()
        .ok_or_else(|| anyhow::anyhow!("draft {} holds no script", draft.id))?;
    let script: Script = serde_json::from_value(content)?;
    if args.json {
        let out = ScriptOutput {
            draft_id: draft.id,
            product_ids: &script.product_ids,
            script: &script,
            draft: &draft,
        };
        println!("{}", serde_json::to_string(&out)?);
        return Ok(());
    }
    println!("{}\n", script.title);
    print!("{}", vitrine_core::script::run_sheet(&script));
    if let Some(p) = &version.provenance {
        println!();
        super::check::print_findings(&p.findings);
        if let Some(route) = &p.route {
            if let Some(notice) = &route.fallback {
                eprintln!("\nnote: {notice}");
            }
            eprintln!("\nModel {}: {}", route.model_id, route.reason);
        }
        eprintln!(
            "\nSaved draft {} (product {}). {} · {} attempt(s) · total {:.1} s · {} tokens{}",
            draft.id,
            draft.product_id,
            p.model_id,
            p.attempts,
            p.total_ms as f64 / 1000.0,
            p.generated_tokens,
            if p.cached {
                " · from the generation cache (--no-cache to run the model)"
            } else {
                ""
            }
        );
    }
    Ok(())
}
