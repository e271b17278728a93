use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vitrine_core::studio::{Backend, GenerationEvent, ListingRequest};
use vitrine_core::{Draft, Fact, Listing, Photo};
use vitrine_infer::{CancelToken, RemoteTextModel};

use super::Context;

#[derive(Args)]
pub struct ListingArgs {
    /// Product photos (JPEG, PNG or WebP); one listing per photo
    #[arg(required = true)]
    photos: Vec<PathBuf>,
    /// Language of the copy: en or zh-CN
    #[arg(long, default_value = "en")]
    lang: String,
    /// Marketplace profile: generic, shopify, amazon or taobao
    #[arg(long, default_value = "generic")]
    marketplace: String,
    /// A stored brand profile (`vitrine brand import`): its voice in the
    /// prompt, its rules in the checks
    #[arg(long)]
    brand: Option<String>,
    /// Pin a model id from `vitrine models list` (default: the router picks
    /// the light or heavy model; see `vitrine route`); not with --remote-url
    #[arg(long)]
    model: Option<String>,
    /// Sampling seed
    #[arg(long)]
    seed: Option<u64>,
    /// Print one JSON object per photo instead of streaming text
    #[arg(long)]
    json: bool,
    /// Always run the model, even for a request answered before
    #[arg(long)]
    no_cache: bool,
}

#[derive(Serialize)]
struct ListingOutput<'a> {
    product_id: i64,
    draft_id: i64,
    photo: &'a Photo,
    duplicate_photo: bool,
    facts: &'a [Fact],
    listing: &'a Listing,
    draft: &'a Draft,
}

pub async fn run(ctx: &Context, args: ListingArgs) -> Result<()> {
    let studio = ctx.studio().await?;
    // Check every photo's path first so a typo in the last one does not
    // surface after minutes of generation for the first.
    for p in &args.photos {
        if !p.exists() {
            return Err(vitrine_core::CoreError::MissingFile { path: p.clone() }.into());
        }
    }
    // Likewise a missing model or an unreachable server is reported before
    // anything is stored.
    match studio.backend() {
        Backend::Local => {
            studio.check_models(args.model.as_deref())?;
        }
        Backend::Remote(config) => {
            if args.model.is_some() {
                bail!("--model picks a local model; with --remote-url the model is --remote-model");
            }
            let config = config.clone();
            tokio::task::spawn_blocking(move || RemoteTextModel::connect(config)).await??;
        }
    }
    for photo in &args.photos {
        let outcome = studio.ingest_path(photo).await?;
        if !args.json {
            let colours: Vec<String> = outcome
                .facts
                .iter()
                .filter(|f| f.key == "colour")
                .map(|f| format!("{} {:.0}%", f.label_en, f.confidence * 100.0))
                .collect();
            eprintln!(
                "{}: product #{}{} — colours: {}",
                photo.display(),
                outcome.product_id,
                if outcome.duplicate {
                    " (already stored)"
                } else {
                    ""
                },
                if colours.is_empty() {
                    "none found".into()
                } else {
                    colours.join(", ")
                }
            );
        }
        let mut params = vitrine_core::studio::listing_params();
        if let Some(seed) = args.seed {
            params.seed = seed;
        }
        let req = ListingRequest {
            product_id: outcome.product_id,
            lang: args.lang.clone(),
            marketplace: args.marketplace.clone(),
            model: args.model.clone(),
            params: Some(params),
            use_cache: !args.no_cache,
            batch_item: None,
            brand: args.brand.clone(),
        };
        let spinner = ProgressBar::new_spinner();
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinner.set_message("Preparing…");
        let stream = !args.json;
        let bar = spinner.clone();
        let mut streaming = false;
        let on_event = Box::new(move |ev: GenerationEvent| match ev {
            GenerationEvent::LoadingModel { model_id } => {
                bar.set_message(format!("Loading model {model_id}…"))
            }
            GenerationEvent::ModelLoaded {
                model_id,
                ms,
                rss_mb,
            } => bar.set_message(format!(
                "Writing with {model_id} (loaded in {:.1} s{})…",
                ms as f64 / 1000.0,
                rss_mb
                    .map(|m| format!(", {m} MB resident"))
                    .unwrap_or_default()
            )),
            GenerationEvent::Retry { reason } => {
                if stream {
                    bar.suspend(|| eprintln!("\n[output did not pass the checks ({reason}); asking the model to repair it]"));
                } else {
                    bar.set_message("Repairing the model's output…");
                }
            }
            GenerationEvent::Token { text } => {
                if stream {
                    if !streaming {
                        bar.finish_and_clear();
                        streaming = true;
                    }
                    print!("{text}");
                    let _ = std::io::stdout().flush();
                }
            }
        });
        let result = studio
            .generate_listing(req, on_event, CancelToken::new())
            .await;
        spinner.finish_and_clear();
        let draft = result?;
        let version = draft
            .versions
            .last()
            .ok_or_else(|| anyhow::anyhow!("draft {} has no version", draft.id))?;
        if args.json {
            let out = ListingOutput {
                product_id: outcome.product_id,
                draft_id: draft.id,
                photo: &outcome.photo,
                duplicate_photo: outcome.duplicate,
                facts: &outcome.facts,
                listing: &version.listing,
                draft: &draft,
            };
            println!("{}", serde_json::to_string(&out)?);
        } else {
            println!("\n");
            print_listing(&version.listing);
            if let Some(p) = &version.provenance {
                println!();
                super::check::print_findings(&p.findings);
            }
            if let Some(route) = version.provenance.as_ref().and_then(|p| p.route.as_ref()) {
                if let Some(notice) = &route.fallback {
                    eprintln!("\nnote: {notice}");
                }
                eprintln!("\nModel {}: {}", route.model_id, route.reason);
            }
            if let Some(p) = version.provenance.as_ref().filter(|p| p.cached) {
                eprintln!(
                    "\nSaved draft {} (product {}). {} · answered from the generation cache (--no-cache to run the model)",
                    draft.id, draft.product_id, p.model_id
                );
            } else if let Some(p) = &version.provenance {
                eprintln!(
                    "\nSaved draft {} (product {}). {} · first token {:.1} s · total {:.1} s · {} tokens",
                    draft.id,
                    draft.product_id,
                    p.model_id,
                    p.time_to_first_token_ms as f64 / 1000.0,
                    p.total_ms as f64 / 1000.0,
                    p.generated_tokens
                );
            }
        }
    }
    Ok(())
}

pub fn print_listing(l: &Listing) {
    println!("Title: {}", l.title);
    println!();
    for b in &l.bullets {
        println!("  • {b}");
    }
    println!();
    println!("{}", l.description);
    println!();
    println!("Keywords: {}", l.keywords.join(", "));
}
