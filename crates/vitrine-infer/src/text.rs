//! Text generation with candle over quantized GGUF weights.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::{
    quantized_gemma3, quantized_llama, quantized_phi3, quantized_qwen2, quantized_qwen3,
};
use serde::{Deserialize, Serialize};

use crate::chat::{ChatMessage, ChatTemplate};
use crate::constrained::{ConstraintFactory, JsonConstraint};
use crate::error::{io_err, InferError, Result};
use crate::native::{self, NativeModel};
use crate::tokenizer::GgufTokenizer;

/// Sampling and length settings of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationParams {
    /// 0 means greedy decoding.
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub top_k: Option<usize>,
    /// 1.0 disables the penalty.
    pub repeat_penalty: f32,
    /// How many recent generated tokens the penalty looks at.
    pub repeat_last_n: usize,
    pub seed: u64,
    pub max_tokens: usize,
    /// When set, the reply is constrained to JSON valid against this schema
    /// (llguidance computes a token mask each step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<serde_json::Value>,
    /// Words the model may not write as a whole token (case-insensitive,
    /// spaces around ignored): the compliance rules' banned terms, kept
    /// out at the source so fewer drafts need repair. A word the tokenizer
    /// splits can still appear; the checks catch it. Local engine only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub avoid_words: Vec<String>,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_p: Some(0.9),
            top_k: Some(40),
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: 42,
            max_tokens: 512,
            json_schema: None,
            avoid_words: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndOfTurn,
    MaxTokens,
    /// The `on_text` callback asked to stop.
    Caller,
    ContextFull,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were reused from the previous
    /// request (the prefix cache) instead of being computed.
    #[serde(default)]
    pub cached_prompt_tokens: usize,
    pub generated_tokens: usize,
    pub stop: StopReason,
    pub time_to_first_token: Duration,
    pub prompt_time: Duration,
    pub total_time: Duration,
    /// Time spent building and applying the JSON-schema constraint (token
    /// masks), included in `total_time`; zero when unconstrained or remote.
    #[serde(default)]
    pub constraint_time: Duration,
}

/// Wall-clock times of [`CandleTextModel::time_raw`].
#[derive(Debug, Clone, Copy)]
pub struct RawTiming {
    pub prompt_time: Duration,
    pub gen_time: Duration,
}

/// A shared flag to stop a generation between two tokens.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Anything that turns a chat into text. Backends: local candle (here),
/// remote OpenAI-compatible servers ([`crate::remote`]).
pub trait TextModel: Send {
    fn id(&self) -> &str;
    fn context_length(&self) -> usize;
    /// Generate the assistant's reply to `messages`. `prefill` is text the
    /// reply is forced to start with (e.g. `{"title": "`); it is not part of
    /// the returned or streamed text. `on_text` receives each new piece of
    /// text and returns whether to go on (`false` ends the generation with
    /// [`StopReason::Caller`], e.g. once a JSON object is complete).
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        prefill: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
        cancel: &CancelToken,
    ) -> Result<Generation>;
}

enum Weights {
    /// Our own CPU engine (see `native`).
    Native(Box<NativeModel>),
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
    Phi3(quantized_phi3::ModelWeights),
    Gemma3(quantized_gemma3::ModelWeights),
}

impl Weights {
    fn clear_kv_cache(&mut self) {
        match self {
            Weights::Native(m) => m.clear_cache(),
            Weights::Llama(m) => m.clear_kv_cache(),
            Weights::Qwen2(m) => m.clear_kv_cache(),
            Weights::Qwen3(m) => m.clear_kv_cache(),
            // candle's phi3 and gemma3 keep no state between calls that a
            // new sequence from position 0 does not overwrite.
            Weights::Phi3(_) | Weights::Gemma3(_) => {}
        }
    }
}

/// Which engine runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Ours on the CPU for the architectures it knows, candle otherwise;
    /// `VITRINE_ENGINE=candle` forces candle (comparisons, debugging).
    #[default]
    Auto,
    Native,
    Candle,
}

impl Engine {
    fn native_for(self, device: &Device, arch: &str) -> bool {
        let known = native::Arch::from_name(arch).is_some();
        match self {
            Engine::Native => known,
            Engine::Candle => false,
            Engine::Auto => {
                device.is_cpu()
                    && known
                    && !std::env::var("VITRINE_ENGINE")
                        .is_ok_and(|v| v.eq_ignore_ascii_case("candle"))
            }
        }
    }
}

pub struct CandleTextModel {
    id: String,
    path: PathBuf,
    weights: Weights,
    tokenizer: GgufTokenizer,
    template: ChatTemplate,
    device: Device,
    context_length: usize,
    /// Built on the first constrained request, sized to the output layer.
    constraints: Option<ConstraintFactory>,
    /// The last `avoid_words` and their token ids: a batch asks for the
    /// same words every time, and scanning the vocabulary is not free.
    avoided: std::sync::Mutex<Option<(Vec<String>, Vec<u32>)>>,
}

/// Read only a GGUF's metadata (tokenizer, template, architecture).
pub fn read_gguf_header(path: &Path) -> Result<(gguf_file::Content, File)> {
    crate::gguf_guard::check_gguf_header(path)?;
    let mut file = File::open(path).map_err(io_err(path))?;
    let content = gguf_file::Content::read(&mut file).map_err(|e| InferError::BadModelFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok((content, file))
}

impl CandleTextModel {
    /// Load a GGUF model. The module is chosen from `general.architecture`.
    pub fn load(id: &str, path: &Path, device: &Device) -> Result<Self> {
        Self::load_with(id, path, device, Engine::Auto)
    }

    /// [`Self::load`] with the engine chosen by the caller.
    pub fn load_with(id: &str, path: &Path, device: &Device, engine: Engine) -> Result<Self> {
        let (content, mut file) = read_gguf_header(path)?;
        let arch = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        let tokenizer = GgufTokenizer::from_gguf(&content)?;
        let token_text = |key: &str| {
            content
                .metadata
                .get(key)
                .and_then(|v| v.to_u32().ok())
                .and_then(|id| {
                    content
                        .metadata
                        .get("tokenizer.ggml.tokens")
                        .and_then(|t| t.to_vec().ok())
                        .and_then(|t| t.get(id as usize).and_then(|v| v.to_string().ok()).cloned())
                })
                .unwrap_or_default()
        };
        let template = ChatTemplate::new(
            content
                .metadata
                .get("tokenizer.chat_template")
                .and_then(|v| v.to_string().ok())
                .cloned(),
            token_text("tokenizer.ggml.bos_token_id"),
            token_text("tokenizer.ggml.eos_token_id"),
        );
        let declared_ctx = content
            .metadata
            .get(&format!("{arch}.context_length"))
            .and_then(|v| v.to_u32().ok())
            .map(|v| v as usize)
            .unwrap_or(2048);
        let bad = |e: candle_core::Error| InferError::BadModelFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let use_native = engine.native_for(device, &arch);
        let (weights, context_length) = match arch.as_str() {
            _ if use_native => {
                let m = NativeModel::load(path, &content, native::default_threads())?;
                tracing::debug!(
                    kernels = native::kernel_level().name(),
                    "native CPU engine for {arch}"
                );
                (Weights::Native(Box::new(m)), declared_ctx)
            }
            // candle's llama module precomputes rotary tables for 4096 positions.
            "llama" => (
                Weights::Llama(
                    quantized_llama::ModelWeights::from_gguf(content, &mut file, device)
                        .map_err(bad)?,
                ),
                declared_ctx.min(quantized_llama::MAX_SEQ_LEN),
            ),
            "qwen2" => (
                Weights::Qwen2(
                    quantized_qwen2::ModelWeights::from_gguf(content, &mut file, device)
                        .map_err(bad)?,
                ),
                declared_ctx,
            ),
            "qwen3" => (
                Weights::Qwen3(
                    quantized_qwen3::ModelWeights::from_gguf(content, &mut file, device)
                        .map_err(bad)?,
                ),
                declared_ctx,
            ),
            "phi3" => (
                Weights::Phi3(
                    quantized_phi3::ModelWeights::from_gguf(false, content, &mut file, device)
                        .map_err(bad)?,
                ),
                declared_ctx,
            ),
            "gemma3" => (
                Weights::Gemma3(
                    quantized_gemma3::ModelWeights::from_gguf(content, &mut file, device)
                        .map_err(bad)?,
                ),
                declared_ctx,
            ),
            other => return Err(InferError::UnsupportedArchitecture(other.to_string())),
        };
        Ok(Self {
            id: id.to_string(),
            path: path.to_path_buf(),
            weights,
            tokenizer,
            template,
            device: device.clone(),
            context_length,
            constraints: None,
            avoided: std::sync::Mutex::new(None),
        })
    }

    pub fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The exact prompt text the model sees for `messages`.
    pub fn render_prompt(&self, messages: &[ChatMessage]) -> Result<String> {
        self.template.render(messages)
    }

    /// Token ids for `words`, from the cache when the words are the same.
    fn avoided(&self, words: &[String]) -> Vec<u32> {
        if words.is_empty() {
            return Vec::new();
        }
        let mut cache = match self.avoided.lock() {
            Ok(g) => g,
            // A panic elsewhere while holding the lock leaves a valid cache.
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((w, ids)) = cache.as_ref() {
            if w == words {
                return ids.clone();
            }
        }
        let ids = avoided_tokens(
            self.tokenizer.vocab_size(),
            |id| self.tokenizer.decode(&[id]).ok(),
            words,
        );
        *cache = Some((words.to_vec(), ids.clone()));
        ids
    }

    fn new_constraint(
        &mut self,
        schema: &serde_json::Value,
        vocab: usize,
        prefill: &[u32],
    ) -> Result<JsonConstraint> {
        if self.constraints.is_none() {
            self.constraints = Some(ConstraintFactory::new(&self.tokenizer, vocab)?);
        }
        let factory = self
            .constraints
            .as_ref()
            .ok_or_else(|| InferError::Backend("constraint factory missing".into()))?;
        let mut c = factory.json(schema)?;
        c.consume(prefill)?;
        Ok(c)
    }

    /// Time prompt processing of `prompt` (one batch) and `gen_tokens`
    /// greedy steps after it, end-of-turn ignored: the benchmark's
    /// measurement, comparable with llama.cpp's eval of the same ids.
    pub fn time_raw(&mut self, prompt: &[u32], gen_tokens: usize) -> Result<RawTiming> {
        if prompt.is_empty() || prompt.len() + gen_tokens >= self.context_length {
            return Err(InferError::PromptTooLong {
                id: self.id.clone(),
                tokens: prompt.len() + gen_tokens,
                limit: self.context_length,
            });
        }
        self.weights.clear_kv_cache();
        // GPU kernels run asynchronously: without a sync at each end, the
        // prompt's tail would be billed to generation and the last step to
        // nobody. On the CPU the syncs are no-ops.
        let never = CancelToken::new();
        let t = Instant::now();
        let mut logits = self.logits(prompt, 0, &never)?;
        self.device.synchronize()?;
        let prompt_time = t.elapsed();
        let t = Instant::now();
        for pos in prompt.len()..prompt.len() + gen_tokens {
            let next = logits.argmax(0)?.to_scalar::<u32>()?;
            logits = self.logits(&[next], pos, &never)?;
        }
        self.device.synchronize()?;
        let gen_time = t.elapsed();
        self.weights.clear_kv_cache();
        Ok(RawTiming {
            prompt_time,
            gen_time,
        })
    }

    /// Logits after `ids`, which start at position `pos`. The native
    /// engine checks `cancel` inside the pass (between layers) so a long
    /// prompt can be abandoned quickly.
    fn logits(&mut self, ids: &[u32], pos: usize, cancel: &CancelToken) -> Result<Tensor> {
        if let Weights::Native(m) = &mut self.weights {
            debug_assert_eq!(m.cached_tokens().len(), pos);
            let last = m.forward(ids, cancel)?;
            let n = last.len();
            return Ok(Tensor::from_vec(last, n, &Device::Cpu)?);
        }
        let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let logits = match &mut self.weights {
            // Returned above; an error rather than a panic all the same.
            Weights::Native(_) => {
                return Err(InferError::Backend(
                    "native weights on candle's path".into(),
                ))
            }
            Weights::Llama(m) => m.forward(&input, pos)?,
            Weights::Qwen2(m) => m.forward(&input, pos)?,
            Weights::Qwen3(m) => m.forward(&input, pos)?,
            Weights::Phi3(m) => m.forward(&input, pos)?,
            Weights::Gemma3(m) => m.forward(&input, pos)?,
        };
        Ok(logits.squeeze(0)?.to_dtype(DType::F32)?)
    }

    /// How many leading tokens of `prompt` the KV cache already holds
    /// (never all of them: the last prompt token is always run to get the
    /// logits), with the cache cut back to exactly those.
    fn reuse_prefix(&mut self, prompt: &[u32]) -> usize {
        match &mut self.weights {
            Weights::Native(m) => {
                let common = m
                    .cached_tokens()
                    .iter()
                    .zip(prompt)
                    .take_while(|(a, b)| a == b)
                    .count()
                    .min(prompt.len().saturating_sub(1));
                m.truncate_cache(common);
                common
            }
            other => {
                other.clear_kv_cache();
                0
            }
        }
    }

    /// The logits after `ids`, from an empty cache (tests compare engines
    /// with it).
    pub fn prompt_logits(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        self.weights.clear_kv_cache();
        let logits = self.prompt_logits_from_cache(ids);
        self.weights.clear_kv_cache();
        logits
    }

    /// The logits after `ids`, reusing whatever prefix of them the cache
    /// holds (the prefix cache's path, exposed for tests and benches).
    pub fn prompt_logits_from_cache(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        self.prompt_logits_cancellable(ids, &CancelToken::new())
    }

    /// [`Self::prompt_logits_from_cache`] that gives up when `cancel` is
    /// set (the cancellation-latency benchmark uses it).
    pub fn prompt_logits_cancellable(
        &mut self,
        ids: &[u32],
        cancel: &CancelToken,
    ) -> Result<Vec<f32>> {
        let reused = self.reuse_prefix(ids);
        let logits = self.logits(&ids[reused..], reused, cancel)?;
        Ok(logits.to_vec1::<f32>()?)
    }

    /// Forget the cached prefix (e.g. to measure without the prefix cache).
    pub fn clear_prefix_cache(&mut self) {
        self.weights.clear_kv_cache();
    }

    /// The engine running this model, for reports: `native (avx2+fma)`,
    /// `candle (cpu)`, `candle (cuda)`.
    pub fn engine(&self) -> String {
        match &self.weights {
            Weights::Native(_) => format!("native ({})", native::kernel_level().name()),
            _ => format!(
                "candle ({})",
                match self.device {
                    Device::Cpu => "cpu",
                    Device::Cuda(_) => "cuda",
                    Device::Metal(_) => "metal",
                }
            ),
        }
    }
}

/// One decoding step's choice, shared by text and vision-language
/// generation: penalise recent repeats, mask what the constraint forbids
/// (its time added to `constraint_time`), sample.
pub(crate) fn choose_next(
    logits: Tensor,
    generated: &[u32],
    params: &GenerationParams,
    constraint: Option<&mut JsonConstraint>,
    avoid: &[u32],
    sampler: &mut LogitsProcessor,
    constraint_time: &mut Duration,
) -> Result<u32> {
    let logits = if params.repeat_penalty != 1.0 && !generated.is_empty() {
        let from = generated.len().saturating_sub(params.repeat_last_n);
        candle_transformers::utils::apply_repeat_penalty(
            &logits,
            params.repeat_penalty,
            &generated[from..],
        )?
    } else {
        logits
    };
    let logits = match constraint {
        Some(c) => {
            let masking = Instant::now();
            let mut values = logits.to_vec1::<f32>()?;
            c.mask_logits(&mut values)?;
            let masked = Tensor::from_vec(values, logits.dims1()?, logits.device())?;
            *constraint_time += masking.elapsed();
            masked
        }
        None => logits,
    };
    let logits = if avoid.is_empty() {
        logits
    } else {
        let mut values = logits.to_vec1::<f32>()?;
        let before = values.clone();
        for &id in avoid {
            if let Some(v) = values.get_mut(id as usize) {
                *v = f32::NEG_INFINITY;
            }
        }
        // Should every allowed token be avoided (the grammar forcing one),
        // the grammar wins: a checked word beats no reply.
        if values.iter().all(|v| *v == f32::NEG_INFINITY) {
            values = before;
        }
        Tensor::from_vec(values, logits.dims1()?, logits.device())?
    };
    Ok(sampler.sample(&logits)?)
}

/// The vocabulary ids whose text is one of `words` (case-insensitive,
/// surrounding spaces ignored).
pub(crate) fn avoided_tokens(
    vocab_size: usize,
    decode: impl Fn(u32) -> Option<String>,
    words: &[String],
) -> Vec<u32> {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    (0..vocab_size as u32)
        .filter(|&id| {
            decode(id).is_some_and(|t| {
                let t = t.trim().to_lowercase();
                !t.is_empty() && words.contains(&t)
            })
        })
        .collect()
}

/// Tell the constraint which token was chosen (its time added to
/// `constraint_time`).
pub(crate) fn accept_token(
    constraint: Option<&mut JsonConstraint>,
    token: u32,
    constraint_time: &mut Duration,
) -> Result<()> {
    if let Some(c) = constraint {
        let consuming = Instant::now();
        c.consume(&[token])?;
        *constraint_time += consuming.elapsed();
    }
    Ok(())
}

pub(crate) fn sampler(params: &GenerationParams) -> LogitsProcessor {
    let t = params.temperature;
    let sampling = if t <= 0.0 {
        Sampling::ArgMax
    } else {
        match (params.top_k, params.top_p) {
            (Some(k), Some(p)) => Sampling::TopKThenTopP {
                k,
                p,
                temperature: t,
            },
            (Some(k), None) => Sampling::TopK { k, temperature: t },
            (None, Some(p)) => Sampling::TopP { p, temperature: t },
            (None, None) => Sampling::All { temperature: t },
        }
    };
    LogitsProcessor::from_sampling(params.seed, sampling)
}

impl TextModel for CandleTextModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn context_length(&self) -> usize {
        self.context_length
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        prefill: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
        cancel: &CancelToken,
    ) -> Result<Generation> {
        let start = Instant::now();
        let prompt = self.render_prompt(messages)?;
        let prefill_ids = if prefill.is_empty() {
            Vec::new()
        } else {
            self.tokenizer.encode_continuation(prefill)?
        };
        let mut prompt_ids = self.tokenizer.encode_prompt(&prompt)?;
        prompt_ids.extend_from_slice(&prefill_ids);
        if prompt_ids.len() >= self.context_length {
            return Err(InferError::PromptTooLong {
                id: self.id.clone(),
                tokens: prompt_ids.len(),
                limit: self.context_length,
            });
        }
        let mut sampler = sampler(params);
        let reused = self.reuse_prefix(&prompt_ids);

        let mut generated: Vec<u32> = Vec::new();
        let mut emitted = 0usize; // bytes of decoded text already handed out
        let mut text = String::new();
        let mut first_token_at = None;
        let mut prompt_time = Duration::ZERO;
        let mut stop = StopReason::MaxTokens;
        let mut pos = reused;
        let mut next_input = prompt_ids[reused..].to_vec();
        let mut constraint: Option<JsonConstraint> = None;
        let mut constraint_time = Duration::ZERO;
        let avoid = self.avoided(&params.avoid_words);

        for step in 0..params.max_tokens {
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            if pos + next_input.len() >= self.context_length {
                stop = StopReason::ContextFull;
                break;
            }
            let logits = self.logits(&next_input, pos, cancel)?;
            pos += next_input.len();
            if step == 0 {
                prompt_time = start.elapsed();
            }
            if constraint.is_none() {
                if let Some(schema) = &params.json_schema {
                    let building = Instant::now();
                    constraint =
                        Some(self.new_constraint(schema, logits.dims1()?, &prefill_ids)?);
                    constraint_time += building.elapsed();
                }
            }
            let next = choose_next(
                logits,
                &generated,
                params,
                constraint.as_mut(),
                &avoid,
                &mut sampler,
                &mut constraint_time,
            )?;
            if self.tokenizer.is_stop(next) {
                stop = StopReason::EndOfTurn;
                break;
            }
            accept_token(constraint.as_mut(), next, &mut constraint_time)?;
            generated.push(next);
            next_input = vec![next];

            // Decode the whole tail so multi-byte characters split across
            // tokens are only emitted once complete.
            let decoded = self.tokenizer.decode(&generated)?;
            if decoded.len() > emitted
                && !decoded.ends_with('\u{fffd}')
                && decoded.is_char_boundary(emitted)
            {
                let piece = &decoded[emitted..];
                if first_token_at.is_none() {
                    first_token_at = Some(start.elapsed());
                }
                let go_on = on_text(piece);
                emitted = decoded.len();
                if !go_on {
                    text = decoded;
                    stop = StopReason::Caller;
                    break;
                }
            }
            text = decoded;
            // A complete grammar allows only end-of-turn: stop without
            // spending a forward pass on it.
            if constraint.as_ref().is_some_and(JsonConstraint::is_done) {
                stop = StopReason::EndOfTurn;
                break;
            }
        }
        // Flush anything held back (e.g. a trailing incomplete character).
        if text.len() > emitted && text.is_char_boundary(emitted) {
            on_text(&text[emitted..]);
        }
        if !matches!(self.weights, Weights::Native(_)) {
            self.weights.clear_kv_cache();
        }
        let total_time = start.elapsed();
        Ok(Generation {
            text,
            prompt_tokens: prompt_ids.len(),
            cached_prompt_tokens: reused,
            generated_tokens: generated.len(),
            stop,
            time_to_first_token: first_token_at.unwrap_or(total_time),
            prompt_time,
            total_time,
            constraint_time,
        })
    }
}

#[cfg(test)]
mod avoid_tests {
    use super::*;

    #[test]
    fn avoided_tokens_match_whole_token_text_in_any_case() {
        let vocab = [" perfect", "Perfect", "perfectly", " best ", "ok", "完美"];
        let words = vec![
            "perfect".to_string(),
            " BEST".to_string(),
            "完美".to_string(),
        ];
        let ids = avoided_tokens(
            vocab.len(),
            |i| vocab.get(i as usize).map(|s| s.to_string()),
            &words,
        );
        assert_eq!(ids, [0, 1, 3, 5]);
        assert!(avoided_tokens(3, |_| Some("x".into()), &[]).is_empty());
    }
}
