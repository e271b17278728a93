//! `vitrine audit`: read the review workflow's audit log and check its
//! hash chain.

use anyhow::{bail, Result};
use clap::Subcommand;
use vitrine_core::audit;

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// The newest entries, newest first
    Log {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Recompute the hash chain; fails naming the first entry that was
    /// edited, deleted or moved
    Verify {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Context, cmd: AuditCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    let store = studio.store();
    match cmd {
        AuditCommand::Log { limit, json } => {
            let entries = audit::recent(store, limit).await?;
            if json {
                return print_json(&entries);
            }
            if entries.is_empty() {
                println!("The audit log is empty.");
            }
            for e in &entries {
                let mut line = format!(
                    "{:>6}  {}  {:<14} {:<16} {} {}",
                    e.id, e.at, e.actor, e.action, e.entity, e.entity_id
                );
                if let (Some(from), Some(to)) =
                    (e.details["from"].as_str(), e.details["to"].as_str())
                {
                    if from != to {
                        line.push_str(&format!("  {from} → {to}"));
                    }
                }
                if let Some(reason) = e.details["override"]["reason"].as_str() {
                    line.push_str(&format!("  OVERRIDE: {reason}"));
                }
                println!("{line}");
            }
        }
        AuditCommand::Verify { json } => {
            let report = audit::verify(store).await?;
            if json {
                print_json(&report)?;
            }
            match &report.first_bad {
                None => {
                    if !json {
                        println!(
                            "The audit log is intact: {} entries, head {}.",
                            report.entries,
                            report.head.as_deref().unwrap_or("(empty)")
                        );
                    }
                }
                Some(bad) => bail!(
                    "the audit log is broken at entry {}: {}",
                    bad.id,
                    bad.reason
                ),
            }
        }
    }
    Ok(())
}
