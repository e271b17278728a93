//! What every handler shares: the studio, the limits, the rate limiter and
//! the batches this server runs in the background.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::task::JoinHandle;
use vitrine_core::batch::runner::RunOptions;
use vitrine_core::Studio;

use crate::error::ApiError;
use crate::routes::tryon::TryOnRenderer;

/// Limits and timeouts; [`ServerConfig::default`] is what `vitrine serve`
/// uses unless told otherwise.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest upload (photo, review file, catalogue): 64 MiB, the photo
    /// ingest's own limit.
    pub max_upload_bytes: usize,
    /// Largest JSON body.
    pub max_json_bytes: usize,
    /// Requests per second per token (0: no limit), with bursts of
    /// `rate_burst`.
    pub rate_per_second: u32,
    pub rate_burst: u32,
    /// A client must send its request headers within this.
    pub header_timeout: Duration,
    /// A client must send the next piece of its body within this.
    pub body_timeout: Duration,
    /// On shutdown, how long running batches and open connections get.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 64 * 1024 * 1024,
            max_json_bytes: 1024 * 1024,
            rate_per_second: 20,
            rate_burst: 40,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    studio: Studio,
    config: ServerConfig,
    limiter: Option<DefaultKeyedRateLimiter<i64>>,
    batches: Mutex<HashMap<i64, JoinHandle<()>>>,
    shutting_down: AtomicBool,
    tryon: Arc<TryOnRenderer>,
}

impl AppState {
    pub fn new(studio: Studio, config: ServerConfig) -> Self {
        let limiter = NonZeroU32::new(config.rate_per_second).map(|rate| {
            let burst =
                NonZeroU32::new(config.rate_burst.max(config.rate_per_second)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            inner: Arc::new(Inner {
                studio,
                config,
                limiter,
                batches: Mutex::new(HashMap::new()),
                shutting_down: AtomicBool::new(false),
                tryon: Arc::new(TryOnRenderer::new()),
            }),
        }
    }

    pub fn studio(&self) -> &Studio {
        &self.inner.studio
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The try-on renderer, opened on the first preview asked for.
    pub fn tryon(&self) -> Arc<TryOnRenderer> {
        Arc::clone(&self.inner.tryon)
    }

    /// Count a request against a token's rate; the error says when to
    /// come back.
    pub fn check_rate(&self, token_id: i64) -> Result<(), ApiError> {
        let Some(limiter) = &self.inner.limiter else {
            return Ok(());
        };
        limiter.check_key(&token_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            let mut e = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "this token sent more than {} requests a second; retry in {} ms",
                    self.inner.config.rate_per_second,
                    wait.as_millis()
                ),
            );
            e.retry_after = Some(wait.as_secs().max(1));
            e
        })
    }

    pub fn shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Run (or resume) a batch in the background. One run per batch: the
    /// core's lock file also keeps other processes off it.
    pub fn spawn_batch(&self, id: i64, opts: RunOptions) -> Result<(), ApiError> {
        if self.shutting_down() {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is shutting down; resume the batch after it restarts",
            ));
        }
        let mut batches = self.inner.batches.lock().map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "task",
                "batch registry poisoned",
            )
        })?;
        if batches.get(&id).is_some_and(|h| !h.is_finished()) {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "batch_running",
                format!("batch {id} is running already; pause it first"),
            ));
        }
        let studio = self.inner.studio.clone();
        let handle = tokio::spawn(async move {
            match studio.run_batch(id, opts, Arc::new(|_| {})).await {
                Ok(report) => tracing::info!(
                    batch = id,
                    status = report.batch.status.as_str(),
                    done = report.done,
                    failed = report.failed,
                    "batch run ended"
                ),
                Err(e) => tracing::warn!(batch = id, error = %e, "batch run stopped"),
            }
        });
        batches.insert(id, handle);
        Ok(())
    }

    /// Pause every batch this server runs, so each checkpoints (its items
    /// in flight go back to the queue), and wait for the runners to end.
    pub async fn pause_batches(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let running: Vec<(i64, JoinHandle<()>)> = match self.inner.batches.lock() {
            Ok(mut b) => b.drain().filter(|(_, h)| !h.is_finished()).collect(),
            Err(_) => Vec::new(),
        };
        for (id, _) in &running {
            match self.inner.studio.pause_batch(*id).await {
                Ok(_) => tracing::info!(batch = id, "batch paused for shutdown"),
                Err(e) => tracing::warn!(batch = id, error = %e, "batch not paused"),
            }
        }
        let grace = self.inner.config.shutdown_grace;
        for (id, handle) in running {
            if tokio::time::timeout(grace, handle).await.is_err() {
                tracing::warn!(batch = id, "batch runner did not stop in time");
            }
        }
    }
}
