//! Catalogues in and out, as pure library code (no store, no model).
//!
//! `import` reads a Shopify product CSV, a generic CSV (English or Chinese
//! headers) or a folder of photos into [`CatalogueProduct`]s, recording
//! every row it could not use as a [`RowError`] so that nothing is dropped
//! silently. `export` writes drafts as a Shopify product CSV (round-trip
//! safe with an imported one), an Amazon-style flat file, JSON, or a
//! Markdown/HTML preview. The formats are described in docs/catalogues.md.

pub mod error;
pub mod export;
mod folder;
mod generic;
pub mod html;
pub mod import;
mod shopify;
mod text;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use error::CatalogueError;
pub use export::{write_export, ExportFormat, ExportItem, ExportSummary};
pub use import::{parse_csv_bytes, parse_file, MAX_FILE_BYTES};

/// Where a catalogue came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    Shopify,
    Generic,
    Folder,
}

/// A catalogue file or folder, read: its products and everything that was
/// not turned into one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedCatalogue {
    pub format: SourceFormat,
    /// `utf-8` or `gb18030` (a superset of GBK); empty for a folder.
    pub encoding: String,
    /// In file order (folders: sorted by handle).
    pub products: Vec<CatalogueProduct>,
    /// Rows refused or only partly used, in file order.
    pub errors: Vec<RowError>,
    /// Files of a folder that are not photos (hidden files are not listed).
    pub skipped_files: Vec<SkippedFile>,
}

/// A row that was refused, or a part of a row that could not be used (an
/// image path that does not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based physical line where the record starts in the file (a quoted
    /// newline makes a record span several lines); 0 for a folder.
    pub line: u64,
    pub handle: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// A URL or a path exactly as the catalogue wrote it.
    pub src: String,
    pub position: Option<u32>,
    pub alt: Option<String>,
}

/// Every original row of one Shopify product, all columns, so an export
/// can write them back with only the generated copy replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRows {
    /// The file's header, exactly as written.
    pub headers: Vec<String>,
    /// One entry per row of this handle, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

/// One product of a catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueProduct {
    /// Stable key: Shopify's Handle; a generic CSV's handle, id or SKU
    /// column, else a slug of the title; a folder's slug of the group name.
    pub handle: String,
    /// Never empty: a row without a title is a [`RowError`].
    pub title: String,
    /// Line of the product's first row (0 for a folder).
    pub line: u64,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    /// Shopify's "Product Category".
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub description_html: Option<String>,
    /// The description with markup removed and whitespace folded.
    pub description_text: Option<String>,
    /// The first variant's options, e.g. `("Color", "Navy")`.
    pub options: Vec<(String, String)>,
    pub sku: Option<String>,
    pub price: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    /// Every image the catalogue names, URLs included, in order.
    pub images: Vec<ImageRef>,
    /// The images that are local files that exist (URLs are never
    /// downloaded: local-first).
    pub photos: Vec<PathBuf>,
    /// Shopify only: the original rows, for a round-trip export.
    pub source: Option<SourceRows>,
}

impl CatalogueProduct {
    /// A product with a handle and title and nothing else.
    pub fn new(handle: impl Into<String>, title: impl Into<String>, line: u64) -> Self {
        CatalogueProduct {
            handle: handle.into(),
            title: title.into(),
            line,
            vendor: None,
            product_type: None,
            category: None,
            tags: Vec::new(),
            description_html: None,
            description_text: None,
            options: Vec::new(),
            sku: None,
            price: None,
            seo_title: None,
            seo_description: None,
            images: Vec::new(),
            photos: Vec::new(),
            source: None,
        }
    }
}
