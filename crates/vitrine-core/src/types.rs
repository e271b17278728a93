//! Plain data types shared by the store, the pipelines, the CLI and the
//! desktop shell. They serialise to the JSON the UI and `--json` output use.

use serde::{Deserialize, Serialize};

use crate::router::RouteDecision;

/// Where a fact came from. User edits always win over machine sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactSource {
    Colour,
    Classifier,
    Vision,
    Ocr,
    Import,
    User,
}

impl FactSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FactSource::Colour => "colour",
            FactSource::Classifier => "classifier",
            FactSource::Vision => "vision",
            FactSource::Ocr => "ocr",
            FactSource::Import => "import",
            FactSource::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "colour" => FactSource::Colour,
            "classifier" => FactSource::Classifier,
            "vision" => FactSource::Vision,
            "ocr" => FactSource::Ocr,
            "import" => FactSource::Import,
            "user" => FactSource::User,
            _ => return None,
        })
    }

    /// How much a source's word counts, before confidence: the user's
    /// edits, then what the merchant supplied, then the machine's guesses.
    pub fn authority(self) -> u8 {
        match self {
            FactSource::User => 2,
            FactSource::Import => 1,
            _ => 0,
        }
    }
}

/// The fact that speaks for `key`: the most authoritative source's, the
/// most confident among equals (a user's category over a classifier's).
pub fn best_fact<'a>(facts: &'a [Fact], key: &str) -> Option<&'a Fact> {
    facts.iter().filter(|f| f.key == key).max_by(|a, b| {
        a.source
            .authority()
            .cmp(&b.source.authority())
            .then(a.confidence.total_cmp(&b.confidence))
    })
}

/// One named dominant colour and the share of the product (foreground) it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColourShare {
    /// Vocabulary key, e.g. `navy`.
    pub key: String,
    pub name_en: String,
    pub name_zh: String,
    /// `#rrggbb` of the cluster centre (not of the vocabulary entry).
    pub hex: String,
    /// 0..=1; the shares of one analysis sum to about 1.
    pub share: f32,
}

/// A product attribute as stored: `key` is e.g. `colour`, `value` a vocabulary key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub id: i64,
    pub product_id: i64,
    pub key: String,
    pub value: String,
    pub label_en: String,
    pub label_zh: String,
    pub source: FactSource,
    pub confidence: f32,
    /// Extra structured data (e.g. `{"hex":"#1f2a44","share":0.62}`).
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    pub id: i64,
    pub product_id: i64,
    pub sha256: String,
    /// Absolute path of the copy inside the data dir.
    pub original_path: String,
    pub thumbnail_path: String,
    /// The product cut out of the photo (PNG with alpha); `None` for photos
    /// stored before cut-outs existed.
    #[serde(default)]
    pub cutout_path: Option<String>,
    /// Name of the file the user gave us.
    pub source_name: String,
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSummary {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub photo_count: i64,
    pub draft_count: i64,
    /// Thumbnail of the first photo, if any.
    pub thumbnail_path: Option<String>,
    /// The category key the product is filed under: the user's if they set
    /// one, else the most confident machine guess (for library filters).
    #[serde(default)]
    pub category: Option<String>,
    /// Review status of the product's newest listing draft that was not
    /// rejected (a rejected variant is not where the product stands), else
    /// of its newest; `None` without listings.
    #[serde(default)]
    pub review_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDetail {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub photos: Vec<Photo>,
    pub facts: Vec<Fact>,
    pub drafts: Vec<DraftSummary>,
}

/// Result of ingesting one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub product_id: i64,
    pub photo: Photo,
    /// True when an identical file (same sha256) was already stored; nothing new was written.
    pub duplicate: bool,
    /// Facts recorded for the product (its colours, its category).
    pub facts: Vec<Fact>,
    /// What the classifier made of the photo, unknown included; `None`
    /// when no classifier ran (not installed, or a duplicate photo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<crate::analysis::CategoryGuess>,
}

/// The listing copy itself, as the model must produce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub title: String,
    pub bullets: Vec<String>,
    pub description: String,
    pub keywords: Vec<String>,
    /// The marketplace's own fields (Shopify's `seo_title`,
    /// `seo_description`, `image_alt`), by name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftSummary {
    pub id: i64,
    pub product_id: i64,
    pub kind: String,
    pub lang: String,
    pub marketplace: String,
    pub status: String,
    pub current_version: i64,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
}

/// How a draft version was produced, kept so any text can be traced back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// A manifest id, or `model@server` for a remote model.
    pub model_id: String,
    /// The weights' sha256, or for a remote model the sha256 of `model_id`.
    pub model_sha256: String,
    pub prompt_sha256: String,
    pub sampling: serde_json::Value,
    pub facts_used: Vec<i64>,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub time_to_first_token_ms: u64,
    pub total_ms: u64,
    /// Number of generation attempts (1, or 2 after a repair).
    pub attempts: u32,
    /// Every attempt was answered from the generation cache.
    #[serde(default)]
    pub cached: bool,
    /// What the checks noticed without rejecting the text (e.g. fewer
    /// bullets than the marketplace wants), for the reviewer.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Why this model ran: the router's score and choice, or the user's
    /// pin. Absent in drafts made before the router.
    #[serde(default)]
    pub route: Option<RouteDecision>,
    /// What the checks found in the stored text; a blocking finding keeps
    /// the draft from approval. Empty in drafts made before the checks.
    #[serde(default)]
    pub findings: Vec<crate::checks::Finding>,
    /// The rules the draft was written and checked under.
    #[serde(default)]
    pub rules: Option<DraftRules>,
    /// Which facts each sentence of the copy uses.
    #[serde(default)]
    pub trace: Vec<crate::provenance::SentenceTrace>,
    /// A livestream script's line-up and segment timing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<crate::script::ScriptProvenance>,
}

/// The rules behind a draft: marketplace profile, brand profile and the
/// wording rules' version, so a reviewer can tell what it was held to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftRules {
    pub marketplace: String,
    pub lang: String,
    #[serde(default)]
    pub brand: Option<String>,
    /// sha256 of the brand profile as used (it may change later).
    #[serde(default)]
    pub brand_sha256: Option<String>,
    /// sha256 of `assets/compliance/wording.toml` and
    /// `assets/marketplaces.toml` as built in.
    pub rules_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftVersion {
    pub id: i64,
    pub draft_id: i64,
    pub version: i64,
    /// The listing; for other kinds of draft an empty listing carrying only
    /// the draft's title, with the text itself in `content`.
    pub listing: Listing,
    /// The stored text of a draft that is not a listing (a script…), as
    /// its kind's JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    pub provenance: Option<Provenance>,
    /// `model` for generated text, `user` for edits.
    pub author: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub id: i64,
    pub product_id: i64,
    pub kind: String,
    pub lang: String,
    pub marketplace: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    /// All versions, oldest first; the last is current.
    pub versions: Vec<DraftVersion>,
}

#[cfg(test)]
mod best_fact_tests {
    use super::*;

    fn fact(value: &str, source: FactSource, confidence: f32) -> Fact {
        Fact {
            id: 0,
            product_id: 1,
            key: "category".into(),
            value: value.into(),
            label_en: String::new(),
            label_zh: String::new(),
            source,
            confidence,
            data: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_user_then_the_merchant_then_the_most_confident_machine() {
        let mut facts = vec![
            fact("apparel.tops.hoodies", FactSource::Classifier, 0.9),
            fact("apparel.tops.polos", FactSource::Vision, 0.95),
        ];
        let best = |facts: &[Fact]| best_fact(facts, "category").map(|f| f.value.clone());
        assert_eq!(best(&facts).as_deref(), Some("apparel.tops.polos"));
        facts.push(fact("apparel.dresses", FactSource::Import, 0.3));
        assert_eq!(best(&facts).as_deref(), Some("apparel.dresses"));
        facts.push(fact("apparel.tops.t_shirts", FactSource::User, 0.5));
        assert_eq!(best(&facts).as_deref(), Some("apparel.tops.t_shirts"));
        assert_eq!(best_fact(&facts, "colour"), None);
    }
}
