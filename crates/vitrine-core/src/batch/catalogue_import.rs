//! A parsed catalogue into the store: one product per handle, made once.
//!
//! A handle already in the store is the same product: importing a file
//! twice, or resuming after a crash in the middle of an import, adds
//! nothing twice. Products without local photos are written in chunks of
//! [`CHUNK`] per transaction, so 100 000 rows import in seconds; a product
//! with photos goes through photo ingest (colours, cut-out, classifier) and
//! gets its handle right after.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::store::Conn;
use serde::Serialize;
use serde_json::json;

use super::ImportError;
use crate::analysis::title_categories;
use crate::catalogue::{CatalogueProduct, ParsedCatalogue, SourceFormat};
use crate::error::{CoreError, Result};
use crate::ingest::Understanding;
use crate::kg::KnowledgeGraph;
use crate::store::{insert_fact, insert_product, now, NewFact};
use crate::studio::Studio;
use crate::title_facts::{title_facts, TITLE_CONFIDENCE};
use crate::types::FactSource;

/// Products written per transaction.
const CHUNK: usize = 500;

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub format: SourceFormat,
    pub encoding: String,
    /// Every product of the catalogue, new or already known, in its order.
    pub product_ids: Vec<i64>,
    pub created: u64,
    /// Handles that were in the store already.
    pub existing: u64,
    pub photos: u64,
    /// Rows, files and photos that could not be used.
    pub errors: Vec<ImportError>,
}

impl Studio {
    /// Put a parsed catalogue into the store. `on_progress(done, total)`
    /// is called as products are written.
    pub async fn import_catalogue(
        &self,
        parsed: &ParsedCatalogue,
        file: &Path,
        on_progress: &mut (dyn FnMut(usize, usize) + Send),
    ) -> Result<ImportReport> {
        let store = self.store();
        let kg = store.knowledge_graph().await?;
        let mut report = ImportReport {
            format: parsed.format,
            encoding: parsed.encoding.clone(),
            product_ids: Vec::with_capacity(parsed.products.len()),
            created: 0,
            existing: 0,
            photos: 0,
            errors: parsed
                .errors
                .iter()
                .map(|e| ImportError {
                    line: (e.line > 0).then_some(e.line),
                    handle: e.handle.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        };
        report
            .errors
            .extend(parsed.skipped_files.iter().map(|f| ImportError {
                line: None,
                handle: None,
                message: format!("{}: {}", f.path.display(), f.reason),
            }));

        let known: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT handle, id FROM products WHERE handle IS NOT NULL",
        )
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .collect();
        let source_file = file.display().to_string();
        let format = format_name(parsed.format);
        let total = parsed.products.len();
        let mut seen = HashSet::new();
        let mut ids: Vec<Option<i64>> = vec![None; total];
        let mut plain: Vec<usize> = Vec::new();
        let mut refresh: Vec<(usize, i64)> = Vec::new();
        // Loaded once, on the first product with photos (the classifier
        // and the graph are not cheap to set up).
        let mut understanding: Option<Understanding> = None;

        for (i, p) in parsed.products.iter().enumerate() {
            if !seen.insert(p.handle.as_str()) {
                // Parsers already refuse duplicates; a second guard costs
                // nothing and keeps one product per handle.
                continue;
            }
            if let Some(&id) = known.get(&p.handle) {
                ids[i] = Some(id);
                report.existing += 1;
                // The catalogue's latest rows are what an export writes back.
                refresh.push((i, id));
                continue;
            }
            if p.photos.is_empty() {
                plain.push(i);
                continue;
            }
            let base = match &understanding {
                Some(u) => u.clone(),
                None => {
                    let u = self.understanding().await?;
                    understanding = Some(u.clone());
                    u
                }
            };
            match self.import_with_photos(p, &kg, &base, &mut report).await {
                Ok(id) => {
                    ids[i] = Some(id);
                    report.created += 1;
                    store_source(self, id, format, &source_file, p).await?;
                }
                // The photos were unusable: the product still comes in,
                // from its text.
                Err(e) if !is_fatal(&e) => {
                    report.errors.push(ImportError {
                        line: (p.line > 0).then_some(p.line),
                        handle: Some(p.handle.clone()),
                        message: format!("photos not used: {e}"),
                    });
                    plain.push(i);
                }
                Err(e) => return Err(e),
            }
            on_progress(i + 1, total);
        }

        for chunk in plain.chunks(CHUNK) {
            let mut tx = store.begin_write().await?;
            let at = now();
            for &i in chunk {
                let p = &parsed.products[i];
                let id = insert_product(&mut tx, &product_name(&p.title)).await?;
                sqlx::query("UPDATE products SET handle = $1 WHERE id = $2")
                    .bind(&p.handle)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for fact in text_facts(&kg, id, p, &[]) {
                    insert_fact(&mut tx, &fact).await?;
                }
                insert_source(&mut tx, id, format, &source_file, p, &at).await?;
                ids[i] = Some(id);
                report.created += 1;
            }
            tx.commit().await?;
            on_progress(chunk.last().map_or(0, |&i| i + 1), total);
        }
        for chunk in refresh.chunks(CHUNK) {
            let mut tx = store.begin_write().await?;
            let at = now();
            for &(i, id) in chunk {
                insert_source(&mut tx, id, format, &source_file, &parsed.products[i], &at).await?;
            }
            tx.commit().await?;
        }
        report.product_ids = ids.into_iter().flatten().collect();
        tracing::info!(
            file = %file.display(),
            created = report.created,
            existing = report.existing,
            errors = report.errors.len(),
            "catalogue imported"
        );
        Ok(report)
    }

    /// The first photo makes the product (with the title voting on its
    /// category); the others are added to it.
    async fn import_with_photos(
        &self,
        p: &CatalogueProduct,
        kg: &KnowledgeGraph,
        base: &Understanding,
        report: &mut ImportReport,
    ) -> Result<i64> {
        let mut understanding = base.clone();
        understanding.title = Some(p.title.clone());
        let first = self.ingest_with(&p.photos[0], &understanding).await?;
        let id = first.product_id;
        let claimed = sqlx::query(
            "UPDATE products SET handle = $1 WHERE id = $2 AND (handle IS NULL OR handle = $3)",
        )
        .bind(&p.handle)
        .bind(id)
        .bind(&p.handle)
        .execute(self.store().pool())
        .await?
        .rows_affected();
        if claimed == 0 {
            return Err(CoreError::InvalidInput(format!(
                "{} is already the photo of another product ({id})",
                p.photos[0].display()
            )));
        }
        report.photos += 1;
        // The facts the photo could not give: options, the product type.
        let have: Vec<(String, String)> = first
            .facts
            .iter()
            .map(|f| (f.key.clone(), f.value.clone()))
            .collect();
        for fact in text_facts(kg, id, p, &have) {
            self.store().add_fact(&fact).await?;
        }
        let extra = Understanding {
            kg: understanding.kg.clone(),
            product: Some(id),
            ..Understanding::default()
        };
        for photo in &p.photos[1..] {
            match self.ingest_with(photo, &extra).await {
                Ok(o) if !o.duplicate => report.photos += 1,
                Ok(_) => {}
                Err(e) if !is_fatal(&e) => report.errors.push(ImportError {
                    line: (p.line > 0).then_some(p.line),
                    handle: Some(p.handle.clone()),
                    message: format!("photo not used: {e}"),
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(id)
    }

    async fn ingest_with(
        &self,
        path: &Path,
        understanding: &Understanding,
    ) -> Result<crate::types::IngestOutcome> {
        crate::ingest::ingest_path_with(self.store(), self.dirs(), path, understanding).await
    }
}

/// Errors that would stop any import (the database, the disk), as opposed
/// to one bad photo.
fn is_fatal(e: &CoreError) -> bool {
    matches!(e, CoreError::Database(_) | CoreError::Migration(_))
        || matches!(e, CoreError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::StorageFull)
}

fn format_name(f: SourceFormat) -> &'static str {
    match f {
        SourceFormat::Shopify => "shopify",
        SourceFormat::Generic => "generic",
        SourceFormat::Folder => "folder",
    }
}

/// Store names are at most 200 characters (as ingest's titles).
fn product_name(title: &str) -> String {
    title.trim().chars().take(200).collect()
}

/// What the catalogue's text says about the product: the category its
/// title (else its type) names, the values its title and its options name.
/// `have` holds (key, value) pairs already known, which are not repeated.
fn text_facts(
    kg: &KnowledgeGraph,
    product_id: i64,
    p: &CatalogueProduct,
    have: &[(String, String)],
) -> Vec<NewFact> {
    let mut out: Vec<NewFact> = Vec::new();
    let mut add = |key: &str, value: &crate::kg::AttrValue, from: &str| {
        let known = have.iter().any(|(k, v)| k == key && v == &value.key)
            || out.iter().any(|f| f.key == key && f.value == value.key);
        if !known {
            out.push(NewFact {
                product_id,
                key: key.to_string(),
                value: value.key.clone(),
                label_en: value.en.clone(),
                label_zh: value.zh.clone(),
                source: FactSource::Import,
                confidence: TITLE_CONFIDENCE,
                data: json!({ "from": from }),
            });
        }
    };
    let category = if have.iter().any(|(k, _)| k == "category") {
        None
    } else {
        title_categories(kg, &p.title)
            .into_iter()
            .next()
            .map(|c| (c, "title"))
            .or_else(|| {
                [p.product_type.as_deref(), p.category.as_deref()]
                    .into_iter()
                    .flatten()
                    .find_map(|t| title_categories(kg, t).into_iter().next())
                    .map(|c| (c, "type"))
            })
    };
    let category_key = category.as_ref().map(|(c, _)| c.clone()).or_else(|| {
        have.iter()
            .find(|(k, _)| k == "category")
            .map(|(_, v)| v.clone())
    });
    if let Some((key, from)) = &category {
        if let Some(c) = kg.category(key) {
            add("category", &c.as_value(), from);
        }
    }
    for f in title_facts(kg, &p.title, category_key.as_deref(), &[]) {
        add(&f.attribute, &f.value, "title");
    }
    // Options name their attribute ("Color: Navy"); a value the graph does
    // not know stays in the catalogue's rows, not in the facts.
    for (name, value) in &p.options {
        if let Some(attr) = option_attribute(kg, name) {
            if let Some(v) = kg.find_value(&attr, value) {
                add(&attr, &v, "option");
            }
        }
    }
    out
}

/// The graph attribute an option's name stands for.
fn option_attribute(kg: &KnowledgeGraph, name: &str) -> Option<String> {
    let n = name.trim().to_lowercase();
    if matches!(n.as_str(), "color" | "colour" | "颜色" | "顏色") {
        return Some("colour".into());
    }
    kg.attributes()
        .find(|a| a.key == n || a.en.to_lowercase() == n || a.zh == name.trim())
        .map(|a| a.key.clone())
}

async fn store_source(
    studio: &Studio,
    id: i64,
    format: &str,
    file: &str,
    p: &CatalogueProduct,
) -> Result<()> {
    let mut tx = studio.store().begin_write().await?;
    insert_source(&mut tx, id, format, file, p, &now()).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_source(
    conn: &mut Conn,
    id: i64,
    format: &str,
    file: &str,
    p: &CatalogueProduct,
    at: &str,
) -> Result<()> {
    let data = serde_json::to_string(p).map_err(|e| CoreError::Task(e.to_string()))?;
    sqlx::query(
        "INSERT INTO product_sources (product_id, format, file, line, data, imported_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (product_id) DO UPDATE SET
            format = excluded.format, file = excluded.file, line = excluded.line,
            data = excluded.data, imported_at = excluded.imported_at",
    )
    .bind(id)
    .bind(format)
    .bind(file)
    .bind(p.line as i64)
    .bind(data)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

impl crate::store::Store {
    /// The catalogue product a product was imported as, if it was.
    pub async fn product_source(&self, product_id: i64) -> Result<Option<CatalogueProduct>> {
        let data: Option<String> =
            sqlx::query_scalar("SELECT data FROM product_sources WHERE product_id = $1")
                .bind(product_id)
                .fetch_optional(self.pool())
                .await?;
        data.map(|d| {
            serde_json::from_str(&d)
                .map_err(|e| CoreError::InvalidInput(format!("stored catalogue row: {e}")))
        })
        .transpose()
    }
}
