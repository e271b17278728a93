//! Checks every draft passes before anyone sees it (the seed's alignment and
//! compliance framework): marketplace limits, banned and absolute wording,
//! contradictions with the product's facts, specs no fact backs, refusal or
//! meta text, the wrong language, and the brand's rules.
//!
//! Each check reads the draft's fields as text and reports [`Finding`]s with
//! a severity, the field and span, why, and a suggested fix. A blocking
//! finding keeps a draft from being approved; generation uses the findings
//! to ask the model for a repair first.

mod brand_rules;
mod facts;
mod language;
mod limits;
mod wording;

use serde::{Deserialize, Serialize};

use crate::brand::BrandProfile;
use crate::kg::KnowledgeGraph;
use crate::listing::{Lang, Marketplace};
use crate::types::{Fact, Listing};

pub use language::is_han;
pub use limits::is_emoji;
pub use wording::{avoid_words, wording_rules};

/// Which check made a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The marketplace's lengths, counts and forbidden characters.
    Limits,
    /// Absolute, superlative, medical and guarantee wording.
    Wording,
    /// The copy says something the facts contradict (colour, material,
    /// category).
    Contradiction,
    /// A number with a unit that no fact backs.
    UnsupportedSpec,
    /// Refusals, apologies, "Here is the listing", placeholders.
    MetaText,
    /// Copy in another language than asked for.
    Language,
    /// The brand profile's forbidden words, required phrases, languages.
    Brand,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Limits => "limits",
            CheckKind::Wording => "wording",
            CheckKind::Contradiction => "contradiction",
            CheckKind::UnsupportedSpec => "unsupported_spec",
            CheckKind::MetaText => "meta_text",
            CheckKind::Language => "language",
            CheckKind::Brand => "brand",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a reviewer's look; does not stop approval.
    Warning,
    /// The draft cannot be approved while this stands.
    Blocking,
}

/// One problem in a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub check: CheckKind,
    /// The rule within the check, e.g. `absolute-zh`, `title_max_chars`.
    pub rule: String,
    pub severity: Severity,
    /// `title`, `bullets[2]`, `description`, `keywords`, `seo_title`…
    pub field: String,
    /// Character offsets `[start, end)` in the field's text, when the
    /// problem is a piece of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<(usize, usize)>,
    /// The offending text (or the start of the field).
    pub excerpt: String,
    pub explanation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Finding {
    /// One line for a repair prompt or a terminal.
    pub fn describe(&self) -> String {
        let mut s = format!("{}: {}", self.field, self.explanation);
        if !self.excerpt.is_empty() {
            s.push_str(&format!(" (\"{}\")", self.excerpt));
        }
        if let Some(fix) = &self.suggestion {
            s.push_str(&format!(" Fix: {fix}"));
        }
        s
    }
}

/// Whether any finding stops approval.
pub fn has_blocking(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Blocking)
}

/// What a draft is checked against.
pub struct Context<'a> {
    pub marketplace: &'a Marketplace,
    pub lang: Lang,
    /// The product's facts; contradictions and specs are judged by them.
    pub facts: &'a [Fact],
    /// The product's name as the merchant gave it: its numbers ("500 ml")
    /// back specs like facts do.
    pub product_name: &'a str,
    pub kg: Option<&'a KnowledgeGraph>,
    pub brand: Option<&'a BrandProfile>,
}

/// A draft's text, field by field.
pub struct FieldText<'a> {
    pub field: String,
    pub text: &'a str,
}

/// The fields of a listing as checks read them.
pub fn listing_fields(listing: &Listing) -> Vec<FieldText<'_>> {
    let mut out = vec![FieldText {
        field: "title".into(),
        text: &listing.title,
    }];
    for (i, b) in listing.bullets.iter().enumerate() {
        out.push(FieldText {
            field: format!("bullets[{}]", i + 1),
            text: b,
        });
    }
    out.push(FieldText {
        field: "description".into(),
        text: &listing.description,
    });
    for (i, k) in listing.keywords.iter().enumerate() {
        out.push(FieldText {
            field: format!("keywords[{}]", i + 1),
            text: k,
        });
    }
    for (name, text) in &listing.extra {
        out.push(FieldText {
            field: name.clone(),
            text,
        });
    }
    out
}

/// Every check on a listing, blocking findings first.
pub fn check_listing(listing: &Listing, ctx: &Context) -> Vec<Finding> {
    let fields = listing_fields(listing);
    let mut findings = limits::check(listing, ctx.marketplace);
    findings.extend(check_fields(&fields, ctx));
    sort(&mut findings);
    findings
}

/// The checks that read any text (scripts, summaries, a plain file): all but
/// the listing's shape. Wording rules are those for listings; other kinds
/// of draft use [`check_fields_of`].
pub fn check_fields(fields: &[FieldText], ctx: &Context) -> Vec<Finding> {
    check_fields_of(LISTING, fields, ctx)
}

/// The draft kind listings are stored as.
pub const LISTING: &str = "listing";

/// [`check_fields`] for a draft of `kind` (`listing`, `script`…): wording
/// rules that declare `applies_to` run only on those kinds.
pub fn check_fields_of(kind: &str, fields: &[FieldText], ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for f in fields {
        findings.extend(wording::check(&f.field, f.text, ctx.lang, kind));
        findings.extend(language::check(&f.field, f.text, ctx.lang));
        findings.extend(facts::unsupported_specs(&f.field, f.text, ctx));
        if let Some(kg) = ctx.kg {
            findings.extend(facts::contradictions(&f.field, f.text, ctx.facts, kg));
        }
        if let Some(brand) = ctx.brand {
            findings.extend(brand_rules::check_field(&f.field, f.text, brand));
        }
    }
    if let Some(brand) = ctx.brand {
        findings.extend(brand_rules::check_whole(fields, brand, ctx.lang));
    }
    sort(&mut findings);
    findings
}

/// Blocking findings first; a warning about text a blocking finding
/// already covers (Amazon's guarantee rule and the general guarantee
/// warning on one word) is dropped.
fn sort(findings: &mut Vec<Finding>) {
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let covered = |f: &Finding, all: &[Finding]| {
        all.iter().any(|g| {
            g.severity > f.severity
                && g.field == f.field
                && matches!((g.span, f.span), (Some((a, b)), Some((c, d))) if a < d && c < b)
        })
    };
    let snapshot = findings.clone();
    findings.retain(|f| !covered(f, &snapshot));
    // Spam repeats one problem hundreds of times; a reviewer needs the
    // first few and the count.
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    findings.retain(|f| {
        match seen
            .iter_mut()
            .find(|(field, rule, _)| *field == f.field && *rule == f.rule)
        {
            Some(entry) => {
                entry.2 += 1;
                entry.2 <= MAX_PER_RULE
            }
            None => {
                seen.push((f.field.clone(), f.rule.clone(), 1));
                true
            }
        }
    });
    for (field, rule, n) in seen.into_iter().filter(|(_, _, n)| *n > MAX_PER_RULE) {
        if let Some(last) = findings
            .iter_mut()
            .rev()
            .find(|f| f.field == field && f.rule == rule)
        {
            last.explanation.push_str(&format!(
                " ({} more like this in {field})",
                n - MAX_PER_RULE
            ));
        }
    }
}

/// Findings kept per rule and field; the last one kept counts the rest.
const MAX_PER_RULE: usize = 5;

/// The char offsets of a byte range of `text`.
pub(crate) fn char_span(text: &str, start: usize, end: usize) -> (usize, usize) {
    let s = text[..start].chars().count();
    (s, s + text[start..end].chars().count())
}

/// At most `n` chars of `text`, for excerpts.
pub(crate) fn excerpt(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        out.push('…');
    }
    out
}
