use anyhow::Result;
use clap::Subcommand;

use super::{print_json, Context};

#[derive(Subcommand)]
pub enum ProductsCommand {
    /// List products, newest first
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one product with its photos, facts and drafts
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Say what a product is: set its category or an attribute (values are
    /// knowledge-graph keys, labels or synonyms, English or Chinese). Your
    /// values win over what analysis found and survive re-analysis; no
    /// values clears yours
    SetFact {
        id: i64,
        /// `category` or an attribute (colour, material, pattern...)
        key: String,
        values: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Context, cmd: ProductsCommand) -> Result<()> {
    let studio = ctx.studio().await?;
    match cmd {
        ProductsCommand::SetFact {
            id,
            key,
            values,
            json,
        } => {
            let facts = studio.store().set_user_facts(id, &key, &values).await?;
            if json {
                return print_json(&facts);
            }
            for f in facts.iter().filter(|f| f.key == key) {
                println!(
                    "{}: {} / {} ({})",
                    f.key,
                    f.label_en,
                    f.label_zh,
                    f.source.as_str()
                );
            }
        }
        ProductsCommand::List { json } => {
            let products = studio.products().await?;
            if json {
                return print_json(&products);
            }
            if products.is_empty() {
                println!("No products yet. Add one with `vitrine listing PHOTO`.");
            }
            for p in products {
                println!(
                    "{:>5}  {:<40}  {} photo(s), {} draft(s)  {}",
                    p.id, p.name, p.photo_count, p.draft_count, p.created_at
                );
            }
        }
        ProductsCommand::Show { id, json } => {
            let p = studio.product(id).await?;
            if json {
                return print_json(&p);
            }
            println!("#{} {}  ({})", p.id, p.name, p.created_at);
            for ph in &p.photos {
                println!(
                    "  photo {}  {}x{} {}  {}",
                    ph.id, ph.width, ph.height, ph.format, ph.source_name
                );
            }
            for f in &p.facts {
                println!(
                    "  {} = {} / {}  [{} {:.0}%]",
                    f.key,
                    f.label_en,
                    f.label_zh,
                    f.source.as_str(),
                    f.confidence * 100.0
                );
            }
            for d in &p.drafts {
                println!(
                    "  draft {}  {} {} {}  v{}  {}",
                    d.id, d.kind, d.lang, d.marketplace, d.current_version, d.title
                );
            }
        }
    }
    Ok(())
}
