//! `vitrine bench --prefix-cache N`: N listing prompts for different
//! products (the real listing prompt: system prompt and marketplace rules
//! shared, product facts last), processed once from an empty KV cache each
//! and once in sequence reusing the cached shared prefix. Only prompt
//! processing is timed: that is what the prefix cache saves.

use std::time::Instant;

use anyhow::{bail, Result};
use serde::Serialize;
use vitrine_core::listing::{build_messages, marketplace, Lang, PromptFacts};
use vitrine_infer::CandleTextModel;

const PRODUCTS: [(&str, &str, &str); 10] = [
    ("hooded sweatshirt", "navy", "藏青色"),
    ("ceramic coffee mug", "white", "白色"),
    ("linen cushion cover", "sage green", "鼠尾草绿"),
    ("canvas tote bag", "beige", "米色"),
    ("running shoes", "black", "黑色"),
    ("wool beanie", "burgundy", "酒红色"),
    ("leather card holder", "brown", "棕色"),
    ("cotton t-shirt", "royal blue", "宝蓝色"),
    ("yoga mat", "purple", "紫色"),
    ("desk lamp", "grey", "灰色"),
];

#[derive(Serialize)]
pub struct PrefixRow {
    model: String,
    engine: String,
    prompts: usize,
    mean_prompt_tokens: f64,
    mean_reused_tokens: f64,
    without_cache_ms: f64,
    with_cache_ms: f64,
    speedup: f64,
    /// Longest time from `cancel()` to the engine giving up, over five
    /// cancellations in the middle of a long prompt.
    cancel_latency_ms: f64,
}

fn facts(i: usize) -> PromptFacts {
    let (name, en, zh) = PRODUCTS[i % PRODUCTS.len()];
    PromptFacts {
        lines: vec![
            format!("product: {name} (item {})", i + 1),
            format!("main colour: {en}"),
            format!("photo: {}-{:02}.png", name.replace(' ', "-"), i + 1),
        ],
        fact_ids: Vec::new(),
        dominant_colour: Some((en.to_string(), zh.to_string())),
    }
}

pub fn run_model(
    id: &str,
    path: &std::path::Path,
    device: vitrine_infer::DevicePref,
    n: usize,
) -> Result<PrefixRow> {
    if n < 2 {
        bail!("--prefix-cache needs at least 2 prompts");
    }
    let device = vitrine_infer::select_device(device)?;
    let mut model = CandleTextModel::load(id, path, &device)?;
    let mp = marketplace("generic")?;
    let mut prompts = Vec::with_capacity(n);
    for i in 0..n {
        let text = model.render_prompt(&build_messages(&facts(i), &mp, Lang::En, None))?;
        prompts.push(model.tokenizer().encode_prompt(&text)?);
    }
    // Without: every prompt from an empty cache.
    let mut without = 0.0;
    for ids in &prompts {
        model.clear_prefix_cache();
        let t = Instant::now();
        model.prompt_logits_from_cache(ids)?;
        without += t.elapsed().as_secs_f64();
    }
    // With: in sequence, each reusing what it shares with the previous one.
    model.clear_prefix_cache();
    let mut with = 0.0;
    let mut reused = 0usize;
    let mut previous: &[u32] = &[];
    for ids in &prompts {
        reused += previous
            .iter()
            .zip(ids)
            .take_while(|(a, b)| a == b)
            .count()
            .min(ids.len() - 1);
        let t = Instant::now();
        model.prompt_logits_from_cache(ids)?;
        with += t.elapsed().as_secs_f64();
        previous = ids;
    }
    let cancel_latency = cancel_latency(&mut model, &prompts)?;
    let total: usize = prompts.iter().map(Vec::len).sum();
    let round = |v: f64| (v * 10.0).round() / 10.0;
    Ok(PrefixRow {
        model: id.to_string(),
        engine: model.engine(),
        prompts: n,
        mean_prompt_tokens: round(total as f64 / n as f64),
        mean_reused_tokens: round(reused as f64 / n as f64),
        without_cache_ms: round(without * 1000.0),
        with_cache_ms: round(with * 1000.0),
        speedup: (without / with * 100.0).round() / 100.0,
        cancel_latency_ms: round(cancel_latency * 1000.0),
    })
}

/// Cancel a long prompt (all the prompts end to end, within the context)
/// 300 ms in, five times; the worst delay until the engine returns.
fn cancel_latency(model: &mut CandleTextModel, prompts: &[Vec<u32>]) -> Result<f64> {
    let limit = vitrine_infer::TextModel::context_length(model).saturating_sub(1);
    let long: Vec<u32> = prompts
        .iter()
        .flatten()
        .copied()
        .take(limit.min(4096))
        .collect();
    let mut worst = 0f64;
    for _ in 0..5 {
        model.clear_prefix_cache();
        let cancel = vitrine_infer::CancelToken::new();
        let timer = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(300));
                cancel.cancel();
                Instant::now()
            })
        };
        let result = model.prompt_logits_cancellable(&long, &cancel);
        let returned = Instant::now();
        let cancelled_at = timer
            .join()
            .map_err(|_| anyhow::anyhow!("the cancelling thread panicked"))?;
        match result {
            Err(vitrine_infer::InferError::Cancelled) => {
                worst = worst.max(
                    returned
                        .saturating_duration_since(cancelled_at)
                        .as_secs_f64(),
                )
            }
            // Finished before the cancel arrived: nothing to measure.
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    model.clear_prefix_cache();
    Ok(worst)
}
