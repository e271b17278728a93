//! `vitrine bench --structured N`: N JSON-schema-constrained generations per
//! model (sampled, different seeds) counting how many parse and fit the
//! schema, and the per-token cost of the mask: timed directly (the time
//! spent computing and applying masks against the rest of decoding) and,
//! as a cross-check, against unconstrained generations of the same prompt.

use anyhow::Result;
use serde::Serialize;
use vitrine_infer::{CancelToken, CandleTextModel, ChatMessage, GenerationParams, TextModel};

const UNCONSTRAINED_RUNS: u64 = 5;

#[derive(Serialize)]
pub struct StructuredRow {
    model: String,
    generations: usize,
    valid: usize,
    free_ms_per_token: f64,
    constrained_ms_per_token: f64,
    overhead_pct: f64,
    /// Mask time per constrained token, and its share of the rest of the
    /// per-token decode time.
    mask_ms_per_token: f64,
    mask_overhead_pct: f64,
}

fn schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 3, "maxLength": 40},
            "colours": {"type": "array", "items": {"type": "string", "maxLength": 15}, "minItems": 1, "maxItems": 3},
            "price": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "minItems": 2, "maxItems": 5}
        },
        "required": ["name", "colours", "price", "tags"],
        "additionalProperties": false,
        "x-guidance": {"whitespace_flexible": false, "key_separator": ": ", "item_separator": ", "}
    })
}

fn fits(v: &serde_json::Value) -> bool {
    let len = |k: &str| v[k].as_array().map(Vec::len);
    v["name"]
        .as_str()
        .is_some_and(|s| (3..=40).contains(&s.chars().count()))
        && len("colours").is_some_and(|n| (1..=3).contains(&n))
        && v["price"].is_number()
        && len("tags").is_some_and(|n| (2..=5).contains(&n))
}

/// Decode time per token after the first, summed over runs.
struct PerToken {
    seconds: f64,
    tokens: usize,
    /// Of `seconds`, the time spent on the constraint.
    mask_seconds: f64,
}

impl PerToken {
    fn ms(&self) -> f64 {
        if self.tokens == 0 {
            0.0
        } else {
            self.seconds * 1000.0 / self.tokens as f64
        }
    }
}

pub fn run_model(
    id: &str,
    path: &std::path::Path,
    device: vitrine_infer::DevicePref,
    n: usize,
) -> Result<StructuredRow> {
    let device = vitrine_infer::select_device(device)?;
    let mut model = CandleTextModel::load(id, path, &device)?;
    let messages = vec![
        ChatMessage::system("You describe products as JSON."),
        ChatMessage::user("Describe a navy cotton hoodie for an online shop as a JSON object with name, colours, price and tags."),
    ];
    let cancel = CancelToken::new();
    let mut measure =
        |schema: Option<serde_json::Value>, seed: u64| -> Result<(String, f64, usize, f64)> {
            let params = GenerationParams {
                temperature: 0.8,
                seed,
                // Room for the longest object the schema allows, so a run never
                // ends mid-object for lack of tokens.
                max_tokens: 256,
                json_schema: schema,
                ..GenerationParams::default()
            };
            let g = model.generate(&messages, "", &params, &mut |_| true, &cancel)?;
            let decode = g
                .total_time
                .saturating_sub(g.time_to_first_token)
                .as_secs_f64();
            Ok((
                g.text,
                decode,
                g.generated_tokens.saturating_sub(1),
                g.constraint_time.as_secs_f64(),
            ))
        };

    let mut free = PerToken {
        seconds: 0.0,
        tokens: 0,
        mask_seconds: 0.0,
    };
    for seed in 1..=UNCONSTRAINED_RUNS {
        let (_, s, t, _) = measure(None, seed)?;
        free.seconds += s;
        free.tokens += t;
    }
    let mut constrained = PerToken {
        seconds: 0.0,
        tokens: 0,
        mask_seconds: 0.0,
    };
    let mut valid = 0;
    for seed in 1..=n as u64 {
        let (text, s, t, m) = measure(Some(schema()), seed)?;
        constrained.seconds += s;
        constrained.tokens += t;
        constrained.mask_seconds += m;
        if serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| fits(&v)) {
            valid += 1;
        } else {
            tracing::warn!(model = %id, seed, text, "constrained output did not fit the schema");
        }
    }
    let (f, c) = (free.ms(), constrained.ms());
    let mask_ms = if constrained.tokens == 0 {
        0.0
    } else {
        constrained.mask_seconds * 1000.0 / constrained.tokens as f64
    };
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    Ok(StructuredRow {
        model: id.to_string(),
        generations: n,
        valid,
        free_ms_per_token: (f * 100.0).round() / 100.0,
        constrained_ms_per_token: (c * 100.0).round() / 100.0,
        overhead_pct: if f > 0.0 {
            ((c / f - 1.0) * 1000.0).round() / 10.0
        } else {
            0.0
        },
        mask_ms_per_token: round2(mask_ms),
        mask_overhead_pct: if c > mask_ms {
            round2(mask_ms / (c - mask_ms) * 100.0)
        } else {
            0.0
        },
    })
}
