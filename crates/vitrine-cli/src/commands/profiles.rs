//! `vitrine profiles`: the local profiles people act as in the review
//! workflow, and their roles.

use anyhow::Result;
use clap::Subcommand;
use vitrine_core::review::{self, Role};

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum ProfilesCommand {
    /// Add a profile (admins only)
    Add {
        name: String,
        /// author, reviewer or admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        json: bool,
    },
    /// All profiles
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Context, cmd: ProfilesCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    let store = studio.store();
    match cmd {
        ProfilesCommand::Add { name, role, json } => {
            let role = Role::parse(&role)?;
            let actor = ctx.actor(store).await?;
            let profile = review::add_profile(store, &actor, &name, role).await?;
            if json {
                return print_json(&profile);
            }
            println!("Profile {} added as {}.", profile.name, profile.role);
        }
        ProfilesCommand::List { json } => {
            // Listing also makes the implicit first profile, so a new user
            // sees who they act as.
            let me = ctx.actor(store).await.ok();
            let all = review::profiles(store).await?;
            if json {
                return print_json(&all);
            }
            for p in &all {
                let mark = if me.as_ref().is_some_and(|m| m.id == p.id) {
                    "*"
                } else {
                    " "
                };
                println!("{mark} {:<20} {:<8} since {}", p.name, p.role, p.created_at);
            }
        }
    }
    Ok(())
}
