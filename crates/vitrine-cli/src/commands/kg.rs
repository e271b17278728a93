//! `vitrine kg`: the product knowledge graph — a summary, one category with
//! its inherited attributes, export to TOML and import of additions.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use vitrine_core::kg::{GraphFile, RelationKind};

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum KgCommand {
    /// Counts of categories, attributes, values, relations and ImageNet classes
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// One category: its path, attributes (inherited ones included) and what goes with it
    Show {
        /// A category key, e.g. apparel.tops.t_shirts
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Write the whole graph as one TOML file (the format `import` reads)
    Export {
        /// Where to write; `-` for standard output
        #[arg(default_value = "-")]
        out: PathBuf,
    },
    /// Add or replace categories, attributes, values, relations and ImageNet
    /// mappings from a TOML file (same format as assets/kg and `export`);
    /// the result is validated as a whole and nothing is stored if it fails
    Import { file: PathBuf },
}

pub async fn run(ctx: &Context, cmd: KgCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    let store = studio.store();
    match cmd {
        KgCommand::Stats { json } => {
            let n = store.knowledge_graph().await?.counts();
            if json {
                return print_json(&n);
            }
            println!(
                "{} categories ({} top levels) · {} attributes with {} listed values · {} relations · {} ImageNet classes mapped",
                n.categories, n.top_levels, n.attributes, n.values, n.relations, n.imagenet_classes
            );
        }
        KgCommand::Show { key, json } => {
            let kg = store.knowledge_graph().await?;
            let Some(cat) = kg.category(&key) else {
                bail!("no category `{key}`; `vitrine kg export` lists them all");
            };
            let path: Vec<String> = kg
                .ancestors(&key)
                .map(|c| c.key.clone())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let attributes: Vec<serde_json::Value> = kg
                .attributes_for(&key)
                .into_iter()
                .map(|a| {
                    let values: Vec<&str> = a.values.iter().map(|v| v.key.as_str()).collect();
                    serde_json::json!({
                        "key": a.key, "en": a.en, "zh": a.zh, "multi": a.multi,
                        "values": if a.values_from.is_some() {
                            kg.values(&a.key).into_iter().map(|v| v.key).collect::<Vec<_>>()
                        } else {
                            values.iter().map(|v| v.to_string()).collect()
                        },
                    })
                })
                .collect();
            let related = |kind| -> Vec<String> {
                kg.related(&key, kind)
                    .into_iter()
                    .map(|c| c.key.clone())
                    .collect()
            };
            let out = serde_json::json!({
                "key": cat.key, "en": cat.en, "zh": cat.zh,
                "synonyms_en": cat.synonyms_en, "synonyms_zh": cat.synonyms_zh,
                "path": path, "attributes": attributes,
                "goes_with": related(RelationKind::GoesWith),
                "bundle_with": related(RelationKind::BundleWith),
            });
            if json {
                return print_json(&out);
            }
            println!("{} — {} / {}", cat.key, cat.en, cat.zh);
            println!("path: {}", path.join(" → "));
            for a in &attributes {
                let values = a["values"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                println!(
                    "  {} ({}): {}",
                    a["en"].as_str().unwrap_or(""),
                    a["zh"].as_str().unwrap_or(""),
                    values
                );
            }
            for (label, kind) in [
                ("goes with", RelationKind::GoesWith),
                ("bundle with", RelationKind::BundleWith),
            ] {
                let r = related(kind);
                if !r.is_empty() {
                    println!("{label}: {}", r.join(", "));
                }
            }
        }
        KgCommand::Export { out } => {
            let kg = store.knowledge_graph().await?;
            let text = toml::to_string(&kg.to_file()).context("writing the graph as TOML")?;
            let text = format!(
                "# Vitrine product knowledge graph, exported from the store.\n# Edit and `vitrine kg import` it back; see assets/kg/README.md.\n\n{text}"
            );
            if out.as_os_str() == "-" {
                print!("{text}");
            } else {
                std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
                eprintln!("knowledge graph written to {}", out.display());
            }
        }
        KgCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let graph = GraphFile::parse(&text, &file.display().to_string())?;
            let n = store.import_knowledge_graph(graph).await?;
            println!(
                "imported; the graph now has {} categories, {} attributes, {} relations, {} ImageNet classes mapped",
                n.categories, n.attributes, n.relations, n.imagenet_classes
            );
        }
    }
    Ok(())
}
