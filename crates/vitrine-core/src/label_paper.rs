//! Where a printed paper label covers a packaged product, so that its
//! colour is read from the product: a red wine's near-black bottle, not the
//! white label that covers half of it.
//!
//! Seeds are the pixels under the lines OCR read. The label is there only
//! when most of them are light and nearly grey (paper, with the ink
//! averaged in); its region is then grown from them over that paper, lit
//! or in shade, and takes in whatever the paper surrounds (the print and
//! drawings on it). Text printed straight onto a coloured bottle or on a
//! coloured label seeds no paper, and changes nothing.

use image::RgbaImage;

use crate::colours::{grow_region, mean_lab, Lab};

/// Lightness (CIELAB L) from which a seed pixel can be paper.
const PAPER_MIN_L: f32 = 62.0;
/// Chroma up to which a seed pixel can be paper: white, cream and grey
/// paper, with dark ink averaged into it.
const PAPER_MAX_CHROMA: f32 = 18.0;
/// Share of the seed pixels that must look like paper.
const PAPER_SEED_SHARE: f32 = 0.4;
/// How much darker (CIELAB L) than its lit part the label may be where it
/// turns away from the light round a bottle: shaded paper is grey paper.
const PAPER_SHADE: f32 = 35.0;
/// How much lighter than the paper's colour a label pixel may be (the
/// paper's colour is itself a mean of its lightest pixels).
const PAPER_HIGHLIGHT: f32 = 8.0;
/// How much more colourful (CIELAB chroma) than the paper a label pixel
/// may be, lit or in shade; tinted glass beside it is more.
const PAPER_CHROMA_TOLERANCE: f32 = 8.0;
/// A "label" over more than this share of the product is the product
/// itself (a white box, a white tube): keep it.
const MAX_LABEL_SHARE: f32 = 0.6;

/// The label's pixels in `small` (an analysis image of a photo of
/// `photo_size`), among the `foreground`; `None` when the read lines are
/// not on paper or the paper is most of the product.
pub(crate) fn label_mask(
    small: &RgbaImage,
    foreground: &[bool],
    text_boxes: &[[u32; 4]],
    photo_size: (u32, u32),
) -> Option<Vec<bool>> {
    let (w, h) = small.dimensions();
    let (pw, ph) = photo_size;
    if w == 0 || h == 0 || pw == 0 || ph == 0 || foreground.len() != (w * h) as usize {
        return None;
    }
    let idx = |x: u32, y: u32| (y * w + x) as usize;
    let lab: Vec<Lab> = small
        .pixels()
        .map(|p| Lab::from_srgb([p[0], p[1], p[2]]))
        .collect();

    // Seeds: the foreground pixels a read line covers; at least one pixel,
    // however small the line is in the analysis image.
    let (sx, sy) = (w as f32 / pw as f32, h as f32 / ph as f32);
    let mut seeded = vec![false; lab.len()];
    let mut seeds = Vec::new();
    for b in text_boxes {
        if b[0] >= pw || b[1] >= ph {
            continue;
        }
        let x0 = ((b[0] as f32 * sx).floor() as u32).min(w - 1);
        let y0 = ((b[1] as f32 * sy).floor() as u32).min(h - 1);
        let x1 = ((b[2] as f32 * sx).ceil() as u32).clamp(x0 + 1, w);
        let y1 = ((b[3] as f32 * sy).ceil() as u32).clamp(y0 + 1, h);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = idx(x, y);
                if foreground[i] && !seeded[i] {
                    seeded[i] = true;
                    seeds.push(i);
                }
            }
        }
    }
    let is_paper_like = |l: &Lab| l.l >= PAPER_MIN_L && l.a.hypot(l.b) <= PAPER_MAX_CHROMA;
    let paper_seeds: Vec<usize> = seeds
        .iter()
        .copied()
        .filter(|&i| is_paper_like(&lab[i]))
        .collect();
    if paper_seeds.len() < 3 || (paper_seeds.len() as f32) < PAPER_SEED_SHARE * seeds.len() as f32 {
        return None;
    }
    // The paper itself is the lightest of them: at this scale most seed
    // pixels blend it with the ink of the letters.
    let mut by_lightness = paper_seeds;
    by_lightness.sort_by(|&a, &b| lab[b].l.total_cmp(&lab[a].l));
    let lightest = &by_lightness[..by_lightness.len().div_ceil(4)];
    let paper = mean_lab(lightest.iter().map(|&i| lab[i]));
    let paper_chroma = paper.a.hypot(paper.b);
    let on_paper = |i: usize| {
        let c = lab[i];
        foreground[i]
            && c.a.hypot(c.b) <= paper_chroma + PAPER_CHROMA_TOLERANCE
            && (paper.l - PAPER_SHADE..=paper.l + PAPER_HIGHLIGHT).contains(&c.l)
    };

    // The paper: grown from the seeds over its own colour.
    let mut label = vec![false; lab.len()];
    for &i in &seeds {
        label[i] = on_paper(i);
    }
    grow_region(&mut label, w, on_paper);

    // What the paper surrounds: everything the background (and the image's
    // edge) cannot reach without crossing it.
    let mut outside = vec![false; lab.len()];
    for (i, fg) in foreground.iter().enumerate() {
        let (x, y) = ((i as u32) % w, (i as u32) / w);
        let edge = x == 0 || y == 0 || x + 1 == w || y + 1 == h;
        outside[i] = !label[i] && (!fg || edge);
    }
    grow_region(&mut outside, w, |j| !label[j]);
    for (i, on_label) in label.iter_mut().enumerate() {
        *on_label = foreground[i] && !outside[i];
    }

    let product = foreground.iter().filter(|&&f| f).count() as f32;
    let covered = label.iter().filter(|&&l| l).count() as f32;
    (covered > 0.0 && covered <= MAX_LABEL_SHARE * product).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    const PAPER: Rgba<u8> = Rgba([240, 238, 230, 255]);
    const INK: Rgba<u8> = Rgba([30, 30, 30, 255]);
    const GLASS: Rgba<u8> = Rgba([25, 15, 20, 255]);
    const CLEAR: Rgba<u8> = Rgba([0, 0, 0, 0]);

    /// A 40×80 bottle on a transparent 64×100 canvas with a paper label
    /// (rows 30..60) carrying a line of ink (row 44..47, columns 20..44).
    fn bottle(label: Rgba<u8>) -> RgbaImage {
        RgbaImage::from_fn(64, 100, |x, y| {
            let in_bottle = (12..52).contains(&x) && (10..90).contains(&y);
            let in_label = in_bottle && (30..60).contains(&y);
            let in_ink = (20..44).contains(&x) && (44..47).contains(&y);
            match (in_bottle, in_label, in_ink) {
                (false, _, _) => CLEAR,
                (true, true, true) => INK,
                (true, true, false) => label,
                _ => GLASS,
            }
        })
    }

    fn fg(img: &RgbaImage) -> Vec<bool> {
        img.pixels().map(|p| p[3] >= 128).collect()
    }

    #[test]
    fn paper_and_its_print_are_the_label() {
        let img = bottle(PAPER);
        // OCR's box, in a photo ten times the size of the analysis image.
        let mask = label_mask(&img, &fg(&img), &[[200, 430, 440, 480]], (640, 1000))
            .unwrap_or_else(|| panic!("no label found"));
        let at = |x: u32, y: u32| mask[(y * 64 + x) as usize];
        assert!(at(14, 32) && at(50, 58), "the paper's corners");
        assert!(at(30, 45), "the ink on it");
        assert!(!at(30, 20) && !at(30, 70), "the glass above and below");
        assert!(!at(2, 45), "the background");
    }

    #[test]
    fn print_on_a_coloured_label_is_not_paper() {
        let img = bottle(Rgba([40, 90, 200, 255]));
        assert!(label_mask(&img, &fg(&img), &[[200, 430, 440, 480]], (640, 1000)).is_none());
    }

    #[test]
    fn a_white_product_is_not_its_own_label() {
        // The "label" is the whole bottle: a white tube with print.
        let img = RgbaImage::from_fn(64, 100, |x, y| {
            match (
                (12..52).contains(&x) && (10..90).contains(&y),
                (44..47).contains(&y),
            ) {
                (false, _) => CLEAR,
                (true, true) if (20..44).contains(&x) => INK,
                _ => PAPER,
            }
        });
        assert!(label_mask(&img, &fg(&img), &[[200, 430, 440, 480]], (640, 1000)).is_none());
    }

    #[test]
    fn boxes_outside_the_image_or_nothing_to_seed_are_harmless() {
        let img = bottle(PAPER);
        assert!(label_mask(&img, &fg(&img), &[[5000, 5000, 6000, 6000]], (640, 1000)).is_none());
        assert!(label_mask(&img, &fg(&img), &[], (640, 1000)).is_none());
        assert!(label_mask(&RgbaImage::new(0, 0), &[], &[[0, 0, 1, 1]], (1, 1)).is_none());
    }
}
