//! Running a batch: a pool of tokio workers claiming items from the store.
//!
//! One process runs a batch at a time (an OS lock on a file in the data
//! dir). Pause and cancel are the batch's status in the store, so they work
//! from any process — the CLI's `batch pause`, Ctrl-C, the app: the runner
//! polls the status, stops claiming, and interrupts the generations in
//! flight, whose items go back to `pending`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use vitrine_infer::{CancelToken, InferError};

use super::jobs::item_output;
use super::{Batch, BatchItem, BatchStatus, Counts, Output};
use crate::error::{CoreError, Result};
use crate::script::ScriptRequest;
use crate::studio::{ListingRequest, Studio};

/// How often the runner looks for a pause or cancel from elsewhere.
const CONTROL_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run failed items again.
    pub retry_failed: bool,
    /// Override the batch's concurrency for this run.
    pub concurrency: Option<usize>,
}

/// What a run reports as it goes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BatchEvent {
    Started {
        batch_id: i64,
        counts: Counts,
        concurrency: usize,
    },
    ItemStarted {
        item_id: i64,
        product_id: i64,
        kind: String,
        lang: String,
    },
    ItemDone {
        item_id: i64,
        product_id: i64,
        draft_id: i64,
        ms: u64,
    },
    ItemFailed {
        item_id: i64,
        product_id: i64,
        error: String,
    },
    ItemSkipped {
        item_id: i64,
        product_id: i64,
        reason: String,
    },
    /// After every item: where the batch stands and, once an item of this
    /// run has finished, the estimated time left.
    Progress {
        counts: Counts,
        eta_secs: Option<f64>,
    },
}

/// The end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub batch: Batch,
    /// Items this run finished, by outcome.
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    pub elapsed_ms: u64,
    /// Items per minute over this run.
    pub items_per_minute: f64,
    /// The job system's own time per item (claiming, bookkeeping, events),
    /// outside the pipelines.
    pub overhead_us_mean: Option<f64>,
    pub overhead_us_median: Option<f64>,
    /// Every failed item of the batch, with its error.
    pub failures: Vec<BatchItem>,
}

pub type EventSink = Arc<dyn Fn(BatchEvent) + Send + Sync>;

/// An item's outcome other than an error.
enum Outcome {
    Draft(i64),
    Skipped(String),
}

/// What made the run stop before the batch was done.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    Paused,
    Cancelled,
    /// An error no item can get past (a full disk, no model): the batch is
    /// paused with it.
    Fatal(String),
}

struct Shared {
    studio: Studio,
    batch: Batch,
    cancel: CancelToken,
    stop: Mutex<Option<Stop>>,
    finished: AtomicBool,
    on_event: EventSink,
    started: Instant,
    /// (items finished this run, overheads in µs)
    tally: Mutex<Tally>,
}

#[derive(Default)]
struct Tally {
    done: u64,
    failed: u64,
    skipped: u64,
    overheads: Vec<u64>,
}

impl Shared {
    fn stop_with(&self, stop: Stop) {
        if let Ok(mut s) = self.stop.lock() {
            // The first reason wins: a fatal error is not hidden by the
            // pause it causes.
            s.get_or_insert(stop);
        }
        self.cancel.cancel();
    }
    fn stopped(&self) -> Option<Stop> {
        self.stop.lock().ok().and_then(|s| s.clone())
    }
}

/// Held while a process runs a batch; the OS releases it when the process
/// dies, however it dies.
struct BatchLock {
    _file: File,
}

impl BatchLock {
    fn acquire(dir: &Path, batch_id: i64) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| CoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path: PathBuf = dir.join(format!("batch-{batch_id}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| CoreError::Io {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(CoreError::InvalidInput(format!(
                "batch {batch_id} is being run by another Vitrine process; \
                 `vitrine batch pause {batch_id}` stops it"
            ))),
            Err(std::fs::TryLockError::Error(source)) => Err(CoreError::Io { path, source }),
        }
    }
}

impl Studio {
    /// Run (or resume) a batch until it is done, paused or cancelled.
    pub async fn run_batch(
        &self,
        batch_id: i64,
        opts: RunOptions,
        on_event: EventSink,
    ) -> Result<BatchReport> {
        let _lock = BatchLock::acquire(&self.dirs().root().join("locks"), batch_id)?;
        let db_lock = self.store().lock_batch(batch_id).await?;
        let result = self.run_locked_batch(batch_id, opts, on_event).await;
        // Let go before returning, so an immediate resume is not refused
        // while the server has yet to notice a dropped connection.
        db_lock.release().await;
        result
    }

    async fn run_locked_batch(
        &self,
        batch_id: i64,
        opts: RunOptions,
        on_event: EventSink,
    ) -> Result<BatchReport> {
        let store = self.store();
        let batch = store.batch(batch_id).await?;
        if batch.status == BatchStatus::Cancelled {
            return Err(CoreError::InvalidInput(format!(
                "batch {batch_id} was cancelled; start a new batch for what is left"
            )));
        }
        // Whatever a dead runner left is made runnable first.
        store.recover_batch(batch_id, opts.retry_failed).await?;
        store
            .set_batch_status(batch_id, BatchStatus::Running, None)
            .await?;
        let concurrency = opts
            .concurrency
            .unwrap_or(batch.spec.concurrency)
            .clamp(1, 64);
        let shared = Arc::new(Shared {
            studio: self.clone(),
            batch,
            cancel: CancelToken::new(),
            stop: Mutex::new(None),
            finished: AtomicBool::new(false),
            on_event,
            started: Instant::now(),
            tally: Mutex::new(Tally::default()),
        });
        (shared.on_event)(BatchEvent::Started {
            batch_id,
            counts: store.batch_counts(batch_id).await?,
            concurrency,
        });
        tracing::info!(batch = batch_id, concurrency, "batch run starts");

        let watcher = tokio::spawn(watch_control(Arc::clone(&shared)));
        let mut workers = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            workers.push(tokio::spawn(worker(Arc::clone(&shared))));
        }
        for w in workers {
            if let Err(e) = w.await {
                shared.stop_with(Stop::Fatal(format!("a batch worker failed: {e}")));
            }
        }
        shared.finished.store(true, Ordering::SeqCst);
        watcher.abort();

        let counts = store.batch_counts(batch_id).await;
        match shared.stopped() {
            Some(Stop::Fatal(reason)) => {
                // On a full disk this write may fail as well; the batch then
                // stays `running`, which the next run recovers the same way.
                if let Err(e) = store
                    .set_batch_status(batch_id, BatchStatus::Paused, Some(&reason))
                    .await
                {
                    tracing::warn!(batch = batch_id, error = %e, "cannot record why the batch stopped");
                }
                return Err(CoreError::BatchStopped {
                    id: batch_id,
                    reason,
                });
            }
            // Already in the store: whoever stopped it wrote it.
            Some(Stop::Cancelled) | Some(Stop::Paused) => {}
            None if counts
                .as_ref()
                .is_ok_and(|c| c.pending == 0 && c.running == 0) =>
            {
                store
                    .set_batch_status(batch_id, BatchStatus::Done, None)
                    .await?
            }
            None => {
                store
                    .set_batch_status(batch_id, BatchStatus::Paused, None)
                    .await?
            }
        }
        report(&shared).await
    }

    /// Ask a batch to pause (its runner stops within a moment; `resume`
    /// goes on from there).
    pub async fn pause_batch(&self, batch_id: i64) -> Result<Batch> {
        let batch = self.store().batch(batch_id).await?;
        match batch.status {
            BatchStatus::Done | BatchStatus::Cancelled => Err(CoreError::InvalidInput(format!(
                "batch {batch_id} is {}; there is nothing to pause",
                batch.status.as_str()
            ))),
            _ => {
                self.store()
                    .set_batch_status(batch_id, BatchStatus::Paused, None)
                    .await?;
                self.store().batch(batch_id).await
            }
        }
    }

    /// Cancel a batch for good: finished items keep their drafts, the
    /// rest are never generated.
    pub async fn cancel_batch(&self, batch_id: i64) -> Result<Batch> {
        let batch = self.store().batch(batch_id).await?;
        if batch.status == BatchStatus::Done {
            return Err(CoreError::InvalidInput(format!(
                "batch {batch_id} is done; there is nothing to cancel"
            )));
        }
        self.store()
            .set_batch_status(batch_id, BatchStatus::Cancelled, None)
            .await?;
        self.store().batch(batch_id).await
    }
}

async fn watch_control(shared: Arc<Shared>) {
    let id = shared.batch.id;
    while !shared.finished.load(Ordering::SeqCst) {
        tokio::time::sleep(CONTROL_POLL).await;
        match shared.studio.store().batch_status(id).await {
            Ok(BatchStatus::Paused) => shared.stop_with(Stop::Paused),
            Ok(BatchStatus::Cancelled) => shared.stop_with(Stop::Cancelled),
            Ok(_) => {}
            // A store that cannot be read will fail the workers too.
            Err(e) => tracing::warn!(batch = id, error = %e, "cannot read the batch's status"),
        }
    }
}

async fn worker(shared: Arc<Shared>) {
    let store = shared.studio.store().clone();
    let batch_id = shared.batch.id;
    while shared.stopped().is_none() {
        let t0 = Instant::now();
        let item = match store.claim_batch_item(batch_id).await {
            Ok(Some(item)) => item,
            Ok(None) => return,
            Err(e) => {
                shared.stop_with(Stop::Fatal(fatal_reason(&e)));
                return;
            }
        };
        (shared.on_event)(BatchEvent::ItemStarted {
            item_id: item.id,
            product_id: item.product_id,
            kind: item.kind.clone(),
            lang: item.lang.clone(),
        });
        let t1 = Instant::now();
        let result = run_item(&shared, &item).await;
        let t2 = Instant::now();
        let gen_ms = (t2 - t1).as_millis() as u64;
        let recorded = record(&shared, &item, result, gen_ms).await;
        if let Err(e) = recorded {
            shared.stop_with(Stop::Fatal(fatal_reason(&e)));
            return;
        }
        let overhead = (t1 - t0) + t2.elapsed();
        let overhead_us = overhead.as_micros() as u64;
        if let Ok(mut t) = shared.tally.lock() {
            t.overheads.push(overhead_us);
        }
        // Timing is for reports: losing it must not stop the batch.
        if let Err(e) = store
            .time_batch_item(item.id, gen_ms as i64, overhead_us as i64)
            .await
        {
            tracing::warn!(item = item.id, error = %e, "cannot record the item's timing");
        }
    }
}

/// Store an item's outcome and tell the caller.
async fn record(
    shared: &Shared,
    item: &BatchItem,
    result: Result<Outcome>,
    gen_ms: u64,
) -> Result<()> {
    let store = shared.studio.store();
    let emit = &shared.on_event;
    // Already generated, by a run whose bookkeeping was cut short: the
    // item is done by the draft it has.
    let result = match result {
        Err(CoreError::Duplicate(reason)) => match store.draft_of_batch_item(item.id).await? {
            Some(draft_id) => {
                store.adopt_batch_draft(item.id, draft_id).await?;
                Ok(Outcome::Draft(draft_id))
            }
            None => Err(CoreError::Task(reason)),
        },
        other => other,
    };
    match result {
        Ok(Outcome::Draft(draft_id)) => {
            bump(shared, |t| t.done += 1);
            emit(BatchEvent::ItemDone {
                item_id: item.id,
                product_id: item.product_id,
                draft_id,
                ms: gen_ms,
            });
        }
        Ok(Outcome::Skipped(reason)) => {
            store
                .end_batch_item(item.id, "skipped", Some(&reason))
                .await?;
            bump(shared, |t| t.skipped += 1);
            emit(BatchEvent::ItemSkipped {
                item_id: item.id,
                product_id: item.product_id,
                reason,
            });
        }
        Err(e) if shared.stopped().is_some() && is_interruption(&e) => {
            // Interrupted by the stop: it runs again on resume.
            store.end_batch_item(item.id, "pending", None).await?;
        }
        Err(e) if is_fatal(&e) => {
            tracing::error!(item = item.id, error = %e, "batch stops");
            shared.stop_with(Stop::Fatal(fatal_reason(&e)));
            // On a full disk this may fail too; the next run's recovery
            // puts a `running` item back to `pending` anyway.
            if let Err(e) = store.end_batch_item(item.id, "pending", None).await {
                tracing::warn!(item = item.id, error = %e, "cannot release the item");
            }
            return Ok(());
        }
        Err(e) => {
            let error = e.to_string();
            tracing::warn!(item = item.id, product = item.product_id, %error, "batch item failed");
            store
                .end_batch_item(item.id, "failed", Some(&error))
                .await?;
            bump(shared, |t| t.failed += 1);
            emit(BatchEvent::ItemFailed {
                item_id: item.id,
                product_id: item.product_id,
                error,
            });
        }
    }
    let counts = store.batch_counts(item.batch_id).await?;
    emit(BatchEvent::Progress {
        counts,
        eta_secs: eta(shared, &counts),
    });
    Ok(())
}

fn bump(shared: &Shared, f: impl FnOnce(&mut Tally)) {
    if let Ok(mut t) = shared.tally.lock() {
        f(&mut t);
    }
}

/// Time left at this run's pace so far.
fn eta(shared: &Shared, counts: &Counts) -> Option<f64> {
    let finished = shared
        .tally
        .lock()
        .ok()
        .map(|t| t.done + t.failed + t.skipped)?;
    if finished == 0 {
        return None;
    }
    let per_item = shared.started.elapsed().as_secs_f64() / finished as f64;
    Some(per_item * (counts.pending + counts.running) as f64)
}

/// Generate one item through the pipeline of its kind.
async fn run_item(shared: &Shared, item: &BatchItem) -> Result<Outcome> {
    let spec = &shared.batch.spec;
    let studio = &shared.studio;
    let cancel = shared.cancel.clone();
    let draft = match item_output(item)? {
        Output::Listing => {
            studio
                .generate_listing(
                    ListingRequest {
                        product_id: item.product_id,
                        lang: item.lang.clone(),
                        marketplace: spec.marketplace.clone(),
                        model: spec.model.clone(),
                        params: None,
                        use_cache: spec.use_cache,
                        brand: spec.brand.clone(),
                        batch_item: Some(item.id),
                    },
                    Box::new(|_| {}),
                    cancel,
                )
                .await?
        }
        Output::Script => {
            studio
                .generate_script(
                    ScriptRequest {
                        product_ids: vec![item.product_id],
                        lang: item.lang.clone(),
                        minutes: spec.script_minutes,
                        offer: None,
                        brand: spec.brand.clone(),
                        model: spec.model.clone(),
                        params: None,
                        use_cache: spec.use_cache,
                        batch_item: Some(item.id),
                    },
                    Box::new(|_| {}),
                    cancel,
                )
                .await?
        }
        Output::Reviews => {
            let Some(file) = reviews_file(studio, spec.reviews_dir.as_deref(), item).await? else {
                return Ok(Outcome::Skipped(
                    "no reviews file for this product in the reviews folder".into(),
                ));
            };
            let summary = studio
                .summarize_reviews(
                    &file,
                    crate::reviews::summarize::SummaryRequest {
                        product_id: Some(item.product_id),
                        lang: item.lang.clone(),
                        model: spec.model.clone(),
                        params: None,
                        use_cache: spec.use_cache,
                        batch_item: Some(item.id),
                    },
                    Box::new(|_| {}),
                    cancel,
                )
                .await?;
            return summary
                .draft_id
                .map(Outcome::Draft)
                .ok_or_else(|| CoreError::Task("the review summary stored no draft".into()));
        }
    };
    Ok(Outcome::Draft(draft.id))
}

/// `<dir>/<handle>.<ext>`, else `<dir>/<product id>.<ext>`.
async fn reviews_file(
    studio: &Studio,
    dir: Option<&Path>,
    item: &BatchItem,
) -> Result<Option<PathBuf>> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let handle = studio.store().product_handle(item.product_id).await?;
    let stems = handle
        .into_iter()
        .filter(|h| super::is_safe_file_stem(h))
        .chain(std::iter::once(item.product_id.to_string()));
    for stem in stems {
        for ext in ["csv", "json", "jsonl", "txt"] {
            let path = dir.join(format!("{stem}.{ext}"));
            if path.is_file() {
                return Ok(Some(path));
            }
        }
    }
    Ok(None)
}

/// A generation stopped by the run's stop.
fn is_interruption(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Cancelled | CoreError::Infer(InferError::Cancelled)
    )
}

/// Errors every following item would hit too: stop the batch (paused, with
/// the reason) instead of failing each item.
fn is_fatal(e: &CoreError) -> bool {
    match e {
        CoreError::Database(_) | CoreError::Migration(_) => true,
        CoreError::Io { source, .. } => matches!(
            source.kind(),
            std::io::ErrorKind::StorageFull
                | std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::ReadOnlyFilesystem
        ),
        CoreError::NoModelInstalled | CoreError::ModelNotInstalled { .. } => true,
        CoreError::Infer(i) => matches!(
            i,
            InferError::NotInstalled { .. }
                | InferError::ChecksumMismatch { .. }
                | InferError::BadModelFile { .. }
                | InferError::Device(_)
                | InferError::Remote { .. }
        ),
        _ => false,
    }
}

/// A fatal error as the user can act on it.
fn fatal_reason(e: &CoreError) -> String {
    let disk = match e {
        CoreError::Database(sqlx::Error::Database(d)) => {
            if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // SQLSTATE class 53, insufficient resources: disk_full,
                // out_of_memory, too_many_connections.
                d.code().is_some_and(|c| c.starts_with("53"))
            } else {
                // SQLITE_FULL, and SQLITE_IOERR with its extended codes (a
                // write refused by the file system).
                d.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(|c| c == 13 || c & 0xff == 10)
            }
        }
        CoreError::Io { source, .. } => source.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    };
    if disk {
        format!("the disk is full or cannot be written ({e})")
    } else {
        e.to_string()
    }
}

async fn report(shared: &Shared) -> Result<BatchReport> {
    let store = shared.studio.store();
    let batch = store.batch(shared.batch.id).await?;
    let failures = store.batch_items(shared.batch.id, Some("failed")).await?;
    let elapsed = shared.started.elapsed();
    let (done, failed, skipped, mut overheads) = match shared.tally.lock() {
        Ok(t) => (t.done, t.failed, t.skipped, t.overheads.clone()),
        Err(_) => (0, 0, 0, Vec::new()),
    };
    overheads.sort_unstable();
    let mean = (!overheads.is_empty())
        .then(|| overheads.iter().sum::<u64>() as f64 / overheads.len() as f64);
    let median = (!overheads.is_empty()).then(|| {
        let n = overheads.len();
        if n % 2 == 1 {
            overheads[n / 2] as f64
        } else {
            (overheads[n / 2 - 1] + overheads[n / 2]) as f64 / 2.0
        }
    });
    let finished = done + failed + skipped;
    Ok(BatchReport {
        batch,
        done,
        failed,
        skipped,
        elapsed_ms: elapsed.as_millis() as u64,
        items_per_minute: if elapsed.as_secs_f64() > 0.0 {
            finished as f64 * 60.0 / elapsed.as_secs_f64()
        } else {
            0.0
        },
        overhead_us_mean: mean,
        overhead_us_median: median,
        failures,
    })
}
