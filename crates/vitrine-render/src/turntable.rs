//! Turntables: frames evenly spaced over a full orbit, written as numbered
//! PNGs or as one animated PNG.

use std::io::BufWriter;
use std::path::Path;

use image::RgbaImage;

use crate::error::{RenderError, Result};

/// Orbit angles (degrees) of `n` frames over 360°, starting at `start`.
pub fn angles(n: usize, start: f32) -> Vec<f32> {
    (0..n)
        .map(|i| (start + 360.0 * i as f32 / n.max(1) as f32).rem_euclid(360.0))
        .collect()
}

/// Writes `frames` (all the same size) as an APNG that loops forever,
/// each frame shown for `delay_ms`.
pub fn write_apng(frames: &[RgbaImage], path: &Path, delay_ms: u16) -> Result<()> {
    let anim =
        |e: &dyn std::fmt::Display| RenderError::Animation(format!("{}: {e}", path.display()));
    let first = frames.first().ok_or_else(|| anim(&"no frames"))?;
    let (w, h) = first.dimensions();
    if frames.iter().any(|f| f.dimensions() != (w, h)) {
        return Err(anim(&"frames differ in size"));
    }
    let file = std::fs::File::create(path).map_err(|e| anim(&e))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .set_animated(frames.len() as u32, 0)
        .map_err(|e| anim(&e))?;
    encoder
        .set_frame_delay(delay_ms, 1000)
        .map_err(|e| anim(&e))?;
    let mut writer = encoder.write_header().map_err(|e| anim(&e))?;
    for f in frames {
        writer.write_image_data(f.as_raw()).map_err(|e| anim(&e))?;
    }
    writer.finish().map_err(|e| anim(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apng_holds_every_frame() {
        let frames: Vec<RgbaImage> = (0..3u8)
            .map(|i| RgbaImage::from_pixel(8, 8, image::Rgba([i * 80, 0, 0, 255])))
            .collect();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("t.png");
        write_apng(&frames, &path, 40).unwrap_or_else(|e| panic!("{e}"));
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap_or_else(|e| panic!("{e}"));
        let control = reader.info().animation_control().copied();
        assert_eq!(control.map(|c| c.num_frames), Some(3));
        assert_eq!(angles(4, 10.0), vec![10.0, 100.0, 190.0, 280.0]);
    }
}
