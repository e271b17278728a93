//! Preparing the product photo for the garment's front panel.

use image::{imageops::FilterType, Rgba, RgbaImage};

/// Longest side the photo keeps on the GPU; a front panel never shows more.
pub const MAX_TEXTURE_SIDE: u32 = 2048;

/// The photo ready for upload: transparent areas composited over `fill`
/// (so the cut-out sits on a garment of the fill colour), and scaled down
/// when larger than `MAX_TEXTURE_SIDE`.
pub fn prepare_photo(photo: &RgbaImage, fill: [u8; 3]) -> RgbaImage {
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
        assert_eq!(out.dimensions(), (MAX_TEXTURE_SIDE, 4));
        assert_eq!(out.get_pixel(10, 1).0, [255, 0, 0, 255]);
        assert_eq!(out.get_pixel(MAX_TEXTURE_SIDE - 10, 1).0, [0, 0, 255, 255]);
        assert_eq!(dominant_colour(&photo), Some([255, 0, 0]));
    }
}
