//! `vitrine check DRAFT|FILE`: the compliance and consistency checks on a
//! stored draft, a listing in a JSON file, or any text file.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::Serialize;
use vitrine_core::checks::{Finding, Severity};

use super::{print_json, Context};

/// Text files larger than this are not copy; refuse rather than scan them.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Args)]
pub struct CheckArgs {
    /// A draft id, or a file: a JSON listing (title, bullets, description,
    /// keywords) or plain text (a script, a summary)
    target: String,
    /// For a file: the product whose facts the text is checked against
    #[arg(long)]
    product: Option<i64>,
    /// For a file: the marketplace profile (generic, shopify, amazon, taobao)
    #[arg(long, default_value = "generic")]
    marketplace: String,
    /// For a file: the language the copy should be in (en or zh-CN)
    #[arg(long, default_value = "en")]
    lang: String,
    /// For a file: a stored brand profile whose rules apply
    #[arg(long)]
    brand: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    target: &'a str,
    blocking: usize,
    warnings: usize,
    findings: &'a [Finding],
}

pub async fn run(ctx: &Context, args: CheckArgs) -> Result<()> {
    let studio = ctx.studio().await?;
    let path = Path::new(&args.target);
    let findings = match args.target.parse::<i64>() {
        Ok(id) if !path.exists() => studio.check_draft(id).await?,
        _ => {
            let text = read_text(path)?;
            match vitrine_core::listing::extract_json_object(&text) {
                Some(json) if text.trim_start().starts_with('{') => {
                    let mp = vitrine_core::listing::marketplace(&args.marketplace)?;
                    let (listing, shape) =
                        vitrine_core::listing::parse_and_validate(json, &mp, None);
                    let Some(listing) = listing else {
                        bail!(
                            "{}: not a listing: {}",
                            path.display(),
                            shape.errors.join("; ")
                        );
                    };
                    studio
                        .check_listing(
                            &listing,
                            args.product,
                            &args.marketplace,
                            &args.lang,
                            args.brand.as_deref(),
                        )
                        .await?
                }
                _ => {
                    studio
                        .check_text(&text, args.product, &args.lang, args.brand.as_deref())
                        .await?
                }
            }
        }
    };
    let blocking = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocking)
        .count();
    if args.json {
        print_json(&Report {
            target: &args.target,
            blocking,
            warnings: findings.len() - blocking,
            findings: &findings,
        })?;
    } else {
        print_findings(&findings);
    }
    if blocking > 0 {
        bail!("{blocking} blocking finding(s): fix them before approval");
    }
    Ok(())
}

pub fn read_text(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        bail!("{}: not a file", path.display());
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{}: {} bytes is more than copy ever is (limit {} KiB)",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES >> 10
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Findings for a terminal, blocking first; "no findings" when clean.
pub fn print_findings(findings: &[Finding]) {
    if findings.is_empty() {
        println!("No findings: the copy passes every check.");
        return;
    }
    for f in findings {
        let mark = match f.severity {
            Severity::Blocking => "BLOCKING",
            Severity::Warning => "warning ",
        };
        let at = f
            .span
            .map(|(s, e)| format!(" [{s}..{e}]"))
            .unwrap_or_default();
        println!(
            "{mark} {:<16} {}{at}: {}",
            f.check.as_str(),
            f.field,
            f.explanation
        );
        if !f.excerpt.is_empty() {
            println!("         “{}”", f.excerpt);
        }
        if let Some(fix) = &f.suggestion {
            println!("         fix: {fix}");
        }
    }
}
