//! What the facts editor may offer for one product: the keys it can edit
//! (the category, then the attributes the knowledge graph gives that
//! category) with their allowed values, and the category tree for the
//! category picker. Derived from the graph and the product's facts; the
//! core checks every value again when it is saved.

use serde::Serialize;
use vitrine_core::kg::{Attribute, KnowledgeGraph};
use vitrine_core::{Fact, FactSource};

/// The key of the category fact, which the core's `set_user_facts` accepts
/// besides the graph's attribute keys.
pub const CATEGORY_KEY: &str = "category";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactOptions {
    /// The category the options follow: the user's, else the classifier's.
    pub category: Option<String>,
    /// Where `category` came from (`user`, `classifier`, …).
    pub category_source: Option<FactSource>,
    /// `category` first, then the category's attributes (ancestors' first),
    /// then any other attribute the product already has facts for, so they
    /// can still be changed or cleared.
    pub keys: Vec<EditableKey>,
    /// Every category, parents before their children (pre-order).
    pub categories: Vec<CategoryOption>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditableKey {
    pub key: String,
    pub en: String,
    pub zh: String,
    /// Whether several values may be chosen at once.
    pub multi: bool,
    /// The allowed values; empty for `category`, whose values are `categories`.
    pub values: Vec<ValueOption>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueOption {
    pub key: String,
    pub en: String,
    pub zh: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryOption {
    pub key: String,
    pub en: String,
    pub zh: String,
    /// 0 for a top level, 1 for its children, and so on.
    pub depth: usize,
}

/// The category a product is shown under: the user's if they set one,
/// else the most confident machine guess the graph still knows.
pub fn current_category<'a>(
    kg: &KnowledgeGraph,
    facts: &'a [Fact],
) -> Option<(&'a str, FactSource)> {
    let known = |f: &&Fact| f.key == CATEGORY_KEY && kg.category(&f.value).is_some();
    facts
        .iter()
        .filter(known)
        .find(|f| f.source == FactSource::User)
        .or_else(|| {
            facts
                .iter()
                .filter(known)
                .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
        })
        .map(|f| (f.value.as_str(), f.source))
}

/// Attributes every top-level category has: what can be said of a product
/// before anyone knows what it is.
fn common_attributes(kg: &KnowledgeGraph) -> Vec<&Attribute> {
    let mut tops = kg.categories().filter(|c| c.parent().is_none());
    let Some(first) = tops.next() else {
        return Vec::new();
    };
    let mut common = kg.attributes_for(&first.key);
    for top in tops {
        let attrs = kg.attributes_for(&top.key);
        common.retain(|a| attrs.iter().any(|b| b.key == a.key));
    }
    common
}

fn editable(kg: &KnowledgeGraph, attr: &Attribute) -> EditableKey {
    EditableKey {
        key: attr.key.clone(),
        en: attr.en.clone(),
        zh: attr.zh.clone(),
        multi: attr.multi,
        values: kg
            .values(&attr.key)
            .into_iter()
            .map(|v| ValueOption {
                key: v.key,
                en: v.en,
                zh: v.zh,
            })
            .collect(),
    }
}

pub fn fact_options(kg: &KnowledgeGraph, facts: &[Fact]) -> FactOptions {
    let current = current_category(kg, facts);
    let mut attributes = match current {
        Some((key, _)) => kg.attributes_for(key),
        None => common_attributes(kg),
    };
    for f in facts {
        if let Some(attr) = kg.attribute(&f.key) {
            if !attributes.iter().any(|a| a.key == attr.key) {
                attributes.push(attr);
            }
        }
    }
    let mut keys = vec![EditableKey {
        key: CATEGORY_KEY.into(),
        en: "category".into(),
        zh: "类目".into(),
        multi: false,
        values: Vec::new(),
    }];
    keys.extend(attributes.into_iter().map(|a| editable(kg, a)));

    // Keys are dotted paths of `[a-z0-9_]` segments and '.' sorts before
    // every other allowed character, so key order puts each parent right
    // before its own children.
    let mut categories: Vec<CategoryOption> = kg
        .categories()
        .map(|c| CategoryOption {
            key: c.key.clone(),
            en: c.en.clone(),
            zh: c.zh.clone(),
            depth: c.key.matches('.').count(),
        })
        .collect();
    categories.sort_by(|a, b| a.key.cmp(&b.key));

    FactOptions {
        category: current.map(|(k, _)| k.to_string()),
        category_source: current.map(|(_, s)| s),
        keys,
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(key: &str, value: &str, source: FactSource, confidence: f32) -> Fact {
        Fact {
            id: 0,
            product_id: 1,
            key: key.into(),
            value: value.into(),
            label_en: value.into(),
            label_zh: String::new(),
            source,
            confidence,
            data: serde_json::Value::Null,
        }
    }

    fn keys(o: &FactOptions) -> Vec<&str> {
        o.keys.iter().map(|k| k.key.as_str()).collect()
    }

    #[test]
    fn without_a_category_only_the_category_and_common_attributes_are_offered() {
        let kg = KnowledgeGraph::builtin().expect("built-in graph");
        let o = fact_options(&kg, &[fact("colour", "navy", FactSource::Colour, 0.6)]);
        assert_eq!(o.category, None);
        assert_eq!(keys(&o), ["category", "colour"]);
        let colour = &o.keys[1];
        assert!(colour.multi);
        assert!(colour
            .values
            .iter()
            .any(|v| v.key == "navy" && !v.zh.is_empty()));
    }

    #[test]
    fn the_users_category_wins_over_the_classifiers() {
        let kg = KnowledgeGraph::builtin().expect("built-in graph");
        let machine = fact(
            "category",
            "apparel.tops.hoodies",
            FactSource::Classifier,
            0.53,
        );
        let o = fact_options(&kg, std::slice::from_ref(&machine));
        assert_eq!(o.category.as_deref(), Some("apparel.tops.hoodies"));
        assert_eq!(o.category_source, Some(FactSource::Classifier));
        let k = keys(&o);
        // Inherited from apparel and apparel.tops, and the hoodies' own.
        for want in ["colour", "material", "sleeve_length", "closure"] {
            assert!(k.contains(&want), "{want} missing from {k:?}");
        }
        let sleeve = o.keys.iter().find(|k| k.key == "sleeve_length");
        assert_eq!(sleeve.map(|k| k.multi), Some(false));

        let user = fact("category", "food_drink", FactSource::User, 1.0);
        let o = fact_options(&kg, &[machine, user]);
        assert_eq!(o.category.as_deref(), Some("food_drink"));
        assert_eq!(o.category_source, Some(FactSource::User));
        assert!(keys(&o).contains(&"flavour"));
        assert!(!keys(&o).contains(&"sleeve_length"));
    }

    #[test]
    fn attributes_the_product_has_stay_editable_after_a_category_change() {
        let kg = KnowledgeGraph::builtin().expect("built-in graph");
        let o = fact_options(
            &kg,
            &[
                fact("category", "food_drink", FactSource::User, 1.0),
                fact("sleeve_length", "long", FactSource::User, 1.0),
                fact("not_in_the_graph", "x", FactSource::Import, 1.0),
            ],
        );
        let k = keys(&o);
        assert_eq!(k.last(), Some(&"sleeve_length"));
        assert!(!k.contains(&"not_in_the_graph"));
    }

    #[test]
    fn an_unknown_category_is_ignored() {
        let kg = KnowledgeGraph::builtin().expect("built-in graph");
        let o = fact_options(&kg, &[fact("category", "gadgets", FactSource::User, 1.0)]);
        assert_eq!(o.category, None);
    }

    #[test]
    fn the_category_tree_lists_parents_before_children() {
        let kg = KnowledgeGraph::builtin().expect("built-in graph");
        let o = fact_options(&kg, &[]);
        assert_eq!(o.categories.len(), kg.categories().count());
        for (i, c) in o.categories.iter().enumerate() {
            assert_eq!(c.depth, c.key.matches('.').count());
            if let Some((parent, _)) = c.key.rsplit_once('.') {
                let p = o.categories[..i].iter().rposition(|x| x.depth < c.depth);
                assert_eq!(p.map(|p| o.categories[p].key.as_str()), Some(parent));
            }
        }
        let hoodies = o
            .categories
            .iter()
            .find(|c| c.key == "apparel.tops.hoodies");
        assert_eq!(hoodies.map(|c| (c.depth, c.zh.as_str())), Some((2, "卫衣")));
    }
}
