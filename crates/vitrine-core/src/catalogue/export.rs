//! Writing drafts out: a Shopify product CSV, an Amazon-style flat file,
//! JSON, or a Markdown/HTML preview. Which drafts go in (approved only,
//! unless asked otherwise) is the caller's choice; this module writes what
//! it is given and never publishes an unapproved draft on Shopify.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::html::{escape, listing_body_html, sanitize_preview};
use super::text::{fold_whitespace, header_key, is_url};
use super::{CatalogueError, CatalogueProduct};
use crate::types::Listing;

/// One draft to export, with what is known of its product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportItem {
    pub product_id: i64,
    pub handle: String,
    pub draft_id: i64,
    pub version: i64,
    /// The draft's review state (`approved`, `draft`, …).
    pub status: String,
    pub lang: String,
    pub marketplace: String,
    pub listing: Listing,
    /// Present when the product came from a catalogue import.
    pub product: Option<CatalogueProduct>,
    /// Vendor / brand name when the product has none.
    pub fallback_vendor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Shopify,
    Amazon,
    Json,
    Markdown,
    Html,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Shopify,
        ExportFormat::Amazon,
        ExportFormat::Json,
        ExportFormat::Markdown,
        ExportFormat::Html,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Shopify => "shopify",
            ExportFormat::Amazon => "amazon",
            ExportFormat::Json => "json",
            ExportFormat::Markdown => "markdown",
            ExportFormat::Html => "html",
        }
    }

    /// The usual file extension: `csv`, `txt` (Amazon's flat files are
    /// tab-separated text), `json`, `md`, `html`.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Shopify => "csv",
            ExportFormat::Amazon => "txt",
            ExportFormat::Json => "json",
            ExportFormat::Markdown => "md",
            ExportFormat::Html => "html",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    /// `shopify`, `amazon`, `json`, `markdown` (or `md`), `html`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "shopify" => Ok(ExportFormat::Shopify),
            "amazon" => Ok(ExportFormat::Amazon),
            "json" => Ok(ExportFormat::Json),
            "markdown" | "md" => Ok(ExportFormat::Markdown),
            "html" => Ok(ExportFormat::Html),
            other => Err(format!(
                "unknown export format `{other}`; use shopify, amazon, json, markdown or html"
            )),
        }
    }
}

/// What was written: data rows (the header not counted; for JSON and the
/// previews one per item) and products.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub rows: usize,
    pub products: usize,
}

/// Review states that may go live.
pub fn is_approved(status: &str) -> bool {
    matches!(status, "approved" | "exported")
}

/// Write `items` in `format` to `out`.
pub fn write_export(
    format: ExportFormat,
    items: &[ExportItem],
    out: &mut dyn Write,
) -> Result<ExportSummary, CatalogueError> {
    let summary = match format {
        ExportFormat::Shopify => write_shopify(items, out)?,
        ExportFormat::Amazon => write_amazon(items, out)?,
        ExportFormat::Json => write_json(items, out)?,
        ExportFormat::Markdown => write_markdown(items, out)?,
        ExportFormat::Html => write_html(items, out)?,
    };
    out.flush()?;
    Ok(summary)
}

fn unique<'a>(
    keys: impl Iterator<Item = &'a str>,
    format: &'static str,
) -> Result<(), CatalogueError> {
    let mut seen = HashSet::new();
    for k in keys {
        if !seen.insert(k) {
            return Err(CatalogueError::DuplicateExportHandle {
                handle: k.to_string(),
                format,
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Shopify

/// Shopify's product CSV columns, in the order written.
pub const SHOPIFY_COLUMNS: [&str; 22] = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Price",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "SEO Title",
    "SEO Description",
    "Status",
];

const HANDLE: usize = 0;
const TITLE: usize = 1;
const BODY: usize = 2;
const VENDOR: usize = 3;
const CATEGORY: usize = 4;
const TYPE: usize = 5;
const TAGS: usize = 6;
const PUBLISHED: usize = 7;
const OPTION1_NAME: usize = 8;
const SKU: usize = 14;
const PRICE: usize = 15;
const IMAGE_SRC: usize = 16;
const IMAGE_POSITION: usize = 17;
const IMAGE_ALT: usize = 18;
const SEO_TITLE: usize = 19;
const SEO_DESCRIPTION: usize = 20;
const STATUS: usize = 21;

fn standard_column(key: &str) -> Option<usize> {
    SHOPIFY_COLUMNS
        .iter()
        .position(|c| c.eq_ignore_ascii_case(key))
}

/// Each source header's identity: its key and which occurrence of that key
/// it is, so two columns with one name are both kept.
fn header_ids(headers: &[String]) -> Vec<(String, usize)> {
    let mut count: HashMap<String, usize> = HashMap::new();
    headers
        .iter()
        .map(|h| {
            let key = header_key(h);
            let n = count.entry(key.clone()).or_default();
            let id = (key, *n);
            *n += 1;
            id
        })
        .collect()
}

/// Original tags first, then keywords not already there (case ignored).
/// Commas would split a tag on import, so they become spaces.
fn merge_tags(original: &[String], keywords: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in original.iter().chain(keywords) {
        let t = fold_whitespace(&t.replace(',', " "));
        if !t.is_empty() && seen.insert(t.to_lowercase()) {
            out.push(t);
        }
    }
    out
}

/// Published and Status: an unapproved draft is never published; an
/// approved one keeps what its source file said, else goes live.
fn publish_state(
    item: &ExportItem,
    source_published: &str,
    source_status: &str,
) -> (String, String) {
    if !is_approved(&item.status) {
        return ("FALSE".into(), "draft".into());
    }
    let or = |s: &str, d: &str| {
        if s.trim().is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    (or(source_published, "TRUE"), or(source_status, "active"))
}

fn write_shopify(
    items: &[ExportItem],
    out: &mut dyn Write,
) -> Result<ExportSummary, CatalogueError> {
    unique(items.iter().map(|i| i.handle.as_str()), "Shopify")?;
    // Columns of imported files that are not standard: after the standard
    // ones, in first-seen order.
    let mut extras: Vec<String> = Vec::new();
    let mut extra_index: HashMap<(String, usize), usize> = HashMap::new();
    for item in items {
        let Some(source) = item.product.as_ref().and_then(|p| p.source.as_ref()) else {
            continue;
        };
        for (id, h) in header_ids(&source.headers).into_iter().zip(&source.headers) {
            let standard = id.1 == 0 && standard_column(&id.0).is_some();
            if !standard && !extra_index.contains_key(&id) {
                extra_index.insert(id, SHOPIFY_COLUMNS.len() + extras.len());
                extras.push(h.clone());
            }
        }
    }
    let width = SHOPIFY_COLUMNS.len() + extras.len();
    let mut w = csv::WriterBuilder::new().flexible(false).from_writer(out);
    w.write_record(
        SHOPIFY_COLUMNS
            .iter()
            .copied()
            .chain(extras.iter().map(String::as_str)),
    )?;
    let mut rows = 0;
    for item in items {
        let source = item
            .product
            .as_ref()
            .and_then(|p| p.source.as_ref())
            .filter(|s| !s.rows.is_empty());
        let written = match source {
            Some(source) => shopify_rows_from_source(item, source, &extra_index, width),
            None => shopify_rows_new(item, width),
        };
        for row in &written {
            w.write_record(row)?;
        }
        rows += written.len();
    }
    w.flush()?;
    Ok(ExportSummary {
        rows,
        products: items.len(),
    })
}

/// An imported product's rows, every column kept, with the draft's copy in
/// Title, Body (HTML), Tags, SEO Title, SEO Description and the first
/// image's alt text.
fn shopify_rows_from_source(
    item: &ExportItem,
    source: &super::SourceRows,
    extra_index: &HashMap<(String, usize), usize>,
    width: usize,
) -> Vec<Vec<String>> {
    let targets: Vec<Option<usize>> = header_ids(&source.headers)
        .into_iter()
        .map(|id| match standard_column(&id.0) {
            Some(i) if id.1 == 0 => Some(i),
            _ => extra_index.get(&id).copied(),
        })
        .collect();
    let mut rows: Vec<Vec<String>> = source
        .rows
        .iter()
        .map(|cells| {
            let mut row = vec![String::new(); width];
            for (cell, target) in cells.iter().zip(&targets) {
                if let Some(t) = target {
                    row[*t] = cell.clone();
                }
            }
            row
        })
        .collect();
    let listing = &item.listing;
    let original_tags = item.product.as_ref().map_or(&[][..], |p| &p.tags[..]);
    for row in &mut rows {
        row[HANDLE].clone_from(&item.handle);
    }
    if let Some(first) = rows.first_mut() {
        first[TITLE] = listing.title.clone();
        first[BODY] = listing_body_html(listing);
        first[TAGS] = merge_tags(original_tags, &listing.keywords).join(", ");
        if let Some(t) = listing.extra.get("seo_title") {
            first[SEO_TITLE] = t.clone();
        }
        if let Some(d) = listing.extra.get("seo_description") {
            first[SEO_DESCRIPTION] = d.clone();
        }
        let (published, status) = publish_state(item, &first[PUBLISHED], &first[STATUS]);
        first[PUBLISHED] = published;
        first[STATUS] = status;
    }
    if let Some(alt) = listing.extra.get("image_alt") {
        if let Some(row) = rows.iter_mut().find(|r| !r[IMAGE_SRC].trim().is_empty()) {
            row[IMAGE_ALT] = alt.clone();
        }
    }
    rows
}

/// A product that did not come from a Shopify file: one row, then one row
/// per further image.
fn shopify_rows_new(item: &ExportItem, width: usize) -> Vec<Vec<String>> {
    let listing = &item.listing;
    let product = item.product.as_ref();
    let opt = |f: fn(&CatalogueProduct) -> Option<&String>| {
        product.and_then(f).cloned().unwrap_or_default()
    };
    let mut first = vec![String::new(); width];
    first[HANDLE] = item.handle.clone();
    first[TITLE] = listing.title.clone();
    first[BODY] = listing_body_html(listing);
    first[VENDOR] = product
        .and_then(|p| p.vendor.clone())
        .or_else(|| item.fallback_vendor.clone())
        .unwrap_or_default();
    first[CATEGORY] = opt(|p| p.category.as_ref());
    first[TYPE] = opt(|p| p.product_type.as_ref());
    let original_tags = product.map_or(&[][..], |p| &p.tags[..]);
    first[TAGS] = merge_tags(original_tags, &listing.keywords).join(", ");
    let (published, status) = publish_state(item, "", "");
    first[PUBLISHED] = published;
    first[STATUS] = status;
    for (i, (name, value)) in product
        .map_or(&[][..], |p| &p.options[..])
        .iter()
        .take(3)
        .enumerate()
    {
        first[OPTION1_NAME + 2 * i] = name.clone();
        first[OPTION1_NAME + 2 * i + 1] = value.clone();
    }
    first[SKU] = opt(|p| p.sku.as_ref());
    first[PRICE] = opt(|p| p.price.as_ref());
    first[SEO_TITLE] = listing.extra.get("seo_title").cloned().unwrap_or_default();
    first[SEO_DESCRIPTION] = listing
        .extra
        .get("seo_description")
        .cloned()
        .unwrap_or_default();
    let images = product.map_or(&[][..], |p| &p.images[..]);
    let mut rows = vec![first];
    for (i, image) in images.iter().enumerate() {
        if i > 0 {
            let mut row = vec![String::new(); width];
            row[HANDLE] = item.handle.clone();
            rows.push(row);
        }
        let row = &mut rows[i];
        row[IMAGE_SRC] = image.src.clone();
        row[IMAGE_POSITION] = image
            .position
            .or_else(|| u32::try_from(i + 1).ok())
            .map(|p| p.to_string())
            .unwrap_or_default();
        row[IMAGE_ALT] = if i == 0 {
            listing.extra.get("image_alt").or(image.alt.as_ref())
        } else {
            image.alt.as_ref()
        }
        .cloned()
        .unwrap_or_default();
    }
    rows
}

// ----------------------------------------------------------------- Amazon

pub const AMAZON_COLUMNS: [&str; 15] = [
    "item_sku",
    "item_name",
    "brand_name",
    "bullet_point1",
    "bullet_point2",
    "bullet_point3",
    "bullet_point4",
    "bullet_point5",
    "generic_keywords",
    "product_description",
    "main_image_url",
    "other_image_url1",
    "other_image_url2",
    "other_image_url3",
    "update_delete",
];

/// Amazon's limit on generic_keywords, in bytes.
pub const AMAZON_KEYWORD_BYTES: usize = 249;

/// One line of a tab-separated file: tabs and newlines become spaces.
fn flat(s: &str) -> String {
    fold_whitespace(s)
}

/// Keywords space-separated, de-duplicated, whole keywords only, within
/// `limit` bytes; a keyword that does not fit is left out and later,
/// shorter ones still tried.
fn keyword_field(keywords: &[String], limit: usize) -> String {
    let mut seen = HashSet::new();
    let mut out = String::new();
    for k in keywords {
        let k = flat(k);
        if k.is_empty() || !seen.insert(k.to_lowercase()) {
            continue;
        }
        let extra = if out.is_empty() { k.len() } else { k.len() + 1 };
        if out.len() + extra > limit {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&k);
    }
    out
}

fn write_amazon(
    items: &[ExportItem],
    out: &mut dyn Write,
) -> Result<ExportSummary, CatalogueError> {
    let sku = |i: &ExportItem| {
        i.product
            .as_ref()
            .and_then(|p| p.sku.clone())
            .unwrap_or_else(|| i.handle.clone())
    };
    let skus: Vec<String> = items.iter().map(sku).collect();
    unique(skus.iter().map(String::as_str), "Amazon")?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .quote_style(csv::QuoteStyle::Never)
        .from_writer(out);
    w.write_record(AMAZON_COLUMNS)?;
    for (item, sku) in items.iter().zip(skus) {
        let l = &item.listing;
        let product = item.product.as_ref();
        let mut bullets: Vec<String> = l.bullets.iter().map(|b| flat(b)).collect();
        // Amazon has five bullet fields: more are joined into the fifth
        // rather than dropped.
        if bullets.len() > 5 {
            let rest = bullets.split_off(4).join(" ");
            bullets.push(rest);
        }
        bullets.resize(5, String::new());
        // Amazon fetches images by URL; local paths are of no use to it.
        let urls: Vec<String> = product
            .map_or(&[][..], |p| &p.images[..])
            .iter()
            .filter(|i| is_url(&i.src))
            .map(|i| flat(&i.src))
            .collect();
        let url = |n: usize| urls.get(n).cloned().unwrap_or_default();
        let brand = product
            .and_then(|p| p.vendor.clone())
            .or_else(|| item.fallback_vendor.clone())
            .unwrap_or_default();
        let mut row = vec![flat(&sku), flat(&l.title), flat(&brand)];
        row.extend(bullets);
        row.push(keyword_field(&l.keywords, AMAZON_KEYWORD_BYTES));
        row.push(flat(&l.description));
        row.extend([url(0), url(1), url(2), url(3)]);
        row.push("Update".into());
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(ExportSummary {
        rows: items.len(),
        products: items.len(),
    })
}

// ------------------------------------------------------------------- JSON

#[derive(Serialize)]
struct JsonItem<'a> {
    handle: &'a str,
    product_id: i64,
    draft_id: i64,
    version: i64,
    status: &'a str,
    lang: &'a str,
    marketplace: &'a str,
    listing: &'a Listing,
}

fn write_json(items: &[ExportItem], out: &mut dyn Write) -> Result<ExportSummary, CatalogueError> {
    let json: Vec<JsonItem<'_>> = items
        .iter()
        .map(|i| JsonItem {
            handle: &i.handle,
            product_id: i.product_id,
            draft_id: i.draft_id,
            version: i.version,
            status: &i.status,
            lang: &i.lang,
            marketplace: &i.marketplace,
            listing: &i.listing,
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json)?;
    out.write_all(b"\n")?;
    Ok(ExportSummary {
        rows: items.len(),
        products: items.len(),
    })
}

// --------------------------------------------------------------- previews

/// Markdown that renders as the literal text: HTML is escaped (a preview
/// never runs markup from a model) and Markdown's own marks are quoted.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in fold_whitespace(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn paragraphs(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn meta_line(i: &ExportItem) -> String {
    format!(
        "{} · {} · {} · {} · v{}",
        i.handle, i.lang, i.marketplace, i.status, i.version
    )
}

fn write_markdown(
    items: &[ExportItem],
    out: &mut dyn Write,
) -> Result<ExportSummary, CatalogueError> {
    writeln!(out, "# Vitrine export\n")?;
    for item in items {
        let l = &item.listing;
        writeln!(out, "## {}\n", md(&l.title))?;
        writeln!(out, "{}\n", md(&meta_line(item)))?;
        for b in &l.bullets {
            writeln!(out, "- {}", md(b))?;
        }
        if !l.bullets.is_empty() {
            writeln!(out)?;
        }
        for p in paragraphs(&l.description) {
            writeln!(out, "{}\n", md(p))?;
        }
        if !l.keywords.is_empty() {
            let k: Vec<String> = l.keywords.iter().map(|k| md(k)).collect();
            writeln!(out, "**Keywords:** {}\n", k.join(", "))?;
        }
        for (name, value) in &l.extra {
            writeln!(out, "**{}:** {}\n", md(name), md(value))?;
        }
    }
    Ok(ExportSummary {
        rows: items.len(),
        products: items.len(),
    })
}

fn write_html(items: &[ExportItem], out: &mut dyn Write) -> Result<ExportSummary, CatalogueError> {
    let mut body = String::new();
    for item in items {
        let l = &item.listing;
        body.push_str("<section><h2>");
        body.push_str(&escape(&l.title));
        body.push_str("</h2><p><small>");
        body.push_str(&escape(&meta_line(item)));
        body.push_str("</small></p>");
        if !l.bullets.is_empty() {
            body.push_str("<ul>");
            for b in &l.bullets {
                body.push_str("<li>");
                body.push_str(&escape(b));
                body.push_str("</li>");
            }
            body.push_str("</ul>");
        }
        for p in paragraphs(&l.description) {
            body.push_str("<p>");
            body.push_str(&escape(p));
            body.push_str("</p>");
        }
        if !l.keywords.is_empty() {
            body.push_str("<p><strong>Keywords:</strong> ");
            body.push_str(&escape(&l.keywords.join(", ")));
            body.push_str("</p>");
        }
        for (name, value) in &l.extra {
            body.push_str("<p><strong>");
            body.push_str(&escape(name));
            body.push_str(":</strong> ");
            body.push_str(&escape(value));
            body.push_str("</p>");
        }
        body.push_str("</section>\n");
    }
    write!(
        out,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Vitrine export</title>\n</head>\n<body>\n<h1>Vitrine export</h1>\n{}\n</body>\n</html>\n",
        sanitize_preview(&body)
    )?;
    Ok(ExportSummary {
        rows: items.len(),
        products: items.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keywords_fit_whole_within_the_byte_budget() {
        let k = strings(&["wool", "WOOL", "merino wool beanie", "hat", "纯棉"]);
        assert_eq!(keyword_field(&k, 249), "wool merino wool beanie hat 纯棉");
        // 纯棉 is six bytes: it no longer fits, the shorter `hat` still does.
        assert_eq!(keyword_field(&k, 28), "wool merino wool beanie hat");
        assert_eq!(keyword_field(&k, 3), "hat");
    }

    #[test]
    fn tags_merge_original_first() {
        let merged = merge_tags(
            &strings(&["cotton", "Crew Neck"]),
            &strings(&["crew neck", "gift, idea", " ", "new"]),
        );
        assert_eq!(merged, ["cotton", "Crew Neck", "gift idea", "new"]);
    }

    #[test]
    fn only_approved_drafts_go_live() {
        let mut item = ExportItem {
            product_id: 1,
            handle: "h".into(),
            draft_id: 1,
            version: 1,
            status: "in_review".into(),
            lang: "en".into(),
            marketplace: "shopify".into(),
            listing: Listing {
                title: "t".into(),
                bullets: vec![],
                description: String::new(),
                keywords: vec![],
                extra: Default::default(),
            },
            product: None,
            fallback_vendor: None,
        };
        let state = |item: &ExportItem, p: &str, s: &str| publish_state(item, p, s);
        assert_eq!(
            state(&item, "TRUE", "active"),
            ("FALSE".into(), "draft".into())
        );
        item.status = "approved".into();
        assert_eq!(state(&item, "", ""), ("TRUE".into(), "active".into()));
        assert_eq!(
            state(&item, "FALSE", "archived"),
            ("FALSE".into(), "archived".into())
        );
    }
}
