//! The built-in photo classifier: EfficientNet-Lite0 from `vitrine-infer`
//! behind [`ImageClassifier`], loaded from the models dir when installed.

use std::path::PathBuf;

use image::DynamicImage;
use vitrine_infer::vision::ImagenetClassifier;
use vitrine_infer::{Manifest, ModelSpec, ModelStore, Role};

use crate::analysis::ImageClassifier;
use crate::error::Result;

/// The manifest's classifier: the vision model with this architecture.
pub const ARCHITECTURE: &str = "efficientnet-lite0";

pub struct LiteClassifier {
    id: String,
    model: ImagenetClassifier,
}

impl ImageClassifier for LiteClassifier {
    fn id(&self) -> &str {
        &self.id
    }

    fn probabilities(&self, img: &DynamicImage) -> Result<Vec<f32>> {
        Ok(self.model.probabilities(img)?)
    }
}

/// The classifier's manifest entry.
pub fn spec(manifest: &Manifest) -> Option<&ModelSpec> {
    manifest
        .models
        .iter()
        .find(|m| m.role == Role::Vision && m.architecture == ARCHITECTURE)
}

/// The converted weights of an installed classifier (converting the
/// checkpoint now if that never happened, e.g. a file installed by hand).
pub fn weights(spec: &ModelSpec, models: &ModelStore) -> Result<Option<PathBuf>> {
    if !models.is_installed(spec) {
        return Ok(None);
    }
    Ok(Some(vitrine_infer::vision::ensure_converted(spec, models)?))
}

/// Load the installed classifier; `None` when it is not installed.
pub fn load(manifest: &Manifest, models: &ModelStore) -> Result<Option<LiteClassifier>> {
    let Some(spec) = spec(manifest) else {
        return Ok(None);
    };
    let Some(path) = weights(spec, models)? else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let model = ImagenetClassifier::load_cpu(&path)?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "photo classifier loaded"
    );
    Ok(Some(LiteClassifier {
        id: spec.id.clone(),
        model,
    }))
}
