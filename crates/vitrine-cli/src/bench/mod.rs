//! `vitrine bench`: Vitrine's engine against llama.cpp on the same GGUF
//! file, the same prompt token ids, the same thread count, in alternating
//! runs. Each side runs in its own process so thread pools and memory do
//! not leak between runs; model loading is never timed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use vitrine_infer::text::read_gguf_header;
use vitrine_infer::{CandleTextModel, GgufTokenizer, Manifest, ModelStore};

use crate::commands::{cache_dir, Context};

mod prefix;
mod structured;

const RUNNER: &str = include_str!("llamacpp_runner.py");
const LLAMA_CPP_PYTHON: &str = "llama-cpp-python==0.3.36";
/// Product copy, repeated until the prompt has the requested length.
const PROMPT_TEXT: &str = "Soft navy hoodie in brushed cotton fleece with a lined hood, \
    kangaroo pocket and ribbed cuffs. Relaxed fit for everyday wear, machine washable at 30 degrees. \
    Pair it with jeans or joggers for an easy weekend look; the colour stays deep wash after wash. ";

#[derive(Args)]
pub struct BenchArgs {
    /// Models to run (comma-separated ids; default: every installed model)
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Thread counts (comma-separated)
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Prompt length in tokens
    #[arg(long, default_value_t = 256)]
    prompt_tokens: usize,
    /// Generated tokens (greedy, end of turn ignored)
    #[arg(long, default_value_t = 64)]
    gen_tokens: usize,
    /// Alternating runs per side; the median is reported
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// One JSON object per model and thread count
    #[arg(long)]
    json: bool,
    /// Instead of the llama.cpp comparison: N JSON-schema-constrained
    /// generations per model, counting valid ones and timing the mask
    #[arg(long, value_name = "N")]
    structured: Option<usize>,
    /// Instead of the llama.cpp comparison: N listing prompts sharing the
    /// marketplace rules, prompt processing timed with and without reusing
    /// the KV cache of their common prefix
    #[arg(long, value_name = "N")]
    prefix_cache: Option<usize>,
}

/// What both runners read on stdin.
#[derive(Serialize, Deserialize)]
pub struct RunRequest {
    model: PathBuf,
    id: String,
    threads: usize,
    prompt_ids: Vec<u32>,
    gen_tokens: usize,
    n_ctx: usize,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
struct RunTiming {
    prompt_s: f64,
    gen_s: f64,
}

#[derive(Serialize)]
struct Row {
    model: String,
    threads: usize,
    prompt_tokens: usize,
    gen_tokens: usize,
    vitrine_prompt_tps: f64,
    llamacpp_prompt_tps: f64,
    vitrine_gen_tps: f64,
    llamacpp_gen_tps: f64,
}

pub async fn run(ctx: &Context, args: BenchArgs) -> Result<()> {
    let dirs = ctx.dirs()?;
    let manifest = Manifest::builtin()?;
    let store = ModelStore::new(dirs.models_dir());
    let specs: Vec<_> = if args.models.is_empty() {
        manifest
            .models
            .iter()
            .filter(|m| store.is_installed(m))
            .cloned()
            .collect()
    } else {
        args.models
            .iter()
            .map(|id| manifest.get(id).cloned())
            .collect::<Result<_, _>>()?
    };
    if specs.is_empty() {
        bail!("no models installed; run `vitrine models fetch all`");
    }
    for spec in &specs {
        if !store.is_installed(spec) {
            bail!(
                "model `{}` is not installed; run `vitrine models fetch {}`",
                spec.id,
                spec.id
            );
        }
    }
    if let Some(n) = args.prefix_cache {
        for spec in &specs {
            let path = store.path_for(spec);
            let spec = spec.clone();
            let device = ctx.device_pref()?;
            let row =
                tokio::task::spawn_blocking(move || prefix::run_model(&spec, &path, device, n))
                    .await??;
            if args.json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&row)?);
            }
        }
        return Ok(());
    }
    if let Some(n) = args.structured {
        for spec in &specs {
            let path = store.path_for(spec);
            let spec = spec.clone();
            let device = ctx.device_pref()?;
            let row =
                tokio::task::spawn_blocking(move || structured::run_model(&spec, &path, device, n))
                    .await??;
            if args.json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&row)?);
            }
        }
        return Ok(());
    }
    if args.runs == 0 || args.prompt_tokens == 0 {
        bail!("--runs and --prompt-tokens must be at least 1");
    }
    let python = tokio::task::spawn_blocking(llamacpp_python).await??;
    let runner = cache_dir().join("bench").join("llamacpp_runner.py");
    std::fs::create_dir_all(runner.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&runner, RUNNER)?;
    let me = std::env::current_exe().context("locating the vitrine binary")?;

    if !args.json {
        println!("| model | threads | prompt tok | gen tok | vitrine prompt tok/s | llama.cpp prompt tok/s | × | vitrine gen tok/s | llama.cpp gen tok/s | × |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
    }
    for spec in &specs {
        let path = store.path_for(spec);
        let prompt_ids = prompt_ids(&path, args.prompt_tokens)?;
        for &threads in &args.threads {
            let req = RunRequest {
                model: path.clone(),
                id: spec.id.clone(),
                threads: threads.max(1),
                prompt_ids: prompt_ids.clone(),
                gen_tokens: args.gen_tokens,
                n_ctx: args.prompt_tokens + args.gen_tokens + 16,
            };
            let body = serde_json::to_vec(&req)?;
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for _ in 0..args.runs {
                let mut cmd = Command::new(&me);
                cmd.args(["--threads", &threads.to_string()]);
                if let Some(device) = &ctx.device {
                    cmd.args(["--device", device]);
                }
                cmd.arg("bench-worker");
                ours.push(run_child(cmd, &body).context("vitrine run")?);
                let mut cmd = Command::new(&python);
                cmd.arg(&runner);
                theirs.push(run_child(cmd, &body).context("llama.cpp run")?);
            }
            let (o, t) = (median(&ours), median(&theirs));
            let p = args.prompt_tokens as f64;
            let g = args.gen_tokens as f64;
            let row = Row {
                model: spec.id.clone(),
                threads,
                prompt_tokens: args.prompt_tokens,
                gen_tokens: args.gen_tokens,
                vitrine_prompt_tps: round(p / o.prompt_s),
                llamacpp_prompt_tps: round(p / t.prompt_s),
                vitrine_gen_tps: round(g / o.gen_s),
                llamacpp_gen_tps: round(g / t.gen_s),
            };
            if args.json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                println!(
                    "| {} | {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} | {:.2} |",
                    row.model,
                    row.threads,
                    row.prompt_tokens,
                    row.gen_tokens,
                    row.vitrine_prompt_tps,
                    row.llamacpp_prompt_tps,
                    row.vitrine_prompt_tps / row.llamacpp_prompt_tps,
                    row.vitrine_gen_tps,
                    row.llamacpp_gen_tps,
                    row.vitrine_gen_tps / row.llamacpp_gen_tps
                );
            }
            std::io::stdout().flush()?;
        }
    }
    Ok(())
}

/// The hidden `bench-worker` subcommand: one timed run of our engine.
pub fn worker(ctx: &Context) -> Result<()> {
    let req: RunRequest =
        serde_json::from_reader(std::io::stdin()).context("reading the bench request")?;
    // Like every command: --device / VITRINE_DEVICE, so a CUDA build run
    // with --device cuda benchmarks the GPU.
    let device = vitrine_infer::select_device(ctx.device_pref()?)?;
    let mut model = CandleTextModel::load(&req.id, &req.model, &device)?;
    let t = model.time_raw(&req.prompt_ids, req.gen_tokens)?;
    println!(
        "{}",
        serde_json::to_string(&RunTiming {
            prompt_s: t.prompt_time.as_secs_f64(),
            gen_s: t.gen_time.as_secs_f64()
        })?
    );
    Ok(())
}

fn prompt_ids(path: &Path, n: usize) -> Result<Vec<u32>> {
    let (content, _) = read_gguf_header(path)?;
    let tok = GgufTokenizer::from_gguf(&content)?;
    let unit = tok.encode(PROMPT_TEXT)?;
    if unit.is_empty() {
        bail!("the bench prompt tokenised to nothing");
    }
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        ids.extend_from_slice(&unit);
    }
    ids.truncate(n);
    Ok(ids)
}

fn run_child(mut cmd: Command, stdin: &[u8]) -> Result<RunTiming> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "{}",
            err.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed")
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no timing printed")?;
    Ok(serde_json::from_str(line)?)
}

fn median(runs: &[RunTiming]) -> RunTiming {
    let pick = |f: fn(&RunTiming) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    RunTiming {
        prompt_s: pick(|r| r.prompt_s),
        gen_s: pick(|r| r.gen_s),
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The bench's own Python with llama-cpp-python: `VITRINE_LLAMACPP_PYTHON`
/// if set, else a venv in the cache, created (and llama.cpp built from
/// source by pip, ~15 minutes the first time) when missing.
fn llamacpp_python() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("VITRINE_LLAMACPP_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let venv = cache_dir().join("bench").join("llamacpp-venv");
    let python = venv.join("bin").join("python");
    let works = |p: &Path| {
        Command::new(p)
            .args(["-c", "import llama_cpp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works(&python) {
        return Ok(python);
    }
    eprintln!(
        "Setting up llama.cpp for the bench in {} (builds from source the first time)…",
        venv.display()
    );
    let status = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()?;
    if !status.success() {
        bail!("python3 -m venv failed (install python3-venv)");
    }
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            LLAMA_CPP_PYTHON,
        ])
        .status()?;
    if !status.success() || !works(&python) {
        bail!("installing {LLAMA_CPP_PYTHON} failed (it needs a C++ compiler and cmake)");
    }
    Ok(python)
}
