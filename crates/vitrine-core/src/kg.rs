//! The product knowledge graph: categories (a tree by dotted key),
//! attributes with their allowed values in English and Chinese, relations
//! between categories, and the map from ImageNet classes to categories.
//!
//! The built-in graph is data (`assets/kg/*.toml`, colour values from
//! `assets/colours.toml`). The store keeps the working copy, seeded from the
//! built-in files and extended by users through `vitrine kg import`; a user's
//! rows are never overwritten by a later built-in seed. Every graph is
//! validated as a whole before it is used or stored: a dangling parent or
//! unknown attribute is an error, not a silent gap.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::colours;
use crate::error::{CoreError, Result};

const CATEGORIES: &str = include_str!("../../../assets/kg/categories.toml");
const ATTRIBUTES: &str = include_str!("../../../assets/kg/attributes.toml");
const RELATIONS: &str = include_str!("../../../assets/kg/relations.toml");
const IMAGENET: &str = include_str!("../../../assets/kg/imagenet.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub key: String,
    pub en: String,
    pub zh: String,
    #[serde(default)]
    pub synonyms_en: Vec<String>,
    #[serde(default)]
    pub synonyms_zh: Vec<String>,
    /// Attributes added at this level; descendants inherit them.
    #[serde(default)]
    pub attributes: Vec<String>,
}

impl Category {
    /// The category as a value with names, for finding where a text names
    /// it (`crate::mentions`).
    pub fn as_value(&self) -> AttrValue {
        AttrValue {
            key: self.key.clone(),
            en: self.en.clone(),
            zh: self.zh.clone(),
            synonyms_en: self.synonyms_en.clone(),
            synonyms_zh: self.synonyms_zh.clone(),
        }
    }

    /// The parent's key; `None` for a top level.
    pub fn parent(&self) -> Option<&str> {
        self.key.rsplit_once('.').map(|(p, _)| p)
    }

    /// The top-level key this category belongs to.
    pub fn top_level(&self) -> &str {
        self.key.split('.').next().unwrap_or(&self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrValue {
    pub key: String,
    pub en: String,
    pub zh: String,
    #[serde(default)]
    pub synonyms_en: Vec<String>,
    #[serde(default)]
    pub synonyms_zh: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub key: String,
    pub en: String,
    pub zh: String,
    #[serde(default)]
    pub multi: bool,
    /// `"colours"`: the values are the colour vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_from: Option<String>,
    #[serde(default, rename = "value", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<AttrValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    GoesWith,
    BundleWith,
}

impl RelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::GoesWith => "goes_with",
            RelationKind::BundleWith => "bundle_with",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "goes_with" => Some(RelationKind::GoesWith),
            "bundle_with" => Some(RelationKind::BundleWith),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    pub kind: RelationKind,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagenetMap {
    pub index: u16,
    pub label: String,
    pub category: String,
}

/// The graph as one document: the built-in files' sections, all optional,
/// which is also the format of `vitrine kg import` and `export`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphFile {
    #[serde(default, rename = "category", skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    #[serde(default, rename = "attribute", skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    #[serde(default, rename = "relation", skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    #[serde(default, rename = "map", skip_serializing_if = "Vec::is_empty")]
    pub imagenet: Vec<ImagenetMap>,
}

impl GraphFile {
    /// Parse one TOML document; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| CoreError::InvalidInput(format!("{origin}: {e}")))
    }

    /// The built-in graph, from the four asset files.
    pub fn builtin() -> Result<Self> {
        let mut all = GraphFile::default();
        for (text, name) in [
            (CATEGORIES, "assets/kg/categories.toml"),
            (ATTRIBUTES, "assets/kg/attributes.toml"),
            (RELATIONS, "assets/kg/relations.toml"),
            (IMAGENET, "assets/kg/imagenet.toml"),
        ] {
            all.merge(GraphFile::parse(text, name)?);
        }
        Ok(all)
    }

    /// A stable digest of the built-in files, so the store re-seeds only
    /// when they change.
    pub fn builtin_digest() -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for text in [CATEGORIES, ATTRIBUTES, RELATIONS, IMAGENET] {
            h.update(text.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// Add `other`'s entries; an entry with a key already present replaces
    /// it (attribute values merge by key).
    pub fn merge(&mut self, other: GraphFile) {
        for c in other.categories {
            match self.categories.iter_mut().find(|x| x.key == c.key) {
                Some(x) => *x = c,
                None => self.categories.push(c),
            }
        }
        for a in other.attributes {
            match self.attributes.iter_mut().find(|x| x.key == a.key) {
                Some(x) => {
                    let mut values = std::mem::take(&mut x.values);
                    for v in a.values.iter().cloned() {
                        match values.iter_mut().find(|y| y.key == v.key) {
                            Some(y) => *y = v,
                            None => values.push(v),
                        }
                    }
                    *x = Attribute { values, ..a };
                }
                None => self.attributes.push(a),
            }
        }
        for r in other.relations {
            if !self.relations.contains(&r) {
                self.relations.push(r);
            }
        }
        for m in other.imagenet {
            match self.imagenet.iter_mut().find(|x| x.index == m.index) {
                Some(x) => *x = m,
                None => self.imagenet.push(m),
            }
        }
    }
}

/// A validated graph with lookups.
#[derive(Debug, Clone)]
pub struct KnowledgeGraph {
    categories: BTreeMap<String, Category>,
    attributes: BTreeMap<String, Attribute>,
    relations: BTreeSet<Relation>,
    imagenet: BTreeMap<u16, ImagenetMap>,
}

fn invalid(msg: String) -> CoreError {
    CoreError::InvalidInput(format!("knowledge graph: {msg}"))
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

impl KnowledgeGraph {
    /// Check `file` as a whole and index it.
    pub fn new(file: GraphFile) -> Result<Self> {
        let mut categories = BTreeMap::new();
        for c in file.categories {
            if !valid_key(&c.key) {
                return Err(invalid(format!(
                    "category key `{}` must be dotted lowercase words",
                    c.key
                )));
            }
            if c.en.trim().is_empty() || c.zh.trim().is_empty() {
                return Err(invalid(format!(
                    "category `{}` needs en and zh names",
                    c.key
                )));
            }
            if categories.insert(c.key.clone(), c).is_some() {
                return Err(invalid("a category key appears twice".into()));
            }
        }
        let mut attributes = BTreeMap::new();
        for a in file.attributes {
            if !valid_key(&a.key) || a.key.contains('.') {
                return Err(invalid(format!(
                    "attribute key `{}` must be one lowercase word",
                    a.key
                )));
            }
            match a.values_from.as_deref() {
                None | Some("colours") => {}
                Some(other) => {
                    return Err(invalid(format!(
                        "attribute `{}`: values_from `{other}` is unknown (only `colours`)",
                        a.key
                    )))
                }
            }
            let mut seen = BTreeSet::new();
            for v in &a.values {
                if !valid_key(&v.key) || !seen.insert(v.key.as_str()) {
                    return Err(invalid(format!(
                        "attribute `{}`: value key `{}` is invalid or repeated",
                        a.key, v.key
                    )));
                }
            }
            if attributes.insert(a.key.clone(), a).is_some() {
                return Err(invalid("an attribute key appears twice".into()));
            }
        }
        for c in categories.values() {
            if let Some(p) = c.parent() {
                if !categories.contains_key(p) {
                    return Err(invalid(format!(
                        "category `{}` has no parent `{p}` defined",
                        c.key
                    )));
                }
            }
            for a in &c.attributes {
                if !attributes.contains_key(a) {
                    return Err(invalid(format!(
                        "category `{}` names unknown attribute `{a}`",
                        c.key
                    )));
                }
            }
        }
        let mut relations = BTreeSet::new();
        for r in file.relations {
            for end in [&r.from, &r.to] {
                if !categories.contains_key(end) {
                    return Err(invalid(format!(
                        "relation {} names unknown category `{end}`",
                        r.kind.as_str()
                    )));
                }
            }
            relations.insert(r);
        }
        let mut imagenet = BTreeMap::new();
        for m in file.imagenet {
            if m.index >= 1000 {
                return Err(invalid(format!("ImageNet index {} is not 0..999", m.index)));
            }
            if !categories.contains_key(&m.category) {
                return Err(invalid(format!(
                    "ImageNet class {} maps to unknown category `{}`",
                    m.index, m.category
                )));
            }
            imagenet.insert(m.index, m);
        }
        Ok(Self {
            categories,
            attributes,
            relations,
            imagenet,
        })
    }

    /// The built-in graph, validated.
    pub fn builtin() -> Result<Self> {
        Self::new(GraphFile::builtin()?)
    }

    pub fn category(&self, key: &str) -> Option<&Category> {
        self.categories.get(key)
    }

    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    pub fn attribute(&self, key: &str) -> Option<&Attribute> {
        self.attributes.get(key)
    }

    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.attributes.values()
    }

    pub fn relations(&self) -> impl Iterator<Item = &Relation> {
        self.relations.iter()
    }

    /// The category an ImageNet class shows, if it shows a product.
    pub fn imagenet_category(&self, index: usize) -> Option<&Category> {
        let i = u16::try_from(index).ok()?;
        self.imagenet
            .get(&i)
            .and_then(|m| self.categories.get(&m.category))
    }

    /// `key` and its ancestors, nearest first.
    pub fn ancestors<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Category> + 'a {
        std::iter::successors(self.categories.get(key), move |c| {
            c.parent().and_then(|p| self.categories.get(p))
        })
    }

    /// Every attribute a category has, its ancestors' first.
    pub fn attributes_for(&self, key: &str) -> Vec<&Attribute> {
        let mut chain: Vec<&Category> = self.ancestors(key).collect();
        chain.reverse();
        let mut out: Vec<&Attribute> = Vec::new();
        for c in chain {
            for a in &c.attributes {
                if let Some(attr) = self.attributes.get(a) {
                    if !out.iter().any(|x| x.key == attr.key) {
                        out.push(attr);
                    }
                }
            }
        }
        out
    }

    /// The allowed values of an attribute (the colour vocabulary for
    /// `values_from = "colours"`).
    pub fn values(&self, attribute: &str) -> Vec<AttrValue> {
        match self.attributes.get(attribute) {
            Some(a) if a.values_from.as_deref() == Some("colours") => colours::vocabulary()
                .iter()
                .map(|c| AttrValue {
                    key: c.key.clone(),
                    en: c.en.clone(),
                    zh: c.zh.clone(),
                    synonyms_en: c.synonyms_en.clone(),
                    synonyms_zh: c.synonyms_zh.clone(),
                })
                .collect(),
            Some(a) => a.values.clone(),
            None => Vec::new(),
        }
    }

    /// The value of `attribute` that `text` names (key, label or synonym,
    /// case-insensitively), if any.
    pub fn find_value(&self, attribute: &str, text: &str) -> Option<AttrValue> {
        let t = text.trim().to_lowercase();
        self.values(attribute).into_iter().find(|v| {
            v.key == t
                || v.en.to_lowercase() == t
                || v.zh == text.trim()
                || v.synonyms_en.iter().any(|s| s.to_lowercase() == t)
                || v.synonyms_zh.iter().any(|s| s == text.trim())
        })
    }

    /// Categories related to `key` (either direction) by `kind`.
    pub fn related(&self, key: &str, kind: RelationKind) -> Vec<&Category> {
        self.relations
            .iter()
            .filter(|r| r.kind == kind)
            .filter_map(|r| {
                if r.from == key {
                    Some(&r.to)
                } else if r.to == key {
                    Some(&r.from)
                } else {
                    None
                }
            })
            .filter_map(|k| self.categories.get(k))
            .collect()
    }

    /// The graph as one document (what `vitrine kg export` writes).
    pub fn to_file(&self) -> GraphFile {
        GraphFile {
            categories: self.categories.values().cloned().collect(),
            attributes: self.attributes.values().cloned().collect(),
            relations: self.relations.iter().cloned().collect(),
            imagenet: self.imagenet.values().cloned().collect(),
        }
    }

    pub fn counts(&self) -> GraphCounts {
        GraphCounts {
            categories: self.categories.len(),
            top_levels: self
                .categories
                .values()
                .filter(|c| c.parent().is_none())
                .count(),
            attributes: self.attributes.len(),
            values: self.attributes.values().map(|a| a.values.len()).sum(),
            relations: self.relations.len(),
            imagenet_classes: self.imagenet.len(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GraphCounts {
    pub categories: usize,
    pub top_levels: usize,
    pub attributes: usize,
    pub values: usize,
    pub relations: usize,
    pub imagenet_classes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_graph_is_valid_and_complete() {
        let kg = KnowledgeGraph::builtin().unwrap();
        let n = kg.counts();
        assert_eq!(n.top_levels, 10);
        assert!(n.categories > 100 && n.attributes > 20 && n.relations > 30);
        let tee = kg.category("apparel.tops.t_shirts").unwrap();
        assert_eq!(tee.top_level(), "apparel");
        let attrs: Vec<&str> = kg
            .attributes_for(&tee.key)
            .iter()
            .map(|a| a.key.as_str())
            .collect();
        // Inherited from apparel and apparel.tops.
        for a in ["colour", "material", "sleeve_length", "neckline"] {
            assert!(attrs.contains(&a), "{a} missing from {attrs:?}");
        }
        assert_eq!(kg.imagenet_category(610).unwrap().key, tee.key);
        assert!(kg.imagenet_category(0).is_none(), "a tench is no product");
        assert_eq!(kg.find_value("colour", "Navy").unwrap().key, "navy");
        assert_eq!(kg.find_value("material", "纯棉").unwrap().key, "cotton");
        assert!(!kg
            .related("apparel.tops.t_shirts", RelationKind::GoesWith)
            .is_empty());
    }

    #[test]
    fn broken_graphs_are_refused_with_the_reason() {
        let mut file = GraphFile::builtin().unwrap();
        file.categories.push(Category {
            key: "gadgets.widgets".into(),
            en: "Widgets".into(),
            zh: "小部件".into(),
            synonyms_en: vec![],
            synonyms_zh: vec![],
            attributes: vec![],
        });
        let e = KnowledgeGraph::new(file).unwrap_err().to_string();
        assert!(e.contains("no parent `gadgets`"), "{e}");

        let mut file = GraphFile::builtin().unwrap();
        file.categories[0].attributes.push("sparkle".into());
        let e = KnowledgeGraph::new(file).unwrap_err().to_string();
        assert!(e.contains("unknown attribute `sparkle`"), "{e}");

        let mut file = GraphFile::builtin().unwrap();
        file.imagenet.push(ImagenetMap {
            index: 5,
            label: "x".into(),
            category: "nowhere".into(),
        });
        assert!(KnowledgeGraph::new(file).is_err());
    }

    #[test]
    fn export_round_trips_through_toml() {
        let kg = KnowledgeGraph::builtin().unwrap();
        let text = toml::to_string(&kg.to_file()).unwrap();
        let again = KnowledgeGraph::new(GraphFile::parse(&text, "export").unwrap()).unwrap();
        assert_eq!(again.counts(), kg.counts());
        assert_eq!(again.to_file(), kg.to_file());
    }
}
