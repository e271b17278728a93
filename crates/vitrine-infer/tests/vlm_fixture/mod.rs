//! The tiny Qwen3-VL fixture: a randomly initialised model in the real
//! on-disk format of a Hugging Face model directory, written by code so no
//! binary is committed and nothing is downloaded.
//!
//! - `model.safetensors`: the tensors our Qwen3-VL modules ask a
//!   `VarMap`-backed `VarBuilder` for (so exactly the names and shapes a
//!   real checkpoint has), filled from a seeded normal as Transformers
//!   initialises (std = `initializer_range`), norms at one, biases at zero,
//!   stored in bf16 like the published weights.
//! - `config.json`: Qwen3-VL's layout with tiny sizes (text: 2 layers of 64,
//!   vision: 2 blocks of 32, 16-pixel patches, one DeepStack feature).
//! - `tokenizer.json`: a byte-level BPE built and saved with the
//!   `tokenizers` crate: the 256 byte symbols, merges spelling a few
//!   attribute words, and Qwen's special tokens.
//! - `preprocessor_config.json` (a 128 × 128 pixel budget),
//!   `chat_template.json`, `generation_config.json`, `tokenizer_config.json`.
//!
//! To look at it, or run another runtime on it:
//! `VITRINE_TINY_VLM_DIR=/tmp/tiny cargo test --release -p vitrine-infer
//! --test vlm -- --ignored write_tiny_fixture`.

#![allow(dead_code)]

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use vitrine_infer::vision::vlm::qwen3_vl::{Qwen3VlConfig, Qwen3VlWeights};

pub const SPECIAL_TOKENS: [&str; 7] = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
];

/// Words the BPE merges spell as single tokens, so constrained decoding
/// meets multi-byte tokens as it does with a real vocabulary.
const WORDS: [&str; 14] = [
    "category", "colour", "material", "hoodie", "shirt", "mug", "red", "blue", "black", "white",
    "cotton", "wool", "ceramic", "\":\"",
];

/// Qwen2's pre-tokenizer split (as in its tokenizer.json).
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// A Qwen-VL style chat template: one image placeholder per image part.
pub const CHAT_TEMPLATE: &str = r"{% for message in messages %}{{ '<|im_start|>' + message.role + '\n' }}{% if message.content is string %}{{ message.content }}{% else %}{% for part in message.content %}{% if part.type == 'image' %}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}{% elif part.type == 'text' %}{{ part.text }}{% endif %}{% endfor %}{% endif %}{{ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

pub struct Fixture {
    pub config: Qwen3VlConfig,
    /// Token ids by special-token text.
    pub special: Vec<(String, u32)>,
}

impl Fixture {
    pub fn special(&self, text: &str) -> u32 {
        self.special
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, id)| *id)
            .expect("special token")
    }
}

/// Write the fixture into `dir` (created if needed).
pub fn write_tiny_qwen3_vl(dir: &Path, seed: u64) -> Fixture {
    std::fs::create_dir_all(dir).expect("fixture dir");
    let (tokenizer, special) = tokenizer();
    tokenizer
        .save(dir.join("tokenizer.json"), false)
        .expect("save tokenizer.json");
    let n_tokens = tokenizer.get_vocab_size(true);
    // Real checkpoints pad the output layer beyond the tokenizer (151 936
    // rows for 151 669 tokens); so does the fixture.
    let vocab = n_tokens.div_ceil(16) * 16 + 16;
    let id = |t: &str| {
        special
            .iter()
            .find(|(s, _)| s == t)
            .map(|(_, i)| *i)
            .expect("special")
    };

    let config = json!({
        "architectures": ["Qwen3VLForConditionalGeneration"],
        "model_type": "qwen3_vl",
        "image_token_id": id("<|image_pad|>"),
        "video_token_id": id("<|video_pad|>"),
        "vision_start_token_id": id("<|vision_start|>"),
        "vision_end_token_id": id("<|vision_end|>"),
        "tie_word_embeddings": true,
        "torch_dtype": "bfloat16",
        "text_config": {
            "model_type": "qwen3_vl_text",
            "vocab_size": vocab,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "hidden_act": "silu",
            "max_position_embeddings": 4096,
            "rms_norm_eps": 1e-6,
            "rope_theta": 5000000.0,
            "rope_scaling": {"mrope_interleaved": true, "mrope_section": [4, 2, 2], "rope_type": "default"},
            "attention_bias": false,
            "attention_dropout": 0.0,
            "tie_word_embeddings": true,
            "sliding_window": null,
            "initializer_range": 0.02,
            "bos_token_id": id("<|endoftext|>"),
            "eos_token_id": id("<|im_end|>"),
        },
        "vision_config": {
            "model_type": "qwen3_vl",
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "in_channels": 3,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": 64,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [0],
            "hidden_act": "gelu_pytorch_tanh",
            "initializer_range": 0.02,
        },
    });
    write_json(&dir.join("config.json"), &config);
    let cfg: Qwen3VlConfig = serde_json::from_value(config).expect("config parses");
    cfg.validate().expect("fixture config is valid");

    write_weights(dir, &cfg, seed, None);

    write_json(
        &dir.join("preprocessor_config.json"),
        &json!({
            "image_processor_type": "Qwen2VLImageProcessorFast",
            "processor_class": "Qwen3VLProcessor",
            "patch_size": 16,
            "temporal_patch_size": 2,
            "merge_size": 2,
            "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5],
            "size": {"shortest_edge": 64 * 64, "longest_edge": 128 * 128},
            "do_rescale": true,
            "rescale_factor": 1.0 / 255.0,
        }),
    );
    write_json(
        &dir.join("chat_template.json"),
        &json!({ "chat_template": CHAT_TEMPLATE }),
    );
    write_json(
        &dir.join("generation_config.json"),
        &json!({
            "eos_token_id": [id("<|im_end|>"), id("<|endoftext|>")],
            "pad_token_id": id("<|endoftext|>"),
            "do_sample": false,
        }),
    );
    write_json(
        &dir.join("tokenizer_config.json"),
        &json!({
            "tokenizer_class": "Qwen2Tokenizer",
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "model_max_length": 4096,
        }),
    );
    Fixture {
        config: cfg,
        special,
    }
}

/// (Re)write `model.safetensors` for `cfg`: the modules' own tensors,
/// seeded. `file` overrides the file name.
pub fn write_weights(dir: &Path, cfg: &Qwen3VlConfig, seed: u64, file: Option<&str>) {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::BF16, &Device::Cpu);
    Qwen3VlWeights::new(cfg, vb).expect("modules build from a VarMap");
    let mut rng = StdRng::seed_from_u64(seed);
    let data = varmap.data().lock().expect("varmap lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let shape = var.shape().clone();
        let n = shape.elem_count();
        let values: Vec<f32> = if is_norm_weight(name) {
            vec![1.0; n]
        } else if name.ends_with(".bias") {
            vec![0.0; n]
        } else {
            (0..n).map(|_| 0.02 * normal(&mut rng)).collect()
        };
        let t = Tensor::from_vec(values, shape, &Device::Cpu)
            .and_then(|t| t.to_dtype(DType::BF16))
            .expect("tensor");
        var.set(&t).expect("set var");
    }
    drop(data);
    varmap
        .save(dir.join(file.unwrap_or("model.safetensors")))
        .expect("save model.safetensors");
}

fn is_norm_weight(name: &str) -> bool {
    name.ends_with(".weight")
        && ["norm.", "norm1.", "norm2.", "layernorm."]
            .iter()
            .any(|k| name.contains(k))
}

fn normal(rng: &mut StdRng) -> f32 {
    // Box–Muller: candle's CPU generator cannot be seeded.
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

fn tokenizer() -> (tokenizers::Tokenizer, Vec<(String, u32)>) {
    let mut symbols: Vec<char> = tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet()
        .into_iter()
        .collect();
    symbols.sort_unstable();
    let mut vocab = serde_json::Map::new();
    for c in &symbols {
        let next = vocab.len();
        vocab.insert(c.to_string(), json!(next));
    }
    // Merges that build each word left to right ("c"+"a", "ca"+"t", ...),
    // in byte-level symbols (a space would be "Ġ", none here).
    let mut merges: Vec<Value> = Vec::new();
    for w in WORDS {
        let chars: Vec<String> = w.chars().map(String::from).collect();
        let mut acc = chars[0].clone();
        for c in &chars[1..] {
            let merged = format!("{acc}{c}");
            if !vocab.contains_key(&merged) {
                let next = vocab.len();
                vocab.insert(merged.clone(), json!(next));
                merges.push(json!([acc, c]));
            }
            acc = merged;
        }
    }
    let mut special = Vec::new();
    let mut added = Vec::new();
    for s in SPECIAL_TOKENS {
        let id = vocab.len() + special.len();
        special.push((s.to_string(), id as u32));
        added.push(json!({
            "id": id, "content": s, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true,
        }));
    }
    let spec = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
        ]},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": "", "end_of_word_suffix": "",
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges,
        },
    });
    let tok: tokenizers::Tokenizer = spec.to_string().parse().expect("tokenizer spec parses");
    (tok, special)
}

pub fn write_json(path: &Path, value: &Value) {
    let text = serde_json::to_string_pretty(value).expect("json");
    std::fs::write(path, text).expect("write json");
}
