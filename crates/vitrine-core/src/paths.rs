//! Where Vitrine keeps its files: the data dir (database, photo copies,
//! thumbnails) and the models dir (weights, which are large and shared).

use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};

pub const DATA_DIR_ENV: &str = "VITRINE_DATA_DIR";
pub const MODELS_DIR_ENV: &str = "VITRINE_MODELS_DIR";

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    models: PathBuf,
}

impl DataDir {
    /// Resolve the data dir: explicit override, then `VITRINE_DATA_DIR`, then
    /// the platform's data directory. The models dir is `VITRINE_MODELS_DIR`
    /// when set, else `<data dir>/models`.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self> {
        let root = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
                Some(v) => PathBuf::from(v),
                None => default_data_dir()?,
            },
        };
        let models = match std::env::var_os(MODELS_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => root.join("models"),
        };
        Ok(Self { root, models })
    }

    pub fn with_models_dir(mut self, models: PathBuf) -> Self {
        self.models = models;
        self
    }

    /// Create the directories if needed.
    pub fn ensure(&self) -> Result<()> {
        for dir in [
            self.root.clone(),
            self.photos_dir(),
            self.thumbs_dir(),
            self.cutouts_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|source| CoreError::Io { path: dir, source })?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn db_path(&self) -> PathBuf {
        self.root.join("vitrine.db")
    }
    pub fn photos_dir(&self) -> PathBuf {
        self.root.join("photos")
    }
    pub fn thumbs_dir(&self) -> PathBuf {
        self.root.join("thumbs")
    }
    /// Products cut out of their photos (PNG with alpha).
    pub fn cutouts_dir(&self) -> PathBuf {
        self.root.join("cutouts")
    }
    pub fn models_dir(&self) -> &Path {
        &self.models
    }
}

/// The platform's per-user data directory for Vitrine (e.g. `~/.local/share/vitrine`).
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "vitrine")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            CoreError::InvalidInput(
                "cannot determine the home directory; set VITRINE_DATA_DIR".into(),
            )
        })
}
