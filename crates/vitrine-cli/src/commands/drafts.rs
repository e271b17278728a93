use anyhow::Result;
use clap::Subcommand;

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum DraftsCommand {
    /// Show a draft's current version and its provenance
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a draft (the same as `vitrine review approve ID`); refused
    /// while its current text has a blocking finding (see `vitrine check ID`)
    Approve { id: i64 },
}

pub async fn run(ctx: &Context, cmd: DraftsCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    match cmd {
        DraftsCommand::Show { id, json } => {
            let draft = studio.draft(id).await?;
            if json {
                return print_json(&draft);
            }
            println!(
                "draft {} — product {} — {} / {} / {} — {} — {} version(s)",
                draft.id,
                draft.product_id,
                draft.kind,
                draft.lang,
                draft.marketplace,
                draft.status,
                draft.versions.len()
            );
            if let Some(v) = draft.versions.last() {
                let script = v.content.as_ref().and_then(|c| {
                    serde_json::from_value::<vitrine_core::script::Script>(c.clone()).ok()
                });
                match script {
                    Some(s) => {
                        println!("{}\n", s.title);
                        print!("{}", vitrine_core::script::run_sheet(&s));
                    }
                    None => super::listing::print_listing(&v.listing),
                }
                if let Some(p) = &v.provenance {
                    println!(
                        "\nmodel {} · {} prompt + {} generated tokens · first token {} ms · total {} ms · {} attempt(s)",
                        p.model_id, p.prompt_tokens, p.generated_tokens, p.time_to_first_token_ms, p.total_ms, p.attempts
                    );
                    if !p.findings.is_empty() {
                        println!("\nFindings when it was written:");
                        super::check::print_findings(&p.findings);
                    }
                }
            }
        }
        DraftsCommand::Approve { id } => {
            let store = studio.store();
            let actor = ctx.actor(store).await?;
            super::review::approve(
                store,
                &actor,
                &super::review::DecisionArgs::one(id),
                None,
                false,
                &super::review::FilterArgs::default(),
            )
            .await?;
        }
    }
    Ok(())
}
