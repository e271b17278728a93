//! Renders every garment's try-on on the software adapter (lavapipe in CI,
//! so the images do not depend on a GPU) and checks what lands where.
//!
//! `VITRINE_UPDATE_REFERENCES=1` rewrites `tests/reference/*.png`; look at
//! them before committing.

use std::path::PathBuf;

use glam::{Vec3, Vec4Swizzles};
use image::{Rgba, RgbaImage};
use vitrine_render::{
    AdapterChoice, Body, BodyType, Camera, Garment, Material, Renderer, SizeChart, TryOn, View,
};

const PX: u32 = 256;
const RED: [u8; 3] = [200, 30, 30];
const FILL: [u8; 3] = [40, 70, 160];
const GREEN: [u8; 3] = [40, 160, 60];
const BACKGROUND: [u8; 3] = [230, 230, 230];
const VIEWS: [View; 3] = [View::Front, View::Back, View::ThreeQuarter];

fn renderer() -> Renderer {
    match Renderer::with_adapter(AdapterChoice::Software) {
        Ok(r) => r,
        Err(e) => panic!("software adapter (install mesa-vulkan-drivers): {e}"),
    }
}

/// A product cut-out: a red shirt-like block on a transparent background.
fn photo() -> RgbaImage {
    RgbaImage::from_fn(200, 240, |x, y| {
        let body = (40..160).contains(&x) && (30..230).contains(&y);
        let sleeves = (30..230).contains(&y) && y < 90 && (10..190).contains(&x);
        if body || sleeves {
            Rgba([RED[0], RED[1], RED[2], 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

fn tryon(garment: Garment, view: View) -> TryOn {
    let mut t = TryOn::new("M", view, FILL);
    t.garment = garment;
    t
}

fn render_on(r: &Renderer, garment: Garment, view: View) -> RgbaImage {
    match tryon(garment, view).render(r, Some(&photo()), PX) {
        Ok(img) => img,
        Err(e) => panic!("render {garment:?} {view:?}: {e}"),
    }
}

fn render(garment: Garment, view: View) -> RgbaImage {
    render_on(&renderer(), garment, view)
}

/// Pixel position of a world point for `camera` at `PX`.
fn project(camera: &Camera, p: Vec3) -> Option<(u32, u32)> {
    let clip = camera.view_proj(1.0) * p.extend(1.0);
    let ndc = clip.xyz() / clip.w;
    let x = ((ndc.x + 1.0) * 0.5 * PX as f32) as i64;
    let y = ((1.0 - ndc.y) * 0.5 * PX as f32) as i64;
    ((0..PX as i64).contains(&x) && (0..PX as i64).contains(&y)).then_some((x as u32, y as u32))
}

/// Whether `p` is `colour` under some shading: a brightness factor in a
/// plausible range and little left over in hue (the soft fabric highlight
/// adds a little white; another hue leaves far more).
fn shaded(p: &Rgba<u8>, colour: [u8; 3]) -> bool {
    let p = Vec3::new(p[0] as f32, p[1] as f32, p[2] as f32);
    let c = Vec3::new(colour[0] as f32, colour[1] as f32, colour[2] as f32);
    let k = p.dot(c) / c.dot(c);
    (0.3..=1.6).contains(&k) && (p - c * k).length() < 40.0
}

/// Garment vertices of `material` that face the camera squarely, projected.
fn garment_samples(garment: Garment, view: View, material: Material) -> Vec<(u32, u32)> {
    let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
    let (mesh, camera) = tryon(garment, view)
        .build(&chart)
        .unwrap_or_else(|e| panic!("{e}"));
    let eye = camera.eye();
    mesh.vertices
        .iter()
        .filter(|v| v.material == material.id())
        // Open sky only: folds are rightly darker than any plain shading.
        .filter(|v| v.ao > 0.8)
        // Not on the hem or the neckline, whose pixels mix with what is behind.
        .filter(|v| (0.05..0.95).contains(&v.uv[1]))
        .filter(|v| {
            let p = Vec3::from(v.position);
            Vec3::from(v.normal).dot((eye - p).normalize()) > 0.6
        })
        .filter_map(|v| project(&camera, Vec3::from(v.position)))
        .collect()
}

fn share(img: &RgbaImage, at: &[(u32, u32)], ok: impl Fn(&Rgba<u8>) -> bool) -> f32 {
    assert!(at.len() > 20, "too few samples: {}", at.len());
    at.iter().filter(|&&(x, y)| ok(img.get_pixel(x, y))).count() as f32 / at.len() as f32
}

#[test]
fn two_runs_give_the_same_image() {
    let r = renderer();
    for g in [Garment::Hoodie, Garment::Dress] {
        let (a, b) = (
            render_on(&r, g, View::ThreeQuarter),
            render_on(&r, g, View::ThreeQuarter),
        );
        let worst = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0);
        assert!(worst <= 1, "{g:?}: max channel difference {worst}");
    }
}

#[test]
fn without_a_back_photo_the_back_is_the_fill_colour() {
    let r = renderer();
    for g in Garment::ALL {
        let img = render_on(&r, g, View::Back);
        let at = garment_samples(g, View::Back, Material::GarmentBack);
        let s = share(&img, &at, |p| shaded(p, FILL));
        assert!(
            s > 0.85,
            "{g:?}: only {:.0}% of the back is the fill colour",
            s * 100.0
        );
    }
}

#[test]
fn a_back_photo_covers_the_back() {
    let back = RgbaImage::from_pixel(50, 60, Rgba([GREEN[0], GREEN[1], GREEN[2], 255]));
    let r = renderer();
    let img = tryon(Garment::Polo, View::Back)
        .prepare(&r, Some(&photo()), Some(&back))
        .and_then(|p| p.frame(&r, None, PX))
        .unwrap_or_else(|e| panic!("{e}"));
    let at = garment_samples(Garment::Polo, View::Back, Material::GarmentBack);
    let s = share(&img, &at, |p| shaded(p, GREEN));
    assert!(s > 0.85, "only {:.0}% of the back is green", s * 100.0);
}

#[test]
fn the_front_carries_the_photo_over_the_fill() {
    let r = renderer();
    for g in Garment::ALL {
        let img = render_on(&r, g, View::Front);
        let at = garment_samples(g, View::Front, Material::GarmentFront);
        let red = share(&img, &at, |p| shaded(p, RED));
        let either = share(&img, &at, |p| shaded(p, RED) || shaded(p, FILL));
        assert!(
            red > 0.4,
            "{g:?}: only {:.0}% of the front shows the photo",
            red * 100.0
        );
        assert!(
            either > 0.85,
            "{g:?}: only {:.0}% of the front is photo or fill",
            either * 100.0
        );
    }
}

/// What `vitrine tryon` does without `--fill`: the garment takes the
/// product's dominant colour wherever the photo does not reach, so from
/// every side the garment region is that colour.
#[test]
fn the_dominant_colour_covers_the_garment() {
    let p = photo();
    let dominant = vitrine_render::dominant_colour(&p).unwrap_or_else(|| panic!("no colour"));
    assert_eq!(dominant, RED);
    let r = renderer();
    for g in Garment::ALL {
        for view in VIEWS {
            let mut t = tryon(g, view);
            t.fill = dominant;
            let img = t.render(&r, Some(&p), PX).unwrap_or_else(|e| panic!("{e}"));
            let mut at = garment_samples(g, view, Material::GarmentFront);
            at.extend(garment_samples(g, view, Material::GarmentBack));
            let s = share(&img, &at, |px| shaded(px, RED));
            assert!(s > 0.85, "{g:?} {view:?}: only {:.0}% red", s * 100.0);
        }
    }
}

#[test]
fn background_and_ground_shadow_where_expected() {
    let img = render(Garment::TShirt, View::Front);
    for (x, y) in [(2, 2), (PX - 3, 2), (2, PX - 3), (PX - 3, PX - 3)] {
        let p = img.get_pixel(x, y);
        assert!(
            (0..3).all(|c| p[c].abs_diff(BACKGROUND[c]) <= 2),
            "corner ({x},{y}) is {p:?}"
        );
    }
    let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
    let m = chart
        .get(BodyType::Neutral, "M")
        .unwrap_or_else(|e| panic!("{e}"));
    let h = Body::new(&m, BodyType::Neutral).height;
    let camera = Camera::preset(View::Front, h);
    let shadow = project(&camera, Vec3::new(0.12 * h, 0.0, 0.05 * h)).expect("in view");
    let floor = project(&camera, Vec3::new(0.45 * h, 0.0, 0.0)).expect("in view");
    let (s, f) = (
        img.get_pixel(shadow.0, shadow.1),
        img.get_pixel(floor.0, floor.1),
    );
    assert!(
        s[0] + 10 < BACKGROUND[0],
        "no shadow under the figure: {s:?}"
    );
    assert!(
        f[0].abs_diff(BACKGROUND[0]) <= 2,
        "shadow reaches too far: {f:?}"
    );
}

/// Compares with a perceptual tolerance: the mean difference over the
/// image must be small (edges rasterise a little differently across Mesa
/// versions), and so must every 16×16 tile's, so that a change confined
/// to a small region (a missing collar) still fails.
fn compare(img: &RgbaImage, reference: &RgbaImage, name: &str) {
    assert_eq!(reference.dimensions(), img.dimensions(), "{name}");
    let diff = |x: u32, y: u32| -> u32 {
        let (a, b) = (img.get_pixel(x, y), reference.get_pixel(x, y));
        (0..3).map(|c| a[c].abs_diff(b[c]) as u32).sum()
    };
    let (w, h) = img.dimensions();
    let total: u64 = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| diff(x, y) as u64)
        .sum();
    let mean = total as f64 / (w * h * 3) as f64;
    assert!(
        mean < 2.0,
        "{name}: mean absolute difference {mean:.2} per channel"
    );
    const TILE: u32 = 16;
    for ty in (0..h).step_by(TILE as usize) {
        for tx in (0..w).step_by(TILE as usize) {
            let sum: u32 = (ty..(ty + TILE).min(h))
                .flat_map(|y| (tx..(tx + TILE).min(w)).map(move |x| (x, y)))
                .map(|(x, y)| diff(x, y))
                .sum();
            let tile_mean = sum as f64 / (TILE * TILE * 3) as f64;
            assert!(
                tile_mean < 12.0,
                "{name}: the tile at ({tx},{ty}) differs by {tile_mean:.1} per channel"
            );
        }
    }
}

fn view_name(view: View) -> &'static str {
    match view {
        View::Front => "front",
        View::Back => "back",
        View::ThreeQuarter => "34",
    }
}

#[test]
fn every_garment_and_view_matches_its_reference() {
    let r = renderer();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference");
    for g in Garment::ALL {
        for view in VIEWS {
            let name = format!("{}-{}-{PX}.png", g.key(), view_name(view));
            let img = render_on(&r, g, view);
            let path = dir.join(&name);
            if std::env::var_os("VITRINE_UPDATE_REFERENCES").is_some() {
                img.save(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            let reference = image::open(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .to_rgba8();
            compare(&img, &reference, &name);
        }
    }
}

/// The comparison is not blind: a T-shirt is not a polo, nor a front a back.
#[test]
fn references_tell_garments_apart() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference");
    let polo = image::open(dir.join(format!("polo-front-{PX}.png")))
        .unwrap_or_else(|e| panic!("{e}"))
        .to_rgba8();
    let result = std::panic::catch_unwind(|| {
        compare(
            &render(Garment::TShirt, View::Front),
            &polo,
            "tshirt vs polo",
        )
    });
    assert!(result.is_err(), "a T-shirt passed as a polo");
}

#[test]
fn a_loaded_mannequin_renders_like_the_generated_one() {
    let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
    let t = tryon(Garment::TShirt, View::ThreeQuarter);
    let glb = t.export_glb(&chart).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("figure.glb");
    std::fs::write(&path, glb).unwrap_or_else(|e| panic!("{e}"));
    let mut loaded = t.clone();
    loaded.mannequin = Some(vitrine_render::load_mesh(&path).unwrap_or_else(|e| panic!("{e}")));
    let r = renderer();
    let a = t
        .render(&r, Some(&photo()), PX)
        .unwrap_or_else(|e| panic!("{e}"));
    let b = loaded
        .render(&r, Some(&photo()), PX)
        .unwrap_or_else(|e| panic!("{e}"));
    compare(&b, &a, "loaded mannequin");
}

#[test]
fn bad_photos_are_clear_errors_and_huge_ones_are_scaled() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join("missing.png");
    let err = vitrine_render::load_photo(&missing)
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("missing.png"), "{err}");
    let junk = dir.path().join("junk.jpg");
    std::fs::write(&junk, b"\xff\xd8 not a jpeg").unwrap_or_else(|e| panic!("{e}"));
    let err = vitrine_render::load_photo(&junk).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("junk.jpg"), "{err}");
    assert!(err.to_string().contains("decode"), "{err}");
    // 10 000 px wide: rendered from a copy scaled to the texture limit.
    let huge = RgbaImage::from_pixel(10_000, 400, Rgba([RED[0], RED[1], RED[2], 255]));
    let img = tryon(Garment::TShirt, View::Front)
        .render(&renderer(), Some(&huge), PX)
        .unwrap_or_else(|e| panic!("{e}"));
    let at = garment_samples(Garment::TShirt, View::Front, Material::GarmentFront);
    let s = share(&img, &at, |p| shaded(p, RED));
    assert!(s > 0.85, "only {:.0}% of the front is red", s * 100.0);
}

/// Frame time at 1024 px of an uploaded scene orbiting (what the app's
/// panel and a turntable do): `cargo test --release -p vitrine-render
/// --test tryon -- --ignored --nocapture` (`LP_NUM_THREADS` for lavapipe).
#[test]
#[ignore]
fn bench_1024() {
    let r = renderer();
    let prepared = tryon(Garment::TShirt, View::ThreeQuarter)
        .prepare(&r, Some(&photo()), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut times: Vec<f64> = (0..15)
        .map(|i| {
            let t = std::time::Instant::now();
            prepared
                .frame(&r, Some(i as f32 * 24.0), 1024)
                .unwrap_or_else(|e| panic!("{e}"));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "1024x1024 try-on on {}: median {:.1} ms over {} frames",
        r.adapter_name(),
        times[times.len() / 2],
        times.len()
    );
}
