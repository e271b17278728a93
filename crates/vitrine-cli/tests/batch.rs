//! A catalogue end to end through the `vitrine` binary with the real tiny
//! model: CSV → batch (killed with SIGKILL ten times on the way) → review →
//! approved Shopify CSV → re-import, with nothing lost or made twice.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{run, stderr, vitrine};
use rand::{Rng, SeedableRng};

const TINY: &str = "smollm2-135m";

const HEADER: [&str; 24] = [
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
    "Variant SKU",
    "Variant Grams",
    "Variant Price",
    "Gift Card",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "SEO Title",
    "SEO Description",
    "Google Shopping / Gender",
    "Google Shopping / Custom Label 0",
    "Status",
];

/// Products a clothing and homeware shop sells: title, type, colour,
/// material.
const GOODS: [(&str, &str, &str, &str); 8] = [
    ("Organic Cotton Crew T-Shirt", "T-Shirts", "Navy", "Cotton"),
    ("Heavyweight Pullover Hoodie", "Hoodies", "Grey", "Fleece"),
    ("Classic Pique Polo Shirt", "Polos", "White", "Cotton"),
    ("Linen Midi Dress", "Dresses", "Beige", "Linen"),
    ("Canvas Tote Bag", "Bags", "Black", "Canvas"),
    ("Merino Wool Scarf", "Scarves", "Red", "Wool"),
    ("Stoneware Coffee Mug", "Mugs", "Green", "Ceramic"),
    ("Slim Fit Chino Trousers", "Trousers", "Khaki", "Cotton"),
];

/// A Shopify product export of `n` products: a first row with the product,
/// a second variant row, an extra image row, a multi-line body, and
/// columns Vitrine does not know (kept on export).
fn shopify_csv(n: usize, path: &Path) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(HEADER).unwrap();
    for i in 0..n {
        let (title, kind, colour, material) = GOODS[i % GOODS.len()];
        let handle = format!("{}-{i}", title.to_lowercase().replace(' ', "-"));
        let body = format!(
            "<p>Our {title} in {colour}.</p>\n<ul>\n<li>{material}</li>\n<li>Ships in 2 days</li>\n</ul>"
        );
        let image = format!("https://shop.example/images/{handle}-front.jpg");
        let mut first = vec![String::new(); HEADER.len()];
        let set = |row: &mut Vec<String>, col: &str, v: &str| {
            let at = HEADER.iter().position(|h| *h == col).unwrap();
            row[at] = v.to_string();
        };
        for (col, v) in [
            ("Handle", handle.as_str()),
            ("Title", title),
            ("Body (HTML)", body.as_str()),
            ("Vendor", "Northwind"),
            ("Product Category", "Apparel & Accessories"),
            ("Type", kind),
            ("Tags", "new, bestseller"),
            ("Published", "TRUE"),
            ("Option1 Name", "Color"),
            ("Option1 Value", colour),
            ("Option2 Name", "Size"),
            ("Option2 Value", "M"),
            ("Variant SKU", &format!("NW-{i:04}-M")),
            ("Variant Grams", "250"),
            ("Variant Price", "29.00"),
            ("Gift Card", "FALSE"),
            ("Image Src", image.as_str()),
            ("Image Position", "1"),
            ("Image Alt Text", title),
            ("Google Shopping / Gender", "unisex"),
            ("Google Shopping / Custom Label 0", "spring"),
            ("Status", "draft"),
        ] {
            set(&mut first, col, v);
        }
        w.write_record(&first).unwrap();
        let mut variant = vec![String::new(); HEADER.len()];
        for (col, v) in [
            ("Handle", handle.as_str()),
            ("Option1 Value", colour),
            ("Option2 Value", "L"),
            ("Variant SKU", &format!("NW-{i:04}-L")),
            ("Variant Grams", "270"),
            ("Variant Price", "31.00"),
            (
                "Image Src",
                &format!("https://shop.example/images/{handle}-back.jpg"),
            ),
            ("Image Position", "2"),
        ] {
            set(&mut variant, col, v);
        }
        w.write_record(&variant).unwrap();
    }
    w.flush().unwrap();
}

fn sqlite(data: &Path, sql: &str) -> Vec<Vec<String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Row;
        let url = format!("sqlite://{}", data.join("vitrine.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
        let out = rows
            .iter()
            .map(|r| {
                (0..r.columns().len())
                    .map(|i| {
                        r.try_get::<i64, _>(i)
                            .map(|v| v.to_string())
                            .or_else(|_| r.try_get::<String, _>(i))
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        pool.close().await;
        out
    })
}

fn batch_args(csv: &Path) -> Vec<String> {
    vec![
        "batch".into(),
        "run".into(),
        csv.display().to_string(),
        "--model".into(),
        TINY.into(),
        "--no-cache".into(),
    ]
}

#[test]
fn a_catalogue_survives_ten_kills_and_exports_an_approved_shopify_csv() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("products_export.csv");
    // 10 in the suite; VITRINE_BATCH_PRODUCTS=100 for the full run.
    let products: usize = std::env::var("VITRINE_BATCH_PRODUCTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    shopify_csv(products, &csv);

    let seed: u64 = std::env::var("VITRINE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(7)
        });
    eprintln!("kill moments from seed {seed} (VITRINE_KILL_SEED to repeat)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let started = Instant::now();
    for kill in 0..10 {
        let mut child: std::process::Child = vitrine(data.path())
            .args(batch_args(&csv))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // From the import to the middle of a generation.
        let after = Duration::from_millis(rng.random_range(150..4000));
        std::thread::sleep(after);
        let finished_early = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();
        eprintln!("kill {kill} after {after:?} (finished first: {finished_early})");
    }
    let o = run(vitrine(data.path()).args(batch_args(&csv)));
    assert!(o.status.success(), "final run failed: {}", stderr(&o));
    eprintln!("batch with kills took {:?}", started.elapsed());

    // One batch, every product once, every item exactly one draft.
    let batches = sqlite(data.path(), "SELECT id, status FROM batches");
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0][1], "done");
    let n = sqlite(
        data.path(),
        "SELECT COUNT(*), COUNT(DISTINCT handle) FROM products",
    );
    assert_eq!(n[0], vec![products.to_string(), products.to_string()]);
    let items = sqlite(
        data.path(),
        "SELECT i.id, i.status, (SELECT COUNT(*) FROM drafts d WHERE d.batch_item_id = i.id)
           FROM batch_items i",
    );
    assert_eq!(items.len(), products);
    for item in &items {
        assert_eq!(item[1], "done", "{item:?}");
        assert_eq!(item[2], "1", "item {} has {} drafts", item[0], item[2]);
    }
    let drafts = sqlite(data.path(), "SELECT COUNT(*) FROM drafts");
    assert_eq!(
        drafts[0][0],
        products.to_string(),
        "a draft outside the batch items"
    );

    // Review: everything approved (the tiny model's findings overridden
    // by the admin, with a reason), then exported.
    let o = run(vitrine(data.path()).args([
        "review",
        "approve",
        "--all",
        "--override",
        "tiny-model test catalogue",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = work.path().join("shopify.csv");
    let o = run(vitrine(data.path())
        .args(["export", "--format", "shopify", "--out"])
        .arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    let exported = vitrine_core::catalogue::parse_file(&out).unwrap();
    assert!(exported.errors.is_empty(), "{:?}", exported.errors);
    assert_eq!(exported.products.len(), products);
    let original = vitrine_core::catalogue::parse_file(&csv).unwrap();
    let titles = sqlite(
        data.path(),
        "SELECT p.handle, json_extract(v.content, '$.title')
           FROM drafts d JOIN products p ON p.id = d.product_id
           JOIN draft_versions v ON v.draft_id = d.id
          WHERE v.version = (SELECT MAX(version) FROM draft_versions WHERE draft_id = d.id)",
    );
    for p in &exported.products {
        let before = original
            .products
            .iter()
            .find(|o| o.handle == p.handle)
            .unwrap();
        let title = titles.iter().find(|t| t[0] == p.handle).unwrap();
        assert_eq!(p.title, title[1], "exported title is the draft's");
        // What the shop owns is kept as it was.
        assert_eq!(p.vendor, before.vendor);
        assert_eq!(p.options, before.options);
        assert_eq!(p.sku, before.sku);
        assert_eq!(p.price, before.price);
        assert_eq!(
            p.images.iter().map(|i| &i.src).collect::<Vec<_>>(),
            before.images.iter().map(|i| &i.src).collect::<Vec<_>>()
        );
        let rows = p.source.as_ref().unwrap();
        let gender = rows
            .headers
            .iter()
            .position(|h| h == "Google Shopping / Gender")
            .unwrap();
        assert_eq!(rows.rows[0][gender], "unisex", "unknown columns kept");
    }
    let status = sqlite(data.path(), "SELECT DISTINCT status FROM drafts");
    assert_eq!(status, vec![vec!["exported".to_string()]]);

    // Re-import the exported file: the same products, nothing new; and
    // exporting again gives the same file.
    let o = run(vitrine(data.path())
        .args(["batch", "run", "--no-run"])
        .arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("0 new, {products} already in the store")),
        "{}",
        stderr(&o)
    );
    let again = work.path().join("again.csv");
    let o = run(vitrine(data.path())
        .args(["export", "--format", "shopify", "--out"])
        .arg(&again));
    assert!(o.status.success(), "{}", stderr(&o));
    let reparsed = vitrine_core::catalogue::parse_file(&again).unwrap();
    assert_eq!(
        reparsed.products, exported.products,
        "export → re-import → export changed fields"
    );
    assert_eq!(
        sqlite(data.path(), "SELECT COUNT(*) FROM products")[0][0],
        products.to_string()
    );

    // The audit chain holds every step.
    let o = run(vitrine(data.path()).args(["audit", "verify"]));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn bad_rows_are_reported_and_the_rest_imported() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // GBK, quoted newline, a row without a title, a duplicate handle.
    let text = "handle,title,description,colour\n\
                tee-1,纯棉T恤,\"柔软\n透气\",白色\n\
                mug-1,,no title here,red\n\
                tee-1,Duplicate Tee,again,blue\n\
                bag-1,Canvas Tote Bag,sturdy,black\n";
    let (gbk, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    let csv = work.path().join("catalogue.csv");
    std::fs::write(&csv, &gbk).unwrap();
    let o = run(vitrine(data.path())
        .args(["batch", "run", "--no-run", "--json"])
        .arg(&csv));
    assert!(o.status.success(), "{}", stderr(&o));
    let batch: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(batch["counts"]["total"], 2, "{batch}");
    assert_eq!(batch["import_errors"], 2, "{batch}");
    let id = batch["id"].as_i64().unwrap();
    let o = run(vitrine(data.path())
        .args(["batch", "status", "--json"])
        .arg(id.to_string()));
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors = status["import_errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["line"] == 4), "{errors:?}");
    let names = sqlite(data.path(), "SELECT name FROM products ORDER BY id");
    assert_eq!(
        names,
        vec![
            vec!["纯棉T恤".to_string()],
            vec!["Canvas Tote Bag".to_string()]
        ]
    );

    // A folder with sub-folders and a stray file: photos become products,
    // the rest is listed as skipped.
    let folder = work.path().join("photos");
    std::fs::create_dir_all(folder.join("red-mug")).unwrap();
    let png = |c: [u8; 3]| {
        let img = image::RgbImage::from_fn(64, 64, |x, y| {
            if (16..48).contains(&x) && (16..48).contains(&y) {
                image::Rgb(c)
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
        buf.into_inner()
    };
    std::fs::write(folder.join("red-mug").join("front.png"), png([200, 20, 20])).unwrap();
    std::fs::write(folder.join("red-mug").join("side.png"), png([190, 25, 25])).unwrap();
    std::fs::write(folder.join("blue-tee-1.png"), png([20, 40, 200])).unwrap();
    std::fs::write(folder.join("notes.txt"), "not a photo").unwrap();
    let o = run(vitrine(data.path())
        .args(["batch", "run", "--no-run"])
        .arg(&folder));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.txt"), "{}", stderr(&o));
    let photos = sqlite(
        data.path(),
        "SELECT p.handle, COUNT(ph.id) FROM products p JOIN photos ph ON ph.product_id = p.id
          GROUP BY p.id ORDER BY p.handle",
    );
    assert_eq!(photos.len(), 2, "{photos:?}");
    assert!(photos.iter().any(|r| r[1] == "2"), "{photos:?}");

    // Not a catalogue at all.
    let junk = work.path().join("junk.csv");
    std::fs::write(&junk, [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    let o = run(vitrine(data.path()).args(["batch", "run"]).arg(&junk));
    assert!(!o.status.success());
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

/// A disk that fills up in the middle of a batch (simulated with a file
/// size limit, which fails writes the way a full disk does): the batch
/// stops paused with the reason, the database stays intact, and a resume
/// once there is room finishes it with one draft per item.
#[cfg(unix)]
#[test]
fn a_full_disk_pauses_the_batch_and_a_resume_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("catalogue.csv");
    let mut text = String::from("handle,title,colour\n");
    for i in 0..6 {
        text.push_str(&format!("tee-{i},Cotton T-Shirt {i},navy\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let o = run(vitrine(data.path())
        .args([
            "batch",
            "run",
            "--no-run",
            "--json",
            "--no-cache",
            "--model",
            TINY,
        ])
        .arg(&csv));
    assert!(o.status.success(), "{}", stderr(&o));
    let id = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["id"]
        .as_i64()
        .unwrap();
    let largest = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .max()
        .unwrap();
    // Room for a few drafts, not for six. SIGXFSZ is ignored so that the
    // write fails with an error instead of killing the process.
    let limit_kb = (largest + 30_000) / 1024;
    let bin = env!("CARGO_BIN_EXE_vitrine");
    let mut limited = std::process::Command::new("bash");
    limited
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {limit_kb}; exec {bin} batch resume {id}"
        ))
        .env("VITRINE_DATA_DIR", data.path())
        .env("VITRINE_MODELS_DIR", common::shared_models_dir());
    let o = run(&mut limited);
    assert!(
        !o.status.success(),
        "the batch should stop on the full disk"
    );
    assert!(stderr(&o).contains("disk is full"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    let o = run(vitrine(data.path())
        .args(["batch", "resume"])
        .arg(id.to_string()));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        sqlite(data.path(), "PRAGMA integrity_check"),
        vec![vec!["ok".to_string()]]
    );
    let per_item = sqlite(
        data.path(),
        "SELECT (SELECT COUNT(*) FROM drafts d WHERE d.batch_item_id = i.id), i.status
           FROM batch_items i",
    );
    assert_eq!(per_item.len(), 6);
    for row in per_item {
        assert_eq!(row, vec!["1".to_string(), "done".to_string()]);
    }
}
