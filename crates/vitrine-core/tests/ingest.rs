//! Photo ingest end to end: real image files made here, a real SQLite file
//! and a real data dir in a temporary directory.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use tempfile::TempDir;
use vitrine_core::ingest::{ingest_bytes, ingest_path, reanalyse, Understanding};
use vitrine_core::{CoreError, DataDir, FactSource, Store};

struct Env {
    tmp: TempDir,
    dirs: DataDir,
    store: Store,
}

impl Env {
    async fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = DataDir::resolve(Some(&tmp.path().join("data"))).unwrap();
        let store = Store::open(&dirs.db_path()).await.unwrap();
        Env { tmp, dirs, store }
    }

    /// A file outside the data dir, as a user's photo would be.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let dir = self.tmp.path().join("inbox");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    /// Every file under the data dir except the database's own.
    fn stored_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for dir in [
            self.dirs.photos_dir(),
            self.dirs.thumbs_dir(),
            self.dirs.cutouts_dir(),
        ] {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                out.extend(entries.map(|e| e.unwrap().path()));
            }
        }
        out.sort();
        out
    }
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// A red square on a transparent background: the product is red whatever
/// the background's hidden colour (black here, which must not leak in).
fn red_square_png() -> Vec<u8> {
    let mut img = RgbaImage::from_pixel(200, 200, Rgba([0, 0, 0, 0]));
    for y in 50..150 {
        for x in 50..150 {
            img.put_pixel(x, y, Rgba([220, 20, 30, 255]));
        }
    }
    encode(&DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

/// Noise so that JPEG data is long enough to cut in the middle of a scan.
fn noisy_jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(96, 96, |x, y| {
        let v = ((x * 7919 + y * 104_729) % 251) as u8;
        Rgb([v, v.wrapping_mul(3), v.wrapping_mul(7)])
    });
    encode(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
}

/// A valid PNG signature and IHDR (with correct CRC) that claim 30000x30000
/// RGBA pixels, 3.6 GB decoded, followed by a tiny IDAT and IEND.
fn huge_png_header() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// The smallest GIF: 1x1, one colour.
const TINY_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

#[tokio::test]
async fn transparent_png_gives_a_red_colour_fact() {
    let env = Env::new().await;
    let bytes = red_square_png();
    let path = env.file("red_square-tee.png", &bytes);

    let out = ingest_path(&env.store, &env.dirs, &path).await.unwrap();
    assert!(!out.duplicate);
    assert_eq!(out.photo.product_id, out.product_id);
    assert_eq!((out.photo.width, out.photo.height), (200, 200));
    assert_eq!(out.photo.format, "png");
    assert_eq!(out.photo.source_name, "red_square-tee.png");
    assert_eq!(out.photo.sha256.len(), 64);

    let red = &out.facts[0];
    assert_eq!(
        (red.key.as_str(), red.value.as_str()),
        ("colour", "red"),
        "{:?}",
        out.facts
    );
    assert_eq!(
        (red.label_en.as_str(), red.label_zh.as_str()),
        ("red", "红色")
    );
    assert_eq!(red.source, FactSource::Colour);
    assert!(red.confidence > 0.9, "{red:?}");
    assert!(red.data["share"].as_f64().unwrap() > 0.9, "{red:?}");
    assert_eq!(red.data["rank"], 1);
    assert!(red.data["hex"].as_str().unwrap().starts_with('#'));
    assert!(out.facts.len() <= 4);

    // The copy is byte-identical and named by content; the thumbnail is a
    // PNG that kept its transparency.
    let original = Path::new(&out.photo.original_path);
    assert!(original.is_absolute());
    assert_eq!(std::fs::read(original).unwrap(), bytes);
    assert_eq!(
        original,
        env.dirs
            .photos_dir()
            .join(format!("{}.png", out.photo.sha256))
    );
    let thumb = image::open(&out.photo.thumbnail_path).unwrap();
    assert!(thumb.color().has_alpha());
    assert_eq!(thumb.to_rgba8().get_pixel(0, 0)[3], 0);
    assert_eq!(env.stored_files().len(), 3, "{:?}", env.stored_files());

    let products = env.store.products().await.unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].name, "red square tee");
    assert_eq!(products[0].photo_count, 1);
    assert_eq!(
        products[0].thumbnail_path.as_deref(),
        Some(out.photo.thumbnail_path.as_str())
    );
    let detail = env.store.product(out.product_id).await.unwrap();
    assert_eq!(detail.photos, vec![out.photo.clone()]);
    assert_eq!(detail.facts, out.facts);
}

#[tokio::test]
async fn duplicate_ingest_stores_nothing_new() {
    let env = Env::new().await;
    let bytes = red_square_png();
    let first = ingest_path(&env.store, &env.dirs, &env.file("a.png", &bytes))
        .await
        .unwrap();

    let again = ingest_path(&env.store, &env.dirs, &env.file("b.png", &bytes))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.photo, first.photo);
    assert_eq!(again.facts, first.facts);

    let uploaded = ingest_bytes(&env.store, &env.dirs, "other-name.png", &bytes)
        .await
        .unwrap();
    assert!(uploaded.duplicate);
    assert_eq!(uploaded.photo.id, first.photo.id);

    assert_eq!(env.count("products").await, 1);
    assert_eq!(env.count("photos").await, 1);
    assert_eq!(env.count("facts").await, first.facts.len() as i64);
    assert_eq!(env.stored_files().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingests_of_one_file_store_it_once() {
    let env = Env::new().await;
    let bytes = red_square_png();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let (store, dirs, bytes) = (env.store.clone(), env.dirs.clone(), bytes.clone());
            tokio::spawn(
                async move { ingest_bytes(&store, &dirs, &format!("{i}.png"), &bytes).await },
            )
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        let out = t.await.unwrap().unwrap();
        fresh += usize::from(!out.duplicate);
    }
    assert_eq!(fresh, 1);
    assert_eq!(env.count("photos").await, 1);
    assert_eq!(env.stored_files().len(), 3, "{:?}", env.stored_files());
}

#[tokio::test]
async fn bad_inputs_are_refused_and_leave_nothing() {
    let env = Env::new().await;
    let jpeg = noisy_jpeg();
    let truncated = env.file("truncated.jpg", &jpeg[..jpeg.len() / 2]);
    let text = env.file("notes.jpg", b"This is not a photo.\nJust some notes.\n");
    let empty = env.file("empty.png", b"");
    let huge = env.file("huge.png", &huge_png_header());
    let gif = env.file("anim.gif", TINY_GIF);
    let missing = env.tmp.path().join("inbox/nowhere.jpg");
    let directory = env.tmp.path().join("inbox/folder.jpg");
    std::fs::create_dir_all(&directory).unwrap();
    let oversized = env.tmp.path().join("inbox/oversized.jpg");
    std::fs::File::create(&oversized)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();

    type Check = fn(&CoreError) -> bool;
    let cases: Vec<(&Path, Check, &str)> = vec![
        (
            &truncated,
            |e| matches!(e, CoreError::CorruptImage { .. }),
            "truncated",
        ),
        (
            &text,
            |e| matches!(e, CoreError::UnsupportedFormat { what, .. } if what == "text file"),
            "text file",
        ),
        (
            &empty,
            |e| matches!(e, CoreError::EmptyFile { .. }),
            "empty",
        ),
        (
            &huge,
            |e| {
                matches!(
                    e,
                    CoreError::ImageTooLarge {
                        width: 30000,
                        height: 30000,
                        limit: 12000,
                        ..
                    }
                )
            },
            "30000x30000",
        ),
        (
            &gif,
            |e| matches!(e, CoreError::UnsupportedFormat { what, .. } if what == "GIF"),
            "GIF",
        ),
        (
            &missing,
            |e| matches!(e, CoreError::MissingFile { .. }),
            "no such file",
        ),
        (
            &directory,
            |e| matches!(e, CoreError::IsDirectory { .. }),
            "directory",
        ),
        (
            &oversized,
            |e| matches!(e, CoreError::FileTooLarge { .. }),
            "too large",
        ),
    ];
    for (path, check, words) in cases {
        let err = ingest_path(&env.store, &env.dirs, path)
            .await
            .expect_err(&format!("{} must be refused", path.display()));
        let msg = err.to_string();
        // Shown with --nocapture: the messages a user would read.
        eprintln!("{msg}");
        assert!(check(&err), "{}: unexpected error {err:?}", path.display());
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(msg.contains(words), "{msg}");
        assert!(!msg.contains('\n'), "not one line: {msg}");
    }

    // The same bytes arriving as an upload are refused the same way, and
    // named by the (display-only) upload name.
    let uploads: Vec<(&str, Vec<u8>, Check)> = vec![
        ("cut.jpg", jpeg[..jpeg.len() / 2].to_vec(), |e| {
            matches!(e, CoreError::CorruptImage { .. })
        }),
        ("notes.jpg", b"plain text".to_vec(), |e| {
            matches!(e, CoreError::UnsupportedFormat { .. })
        }),
        ("empty.jpg", Vec::new(), |e| {
            matches!(e, CoreError::EmptyFile { .. })
        }),
        ("huge.png", huge_png_header(), |e| {
            matches!(e, CoreError::ImageTooLarge { .. })
        }),
        ("../../x.gif", TINY_GIF.to_vec(), |e| {
            matches!(e, CoreError::UnsupportedFormat { .. })
        }),
        (
            "garbage.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec(),
            |e| matches!(e, CoreError::CorruptImage { .. }),
        ),
    ];
    for (name, bytes, check) in uploads {
        let err = ingest_bytes(&env.store, &env.dirs, name, &bytes)
            .await
            .unwrap_err();
        eprintln!("{err}");
        assert!(check(&err), "{name}: unexpected error {err:?}");
        let shown = name.rsplit('/').next().unwrap();
        assert!(err.to_string().starts_with(shown), "{err}");
    }

    assert_eq!(env.count("products").await, 0);
    assert_eq!(env.count("photos").await, 0);
    assert_eq!(env.count("facts").await, 0);
    assert!(env.stored_files().is_empty(), "{:?}", env.stored_files());
}

#[tokio::test]
async fn truncated_png_and_webp_are_corrupt() {
    let env = Env::new().await;
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 64, |x, y| {
        Rgb([(x * 4) as u8, (y * 4) as u8, ((x * y) % 256) as u8])
    }));
    for (format, name) in [
        (ImageFormat::Png, "cut.png"),
        (ImageFormat::WebP, "cut.webp"),
    ] {
        let bytes = encode(&img, format);
        let err = ingest_bytes(&env.store, &env.dirs, name, &bytes[..bytes.len() * 2 / 3])
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::CorruptImage { .. }),
            "{name}: {err:?}"
        );
    }
    assert_eq!(env.count("products").await, 0);
    assert!(env.stored_files().is_empty());
}

#[tokio::test]
async fn jpeg_and_webp_are_accepted() {
    let env = Env::new().await;
    // An opaque studio shot: a blue product on a plain white backdrop.
    let shot = RgbImage::from_fn(300, 200, |x, y| {
        if (100..200).contains(&x) && (50..150).contains(&y) {
            Rgb([30, 90, 200])
        } else {
            Rgb([250, 250, 250])
        }
    });
    let out = ingest_bytes(
        &env.store,
        &env.dirs,
        "blue-box.jpg",
        &encode(&DynamicImage::ImageRgb8(shot), ImageFormat::Jpeg),
    )
    .await
    .unwrap();
    assert_eq!(out.photo.format, "jpeg");
    assert!(out.photo.original_path.ends_with(".jpeg"));
    assert_eq!(out.facts[0].value, "blue", "{:?}", out.facts);
    // Opaque input makes an opaque thumbnail.
    assert!(!image::open(&out.photo.thumbnail_path)
        .unwrap()
        .color()
        .has_alpha());

    let green = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([40, 150, 60])));
    let out = ingest_bytes(
        &env.store,
        &env.dirs,
        "green.webp",
        &encode(&green, ImageFormat::WebP),
    )
    .await
    .unwrap();
    assert_eq!(out.photo.format, "webp");
    assert_eq!((out.photo.width, out.photo.height), (40, 30));
    assert_eq!(out.facts.len(), 1);
    assert_eq!(out.facts[0].value, "green");
    assert!((out.facts[0].confidence - 1.0).abs() < 1e-6);

    // A PNG with a misleading extension is stored under its real format.
    let out = ingest_bytes(&env.store, &env.dirs, "really-a-png.jpg", &red_square_png())
        .await
        .unwrap();
    assert_eq!(out.photo.format, "png");
    assert_eq!(env.count("products").await, 3);
}

#[tokio::test]
async fn large_photos_get_small_thumbnails() {
    let env = Env::new().await;
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(3000, 1000, |x, _| {
        if x < 1500 {
            Rgb([20, 20, 20])
        } else {
            Rgb([250, 220, 40])
        }
    }));
    let out = ingest_bytes(
        &env.store,
        &env.dirs,
        "wide.png",
        &encode(&img, ImageFormat::Png),
    )
    .await
    .unwrap();
    assert_eq!((out.photo.width, out.photo.height), (3000, 1000));
    let thumb = image::open(&out.photo.thumbnail_path).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (256, 85));
    let values: Vec<&str> = out.facts.iter().map(|f| f.value.as_str()).collect();
    assert_eq!(values.len(), 2, "{values:?}");
    assert!(
        values.contains(&"black") && values.contains(&"yellow"),
        "{values:?}"
    );
}

#[tokio::test]
async fn a_failed_transaction_removes_the_written_files() {
    let env = Env::new().await;
    // Make the last step of ingest, inserting colour facts, fail.
    sqlx::query(
        "CREATE TRIGGER refuse_facts BEFORE INSERT ON facts
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    .execute(env.store.pool())
    .await
    .unwrap();
    let err = ingest_bytes(&env.store, &env.dirs, "red.png", &red_square_png())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Database(_)), "{err:?}");
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(env.count("products").await, 0);
    assert_eq!(env.count("photos").await, 0);
    assert!(env.stored_files().is_empty(), "{:?}", env.stored_files());
}

/// A JPEG with an EXIF APP1 segment whose only tag is Orientation.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0".to_vec(); // little-endian TIFF, IFD at 8
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);

    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[tokio::test]
async fn exif_orientation_is_applied() {
    let env = Env::new().await;
    // Landscape: red left half, blue right half. Orientation 6 means "rotate
    // 90° clockwise to display", which puts the red half on top.
    let img = RgbImage::from_fn(64, 32, |x, _| {
        if x < 32 {
            Rgb([220, 20, 30])
        } else {
            Rgb([30, 90, 200])
        }
    });
    let jpeg = with_exif_orientation(&encode(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg), 6);
    let out = ingest_bytes(&env.store, &env.dirs, "rotated.jpg", &jpeg)
        .await
        .unwrap();
    assert_eq!((out.photo.width, out.photo.height), (32, 64));
    let thumb = image::open(&out.photo.thumbnail_path).unwrap().to_rgb8();
    assert_eq!(thumb.dimensions(), (32, 64));
    let top = thumb.get_pixel(16, 8);
    let bottom = thumb.get_pixel(16, 56);
    assert!(top[0] > 150 && top[2] < 100, "top should be red: {top:?}");
    assert!(
        bottom[2] > 150 && bottom[0] < 100,
        "bottom should be blue: {bottom:?}"
    );
}

/// An opaque product shot on a plain backdrop gets a cut-out with the
/// backdrop transparent; re-analysis replaces the machine's colour facts
/// but keeps a colour the user set, and the prompt then uses only the
/// user's colour.
#[tokio::test]
async fn cutout_is_stored_and_user_facts_survive_reanalysis() {
    let env = Env::new().await;
    let img = RgbImage::from_fn(200, 160, |x, y| {
        if (50..150).contains(&x) && (40..120).contains(&y) {
            Rgb([20, 30, 110])
        } else {
            Rgb([245, 245, 245])
        }
    });
    let path = env.file(
        "tee.jpg",
        &encode(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg),
    );
    let out = ingest_path(&env.store, &env.dirs, &path).await.unwrap();
    let cut = image::open(out.photo.cutout_path.as_deref().unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(cut.dimensions(), (200, 160));
    assert!(
        cut.get_pixel(3, 3)[3] < 10,
        "backdrop should be transparent"
    );
    assert!(cut.get_pixel(100, 80)[3] > 245, "product should be opaque");

    let mut tx = env.store.begin_write().await.unwrap();
    vitrine_core::store::insert_fact(
        &mut tx,
        &vitrine_core::store::NewFact {
            product_id: out.product_id,
            key: "colour".into(),
            value: "royal_blue".into(),
            label_en: "royal blue".into(),
            label_zh: "宝蓝色".into(),
            source: FactSource::User,
            confidence: 1.0,
            data: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let machine_before = out.facts.len();

    let again = reanalyse(&env.store, &env.dirs, &out.photo, &Understanding::default())
        .await
        .unwrap();
    let user: Vec<_> = again
        .facts
        .iter()
        .filter(|f| f.source == FactSource::User)
        .collect();
    let machine: Vec<_> = again
        .facts
        .iter()
        .filter(|f| f.source != FactSource::User)
        .collect();
    assert_eq!(user.len(), 1);
    assert_eq!(
        machine.len(),
        machine_before,
        "machine facts replaced, not added"
    );
    let prompt =
        vitrine_core::listing::prompt_facts("tee", &again.facts, vitrine_core::listing::Lang::En);
    assert_eq!(prompt.dominant_colour.unwrap().0, "royal blue");
    assert!(
        !prompt.lines.iter().any(|l| l.contains("navy")),
        "{:?}",
        prompt.lines
    );
}

#[tokio::test]
async fn the_title_states_facts_that_outrank_the_photo_and_follow_a_new_title() {
    let env = Env::new().await;
    // A grey product on white: the photo alone says grey.
    let img = RgbImage::from_fn(160, 160, |x, y| {
        if (40..120).contains(&x) && (30..130).contains(&y) {
            Rgb([120, 120, 120])
        } else {
            Rgb([250, 250, 250])
        }
    });
    let path = env.file(
        "hoodie.png",
        &encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png),
    );
    let kg = std::sync::Arc::new(vitrine_core::kg::KnowledgeGraph::builtin().unwrap());
    let with_title = |t: &str| Understanding {
        kg: Some(kg.clone()),
        title: Some(t.into()),
        ..Understanding::default()
    };
    let out = vitrine_core::ingest::ingest_path_with(
        &env.store,
        &env.dirs,
        &path,
        &with_title("Navy Blue Hoodie"),
    )
    .await
    .unwrap();
    let from_title: Vec<_> = out
        .facts
        .iter()
        .filter(|f| f.source == FactSource::Import)
        .collect();
    assert_eq!(from_title.len(), 1, "{:?}", out.facts);
    assert_eq!(from_title[0].value, "navy");
    assert_eq!(from_title[0].data["from"], "title");
    let prompt =
        vitrine_core::listing::prompt_facts("hoodie", &out.facts, vitrine_core::listing::Lang::En);
    assert_eq!(prompt.dominant_colour.unwrap().0, "navy");

    // A new title replaces what the old one said; the photo's facts stay.
    let again = reanalyse(
        &env.store,
        &env.dirs,
        &out.photo,
        &with_title("白色连帽卫衣"),
    )
    .await
    .unwrap();
    let from_title: Vec<_> = again
        .facts
        .iter()
        .filter(|f| f.source == FactSource::Import)
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(from_title, ["white"]);
    assert!(again.facts.iter().any(|f| f.source == FactSource::Colour));
    // Re-analysis without a title keeps what the last title said.
    let again = reanalyse(&env.store, &env.dirs, &out.photo, &Understanding::default())
        .await
        .unwrap();
    assert!(again
        .facts
        .iter()
        .any(|f| f.source == FactSource::Import && f.value == "white"));
}
