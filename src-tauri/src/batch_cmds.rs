//! Batches from the Batch screen: import a catalogue (a CSV file or a
//! folder of photos) into a batch and run it in the background, reporting
//! through `batch://event`; pause, cancel and resume it. A run goes on
//! whatever screen the page shows; the store keeps every batch's state, so
//! a batch the app was running when it quit shows as interrupted and
//! resumable at the next start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};
use vitrine_core::batch::catalogue_import::ImportReport;
use vitrine_core::batch::runner::{BatchEvent, EventSink, RunOptions};
use vitrine_core::batch::{Batch, BatchItem, BatchSpec, BatchStatus, ImportError, Output};
use vitrine_core::catalogue::{self, SourceFormat};
use vitrine_core::studio::Backend;

use crate::error::IpcError;
use crate::state::Shell;

/// Progress of running batches: `{batchId, event}` with a core `BatchEvent`,
/// or the end of a run.
pub const BATCH_EVENT: &str = "batch://event";
/// Progress of a catalogue import: `{done, total}` products written.
pub const IMPORT_EVENT: &str = "batch://import";

type CmdResult<T> = Result<T, IpcError>;

#[derive(Debug, Clone, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum BatchEventPayload {
    /// A runner event as the core reports it.
    Run { batch_id: i64, event: BatchEvent },
    /// The run ended (done, paused, cancelled or stopped by an error).
    Ended {
        batch_id: i64,
        batch: Option<Box<Batch>>,
        error: Option<IpcError>,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportProgress {
    pub done: usize,
    pub total: usize,
}

/// A batch and whether this app is running it now: a batch the store calls
/// `running` that no runner of this app holds was interrupted (the app or
/// the CLI stopped while it ran) and can be resumed.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRow {
    #[serde(flatten)]
    pub batch: Batch,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchStarted {
    pub batch: BatchRow,
    pub import: ImportReport,
    /// The same catalogue with the same options had an unfinished batch,
    /// which goes on instead of a new one.
    pub resumed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchDetail {
    pub batch: BatchRow,
    pub failures: Vec<BatchItem>,
    pub import_errors: Vec<ImportError>,
}

/// What the page may ask for when it starts a batch.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchRequest {
    /// A catalogue CSV file or a folder of photos, as typed or dropped.
    pub source: PathBuf,
    pub outputs: Vec<String>,
    pub langs: Vec<String>,
    /// `shopify` for a Shopify CSV, else `generic`, when not given.
    pub marketplace: Option<String>,
    pub model: Option<String>,
    /// Minutes of each livestream script.
    pub minutes: Option<f64>,
    /// The folder of review files for the `reviews` output.
    pub reviews_dir: Option<PathBuf>,
}

fn canonical(path: &Path, what: &str) -> CmdResult<PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(IpcError::bad_request(format!("give the {what}'s path")));
    }
    if !path.is_absolute() {
        return Err(IpcError::bad_request(format!(
            "{}: give the {what}'s full path",
            path.display()
        )));
    }
    std::fs::canonicalize(path).map_err(|_| {
        IpcError::new(
            "missing_file",
            format!("{}: no such file or folder", path.display()),
        )
    })
}

/// Import a catalogue and start its batch in the background (or go on
/// with the unfinished batch of the same catalogue and options).
#[tauri::command]
pub async fn start_batch(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: BatchRequest,
) -> CmdResult<BatchStarted> {
    let studio = shell.studio().await?;
    let source = canonical(&request.source, "catalogue")?;
    let parse_path = source.clone();
    let parsed = tokio::task::spawn_blocking(move || catalogue::parse_file(&parse_path))
        .await
        .map_err(|e| IpcError::new("task", e.to_string()))?
        .map_err(vitrine_core::CoreError::from)?;
    let remote = matches!(studio.backend(), Backend::Remote(_));
    let reviews_dir = match &request.reviews_dir {
        Some(dir) if !dir.as_os_str().is_empty() => Some(canonical(dir, "reviews folder")?),
        _ => None,
    };
    let spec = BatchSpec {
        outputs: request
            .outputs
            .iter()
            .map(|o| Output::parse(o))
            .collect::<Result<_, _>>()?,
        langs: request.langs.iter().map(|l| l.trim().to_string()).collect(),
        marketplace: request
            .marketplace
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| {
                match parsed.format {
                    SourceFormat::Shopify => "shopify",
                    _ => "generic",
                }
                .to_string()
            }),
        brand: None,
        model: request.model.filter(|m| !m.is_empty()),
        concurrency: if remote { 4 } else { 1 },
        reviews_dir,
        script_minutes: request.minutes,
        use_cache: true,
    };
    spec.validate()?;
    if !remote {
        studio.check_models(spec.model.as_deref())?;
    }

    let progress_app = app.clone();
    let mut on_progress = move |done: usize, total: usize| {
        if let Err(err) = progress_app.emit(IMPORT_EVENT, ImportProgress { done, total }) {
            tracing::warn!(%err, "could not send import progress to the page");
        }
    };
    let import = studio
        .import_catalogue(&parsed, &source, &mut on_progress)
        .await?;
    if import.product_ids.is_empty() {
        let first: Vec<&str> = import
            .errors
            .iter()
            .take(3)
            .map(|e| e.message.as_str())
            .collect();
        return Err(IpcError::new(
            "invalid_catalogue",
            format!(
                "{}: no product could be imported ({} problem(s): {})",
                source.display(),
                import.errors.len(),
                first.join("; ")
            ),
        ));
    }
    let source_name = source.display().to_string();
    let store = studio.store();
    let (batch, resumed) = match store.open_batch_for(&source_name, &spec).await? {
        Some(b) => (b, true),
        None => (
            store
                .create_batch(&source_name, &spec, &import.product_ids, &import.errors)
                .await?,
            false,
        ),
    };
    tracing::info!(
        batch = batch.id,
        resumed,
        items = batch.counts.total,
        "batch from the app"
    );
    if batch.status != BatchStatus::Done && !shell.batch_active(batch.id) {
        spawn_run(&app, batch.id, RunOptions::default())?;
    }
    let batch = store.batch(batch.id).await?;
    Ok(BatchStarted {
        batch: row(&shell, batch),
        import,
        resumed,
    })
}

fn row(shell: &Shell, batch: Batch) -> BatchRow {
    let active = shell.batch_active(batch.id);
    BatchRow { batch, active }
}

/// Run a batch on the async runtime; its events go to every window.
fn spawn_run(app: &AppHandle, batch_id: i64, opts: RunOptions) -> CmdResult<()> {
    let shell = app.state::<Shell>();
    if !shell.claim_batch(batch_id) {
        return Err(IpcError::busy(format!(
            "batch {batch_id} is already running"
        )));
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let events = app.clone();
        let sink: EventSink = Arc::new(move |event: BatchEvent| {
            if let Err(err) = events.emit(BATCH_EVENT, BatchEventPayload::Run { batch_id, event }) {
                tracing::warn!(%err, "could not send a batch event to the page");
            }
        });
        let result = match shell.studio().await {
            Ok(studio) => studio
                .run_batch(batch_id, opts, sink)
                .await
                .map(|report| report.batch)
                .map_err(IpcError::from),
            Err(err) => Err(err),
        };
        shell.release_batch(batch_id);
        let payload = match result {
            Ok(batch) => {
                tracing::info!(
                    batch = batch_id,
                    status = batch.status.as_str(),
                    "batch run ended"
                );
                BatchEventPayload::Ended {
                    batch_id,
                    batch: Some(Box::new(batch)),
                    error: None,
                }
            }
            Err(err) => {
                tracing::warn!(
                    batch = batch_id,
                    code = err.code,
                    "batch run stopped: {err}"
                );
                BatchEventPayload::Ended {
                    batch_id,
                    batch: None,
                    error: Some(err),
                }
            }
        };
        if let Err(err) = app.emit(BATCH_EVENT, payload) {
            tracing::warn!(%err, "could not send the end of a batch to the page");
        }
    });
    Ok(())
}

/// All batches, newest first.
#[tauri::command]
pub async fn list_batches(shell: State<'_, Shell>) -> CmdResult<Vec<BatchRow>> {
    let batches = shell.studio().await?.store().batches().await?;
    Ok(batches.into_iter().map(|b| row(&shell, b)).collect())
}

/// One batch with its failed items and the catalogue rows not imported.
#[tauri::command]
pub async fn batch_detail(shell: State<'_, Shell>, id: i64) -> CmdResult<BatchDetail> {
    let studio = shell.studio().await?;
    let store = studio.store();
    let batch = store.batch(id).await?;
    Ok(BatchDetail {
        batch: row(&shell, batch),
        failures: store.batch_items(id, Some("failed")).await?,
        import_errors: store.batch_import_errors(id).await?,
    })
}

/// Pause: the runner stops within a moment, items in flight go back to the queue.
#[tauri::command]
pub async fn pause_batch(shell: State<'_, Shell>, id: i64) -> CmdResult<BatchRow> {
    let batch = shell.studio().await?.pause_batch(id).await?;
    Ok(row(&shell, batch))
}

/// Cancel for good: finished items keep their drafts.
#[tauri::command]
pub async fn cancel_batch(shell: State<'_, Shell>, id: i64) -> CmdResult<BatchRow> {
    let batch = shell.studio().await?.cancel_batch(id).await?;
    Ok(row(&shell, batch))
}

/// Go on with a paused or interrupted batch (failed items too when asked).
#[tauri::command]
pub async fn resume_batch(
    app: AppHandle,
    shell: State<'_, Shell>,
    id: i64,
    retry_failed: bool,
) -> CmdResult<BatchRow> {
    let studio = shell.studio().await?;
    let batch = studio.store().batch(id).await?;
    match batch.status {
        BatchStatus::Cancelled => {
            return Err(IpcError::new(
                "invalid_input",
                format!("batch {id} was cancelled; start a new batch for what is left"),
            ))
        }
        BatchStatus::Done if !retry_failed || batch.counts.failed == 0 => {
            return Err(IpcError::new(
                "invalid_input",
                format!("batch {id} is done; there is nothing to resume"),
            ))
        }
        _ => {}
    }
    spawn_run(
        &app,
        id,
        RunOptions {
            retry_failed,
            concurrency: None,
        },
    )?;
    Ok(row(&shell, studio.store().batch(id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_be_full_and_exist() {
        assert_eq!(
            canonical(Path::new(""), "catalogue").err().map(|e| e.code),
            Some("bad_request")
        );
        assert_eq!(
            canonical(Path::new("products.csv"), "catalogue")
                .err()
                .map(|e| e.code),
            Some("bad_request")
        );
        assert_eq!(
            canonical(Path::new("/no/such/vitrine/file.csv"), "catalogue")
                .err()
                .map(|e| e.code),
            Some("missing_file")
        );
        let tmp = tempfile::tempdir().expect("temp dir");
        let file = tmp.path().join("a.csv");
        std::fs::write(&file, "title\nTee\n").expect("write");
        let weird = tmp.path().join(".").join("a.csv");
        assert_eq!(
            canonical(&weird, "catalogue").ok(),
            std::fs::canonicalize(&file).ok()
        );
    }

    #[test]
    fn events_carry_the_batch_and_the_core_event() {
        let payload = BatchEventPayload::Run {
            batch_id: 7,
            event: BatchEvent::Progress {
                counts: Default::default(),
                eta_secs: Some(12.5),
            },
        };
        let json = serde_json::to_value(&payload).expect("serialises");
        assert_eq!(json["kind"], "run");
        assert_eq!(json["batchId"], 7);
        assert_eq!(json["event"]["type"], "progress");
        assert_eq!(json["event"]["eta_secs"], 12.5);
    }
}
