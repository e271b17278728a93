//! Exports: choosing the drafts that go out and writing them in a shop's
//! format (`catalogue::export`), to a file that appears whole or not at all.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sqlx::Row;

use crate::catalogue::export::{is_approved, write_export, ExportFormat, ExportItem};
use crate::error::{CoreError, Result};
use crate::studio::Studio;
use crate::types::Listing;

/// Which drafts to export.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Listing language; `en` when `None`. Shop files hold one language.
    pub lang: Option<String>,
    pub marketplace: Option<String>,
    /// Only drafts made by this batch.
    pub batch: Option<i64>,
    /// Only these products.
    pub products: Vec<i64>,
    /// Drafts in any review state, not only approved ones (never for a
    /// Shopify file's `Status`: unapproved copy is written as `draft`).
    pub include_unapproved: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub path: PathBuf,
    pub format: ExportFormat,
    pub products: usize,
    pub rows: usize,
    /// The drafts written, one per product (its newest draft that passed).
    pub drafts: Vec<i64>,
    /// Products that matched but had no approved draft.
    pub not_approved: usize,
}

impl Studio {
    /// Write the newest matching listing draft of each product to `out`.
    pub async fn export(
        &self,
        format: ExportFormat,
        filter: &ExportFilter,
        out: &Path,
        actor: &crate::review::Profile,
    ) -> Result<ExportReport> {
        let lang = filter.lang.clone().unwrap_or_else(|| "en".into());
        crate::listing::Lang::parse(&lang)?;
        let (items, not_approved) = self.export_items(&lang, filter).await?;
        if items.is_empty() {
            return Err(CoreError::InvalidInput(if not_approved > 0 {
                format!(
                    "nothing to export: {not_approved} product(s) have {lang} listings but none is \
                     approved (`vitrine review list`, or --include-unapproved)"
                )
            } else {
                format!("nothing to export: no {lang} listing drafts match")
            }));
        }
        let path = out.to_path_buf();
        let summary = {
            let items = items.clone();
            let path = path.clone();
            tokio::task::spawn_blocking(move || write_atomically(&path, format, &items))
                .await
                .map_err(|e| CoreError::Task(e.to_string()))??
        };
        let drafts: Vec<i64> = items.iter().map(|i| i.draft_id).collect();
        // Approved copy that went out is `exported` from now on (with an
        // audit entry each); unapproved copy written on request is not.
        let approved: Vec<i64> = items
            .iter()
            .filter(|i| i.status == "approved")
            .map(|i| i.draft_id)
            .collect();
        for outcome in crate::review::mark_exported(self.store(), actor, &approved).await? {
            if !outcome.ok {
                tracing::warn!(?outcome, "draft written but not marked exported");
            }
        }
        tracing::info!(path = %path.display(), format = format.name(), products = summary.products, "exported");
        Ok(ExportReport {
            path,
            format,
            products: summary.products,
            rows: summary.rows,
            drafts,
            not_approved,
        })
    }

    /// The newest listing draft per product in `lang` that passes the
    /// filter, with its catalogue rows; and how many products only had
    /// unapproved ones.
    async fn export_items(
        &self,
        lang: &str,
        filter: &ExportFilter,
    ) -> Result<(Vec<ExportItem>, usize)> {
        let store = self.store();
        let rows = sqlx::query(
            "SELECT d.id, d.product_id, d.status, d.lang, d.marketplace, d.updated_at,
                    v.version, v.content, p.name, p.handle
               FROM drafts d
               JOIN products p ON p.id = d.product_id
               JOIN draft_versions v ON v.draft_id = d.id
                AND v.version = (SELECT MAX(version) FROM draft_versions WHERE draft_id = d.id)
              WHERE d.kind = 'listing' AND d.lang = $1
                AND ($2 IS NULL OR d.marketplace = $3)
                AND ($4 IS NULL OR d.batch_item_id IN
                        (SELECT id FROM batch_items WHERE batch_id = $5))
              ORDER BY d.product_id, d.updated_at DESC, d.id DESC",
        )
        .bind(lang)
        .bind(&filter.marketplace)
        .bind(&filter.marketplace)
        .bind(filter.batch)
        .bind(filter.batch)
        .fetch_all(store.pool())
        .await?;
        let mut items: Vec<ExportItem> = Vec::new();
        let mut unapproved_products: Vec<i64> = Vec::new();
        for r in rows {
            let product_id: i64 = r.try_get("product_id")?;
            if !filter.products.is_empty() && !filter.products.contains(&product_id) {
                continue;
            }
            if items.last().is_some_and(|i| i.product_id == product_id) {
                continue;
            }
            let status: String = r.try_get("status")?;
            if !filter.include_unapproved && !is_approved(&status) {
                if !unapproved_products.contains(&product_id) {
                    unapproved_products.push(product_id);
                }
                continue;
            }
            let content: String = r.try_get("content")?;
            let listing: Listing = serde_json::from_str(&content)
                .map_err(|e| CoreError::InvalidInput(format!("stored listing: {e}")))?;
            let name: String = r.try_get("name")?;
            let handle: Option<String> = r.try_get("handle")?;
            items.push(ExportItem {
                product_id,
                handle: handle.unwrap_or_else(|| default_handle(&name, product_id)),
                draft_id: r.try_get("id")?,
                version: r.try_get("version")?,
                status,
                lang: r.try_get("lang")?,
                marketplace: r.try_get("marketplace")?,
                listing,
                product: store.product_source(product_id).await?,
                fallback_vendor: None,
            });
        }
        let exported: Vec<i64> = items.iter().map(|i| i.product_id).collect();
        let not_approved = unapproved_products
            .iter()
            .filter(|p| !exported.contains(p))
            .count();
        Ok((items, not_approved))
    }
}

/// A Shopify-style handle for a product that has none: its name in
/// lowercase ASCII words joined by `-`, and its id (names repeat).
pub fn default_handle(name: &str, id: i64) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("product-{id}")
    } else {
        format!("{slug}-{id}")
    }
}

/// Write next to the target and rename over it: a failed export (a full
/// disk) leaves the previous file, never half a file.
fn write_atomically(
    path: &Path,
    format: ExportFormat,
    items: &[ExportItem],
) -> Result<crate::catalogue::export::ExportSummary> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    let mut w = BufWriter::new(tmp);
    let summary = write_export(format, items, &mut w)
        .map_err(|e| CoreError::InvalidInput(format!("{}: {e}", path.display())))?;
    let tmp = w
        .into_inner()
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(summary)
}
