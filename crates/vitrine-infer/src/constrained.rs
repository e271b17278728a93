//! Constrained decoding: a JSON schema compiled by llguidance into a token
//! mask per step, so the output is valid by construction whatever the model.

use std::sync::Arc;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{self, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use llguidance::{Matcher, ParserFactory};

use crate::error::{InferError, Result};
use crate::tokenizer::GgufTokenizer;

/// llguidance's view of our tokenizer: the token trie, with greedy
/// tokenisation of grammar literals (good enough for masks; the model's own
/// tokenizer is used for prompts).
struct TrieEnv {
    trie: TokTrie,
}

impl TokenizerEnv for TrieEnv {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }
    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        self.trie.greedy_tokenize(s)
    }
}

fn llg_err(e: impl std::fmt::Display) -> InferError {
    InferError::Backend(format!("constrained decoding: {e}"))
}

/// Compiles schemas for one model's vocabulary. Building it walks the whole
/// vocabulary once, so a model keeps one.
pub struct ConstraintFactory {
    factory: Arc<ParserFactory>,
}

impl ConstraintFactory {
    /// A factory over a GGUF model's vocabulary.
    pub fn new(tokenizer: &GgufTokenizer, model_vocab: usize) -> Result<Self> {
        let eos = tokenizer
            .end_of_turn()
            .ok_or_else(|| llg_err("the model has no end-of-turn token"))?;
        Self::from_token_bytes(tokenizer.token_bytes().to_vec(), eos, model_vocab)
    }

    /// A factory over a Hugging Face `tokenizer.json` (its parsed JSON), for
    /// models that ship one instead of a GGUF. Byte-level BPE and
    /// byte-fallback vocabularies are understood; special tokens are marked
    /// so the grammar can never spell them.
    pub fn from_tokenizer_json(
        tokenizer_json: &serde_json::Value,
        end_of_turn: u32,
        model_vocab: usize,
    ) -> Result<Self> {
        let words = llguidance::token_bytes_from_tokenizer_json(tokenizer_json).map_err(llg_err)?;
        Self::from_token_bytes(words, end_of_turn, model_vocab)
    }

    /// A factory over each token id's bytes (special tokens starting with
    /// [`TokTrie::SPECIAL_TOKEN_MARKER`]).
    pub fn from_token_bytes(
        mut words: Vec<Vec<u8>>,
        end_of_turn: u32,
        model_vocab: usize,
    ) -> Result<Self> {
        // The output layer can be wider than the vocabulary (padding rows).
        words.resize(words.len().max(model_vocab), Vec::new());
        let vocab_size = u32::try_from(words.len()).map_err(llg_err)?;
        if end_of_turn >= vocab_size {
            return Err(llg_err(format!(
                "end-of-turn token {end_of_turn} is outside the vocabulary of {vocab_size}"
            )));
        }
        let mut info = TokRxInfo::new(vocab_size, end_of_turn);
        info.tok_end_of_turn = Some(end_of_turn);
        let trie = TokTrie::from(&info, &words);
        let env: toktrie::TokEnv = Arc::new(TrieEnv { trie });
        let mut factory = ParserFactory::new_simple(&env).map_err(llg_err)?;
        factory.quiet();
        Ok(Self {
            factory: Arc::new(factory),
        })
    }

    /// A fresh matcher for `schema`.
    pub fn json(&self, schema: &serde_json::Value) -> Result<JsonConstraint> {
        let grammar = TopLevelGrammar::from_json_schema(schema.clone());
        let parser = self.factory.create_parser(grammar).map_err(llg_err)?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(e) = matcher.get_error() {
            return Err(llg_err(e));
        }
        Ok(JsonConstraint { matcher })
    }
}

pub struct JsonConstraint {
    matcher: Matcher,
}

impl JsonConstraint {
    /// Set every logit the grammar forbids to -inf.
    pub fn mask_logits(&mut self, logits: &mut [f32]) -> Result<()> {
        let mask = self.matcher.compute_mask_or_eos().map_err(llg_err)?;
        for (id, l) in logits.iter_mut().enumerate() {
            let allowed = u32::try_from(id).is_ok_and(|id| mask.is_allowed(id));
            if !allowed {
                *l = f32::NEG_INFINITY;
            }
        }
        Ok(())
    }

    pub fn consume(&mut self, tokens: &[u32]) -> Result<()> {
        self.matcher.consume_tokens(tokens).map_err(llg_err)
    }

    /// The grammar is complete: only end-of-turn may follow.
    pub fn is_done(&self) -> bool {
        self.matcher.is_stopped()
    }
}
