//! `vitrine bench`: Vitrine's engine against llama.cpp on the same GGUF
//! file, the same prompt token ids, the same thread count, in alternating
//! runs. Each side runs in its own process so thread pools and memory do
//! not leak between runs; model loading is never timed. `--no-reference`
//! times the engine alone (on machines without llama.cpp, such as a GPU
//! box), and `--model-path` benches a GGUF file that is not installed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use vitrine_infer::text::read_gguf_header;
use vitrine_infer::{CandleTextModel, GgufTokenizer, Manifest, ModelStore};

use crate::commands::{cache_dir, Context};

mod batch;
mod prefix;
mod requant;
mod scaleout;
mod structured;
mod vision;

const RUNNER: &str = include_str!("llamacpp_runner.py");
const LLAMA_CPP_PYTHON: &str = "llama-cpp-python==0.3.36";
/// llama.cpp's build flags, the same as `scripts/setup.sh`'s: a native build
/// uses every instruction set the machine reports, and a VM that reports AMX
/// without enabling it kills the reference with an invalid opcode. A user's
/// own `CMAKE_ARGS` (a CUDA build, say) wins.
const LLAMA_CPP_CMAKE_ARGS: &str =
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON";
/// Product copy, repeated until the prompt has the requested length.
const PROMPT_TEXT: &str = "Soft navy hoodie in brushed cotton fleece with a lined hood, \
    kangaroo pocket and ribbed cuffs. Relaxed fit for everyday wear, machine washable at 30 degrees. \
    Pair it with jeans or joggers for an easy weekend look; the colour stays deep wash after wash. ";

#[derive(Args)]
pub struct BenchArgs {
    /// Models to run (comma-separated ids; default: every installed model)
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// A GGUF file to run instead of an installed model (repeatable); it is
    /// reported under its file name
    #[arg(long, value_name = "FILE")]
    model_path: Vec<PathBuf>,
    /// Also bench each model re-quantized to these formats (e.g. `q8_0`),
    /// written once into the cache; reported as `ID@FORMAT`
    #[arg(long, value_delimiter = ',', value_name = "FORMAT")]
    requantize: Vec<String>,
    /// Time the engine alone, without the llama.cpp reference
    #[arg(long)]
    no_reference: bool,
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
    /// Instead of the llama.cpp comparison: time the analysis of these
    /// photos (decode, colours, cut-out, classifier), median of --runs
    #[arg(long, value_name = "PHOTO", num_args = 1..)]
    analyze: Vec<PathBuf>,
    /// Instead of the llama.cpp comparison: N listing prompts sharing the
    /// marketplace rules, prompt processing timed with and without reusing
    /// the KV cache of their common prefix
    #[arg(long, value_name = "N")]
    prefix_cache: Option<usize>,
    /// Instead of the llama.cpp comparison: a batch of N listings (the
    /// first of --models, else the tiny model) through the job system and
    /// the same N straight through the pipeline, timing the job system's
    /// own overhead per item
    #[arg(long, value_name = "N")]
    batch: Option<usize>,
    /// Instead of the llama.cpp comparison: batch throughput against the
    /// remote backend with llama.cpp's `llama-server` on loopback, started
    /// with each of these slot counts (comma-separated); the batch is
    /// --batch listings (default 16) with as many requests in flight as
    /// slots, on the first of --models (default the tiny model) with the
    /// first of --threads for the server (two threads busy-wait, and
    /// collapse, on a loaded two-core machine)
    #[arg(long, value_delimiter = ',', value_name = "SLOTS")]
    scale_out: Vec<usize>,
    /// The llama-server binary for --scale-out (default:
    /// VITRINE_LLAMA_SERVER, else the one scripts/build-llama-server.sh
    /// builds)
    #[arg(long, value_name = "FILE")]
    llama_server: Option<PathBuf>,
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

#[derive(Serialize, Deserialize, Clone)]
struct RunTiming {
    prompt_s: f64,
    gen_s: f64,
    /// Where the run happened; only our worker says (llama.cpp runs on the CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
}

#[derive(Serialize)]
struct Row {
    model: String,
    device: String,
    threads: usize,
    prompt_tokens: usize,
    gen_tokens: usize,
    vitrine_prompt_tps: f64,
    /// `null` under `--no-reference`.
    llamacpp_prompt_tps: Option<f64>,
    vitrine_gen_tps: f64,
    llamacpp_gen_tps: Option<f64>,
}

/// One model to bench: an id to report and the GGUF file it names.
struct Target {
    id: String,
    path: PathBuf,
}

/// `--models` ids and `--model-path` files; every installed model when
/// neither is given.
fn targets(ctx: &Context, args: &BenchArgs) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for path in &args.model_path {
        if !path.is_file() {
            bail!("no model file at {}", path.display());
        }
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        out.push(Target {
            id,
            path: path.clone(),
        });
    }
    if !args.model_path.is_empty() && args.models.is_empty() {
        return Ok(out);
    }
    let dirs = ctx.dirs()?;
    let manifest = Manifest::builtin()?;
    let store = ModelStore::new(dirs.models_dir());
    let specs: Vec<_> = if args.models.is_empty() {
        manifest
            .text_models()
            .filter(|m| store.is_installed(m))
            .cloned()
            .collect()
    } else {
        args.models
            .iter()
            .map(|id| match manifest.get(id) {
                Ok(m) if !m.is_text() => {
                    bail!("`{id}` is an image model; the bench runs text models")
                }
                other => Ok(other.cloned()?),
            })
            .collect::<Result<_>>()?
    };
    if specs.is_empty() {
        bail!("no models installed; run `vitrine models fetch all` or pass --model-path FILE");
    }
    for spec in specs {
        if !store.is_installed(&spec) {
            bail!(
                "model `{}` is not installed; run `vitrine models fetch {}`",
                spec.id,
                spec.id
            );
        }
        out.push(Target {
            path: store.path_for(&spec),
            id: spec.id,
        });
    }
    Ok(out)
}

/// Run an in-process measurement per model (off the async runtime) and
/// print one row each: a JSON line with `--json`, else pretty JSON.
async fn per_model<R, F>(ctx: &Context, targets: Vec<Target>, json: bool, measure: F) -> Result<()>
where
    R: Serialize + Send + 'static,
    F: Fn(Target, vitrine_infer::DevicePref) -> Result<R> + Clone + Send + 'static,
{
    for target in targets {
        let device = ctx.device_pref()?;
        let measure = measure.clone();
        let row = tokio::task::spawn_blocking(move || measure(target, device)).await??;
        if json {
            println!("{}", serde_json::to_string(&row)?);
        } else {
            println!("{}", serde_json::to_string_pretty(&row)?);
        }
    }
    Ok(())
}

pub async fn run(ctx: &Context, args: BenchArgs) -> Result<()> {
    if !args.scale_out.is_empty() {
        let bin = scaleout::server_binary(args.llama_server.as_deref())?;
        let mut args = args;
        if args.models.is_empty() && args.model_path.is_empty() {
            args.models = vec!["smollm2-135m".into()];
        }
        let Some(target) = targets(ctx, &args)?.into_iter().next() else {
            bail!("--scale-out needs a model");
        };
        let threads = args.threads.first().copied().unwrap_or(1);
        return scaleout::run(
            ctx,
            &args.scale_out,
            args.batch.unwrap_or(16),
            (&target.id, &target.path),
            (&bin, threads),
            args.json,
        )
        .await;
    }
    if let Some(n) = args.batch {
        let model = args.models.first().map_or("smollm2-135m", String::as_str);
        return batch::run(ctx, n, model, args.json).await;
    }
    if !args.analyze.is_empty() {
        return vision::run(ctx, &args.analyze, args.runs.max(1), args.json).await;
    }
    let mut targets = targets(ctx, &args)?;
    if !args.requantize.is_empty() {
        for format in &args.requantize {
            vitrine_infer::requant::parse_format(format)?;
        }
        let formats = args.requantize.clone();
        targets = tokio::task::spawn_blocking(move || -> Result<Vec<Target>> {
            let mut out = Vec::new();
            for t in targets {
                for format in &formats {
                    let path = requant::requantized(&t.path, &t.id, format)?;
                    out.push(Target {
                        id: format!("{}@{}", t.id, format.to_ascii_lowercase()),
                        path,
                    });
                }
                out.push(t);
            }
            Ok(out)
        })
        .await??;
    }
    if let Some(n) = args.prefix_cache {
        return per_model(ctx, targets, args.json, move |t, device| {
            prefix::run_model(&t.id, &t.path, device, n)
        })
        .await;
    }
    if let Some(n) = args.structured {
        return per_model(ctx, targets, args.json, move |t, device| {
            structured::run_model(&t.id, &t.path, device, n)
        })
        .await;
    }
    if args.runs == 0 || args.prompt_tokens == 0 {
        bail!("--runs and --prompt-tokens must be at least 1");
    }
    // The reference: the Python running llama.cpp and its runner script.
    let reference = if args.no_reference {
        None
    } else {
        let python = tokio::task::spawn_blocking(llamacpp_python).await??;
        let runner = cache_dir().join("bench").join("llamacpp_runner.py");
        std::fs::create_dir_all(runner.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(&runner, RUNNER)?;
        Some((python, runner))
    };
    let me = std::env::current_exe().context("locating the vitrine binary")?;

    if !args.json {
        if reference.is_some() {
            println!("| model | device | threads | prompt tok | gen tok | vitrine prompt tok/s | llama.cpp prompt tok/s | × | vitrine gen tok/s | llama.cpp gen tok/s | × |");
            println!("|---|---|---|---|---|---|---|---|---|---|---|");
        } else {
            println!("llama.cpp reference skipped (--no-reference): engine only.");
            println!();
            println!("| model | device | threads | prompt tok | gen tok | vitrine prompt tok/s | vitrine gen tok/s |");
            println!("|---|---|---|---|---|---|---|");
        }
    }
    for target in &targets {
        let prompt_ids = prompt_ids(&target.path, args.prompt_tokens)?;
        for &threads in &args.threads {
            let req = RunRequest {
                model: target.path.clone(),
                id: target.id.clone(),
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
                if let Some((python, runner)) = &reference {
                    let mut cmd = Command::new(python);
                    cmd.arg(runner);
                    theirs.push(run_child(cmd, &body).context("llama.cpp run")?);
                }
            }
            let o = median(&ours);
            let t = (!theirs.is_empty()).then(|| median(&theirs));
            let p = args.prompt_tokens as f64;
            let g = args.gen_tokens as f64;
            let row = Row {
                model: target.id.clone(),
                device: o.device.clone().unwrap_or_else(|| "unknown".into()),
                threads,
                prompt_tokens: args.prompt_tokens,
                gen_tokens: args.gen_tokens,
                vitrine_prompt_tps: round(p / o.prompt_s),
                llamacpp_prompt_tps: t.as_ref().map(|t| round(p / t.prompt_s)),
                vitrine_gen_tps: round(g / o.gen_s),
                llamacpp_gen_tps: t.as_ref().map(|t| round(g / t.gen_s)),
            };
            if args.json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                print_table_row(&row);
            }
            std::io::stdout().flush()?;
        }
    }
    Ok(())
}

fn print_table_row(row: &Row) {
    let head = format!(
        "| {} | {} | {} | {} | {} | {:.1} |",
        row.model,
        row.device,
        row.threads,
        row.prompt_tokens,
        row.gen_tokens,
        row.vitrine_prompt_tps
    );
    match (row.llamacpp_prompt_tps, row.llamacpp_gen_tps) {
        (Some(lp), Some(lg)) => println!(
            "{head} {lp:.1} | {:.2} | {:.1} | {lg:.1} | {:.2} |",
            row.vitrine_prompt_tps / lp,
            row.vitrine_gen_tps,
            row.vitrine_gen_tps / lg
        ),
        _ => println!("{head} {:.1} |", row.vitrine_gen_tps),
    }
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
            gen_s: t.gen_time.as_secs_f64(),
            device: Some(vitrine_infer::device::device_name(&device).to_string()),
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
        device: runs.first().and_then(|r| r.device.clone()),
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
    let cmake_args =
        std::env::var("CMAKE_ARGS").unwrap_or_else(|_| LLAMA_CPP_CMAKE_ARGS.to_owned());
    // pip's wheel cache ignores CMAKE_ARGS: a wheel built natively before
    // would be reused as it is.
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-cache-dir",
            LLAMA_CPP_PYTHON,
        ])
        .env("CMAKE_ARGS", &cmake_args)
        .status()?;
    if !status.success() || !works(&python) {
        bail!("installing {LLAMA_CPP_PYTHON} failed (it needs a C++ compiler and cmake)");
    }
    Ok(python)
}
