//! What the shell keeps between commands: the Studio (opened once), the
//! cancel tokens of running generations, the batches and model fetches
//! this app runs, and the paths the user dropped on the window (the only
//! paths `ingest_photo_path` accepts).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::OnceCell;
use vitrine_core::{DataDir, Studio};
use vitrine_infer::CancelToken;

use crate::error::IpcError;
use crate::settings_cmds::AppSettings;

pub struct Shell {
    dirs: Result<DataDir, IpcError>,
    studio: OnceCell<Studio>,
    generations: Mutex<HashMap<i64, CancelToken>>,
    dropped: Mutex<HashSet<PathBuf>>,
    batches: Mutex<HashSet<i64>>,
    fetches: Mutex<HashSet<String>>,
    settings: Mutex<AppSettings>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data behind these locks stays consistent even if a holder panicked.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shell {
    pub fn new(dirs: Result<DataDir, IpcError>, settings: AppSettings) -> Self {
        Self {
            dirs,
            studio: OnceCell::new(),
            generations: Mutex::new(HashMap::new()),
            dropped: Mutex::new(HashSet::new()),
            batches: Mutex::new(HashSet::new()),
            fetches: Mutex::new(HashSet::new()),
            settings: Mutex::new(settings),
        }
    }

    /// The Studio, opened on first use (setup starts that right away);
    /// concurrent callers wait for the same open. A failed open is retried
    /// by the next call and its error reaches the page. It comes with the
    /// backend and router of the settings as they are now, so a change in
    /// Settings applies to the next generation.
    pub async fn studio(&self) -> Result<Studio, IpcError> {
        let studio = self.opened_studio().await?;
        let settings = self.settings();
        let router = settings.router(studio.router());
        Ok(studio.with_backend(settings.backend()).with_router(router))
    }

    pub fn settings(&self) -> AppSettings {
        lock(&self.settings).clone()
    }

    pub fn set_settings(&self, settings: AppSettings) {
        *lock(&self.settings) = settings;
    }

    async fn opened_studio(&self) -> Result<Studio, IpcError> {
        let dirs = self.dirs.as_ref().map_err(Clone::clone)?;
        let studio = self
            .studio
            .get_or_try_init(|| async {
                tracing::info!(data_dir = %dirs.root().display(), models_dir = %dirs.models_dir().display(), "opening studio");
                let studio = Studio::open(dirs.clone()).await?;
                // The app stays open for hours; an idle model's memory goes
                // back to the system until the next Generate.
                studio.spawn_idle_unloader(vitrine_core::studio::idle_unload_after());
                Ok::<_, vitrine_core::CoreError>(studio)
            })
            .await?;
        Ok(studio.clone())
    }

    /// Register a running generation; None when one already runs for the product.
    pub fn start_generation(&self, product_id: i64) -> Option<GenerationGuard<'_>> {
        let mut running = lock(&self.generations);
        if running.contains_key(&product_id) {
            return None;
        }
        let token = CancelToken::new();
        running.insert(product_id, token.clone());
        Some(GenerationGuard {
            shell: self,
            product_id,
            token,
        })
    }

    /// Cancel the generation of one product, or all of them; true if any was running.
    pub fn cancel(&self, product_id: Option<i64>) -> bool {
        let running = lock(&self.generations);
        let mut any = false;
        for (id, token) in running.iter() {
            if product_id.is_none_or(|p| p == *id) {
                token.cancel();
                any = true;
            }
        }
        any
    }

    pub fn remember_dropped(&self, paths: &[PathBuf]) {
        lock(&self.dropped).extend(paths.iter().cloned());
    }

    pub fn was_dropped(&self, path: &Path) -> bool {
        lock(&self.dropped).contains(path)
    }

    /// Mark a batch as run by this app; false when it already is.
    pub fn claim_batch(&self, id: i64) -> bool {
        lock(&self.batches).insert(id)
    }

    pub fn release_batch(&self, id: i64) {
        lock(&self.batches).remove(&id);
    }

    pub fn batch_active(&self, id: i64) -> bool {
        lock(&self.batches).contains(&id)
    }

    /// Mark a model as being fetched; false when it already is.
    pub fn claim_fetch(&self, id: &str) -> bool {
        lock(&self.fetches).insert(id.to_string())
    }

    pub fn release_fetch(&self, id: &str) {
        lock(&self.fetches).remove(id);
    }

    pub fn fetching(&self) -> Vec<String> {
        lock(&self.fetches).iter().cloned().collect()
    }
}

/// Removes the generation's cancel token when the command ends, however it ends.
pub struct GenerationGuard<'a> {
    shell: &'a Shell,
    product_id: i64,
    token: CancelToken,
}

impl GenerationGuard<'_> {
    pub fn token(&self) -> CancelToken {
        self.token.clone()
    }
}

impl Drop for GenerationGuard<'_> {
    fn drop(&mut self) {
        lock(&self.shell.generations).remove(&self.product_id);
    }
}
