//! `vitrine tokens`: bearer tokens for `vitrine serve`. Each acts as a
//! review-workflow profile; only the token's sha256 is stored.

use anyhow::Result;
use clap::Subcommand;
use vitrine_core::api_tokens;
use vitrine_core::review::Role;

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Make a token (admins only); it is printed once and never again
    Create {
        /// author, reviewer or admin
        #[arg(long)]
        role: String,
        /// The profile the token acts as (created with the role when it
        /// does not exist); default `api-ROLE`
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// All tokens (their first characters, profile, role, last use)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token for good (admins only)
    Revoke { id: i64 },
}

pub async fn run(ctx: &Context, cmd: TokensCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    let store = studio.store();
    match cmd {
        TokensCommand::Create { role, name, json } => {
            let role = Role::parse(&role)?;
            let actor = ctx.actor(store).await?;
            let name = name.unwrap_or_else(|| format!("api-{role}"));
            let made = api_tokens::create_token(store, &actor, &name, role).await?;
            if json {
                return print_json(&made);
            }
            eprintln!(
                "token {} acts as {} ({}); it is shown once, keep it now:",
                made.info.id, made.info.profile, made.info.role
            );
            println!("{}", made.token);
        }
        TokensCommand::List { json } => {
            let all = api_tokens::tokens(store).await?;
            if json {
                return print_json(&all);
            }
            if all.is_empty() {
                println!("no tokens; make one with `vitrine tokens create --role author`");
            }
            for t in all {
                let state = match (&t.revoked_at, &t.last_used_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(at)) => format!("last used {at}"),
                    (None, None) => "never used".to_string(),
                };
                println!(
                    "{:>4}  {}…  {:<20} {:<8} created {}  {state}",
                    t.id, t.prefix, t.profile, t.role, t.created_at
                );
            }
        }
        TokensCommand::Revoke { id } => {
            let actor = ctx.actor(store).await?;
            let t = api_tokens::revoke_token(store, &actor, id).await?;
            println!("token {} ({}…, {}) revoked", t.id, t.prefix, t.profile);
        }
    }
    Ok(())
}
