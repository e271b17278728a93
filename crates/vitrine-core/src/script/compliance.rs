//! What a script's host lines are checked for: the shared checks with the
//! script's wording rules, prices and offers nobody gave, blanks left in,
//! and the duration.

use std::sync::LazyLock;

use regex::Regex;

use super::{timing_finding, Script, SegmentKind, BRACKETED, DRAFT_KIND};
use crate::checks::{self, CheckKind, Finding, Severity};

/// The host lines as checks read them (stage cues are not spoken, so the
/// wording rules do not apply to them).
pub fn host_fields(script: &Script) -> Vec<checks::FieldText<'_>> {
    script
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| checks::FieldText {
            field: format!("segments[{}].{}", i + 1, s.kind.as_str()),
            text: &s.host,
        })
        .collect()
}

static NUMBER: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\d+(?:[.,]\d+)?").ok());
static PRICE_TALK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[¥$€£￥]\s*\d|\d+\s*(?:元|块钱|块|折|% off|percent off|dollars?|yuan|rmb)\b?|半价|买一送一|优惠券|\bhalf price\b|\bbuy one,? get one\b|\bcoupon\b|\bdiscount\b",
    )
    .ok()
});

/// Prices and offers the user did not give. With no `offer`, any price or
/// discount talk is invented; with one, every number in the segments that
/// sell (offer, urgency, call to action) must come from it or a fact.
pub fn offer_findings(script: &Script, offer: Option<&str>, backed: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Some(number), Some(price)) = (NUMBER.as_ref(), PRICE_TALK.as_ref()) else {
        return out;
    };
    let offer_numbers: Vec<&str> = offer
        .map(|o| number.find_iter(o).map(|m| m.as_str()).collect())
        .unwrap_or_default();
    for (i, s) in script.segments.iter().enumerate() {
        let field = format!("segments[{}].{}", i + 1, s.kind.as_str());
        let mut push = |start: usize, end: usize, why: &str| {
            out.push(Finding {
                check: CheckKind::UnsupportedSpec,
                rule: "invented-offer".into(),
                severity: Severity::Blocking,
                field: field.clone(),
                span: Some(char_span(&s.host, start, end)),
                excerpt: s.host[start..end].to_string(),
                explanation: why.to_string(),
                suggestion: Some(
                    "Announce only the offer given with --offer, or point to the offer on screen."
                        .into(),
                ),
            });
        };
        match offer {
            None => {
                for m in price.find_iter(&s.host) {
                    push(
                        m.start(),
                        m.end(),
                        "a price or discount was announced, but no offer was given",
                    );
                }
            }
            Some(_) => {
                if !matches!(
                    s.kind,
                    SegmentKind::Offer | SegmentKind::Urgency | SegmentKind::CallToAction
                ) {
                    continue;
                }
                for m in number.find_iter(&s.host) {
                    let n = m.as_str();
                    let known = offer_numbers.contains(&n) || backed.iter().any(|b| b.contains(n));
                    if !known {
                        push(
                            m.start(),
                            m.end(),
                            "a number in the sales segments that neither the offer nor a fact gives",
                        );
                    }
                }
            }
        }
    }
    out
}

/// Blanks left in the host lines (`[Your Name]`): the host would read them
/// out, or stumble.
pub fn placeholder_findings(script: &Script) -> Vec<Finding> {
    let Some(re) = BRACKETED.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, s) in script.segments.iter().enumerate() {
        for m in re.find_iter(&s.host) {
            out.push(Finding {
                check: CheckKind::MetaText,
                rule: "script-placeholder".into(),
                severity: Severity::Blocking,
                field: format!("segments[{}].{}", i + 1, s.kind.as_str()),
                span: Some(char_span(&s.host, m.start(), m.end())),
                excerpt: m.as_str().to_string(),
                explanation: "a blank to fill in is left in the host's lines".into(),
                suggestion: Some("Write the actual words, or remove the blank.".into()),
            });
        }
    }
    out
}

fn char_span(text: &str, start: usize, end: usize) -> (usize, usize) {
    let s = text[..start].chars().count();
    (s, s + text[start..end].chars().count())
}

/// Every check on a script's host lines: the shared checks with the rules
/// that apply to scripts (each segment against its own product's facts,
/// `contexts` in line-up order), invented offers, and the duration. Wording
/// and numbers the user's own offer contains are theirs to vouch for and
/// are not flagged.
pub fn check_script(
    script: &Script,
    contexts: &[checks::Context],
    offer: Option<&str>,
) -> Vec<Finding> {
    let fields = host_fields(script);
    let offer_lower = offer.map(str::to_lowercase);
    let vouched = |f: &Finding| {
        matches!(f.check, CheckKind::Wording | CheckKind::UnsupportedSpec)
            && offer_lower
                .as_deref()
                .is_some_and(|o| !f.excerpt.is_empty() && o.contains(&f.excerpt.to_lowercase()))
    };
    let mut findings = Vec::new();
    for (ctx, product_id) in contexts.iter().zip(&script.product_ids) {
        let mine: Vec<checks::FieldText> = fields
            .iter()
            .zip(&script.segments)
            .filter(|(_, s)| s.product_id == *product_id)
            .map(|(f, _)| checks::FieldText {
                field: f.field.clone(),
                text: f.text,
            })
            .collect();
        findings.extend(
            checks::check_fields_of(DRAFT_KIND, &mine, ctx)
                .into_iter()
                .filter(|f| !vouched(f)),
        );
    }
    let mut backed: Vec<String> = Vec::new();
    for ctx in contexts {
        backed.extend(
            ctx.facts
                .iter()
                .flat_map(|f| [f.value.clone(), f.label_en.clone(), f.label_zh.clone()]),
        );
        backed.push(ctx.product_name.to_string());
    }
    findings.extend(offer_findings(script, offer, &backed));
    findings.extend(placeholder_findings(script));
    findings.extend(timing_finding(script));
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}
