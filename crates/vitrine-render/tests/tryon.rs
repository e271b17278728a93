//! Renders the T-shirt try-on on the software adapter (lavapipe in CI, so
//! the images do not depend on a GPU) and checks what lands where.
//!
//! `VITRINE_UPDATE_REFERENCES=1` rewrites `tests/reference/*.png`; look at
//! them before committing.

use std::path::PathBuf;

use glam::{Vec3, Vec4Swizzles};
use image::{Rgba, RgbaImage};
use vitrine_render::{
    AdapterChoice, Body, BodyType, Camera, Material, Renderer, SizeChart, TryOn, View,
};

const PX: u32 = 256;
const RED: [u8; 3] = [200, 30, 30];
const FILL: [u8; 3] = [40, 70, 160];
const BACKGROUND: [u8; 3] = [230, 230, 230];

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

fn render(view: View) -> RgbaImage {
    match TryOn::new("M", view, FILL).render(&renderer(), Some(&photo()), PX) {
        Ok(img) => img,
        Err(e) => panic!("render {view:?}: {e}"),
    }
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
/// plausible range and little left over in hue.
fn shaded(p: &Rgba<u8>, colour: [u8; 3]) -> bool {
    let p = Vec3::new(p[0] as f32, p[1] as f32, p[2] as f32);
    let c = Vec3::new(colour[0] as f32, colour[1] as f32, colour[2] as f32);
    let k = p.dot(c) / c.dot(c);
    (0.3..=1.6).contains(&k) && (p - c * k).length() < 30.0
}

/// Garment vertices of `material` that face the camera squarely, projected.
fn garment_samples(view: View, material: Material) -> Vec<(u32, u32)> {
    let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
    let tryon = TryOn::new("M", view, FILL);
    let (mesh, camera) = tryon.build(&chart).unwrap_or_else(|e| panic!("{e}"));
    let eye = camera.eye();
    mesh.vertices
        .iter()
        .filter(|v| v.material == material as u32 as f32)
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
    let (a, b) = (render(View::ThreeQuarter), render(View::ThreeQuarter));
    let worst = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    assert!(worst <= 1, "max channel difference {worst}");
}

#[test]
fn the_back_is_the_fill_colour() {
    let img = render(View::Back);
    let at = garment_samples(View::Back, Material::GarmentFill);
    let s = share(&img, &at, |p| shaded(p, FILL));
    assert!(
        s > 0.85,
        "only {:.0}% of the back is the fill colour",
        s * 100.0
    );
}

#[test]
fn the_front_carries_the_photo_over_the_fill() {
    let img = render(View::Front);
    let at = garment_samples(View::Front, Material::GarmentFront);
    let red = share(&img, &at, |p| shaded(p, RED));
    let either = share(&img, &at, |p| shaded(p, RED) || shaded(p, FILL));
    assert!(
        red > 0.4,
        "only {:.0}% of the front shows the photo",
        red * 100.0
    );
    assert!(
        either > 0.7,
        "only {:.0}% of the front is photo or fill",
        either * 100.0
    );
}

#[test]
fn background_and_ground_shadow_where_expected() {
    let img = render(View::Front);
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

fn reference_check(view: View, name: &str) {
    let img = render(view);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(name);
    if std::env::var_os("VITRINE_UPDATE_REFERENCES").is_some() {
        img.save(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let reference = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    assert_eq!(reference.dimensions(), img.dimensions());
    let total: u64 = img
        .as_raw()
        .iter()
        .zip(reference.as_raw())
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum();
    let mean = total as f64 / img.as_raw().len() as f64;
    // Different Mesa versions rasterise edges a little differently; a
    // changed mannequin or garment moves far more than this.
    assert!(
        mean < 2.0,
        "{name}: mean absolute difference {mean:.2} per channel"
    );
}

#[test]
fn front_matches_its_reference() {
    reference_check(View::Front, "tshirt-front-256.png");
}

#[test]
fn back_matches_its_reference() {
    reference_check(View::Back, "tshirt-back-256.png");
}

/// Frame time at 1024 px: `cargo test --release -p vitrine-render --test
/// tryon -- --ignored --nocapture` (set `LP_NUM_THREADS` for lavapipe).
#[test]
#[ignore]
fn bench_1024() {
    let r = renderer();
    let tryon = TryOn::new("M", View::ThreeQuarter, FILL);
    let p = photo();
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let t = std::time::Instant::now();
            tryon
                .render(&r, Some(&p), 1024)
                .unwrap_or_else(|e| panic!("{e}"));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "1024x1024 try-on on {}: median {:.1} ms over {} frames",
        r.adapter_name(),
        times[3],
        times.len()
    );
}
