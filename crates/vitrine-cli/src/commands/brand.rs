//! `vitrine brand`: brand profiles in the store, imported from and
//! exported to TOML files.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use vitrine_core::brand::BrandProfile;

use super::{print_json, Context};

/// Profiles are a page of text; anything larger is not one.
const MAX_FILE_BYTES: u64 = 256 << 10;

#[derive(Subcommand)]
pub enum BrandCommand {
    /// Store a brand profile from a TOML file (replaces the brand's old one)
    Import { file: PathBuf },
    /// The stored brands
    List {
        #[arg(long)]
        json: bool,
    },
    /// One brand's profile
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a brand's profile as TOML (to stdout without --out)
    Export {
        name: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn run(ctx: &Context, cmd: BrandCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    let store = studio.store();
    match cmd {
        BrandCommand::Import { file } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .len();
            if size > MAX_FILE_BYTES {
                anyhow::bail!(
                    "{}: {size} bytes is too large for a brand profile (limit {} KiB)",
                    file.display(),
                    MAX_FILE_BYTES >> 10
                );
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let profile = BrandProfile::from_toml(&text, &file.display().to_string())?;
            store.save_brand(&profile).await?;
            println!(
                "Stored brand `{}` ({} forbidden words, {} required phrases, {} examples).",
                profile.name,
                profile.forbidden_words.len(),
                profile.required_phrases.len(),
                profile.examples.len()
            );
        }
        BrandCommand::List { json } => {
            let names = store.brand_names().await?;
            if json {
                return print_json(&names);
            }
            if names.is_empty() {
                println!(
                    "No brands stored; `vitrine brand import FILE` adds one (see docs/brands.md)."
                );
            }
            for n in names {
                println!("{n}");
            }
        }
        BrandCommand::Show { name, json } => {
            let profile = store.brand(&name).await?;
            if json {
                return print_json(&profile);
            }
            print!("{}", profile.to_toml()?);
        }
        BrandCommand::Export { name, out } => {
            let text = store.brand(&name).await?.to_toml()?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("Wrote {}", path.display());
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}
