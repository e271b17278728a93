//! Photo understanding models. The built-in one is an EfficientNet-Lite0
//! ImageNet classifier whose weights ship as a legacy PyTorch checkpoint;
//! [`torch_legacy`] converts that to safetensors once, at fetch time, and
//! [`efficientnet_lite`] runs it with candle. Vision-language models
//! (Qwen3-VL) answer questions about a photo through [`vlm::VisionModel`].
//! [`ocr`] reads the text on labels and packaging with the PP-OCRv4 ONNX
//! models through candle-onnx.

mod depthwise;
pub mod efficientnet_lite;
pub mod ocr;
pub mod onnx_lowering;
pub mod onnx_runner;
mod pickle_guard;
pub mod torch_legacy;
pub mod vlm;

pub use efficientnet_lite::{preprocess, EfficientNetLite0, INPUT_SIZE, NUM_CLASSES};
pub use ocr::{OcrLine, OcrModels};
pub use torch_legacy::{convert_pth_to_safetensors, read_legacy_pth};
pub use vlm::{VisionAnswer, VisionModel, VlmOptions, VlmSource};

use std::path::{Path, PathBuf};

use candle_core::{Device, D};
use image::DynamicImage;

use crate::error::{InferError, Result};
use crate::manifest::ModelSpec;
use crate::registry::ModelStore;

/// Whether a manifest model is a checkpoint converted at fetch time (the
/// EfficientNet-Lite0 classifier; other vision models are used as fetched).
pub fn converted_at_fetch(spec: &ModelSpec) -> bool {
    spec.role == crate::manifest::Role::Vision && spec.architecture == "efficientnet-lite0"
}

/// The converted weights' file name beside an installed checkpoint.
pub const CONVERTED_FILE: &str = "efficientnet-lite0.safetensors";

/// The safetensors file the classifier loads, converted from the installed
/// checkpoint now if it is missing or older than the checkpoint. `fetch`
/// calls this right after installing, so users normally never wait on it.
pub fn ensure_converted(spec: &ModelSpec, store: &ModelStore) -> Result<PathBuf> {
    let src = store.path_for(spec);
    let dst = store.dir().join(CONVERTED_FILE);
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&dst), modified(&src)), (Some(d), Some(s)) if d >= s);
    if !fresh {
        let n = convert_pth_to_safetensors(&src, &dst)?;
        tracing::info!(tensors = n, path = %dst.display(), "classifier weights converted to safetensors");
    }
    Ok(dst)
}

/// EfficientNet-Lite0 as a photo → class-probabilities function.
pub struct ImagenetClassifier {
    model: EfficientNetLite0,
}

impl ImagenetClassifier {
    /// Load converted weights onto the CPU (one photo at a time is cheap
    /// there: tens of milliseconds; see docs/PERFORMANCE.md).
    pub fn load_cpu(path: &Path) -> Result<Self> {
        Ok(Self {
            model: EfficientNetLite0::load(path, &Device::Cpu)?,
        })
    }

    /// Softmax probabilities of the 1000 ImageNet classes.
    pub fn probabilities(&self, img: &DynamicImage) -> Result<Vec<f32>> {
        let x = preprocess(img)?;
        let logits = self.model.forward(&x)?;
        let p = candle_nn::ops::softmax(&logits, D::Minus1)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        if p.len() != NUM_CLASSES {
            return Err(InferError::Backend(format!(
                "classifier returned {} classes, expected {NUM_CLASSES}",
                p.len()
            )));
        }
        Ok(p)
    }
}
