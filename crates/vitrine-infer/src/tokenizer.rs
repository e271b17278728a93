//! The tokenizer rebuilt from a GGUF file's own metadata, so token ids match
//! llama.cpp's exactly (checked by fixtures in tests/): byte-level BPE
//! (`tokenizer.ggml.model == "gpt2"`: Qwen2/Qwen3, SmolLM2) through the
//! `tokenizers` crate with the pre-tokenizer llama.cpp uses for that model's
//! `tokenizer.ggml.pre`, and SentencePiece (`"llama"`: Phi-3, Gemma 3) in
//! [`crate::spm`].

use std::collections::HashMap;

use candle_core::quantized::gguf_file::{Content, Value};
use llguidance::toktrie::TokTrie;
use serde_json::{json, Map};

use crate::error::{InferError, Result};
use crate::spm::{
    SpmConfig, SpmVocab, TYPE_CONTROL as TOKEN_TYPE_CONTROL, TYPE_NORMAL,
    TYPE_USER_DEFINED as TOKEN_TYPE_USER_DEFINED,
};

/// Pieces llama.cpp ends generation on, and treats as control tokens
/// whatever type the GGUF gives them (its text-based detection in
/// `llama_vocab::load`), for the architectures we run.
const END_OF_GENERATION: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<|end_of_text|>",
    "<eos>",
    "<EOT>",
    "<end_of_utterance>",
    // Fill-in-the-middle padding and separators (Qwen2.5-Coder and others).
    "<|fim_pad|>",
    "<fim-pad>",
    "<fim_pad>",
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<reponame>",
    "<|file_sep|>",
];

/// The piece that closes an assistant turn, most specific first; the GGUF's
/// `eot_token_id` wins over these and its eos is the last resort.
const END_OF_TURN: &[&str] = &["<|im_end|>", "<end_of_turn>", "<|end|>", "<|eot_id|>"];

/// GPT-2's split, used by SmolLM2 after the digit split.
const GPT2_SPLIT: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// llama.cpp's regex for `pre = "qwen2"`.
const QWEN2_SPLIT: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

pub struct GgufTokenizer {
    model: Model,
    /// Each token's bytes (control tokens marked for llguidance), for
    /// constrained decoding.
    token_bytes: Vec<Vec<u8>>,
    bos: Option<u32>,
    add_bos: bool,
    /// Ids that end generation, as llama.cpp's end-of-generation set.
    stop_ids: Vec<u32>,
    end_of_turn: Option<u32>,
    vocab_size: usize,
}

enum Model {
    Bpe(Box<tokenizers::Tokenizer>),
    Spm(Box<SpmVocab>),
}

fn meta<'a>(ct: &'a Content, key: &str) -> Option<&'a Value> {
    ct.metadata.get(key)
}

fn meta_u32(ct: &Content, key: &str) -> Option<u32> {
    meta(ct, key).and_then(|v| v.to_u32().ok())
}

fn meta_bool(ct: &Content, key: &str) -> Option<bool> {
    meta(ct, key).and_then(|v| v.to_bool().ok())
}

fn meta_str(ct: &Content, key: &str) -> Option<String> {
    meta(ct, key).and_then(|v| v.to_string().ok()).cloned()
}

fn tok_err(e: impl std::fmt::Display) -> InferError {
    InferError::Tokenizer(e.to_string())
}

impl GgufTokenizer {
    pub fn from_gguf(ct: &Content) -> Result<Self> {
        let model = meta_str(ct, "tokenizer.ggml.model").unwrap_or_default();
        let spm = match model.as_str() {
            "gpt2" => false,
            "llama" => true,
            other => {
                return Err(InferError::Tokenizer(format!(
                    "tokenizer model `{other}` is not supported \
                     (supported: byte-level BPE `gpt2`, SentencePiece `llama`)"
                )))
            }
        };
        let tokens = string_array(ct, "tokenizer.ggml.tokens")?;
        let mut types: Vec<i32> = match meta(ct, "tokenizer.ggml.token_type") {
            Some(v) => v
                .to_vec()
                .map_err(tok_err)?
                .iter()
                .map(|t| t.to_i32().unwrap_or(TYPE_NORMAL))
                .collect(),
            None => Vec::new(),
        };
        types.resize(tokens.len(), TYPE_NORMAL);

        // llama.cpp's defaults for SentencePiece vocabularies without the keys.
        let eos = meta_u32(ct, "tokenizer.ggml.eos_token_id").or(spm.then_some(2));
        let bos = meta_u32(ct, "tokenizer.ggml.bos_token_id").or(spm.then_some(1));
        let add_bos = meta_bool(ct, "tokenizer.ggml.add_bos_token").unwrap_or(spm);

        let mut stop_ids: Vec<u32> = Vec::new();
        let mut push_stop = |id: u32| {
            if (id as usize) < tokens.len() && !stop_ids.contains(&id) {
                stop_ids.push(id);
            }
        };
        let eot_meta = meta_u32(ct, "tokenizer.ggml.eot_token_id");
        for id in [eos, eot_meta, meta_u32(ct, "tokenizer.ggml.eom_token_id")]
            .into_iter()
            .flatten()
        {
            push_stop(id);
        }
        let mut by_text: HashMap<&str, u32> = HashMap::with_capacity(tokens.len());
        for (id, tok) in tokens.iter().enumerate() {
            let id = u32::try_from(id).map_err(tok_err)?;
            by_text.entry(tok.as_str()).or_insert(id);
            if END_OF_GENERATION.contains(&tok.as_str()) {
                push_stop(id);
                types[id as usize] = TOKEN_TYPE_CONTROL;
            }
        }
        let end_of_turn = eot_meta
            .or_else(|| END_OF_TURN.iter().find_map(|t| by_text.get(t).copied()))
            .or(eos);

        let (model, token_bytes) = if spm {
            let vocab = SpmVocab::new(SpmConfig {
                scores: scores(ct, tokens.len())?,
                types,
                add_space_prefix: meta_bool(ct, "tokenizer.ggml.add_space_prefix").unwrap_or(true),
                rstrip_specials: meta_str(ct, "general.name").is_some_and(|n| {
                    let n = n.to_lowercase();
                    n.contains("phi-3") || n.contains("phi3")
                }),
                unk: meta_u32(ct, "tokenizer.ggml.unknown_token_id").or(Some(0)),
                pieces: tokens.clone(),
            })?;
            let bytes = vocab.token_bytes(TokTrie::SPECIAL_TOKEN_MARKER);
            (Model::Spm(Box::new(vocab)), bytes)
        } else {
            let pre = meta_str(ct, "tokenizer.ggml.pre").unwrap_or_else(|| "default".into());
            let merges = string_array(ct, "tokenizer.ggml.merges")?;
            let (inner, bytes) = bpe(&tokens, &types, merges, &pre)?;
            (Model::Bpe(Box::new(inner)), bytes)
        };
        Ok(Self {
            model,
            token_bytes,
            bos,
            add_bos,
            stop_ids,
            end_of_turn,
            vocab_size: tokens.len(),
        })
    }

    /// Token ids of `text`, with control-token markup in it parsed as those
    /// tokens (as llama.cpp does with `parse_special`). No BOS is added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match &self.model {
            Model::Bpe(inner) => {
                let enc = inner.encode(text, false).map_err(tok_err)?;
                Ok(enc.get_ids().to_vec())
            }
            Model::Spm(vocab) => Ok(vocab.encode(text)),
        }
    }

    /// Token ids of `text` as a continuation of the prompt, such as the
    /// start of an answer we prefill: like [`Self::encode`], but without the
    /// space SentencePiece vocabularies put before the start of a text
    /// (`▁{` is ` {`, which a JSON grammar refuses as its first piece).
    pub fn encode_continuation(&self, text: &str) -> Result<Vec<u32>> {
        match &self.model {
            Model::Spm(vocab) => Ok(vocab.encode_continuation(text)),
            Model::Bpe(_) => self.encode(text),
        }
    }

    /// Encode a rendered prompt, adding BOS where the model wants one and the
    /// template did not already start with it.
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = self.encode(text)?;
        if let (true, Some(bos)) = (self.add_bos, self.bos) {
            if ids.first() != Some(&bos) {
                ids.insert(0, bos);
            }
        }
        Ok(ids)
    }

    /// Text of `ids`, control tokens left out. For SentencePiece the space
    /// that encoding puts before the text is dropped again, as llama.cpp's
    /// `llama_detokenize` does.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        match &self.model {
            Model::Bpe(inner) => inner.decode(ids, true).map_err(tok_err),
            Model::Spm(vocab) => Ok(vocab.decode(ids)),
        }
    }

    pub fn is_stop(&self, id: u32) -> bool {
        self.stop_ids.contains(&id)
    }

    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    /// Bytes of every token id; control tokens start with 0xFF.
    pub fn token_bytes(&self) -> &[Vec<u8>] {
        &self.token_bytes
    }

    /// The id that ends the assistant's turn: the GGUF's `eot_token_id`, else
    /// the vocabulary's turn marker (`<|im_end|>`, `<end_of_turn>`,
    /// `<|end|>`, `<|eot_id|>`), else its eos.
    pub fn end_of_turn(&self) -> Option<u32> {
        self.end_of_turn
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }
}

/// A byte-level BPE tokenizer for the `tokenizers` crate, and its tokens'
/// bytes for llguidance.
fn bpe(
    tokens: &[String],
    types: &[i32],
    merges: Vec<String>,
    pre: &str,
) -> Result<(tokenizers::Tokenizer, Vec<Vec<u8>>)> {
    let mut vocab = Map::new();
    let mut added = Vec::new();
    for (id, tok) in tokens.iter().enumerate() {
        // Keep the first id when a string repeats.
        if !vocab.contains_key(tok) {
            vocab.insert(tok.clone(), json!(id));
        }
        let ty = types.get(id).copied().unwrap_or(TYPE_NORMAL);
        if ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED {
            added.push(json!({
                "id": id, "content": tok, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": ty == TOKEN_TYPE_CONTROL,
            }));
        }
    }

    let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
    let split = |pattern: &str| json!({"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": false});
    let pre_tokenizer = match pre {
        "smollm" => json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, byte_level(true)]}),
        "qwen2" => {
            json!({"type": "Sequence", "pretokenizers": [split(QWEN2_SPLIT), byte_level(false)]})
        }
        "gpt2" | "default" => {
            json!({"type": "Sequence", "pretokenizers": [split(GPT2_SPLIT), byte_level(false)]})
        }
        other => {
            return Err(InferError::Tokenizer(format!(
                "pre-tokenizer `{other}` is not supported yet (supported: smollm, qwen2, gpt2)"
            )))
        }
    };

    let spec = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": null,
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges,
        },
    });
    let inner: tokenizers::Tokenizer = spec.to_string().parse().map_err(tok_err)?;
    let mut token_bytes = llguidance::token_bytes_from_tokenizer_json(&spec).map_err(tok_err)?;
    token_bytes.resize(tokens.len(), Vec::new());
    Ok((inner, token_bytes))
}

/// Piece scores; llama.cpp takes 0 for every piece when there are none.
fn scores(ct: &Content, n: usize) -> Result<Vec<f32>> {
    let mut scores = match meta(ct, "tokenizer.ggml.scores") {
        Some(v) => v
            .to_vec()
            .map_err(tok_err)?
            .iter()
            .map(|s| s.to_f32().map_err(tok_err))
            .collect::<Result<Vec<f32>>>()?,
        None => Vec::new(),
    };
    scores.resize(n, 0.0);
    Ok(scores)
}

fn string_array(ct: &Content, key: &str) -> Result<Vec<String>> {
    let values = meta(ct, key)
        .ok_or_else(|| InferError::Tokenizer(format!("GGUF has no `{key}`")))?
        .to_vec()
        .map_err(tok_err)?;
    values
        .iter()
        .map(|v| v.to_string().cloned().map_err(tok_err))
        .collect()
}
