//! Catalogue import and export end to end: a realistic Shopify CSV written
//! for the tests, generic sheets, folders of photos, bad input, and the
//! export → re-import round trip.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use vitrine_core::catalogue::export::{is_approved, SHOPIFY_COLUMNS};
use vitrine_core::catalogue::html::listing_body_html;
use vitrine_core::catalogue::{
    parse_csv_bytes, parse_file, write_export, CatalogueError, CatalogueProduct, ExportFormat,
    ExportItem, ParsedCatalogue, SourceFormat,
};
use vitrine_core::Listing;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalogue/shopify_products.csv")
}

fn by_handle(p: &ParsedCatalogue) -> BTreeMap<&str, &CatalogueProduct> {
    p.products.iter().map(|p| (p.handle.as_str(), p)).collect()
}

fn listing_for(p: &CatalogueProduct) -> Listing {
    let mut extra = BTreeMap::new();
    extra.insert("seo_title".into(), format!("{} | New season", p.title));
    extra.insert(
        "seo_description".into(),
        format!("Shop the {}, with \"quotes\", commas and 中文.", p.title),
    );
    extra.insert(
        "image_alt".into(),
        format!("{} on a plain background", p.title),
    );
    Listing {
        title: format!("{} — refreshed", p.title),
        bullets: vec![
            "Soft & durable <b>fabric</b>".into(),
            format!("Made for {}", p.handle),
        ],
        description: format!(
            "A new description for {}.\n\nSecond paragraph, with commas, \"quotes\"\nand a line break.",
            p.title
        ),
        // "Cotton" repeats the tee's tag `cotton` (case differs): merged once.
        keywords: vec!["new season".into(), "Cotton".into(), "gift, idea".into()],
        extra,
    }
}

fn export_items(parsed: &ParsedCatalogue) -> Vec<ExportItem> {
    parsed
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| ExportItem {
            product_id: i as i64 + 1,
            handle: p.handle.clone(),
            draft_id: 100 + i as i64,
            version: 2,
            status: if p.handle == "canvas-tote-bag" {
                "in_review".into()
            } else {
                "approved".into()
            },
            lang: "en".into(),
            marketplace: "shopify".into(),
            listing: listing_for(p),
            product: Some(p.clone()),
            fallback_vendor: Some("Fallback Brand".into()),
        })
        .collect()
}

fn export(format: ExportFormat, items: &[ExportItem]) -> Vec<u8> {
    let mut out = Vec::new();
    let summary = write_export(format, items, &mut out).unwrap();
    assert_eq!(summary.products, items.len());
    out
}

/// A cell of a source row by header name.
fn source_cell<'a>(p: &'a CatalogueProduct, row: usize, header: &str) -> &'a str {
    let s = p.source.as_ref().unwrap();
    let i = s.headers.iter().position(|h| h == header).unwrap();
    &s.rows[row][i]
}

#[test]
fn shopify_fixture_is_read_product_by_product() {
    let parsed = parse_file(&fixture()).unwrap();
    assert_eq!(parsed.format, SourceFormat::Shopify);
    assert_eq!(parsed.encoding, "utf-8");
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.products.len(), 8);
    let p = by_handle(&parsed);

    let tee = p["classic-crew-tee"];
    assert_eq!(tee.title, "Classic Crew Tee");
    assert_eq!(tee.line, 2);
    assert_eq!(tee.vendor.as_deref(), Some("Northbound Supply"));
    assert_eq!(tee.product_type.as_deref(), Some("T-Shirts"));
    assert_eq!(
        tee.category.as_deref(),
        Some("Apparel & Accessories > Clothing > Shirts & Tops")
    );
    assert_eq!(tee.tags, ["cotton", "crew neck", "essentials"]);
    assert_eq!(
        tee.options,
        [
            ("Color".to_string(), "Navy".to_string()),
            ("Size".to_string(), "S".to_string())
        ]
    );
    assert_eq!(tee.sku.as_deref(), Some("NB-TEE-NV-S"));
    assert_eq!(tee.price.as_deref(), Some("24.00"));
    assert_eq!(
        tee.seo_title.as_deref(),
        Some("Classic Crew Tee | Northbound")
    );
    // The quoted, multi-line body is one field.
    let body = tee.description_html.as_deref().unwrap();
    assert!(
        body.contains("<ul>\n<li>100% combed cotton, 220 gsm</li>"),
        "{body}"
    );
    assert_eq!(
        tee.description_text.as_deref(),
        Some("Our everyday crew-neck tee in heavyweight cotton. 100% combed cotton, 220 gsm Pre-shrunk; relaxed fit")
    );
    let images: Vec<(&str, Option<u32>, Option<&str>)> = tee
        .images
        .iter()
        .map(|i| {
            (
                i.src.rsplit('/').next().unwrap(),
                i.position,
                i.alt.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        images,
        [
            (
                "crew-tee-navy-front.jpg",
                Some(1),
                Some("Navy crew tee, front")
            ),
            (
                "crew-tee-navy-back.jpg",
                Some(2),
                Some("Navy crew tee, back")
            ),
            ("crew-tee-white.jpg", Some(3), None),
        ]
    );
    // URLs are never downloaded: no local photos.
    assert!(tee.photos.is_empty());
    let source = tee.source.as_ref().unwrap();
    assert_eq!(source.rows.len(), 3);
    assert_eq!(source_cell(tee, 0, "Google Shopping / Gender"), "unisex");
    assert_eq!(source_cell(tee, 2, "Variant Grams"), "180");
    assert_eq!(source_cell(tee, 2, "Option1 Value"), "White");

    let scarf = p["silk-scarf-zh"];
    assert_eq!(scarf.title, "真丝印花围巾");
    assert_eq!(scarf.tags, ["真丝", "围巾", "礼物"]);
    assert_eq!(scarf.options, [("颜色".to_string(), "藏青".to_string())]);
    assert_eq!(
        scarf.description_text.as_deref(),
        Some("100% 桑蚕丝，手工卷边。 尺寸：90 × 90 厘米。")
    );

    assert_eq!(p["linen-shirt"].images.len(), 4);
    assert_eq!(p["linen-shirt"].source.as_ref().unwrap().rows.len(), 4);
    assert!(p["leather-card-holder"].images.is_empty());
    assert_eq!(
        p["ceramic-pour-over-set"].description_text.as_deref(),
        Some("Brew a clean cup at home. Dripper & server Dishwasher safe")
    );
}

#[test]
fn shopify_export_reimports_with_the_same_fields() {
    let first = parse_file(&fixture()).unwrap();
    let items = export_items(&first);
    let bytes = export(ExportFormat::Shopify, &items);
    let second = parse_csv_bytes(&bytes, None).unwrap();
    assert_eq!(second.format, SourceFormat::Shopify);
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    assert_eq!(second.products.len(), first.products.len());

    // Header: the standard columns in order, then the file's others in
    // their original order.
    let headers = &second.products[0].source.as_ref().unwrap().headers;
    assert_eq!(&headers[..SHOPIFY_COLUMNS.len()], SHOPIFY_COLUMNS);
    assert_eq!(
        &headers[SHOPIFY_COLUMNS.len()..],
        [
            "Variant Grams",
            "Variant Inventory Tracker",
            "Variant Inventory Qty",
            "Variant Inventory Policy",
            "Variant Fulfillment Service",
            "Variant Compare At Price",
            "Variant Requires Shipping",
            "Variant Taxable",
            "Variant Barcode",
            "Gift Card",
            "Google Shopping / Gender",
            "Google Shopping / Age Group",
            "Variant Image",
            "Variant Weight Unit",
            "Cost per item",
        ]
    );

    let after = by_handle(&second);
    for (item, a) in items.iter().zip(&first.products) {
        let b = after[a.handle.as_str()];
        let l = &item.listing;
        assert_eq!(b.title, l.title);
        assert_eq!(
            b.description_html.as_deref(),
            Some(listing_body_html(l).as_str())
        );
        let mut want_tags = a.tags.clone();
        let lower: HashSet<String> = a.tags.iter().map(|t| t.to_lowercase()).collect();
        for k in ["new season", "Cotton", "gift  idea"] {
            let k = k.split_whitespace().collect::<Vec<_>>().join(" ");
            if !lower.contains(&k.to_lowercase()) {
                want_tags.push(k);
            }
        }
        assert_eq!(b.tags, want_tags, "{}", a.handle);
        assert_eq!(b.seo_title.as_ref(), l.extra.get("seo_title"));
        assert_eq!(b.seo_description.as_ref(), l.extra.get("seo_description"));
        // Kept from the source.
        assert_eq!(b.vendor, a.vendor);
        assert_eq!(b.product_type, a.product_type);
        assert_eq!(b.category, a.category);
        assert_eq!(b.options, a.options);
        assert_eq!(b.sku, a.sku);
        assert_eq!(b.price, a.price);
        assert_eq!(b.images.len(), a.images.len());
        for (i, (x, y)) in a.images.iter().zip(&b.images).enumerate() {
            assert_eq!((&x.src, x.position), (&y.src, y.position));
            let want_alt = if i == 0 {
                l.extra.get("image_alt")
            } else {
                x.alt.as_ref()
            };
            assert_eq!(y.alt.as_ref(), want_alt, "{} image {i}", a.handle);
        }
        // Every other cell of every row, unknown columns included, is
        // byte-for-byte what the source had.
        let (sa, sb) = (a.source.as_ref().unwrap(), b.source.as_ref().unwrap());
        assert_eq!(sa.rows.len(), sb.rows.len());
        let replaced = [
            "Title",
            "Body (HTML)",
            "Tags",
            "SEO Title",
            "SEO Description",
        ];
        let first_image_row = sa
            .rows
            .iter()
            .position(|r| !r[sa.headers.iter().position(|h| h == "Image Src").unwrap()].is_empty());
        for (k, row) in sa.rows.iter().enumerate() {
            for (h, cell) in sa.headers.iter().zip(row) {
                if (k == 0 && replaced.contains(&h.as_str()))
                    || (h == "Image Alt Text" && Some(k) == first_image_row)
                {
                    continue;
                }
                assert_eq!(
                    source_cell(b, k, h),
                    cell,
                    "{} row {k} column {h}",
                    a.handle
                );
            }
        }
    }
    // Published / Status: an unapproved draft is never published; an
    // approved one keeps what the source said (archived stays archived).
    let tote = after["canvas-tote-bag"];
    assert_eq!(source_cell(tote, 0, "Status"), "draft");
    assert_eq!(source_cell(tote, 0, "Published"), "FALSE");
    assert_eq!(
        source_cell(after["running-socks-3-pack"], 0, "Status"),
        "archived"
    );
    assert_eq!(
        source_cell(after["classic-crew-tee"], 0, "Status"),
        "active"
    );
    assert!(!is_approved("in_review"));

    // A second round changes nothing: the export is a fixed point.
    let again = export(ExportFormat::Shopify, &export_items_with(&second, &items));
    assert_eq!(
        String::from_utf8(again).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}

/// The same listings and statuses as `items`, over re-imported products.
fn export_items_with(parsed: &ParsedCatalogue, items: &[ExportItem]) -> Vec<ExportItem> {
    let p = by_handle(parsed);
    items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            // The re-imported tags already hold the keywords: merging
            // again must not add them twice.
            i.product = Some(p[i.handle.as_str()].clone());
            i
        })
        .collect()
}

#[test]
fn generic_products_export_to_shopify_and_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("photos")).unwrap();
    std::fs::write(dir.path().join("photos/tee.jpg"), b"jpeg").unwrap();
    let csv = "货号,商品名称,颜色,材质,尺码,价格,品牌,类目,标签,图片,描述\n\
               SKU-1,纯棉T恤,藏青,纯棉,M,99.00,北行,T恤,\"夏季,纯棉\",photos/tee.jpg;https://cdn.example.com/tee-2.jpg,\"柔软透气\n适合日常\"\n\
               SKU-2,Canvas Tote,Natural,Canvas,,18,,Bags,,https://cdn.example.com/tote.jpg,<p>Sturdy &amp; roomy</p>\n";
    let path = dir.path().join("products.csv");
    std::fs::write(&path, csv).unwrap();
    let first = parse_file(&path).unwrap();
    assert_eq!(first.format, SourceFormat::Generic);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let tee = &first.products[0];
    assert_eq!(tee.handle, "SKU-1");
    assert_eq!(tee.title, "纯棉T恤");
    assert_eq!(tee.options.len(), 3);
    assert_eq!(tee.options[0], ("Color".to_string(), "藏青".to_string()));
    assert_eq!(tee.tags, ["夏季", "纯棉"]);
    assert_eq!(tee.description_text.as_deref(), Some("柔软透气 适合日常"));
    assert_eq!(tee.description_html, None);
    assert_eq!(tee.photos, [dir.path().join("photos/tee.jpg")]);
    assert_eq!(tee.images.len(), 2);
    let tote = &first.products[1];
    assert_eq!(
        tote.description_html.as_deref(),
        Some("<p>Sturdy &amp; roomy</p>")
    );
    assert_eq!(tote.description_text.as_deref(), Some("Sturdy & roomy"));

    let mut items = export_items(&first);
    items[1].product.as_mut().unwrap().vendor = None;
    let bytes = export(ExportFormat::Shopify, &items);
    let second = parse_csv_bytes(&bytes, Some(dir.path())).unwrap();
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    for (item, a) in items.iter().zip(&first.products) {
        let b = by_handle(&second)[a.handle.as_str()].clone();
        assert_eq!(b.title, item.listing.title);
        assert_eq!(b.description_html, Some(listing_body_html(&item.listing)));
        assert_eq!(b.options, a.options);
        assert_eq!(
            (&b.sku, &b.price, &b.product_type),
            (&a.sku, &a.price, &a.product_type)
        );
        let srcs = |p: &CatalogueProduct| -> Vec<(String, Option<u32>)> {
            p.images
                .iter()
                .map(|i| (i.src.clone(), i.position))
                .collect()
        };
        assert_eq!(srcs(&b), srcs(a));
        assert_eq!(b.seo_title.as_ref(), item.listing.extra.get("seo_title"));
    }
    // No vendor of its own: the brand fills in.
    assert_eq!(
        by_handle(&second)["SKU-2"].vendor.as_deref(),
        Some("Fallback Brand")
    );
    assert_eq!(by_handle(&second)["SKU-1"].vendor.as_deref(), Some("北行"));
}

#[test]
fn crlf_files_report_the_right_lines() {
    let csv = "title,sku\r\nTee,A\r\n\r\n\"Cap\r\nred\",B\r\n,C\r\n";
    let p = parse_csv_bytes(csv.as_bytes(), None).unwrap();
    let lines: Vec<u64> = p.products.iter().map(|p| p.line).collect();
    assert_eq!(lines, [2, 4]);
    assert_eq!(p.errors[0].line, 6);
}

#[test]
fn bom_and_gbk_files_are_decoded() {
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(b"Handle,Title,Body (HTML)\ntee,Tee,<p>x</p>\n");
    let p = parse_csv_bytes(&bom, None).unwrap();
    assert_eq!(p.format, SourceFormat::Shopify);
    assert_eq!(p.products[0].handle, "tee");

    let (gbk, _, bad) =
        encoding_rs::GBK.encode("商品名称,颜色,价格\n纯棉卫衣,藏青,199\n真丝围巾,红色,399\n");
    assert!(!bad);
    let p = parse_csv_bytes(&gbk, None).unwrap();
    assert_eq!(p.encoding, "gb18030");
    let titles: Vec<&str> = p.products.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["纯棉卫衣", "真丝围巾"]);
    assert_eq!(p.products[0].handle, "纯棉卫衣");
}

#[test]
fn shopify_bad_rows_become_row_errors() {
    let csv = "Handle,Title,Body (HTML),Image Src\n\
               a,Alpha,\"<p>two\nlines</p>\",https://x.example/a1.jpg\n\
               a,,,https://x.example/a2.jpg\n\
               b,,<p>no title</p>,\n\
               b,,,https://x.example/b2.jpg\n\
               c,Gamma,,\n\
               a,Alpha again,<p>dup</p>,https://x.example/a3.jpg\n\
               a,,,https://x.example/a4.jpg\n\
               ,Orphan,,\n\
               c,Gamma,short\n\
               c,,,https://x.example/c2.jpg\n";
    let p = parse_csv_bytes(csv.as_bytes(), None).unwrap();
    let handles: Vec<&str> = p.products.iter().map(|p| p.handle.as_str()).collect();
    assert_eq!(handles, ["a", "c"]);
    let a = &p.products[0];
    assert_eq!(a.title, "Alpha");
    assert_eq!(a.description_html.as_deref(), Some("<p>two\nlines</p>"));
    assert_eq!(
        a.images.len(),
        2,
        "the duplicate group's images are not merged"
    );
    // c's non-contiguous image row (no Title) joins c.
    assert_eq!(p.products[1].images.len(), 1);
    let errors: Vec<(u64, Option<&str>, &str)> = p
        .errors
        .iter()
        .map(|e| (e.line, e.handle.as_deref(), e.message.as_str()))
        .collect();
    let lines: Vec<u64> = errors.iter().map(|e| e.0).collect();
    // Line 2-3 is the two-line record; b starts on line 5.
    assert_eq!(lines, [5, 6, 8, 9, 10, 11], "{errors:#?}");
    assert!(errors[0].2.contains("no Title"));
    assert!(errors[1].2.contains("refused on line 5"));
    assert!(errors[2].2.contains("duplicate handle `a`") && errors[2].2.contains("line 2"));
    assert!(errors[3].2.contains("duplicate handle `a`"));
    assert!(errors[4].2.contains("no Handle"));
    assert!(errors[5].2.contains("3 fields but the header has 4"));
}

#[test]
fn generic_bad_rows_become_row_errors() {
    let csv = "sku,title,price\n\
               A1,Tee,10\n\
               A2,,12\n\
               A1,Another tee,11\n\
               A3,Ragged\n\
               \n\
               ,,\n\
               ,No key,5\n";
    let p = parse_csv_bytes(csv.as_bytes(), None).unwrap();
    let handles: Vec<&str> = p.products.iter().map(|p| p.handle.as_str()).collect();
    assert_eq!(handles, ["A1", "no-key"]);
    // Blank lines are skipped but still counted.
    assert_eq!(p.products[1].line, 8);
    let errors: Vec<(u64, &str)> = p
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(errors[0].0, 3);
    assert!(errors[0].1.contains("no title"));
    assert_eq!(errors[1].0, 4);
    assert!(errors[1].1.contains("duplicate handle `A1`") && errors[1].1.contains("line 2"));
    assert_eq!(errors[2].0, 5);
    assert!(errors[2].1.contains("2 fields but the header has 3"));

    let err = parse_csv_bytes(b"sku,price\nA,1\n", None).unwrap_err();
    assert!(matches!(err, CatalogueError::NoTitleColumn { .. }), "{err}");
    assert!(err.to_string().contains("`sku`, `price`"), "{err}");
}

#[test]
fn missing_local_images_are_reported_and_the_product_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("photos")).unwrap();
    std::fs::write(dir.path().join("photos/tee.jpg"), b"jpeg").unwrap();
    let path = dir.path().join("c.csv");
    std::fs::write(
        &path,
        "title,image\nTee,photos/tee.jpg;photos/missing.jpg|https://cdn.example.com/x.jpg\nCap,photos\n",
    )
    .unwrap();
    let p = parse_file(&path).unwrap();
    assert_eq!(p.products.len(), 2);
    let tee = &p.products[0];
    assert_eq!(tee.photos, [dir.path().join("photos/tee.jpg")]);
    assert_eq!(tee.images.len(), 3);
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert_eq!(p.errors[0].line, 2);
    assert!(p.errors[0].message.contains("photos/missing.jpg"));
    assert!(p.errors[0].message.contains("not found"));
    assert_eq!(p.errors[1].line, 3);
    assert!(p.errors[1].message.contains("not a file"));
}

#[test]
fn hundred_thousand_rows() {
    let mut generic = String::from("sku,title,price,colour,image\n");
    for i in 0..100_000 {
        generic.push_str(&format!(
            "SKU-{i},\"Product {i}, navy\",{i}.00,Navy,https://cdn.example.com/{i}.jpg\n"
        ));
    }
    let started = std::time::Instant::now();
    let p = parse_csv_bytes(generic.as_bytes(), None).unwrap();
    // Reported, not asserted: timing depends on the machine.
    eprintln!(
        "100 000 generic rows ({} bytes) parsed in {:?}",
        generic.len(),
        started.elapsed()
    );
    assert_eq!(p.products.len(), 100_000);
    assert!(p.errors.is_empty());
    assert_eq!(p.products[99_999].handle, "SKU-99999");
    assert_eq!(p.products[99_999].line, 100_001);

    // Shopify: 25 000 products of four rows each.
    let mut shopify =
        String::from("Handle,Title,Body (HTML),Variant SKU,Image Src,Image Position\n");
    for i in 0..25_000 {
        shopify.push_str(&format!(
            "p-{i},Product {i},\"<p>Line one\nline two</p>\",SKU-{i},https://cdn.example.com/{i}-1.jpg,1\n"
        ));
        for n in 2..=4 {
            shopify.push_str(&format!(
                "p-{i},,,,https://cdn.example.com/{i}-{n}.jpg,{n}\n"
            ));
        }
    }
    let started = std::time::Instant::now();
    let p = parse_csv_bytes(shopify.as_bytes(), None).unwrap();
    eprintln!(
        "100 000 Shopify rows ({} bytes) parsed in {:?}",
        shopify.len(),
        started.elapsed()
    );
    assert_eq!(p.products.len(), 25_000);
    assert!(p.errors.is_empty());
    let images: usize = p.products.iter().map(|p| p.images.len()).sum();
    assert_eq!(images, 100_000);
    assert_eq!(p.products[24_999].source.as_ref().unwrap().rows.len(), 4);
    // Each product spans five physical lines (the body has a newline).
    assert_eq!(p.products[24_999].line, 2 + 24_999 * 5);
}

#[test]
fn folder_of_photos() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |rel: &str| {
        let path = d.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    };
    for f in [
        "Red Dress/a.jpg",
        "Red Dress/b.PNG",
        "Red Dress/notes.txt",
        "Red Dress/.DS_Store",
        "Red Dress/more/c.jpg",
        "empty-one/readme.md",
        "blue-tee-1.jpg",
        "blue-tee_back.png",
        "blue-tee.webp",
        "Green Cap FRONT.jpeg",
        "red-dress-3.jpg",
        "price-list.txt",
        ".DS_Store",
        ".hidden.jpg",
    ] {
        write(f);
    }
    let p = parse_file(d).unwrap();
    assert_eq!(p.format, SourceFormat::Folder);
    assert!(p.errors.is_empty());
    let summary: Vec<(&str, &str, usize)> = p
        .products
        .iter()
        .map(|p| (p.handle.as_str(), p.title.as_str(), p.photos.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("blue-tee", "blue tee", 3),
            ("green-cap", "Green Cap", 1),
            ("red-dress", "Red Dress", 3),
        ]
    );
    let blue = &p.products[0];
    assert_eq!(
        blue.photos,
        [
            d.join("blue-tee-1.jpg"),
            d.join("blue-tee.webp"),
            d.join("blue-tee_back.png")
        ]
    );
    assert_eq!(blue.images[2].position, Some(3));
    let skipped: Vec<(PathBuf, &str)> = p
        .skipped_files
        .iter()
        .map(|s| {
            (
                s.path.strip_prefix(d).unwrap().to_path_buf(),
                s.reason.as_str(),
            )
        })
        .collect();
    let paths: Vec<&Path> = skipped.iter().map(|s| s.0.as_path()).collect();
    assert_eq!(
        paths,
        [
            Path::new("Red Dress/more"),
            Path::new("Red Dress/notes.txt"),
            Path::new("empty-one/readme.md"),
            Path::new("empty-one"),
            Path::new("price-list.txt"),
        ]
    );
    assert!(skipped[1].1.contains("not a photo"));
    assert!(skipped[3].1.contains("no photos"));
}

#[test]
fn empty_missing_and_garbage_input() {
    assert!(matches!(
        parse_csv_bytes(b"", None),
        Err(CatalogueError::Empty)
    ));
    assert!(matches!(
        parse_csv_bytes(b"\xEF\xBB\xBF \r\n\n", None),
        Err(CatalogueError::Empty)
    ));
    // A header and no rows is an empty catalogue, not an error.
    let p = parse_csv_bytes(b"Handle,Title,Body (HTML)\n", None).unwrap();
    assert!(p.products.is_empty() && p.errors.is_empty());
    assert!(matches!(
        parse_file(Path::new("/nonexistent/catalogue.csv")),
        Err(CatalogueError::MissingFile { .. })
    ));
    assert!(matches!(
        parse_csv_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", None),
        Err(CatalogueError::Binary { offset: 8 })
    ));
    assert!(matches!(
        parse_csv_bytes(b"title\nok\n\xFF\xFF", None),
        Err(CatalogueError::Encoding(_))
    ));

    // Random bytes and every truncation of the fixture: an answer, never a
    // panic.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for n in 0..300 {
        let len = (next() % 600) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if n % 2 == 0 {
            // Without NULs, so more of them reach the CSV reader.
            bytes
                .iter_mut()
                .filter(|b| **b == 0)
                .for_each(|b| *b = b',');
        }
        let _ = parse_csv_bytes(&bytes, None);
    }
    let fixture = std::fs::read(fixture()).unwrap();
    for cut in (0..fixture.len()).step_by(97) {
        let _ = parse_csv_bytes(&fixture[..cut], None);
        let mut flipped = fixture.clone();
        flipped[cut] = b'"';
        let _ = parse_csv_bytes(&flipped, None);
    }
}

#[test]
fn oversize_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let f = std::fs::File::create(&path).unwrap();
    // Sparse: the size is real, the disk use is not.
    f.set_len(vitrine_core::catalogue::MAX_FILE_BYTES + 1)
        .unwrap();
    assert!(matches!(
        parse_file(&path),
        Err(CatalogueError::TooLarge { .. })
    ));
}

fn hostile_item() -> ExportItem {
    let mut p = CatalogueProduct::new("evil", "Evil", 2);
    p.images.push(vitrine_core::catalogue::ImageRef {
        src: "https://cdn.example.com/evil.jpg".into(),
        position: Some(1),
        alt: None,
    });
    p.images.push(vitrine_core::catalogue::ImageRef {
        src: "photos/local.jpg".into(),
        position: Some(2),
        alt: None,
    });
    ExportItem {
        product_id: 1,
        handle: "evil".into(),
        draft_id: 7,
        version: 1,
        status: "approved".into(),
        lang: "en".into(),
        marketplace: "amazon".into(),
        listing: Listing {
            title: "Tee\twith\ttabs <script>alert(1)</script>".into(),
            bullets: (1..=7).map(|i| format!("Bullet {i}\nnext line")).collect(),
            description: "<img src=x onerror=alert(1)>\n\nSecond *para* [link](javascript:x)"
                .into(),
            keywords: (0..60).map(|i| format!("keyword{i}")).collect(),
            extra: BTreeMap::new(),
        },
        product: Some(p),
        fallback_vendor: Some("Brand".into()),
    }
}

#[test]
fn shopify_body_is_inert() {
    let bytes = export(ExportFormat::Shopify, &[hostile_item()]);
    let p = parse_csv_bytes(&bytes, None).unwrap();
    let body = p.products[0].description_html.as_deref().unwrap();
    assert!(
        !body.contains("<script") && !body.contains("<img"),
        "{body}"
    );
    assert!(
        body.starts_with("<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        "{body}"
    );
    // The listing had no SEO fields and the product no vendor: the brand.
    assert_eq!(p.products[0].vendor.as_deref(), Some("Brand"));
    assert_eq!(p.products[0].images.len(), 2);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("TRUE") && text.contains("active"));
}

#[test]
fn amazon_flat_file() {
    let bytes = export(ExportFormat::Amazon, &[hostile_item()]);
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let header: Vec<&str> = lines[0].split('\t').collect();
    let row: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(header.len(), 15);
    assert_eq!(row.len(), 15, "{row:?}");
    let get = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(get("item_sku"), "evil");
    assert_eq!(get("item_name"), "Tee with tabs <script>alert(1)</script>");
    assert_eq!(get("brand_name"), "Brand");
    assert_eq!(get("bullet_point1"), "Bullet 1 next line");
    assert_eq!(
        get("bullet_point5"),
        "Bullet 5 next line Bullet 6 next line Bullet 7 next line"
    );
    let kw = get("generic_keywords");
    assert!(kw.len() <= 249, "{}", kw.len());
    assert!(kw.starts_with("keyword0 keyword1 "));
    assert!(kw.split(' ').all(|k| k.starts_with("keyword")));
    assert_eq!(get("main_image_url"), "https://cdn.example.com/evil.jpg");
    assert_eq!(get("other_image_url1"), "", "local paths are not URLs");
    assert_eq!(get("update_delete"), "Update");
}

#[test]
fn json_markdown_and_html() {
    let item = hostile_item();
    let json: serde_json::Value =
        serde_json::from_slice(&export(ExportFormat::Json, std::slice::from_ref(&item))).unwrap();
    assert_eq!(json[0]["handle"], "evil");
    assert_eq!(json[0]["draft_id"], 7);
    assert_eq!(json[0]["listing"]["title"], item.listing.title);
    assert_eq!(json[0]["listing"]["bullets"].as_array().unwrap().len(), 7);

    let md =
        String::from_utf8(export(ExportFormat::Markdown, std::slice::from_ref(&item))).unwrap();
    assert!(
        md.contains("## Tee with tabs &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{md}"
    );
    assert!(
        md.contains("Second \\*para\\* \\[link\\](javascript:x)"),
        "{md}"
    );
    assert!(!md.contains("<img") && !md.contains("<script"));

    let html = String::from_utf8(export(ExportFormat::Html, &[item])).unwrap();
    assert!(
        html.contains("<h2>Tee\twith\ttabs &lt;script&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "{html}"
    );
    assert_eq!(html.matches("<li>").count(), 7);

    let dup = [hostile_item(), hostile_item()];
    let err = write_export(ExportFormat::Shopify, &dup, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(err, CatalogueError::DuplicateExportHandle { .. }),
        "{err}"
    );
    assert_eq!("md".parse::<ExportFormat>(), Ok(ExportFormat::Markdown));
    assert!("xml".parse::<ExportFormat>().is_err());
}
