//! `vitrine route`: which model a request would run on, and why, without
//! generating anything.

use anyhow::{bail, Result};
use clap::Args;
use vitrine_core::router::{RouteRequest, Router, TaskKind, DEFAULT_THRESHOLD, THRESHOLD_ENV};
use vitrine_infer::{Manifest, ModelStore};

use super::{print_json, Context};

#[derive(Args)]
pub struct RouteArgs {
    /// Task kind: listing, livestream_script, review_summary or product_facts
    #[arg(long, default_value = "listing")]
    task: String,
    /// Output languages, comma-separated (e.g. en or en,zh-CN)
    #[arg(long, default_value = "en", value_delimiter = ',')]
    lang: Vec<String>,
    /// Products the request covers
    #[arg(long, default_value_t = 1)]
    products: usize,
    /// Characters of prompt material (a one-product listing prompt is about 950)
    #[arg(long, default_value_t = 950)]
    chars: usize,
    /// Sampling temperature: how creative the text may be
    #[arg(long, default_value_t = vitrine_core::studio::listing_params().temperature)]
    temperature: f64,
    /// A pinned model, as `vitrine listing --model` takes it
    #[arg(long)]
    model: Option<String>,
    /// Scores at or above this go to the heavy model [env: VITRINE_ROUTER_THRESHOLD]
    #[arg(long)]
    threshold: Option<f64>,
    /// Print the decision as JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(ctx: &Context, args: RouteArgs) -> Result<()> {
    for l in &args.lang {
        if l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            bail!("invalid language code `{l}` (use codes such as en or zh-CN)");
        }
    }
    let router = match args.threshold {
        Some(t) => Router::new(t)?,
        None => Router::from_env()?,
    };
    let request = RouteRequest {
        task: TaskKind::parse(&args.task)?,
        input_chars: args.chars,
        products: args.products,
        languages: args.lang,
        temperature: args.temperature,
    };
    let manifest = Manifest::builtin()?;
    let store = ModelStore::new(ctx.dirs()?.models_dir());
    let installed: Vec<&str> = manifest
        .text_models()
        .filter(|m| store.is_installed(m))
        .map(|m| m.id.as_str())
        .collect();
    let decision = router.choose(&request, &manifest, &installed, args.model.as_deref())?;
    if args.json {
        return print_json(&decision);
    }
    println!(
        "{} · languages {} · {} product(s) · {} chars · temperature {}",
        request.task.as_str(),
        request.languages.join(","),
        request.products,
        request.input_chars,
        request.temperature
    );
    println!(
        "\n{:<11} {:<22} {:>6} {:>7} {:>7}",
        "factor", "input", "value", "weight", "share"
    );
    for f in &decision.factors {
        println!(
            "{:<11} {:<22} {:>6.3} {:>7.2} {:>7.3}",
            f.name, f.input, f.value, f.weight, f.contribution
        );
    }
    let source = if args.threshold.is_some() {
        "--threshold".to_string()
    } else if std::env::var(THRESHOLD_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        THRESHOLD_ENV.to_string()
    } else {
        format!("default {DEFAULT_THRESHOLD}")
    };
    println!(
        "\nscore {:.3}, threshold {:.3} ({source})",
        decision.score, decision.threshold
    );
    println!(
        "model: {} ({}){}",
        decision.model_id,
        decision.role.as_str(),
        if decision.pinned { ", pinned" } else { "" }
    );
    println!("why:   {}", decision.reason);
    if let Some(notice) = &decision.fallback {
        eprintln!("note: {notice}");
    }
    Ok(())
}
