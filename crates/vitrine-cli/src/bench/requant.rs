//! Re-quantized copies of a model for the bench (`--requantize q8_0`),
//! written once into the cache and reused while the source is unchanged.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::commands::cache_dir;

/// The path of `src` re-quantized to `format`, writing it when missing or
/// older than `src`.
pub fn requantized(src: &Path, id: &str, format: &str) -> Result<PathBuf> {
    let dir = cache_dir().join("bench").join("requantized");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dst = dir.join(format!("{id}-{}.gguf", format.to_ascii_lowercase()));
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    if let (Some(d), Some(s)) = (modified(&dst), modified(src)) {
        if d >= s {
            return Ok(dst);
        }
    }
    eprintln!("re-quantizing {id} to {format} (once): {}", dst.display());
    vitrine_infer::requant::requantize(src, &dst, format)
        .with_context(|| format!("re-quantizing {id} to {format}"))?;
    Ok(dst)
}
