//! A byte-level BPE tokenizer rebuilt from a GGUF file's own metadata, with
//! the pre-tokenizer llama.cpp uses for that model's `tokenizer.ggml.pre`,
//! so token ids match llama.cpp's exactly (checked by fixtures in tests/).

use std::collections::HashMap;

use candle_core::quantized::gguf_file::{Content, Value};
use serde_json::{json, Map};

use crate::error::{InferError, Result};

/// llama.cpp's token types (`llama_token_type`).
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// GPT-2's split, used by SmolLM2 after the digit split.
const GPT2_SPLIT: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// llama.cpp's regex for `pre = "qwen2"`.
const QWEN2_SPLIT: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

pub struct GgufTokenizer {
    inner: tokenizers::Tokenizer,
    /// Each token's bytes (control tokens marked for llguidance), for
    /// constrained decoding.
    token_bytes: Vec<Vec<u8>>,
    eos: Option<u32>,
    bos: Option<u32>,
    add_bos: bool,
    /// Ids that end a turn: the GGUF's eos plus ChatML's end markers.
    stop_ids: Vec<u32>,
    vocab_size: usize,
}

fn meta<'a>(ct: &'a Content, key: &str) -> Option<&'a Value> {
    ct.metadata.get(key)
}

fn meta_u32(ct: &Content, key: &str) -> Option<u32> {
    meta(ct, key).and_then(|v| v.to_u32().ok())
}

fn tok_err(e: impl std::fmt::Display) -> InferError {
    InferError::Tokenizer(e.to_string())
}

impl GgufTokenizer {
    pub fn from_gguf(ct: &Content) -> Result<Self> {
        let model = meta(ct, "tokenizer.ggml.model")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if model != "gpt2" {
            return Err(InferError::Tokenizer(format!(
                "tokenizer model `{model}` is not supported (only byte-level BPE, `gpt2`)"
            )));
        }
        let pre = meta(ct, "tokenizer.ggml.pre")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_else(|| "default".into());
        let tokens = string_array(ct, "tokenizer.ggml.tokens")?;
        let merges = string_array(ct, "tokenizer.ggml.merges")?;
        let types: Vec<i32> = match meta(ct, "tokenizer.ggml.token_type") {
            Some(v) => v
                .to_vec()
                .map_err(tok_err)?
                .iter()
                .map(|t| t.to_i32().unwrap_or(1))
                .collect(),
            None => vec![1; tokens.len()],
        };

        let mut vocab = Map::new();
        let mut added = Vec::new();
        for (id, tok) in tokens.iter().enumerate() {
            // Keep the first id when a string repeats, as llama.cpp's map does.
            if !vocab.contains_key(tok) {
                vocab.insert(tok.clone(), json!(id));
            }
            let ty = types.get(id).copied().unwrap_or(1);
            if ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED {
                added.push(json!({
                    "id": id, "content": tok, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": ty == TOKEN_TYPE_CONTROL,
                }));
            }
        }

        let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
        let split = |pattern: &str| json!({"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": false});
        let pre_tokenizer = match pre.as_str() {
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
        let mut token_bytes =
            llguidance::token_bytes_from_tokenizer_json(&spec).map_err(tok_err)?;
        token_bytes.resize(tokens.len(), Vec::new());

        let by_text: HashMap<&str, u32> = tokens
            .iter()
            .enumerate()
            .filter_map(|(i, t)| u32::try_from(i).ok().map(|i| (t.as_str(), i)))
            .collect();
        let mut stop_ids: Vec<u32> = Vec::new();
        if let Some(eos) = meta_u32(ct, "tokenizer.ggml.eos_token_id") {
            stop_ids.push(eos);
        }
        for marker in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"] {
            if let Some(&id) = by_text.get(marker) {
                if !stop_ids.contains(&id) {
                    stop_ids.push(id);
                }
            }
        }
        let add_bos = meta(ct, "tokenizer.ggml.add_bos_token")
            .and_then(|v| v.to_bool().ok())
            .unwrap_or(false);
        Ok(Self {
            inner,
            token_bytes,
            eos: meta_u32(ct, "tokenizer.ggml.eos_token_id"),
            bos: meta_u32(ct, "tokenizer.ggml.bos_token_id"),
            add_bos,
            stop_ids,
            vocab_size: tokens.len(),
        })
    }

    /// Token ids of `text`, with control-token markup in it parsed as those
    /// tokens (as llama.cpp does with `parse_special`). No BOS is added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, false).map_err(tok_err)?;
        Ok(enc.get_ids().to_vec())
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

    /// Text of `ids`, control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(tok_err)
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

    /// The id that ends the assistant's turn (ChatML's `<|im_end|>` when the
    /// vocabulary has it, else the GGUF's eos).
    pub fn end_of_turn(&self) -> Option<u32> {
        self.stop_ids
            .iter()
            .copied()
            .find(|&id| {
                self.token_bytes
                    .get(id as usize)
                    .is_some_and(|b| b.ends_with(b"<|im_end|>"))
            })
            .or(self.eos)
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }
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
