//! Shopify's product CSV: rows sharing a Handle are one product. The first
//! row carries the product (Title, Body (HTML), Vendor, …) and its first
//! variant; later rows carry more variants and images. Every row is kept,
//! all columns, for a round-trip export.

use std::collections::HashMap;

use super::html::html_to_text;
use super::import::{for_each_record, ragged, PhotoResolver};
use super::text::{header_key, non_empty, split_tags};
use super::{CatalogueProduct, ImageRef, ParsedCatalogue, RowError, SourceRows};

/// Column positions of the fields we read, by Shopify's header names.
#[derive(Default)]
struct Columns {
    handle: Option<usize>,
    title: Option<usize>,
    body: Option<usize>,
    vendor: Option<usize>,
    category: Option<usize>,
    product_type: Option<usize>,
    tags: Option<usize>,
    option_names: [Option<usize>; 3],
    option_values: [Option<usize>; 3],
    sku: Option<usize>,
    price: Option<usize>,
    image_src: Option<usize>,
    image_position: Option<usize>,
    image_alt: Option<usize>,
    seo_title: Option<usize>,
    seo_description: Option<usize>,
}

impl Columns {
    fn new(headers: &csv::StringRecord) -> Columns {
        let mut c = Columns::default();
        for (i, h) in headers.iter().enumerate() {
            let slot = match header_key(h).as_str() {
                "handle" => &mut c.handle,
                "title" => &mut c.title,
                "body (html)" => &mut c.body,
                "vendor" => &mut c.vendor,
                "product category" => &mut c.category,
                "type" => &mut c.product_type,
                "tags" => &mut c.tags,
                "option1 name" => &mut c.option_names[0],
                "option1 value" => &mut c.option_values[0],
                "option2 name" => &mut c.option_names[1],
                "option2 value" => &mut c.option_values[1],
                "option3 name" => &mut c.option_names[2],
                "option3 value" => &mut c.option_values[2],
                "variant sku" => &mut c.sku,
                "variant price" => &mut c.price,
                "image src" => &mut c.image_src,
                "image position" => &mut c.image_position,
                "image alt text" => &mut c.image_alt,
                "seo title" => &mut c.seo_title,
                "seo description" => &mut c.seo_description,
                _ => continue,
            };
            // The first of two same-named columns wins, as in Shopify.
            slot.get_or_insert(i);
        }
        c
    }
}

fn cell(record: &csv::StringRecord, col: Option<usize>) -> Option<&str> {
    col.and_then(|c| record.get(c))
}

/// The product the current run of rows belongs to.
enum Current {
    None,
    Open {
        handle: String,
        index: usize,
    },
    /// Rows of this handle are refused, each with this reason.
    Refused {
        handle: String,
        reason: String,
    },
}

pub(super) fn read(
    reader: &mut csv::Reader<&[u8]>,
    bytes: &[u8],
    headers: &csv::StringRecord,
    photos: &PhotoResolver<'_>,
    out: &mut ParsedCatalogue,
) {
    let cols = Columns::new(headers);
    let header_names: Vec<String> = headers.iter().map(str::to_string).collect();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    // Handles whose first row was refused, with that row's line.
    let mut refused: HashMap<String, u64> = HashMap::new();
    let mut current = Current::None;
    let products = &mut out.products;
    let mut errors = Vec::new();
    for_each_record(reader, bytes, &mut out.errors, |line, record| {
        let handle = cell(record, cols.handle).unwrap_or_default().trim();
        let mut error = |message: String| {
            errors.push(RowError {
                line,
                handle: non_empty(Some(handle)),
                message,
            })
        };
        if let Some(message) = ragged(record, headers) {
            error(message);
            return;
        }
        if handle.is_empty() {
            error("the row has no Handle".into());
            return;
        }
        match &current {
            Current::Open { handle: h, index } if h == handle => {
                add_row(&mut products[*index], &cols, record, photos, &mut error);
                return;
            }
            Current::Refused { handle: h, reason } if h == handle => {
                error(reason.clone());
                return;
            }
            _ => {}
        }
        let title = cell(record, cols.title).unwrap_or_default().trim();
        if let Some(&index) = by_handle.get(handle) {
            if title.is_empty() {
                // More variant or image rows of a product seen earlier:
                // Shopify groups by handle wherever the rows are.
                add_row(&mut products[index], &cols, record, photos, &mut error);
                current = Current::Open {
                    handle: handle.to_string(),
                    index,
                };
            } else {
                let first = products[index].line;
                let reason = format!(
                    "duplicate handle `{handle}`: a product with this handle starts on line {first}; this row is refused (the first product is kept)"
                );
                error(reason.clone());
                current = Current::Refused {
                    handle: handle.to_string(),
                    reason,
                };
            }
            return;
        }
        if let Some(&first) = refused.get(handle) {
            let reason = format!(
                "the product `{handle}` was refused on line {first}; this row of it is refused too"
            );
            error(reason.clone());
            current = Current::Refused {
                handle: handle.to_string(),
                reason,
            };
            return;
        }
        if title.is_empty() {
            error(format!(
                "the first row of handle `{handle}` has no Title; the product is refused"
            ));
            refused.insert(handle.to_string(), line);
            current = Current::Refused {
                handle: handle.to_string(),
                reason: format!(
                    "the product `{handle}` was refused on line {line} (no Title); this row of it is refused too"
                ),
            };
            return;
        }
        let mut product = first_row(handle, title, &cols, record, line);
        product.source = Some(SourceRows {
            headers: header_names.clone(),
            rows: Vec::new(),
        });
        add_row(&mut product, &cols, record, photos, &mut error);
        by_handle.insert(handle.to_string(), products.len());
        current = Current::Open {
            handle: handle.to_string(),
            index: products.len(),
        };
        products.push(product);
    });
    out.errors.append(&mut errors);
    out.errors.sort_by_key(|e| e.line);
}

/// The product fields of a handle's first row.
fn first_row(
    handle: &str,
    title: &str,
    cols: &Columns,
    record: &csv::StringRecord,
    line: u64,
) -> CatalogueProduct {
    let get = |col: Option<usize>| non_empty(cell(record, col));
    let mut p = CatalogueProduct::new(handle, title, line);
    p.description_html = get(cols.body);
    p.description_text = p
        .description_html
        .as_deref()
        .map(html_to_text)
        .filter(|t| !t.is_empty());
    p.vendor = get(cols.vendor);
    p.category = get(cols.category);
    p.product_type = get(cols.product_type);
    p.tags = cell(record, cols.tags).map(split_tags).unwrap_or_default();
    p.options = (0..3)
        .filter_map(|i| {
            let name = get(cols.option_names[i])?;
            Some((name, get(cols.option_values[i]).unwrap_or_default()))
        })
        .collect();
    p.sku = get(cols.sku);
    p.price = get(cols.price);
    p.seo_title = get(cols.seo_title);
    p.seo_description = get(cols.seo_description);
    p
}

/// Keep the row for export and take its image, if any.
fn add_row(
    product: &mut CatalogueProduct,
    cols: &Columns,
    record: &csv::StringRecord,
    photos: &PhotoResolver<'_>,
    error: &mut impl FnMut(String),
) {
    if let Some(source) = product.source.as_mut() {
        source
            .rows
            .push(record.iter().map(str::to_string).collect());
    }
    let Some(src) = non_empty(cell(record, cols.image_src)) else {
        return;
    };
    match photos.resolve(&src) {
        Ok(Some(path)) => product.photos.push(path),
        Ok(None) => {}
        Err(message) => error(message),
    }
    product.images.push(ImageRef {
        src,
        position: cell(record, cols.image_position).and_then(|p| p.trim().parse().ok()),
        alt: non_empty(cell(record, cols.image_alt)),
    });
}
