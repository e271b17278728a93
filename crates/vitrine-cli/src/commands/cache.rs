use anyhow::Result;
use clap::Subcommand;

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Entries, hits (model calls saved) and misses of the generation cache
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Remove every cached answer
    Clear,
}

pub async fn run(ctx: &Context, cmd: CacheCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    match cmd {
        CacheCommand::Stats { json } => {
            let s = studio.store().cache_stats().await?;
            if json {
                return print_json(&s);
            }
            println!(
                "{} cached answers · {} hits (model calls saved) · {} misses · hit rate {:.0}%",
                s.entries,
                s.hits,
                s.misses,
                s.hit_rate * 100.0
            );
        }
        CacheCommand::Clear => {
            let n = studio.store().cache_clear().await?;
            println!("removed {n} cached answers");
        }
    }
    Ok(())
}
