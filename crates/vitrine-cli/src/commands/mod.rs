pub mod analyze;
pub mod audit;
pub mod batch;
pub mod brand;
pub mod cache;
pub mod check;
pub mod drafts;
pub mod eval;
pub mod eval_copy;
pub mod export;
pub mod kg;
pub mod listing;
pub mod models;
pub mod products;
pub mod profiles;
pub mod review;
pub mod reviews;
pub mod route;
pub mod samples;
pub mod script;
pub mod serve;
pub mod tokens;
pub mod tryon;

use std::path::PathBuf;

use anyhow::{bail, Result};
use vitrine_core::studio::Backend;
use vitrine_core::{DataDir, Studio};
use vitrine_infer::{DevicePref, RemoteConfig};

/// Global options every command shares.
pub struct Context {
    pub data_dir: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    pub device: Option<String>,
    pub remote_url: Option<String>,
    pub remote_model: Option<String>,
    /// The profile to act as in the review workflow (`--as`,
    /// `VITRINE_PROFILE`).
    pub profile: Option<String>,
}

impl Context {
    pub fn dirs(&self) -> Result<DataDir> {
        let dirs = DataDir::resolve(self.data_dir.as_deref())?;
        Ok(match &self.models_dir {
            Some(m) => dirs.with_models_dir(m.clone()),
            None => dirs,
        })
    }

    /// The device preference: `--device`, else `VITRINE_DEVICE`, else auto.
    pub fn device_pref(&self) -> Result<DevicePref> {
        Ok(match &self.device {
            Some(d) => d.parse()?,
            None => DevicePref::from_env()?,
        })
    }

    /// Local models, or the remote server of `--remote-url` and
    /// `--remote-model` (API key from `VITRINE_REMOTE_API_KEY`, kept off
    /// the command line where other users could read it).
    pub fn backend(&self) -> Result<Backend> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Ok(
            match (nonempty(&self.remote_url), nonempty(&self.remote_model)) {
                (None, None) => Backend::Local,
                (Some(url), Some(model)) => {
                    let mut config = RemoteConfig::new(url, model);
                    config.api_key = std::env::var("VITRINE_REMOTE_API_KEY")
                        .ok()
                        .filter(|k| !k.is_empty());
                    Backend::Remote(config)
                }
                (Some(_), None) => {
                    bail!("--remote-url needs --remote-model (or VITRINE_REMOTE_MODEL)")
                }
                (None, Some(_)) => {
                    bail!("--remote-model needs --remote-url (or VITRINE_REMOTE_URL)")
                }
            },
        )
    }

    /// The acting profile: `--as`/`VITRINE_PROFILE`, else the OS user's
    /// (created as admin on a store with no profile yet).
    pub async fn actor(
        &self,
        store: &vitrine_core::Store,
    ) -> Result<vitrine_core::review::Profile> {
        Ok(vitrine_core::review::acting_profile(store, self.profile.as_deref()).await?)
    }

    pub async fn studio(&self) -> Result<Studio> {
        Ok(Studio::open(self.dirs()?)
            .await?
            .with_device(self.device_pref()?)
            .with_backend(self.backend()?))
    }
}

/// Where downloads (wheels, the bench's venv) are kept between runs:
/// `VITRINE_CACHE_DIR`, else the platform's cache dir.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("VITRINE_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.cache_dir().to_path_buf())
        })
        .unwrap_or_else(|| std::env::temp_dir().join("vitrine-cache"))
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
