//! Differentiable-Binarization post-processing: the detector's text
//! probability map to boxes around lines of text.
//!
//! Boxes are axis-aligned rectangles around 8-connected regions of the
//! thresholded map, where the PaddleOCR reference fits rotated minimum-area
//! rectangles; product labels are photographed mostly upright, and the
//! recogniser tolerates the extra background of a slightly tilted line.

/// Pixels above this probability are text.
pub(crate) const BIN_THRESHOLD: f32 = 0.3;
/// A region whose box averages less than this is dropped.
pub(crate) const BOX_THRESHOLD: f32 = 0.5;
/// How far the shrunk text kernels the detector predicts are grown back:
/// by area × ratio / perimeter on every side.
pub(crate) const UNCLIP_RATIO: f32 = 1.6;
/// The reference's cap on regions looked at per image.
const MAX_CANDIDATES: usize = 1000;
/// Regions narrower than this (map pixels) are noise.
const MIN_SIDE: f32 = 3.0;

/// A text box in image pixels, `[x0, x1)` × `[y0, y1)`, with the mean text
/// probability inside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub score: f32,
}

/// Boxes found in `prob` (row-major, `width` × `height`), scaled to an image
/// of `dest_w` × `dest_h` pixels, in reading order.
pub(crate) fn boxes_from_map(
    prob: &[f32],
    width: usize,
    height: usize,
    dest_w: u32,
    dest_h: u32,
) -> Vec<TextBox> {
    if width == 0 || height == 0 || prob.len() != width * height {
        return Vec::new();
    }
    let mask = dilate(
        &prob.iter().map(|&p| p > BIN_THRESHOLD).collect::<Vec<_>>(),
        width,
        height,
    );
    let sx = dest_w as f32 / width as f32;
    let sy = dest_h as f32 / height as f32;
    let mut boxes = Vec::new();
    for region in regions(&mask, width, height)
        .into_iter()
        .take(MAX_CANDIDATES)
    {
        let (w, h) = (
            (region.x1 - region.x0) as f32,
            (region.y1 - region.y0) as f32,
        );
        if w.min(h) < MIN_SIDE {
            continue;
        }
        let score = mean_in_rect(prob, width, &region);
        if score < BOX_THRESHOLD {
            continue;
        }
        let grow = w * h * UNCLIP_RATIO / (2.0 * (w + h));
        if w.min(h) + 2.0 * grow < MIN_SIDE + 2.0 {
            continue;
        }
        let scale = |v: f32, s: f32, max: u32| (v * s).round().clamp(0.0, max as f32) as u32;
        let b = TextBox {
            x0: scale(region.x0 as f32 - grow, sx, dest_w),
            y0: scale(region.y0 as f32 - grow, sy, dest_h),
            x1: scale(region.x1 as f32 + grow, sx, dest_w),
            y1: scale(region.y1 as f32 + grow, sy, dest_h),
            score,
        };
        if b.x1.saturating_sub(b.x0) > 3 && b.y1.saturating_sub(b.y0) > 3 {
            boxes.push(b);
        }
    }
    reading_order(&mut boxes);
    boxes
}

/// The reference dilates the binary map with a 2×2 kernel anchored at its
/// bottom-right cell, joining characters one pixel apart.
fn dilate(mask: &[bool], width: usize, height: usize) -> Vec<bool> {
    let mut out = vec![false; mask.len()];
    for y in 0..height {
        for x in 0..width {
            let at = |xx: usize, yy: usize| mask[yy * width + xx];
            out[y * width + x] = at(x, y)
                || (x > 0 && at(x - 1, y))
                || (y > 0 && at(x, y - 1))
                || (x > 0 && y > 0 && at(x - 1, y - 1));
        }
    }
    out
}

/// An 8-connected region's extent: the span between its outermost pixel
/// centres, as the reference measures contours.
#[derive(Debug, Clone, Copy)]
struct Region {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

fn regions(mask: &[bool], width: usize, height: usize) -> Vec<Region> {
    let mut seen = vec![false; mask.len()];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (sx, sy) = (start % width, start / width);
        let mut r = Region {
            x0: sx,
            y0: sy,
            x1: sx,
            y1: sy,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            r.x0 = r.x0.min(x);
            r.x1 = r.x1.max(x);
            r.y0 = r.y0.min(y);
            r.y1 = r.y1.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(height - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(width - 1) {
                    let j = ny * width + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(r);
    }
    out
}

fn mean_in_rect(prob: &[f32], width: usize, r: &Region) -> f32 {
    let mut sum = 0f64;
    for y in r.y0..=r.y1 {
        sum += prob[y * width + r.x0..=y * width + r.x1]
            .iter()
            .map(|&p| f64::from(p))
            .sum::<f64>();
    }
    let n = (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
    (sum / n as f64) as f32
}

/// Top to bottom, then left to right among boxes whose tops are within 10
/// pixels of each other (one line of text), as the reference orders them.
fn reading_order(boxes: &mut [TextBox]) {
    boxes.sort_by_key(|b| (b.y0, b.x0));
    for i in 0..boxes.len().saturating_sub(1) {
        let mut j = i + 1;
        while j > 0 && boxes[j].y0.abs_diff(boxes[j - 1].y0) < 10 && boxes[j].x0 < boxes[j - 1].x0 {
            boxes.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_with(rects: &[(usize, usize, usize, usize, f32)], w: usize, h: usize) -> Vec<f32> {
        let mut m = vec![0.0; w * h];
        for &(x0, y0, x1, y1, p) in rects {
            for y in y0..y1 {
                for x in x0..x1 {
                    m[y * w + x] = p;
                }
            }
        }
        m
    }

    #[test]
    fn a_confident_block_becomes_one_grown_box() {
        let m = map_with(&[(10, 20, 50, 30, 0.9)], 64, 64);
        let b = boxes_from_map(&m, 64, 64, 128, 128);
        assert_eq!(b.len(), 1, "{b:?}");
        // After dilation the region spans x 10..=50, y 20..=30 (40 × 10), grown by
        // 40·10·1.6/100 = 6.4 on each side, then doubled.
        assert_eq!((b[0].x0, b[0].y0, b[0].x1, b[0].y1), (7, 27, 113, 73));
        assert!(b[0].score > 0.7, "{}", b[0].score);
    }

    #[test]
    fn faint_thin_and_empty_maps_give_nothing() {
        let faint = map_with(&[(10, 10, 40, 20, 0.35)], 64, 64);
        assert!(boxes_from_map(&faint, 64, 64, 64, 64).is_empty());
        let thin = map_with(&[(10, 10, 40, 11, 0.9)], 64, 64);
        assert!(boxes_from_map(&thin, 64, 64, 64, 64).is_empty());
        assert!(boxes_from_map(&[0.0; 16], 4, 4, 8, 8).is_empty());
        assert!(boxes_from_map(&[], 0, 0, 8, 8).is_empty());
        assert!(boxes_from_map(&[0.9; 3], 2, 2, 8, 8).is_empty());
    }

    #[test]
    fn boxes_come_in_reading_order() {
        let m = map_with(
            &[
                // higher than its left neighbour, but on the same line
                (40, 8, 60, 20, 0.9),
                (5, 10, 30, 20, 0.9),
                (5, 40, 30, 50, 0.9),
            ],
            64,
            64,
        );
        let b = boxes_from_map(&m, 64, 64, 64, 64);
        let starts: Vec<_> = b.iter().map(|b| (b.x0 < 20, b.y0 < 30)).collect();
        assert_eq!(starts, vec![(true, true), (false, true), (true, false)]);
    }
}
