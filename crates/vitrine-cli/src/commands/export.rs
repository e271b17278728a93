//! `vitrine export`: approved listings out in a shop's import format.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;
use vitrine_core::catalogue::export::ExportFormat;
use vitrine_core::exports::ExportFilter;

use super::{print_json, Context};

#[derive(Args)]
pub struct ExportArgs {
    /// shopify (product CSV), amazon (flat file), json, markdown, html
    #[arg(long)]
    pub format: String,
    /// The file to write (replaced whole, never half-written)
    #[arg(long)]
    pub out: PathBuf,
    /// Listing language (one per shop file)
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Only drafts for this marketplace profile
    #[arg(long)]
    pub marketplace: Option<String>,
    /// Only drafts made by this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Only these products (comma-separated ids)
    #[arg(long, value_delimiter = ',')]
    pub products: Vec<i64>,
    /// Export drafts that are not approved too (a Shopify file marks them
    /// `draft`, not `active`); they are not marked exported
    #[arg(long)]
    pub include_unapproved: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: ExportArgs) -> Result<()> {
    let format: ExportFormat = args.format.parse().map_err(|e: String| anyhow!(e))?;
    let studio = ctx.studio().await?;
    let filter = ExportFilter {
        lang: Some(args.lang.clone()),
        marketplace: args.marketplace.clone(),
        batch: args.batch,
        products: args.products.clone(),
        include_unapproved: args.include_unapproved,
    };
    let actor =
        vitrine_core::review::acting_profile(studio.store(), ctx.profile.as_deref()).await?;
    let report = studio.export(format, &filter, &args.out, &actor).await?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "{}: {} product(s), {} row(s) ({})",
        report.path.display(),
        report.products,
        report.rows,
        format.name()
    );
    if report.not_approved > 0 {
        eprintln!(
            "{} product(s) left out: no approved {} listing (`vitrine review list --status in_review`)",
            report.not_approved, args.lang
        );
    }
    Ok(())
}
