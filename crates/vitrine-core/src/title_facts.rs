//! Facts a merchant's product title states: "Navy Cotton Polo Shirt" says
//! the colour is navy and the material cotton. They are the merchant's own
//! words, so they outrank what the photo suggests (source `import`, data
//! `from = "title"`), but never the user's edits.
//!
//! Words that belong to the category's own name are not read as values:
//! "Red Wine" and "白葡萄酒" name a kind of wine, not a colour.

use serde::Serialize;

use crate::colours;
use crate::kg::{AttrValue, KnowledgeGraph};
use crate::types::ColourShare;

/// Confidence of a fact read from the title: above any photo guess (a
/// colour's share, a classifier's probability rarely reach it), below 1 so
/// the user's edits (1.0) still read as surer.
pub const TITLE_CONFIDENCE: f32 = 0.9;

/// One value a title names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitleFact {
    /// Attribute key, e.g. `colour`.
    pub attribute: String,
    pub value: AttrValue,
    /// For colours: the name the title used when the photo's more precise
    /// shade of it was kept instead ("blue" in the title, royal blue in the
    /// photo).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named: Option<String>,
}

/// The facts `title` states: its colours, and the values of the category's
/// attributes (all attributes the graph has for `category`, or colour only
/// when the category is unknown). In title order, one fact per value.
pub fn title_facts(
    kg: &KnowledgeGraph,
    title: &str,
    category: Option<&str>,
    photo_colours: &[ColourShare],
) -> Vec<TitleFact> {
    let masked = Masked::new(kg, title);
    let mut attributes = vec!["colour".to_string()];
    if let Some(c) = category {
        for a in kg.attributes_for(c) {
            if !attributes.contains(&a.key) {
                attributes.push(a.key.clone());
            }
        }
    }
    let mut out = Vec::new();
    for attribute in attributes {
        for value in masked.values(&kg.values(&attribute)) {
            let mut fact = TitleFact {
                attribute: attribute.clone(),
                value,
                named: None,
            };
            if attribute == "colour" {
                keep_photo_shade(&mut fact, photo_colours);
            }
            if !out
                .iter()
                .any(|f: &TitleFact| f.attribute == fact.attribute && f.value.key == fact.value.key)
            {
                out.push(fact);
            }
        }
    }
    out
}

/// "Blue" in a title and royal blue in the photo: the photo's shade is the
/// more precise name of the same colour, so it is kept (and the title's
/// word recorded). A shade of another family is not the product's colour
/// by the merchant's word; the title wins.
fn keep_photo_shade(fact: &mut TitleFact, photo_colours: &[ColourShare]) {
    let Some(named) = colours::by_key(&fact.value.key) else {
        return;
    };
    let seen: Vec<&colours::ColourName> = photo_colours
        .iter()
        .filter(|c| c.share >= crate::ingest::MIN_COLOUR_SHARE)
        .filter_map(|c| colours::by_key(&c.key))
        .collect();
    if seen.iter().any(|c| c.key == named.key) {
        return;
    }
    let shade = seen.into_iter().find(|c| c.family() == named.family());
    if let Some(shade) = shade {
        if shade.key != named.key {
            fact.named = Some(named.key.clone());
            fact.value = AttrValue {
                key: shade.key.clone(),
                en: shade.en.clone(),
                zh: shade.zh.clone(),
                synonyms_en: shade.synonyms_en.clone(),
                synonyms_zh: shade.synonyms_zh.clone(),
            };
        }
    }
}

/// A title with every category name and synonym blanked out, in two forms:
/// lowercase English words between single spaces, and the raw text for
/// Chinese (which has no word boundaries).
struct Masked {
    words: String,
    raw: String,
}

/// Blanked-out text: no name contains it, so nothing matches across it.
const BLANK: char = '#';

impl Masked {
    fn new(kg: &KnowledgeGraph, title: &str) -> Self {
        let mut words = crate::analysis::words(title);
        let mut raw = title.to_string();
        let mut en: Vec<String> = Vec::new();
        let mut zh: Vec<&str> = Vec::new();
        for c in kg.categories() {
            en.extend(
                std::iter::once(&c.en)
                    .chain(&c.synonyms_en)
                    .map(|n| crate::analysis::words(n))
                    .filter(|w| w.trim().len() > 1),
            );
            zh.extend(
                std::iter::once(&c.zh)
                    .chain(&c.synonyms_zh)
                    .map(String::as_str)
                    .filter(|n| !n.is_empty()),
            );
        }
        // Matched against the unmasked text, so overlapping names ("red
        // wine" and "wine glass" in "red wine glass") are all blanked.
        blank_all(&mut words, en.iter().map(|w| w.as_str()), true);
        blank_all(&mut raw, zh.into_iter(), false);
        Masked { words, raw }
    }

    /// The values named, in order of appearance; where names overlap the
    /// longest wins ("navy blue" is navy, not also blue).
    fn values(&self, values: &[AttrValue]) -> Vec<AttrValue> {
        // (start, end, value index); English positions come before Chinese.
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        let offset = self.words.len();
        for (i, v) in values.iter().enumerate() {
            for n in std::iter::once(&v.en).chain(&v.synonyms_en) {
                let w = crate::analysis::words(n);
                if w.trim().is_empty() {
                    continue;
                }
                for (at, _) in self.words.match_indices(w.as_str()) {
                    hits.push((at, at + w.len(), i));
                }
            }
            for n in std::iter::once(&v.zh).chain(&v.synonyms_zh) {
                if n.is_empty() {
                    continue;
                }
                for (at, _) in self.raw.match_indices(n.as_str()) {
                    hits.push((offset + at, offset + at + n.len(), i));
                }
            }
        }
        hits.sort_by_key(|&(s, e, _)| (std::cmp::Reverse(e - s), s));
        let mut taken: Vec<(usize, usize, usize)> = Vec::new();
        for h in hits {
            // English hits share their bounding spaces; overlap means more.
            if !taken.iter().any(|t| h.0 + 1 < t.1 && t.0 + 1 < h.1) {
                taken.push(h);
            }
        }
        taken.sort_by_key(|&(s, _, _)| s);
        let mut out: Vec<AttrValue> = Vec::new();
        for (_, _, i) in taken {
            if !out.iter().any(|v| v.key == values[i].key) {
                out.push(values[i].clone());
            }
        }
        out
    }
}

/// Blank every occurrence of every name in `text`, one blank per char so
/// offsets keep meaning. `padded`: the names are space-padded words (" t
/// shirt "), whose padding stays so the words around them still match.
fn blank_all<'a>(text: &mut String, names: impl Iterator<Item = &'a str>, padded: bool) {
    let mut hidden = vec![false; text.len()];
    for name in names {
        let inner = if padded { name.trim_matches(' ') } else { name };
        let skip = if padded { 1 } else { 0 };
        let mut from = 0;
        // Not `match_indices`: side-by-side words share their padding space.
        while let Some(at) = text[from..].find(name) {
            let start = from + at + skip;
            for h in &mut hidden[start..start + inner.len()] {
                *h = true;
            }
            from = start + inner.len();
        }
    }
    *text = text
        .char_indices()
        .map(|(i, c)| if hidden[i] { BLANK } else { c })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kg() -> KnowledgeGraph {
        KnowledgeGraph::builtin().expect("built-in graph")
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

    fn keys(facts: &[TitleFact], attribute: &str) -> Vec<String> {
        facts
            .iter()
            .filter(|f| f.attribute == attribute)
            .map(|f| f.value.key.clone())
            .collect()
    }

    #[test]
    fn reads_colours_in_both_languages_longest_name_first() {
        let kg = kg();
        let f = title_facts(&kg, "Navy Blue Polo Shirt", None, &[]);
        assert_eq!(keys(&f, "colour"), ["navy"]);
        let f = title_facts(&kg, "Black and Off-White Hoodie", None, &[]);
        assert_eq!(keys(&f, "colour"), ["black", "cream"]);
        let f = title_facts(&kg, "纯棉藏青色连帽卫衣", None, &[]);
        assert_eq!(keys(&f, "colour"), ["navy"]);
        assert!(title_facts(&kg, "Seaman Lager", None, &[]).is_empty());
    }

    #[test]
    fn words_of_the_category_name_are_not_values() {
        let kg = kg();
        assert!(keys(&title_facts(&kg, "Red Wine", None, &[]), "colour").is_empty());
        assert!(keys(&title_facts(&kg, "干白 白葡萄酒", None, &[]), "colour").is_empty());
        // Outside the category's phrase the colour still counts.
        let f = title_facts(&kg, "Red Wine Glass, Smoke Grey", None, &[]);
        assert_eq!(keys(&f, "colour"), ["grey"]);
    }

    #[test]
    fn the_photo_keeps_a_more_precise_shade_of_the_same_colour() {
        let kg = kg();
        let photo = [share("white", 0.6), share("royal_blue", 0.3)];
        let f = title_facts(&kg, "Blue Hoodie", None, &photo);
        assert_eq!(keys(&f, "colour"), ["royal_blue"]);
        assert_eq!(f[0].named.as_deref(), Some("blue"));
        // Another colour family in the photo: the title's word stands.
        let f = title_facts(&kg, "Yellow Plimsolls", None, &[share("red", 0.8)]);
        assert_eq!(keys(&f, "colour"), ["yellow"]);
        assert_eq!(f[0].named, None);
    }

    #[test]
    fn reads_the_categorys_attributes_when_it_is_known() {
        let kg = kg();
        let f = title_facts(
            &kg,
            "Cotton Long Sleeve T-shirt",
            Some("apparel.tops.t_shirts"),
            &[],
        );
        assert_eq!(keys(&f, "material"), ["cotton"]);
        assert_eq!(keys(&f, "sleeve_length"), ["long"]);
        // Without a category only colours are read.
        let f = title_facts(&kg, "Cotton Long Sleeve T-shirt", None, &[]);
        assert!(keys(&f, "material").is_empty());
    }
}
