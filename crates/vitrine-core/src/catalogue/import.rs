//! Reading catalogues: a CSV (Shopify's product format, sniffed from its
//! header, or a generic one) or a folder of photos.
//!
//! A file is refused as a whole only when it cannot be a catalogue (too
//! large, empty, binary, undecodable, no title column). Everything else is
//! per row: a bad row becomes a [`RowError`] and the rest is read.
//!
//! Memory: the file's bytes are read once (UTF-8 is borrowed from them,
//! GB18030 is decoded into one copy) and records are streamed from them one
//! at a time into the products, so what grows with the row count is the
//! output itself.

use std::path::{Path, PathBuf};

use super::text::{delimiter, header_key, is_url};
use super::{folder, generic, shopify, CatalogueError, ParsedCatalogue, RowError, SourceFormat};

/// Larger files are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Read a catalogue: a directory is a folder of photos, anything else a
/// CSV whose relative image paths are resolved against its folder.
pub fn parse_file(path: &Path) -> Result<ParsedCatalogue, CatalogueError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        return folder::parse_folder(path);
    }
    // Refuse before reading: a 10 GB file must not be loaded to learn that.
    if meta.len() > MAX_FILE_BYTES {
        return Err(CatalogueError::TooLarge {
            size: meta.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    parse_csv_bytes(&bytes, Some(base))
}

pub(super) fn io_error(path: &Path, e: std::io::Error) -> CatalogueError {
    match e.kind() {
        std::io::ErrorKind::NotFound => CatalogueError::MissingFile {
            path: path.to_path_buf(),
        },
        _ => CatalogueError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// Parse CSV contents. `base_dir` resolves relative image paths; without
/// it they are taken relative to the current directory.
pub fn parse_csv_bytes(
    bytes: &[u8],
    base_dir: Option<&Path>,
) -> Result<ParsedCatalogue, CatalogueError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(CatalogueError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    // A NUL never occurs in a CSV saved as text (UTF-16 files have them
    // everywhere): refuse early with a message that says what to do.
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(CatalogueError::Binary { offset });
    }
    let (text, encoding) = crate::text_decode::decode(bytes)?;
    if text.trim().is_empty() {
        return Err(CatalogueError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(&text))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| CatalogueError::Header(e.to_string()))?
        .clone();
    let mut parsed = ParsedCatalogue {
        format: SourceFormat::Generic,
        encoding: encoding.to_string(),
        products: Vec::new(),
        errors: Vec::new(),
        skipped_files: Vec::new(),
    };
    let photos = PhotoResolver { base_dir };
    if is_shopify(&headers) {
        parsed.format = SourceFormat::Shopify;
        shopify::read(&mut reader, text.as_bytes(), &headers, &photos, &mut parsed);
    } else {
        generic::read(&mut reader, text.as_bytes(), &headers, &photos, &mut parsed)?;
    }
    Ok(parsed)
}

/// Shopify's header: Handle and Title, plus one column only Shopify's
/// format has, so a generic sheet with `handle,title` stays generic (one
/// row per product, a repeated handle an error).
fn is_shopify(headers: &csv::StringRecord) -> bool {
    let keys: Vec<String> = headers.iter().map(header_key).collect();
    let has = |k: &str| keys.iter().any(|h| h == k);
    has("handle")
        && has("title")
        && [
            "body (html)",
            "variant sku",
            "variant price",
            "image src",
            "option1 name",
            "published",
        ]
        .iter()
        .any(|k| has(k))
}

/// Streams the records of `reader` as `(line, record)`; a record the CSV
/// reader refuses becomes a row error. Stops when the reader no longer
/// advances, so a broken reader cannot loop forever.
pub(super) fn for_each_record(
    reader: &mut csv::Reader<&[u8]>,
    bytes: &[u8],
    errors: &mut Vec<RowError>,
    mut f: impl FnMut(u64, &csv::StringRecord),
) {
    let mut record = csv::StringRecord::new();
    loop {
        let before = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| line_of(p, bytes));
                // Blank rows (a spreadsheet's trailing ones) hold nothing to lose.
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                f(line, &record);
            }
            Err(e) => {
                let line = e
                    .position()
                    .map_or(reader.position().line(), |p| line_of(p, bytes));
                errors.push(RowError {
                    line,
                    handle: None,
                    message: format!("unreadable CSV record: {e}"),
                });
                if reader.position().byte() == before {
                    break;
                }
            }
        }
    }
}

/// The 1-based line a record starts on. The csv crate reports where it
/// began reading, which is before the terminator of the line above when
/// that was a CRLF, and before any blank lines it skipped; a record never
/// starts with `\r` or `\n`, so step over those, counting the newlines.
fn line_of(p: &csv::Position, bytes: &[u8]) -> u64 {
    let start = usize::try_from(p.byte()).unwrap_or(usize::MAX);
    let newlines = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .filter(|&&c| c == b'\n')
        .count();
    p.line() + newlines as u64
}

/// The row-length check every format shares: a ragged row is refused.
pub(super) fn ragged(record: &csv::StringRecord, headers: &csv::StringRecord) -> Option<String> {
    (record.len() != headers.len()).then(|| {
        format!(
            "the row has {} fields but the header has {}; check for a missing quote or delimiter",
            record.len(),
            headers.len()
        )
    })
}

/// Resolves the image sources of a CSV to local photos.
pub(super) struct PhotoResolver<'a> {
    pub base_dir: Option<&'a Path>,
}

impl PhotoResolver<'_> {
    /// `Ok(None)` for a URL (never downloaded), `Ok(Some(path))` for a
    /// local file that exists, `Err(message)` for a path that does not.
    pub fn resolve(&self, src: &str) -> Result<Option<PathBuf>, String> {
        let src = src.trim();
        if src.is_empty() || is_url(src) {
            return Ok(None);
        }
        let raw = Path::new(src);
        let path = match self.base_dir {
            Some(base) if raw.is_relative() => base.join(raw),
            _ => raw.to_path_buf(),
        };
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(path)),
            Ok(_) => Err(format!(
                "image `{src}` is not a file ({}); the product is kept without it",
                path.display()
            )),
            Err(_) => Err(format!(
                "image `{src}` not found ({}); the product is kept without it",
                path.display()
            )),
        }
    }
}
