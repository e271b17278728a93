//! Dominant colours of a product photo, named from a fixed vocabulary in
//! English and Chinese.
//!
//! The analysis is deterministic (same pixels, same answer) so that facts,
//! and therefore prompts and cached generations, are reproducible:
//! alpha-aware downscaling, a foreground mask, k-means in CIELAB with a
//! fixed-seed k-means++ start, and CIEDE2000 to name each cluster.

use std::collections::VecDeque;
use std::sync::LazyLock;

use image::{DynamicImage, GenericImageView, RgbaImage};
use serde::Deserialize;

use crate::types::ColourShare;

/// Long side of the image the clustering runs on: plenty to find a handful
/// of colours, and it bounds the work whatever the photo's size.
const ANALYSIS_SIDE: u32 = 128;
const CLUSTERS: usize = 6;
const MAX_ITERATIONS: usize = 20;
/// Pixels at least this opaque belong to the product when a photo has alpha.
const OPAQUE: u8 = 128;
/// Border pixels this close (ΔE76) to the border's mean count as backdrop.
const BACKDROP_DELTA_E: f32 = 12.0;
/// Share of border pixels that must match before the border is trusted to
/// be a plain backdrop at all.
const BACKDROP_BORDER_SHARE: f32 = 0.9;
/// If removing the backdrop leaves less than this share of the image, the
/// "backdrop" was the product itself (a white shirt on white); keep it all.
const MIN_FOREGROUND_SHARE: f32 = 0.1;

/// White leads a light neutral colour (light grey, beige in shade) it is at
/// least this share of; see `dominant_colours`.
const WHITE_IN_SHADE: f32 = 0.8;

/// A pale, nearly grey colour (`#rrggbb`): lightness at least 60 (a mid
/// grey is 54), chroma at most 15 in CIELAB.
fn is_light_neutral(hex: &str) -> bool {
    let h = hex.trim_start_matches('#');
    let byte = |i: usize| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok());
    let (Some(r), Some(g), Some(b)) = (byte(0), byte(2), byte(4)) else {
        return false;
    };
    let lab = Lab::from_srgb([r, g, b]);
    lab.l >= 60.0 && lab.a.hypot(lab.b) <= 15.0
}

/// One named colour of the vocabulary (`assets/colours.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ColourName {
    pub key: String,
    pub en: String,
    pub zh: String,
    pub rgb: [u8; 3],
    #[serde(default)]
    pub synonyms_en: Vec<String>,
    #[serde(default)]
    pub synonyms_zh: Vec<String>,
    /// The basic colour this is a shade of (navy → blue); `None` when it is
    /// one itself.
    #[serde(default)]
    pub family: Option<String>,
    /// `"metallic"` for gold and silver: a finish, never named from pixels.
    #[serde(default)]
    pub finish: Option<String>,
}

impl ColourName {
    /// The basic colour this shade belongs to: its `family`, else itself.
    pub fn family(&self) -> &str {
        self.family.as_deref().unwrap_or(&self.key)
    }

    /// A finish (gold, silver) rather than a flat colour.
    pub fn is_metallic(&self) -> bool {
        self.finish.as_deref() == Some("metallic")
    }
}

/// The vocabulary entry with this key.
pub fn by_key(key: &str) -> Option<&'static ColourName> {
    VOCABULARY.names.iter().find(|c| c.key == key)
}

#[derive(Deserialize)]
struct VocabularyFile {
    colour: Vec<ColourName>,
}

struct Vocabulary {
    names: Vec<ColourName>,
    lab: Vec<Lab>,
}

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    // The file is compiled in and covered by tests, so a parse failure is a
    // build defect rather than a runtime condition.
    let file: VocabularyFile = toml::from_str(include_str!("../../../assets/colours.toml"))
        .expect("assets/colours.toml is valid");
    let lab = file.colour.iter().map(|c| Lab::from_srgb(c.rgb)).collect();
    Vocabulary {
        names: file.colour,
        lab,
    }
});

/// The colour vocabulary, in file order.
pub fn vocabulary() -> &'static [ColourName] {
    &VOCABULARY.names
}

/// The flat colour of the vocabulary perceptually nearest to an sRGB
/// colour (CIEDE2000); metallic finishes are never the answer.
pub fn nearest_name(rgb: [u8; 3]) -> &'static ColourName {
    nearest(Lab::from_srgb(rgb))
}

fn nearest(lab: Lab) -> &'static ColourName {
    let vocab = &*VOCABULARY;
    let mut best = 0;
    let mut best_d = f32::INFINITY;
    for (i, v) in vocab.lab.iter().enumerate() {
        if vocab.names[i].is_metallic() {
            continue;
        }
        let d = ciede2000(lab, *v);
        // Strict `<` keeps the earlier entry on ties: deterministic.
        if d < best_d {
            best_d = d;
            best = i;
        }
    }
    &vocab.names[best]
}

/// Dominant colours of the product in `img`, largest share first; shares sum
/// to 1 over the foreground. Empty when nothing is foreground (e.g. a fully
/// transparent image).
///
/// Foreground: when the photo has transparent pixels, the opaque ones;
/// otherwise, when the photo's border is one plain colour (a studio
/// backdrop), everything not connected to the border in that colour;
/// otherwise every pixel. Each pixel counts by the square of its opacity:
/// the half-transparent parts of a cut-out (a shadow left under the
/// product, clear glass, soft edges) show the backdrop as much as the
/// product, and must not outweigh its solid body.
pub fn dominant_colours(img: &DynamicImage) -> Vec<ColourShare> {
    let small = area_downsample(img, ANALYSIS_SIDE);
    let mask = foreground_mask(&small);
    colours_of(&small, &mask)
}

/// [`dominant_colours`] of a packaged product whose printed label was read:
/// `text_boxes` are the read lines (`[x0, y0, x1, y1]` in `img`'s pixels).
/// Where they sit on light paper, the paper and what is printed on it are
/// left out (`crate::label_paper`): a red wine's bottle is dark, whatever
/// its white label says. `None` when there is no such label.
pub fn dominant_colours_beside_label(
    img: &DynamicImage,
    text_boxes: &[[u32; 4]],
) -> Option<Vec<ColourShare>> {
    let small = area_downsample(img, ANALYSIS_SIDE);
    let mut mask = foreground_mask(&small);
    let (w, h) = img.dimensions();
    let label = crate::label_paper::label_mask(&small, &mask, text_boxes, (w, h))?;
    for (keep, on_label) in mask.iter_mut().zip(&label) {
        *keep &= !on_label;
    }
    Some(colours_of(&small, &mask))
}

/// The named colours of the `mask`ed pixels of an analysis image.
fn colours_of(small: &RgbaImage, mask: &[bool]) -> Vec<ColourShare> {
    let mut points = Vec::new();
    let mut rgbs = Vec::new();
    let mut weights = Vec::new();
    for (p, keep) in small.pixels().zip(mask) {
        if *keep {
            let rgb = [p[0], p[1], p[2]];
            points.push(Lab::from_srgb(rgb));
            rgbs.push(rgb);
            let opacity = f64::from(p[3]) / 255.0;
            weights.push(opacity * opacity);
        }
    }
    if points.is_empty() {
        return Vec::new();
    }

    let (centres, assignment) = kmeans(&points, CLUSTERS);
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return Vec::new();
    }

    struct Cluster {
        weight: f64,
        rgb_sum: [f64; 3],
    }
    let mut clusters: Vec<Cluster> = (0..centres.len())
        .map(|_| Cluster {
            weight: 0.0,
            rgb_sum: [0.0; 3],
        })
        .collect();
    for ((rgb, &c), &w) in rgbs.iter().zip(&assignment).zip(&weights) {
        let cl = &mut clusters[c];
        cl.weight += w;
        for (sum, &v) in cl.rgb_sum.iter_mut().zip(rgb) {
            *sum += f64::from(v) * w;
        }
    }

    // Merge clusters that share a name; the merged colour keeps the hex of
    // its largest member, which is the shade a shopper would call it.
    struct Named {
        key: &'static str,
        name: &'static ColourName,
        weight: f64,
        largest: f64,
        hex: String,
    }
    let mut named: Vec<Named> = Vec::new();
    for (centre, cl) in centres.iter().zip(&clusters) {
        if cl.weight <= 0.0 {
            continue;
        }
        let name = nearest(*centre);
        let mean = cl
            .rgb_sum
            .map(|s| (s / cl.weight).round().clamp(0.0, 255.0) as u8);
        let hex = format!("#{:02x}{:02x}{:02x}", mean[0], mean[1], mean[2]);
        match named.iter_mut().find(|x| x.key == name.key) {
            Some(existing) => {
                existing.weight += cl.weight;
                if cl.weight > existing.largest {
                    existing.largest = cl.weight;
                    existing.hex = hex;
                }
            }
            None => named.push(Named {
                key: &name.key,
                name,
                weight: cl.weight,
                largest: cl.weight,
                hex,
            }),
        }
    }
    named.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.key.cmp(b.key)));
    // A white product in studio light: its lit side reads white, its shaded
    // side a light grey or beige of about the same area. Shade never makes a
    // grey or beige thing whiter, so white nearly as large as the light
    // neutral ahead of it is the product's colour.
    if let [first, rest @ ..] = named.as_slice() {
        let light_neutral = first.key != "white" && is_light_neutral(&first.hex);
        let white = rest.iter().position(|n| n.key == "white");
        if let (true, Some(at)) = (light_neutral, white) {
            if rest[at].weight >= f64::from(WHITE_IN_SHADE) * first.weight {
                let w = named.remove(at + 1);
                named.insert(0, w);
            }
        }
    }
    named
        .into_iter()
        .map(|n| ColourShare {
            key: n.name.key.clone(),
            name_en: n.name.en.clone(),
            name_zh: n.name.zh.clone(),
            hex: n.hex,
            share: (n.weight / total) as f32,
        })
        .collect()
}

/// Shrink `img` so its long side is at most `max_side`, averaging each
/// destination pixel over the source pixels it covers.
///
/// Colour is weighted by alpha, unlike `image`'s resizers, so the (often
/// black) colour of fully transparent pixels does not bleed into the edges
/// of a cut-out product. Images already small enough are converted, not
/// resampled.
pub(crate) fn area_downsample(img: &DynamicImage, max_side: u32) -> RgbaImage {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return RgbaImage::new(0, 0);
    }
    let max_side = max_side.max(1);
    let long = w.max(h);
    if long <= max_side {
        return img.to_rgba8();
    }
    let scale = f64::from(max_side) / f64::from(long);
    let ow = ((f64::from(w) * scale).round() as u32).clamp(1, max_side);
    let oh = ((f64::from(h) * scale).round() as u32).clamp(1, max_side);

    // Source column -> destination column, computed once.
    let col_map: Vec<usize> = (0..w)
        .map(|x| (u64::from(x) * u64::from(ow) / u64::from(w)) as usize)
        .collect();

    // Accumulators for one destination row; source rows map monotonically
    // onto destination rows, so one row of sums is enough.
    #[derive(Clone, Copy, Default)]
    struct Acc {
        count: u64,
        alpha: u64,
        rgb: [u64; 3],
    }
    let mut out = RgbaImage::new(ow, oh);
    let mut acc = vec![Acc::default(); ow as usize];
    let mut current_row = 0u32;

    let flush = |acc: &mut [Acc], out: &mut RgbaImage, row: u32| {
        for (x, a) in acc.iter_mut().enumerate() {
            let px = if a.count == 0 || a.alpha == 0 {
                image::Rgba([0, 0, 0, 0])
            } else {
                let alpha = (a.alpha + a.count / 2) / a.count;
                let c = a.rgb.map(|s| ((s + a.alpha / 2) / a.alpha).min(255) as u8);
                image::Rgba([c[0], c[1], c[2], alpha.min(255) as u8])
            };
            out.put_pixel(x as u32, row, px);
            *a = Acc::default();
        }
    };

    let add = |acc: &mut [Acc], x: u32, p: [u8; 4]| {
        let a = &mut acc[col_map[x as usize]];
        let alpha = u64::from(p[3]);
        a.count += 1;
        a.alpha += alpha;
        for (sum, &v) in a.rgb.iter_mut().zip(&p[..3]) {
            *sum += u64::from(v) * alpha;
        }
    };

    for y in 0..h {
        let row = (u64::from(y) * u64::from(oh) / u64::from(h)) as u32;
        if row != current_row {
            flush(&mut acc, &mut out, current_row);
            current_row = row;
        }
        // The common layouts are read straight from their buffers; the rest
        // (16-bit, grey, float) go through the generic per-pixel conversion.
        match img {
            DynamicImage::ImageRgba8(buf) => {
                for x in 0..w {
                    add(&mut acc, x, buf.get_pixel(x, y).0);
                }
            }
            DynamicImage::ImageRgb8(buf) => {
                for x in 0..w {
                    let p = buf.get_pixel(x, y).0;
                    add(&mut acc, x, [p[0], p[1], p[2], 255]);
                }
            }
            other => {
                for x in 0..w {
                    add(&mut acc, x, other.get_pixel(x, y).0);
                }
            }
        }
    }
    flush(&mut acc, &mut out, current_row);
    out
}

/// Which pixels of the (small) analysis image belong to the product.
pub(crate) fn foreground_mask(img: &RgbaImage) -> Vec<bool> {
    let has_transparency = img.pixels().any(|p| p[3] < OPAQUE);
    if has_transparency {
        return img.pixels().map(|p| p[3] >= OPAQUE).collect();
    }
    backdrop_mask(img).unwrap_or_else(|| vec![true; img.pixels().len()])
}

/// For an opaque photo on a plain backdrop (the usual product shot), mark
/// the backdrop as background: the pixels close to the border's colour that
/// are connected to the border. `None` when the border is not one plain
/// colour or when too little would remain.
fn backdrop_mask(img: &RgbaImage) -> Option<Vec<bool>> {
    let (w, h) = img.dimensions();
    if w < 3 || h < 3 {
        return None;
    }
    let lab: Vec<Lab> = img
        .pixels()
        .map(|p| Lab::from_srgb([p[0], p[1], p[2]]))
        .collect();
    let idx = |x: u32, y: u32| (y * w + x) as usize;
    let border: Vec<usize> = (0..w)
        .flat_map(|x| [idx(x, 0), idx(x, h - 1)])
        .chain((1..h - 1).flat_map(|y| [idx(0, y), idx(w - 1, y)]))
        .collect();

    let n = border.len() as f32;
    let mean = mean_lab(border.iter().map(|&i| lab[i]));
    let close = |i: usize| delta_e76(lab[i], mean) <= BACKDROP_DELTA_E;
    let matching = border.iter().filter(|&&i| close(i)).count() as f32;
    if matching / n < BACKDROP_BORDER_SHARE {
        return None;
    }

    // Flood fill from the border so that backdrop-coloured parts inside the
    // product (a white logo on a shirt) stay foreground.
    let mut backdrop = vec![false; lab.len()];
    for &i in &border {
        backdrop[i] = close(i);
    }
    grow_region(&mut backdrop, w, close);
    let foreground: Vec<bool> = backdrop.iter().map(|&b| !b).collect();
    let kept = foreground.iter().filter(|&&f| f).count() as f32;
    (kept / lab.len() as f32 >= MIN_FOREGROUND_SHARE).then_some(foreground)
}

/// Grows `region` (a grid `width` pixels wide) from every pixel already in
/// it over the 4-connected pixels that `may_join` admits.
pub(crate) fn grow_region(region: &mut [bool], width: u32, may_join: impl Fn(usize) -> bool) {
    let w = width as usize;
    if w == 0 {
        return;
    }
    let h = region.len() / w;
    let mut queue: VecDeque<usize> = (0..region.len()).filter(|&i| region[i]).collect();
    while let Some(i) = queue.pop_front() {
        let (x, y) = (i % w, i / w);
        let neighbours = [
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y > 0).then(|| i - w),
            (y + 1 < h).then(|| i + w),
        ];
        for j in neighbours.into_iter().flatten() {
            if !region[j] && may_join(j) {
                region[j] = true;
                queue.push_back(j);
            }
        }
    }
}

/// The mean of some CIELAB colours (black for none).
pub(crate) fn mean_lab(colours: impl ExactSizeIterator<Item = Lab>) -> Lab {
    let n = colours.len() as f32;
    colours.fold(Lab::default(), |acc, c| Lab {
        l: acc.l + c.l / n,
        a: acc.a + c.a / n,
        b: acc.b + c.b / n,
    })
}

/// k-means in CIELAB with a deterministic k-means++ start. Returns the
/// centres and each point's cluster index.
fn kmeans(points: &[Lab], k: usize) -> (Vec<Lab>, Vec<usize>) {
    let mut rng = SplitMix64(0x5eed_c0105);
    let mut centres = vec![points[0]];
    let mut d2: Vec<f32> = points.iter().map(|p| p.dist2(points[0])).collect();
    // k-means++: each next centre is drawn with probability proportional to
    // its squared distance from the nearest centre so far.
    while centres.len() < k {
        let total: f64 = d2.iter().map(|&d| f64::from(d)).sum();
        if total <= 0.0 {
            // Fewer distinct colours than clusters.
            break;
        }
        let mut target = rng.next_f64() * total;
        let mut chosen = points.len() - 1;
        for (i, &d) in d2.iter().enumerate() {
            target -= f64::from(d);
            if target <= 0.0 && d > 0.0 {
                chosen = i;
                break;
            }
        }
        let c = points[chosen];
        centres.push(c);
        for (d, p) in d2.iter_mut().zip(points) {
            *d = d.min(p.dist2(c));
        }
    }

    let mut assignment = vec![usize::MAX; points.len()];
    for _ in 0..MAX_ITERATIONS {
        let mut changed = false;
        for (a, p) in assignment.iter_mut().zip(points) {
            let best = nearest_centre(&centres, *p);
            if *a != best {
                *a = best;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![(0f64, 0f64, 0f64, 0usize); centres.len()];
        for (&a, p) in assignment.iter().zip(points) {
            let s = &mut sums[a];
            s.0 += f64::from(p.l);
            s.1 += f64::from(p.a);
            s.2 += f64::from(p.b);
            s.3 += 1;
        }
        for (c, s) in centres.iter_mut().zip(&sums) {
            // An emptied cluster keeps its old centre; it simply ends up
            // with no share.
            if s.3 > 0 {
                let n = s.3 as f64;
                *c = Lab {
                    l: (s.0 / n) as f32,
                    a: (s.1 / n) as f32,
                    b: (s.2 / n) as f32,
                };
            }
        }
    }
    (centres, assignment)
}

fn nearest_centre(centres: &[Lab], p: Lab) -> usize {
    let mut best = 0;
    let mut best_d = f32::INFINITY;
    for (i, c) in centres.iter().enumerate() {
        let d = p.dist2(*c);
        if d < best_d {
            best_d = d;
            best = i;
        }
    }
    best
}

/// A tiny fixed-seed generator: k-means++ needs randomness, the facts need
/// reproducibility.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// CIELAB (D65 white), the space in which distances match perceived
/// colour differences well enough to cluster and name colours.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

impl Lab {
    pub(crate) fn from_srgb(rgb: [u8; 3]) -> Lab {
        fn linear(c: u8) -> f64 {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        let [r, g, b] = rgb.map(linear);
        // sRGB -> XYZ (D65), then normalise by the D65 white point.
        let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
        let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b;
        let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
        fn f(t: f64) -> f64 {
            const EPSILON: f64 = 216.0 / 24389.0;
            const KAPPA: f64 = 24389.0 / 27.0;
            if t > EPSILON {
                t.cbrt()
            } else {
                (KAPPA * t + 16.0) / 116.0
            }
        }
        let (fx, fy, fz) = (f(x), f(y), f(z));
        Lab {
            l: (116.0 * fy - 16.0) as f32,
            a: (500.0 * (fx - fy)) as f32,
            b: (200.0 * (fy - fz)) as f32,
        }
    }

    fn dist2(self, o: Lab) -> f32 {
        let (dl, da, db) = (self.l - o.l, self.a - o.a, self.b - o.b);
        dl * dl + da * da + db * db
    }
}

fn delta_e76(x: Lab, y: Lab) -> f32 {
    x.dist2(y).sqrt()
}

/// CIEDE2000 colour difference (Sharma, Wu & Dalal 2005). Used for naming
/// because, unlike plain Lab distance, it does not overweight chroma in dark
/// colours, so a dark navy is called navy rather than black.
pub(crate) fn ciede2000(x: Lab, y: Lab) -> f32 {
    use std::f64::consts::PI;
    let (l1, a1, b1) = (f64::from(x.l), f64::from(x.a), f64::from(x.b));
    let (l2, a2, b2) = (f64::from(y.l), f64::from(y.a), f64::from(y.b));

    let c1 = a1.hypot(b1);
    let c2 = a2.hypot(b2);
    let c_bar = (c1 + c2) / 2.0;
    let c_bar7 = c_bar.powi(7);
    let g = 0.5 * (1.0 - (c_bar7 / (c_bar7 + 25f64.powi(7))).sqrt());
    let a1p = (1.0 + g) * a1;
    let a2p = (1.0 + g) * a2;
    let c1p = a1p.hypot(b1);
    let c2p = a2p.hypot(b2);
    let hue = |b: f64, a: f64| {
        if a == 0.0 && b == 0.0 {
            0.0
        } else {
            let h = b.atan2(a).to_degrees();
            if h < 0.0 {
                h + 360.0
            } else {
                h
            }
        }
    };
    let h1p = hue(b1, a1p);
    let h2p = hue(b2, a2p);

    let dlp = l2 - l1;
    let dcp = c2p - c1p;
    let dhp = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let d_hp = 2.0 * (c1p * c2p).sqrt() * (dhp.to_radians() / 2.0).sin();

    let l_bar_p = (l1 + l2) / 2.0;
    let c_bar_p = (c1p + c2p) / 2.0;
    let h_bar_p = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (h_bar_p - 30.0).to_radians().cos()
        + 0.24 * (2.0 * h_bar_p).to_radians().cos()
        + 0.32 * (3.0 * h_bar_p + 6.0).to_radians().cos()
        - 0.20 * (4.0 * h_bar_p - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((h_bar_p - 275.0) / 25.0).powi(2)).exp();
    let c_bar_p7 = c_bar_p.powi(7);
    let r_c = 2.0 * (c_bar_p7 / (c_bar_p7 + 25f64.powi(7))).sqrt();
    let l50 = (l_bar_p - 50.0).powi(2);
    let s_l = 1.0 + 0.015 * l50 / (20.0 + l50).sqrt();
    let s_c = 1.0 + 0.045 * c_bar_p;
    let s_h = 1.0 + 0.015 * c_bar_p * t;
    let r_t = -(2.0 * d_theta * PI / 180.0).sin() * r_c;

    let tl = dlp / s_l;
    let tc = dcp / s_c;
    let th = d_hp / s_h;
    (tl * tl + tc * tc + th * th + r_t * tc * th).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba};

    fn hex(s: &str) -> [u8; 3] {
        let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap();
        [(v >> 16) as u8, (v >> 8) as u8, v as u8]
    }

    #[test]
    fn vocabulary_loads_with_unique_keys_and_both_languages() {
        let v = vocabulary();
        assert!(v.len() >= 24, "{} colours", v.len());
        let mut keys: Vec<&str> = v.iter().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), v.len(), "duplicate keys");
        for c in v {
            assert!(!c.en.is_empty() && !c.zh.is_empty(), "{}", c.key);
            // Every flat colour's swatch must be named after itself, or the
            // entry is unreachable from photos.
            if c.is_metallic() {
                assert_ne!(nearest_name(c.rgb).key, c.key, "metallic {}", c.key);
            } else {
                assert_eq!(nearest_name(c.rgb).key, c.key, "swatch of {}", c.key);
            }
            // A family is a basic colour of the vocabulary, not a shade.
            let family = by_key(c.family()).map(|f| f.family());
            assert_eq!(family, Some(c.family()), "family of {}", c.key);
        }
        // A synonym names one colour only, or reading titles is ambiguous.
        let mut names: Vec<String> = v
            .iter()
            .flat_map(|c| {
                std::iter::once(c.en.to_lowercase())
                    .chain(c.synonyms_en.iter().map(|s| s.to_lowercase()))
                    .chain(std::iter::once(c.zh.clone()))
                    .chain(c.synonyms_zh.iter().cloned())
            })
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a name is used by two colours");
    }

    /// Rows of flat colours on a transparent background, by share of rows.
    fn stripes(rows: &[([u8; 3], u32)]) -> DynamicImage {
        let total: u32 = rows.iter().map(|r| r.1).sum();
        let mut img = RgbaImage::new(64, total + 8);
        let mut y = 4;
        for (rgb, n) in rows {
            for yy in y..y + n {
                for x in 8..56 {
                    img.put_pixel(x, yy, image::Rgba([rgb[0], rgb[1], rgb[2], 255]));
                }
            }
            y += n;
        }
        DynamicImage::ImageRgba8(img)
    }

    #[test]
    fn white_in_shade_is_white() {
        // Shaded light grey a little larger than the lit white: white.
        let c = dominant_colours(&stripes(&[
            ([175, 175, 175], 40),
            ([246, 246, 246], 36),
            ([200, 30, 30], 10),
        ]));
        assert_eq!(c[0].key, "white");
        assert_eq!(c[1].key, "grey");
        assert!(c[0].share < c[1].share, "shares stay the pixels'");
        // A grey product with a little white stays grey.
        let c = dominant_colours(&stripes(&[([175, 175, 175], 60), ([246, 246, 246], 20)]));
        assert_eq!(c[0].key, "grey");
        // A dark grey is no white in shade.
        let c = dominant_colours(&stripes(&[([90, 90, 90], 40), ([246, 246, 246], 36)]));
        assert_ne!(c[0].key, "white");
    }

    #[test]
    fn names_common_colours() {
        let cases = [
            ("#000080", "navy"),
            ("#1f2a44", "navy"),
            ("#14213d", "navy"),
            ("#000000", "black"),
            ("#0a0a0a", "black"),
            ("#ffffff", "white"),
            ("#f5f5f5", "white"),
            ("#ff0000", "red"),
            ("#cc0000", "red"),
            ("#0000ff", "blue"),
            ("#4169e1", "blue"),
            ("#2624b8", "royal_blue"),
            ("#121095", "royal_blue"),
            ("#ff8c00", "orange"),
            ("#808080", "grey"),
            // Metallics are finishes; pixels name their flat colour.
            ("#c0c0c0", "white"),
            ("#333333", "charcoal"),
            ("#ffff00", "yellow"),
            ("#ffa500", "orange"),
            ("#ffc0cb", "pink"),
            ("#800080", "purple"),
            ("#800020", "burgundy"),
            ("#8b4513", "brown"),
            ("#808000", "olive"),
            ("#008080", "teal"),
            ("#40e0d0", "turquoise"),
            ("#add8e6", "light_blue"),
            ("#228b22", "green"),
            ("#d4af37", "yellow"),
            ("#ecba47", "yellow"),
            ("#b35d0d", "orange"),
            ("#e3dddf", "white"),
            ("#6b4226", "brown"),
            ("#c3b091", "khaki"),
            ("#fffdd0", "cream"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|(h, want)| {
                let got = &nearest_name(hex(h)).key;
                (got != want).then(|| format!("{h}: want {want}, got {got}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn lab_matches_reference_values() {
        let white = Lab::from_srgb([255, 255, 255]);
        assert!((white.l - 100.0).abs() < 0.01 && white.a.abs() < 0.01 && white.b.abs() < 0.01);
        let red = Lab::from_srgb([255, 0, 0]);
        assert!((red.l - 53.24).abs() < 0.05, "{red:?}");
        assert!((red.a - 80.09).abs() < 0.1, "{red:?}");
        assert!((red.b - 67.20).abs() < 0.1, "{red:?}");
    }

    #[test]
    fn ciede2000_matches_sharma_test_data() {
        let cases = [
            ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
            ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
            ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
            ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
            ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
            (
                (2.0776, 0.0795, -1.1350),
                (0.9033, -0.0636, -0.5514),
                0.9082,
            ),
        ];
        for ((l1, a1, b1), (l2, a2, b2), want) in cases {
            let got = ciede2000(
                Lab {
                    l: l1,
                    a: a1,
                    b: b1,
                },
                Lab {
                    l: l2,
                    a: a2,
                    b: b2,
                },
            );
            assert!((got - want).abs() < 1e-3, "want {want}, got {got}");
            let back = ciede2000(
                Lab {
                    l: l2,
                    a: a2,
                    b: b2,
                },
                Lab {
                    l: l1,
                    a: a1,
                    b: b1,
                },
            );
            assert!((got - back).abs() < 1e-4, "not symmetric");
        }
    }

    #[test]
    fn a_half_transparent_shadow_does_not_outweigh_the_product() {
        // A dark bottle (20% of the picture, opaque) and a light floor
        // shadow left in the cut-out at 60% opacity (24%): unweighted, the
        // shadow would lead.
        let img = RgbaImage::from_fn(100, 100, |x, y| match (x, y) {
            (40..60, 0..100) => Rgba([20, 15, 18, 255]),
            (0..40, 70..100) | (60..100, 70..100) => Rgba([225, 225, 228, 153]),
            _ => Rgba([0, 0, 0, 0]),
        });
        let colours = dominant_colours(&DynamicImage::ImageRgba8(img));
        assert_eq!(colours[0].key, "black", "{colours:?}");
        // 2000 opaque pixels against 2400 at 0.6²: 2000 / (2000 + 864).
        assert!((colours[0].share - 0.70).abs() < 0.02, "{colours:?}");
    }

    #[test]
    fn transparent_background_is_ignored() {
        let mut img = RgbaImage::from_pixel(200, 200, Rgba([0, 0, 0, 0]));
        for y in 50..150 {
            for x in 50..150 {
                img.put_pixel(x, y, Rgba([220, 20, 30, 255]));
            }
        }
        let colours = dominant_colours(&DynamicImage::ImageRgba8(img));
        assert_eq!(colours[0].key, "red", "{colours:?}");
        assert!(colours[0].share > 0.99, "{colours:?}");
    }

    #[test]
    fn shares_sum_to_one_and_are_sorted() {
        // Three quarters navy, one quarter yellow, no backdrop (the split
        // touches every border).
        let img = RgbImage::from_fn(120, 80, |x, _| {
            if x < 90 {
                Rgb([28, 36, 78])
            } else {
                Rgb([250, 220, 40])
            }
        });
        let colours = dominant_colours(&DynamicImage::ImageRgb8(img));
        let keys: Vec<&str> = colours.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["navy", "yellow"], "{colours:?}");
        assert!((colours[0].share - 0.75).abs() < 0.02, "{colours:?}");
        let sum: f32 = colours.iter().map(|c| c.share).sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert_eq!(colours[0].hex, "#1c244e");
    }

    #[test]
    fn plain_backdrop_of_an_opaque_photo_is_ignored() {
        let img = RgbImage::from_fn(300, 200, |x, y| {
            if (100..200).contains(&x) && (50..150).contains(&y) {
                Rgb([30, 90, 200])
            } else {
                Rgb([250, 250, 250])
            }
        });
        let colours = dominant_colours(&DynamicImage::ImageRgb8(img));
        assert_eq!(colours[0].key, "blue", "{colours:?}");
        assert!(colours[0].share > 0.95, "{colours:?}");
    }

    #[test]
    fn uniform_photo_is_all_product() {
        let img = RgbImage::from_pixel(64, 64, Rgb([250, 250, 250]));
        let colours = dominant_colours(&DynamicImage::ImageRgb8(img));
        assert_eq!(colours.len(), 1);
        assert_eq!(colours[0].key, "white");
        assert!((colours[0].share - 1.0).abs() < 1e-6);
    }

    #[test]
    fn sixteen_bit_images_are_read() {
        let img = image::ImageBuffer::<Rgba<u16>, _>::from_fn(300, 300, |x, _| {
            if x < 150 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([40 * 257, 150 * 257, 60 * 257, u16::MAX])
            }
        });
        let colours = dominant_colours(&DynamicImage::ImageRgba16(img));
        assert_eq!(colours.len(), 1, "{colours:?}");
        assert_eq!(colours[0].key, "green");
        assert_eq!(colours[0].hex, "#28963c");
    }

    #[test]
    fn fully_transparent_image_has_no_colours() {
        let img = RgbaImage::from_pixel(10, 10, Rgba([255, 0, 0, 0]));
        assert!(dominant_colours(&DynamicImage::ImageRgba8(img)).is_empty());
        assert!(dominant_colours(&DynamicImage::new_rgb8(0, 0)).is_empty());
    }

    #[test]
    fn analysis_is_deterministic() {
        // A noisy gradient exercises k-means++ sampling and iteration.
        let img = RgbImage::from_fn(257, 193, |x, y| {
            let n = (x * 7919 + y * 104_729) % 37;
            Rgb([(x % 256) as u8, (y % 256) as u8, (n * 6) as u8])
        });
        let img = DynamicImage::ImageRgb8(img);
        let a = dominant_colours(&img);
        let b = dominant_colours(&img);
        assert_eq!(a, b);
        let sum: f32 = a.iter().map(|c| c.share).sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }

    #[test]
    fn downsample_weights_colour_by_alpha() {
        // Half transparent black, half opaque red: the average must stay red.
        let img = RgbaImage::from_fn(4, 2, |x, _| {
            if x % 2 == 0 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([200, 0, 0, 255])
            }
        });
        let small = area_downsample(&DynamicImage::ImageRgba8(img), 2);
        assert_eq!(small.dimensions(), (2, 1));
        for p in small.pixels() {
            assert_eq!(p.0, [200, 0, 0, 128]);
        }
    }
}
