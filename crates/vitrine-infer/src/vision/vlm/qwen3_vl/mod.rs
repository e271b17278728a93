//! Qwen3-VL (Qwen's 2025 vision-language family, 2B to 32B dense; reads
//! Chinese and English) loaded from a Hugging Face model directory and run
//! with candle: the Qwen2-VL image processor, the ViT with DeepStack, and
//! the Qwen3 decoder with multimodal RoPE, answering one image and one
//! prompt with a KV cache, stop tokens, cancellation and optional JSON-
//! schema constrained decoding.

pub mod config;
pub mod preprocess;
pub mod text_decoder;
pub mod vision_tower;

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::DynamicImage;
use serde::Deserialize;

pub use config::Qwen3VlConfig;
pub use preprocess::ImageProcessor;
pub use text_decoder::TextDecoder;
pub use vision_tower::VisionTower;

use self::preprocess::PreprocessorFile;
use self::text_decoder::{prompt_positions, replace_span, VisualSpan};
use super::hf_dir::{read_json, ModelDir};
use super::{VisionAnswer, VisionModel, VisionTimings, VlmOptions, DEFAULT_MAX_PIXELS};
use crate::constrained::{ConstraintFactory, JsonConstraint};
use crate::error::{InferError, Result};
use crate::text::{accept_token, choose_next, sampler, CancelToken, GenerationParams, StopReason};

/// Qwen's chat markers.
const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";
const END_OF_TEXT: &str = "<|endoftext|>";

/// The weights of a Qwen3-VL model: what `model.safetensors` holds.
pub struct Qwen3VlWeights {
    pub vision: VisionTower,
    pub text: TextDecoder,
}

impl Qwen3VlWeights {
    /// Build the modules from `vb` (tensor names as Transformers saves
    /// `Qwen3VLForConditionalGeneration`: `model.visual.*`,
    /// `model.language_model.*`, `lm_head.weight`).
    pub fn new(cfg: &Qwen3VlConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            vision: VisionTower::new(&cfg.vision_config, vb.pp("model").pp("visual"))?,
            text: TextDecoder::new(cfg, vb)?,
        })
    }
}

/// The texts of the special tokens the config names by id.
struct Markers {
    vision_start: String,
    image: String,
    vision_end: String,
}

#[derive(Deserialize)]
struct GenerationFile {
    #[serde(default)]
    eos_token_id: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(u32),
    Many(Vec<u32>),
}

pub struct Qwen3VlModel {
    id: String,
    dir: ModelDir,
    cfg: Qwen3VlConfig,
    vision: VisionTower,
    text: TextDecoder,
    tokenizer: tokenizers::Tokenizer,
    markers: Markers,
    processor: ImageProcessor,
    stop_ids: Vec<u32>,
    end_of_turn: u32,
    device: Device,
    /// Built on the first constrained request (it walks the vocabulary).
    constraints: Option<ConstraintFactory>,
}

fn bad(path: &Path, reason: impl Into<String>) -> InferError {
    InferError::BadModelDir {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Qwen3VlModel {
    /// Load the model in `dir` with default options.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        Self::load_with(dir, device, &VlmOptions::default())
    }

    pub fn load_with(dir: &Path, device: &Device, opts: &VlmOptions) -> Result<Self> {
        let dir = ModelDir::open(dir)?;
        let cfg: Qwen3VlConfig = read_json(&dir.config)?;
        cfg.validate().map_err(|r| bad(&dir.config, r))?;

        let tokenizer = tokenizers::Tokenizer::from_file(&dir.tokenizer)
            .map_err(|e| bad(&dir.tokenizer, format!("not a readable tokenizer: {e}")))?;
        let vocab = cfg.text_config.vocab_size;
        if let Some(max) = tokenizer.get_vocab(true).values().max() {
            if *max as usize >= vocab {
                return Err(bad(
                    &dir.tokenizer,
                    format!("token id {max} is outside the model's vocabulary of {vocab}"),
                ));
            }
        }
        let token = |id: u32, what: &str| {
            tokenizer.id_to_token(id).ok_or_else(|| {
                bad(
                    &dir.tokenizer,
                    format!("has no token {id}, which config.json names as {what}"),
                )
            })
        };
        let markers = Markers {
            vision_start: token(cfg.vision_start_token_id, "vision_start_token_id")?,
            image: token(cfg.image_token_id, "image_token_id")?,
            vision_end: token(cfg.vision_end_token_id, "vision_end_token_id")?,
        };
        let end_of_turn = tokenizer
            .token_to_id(IM_END)
            .ok_or_else(|| bad(&dir.tokenizer, format!("has no {IM_END} token")))?;
        let mut stop_ids = vec![end_of_turn];
        stop_ids.extend(tokenizer.token_to_id(END_OF_TEXT));
        if let Some(path) = &dir.generation {
            let gen: GenerationFile = read_json(path)?;
            match gen.eos_token_id {
                Some(OneOrMany::One(id)) => stop_ids.push(id),
                Some(OneOrMany::Many(ids)) => stop_ids.extend(ids),
                None => {}
            }
        }
        stop_ids.sort_unstable();
        stop_ids.dedup();

        let pre: PreprocessorFile = match &dir.preprocessor {
            Some(p) => read_json(p)?,
            None => PreprocessorFile::default(),
        };
        let v = &cfg.vision_config;
        let processor = ImageProcessor::new(
            &pre,
            v.patch_size,
            v.temporal_patch_size,
            v.spatial_merge_size,
            Some(opts.max_pixels.unwrap_or(DEFAULT_MAX_PIXELS)),
        )
        .map_err(|r| bad(dir.preprocessor.as_deref().unwrap_or(&dir.root), r))?;

        let dtype = opts.dtype.unwrap_or(if device.is_cpu() {
            DType::F32
        } else {
            DType::BF16
        });
        // SAFETY: the weights are memory-mapped only while the modules copy
        // them out below; like every mmap loader, this assumes nobody
        // truncates the files meanwhile.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&dir.weights, dtype, device) }
            .map_err(|e| bad(&dir.root, format!("unreadable safetensors: {e}")))?;
        let weights = Qwen3VlWeights::new(&cfg, vb)
            .map_err(|e| bad(&dir.root, format!("weights do not fit config.json: {e}")))?;
        let id = opts.id.clone().unwrap_or_else(|| {
            dir.root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "qwen3-vl".into())
        });
        tracing::debug!(
            id,
            layers = cfg.text_config.num_hidden_layers,
            ?dtype,
            "Qwen3-VL loaded"
        );
        Ok(Self {
            id,
            dir,
            cfg,
            vision: weights.vision,
            text: weights.text,
            tokenizer,
            markers,
            processor,
            stop_ids,
            end_of_turn,
            device: device.clone(),
            constraints: None,
        })
    }

    pub fn config(&self) -> &Qwen3VlConfig {
        &self.cfg
    }

    pub fn processor(&self) -> &ImageProcessor {
        &self.processor
    }

    pub fn tokenizer(&self) -> &tokenizers::Tokenizer {
        &self.tokenizer
    }

    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    /// The prompt text for one image and `prompt`, the image as a single
    /// placeholder: the model's chat template when it renders one, else
    /// the ChatML form that template produces.
    pub fn render_prompt(&self, prompt: &str) -> Result<String> {
        let m = &self.markers;
        let markers: [&str; 5] = [&m.vision_start, &m.image, &m.vision_end, IM_START, IM_END];
        for marker in markers {
            if prompt.contains(marker) {
                return Err(InferError::Template(format!(
                    "the prompt contains the control token {marker}"
                )));
            }
        }
        let placeholder = format!("{}{}{}", m.vision_start, m.image, m.vision_end);
        if let Some(src) = &self.dir.chat_template {
            match render_template(src, prompt) {
                Ok(text) if text.matches(&placeholder).count() == 1 => return Ok(text),
                Ok(_) => {
                    tracing::warn!("chat template has no single image placeholder; using ChatML")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "chat template failed to render; using ChatML")
                }
            }
        }
        Ok(format!(
            "{IM_START}user\n{placeholder}{prompt}{IM_END}\n{IM_START}assistant\n"
        ))
    }

    /// Token ids of the prompt with the image placeholder expanded to
    /// `image_tokens` copies, and where the copies start.
    pub fn prompt_ids(&self, prompt: &str, image_tokens: usize) -> Result<(Vec<u32>, usize)> {
        let text = self.render_prompt(prompt)?;
        let enc = self
            .tokenizer
            .encode(text.as_str(), false)
            .map_err(|e| InferError::Tokenizer(e.to_string()))?;
        let ids = enc.get_ids();
        let image = self.cfg.image_token_id;
        let at: Vec<usize> = ids
            .iter()
            .enumerate()
            .filter(|(_, &t)| t == image)
            .map(|(i, _)| i)
            .collect();
        let [start] = at[..] else {
            return Err(InferError::Template(format!(
                "the rendered prompt has {} image placeholders, expected 1",
                at.len()
            )));
        };
        let mut out = Vec::with_capacity(ids.len() + image_tokens);
        out.extend_from_slice(&ids[..start]);
        out.extend(std::iter::repeat_n(image, image_tokens));
        out.extend_from_slice(&ids[start + 1..]);
        Ok((out, start))
    }

    /// The logits after the text `ids` (no image), from an empty cache:
    /// for comparisons with other implementations.
    pub fn text_only_logits(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        self.text.clear_cache();
        let (positions, _) = prompt_positions(ids.len(), ids.len(), 0, 0);
        let embeds = self.text.embed(ids)?;
        let logits = self
            .text
            .forward(embeds, &positions, None, &CancelToken::new());
        self.text.clear_cache();
        Ok(logits?.to_vec1::<f32>()?)
    }

    /// The logits after `ids`, whose image tokens start at `image_start`,
    /// with the image given as preprocessed `patches` of a `grid_h ×
    /// grid_w` grid: for comparisons with other implementations.
    pub fn image_prompt_logits(
        &mut self,
        patches: &Tensor,
        grid_h: usize,
        grid_w: usize,
        ids: &[u32],
        image_start: usize,
    ) -> Result<Vec<f32>> {
        let m = self.processor.merge_size;
        let (rows, cols) = (grid_h / m, grid_w / m);
        let never = CancelToken::new();
        let (image, deepstack) = self.vision.forward(patches, grid_h, grid_w, &never)?;
        self.text.clear_cache();
        let embeds = replace_span(&self.text.embed(ids)?, image_start, &image)?;
        let (positions, _) = prompt_positions(ids.len(), image_start, rows, cols);
        let visual = VisualSpan {
            start: image_start,
            len: rows * cols,
            deepstack: &deepstack,
        };
        let logits = self.text.forward(embeds, &positions, Some(visual), &never);
        self.text.clear_cache();
        Ok(logits?.to_vec1::<f32>()?)
    }

    fn new_constraint(&mut self, schema: &serde_json::Value) -> Result<JsonConstraint> {
        if self.constraints.is_none() {
            let json: serde_json::Value = read_json(&self.dir.tokenizer)?;
            let vocab = self.text.vocab_size()?;
            self.constraints = Some(ConstraintFactory::from_tokenizer_json(
                &json,
                self.end_of_turn,
                vocab,
            )?);
        }
        self.constraints
            .as_ref()
            .ok_or_else(|| InferError::Backend("constraint factory missing".into()))?
            .json(schema)
    }

    fn answer(
        &mut self,
        image: &DynamicImage,
        prompt: &str,
        params: &GenerationParams,
        cancel: &CancelToken,
    ) -> Result<VisionAnswer> {
        let start = Instant::now();
        let mut t = VisionTimings::default();
        if cancel.is_cancelled() {
            return Err(InferError::Cancelled);
        }
        let (patches, gh, gw) = self.processor.patches(image)?;
        let m = self.processor.merge_size;
        let (rows, cols) = (gh / m, gw / m);
        let image_tokens = rows * cols;
        let image_size = (
            (gw * self.processor.patch_size) as u32,
            (gh * self.processor.patch_size) as u32,
        );
        let (ids, image_start) = self.prompt_ids(prompt, image_tokens)?;
        let limit = self.cfg.text_config.max_position_embeddings;
        let (positions, mut next_pos) = prompt_positions(ids.len(), image_start, rows, cols);
        if next_pos as usize >= limit {
            return Err(InferError::PromptTooLong {
                id: self.id.clone(),
                tokens: ids.len(),
                limit,
            });
        }
        let row_len = patches.len() / (gh * gw).max(1);
        let patches = Tensor::from_vec(patches, (gh * gw, row_len), &self.device)?;
        t.preprocess = start.elapsed();

        let mark = Instant::now();
        let (image_embeds, deepstack) = self.vision.forward(&patches, gh, gw, cancel)?;
        t.vision = mark.elapsed();

        let mark = Instant::now();
        self.text.clear_cache();
        let embeds = replace_span(&self.text.embed(&ids)?, image_start, &image_embeds)?;
        let mut logits = self.text.forward(
            embeds,
            &positions,
            Some(VisualSpan {
                start: image_start,
                len: image_tokens,
                deepstack: &deepstack,
            }),
            cancel,
        )?;
        t.prompt = mark.elapsed();

        let mark = Instant::now();
        let mut constraint = match &params.json_schema {
            Some(schema) => {
                let c = Instant::now();
                let made = self.new_constraint(schema)?;
                t.constraint += c.elapsed();
                Some(made)
            }
            None => None,
        };
        let mut sampler = sampler(params);
        let mut generated: Vec<u32> = Vec::new();
        let mut stop = StopReason::MaxTokens;
        for step in 0..params.max_tokens {
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            if step > 0 {
                if next_pos as usize >= limit {
                    stop = StopReason::ContextFull;
                    break;
                }
                let last = generated[generated.len() - 1];
                let x = self.text.embed(&[last])?;
                logits = self.text.forward(x, &[[next_pos; 3]], None, cancel)?;
                next_pos += 1;
            }
            let choice = choose_next(
                logits.clone(),
                &generated,
                params,
                constraint.as_mut(),
                &[],
                &mut sampler,
                &mut t.constraint,
            )?;
            if self.stop_ids.contains(&choice) {
                stop = StopReason::EndOfTurn;
                break;
            }
            accept_token(constraint.as_mut(), choice, &mut t.constraint)?;
            generated.push(choice);
            if constraint.as_ref().is_some_and(JsonConstraint::is_done) {
                stop = StopReason::EndOfTurn;
                break;
            }
        }
        t.generate = mark.elapsed();
        let text = self
            .tokenizer
            .decode(&generated, true)
            .map_err(|e| InferError::Tokenizer(e.to_string()))?;
        t.total = start.elapsed();
        Ok(VisionAnswer {
            text,
            prompt_tokens: ids.len(),
            image_tokens,
            image_size,
            tokens: generated,
            stop,
            timings: t,
        })
    }
}

impl VisionModel for Qwen3VlModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(
        &mut self,
        image: &DynamicImage,
        prompt: &str,
        params: &GenerationParams,
        cancel: &CancelToken,
    ) -> Result<VisionAnswer> {
        let answer = self.answer(image, prompt, params, cancel);
        // Whatever happened (cancelled mid-prefill included), the next
        // request starts from an empty cache.
        self.text.clear_cache();
        answer
    }
}

/// Render a Transformers chat template for one user turn holding an image
/// and then the text, the way the model's processor calls it.
fn render_template(src: &str, prompt: &str) -> Result<String> {
    let mut env = crate::chat::jinja_env();
    env.add_template("chat", src)
        .map_err(|e| InferError::Template(e.to_string()))?;
    let tmpl = env
        .get_template("chat")
        .map_err(|e| InferError::Template(e.to_string()))?;
    let messages = serde_json::json!([{
        "role": "user",
        "content": [{"type": "image"}, {"type": "text", "text": prompt}],
    }]);
    tmpl.render(minijinja::context! {
        messages => messages,
        add_generation_prompt => true,
    })
    .map_err(|e| InferError::Template(e.to_string()))
}
