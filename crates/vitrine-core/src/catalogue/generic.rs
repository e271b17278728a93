//! A generic product sheet: one row per product, columns found by their
//! header in English or Chinese (`title`, `商品名称`, `image`, `图片`…).

use std::collections::HashMap;

use super::html::html_to_text;
use super::import::{for_each_record, ragged, PhotoResolver};
use super::text::{fold_whitespace, header_key, loose_key, non_empty, slug, split_list};
use super::{CatalogueError, CatalogueProduct, ImageRef, ParsedCatalogue, RowError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Handle,
    Sku,
    Title,
    Image,
    Description,
    Vendor,
    Type,
    Colour,
    Material,
    Size,
    Price,
    Tags,
}

/// What a column holds, from its header (case, spaces, `_`, `-` ignored).
fn role(header: &str) -> Option<Role> {
    let role = match loose_key(header).as_str() {
        "handle" | "id" | "productid" | "itemid" | "商品id" | "编号" | "商品编号" => {
            Role::Handle
        }
        "sku" | "itemsku" | "variantsku" | "货号" | "款号" | "商品编码" => Role::Sku,
        "title" | "name" | "productname" | "producttitle" | "itemname" | "标题" | "商品名称"
        | "商品标题" | "名称" | "品名" | "产品名称" => Role::Title,
        "image" | "images" | "photo" | "photos" | "imagepath" | "imagepaths" | "imagesrc"
        | "imageurl" | "imageurls" | "picture" | "pictures" | "图片" | "主图" | "图片路径"
        | "商品图片" => Role::Image,
        "description" | "desc" | "body" | "bodyhtml" | "body(html)" | "描述" | "商品描述"
        | "详情" | "商品详情" => Role::Description,
        "brand" | "vendor" | "brandname" | "品牌" => Role::Vendor,
        "type" | "producttype" | "category" | "类目" | "类型" | "分类" | "品类" => {
            Role::Type
        }
        "colour" | "color" | "颜色" | "颜色分类" => Role::Colour,
        "material" | "fabric" | "材质" | "面料" => Role::Material,
        "size" | "尺码" | "尺寸" => Role::Size,
        "price" | "价格" | "售价" => Role::Price,
        "tags" | "tag" | "keywords" | "标签" | "关键词" => Role::Tags,
        _ => return None,
    };
    Some(role)
}

/// Anything that looks like markup: the description is then HTML.
fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

pub(super) fn read(
    reader: &mut csv::Reader<&[u8]>,
    bytes: &[u8],
    headers: &csv::StringRecord,
    photos: &PhotoResolver<'_>,
    out: &mut ParsedCatalogue,
) -> Result<(), CatalogueError> {
    let roles: Vec<Option<Role>> = headers.iter().map(role).collect();
    // The first column of a role wins.
    let col = |r: Role| roles.iter().position(|x| *x == Some(r));
    let Some(title_col) = col(Role::Title) else {
        return Err(CatalogueError::NoTitleColumn {
            found: headers
                .iter()
                .map(|h| format!("`{}`", header_key(h)))
                .collect(),
        });
    };
    let (handle_col, sku_col) = (col(Role::Handle), col(Role::Sku));
    let image_cols: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i] == Some(Role::Image))
        .collect();
    let option_cols = [
        ("Color", col(Role::Colour)),
        ("Material", col(Role::Material)),
        ("Size", col(Role::Size)),
    ];
    let (desc_col, vendor_col, type_col, price_col, tags_col) = (
        col(Role::Description),
        col(Role::Vendor),
        col(Role::Type),
        col(Role::Price),
        col(Role::Tags),
    );
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let products = &mut out.products;
    let mut errors = Vec::new();
    for_each_record(reader, bytes, &mut out.errors, |line, record| {
        let get = |c: Option<usize>| non_empty(c.and_then(|c| record.get(c)));
        let title = get(Some(title_col)).map(|t| fold_whitespace(&t));
        let key = get(handle_col).or_else(|| get(sku_col));
        let handle = key
            .clone()
            .or_else(|| title.as_deref().map(slug).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| format!("row-{line}"));
        let mut error = |message: String| {
            errors.push(RowError {
                line,
                handle: Some(handle.clone()),
                message,
            })
        };
        if let Some(message) = ragged(record, headers) {
            error(message);
            return;
        }
        let Some(title) = title else {
            error("the row has no title; the product is refused".into());
            return;
        };
        if let Some(first) = first_line.get(&handle) {
            error(format!(
                "duplicate handle `{handle}`: already used by the product on line {first}; this row is refused"
            ));
            return;
        }
        let mut p = CatalogueProduct::new(handle.clone(), title, line);
        if let Some(desc) = get(desc_col) {
            let text = if looks_like_html(&desc) {
                let text = html_to_text(&desc);
                p.description_html = Some(desc);
                text
            } else {
                fold_whitespace(&desc)
            };
            p.description_text = Some(text).filter(|t| !t.is_empty());
        }
        p.vendor = get(vendor_col);
        p.product_type = get(type_col);
        p.price = get(price_col);
        p.sku = get(sku_col);
        p.tags = get(tags_col).map(|t| split_list(&t)).unwrap_or_default();
        p.options = option_cols
            .iter()
            .filter_map(|(name, c)| Some((name.to_string(), get(*c)?)))
            .collect();
        for &c in &image_cols {
            let Some(cell) = record.get(c) else { continue };
            for src in cell
                .split([';', '|', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                match photos.resolve(src) {
                    Ok(Some(path)) => p.photos.push(path),
                    Ok(None) => {}
                    Err(message) => error(message),
                }
                p.images.push(ImageRef {
                    src: src.to_string(),
                    position: u32::try_from(p.images.len() + 1).ok(),
                    alt: None,
                });
            }
        }
        first_line.insert(handle, line);
        products.push(p);
    });
    out.errors.append(&mut errors);
    out.errors.sort_by_key(|e| e.line);
    Ok(())
}
