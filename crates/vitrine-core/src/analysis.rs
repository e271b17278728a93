//! Photo understanding beyond colours: the classifier's ImageNet classes
//! mapped onto the knowledge graph's categories, and the product's cut-out.
//!
//! The classifier itself lives in `vitrine-infer`; this module only sees
//! its class probabilities, so the mapping is plain data work and testable
//! without a model.

use std::sync::LazyLock;

use image::{DynamicImage, GrayImage, RgbaImage};
use serde::{Deserialize, Serialize};

use crate::colours;
use crate::error::Result;
use crate::kg::KnowledgeGraph;

const LABELS: &str = include_str!("../../../assets/kg/imagenet-labels.txt");

/// The 1000 ImageNet class names, by index.
pub fn imagenet_labels() -> &'static [String] {
    static L: LazyLock<Vec<String>> =
        LazyLock::new(|| LABELS.lines().map(|l| l.trim().to_string()).collect());
    &L
}

/// Something that scores a photo against the 1000 ImageNet classes.
pub trait ImageClassifier: Send + Sync {
    /// Names the model in facts' provenance.
    fn id(&self) -> &str;
    /// Softmax probabilities of the 1000 classes.
    fn probabilities(&self, img: &DynamicImage) -> Result<Vec<f32>>;
}

/// Classes considered when mapping onto categories.
const TOP_CLASSES: usize = 10;
/// A category is named only when the classes that map into it (it or its
/// descendants) carry at least this much probability; below it the answer
/// is "unknown", which costs the merchant one click, where a confident
/// wrong category costs a wrong listing. Checked against the labelled
/// samples (`vitrine eval vision`); override with
/// `VITRINE_CATEGORY_THRESHOLD`.
pub const DEFAULT_CATEGORY_THRESHOLD: f32 = 0.35;

pub fn category_threshold() -> f32 {
    std::env::var("VITRINE_CATEGORY_THRESHOLD")
        .ok()
        .and_then(|v| v.parse::<f32>().ok())
        .filter(|t| (0.0..=1.0).contains(t))
        .unwrap_or(DEFAULT_CATEGORY_THRESHOLD)
}

/// One of the classifier's top classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    pub index: usize,
    pub label: String,
    pub probability: f32,
    /// The knowledge-graph category it maps to, if it shows a product.
    pub category: Option<String>,
}

/// What the classifier says the product is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryGuess {
    /// `None`: unsure, so no category fact is made.
    pub key: Option<String>,
    pub en: Option<String>,
    pub zh: Option<String>,
    pub top_level: Option<String>,
    /// The probability mass of the classes mapping into `key` (or the
    /// largest mass of any category when unknown).
    pub confidence: f32,
    pub model: String,
    pub classes: Vec<ClassScore>,
    /// Categories the merchant's title names, when a title was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_categories: Vec<String>,
    /// Categories the words printed on the product name, when its label
    /// was read (`crate::label_text`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub printed_categories: Vec<String>,
}

/// Lowercase words separated by single spaces, padded with a space at each
/// end, so names match as whole words ("t-shirt" → " t shirt ").
pub(crate) fn words(s: &str) -> String {
    let mut out = String::from(" ");
    for w in s
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push_str(w);
        out.push(' ');
    }
    out
}

/// The categories a product title names through their names and synonyms
/// (English as whole words, Chinese as substrings), most specific only:
/// "Polo Shirt" names polos, not also tops.
pub fn title_categories(kg: &KnowledgeGraph, title: &str) -> Vec<String> {
    let t = words(title);
    // Each named category with where its phrase ends in the title (in the
    // normalised English words, or in the raw text for Chinese) and its
    // length: the longest phrase naming it wins.
    let mut found: Vec<(String, usize, usize)> = Vec::new();
    for c in kg.categories() {
        let en = std::iter::once(&c.en)
            .chain(&c.synonyms_en)
            .map(|n| words(n))
            .filter(|n| n.trim().len() > 1)
            .filter_map(|n| t.rfind(n.as_str()).map(|at| (at + n.len(), n.len())));
        let zh = std::iter::once(&c.zh)
            .chain(&c.synonyms_zh)
            .filter(|n| !n.is_empty())
            .filter_map(|n| {
                title
                    .rfind(n.as_str())
                    .map(|at| (t.len() + at + n.len(), n.len()))
            });
        if let Some((end, len)) = en.chain(zh).max_by_key(|&(end, len)| (len, end)) {
            found.push((c.key.clone(), end, len));
        }
    }
    // Product titles put the product's noun last ("Banana Juice", "Polo
    // Shirt", "纯棉连帽卫衣"): the phrase ending last names the product; the
    // longest among those ("polo shirt" over "shirt").
    let Some(&(_, end, _)) = found.iter().max_by_key(|(_, end, _)| *end) else {
        return Vec::new();
    };
    found.retain(|(_, e, _)| *e == end);
    let longest = found.iter().map(|(_, _, l)| *l).max().unwrap_or(0);
    found.retain(|(_, _, l)| *l == longest);
    let keys: Vec<String> = found.into_iter().map(|(k, _, _)| k).collect();
    // A parent named by the same phrase as its child adds nothing.
    keys.iter()
        .filter(|k| !keys.iter().any(|o| o.starts_with(&format!("{k}."))))
        .cloned()
        .collect()
}

/// How much a title counts against the photo: equal weight. A merchant's
/// title is their own statement of what the product is, and ImageNet has
/// no class at all for some products (paint tins, juice bottles).
pub const TITLE_WEIGHT: f32 = 1.0;

/// Map class probabilities onto the most specific category whose classes
/// together reach `threshold`.
pub fn categorise(
    kg: &KnowledgeGraph,
    probs: &[f32],
    model: &str,
    threshold: f32,
) -> CategoryGuess {
    categorise_with_title(kg, probs, model, threshold, None)
}

/// [`categorise`], with the categories a title names (if any) as a second
/// vote: each category's mass is `(photo + TITLE_WEIGHT × title) / (1 +
/// TITLE_WEIGHT)`, the title's vote split between the categories it names.
pub fn categorise_with_title(
    kg: &KnowledgeGraph,
    probs: &[f32],
    model: &str,
    threshold: f32,
    title: Option<&str>,
) -> CategoryGuess {
    categorise_with(kg, probs, model, threshold, title, &[])
}

/// [`categorise_with_title`], with the categories the product's printed
/// label names (`label_text::printed_categories`) as one more vote of
/// weight `label_text::PRINTED_WEIGHT`, split between them like the
/// title's: every vote is normalised by the total weight cast.
pub fn categorise_with(
    kg: &KnowledgeGraph,
    probs: &[f32],
    model: &str,
    threshold: f32,
    title: Option<&str>,
    printed: &[String],
) -> CategoryGuess {
    let labels = imagenet_labels();
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    let classes: Vec<ClassScore> = order
        .iter()
        .take(TOP_CLASSES)
        .map(|&i| ClassScore {
            index: i,
            label: labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("class {i}")),
            probability: probs[i],
            category: kg.imagenet_category(i).map(|c| c.key.clone()),
        })
        .collect();
    // Mass per category: (key, mass, depth).
    let mut mass: Vec<(String, f32, usize)> = Vec::new();
    // `amount` counts for `key` and every ancestor, so a parent gathers
    // what its children split.
    let mut add = |key: &str, amount: f32| {
        for cat in kg.ancestors(key) {
            match mass.iter_mut().find(|(k, _, _)| *k == cat.key) {
                Some(m) => m.1 += amount,
                None => mass.push((cat.key.clone(), amount, cat.key.matches('.').count())),
            }
        }
    };
    for c in &classes {
        if let Some(key) = &c.category {
            add(key, c.probability);
        }
    }
    let named = title.map(|t| title_categories(kg, t)).unwrap_or_default();
    let mut weight = 1.0;
    for key in &named {
        add(key, TITLE_WEIGHT / named.len() as f32);
    }
    if !named.is_empty() {
        weight += TITLE_WEIGHT;
    }
    let printed: Vec<String> = printed
        .iter()
        .filter(|k| kg.category(k).is_some())
        .cloned()
        .collect();
    for key in &printed {
        add(
            key,
            crate::label_text::PRINTED_WEIGHT / printed.len() as f32,
        );
    }
    if !printed.is_empty() {
        weight += crate::label_text::PRINTED_WEIGHT;
    }
    for m in &mut mass {
        m.1 /= weight;
    }
    let best = decide(&mass, threshold);
    match best.and_then(|(k, m, _)| kg.category(k).map(|c| (c, *m))) {
        Some((cat, m)) => CategoryGuess {
            key: Some(cat.key.clone()),
            en: Some(cat.en.clone()),
            zh: Some(cat.zh.clone()),
            top_level: Some(cat.top_level().to_string()),
            confidence: m.min(1.0),
            model: model.to_string(),
            classes,
            title_categories: named,
            printed_categories: printed,
        },
        None => CategoryGuess {
            key: None,
            en: None,
            zh: None,
            top_level: None,
            confidence: mass.iter().map(|(_, m, _)| *m).fold(0.0, f32::max),
            model: model.to_string(),
            classes,
            title_categories: named,
            printed_categories: printed,
        },
    }
}

/// A top level short of the threshold is still named when it has at least
/// this share and [`PLURALITY_RATIO`] times any other top level's: the
/// classifier spreads a product it has no class for (plimsolls: clog,
/// sandal, running shoe...) thinly, but over one top level.
pub const PLURALITY_MIN: f32 = 0.2;
pub const PLURALITY_RATIO: f32 = 2.0;

/// The top level first, then the most specific category under it: the top
/// level with the most mass wins when it reaches `threshold` (or holds a
/// clear plurality, [`PLURALITY_MIN`]), and the answer is its most specific
/// descendant that reaches `threshold` too. `mass` is (key, mass, depth).
fn decide(mass: &[(String, f32, usize)], threshold: f32) -> Option<&(String, f32, usize)> {
    let mut tops: Vec<&(String, f32, usize)> = mass.iter().filter(|(_, _, d)| *d == 0).collect();
    tops.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = *tops.first()?;
    let runner_up = tops.get(1).map_or(0.0, |t| t.1);
    if top.1 < threshold {
        let plurality = top.1 >= PLURALITY_MIN && top.1 >= PLURALITY_RATIO * runner_up;
        return plurality.then_some(top);
    }
    let under = format!("{}.", top.0);
    mass.iter()
        .filter(|(k, m, _)| *m >= threshold && (*k == top.0 || k.starts_with(&under)))
        .max_by(|a, b| a.2.cmp(&b.2).then(a.1.total_cmp(&b.1)))
}

/// Side of the grid the backdrop is estimated on for opaque photos; the
/// mask is then scaled up smoothly, which also softens the cut-out's edge.
const MASK_SIDE: u32 = 256;

/// The product on a transparent background: the photo's own alpha when it
/// has transparency, else the backdrop (plain border colour connected to
/// the border) made transparent. A photo whose background cannot be told
/// apart keeps every pixel.
pub fn cutout(img: &RgbaImage) -> RgbaImage {
    if img.pixels().any(|p| p[3] < 255) {
        return img.clone();
    }
    let small = colours::area_downsample(&DynamicImage::ImageRgba8(img.clone()), MASK_SIDE);
    let mask = colours::foreground_mask(&small);
    let (sw, sh) = small.dimensions();
    let grey = GrayImage::from_fn(sw, sh, |x, y| {
        image::Luma([if mask[(y * sw + x) as usize] { 255 } else { 0 }])
    });
    let (w, h) = img.dimensions();
    let alpha = image::imageops::resize(&grey, w, h, image::imageops::FilterType::Triangle);
    let mut out = img.clone();
    for (p, a) in out.pixels_mut().zip(alpha.pixels()) {
        p[3] = a[0];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(pairs: &[(usize, f32)]) -> Vec<f32> {
        let mut p = vec![0.0; 1000];
        let rest = 1.0 - pairs.iter().map(|(_, v)| v).sum::<f32>();
        for (i, v) in pairs {
            p[*i] = *v;
        }
        // Spread the remainder thinly over unmapped animal classes.
        for v in p.iter_mut().take(300).skip(100) {
            *v += rest / 200.0;
        }
        p
    }

    #[test]
    fn labels_are_the_thousand_classes() {
        let l = imagenet_labels();
        assert_eq!(l.len(), 1000);
        assert_eq!(l[610], "jersey, T-shirt, tee shirt");
        assert_eq!(l[841], "sweatshirt");
    }

    #[test]
    fn a_confident_class_names_its_leaf() {
        let kg = KnowledgeGraph::builtin().unwrap();
        let g = categorise(&kg, &probs(&[(841, 0.8), (610, 0.1)]), "m", 0.35);
        assert_eq!(g.key.as_deref(), Some("apparel.tops.hoodies"));
        assert_eq!(g.top_level.as_deref(), Some("apparel"));
        assert!((g.confidence - 0.8).abs() < 1e-4);
        assert_eq!(g.classes[0].index, 841);
    }

    #[test]
    fn split_votes_name_the_common_parent() {
        let kg = KnowledgeGraph::builtin().unwrap();
        // Sweatshirt and jersey disagree on the leaf but agree on tops.
        let g = categorise(&kg, &probs(&[(841, 0.25), (610, 0.25)]), "m", 0.35);
        assert_eq!(g.key.as_deref(), Some("apparel.tops"));
        assert!((g.confidence - 0.5).abs() < 1e-4);
    }

    #[test]
    fn unsure_or_unmapped_is_unknown() {
        let kg = KnowledgeGraph::builtin().unwrap();
        // A tench is no product.
        let g = categorise(&kg, &probs(&[(0, 0.9)]), "m", 0.35);
        assert_eq!(g.key, None);
        // Two top levels at 0.2 each: below the threshold everywhere.
        let g = categorise(&kg, &probs(&[(841, 0.2), (907, 0.2)]), "m", 0.35);
        assert_eq!(g.key, None);
        assert!((g.confidence - 0.2).abs() < 1e-4);
    }

    #[test]
    fn a_clear_plurality_names_the_top_level_only() {
        let kg = KnowledgeGraph::builtin().unwrap();
        // Clog 0.2 and sandal 0.06: footwear holds 0.26, nothing else near.
        let g = categorise(&kg, &probs(&[(502, 0.2), (774, 0.06)]), "m", 0.35);
        assert_eq!(g.key.as_deref(), Some("footwear"));
        // Footwear 0.26 against home 0.2: no clear plurality, unknown.
        let p = probs(&[(502, 0.2), (774, 0.06), (721, 0.2)]);
        assert_eq!(categorise(&kg, &p, "m", 0.35).key, None);
    }

    #[test]
    fn printed_words_vote_like_a_title() {
        let kg = KnowledgeGraph::builtin().unwrap();
        // Sunscreen 0.7 against a label naming paint: both reach the
        // threshold at the same depth, the label's category has more.
        let p = probs(&[(838, 0.7)]);
        let g = categorise_with(&kg, &p, "m", 0.35, None, &["home.paint".into()]);
        assert_eq!(g.key.as_deref(), Some("home.paint"));
        assert_eq!(g.printed_categories, ["home.paint"]);
        // Unknown keys are ignored.
        let g = categorise_with(&kg, &p, "m", 0.35, None, &["no.such".into()]);
        assert_eq!(g.key.as_deref(), Some("beauty.skincare"));
    }

    #[test]
    fn titles_name_categories_and_vote_with_the_photo() {
        let kg = KnowledgeGraph::builtin().unwrap();
        assert_eq!(
            title_categories(&kg, "Polo Shirt"),
            vec!["apparel.tops.polos"]
        );
        assert_eq!(
            title_categories(&kg, "Code Division T-shirt"),
            vec!["apparel.tops.t_shirts"]
        );
        assert_eq!(
            title_categories(&kg, "纯棉连帽卫衣"),
            vec!["apparel.tops.hoodies"]
        );
        assert!(title_categories(&kg, "Seaman").is_empty());
        // The photo says lotion; the merchant says juice: the title decides.
        let p = probs(&[(631, 0.5)]);
        let g = categorise_with_title(&kg, &p, "m", 0.35, Some("Banana Juice"));
        assert_eq!(g.key.as_deref(), Some("food_drink.juice"));
        // A confident photo outweighs a title that names nothing.
        let g = categorise_with_title(&kg, &probs(&[(841, 0.9)]), "m", 0.35, Some("Seaman"));
        assert_eq!(g.key.as_deref(), Some("apparel.tops.hoodies"));
    }

    #[test]
    fn cutout_keeps_alpha_or_removes_a_plain_backdrop() {
        // A red square on white: the white border becomes transparent.
        let img = RgbaImage::from_fn(64, 64, |x, y| {
            if (16..48).contains(&x) && (16..48).contains(&y) {
                image::Rgba([200, 20, 20, 255])
            } else {
                image::Rgba([250, 250, 250, 255])
            }
        });
        let c = cutout(&img);
        assert_eq!(c.get_pixel(2, 2)[3], 0);
        assert_eq!(c.get_pixel(32, 32)[3], 255);
        // An image with alpha is its own cut-out.
        let mut a = img.clone();
        a.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        assert_eq!(cutout(&a), a);
    }
}
