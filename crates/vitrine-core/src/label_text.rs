//! What the words printed on a product say. Packaging names what it holds
//! ("Squeezed from bananas", "Wall paint", "果汁") and paint tins their
//! colour ("Space Dust Navy", "Color #223366"): the photo classifier, which
//! knows only ImageNet's classes, cannot tell a juice bottle from a lotion
//! bottle or a paint tin from a tub of sun cream, but the label can.
//!
//! The text comes from OCR (`vitrine_infer::vision::OcrModels`), which costs
//! about 1.5 s a photo on one core, five times the rest of the analysis, so
//! a plain analysis reads it only when it can change the answer
//! ([`worth_reading`]).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use vitrine_infer::vision::{OcrLine, OcrModels};

use crate::analysis::CategoryGuess;
use crate::colours;
use crate::kg::{AttrValue, KnowledgeGraph};
use crate::mentions;
use crate::types::ColourShare;

/// How much the label's words count against the photo: as much as a
/// merchant's title. They are printed on the product itself, and they are
/// read only where the classifier is unsure or sees look-alike packaging.
pub const PRINTED_WEIGHT: f32 = 1.0;

/// Lines the recogniser is less sure of than this are not evidence:
/// garbled small print turns into accidental words.
pub const MIN_LINE_CONFIDENCE: f32 = 0.8;

/// The classifier's answer is "sure" at this confidence; below it, or when
/// it says nothing, the label is read.
pub const SURE: f32 = 0.5;

/// Top levels whose products come in look-alike packaging (bottles, tubs,
/// tins, tubes, boxes): ImageNet's classes for them (lotion, sunscreen,
/// water bottle, pill bottle, bucket) say "a container" more than what it
/// holds, so their label is read even when the classifier is sure.
pub const PACKAGED_TOP_LEVELS: [&str; 2] = ["beauty", "food_drink"];

/// Categories whose products are their colour, so a colour name printed on
/// the label is the product's colour ("Light Speed Yellow" on a paint tin).
/// Elsewhere printed colour words name flavours, wines or designs ("Matured
/// Red", a T-shirt's slogan) and are not read as the colour.
pub const COLOUR_IS_THE_PRODUCT: [&str; 2] = ["home.paint", "beauty.makeup"];

/// Attributes whose values, printed on a label, say what kind of product
/// it is: a flavour (banana, carrot, greens, orange) is food or drink. They
/// vote for the category that introduces the attribute in the graph.
pub const LABEL_ATTRIBUTES: [&str; 1] = ["flavour"];

const LABEL_WORDS: &str = include_str!("../../../assets/kg/label-words.toml");

#[derive(serde::Deserialize)]
struct LabelWordsFile {
    label: Vec<LabelWords>,
}

#[derive(serde::Deserialize)]
struct LabelWords {
    category: String,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    zh: Vec<String>,
}

/// `assets/kg/label-words.toml` as values to find in a text, keyed by the
/// category they vote for; a category the graph does not have is skipped.
fn label_words(kg: &KnowledgeGraph) -> Vec<AttrValue> {
    static FILE: std::sync::LazyLock<Vec<LabelWords>> =
        std::sync::LazyLock::new(|| match toml::from_str::<LabelWordsFile>(LABEL_WORDS) {
            Ok(f) => f.label,
            Err(e) => {
                tracing::warn!(error = %e, "assets/kg/label-words.toml does not parse");
                Vec::new()
            }
        });
    FILE.iter()
        .filter(|w| kg.category(&w.category).is_some())
        .map(|w| AttrValue {
            key: w.category.clone(),
            en: w.en.first().cloned().unwrap_or_default(),
            zh: w.zh.first().cloned().unwrap_or_default(),
            synonyms_en: w.en.iter().skip(1).cloned().collect(),
            synonyms_zh: w.zh.iter().skip(1).cloned().collect(),
        })
        .collect()
}

/// English plurals folded to the singular the graph names ("Bananas",
/// "Carrots", "Potatoes" → banana, carrot, potato): words of four letters
/// or more lose a final "s", or "es" after an "o".
fn singular(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let n = word.chars().count();
        let lower = word.to_lowercase();
        if n >= 5 && lower.ends_with("oes") {
            word.truncate(word.len() - 2);
        } else if n >= 4 && lower.ends_with('s') && !lower.ends_with("ss") {
            word.pop();
        }
        out.push_str(word);
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// When the printed text is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReadWhen {
    /// Every photo (`vitrine analyze --ocr`).
    #[default]
    Always,
    /// Only when it can change the answer ([`worth_reading`]): a plain
    /// `vitrine analyze` or ingest with the OCR models installed.
    Unsure,
}

/// The OCR models, loaded when a photo first needs them: most photos never
/// do, and loading them costs time and memory.
pub struct LazyOcr {
    dir: PathBuf,
    models: OnceLock<Option<Arc<OcrModels>>>,
}

impl LazyOcr {
    /// Models under `dir`, loaded on first use; a failure is logged once and
    /// the photos are analysed without their text.
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            models: OnceLock::new(),
        }
    }

    /// Models already loaded (`--ocr` loads them up front so a missing
    /// install is an error, not a warning).
    pub fn loaded(models: Arc<OcrModels>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Some(models));
        Self {
            dir: PathBuf::new(),
            models: cell,
        }
    }

    pub fn get(&self) -> Option<&OcrModels> {
        self.models
            .get_or_init(|| match OcrModels::load(&self.dir) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    tracing::warn!(dir = %self.dir.display(), error = %e, "OCR models failed to load; printed text is not read");
                    None
                }
            })
            .as_deref()
    }
}

/// Whether reading the label can change a plain analysis: without a title
/// (the merchant's own words already name the product), when the
/// classifier named nothing, is unsure, or sees one of the
/// [`PACKAGED_TOP_LEVELS`] among its answer or its top class.
pub fn worth_reading(kg: &KnowledgeGraph, guess: Option<&CategoryGuess>, title: bool) -> bool {
    if title {
        return false;
    }
    let Some(g) = guess else {
        // No classifier installed: there is no doubt to settle, and `--ocr`
        // reads the text anyway.
        return false;
    };
    g.key.is_none() || g.confidence < SURE || is_packaged(kg, Some(g))
}

/// Whether the photo's category, or the classifier's top class, is one of
/// the [`PACKAGED_TOP_LEVELS`]: goods that carry a printed label.
pub fn is_packaged(kg: &KnowledgeGraph, guess: Option<&CategoryGuess>) -> bool {
    let Some(g) = guess else {
        return false;
    };
    let packaged = |key: &str| {
        kg.category(key)
            .is_some_and(|c| PACKAGED_TOP_LEVELS.contains(&c.top_level()))
    };
    g.key.as_deref().is_some_and(packaged)
        || g.classes
            .first()
            .and_then(|c| c.category.as_deref())
            .is_some_and(packaged)
}

/// The lines confident enough to count, joined one per line.
fn confident_text(lines: &[OcrLine]) -> String {
    lines
        .iter()
        .filter(|l| l.confidence >= MIN_LINE_CONFIDENCE)
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The categories the printed text names: through their names and
/// synonyms, the label words of `assets/kg/label-words.toml`, and the
/// values of [`LABEL_ATTRIBUTES`] (a flavour names food & drink). English
/// as whole words with plurals folded, Chinese as substrings; the longest
/// name wins where names overlap. Each category once, most specific only:
/// "Fruit juice" names juice, not also food & drink.
pub fn printed_categories(kg: &KnowledgeGraph, lines: &[OcrLine]) -> Vec<String> {
    let text = confident_text(lines);
    if text.is_empty() {
        return Vec::new();
    }
    // Label words and flavours first: where one names the same words as a
    // category's synonym, it wins (`mentions::find` keeps the first of equal
    // names), since on a label "Bananas" is what the drink tastes of, not a
    // bunch of fruit for sale.
    let mut values: Vec<AttrValue> = label_words(kg);
    for attribute in LABEL_ATTRIBUTES {
        // The category that introduces the attribute is what its values name.
        let Some(owner) = kg
            .categories()
            .find(|c| c.attributes.iter().any(|a| a == attribute))
        else {
            continue;
        };
        values.extend(kg.values(attribute).into_iter().map(|v| AttrValue {
            key: owner.key.clone(),
            ..v
        }));
    }
    values.extend(kg.categories().map(|c| c.as_value()));
    let mut keys: Vec<String> = Vec::new();
    for t in [text.clone(), singular(&text)] {
        for m in mentions::find(&t, &values, &[]) {
            if !keys.contains(&m.value.key) {
                keys.push(m.value.key);
            }
        }
    }
    let specific: Vec<String> = keys
        .iter()
        .filter(|k| !keys.iter().any(|o| o.starts_with(&format!("{k}."))))
        .cloned()
        .collect();
    specific
}

/// A colour code printed as `#RRGGBB` (paint tins, swatches): the colour it
/// names, exactly. OCR reads a zero as the letter O now and then, and no
/// colour code has an O, so it is read as 0.
fn hex_codes(text: &str) -> Vec<[u8; 3]> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices('#') {
        let digits: String = text[at + 1..]
            .chars()
            .take(7)
            .map(|c| if c == 'O' || c == 'o' { '0' } else { c })
            .collect();
        let hex: String = digits.chars().take_while(char::is_ascii_hexdigit).collect();
        if hex.len() != 6 {
            continue;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        if let (Some(r), Some(g), Some(b)) = (byte(0), byte(2), byte(4)) {
            out.push([r, g, b]);
        }
    }
    out
}

/// The product's colour as the label prints it, when the category is one
/// whose products are their colour ([`COLOUR_IS_THE_PRODUCT`]): a colour
/// code (`#223366`) or a colour word outside category names. It is taken
/// only when the pixels show the same colour or a shade of its family (a
/// colour word may be a flavour or a brand after all); the answer is the
/// photo's colour key, the photo's own shade of the printed name.
pub fn printed_colour(
    kg: &KnowledgeGraph,
    category: Option<&str>,
    lines: &[OcrLine],
    photo: &[ColourShare],
) -> Option<String> {
    let category = category?;
    if !COLOUR_IS_THE_PRODUCT
        .iter()
        .any(|c| category == *c || category.starts_with(&format!("{c}.")))
    {
        return None;
    }
    let text = confident_text(lines);
    let mut named: Vec<&'static colours::ColourName> = hex_codes(&text)
        .into_iter()
        .map(colours::nearest_name)
        .collect();
    for m in mentions::attribute_mentions(kg, &text, "colour") {
        if let Some(c) = colours::by_key(&m.value.key) {
            named.push(c);
        }
    }
    let seen: Vec<&colours::ColourName> = photo
        .iter()
        .filter(|c| c.share >= crate::ingest::MIN_COLOUR_SHARE)
        .filter_map(|c| colours::by_key(&c.key))
        .collect();
    for n in named {
        if let Some(same) = seen.iter().find(|c| c.key == n.key) {
            return Some(same.key.clone());
        }
        if let Some(shade) = seen.iter().find(|c| c.family() == n.family()) {
            return Some(shade.key.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kg() -> KnowledgeGraph {
        KnowledgeGraph::builtin().expect("built-in graph")
    }

    fn line(text: &str, confidence: f32) -> OcrLine {
        OcrLine {
            text: text.into(),
            confidence,
            bbox: [0, 0, 10, 10],
        }
    }

    fn share(key: &str, share: f32) -> ColourShare {
        let c = colours::by_key(key).expect("colour");
        ColourShare {
            key: key.into(),
            name_en: c.en.clone(),
            name_zh: c.zh.clone(),
            hex: "#000000".into(),
            share,
        }
    }

    #[test]
    fn labels_name_categories_in_both_languages() {
        let kg = kg();
        let l = [line("Squeezed from bananas", 0.95)];
        assert_eq!(printed_categories(&kg, &l), ["food_drink.juice"]);
        let l = [line("100% 鲜榨果汁", 0.9)];
        assert_eq!(printed_categories(&kg, &l), ["food_drink.juice"]);
        let l = [line("Interior wall paint", 0.9)];
        assert_eq!(printed_categories(&kg, &l), ["home.paint"]);
        // Label words and flavours, plurals folded.
        let l = [line("Nebula Night Sky", 0.99), line("Color #110044", 0.99)];
        assert_eq!(printed_categories(&kg, &l), ["home.paint"]);
        // A fruit on a label is a flavour (food & drink), not fresh fruit.
        let l = [line("Carrots", 0.99)];
        assert_eq!(printed_categories(&kg, &l), ["food_drink"]);
        assert_eq!(
            singular("Bananas, glass, potatoes"),
            "Banana, glass, potato"
        );
        // Unsure lines and words naming nothing are no evidence.
        assert!(printed_categories(&kg, &[line("juice", 0.5)]).is_empty());
        assert!(printed_categories(&kg, &[line("SALEOR", 0.99)]).is_empty());
    }

    #[test]
    fn printed_colours_count_only_where_the_colour_is_the_product() {
        let kg = kg();
        let photo = [share("white", 0.5), share("navy", 0.3)];
        let paint = Some("home.paint");
        let l = [line("Space Dust Navy", 0.9)];
        assert_eq!(
            printed_colour(&kg, paint, &l, &photo).as_deref(),
            Some("navy")
        );
        // A colour code names the colour exactly; the photo's shade of it wins.
        let l = [line("Color #223366", 0.9)];
        assert_eq!(
            printed_colour(&kg, paint, &l, &photo).as_deref(),
            Some("navy")
        );
        // A colour the pixels do not show is not taken on the label's word.
        let l = [line("Sunset Orange", 0.9)];
        assert_eq!(printed_colour(&kg, paint, &l, &photo), None);
        // On a wine label "Red" names the wine, not the bottle's colour.
        let l = [line("Matured Red", 0.9)];
        let wine = [share("black", 0.5), share("red", 0.2)];
        assert_eq!(
            printed_colour(&kg, Some("food_drink.wine"), &l, &wine),
            None
        );
    }

    #[test]
    fn labels_are_read_only_where_they_can_change_the_answer() {
        let kg = kg();
        let guess = |pairs: &[(usize, f32)]| {
            let mut p = vec![0.0; 1000];
            for &(i, v) in pairs {
                p[i] = v;
            }
            crate::analysis::categorise(&kg, &p, "m", 0.35)
        };
        // A sure hoodie (sweatshirt 0.9): not read; with a title: not read.
        let hoodie = guess(&[(841, 0.9)]);
        assert!(!worth_reading(&kg, Some(&hoodie), false));
        // Sure sunscreen (beauty: look-alike packaging): read.
        let tub = guess(&[(838, 0.9)]);
        assert!(worth_reading(&kg, Some(&tub), false));
        assert!(!worth_reading(&kg, Some(&tub), true));
        // Unsure or unknown: read. No classifier: nothing to settle.
        assert!(worth_reading(&kg, Some(&guess(&[(841, 0.4)])), false));
        assert!(worth_reading(&kg, Some(&guess(&[(0, 0.9)])), false));
        assert!(!worth_reading(&kg, None, false));
    }

    #[test]
    fn hex_codes_need_six_digits() {
        assert_eq!(hex_codes("Color #FFB800"), vec![[255, 184, 0]]);
        assert_eq!(hex_codes("Color #FFBBOO"), vec![[255, 187, 0]]);
        assert!(hex_codes("#12 and #abc").is_empty());
    }
}
