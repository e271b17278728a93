//! `vitrine bench --scale-out 1,2,4,8`: batch throughput against the
//! remote backend as the inference server gets more parallel slots. For
//! each slot count a llama.cpp `llama-server` is started on loopback with
//! that many slots, and the same batch of listings runs through the job
//! system with as many requests in flight; the one-slot run is the
//! reference for the speed-up, in the same run.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use vitrine_core::batch::runner::RunOptions;
use vitrine_core::batch::{BatchSpec, Output};
use vitrine_core::studio::Backend;
use vitrine_core::{DataDir, Studio};
use vitrine_infer::RemoteConfig;

use super::batch::write_catalogue;
use crate::commands::Context;

/// Context per slot: a listing prompt and its reply fit with room to spare.
const SLOT_CONTEXT: usize = 4096;

#[derive(Serialize)]
struct Row {
    slots: usize,
    items: usize,
    wall_ms: u64,
    items_per_min: f64,
    /// Items per minute over the one-slot run's.
    speedup: Option<f64>,
    /// Tokens the kept generations produced, per second of the run (a
    /// retried generation's first attempt is not counted).
    gen_tokens_per_s: f64,
    /// Generation attempts per listing (2 after a repair): runs differ in
    /// how many listings needed one.
    attempts_per_item: f64,
    failed: u64,
}

/// A `llama-server` child, stopped when dropped.
struct LlamaServer {
    child: Child,
    url: String,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LlamaServer {
    fn start(bin: &Path, gguf: &Path, slots: usize, threads: usize, log: &Path) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(bin)
            .arg("-m")
            .arg(gguf)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--parallel", &slots.to_string()])
            .args(["--ctx-size", &(slots * SLOT_CONTEXT).to_string()])
            .args(["--threads", &threads.to_string()])
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = LlamaServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "llama-server exited ({status}) before it was ready; its log: {}",
                    log.display()
                );
            }
            if agent.get(&format!("{}/health", server.url)).call().is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let _ = server.child.kill();
                bail!(
                    "llama-server was not ready in 120 s; its log: {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// The `llama-server` binary: `--llama-server`, else `VITRINE_LLAMA_SERVER`,
/// else the one scripts/build-llama-server.sh builds into the cache.
pub fn server_binary(given: Option<&Path>) -> Result<PathBuf> {
    let path = given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("VITRINE_LLAMA_SERVER").map(PathBuf::from))
        .unwrap_or_else(|| {
            crate::commands::cache_dir()
                .join("bench")
                .join("llama-server")
                .join("build")
                .join("bin")
                .join("llama-server")
        });
    if !path.is_file() {
        bail!(
            "no llama-server at {}: build one with scripts/build-llama-server.sh, or give --llama-server PATH",
            path.display()
        );
    }
    Ok(path)
}

pub async fn run(
    ctx: &Context,
    slot_counts: &[usize],
    items: usize,
    (model, gguf): (&str, &Path),
    (bin, threads): (&Path, usize),
    json: bool,
) -> Result<()> {
    if items == 0 || slot_counts.contains(&0) {
        bail!("--scale-out slot counts and --batch must be at least 1");
    }
    let tmp = tempfile::tempdir()?;
    let csv = tmp.path().join("catalogue.csv");
    write_catalogue(&csv, items)?;
    let parsed = vitrine_core::catalogue::parse_file(&csv)?;
    let models = ctx.dirs()?.models_dir().to_path_buf();
    // Kept after the run, for a look at the server's own timings.
    let logs = crate::commands::cache_dir().join("bench").join("scale-out");
    std::fs::create_dir_all(&logs)?;
    eprintln!("llama-server logs: {}", logs.display());
    let mut rows: Vec<Row> = Vec::new();
    for &slots in slot_counts {
        let log = logs.join(format!("llama-server-{slots}.log"));
        let server = LlamaServer::start(bin, gguf, slots, threads, &log)?;
        let mut remote = RemoteConfig::new(server.url.clone(), model);
        remote.max_concurrency = slots;
        remote.context_length = Some(SLOT_CONTEXT);
        let dirs = DataDir::resolve(Some(&tmp.path().join(format!("slots-{slots}"))))?
            .with_models_dir(models.clone());
        let studio = Studio::open(dirs)
            .await?
            .with_backend(Backend::Remote(remote));
        let imported = studio
            .import_catalogue(&parsed, &csv, &mut |_, _| {})
            .await?;
        let spec = BatchSpec {
            outputs: vec![Output::Listing],
            langs: vec!["en".into()],
            marketplace: "generic".into(),
            brand: None,
            model: None,
            concurrency: slots,
            reviews_dir: None,
            script_minutes: None,
            use_cache: false,
        };
        let batch = studio
            .store()
            .create_batch("scale-out", &spec, &imported.product_ids, &[])
            .await?;
        eprintln!("{items} listings on llama-server with {slots} slot(s)…");
        let t = Instant::now();
        let report = studio
            .run_batch(batch.id, RunOptions::default(), Arc::new(|_| {}))
            .await?;
        let wall_ms = t.elapsed().as_millis() as u64;
        drop(server);
        let (mut tokens, mut attempts, mut drafts) = (0usize, 0u32, 0u32);
        for item in studio.store().batch_items(batch.id, None).await? {
            let Some(id) = item.draft_id else { continue };
            let draft = studio.store().draft(id).await?;
            if let Some(p) = draft.versions.first().and_then(|v| v.provenance.as_ref()) {
                tokens += p.generated_tokens;
                attempts += p.attempts;
                drafts += 1;
            }
        }
        studio.store().close().await;
        let items_per_min = items as f64 * 60_000.0 / wall_ms.max(1) as f64;
        let speedup = rows
            .first()
            .filter(|r| r.slots == 1)
            .map(|r| items_per_min / r.items_per_min);
        let row = Row {
            slots,
            items,
            wall_ms,
            items_per_min,
            speedup,
            gen_tokens_per_s: tokens as f64 * 1000.0 / wall_ms.max(1) as f64,
            attempts_per_item: f64::from(attempts) / f64::from(drafts.max(1)),
            failed: report.failed,
        };
        if json {
            println!("{}", serde_json::to_string(&row)?);
        }
        rows.push(row);
    }
    if !json {
        println!("| slots | listings | wall | listings/min | vs 1 slot | kept tokens/s | attempts/listing | failed |");
        println!("|---|---|---|---|---|---|---|---|");
        for r in &rows {
            println!(
                "| {} | {} | {:.1} s | {:.1} | {} | {:.1} | {:.2} | {} |",
                r.slots,
                r.items,
                r.wall_ms as f64 / 1000.0,
                r.items_per_min,
                r.speedup.map_or("—".to_string(), |s| format!("{s:.2}×")),
                r.gen_tokens_per_s,
                r.attempts_per_item,
                r.failed
            );
        }
    }
    Ok(())
}
