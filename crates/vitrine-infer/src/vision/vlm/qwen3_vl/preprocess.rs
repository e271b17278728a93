//! The Qwen2-VL family's image processor (Qwen3-VL reuses it with 16-pixel
//! patches and mean = std = 0.5): alpha composited on white, "smart resize"
//! to multiples of patch × merge within a pixel budget, bicubic resampling,
//! normalisation, and patchification into the row order the vision tower
//! reads (merge blocks row by row, the patches of a block inside each).

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use serde::Deserialize;

use crate::error::{InferError, Result};

/// The widest aspect ratio the reference accepts.
const MAX_ASPECT: f64 = 200.0;

#[derive(Debug, Clone, PartialEq)]
pub struct ImageProcessor {
    pub patch_size: usize,
    pub temporal_patch_size: usize,
    pub merge_size: usize,
    pub min_pixels: usize,
    pub max_pixels: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// `preprocessor_config.json`: Qwen3-VL writes the pixel budget as
/// `size.shortest_edge` / `size.longest_edge` (in pixels, despite the
/// names); Qwen2-VL as `min_pixels` / `max_pixels`.
#[derive(Debug, Default, Deserialize)]
pub struct PreprocessorFile {
    #[serde(default)]
    patch_size: Option<usize>,
    #[serde(default)]
    temporal_patch_size: Option<usize>,
    #[serde(default)]
    merge_size: Option<usize>,
    #[serde(default)]
    min_pixels: Option<usize>,
    #[serde(default)]
    max_pixels: Option<usize>,
    #[serde(default)]
    size: Option<SizeField>,
    #[serde(default)]
    image_mean: Option<[f32; 3]>,
    #[serde(default)]
    image_std: Option<[f32; 3]>,
}

#[derive(Debug, Default, Deserialize)]
struct SizeField {
    #[serde(default)]
    shortest_edge: Option<usize>,
    #[serde(default)]
    longest_edge: Option<usize>,
}

/// Qwen3-VL's published budget: 256² to 4096² pixels.
const DEFAULT_MIN_PIXELS: usize = 65_536;
const DEFAULT_MAX_PIXELS: usize = 16_777_216;

impl ImageProcessor {
    /// The processor for a model whose vision tower has these sizes, with
    /// the file's settings where it has them. `max_pixels_cap` lowers the
    /// budget (CPU time grows with the square of the image tokens).
    pub fn new(
        file: &PreprocessorFile,
        patch_size: usize,
        temporal_patch_size: usize,
        merge_size: usize,
        max_pixels_cap: Option<usize>,
    ) -> std::result::Result<Self, String> {
        for (name, from_file, model) in [
            ("patch_size", file.patch_size, patch_size),
            (
                "temporal_patch_size",
                file.temporal_patch_size,
                temporal_patch_size,
            ),
            ("merge_size", file.merge_size, merge_size),
        ] {
            if let Some(v) = from_file {
                if v != model {
                    return Err(format!(
                        "preprocessor {name} = {v} but the vision tower's is {model}"
                    ));
                }
            }
        }
        let size = file.size.as_ref();
        let min_pixels = file
            .min_pixels
            .or(size.and_then(|s| s.shortest_edge))
            .unwrap_or(DEFAULT_MIN_PIXELS);
        let mut max_pixels = file
            .max_pixels
            .or(size.and_then(|s| s.longest_edge))
            .unwrap_or(DEFAULT_MAX_PIXELS);
        if let Some(cap) = max_pixels_cap {
            max_pixels = max_pixels.min(cap);
        }
        let factor = patch_size * merge_size;
        // At least one merged token, and a budget no smaller than the floor.
        let max_pixels = max_pixels.max(factor * factor);
        let min_pixels = min_pixels.min(max_pixels);
        let std = file.image_std.unwrap_or([0.5; 3]);
        if std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(format!("image_std {std:?} must be positive"));
        }
        let mean = file.image_mean.unwrap_or([0.5; 3]);
        if mean.iter().any(|m| !m.is_finite()) {
            return Err(format!("image_mean {mean:?} must be finite"));
        }
        Ok(Self {
            patch_size,
            temporal_patch_size,
            merge_size,
            min_pixels,
            max_pixels,
            mean,
            std,
        })
    }

    /// Height and width after the reference's smart resize.
    pub fn target_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        if height == 0 || width == 0 {
            return Err(InferError::BadImage(format!(
                "the image is empty ({width}×{height})"
            )));
        }
        let (h, w) = (height as f64, width as f64);
        let aspect = h.max(w) / h.min(w);
        if aspect > MAX_ASPECT {
            return Err(InferError::BadImage(format!(
                "aspect ratio {aspect:.0}:1 is beyond the model's {MAX_ASPECT:.0}:1"
            )));
        }
        let f = (self.patch_size * self.merge_size) as f64;
        // Python's round() rounds halves to even; so do we.
        let mut hb = f.max((h / f).round_ties_even() * f);
        let mut wb = f.max((w / f).round_ties_even() * f);
        if hb * wb > self.max_pixels as f64 {
            let beta = (h * w / self.max_pixels as f64).sqrt();
            hb = f.max((h / beta / f).floor() * f);
            wb = f.max((w / beta / f).floor() * f);
        } else if hb * wb < self.min_pixels as f64 {
            let beta = (self.min_pixels as f64 / (h * w)).sqrt();
            hb = (h * beta / f).ceil() * f;
            wb = (w * beta / f).ceil() * f;
        }
        Ok((hb as usize, wb as usize))
    }

    /// The image as flattened patches `(grid_h · grid_w, 3 · T · P · P)`
    /// and its patch grid `(grid_h, grid_w)`.
    pub fn patches(&self, img: &DynamicImage) -> Result<(Vec<f32>, usize, usize)> {
        let (height, width) = self.target_size(img.height() as usize, img.width() as usize)?;
        let rgb = on_white(img);
        let rgb = if (rgb.height() as usize, rgb.width() as usize) == (height, width) {
            rgb
        } else {
            let w = u32::try_from(width).map_err(|e| InferError::BadImage(e.to_string()))?;
            let h = u32::try_from(height).map_err(|e| InferError::BadImage(e.to_string()))?;
            image::imageops::resize(&rgb, w, h, FilterType::CatmullRom)
        };
        let p = self.patch_size;
        let m = self.merge_size;
        let t = self.temporal_patch_size;
        let (gh, gw) = (height / p, width / p);
        // Normalised planes, channel-major.
        let mut planes = vec![0f32; 3 * height * width];
        for (x, y, px) in rgb.enumerate_pixels() {
            for c in 0..3 {
                let v = f32::from(px.0[c]) / 255.0;
                planes[c * height * width + y as usize * width + x as usize] =
                    (v - self.mean[c]) / self.std[c];
            }
        }
        let row_len = 3 * t * p * p;
        let mut out = Vec::with_capacity(gh * gw * row_len);
        for bh in 0..gh / m {
            for bw in 0..gw / m {
                for ih in 0..m {
                    for iw in 0..m {
                        let (r, c0) = (bh * m + ih, bw * m + iw);
                        for ch in 0..3 {
                            let plane = &planes[ch * height * width..(ch + 1) * height * width];
                            // A still image is its own every frame.
                            for _ in 0..t {
                                for py in 0..p {
                                    let start = (r * p + py) * width + c0 * p;
                                    out.extend_from_slice(&plane[start..start + p]);
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok((out, gh, gw))
    }
}

/// RGB with any transparency composited onto white, as the reference's
/// `convert_to_rgb` does (a cut-out's empty background reads as white).
fn on_white(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(src.0[3]);
        for c in 0..3 {
            let v = u32::from(src.0[c]) * a + 255 * (255 - a);
            dst.0[c] = ((v + 127) / 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qwen3() -> ImageProcessor {
        ImageProcessor::new(&PreprocessorFile::default(), 16, 2, 2, None).unwrap()
    }

    #[test]
    fn smart_resize_keeps_multiples_of_32_within_budget() {
        let p = qwen3();
        // 600×400 → nearest multiples of 32, then up to the 65 536 floor.
        let (h, w) = p.target_size(400, 600).unwrap();
        assert_eq!((h % 32, w % 32), (0, 0));
        assert!(h * w >= 65_536);
        let capped =
            ImageProcessor::new(&PreprocessorFile::default(), 16, 2, 2, Some(128 * 128)).unwrap();
        let (h, w) = capped.target_size(6000, 8000).unwrap();
        assert!(h * w <= 128 * 128 && h >= 32 && w >= 32, "{h}×{w}");
        assert!(w > h);
    }

    #[test]
    fn tiny_and_extreme_images() {
        let p = qwen3();
        let (h, w) = p.target_size(8, 8).unwrap();
        assert!(h * w >= 65_536 && h % 32 == 0);
        assert!(matches!(
            p.target_size(1, 500),
            Err(InferError::BadImage(_))
        ));
        assert!(matches!(p.target_size(0, 5), Err(InferError::BadImage(_))));
    }

    #[test]
    fn patch_rows_follow_merge_blocks() {
        // A 64×64 image of patch 16, merge 2: a 4×4 patch grid. Paint each
        // patch with its own grey level and check the row order.
        let p = ImageProcessor::new(&PreprocessorFile::default(), 16, 2, 2, Some(64 * 64)).unwrap();
        let p = ImageProcessor {
            min_pixels: 64 * 64,
            mean: [0.0; 3],
            std: [1.0; 3],
            ..p
        };
        let img = RgbImage::from_fn(64, 64, |x, y| {
            let v = (y / 16 * 4 + x / 16) as u8 * 10;
            image::Rgb([v, v, v])
        });
        let (patches, gh, gw) = p.patches(&DynamicImage::ImageRgb8(img)).unwrap();
        assert_eq!((gh, gw), (4, 4));
        let row = 3 * 2 * 16 * 16;
        let level = |i: usize| (patches[i * row] * 255.0).round() as u8 / 10;
        let order: Vec<u8> = (0..16).map(level).collect();
        assert_eq!(
            order,
            [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]
        );
    }
}
