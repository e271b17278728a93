use super::*;
use vitrine_core::{Fact, FactSource};
use vitrine_render::RenderError as RenderErrorKind;

fn photo(dir: &Path, id: i64, rgb: [u8; 3]) -> Photo {
    let path = dir.join(format!("photo-{id}.png"));
    RgbaImage::from_fn(48, 64, |x, _| {
        if (12..36).contains(&x) {
            image::Rgba([rgb[0], rgb[1], rgb[2], 255])
        } else {
            image::Rgba([250, 250, 250, 255])
        }
    })
    .save(&path)
    .expect("write the test photo");
    Photo {
        id,
        product_id: 7,
        sha256: format!("{id:064}"),
        original_path: path.display().to_string(),
        thumbnail_path: String::new(),
        cutout_path: None,
        source_name: format!("photo-{id}.png"),
        width: 48,
        height: 64,
        format: "png".into(),
        created_at: String::new(),
    }
}

fn category(value: &str, source: FactSource, confidence: f32) -> Fact {
    Fact {
        id: 0,
        product_id: 7,
        key: "category".into(),
        value: value.into(),
        label_en: value.into(),
        label_zh: value.into(),
        source,
        confidence,
        data: serde_json::Value::Null,
    }
}

fn product(photos: Vec<Photo>, facts: Vec<Fact>) -> ProductDetail {
    ProductDetail {
        id: 7,
        name: "test".into(),
        created_at: String::new(),
        photos,
        facts,
        drafts: Vec::new(),
    }
}

#[test]
fn the_users_category_chooses_the_garment_over_a_surer_classifier() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = product(
        vec![photo(dir.path(), 1, [20, 30, 160])],
        vec![
            category("apparel.tops.t_shirts", FactSource::Classifier, 0.97),
            category("apparel.tops.hoodies", FactSource::User, 1.0),
        ],
    );
    let plan = ProductTryOn::plan(&p, None, None, None, "m").expect("plan");
    assert_eq!(plan.garment, Garment::Hoodie);
    assert_eq!(plan.category.as_deref(), Some("apparel.tops.hoodies"));
    assert_eq!(plan.size, "M");
    assert_eq!(plan.front.id, 1);
    // Asking wins over the category.
    let asked = ProductTryOn::plan(&p, None, None, Some(Garment::Dress), "XL").expect("plan");
    assert_eq!(asked.garment, Garment::Dress);
}

#[test]
fn a_category_without_a_garment_falls_back_to_a_tshirt() {
    assert_eq!(
        choose_garment(None, Some("footwear.sneakers")),
        Garment::TShirt
    );
    assert_eq!(choose_garment(None, None), Garment::TShirt);
    assert_eq!(
        choose_garment(None, Some("apparel.dresses")),
        Garment::Dress
    );
}

#[test]
fn photos_and_sizes_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = product(
        vec![
            photo(dir.path(), 1, [200, 0, 0]),
            photo(dir.path(), 2, [0, 200, 0]),
        ],
        Vec::new(),
    );
    let back = ProductTryOn::plan(&p, Some(2), Some(1), None, "S").expect("plan");
    assert_eq!(
        (back.front.id, back.back.as_ref().map(|b| b.id)),
        (2, Some(1))
    );
    assert!(matches!(
        ProductTryOn::plan(&p, Some(9), None, None, "M"),
        Err(TryOnError::NotProductPhoto {
            photo: 9,
            product: 7
        })
    ));
    assert!(matches!(
        ProductTryOn::plan(&p, None, Some(9), None, "M"),
        Err(TryOnError::NotProductPhoto { photo: 9, .. })
    ));
    assert!(matches!(
        ProductTryOn::plan(&p, None, None, None, "XXXL"),
        Err(TryOnError::UnknownSize(s)) if s == "XXXL"
    ));
    let empty = product(Vec::new(), Vec::new());
    assert!(matches!(
        ProductTryOn::plan(&empty, None, None, None, "M"),
        Err(TryOnError::NoPhoto(7))
    ));
}

#[test]
fn load_photo_prefers_the_cutout_and_survives_a_missing_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut p = photo(dir.path(), 1, [10, 120, 40]);
    let cutout = dir.path().join("cutout.png");
    RgbaImage::from_pixel(8, 8, image::Rgba([1, 2, 3, 0]))
        .save(&cutout)
        .expect("write cut-out");
    p.cutout_path = Some(cutout.display().to_string());
    assert_eq!(load_photo(&p).expect("cut-out").dimensions(), (8, 8));
    p.cutout_path = Some(dir.path().join("gone.png").display().to_string());
    assert_eq!(load_photo(&p).expect("original").dimensions(), (48, 64));
    std::fs::write(&p.original_path, b"not an image").expect("corrupt the photo");
    assert!(matches!(load_photo(&p), Err(TryOnError::Render(_))));
    p.original_path = dir.path().join("missing.png").display().to_string();
    assert!(matches!(load_photo(&p), Err(TryOnError::Read { .. })));
}

/// The whole path on the real renderer (lavapipe here): the product's
/// colour is what the garment is drawn in.
#[test]
fn a_planned_product_renders_in_its_colour() {
    let renderer = match Renderer::new_headless() {
        Ok(r) => r,
        Err(RenderErrorKind::NoAdapter) => {
            panic!("no graphics adapter: install mesa-vulkan-drivers libvulkan1")
        }
        Err(e) => panic!("renderer: {e}"),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let p = product(vec![photo(dir.path(), 1, [20, 40, 200])], Vec::new());
    let plan = ProductTryOn::plan(&p, None, None, None, "M").expect("plan");
    let prepared = plan
        .prepare(&renderer, View::Front, Framing::Close)
        .expect("prepare");
    let img = prepared.frame(&renderer, None, 128).expect("frame");
    let blue = img
        .pixels()
        .filter(|px| px[2] > 120 && px[2] as i32 > px[0] as i32 + 60)
        .count();
    assert!(
        blue > 128 * 128 / 20,
        "the blue garment covers only {blue} pixels"
    );
}
