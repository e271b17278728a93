//! The models dir: which manifest models are installed, and where.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::manifest::{Manifest, ModelSpec};

/// Installed weights live at `<dir>/<spec.file>`.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

/// One manifest model as `vitrine models list` and the app show it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    pub id: String,
    pub name: String,
    pub role: String,
    pub architecture: String,
    pub licence: String,
    pub installed: bool,
    pub size_bytes: u64,
    pub path: Option<String>,
    pub default: bool,
}

impl ModelStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_for(&self, spec: &ModelSpec) -> PathBuf {
        self.dir.join(&spec.file)
    }

    /// Installed means present with the manifest's size. The sha256 was
    /// checked before the file was moved into place; re-hashing a gigabyte on
    /// every start would cost seconds, so `vitrine models verify` does that.
    pub fn is_installed(&self, spec: &ModelSpec) -> bool {
        std::fs::metadata(self.path_for(spec)).is_ok_and(|m| m.is_file() && m.len() == spec.size)
    }

    pub fn status(&self, manifest: &Manifest) -> Vec<ModelStatus> {
        let default_id = manifest.default_model().map(|m| m.id.clone());
        manifest
            .models
            .iter()
            .map(|spec| {
                let installed = self.is_installed(spec);
                ModelStatus {
                    id: spec.id.clone(),
                    name: spec.name.clone(),
                    role: spec.role.as_str().to_string(),
                    architecture: spec.architecture.clone(),
                    licence: spec.licence.clone(),
                    installed,
                    size_bytes: spec.size,
                    path: installed.then(|| self.path_for(spec).display().to_string()),
                    default: default_id.as_deref() == Some(spec.id.as_str()),
                }
            })
            .collect()
    }
}
