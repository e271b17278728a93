use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use vitrine_core::reviews::summarize::summary_params;
use vitrine_core::reviews::{Format, ReviewEvent, ReviewSummary, SummaryRequest};
use vitrine_core::studio::{Backend, GenerationEvent};
use vitrine_infer::{CancelToken, RemoteTextModel};

use super::Context;

#[derive(Subcommand)]
pub enum ReviewsCommand {
    /// Summarise a file of customer reviews (CSV, JSON or one per line;
    /// UTF-8 or GBK): counts, pros and cons, problems, verified quotes,
    /// suspicious reviews and a short paragraph
    Summarize(SummarizeArgs),
}

#[derive(Args)]
pub struct SummarizeArgs {
    /// The review file
    file: PathBuf,
    /// Store the summary as a draft of this product
    #[arg(long)]
    product: Option<i64>,
    /// Language of the paragraph: en or zh-CN
    #[arg(long, default_value = "en")]
    lang: String,
    /// Pin a model id from `vitrine models list` (default: the router
    /// picks); not with --remote-url
    #[arg(long)]
    model: Option<String>,
    /// Sampling seed
    #[arg(long)]
    seed: Option<u64>,
    /// Print the summary as one JSON object
    #[arg(long)]
    json: bool,
    /// Always run the model, even for a request answered before
    #[arg(long)]
    no_cache: bool,
}

pub async fn run(ctx: &Context, command: ReviewsCommand) -> Result<()> {
    match command {
        ReviewsCommand::Summarize(args) => summarize(ctx, args).await,
    }
}

async fn summarize(ctx: &Context, args: SummarizeArgs) -> Result<()> {
    let studio = ctx.studio().await?;
    if !args.file.exists() {
        return Err(vitrine_core::CoreError::MissingFile { path: args.file }.into());
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
    let mut params = summary_params();
    if let Some(seed) = args.seed {
        params.seed = seed;
    }
    let req = SummaryRequest {
        product_id: args.product,
        lang: args.lang.clone(),
        model: args.model.clone(),
        params: Some(params),
        use_cache: !args.no_cache,
        batch_item: None,
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message("Reading reviews…");
    let b = bar.clone();
    let on_event = Box::new(move |ev: ReviewEvent| match ev {
        ReviewEvent::Step { done, total, what } => {
            if what == "paragraph" {
                b.set_message("Writing the paragraph…");
            } else {
                b.set_message(format!(
                    "Summarising chunk {} of {total}: {what}…",
                    done + 1
                ));
            }
        }
        ReviewEvent::Generation(GenerationEvent::LoadingModel { model_id }) => {
            b.set_message(format!("Loading model {model_id}…"))
        }
        ReviewEvent::Generation(GenerationEvent::Retry { reason }) => {
            b.set_message(format!("Paragraph rejected ({reason}); trying again…"))
        }
        ReviewEvent::Generation(_) => {}
    });
    let result = studio
        .summarize_reviews(&args.file, req, on_event, CancelToken::new())
        .await;
    bar.finish_and_clear();
    let summary = result?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print_summary(&summary)?;
    }
    Ok(())
}

fn print_summary(s: &ReviewSummary) -> Result<()> {
    let a = &s.analysis;
    let zh = s.lang.starts_with("zh");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Reviews: {} read ({}, {}), {} usable; {} duplicate(s), {} suspicious, {} empty skipped, {} invalid rating(s)",
        a.total,
        match a.format {
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Lines => "lines",
        },
        a.encoding,
        a.usable,
        a.duplicates.len(),
        a.suspicious.len(),
        a.empty_skipped,
        a.invalid_ratings
    )?;
    writeln!(
        out,
        "Languages: {} Chinese, {} English, {} other",
        a.languages.zh, a.languages.en, a.languages.other
    )?;
    let r = &a.ratings;
    writeln!(
        out,
        "Ratings (all reviews): 1★ {}  2★ {}  3★ {}  4★ {}  5★ {}  unrated {}  mean {}",
        r.counts[0],
        r.counts[1],
        r.counts[2],
        r.counts[3],
        r.counts[4],
        r.unrated,
        r.mean.map_or("–".into(), |m| format!("{m:.2}"))
    )?;
    let name = |id: &String| {
        a.aspects
            .iter()
            .find(|x| &x.id == id)
            .map(|x| (if zh { x.zh.clone() } else { x.en.clone() }, x.clone()))
    };
    writeln!(out, "\nPros:")?;
    for (n, st) in a.pros.iter().filter_map(name) {
        writeln!(
            out,
            "  + {n}: {} of {} mentions ({:.0}%), {:.0}% of reviews mention it",
            st.positive,
            st.mentions,
            st.positive_share * 100.0,
            st.share * 100.0
        )?;
    }
    writeln!(out, "Cons:")?;
    for (n, st) in a.cons.iter().filter_map(name) {
        writeln!(
            out,
            "  - {n}: {} of {} mentions ({:.0}%), {:.0}% of reviews mention it",
            st.negative,
            st.mentions,
            st.negative_share * 100.0,
            st.share * 100.0
        )?;
    }
    if !a.problems.is_empty() {
        writeln!(out, "Notable problems:")?;
        for p in &a.problems {
            let ids: Vec<String> = p.examples.iter().map(|i| format!("#{i}")).collect();
            writeln!(
                out,
                "  ! {}: {} review(s), e.g. {}",
                p.kind,
                p.reviews,
                ids.join(", ")
            )?;
        }
    }
    writeln!(out, "\nQuotes (verified in the source):")?;
    for q in &a.quotes {
        writeln!(
            out,
            "  [{}] {} {}: \"{}\"",
            q.position, q.polarity, q.aspect, q.text
        )?;
    }
    if a.quotes_dropped > 0 {
        writeln!(
            out,
            "  ({} quote(s) dropped: not found in their review)",
            a.quotes_dropped
        )?;
    }
    if !a.suspicious.is_empty() {
        writeln!(
            out,
            "\nSuspicious reviews (not shown to the model, not quoted; ratings still counted):"
        )?;
        for x in &a.suspicious {
            let why: Vec<String> = x
                .reasons
                .iter()
                .map(|r| format!("{} (\"{}\")", r.why, r.matched))
                .collect();
            writeln!(out, "  {}: {}", x.position, why.join("; "))?;
        }
    }
    writeln!(out, "\nSummary ({}):", s.paragraph_source)?;
    writeln!(out, "{}", s.paragraph)?;
    for n in &s.notices {
        eprintln!("note: {n}");
    }
    if let Some(mr) = &s.map_reduce {
        eprintln!(
            "Map-reduce: {} call(s) over {} round(s){}",
            mr.calls,
            mr.rounds,
            if mr.sampled { ", reviews sampled" } else { "" }
        );
    }
    if let Some(id) = s.model_id.as_deref() {
        eprintln!(
            "\n{id} · {:.1} s{}",
            s.total_ms as f64 / 1000.0,
            if s.cached {
                " · from the generation cache"
            } else {
                ""
            }
        );
    }
    if let Some(d) = s.draft_id {
        eprintln!("Saved draft {d}.");
    }
    Ok(())
}
