//! Facts a merchant's product title states: "Navy Cotton Polo Shirt" says
//! the colour is navy and the material cotton. They are the merchant's own
//! words, so they outrank what the photo suggests (source `import`, data
//! `from = "title"`), but never the user's edits.
//!
//! Words that belong to the category's own name are not read as values
//! (`crate::mentions`): "Red Wine" and "白葡萄酒" name a kind of wine, not a
//! colour.

use serde::Serialize;

use crate::colours;
use crate::kg::{AttrValue, KnowledgeGraph};
use crate::mentions;
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
    let masked = mentions::category_spans(kg, title);
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
        let named = mentions::find(title, &kg.values(&attribute), &masked);
        for value in named.into_iter().map(|m| m.value) {
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
