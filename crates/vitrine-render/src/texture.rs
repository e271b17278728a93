//! Preparing the product photo for the garment's front panel.

use std::path::Path;

use image::{imageops::FilterType, Rgba, RgbaImage};

use crate::error::{RenderError, Result};

/// Decodes a product photo (PNG, JPEG or WebP) from a file, saying which
/// file and why when it cannot.
pub fn load_photo(path: &Path) -> Result<RgbaImage> {
    let bytes = std::fs::read(path)
        .map_err(|e| RenderError::Photo(format!("cannot read {}: {e}", path.display())))?;
    decode_photo(&bytes).map_err(|e| match e {
        RenderError::Photo(why) => RenderError::Photo(format!("{}: {why}", path.display())),
        other => other,
    })
}

/// Decodes a product photo from memory.
pub fn decode_photo(bytes: &[u8]) -> Result<RgbaImage> {
    image::load_from_memory(bytes)
        .map(|i| i.to_rgba8())
        .map_err(|e| {
            RenderError::Photo(format!(
                "cannot decode it (PNG, JPEG and WebP are supported): {e}"
            ))
        })
}

/// Longest side the photo keeps on the GPU; a front panel never shows more.
pub const MAX_TEXTURE_SIDE: u32 = 2048;

/// The box around a cut-out's opaque pixels, `None` when the photo has no
/// transparency to cut by (or nothing opaque).
fn cutout_box(photo: &RgbaImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let mut transparent = false;
    for (x, y, p) in photo.enumerate_pixels() {
        if p[3] >= 128 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        } else {
            transparent = true;
        }
    }
    (transparent && x0 <= x1).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// The photo ready for upload: cropped to the cut-out (the garment's
/// projection maps the garment's silhouette box onto it), transparent
/// areas composited over `fill` (so the cut-out sits on a garment of the
/// fill colour), and scaled down when larger than `MAX_TEXTURE_SIDE`.
pub fn prepare_photo(photo: &RgbaImage, fill: [u8; 3]) -> RgbaImage {
    let cropped;
    let photo = match cutout_box(photo) {
        Some((x, y, w, h)) => {
            cropped = image::imageops::crop_imm(photo, x, y, w, h).to_image();
            &cropped
        }
        None => photo,
    };
    let (w, h) = photo.dimensions();
    let scaled;
    let src = if w.max(h) > MAX_TEXTURE_SIDE {
        let k = MAX_TEXTURE_SIDE as f32 / w.max(h) as f32;
        let (nw, nh) = (
            ((w as f32 * k).round() as u32).max(1),
            ((h as f32 * k).round() as u32).max(1),
        );
        scaled = image::imageops::resize(photo, nw, nh, FilterType::Triangle);
        &scaled
    } else {
        photo
    };
    let mut out = RgbaImage::new(src.width().max(1), src.height().max(1));
    for (x, y, p) in src.enumerate_pixels() {
        let a = p[3] as u32;
        let mix = |c: u8, f: u8| ((c as u32 * a + f as u32 * (255 - a) + 127) / 255) as u8;
        out.put_pixel(
            x,
            y,
            Rgba([
                mix(p[0], fill[0]),
                mix(p[1], fill[1]),
                mix(p[2], fill[2]),
                255,
            ]),
        );
    }
    out
}

/// The most common opaque colour of a cut-out, quantised to 32 levels per
/// channel so that noise and shading fall into one bucket; a sensible fill
/// when the caller has none. `None` for a fully transparent image.
pub fn dominant_colour(photo: &RgbaImage) -> Option<[u8; 3]> {
    let mut counts = std::collections::BTreeMap::<[u8; 3], (u64, [u64; 3])>::new();
    for p in photo.pixels().filter(|p| p[3] >= 128) {
        let key = [p[0] >> 3, p[1] >> 3, p[2] >> 3];
        let e = counts.entry(key).or_insert((0, [0; 3]));
        e.0 += 1;
        for c in 0..3 {
            e.1[c] += p[c] as u64;
        }
    }
    counts
        .into_values()
        .max_by_key(|(n, _)| *n)
        .map(|(n, s)| [(s[0] / n) as u8, (s[1] / n) as u8, (s[2] / n) as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_photos_are_scaled_down_and_transparency_becomes_the_fill() {
        let photo = RgbaImage::from_fn(10_000, 20, |x, _| {
            if x < 5_000 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let out = prepare_photo(&photo, [0, 0, 255]);
        // Cropped to the opaque half (5000 × 20), then scaled to the limit.
        assert_eq!(out.dimensions(), (MAX_TEXTURE_SIDE, 8));
        assert_eq!(out.get_pixel(10, 1).0, [255, 0, 0, 255]);
        assert_eq!(dominant_colour(&photo), Some([255, 0, 0]));
    }

    #[test]
    fn cutouts_are_cropped_to_the_product_and_holes_take_the_fill() {
        let photo = RgbaImage::from_fn(100, 80, |x, y| {
            let product = (20..60).contains(&x) && (10..70).contains(&y);
            let hole = (30..40).contains(&x) && (30..40).contains(&y);
            if product && !hole {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let out = prepare_photo(&photo, [0, 0, 255]);
        assert_eq!(out.dimensions(), (40, 60));
        assert_eq!(out.get_pixel(0, 0).0, [255, 0, 0, 255]);
        assert_eq!(out.get_pixel(15, 25).0, [0, 0, 255, 255]);
        // A photo without transparency is used whole.
        let plain = RgbaImage::from_pixel(30, 20, Rgba([9, 9, 9, 255]));
        assert_eq!(prepare_photo(&plain, [0, 0, 0]).dimensions(), (30, 20));
    }
}
