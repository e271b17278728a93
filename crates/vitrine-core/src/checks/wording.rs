//! Banned, absolute, medical and guarantee wording, and refusal or meta
//! text, from the rules in `assets/compliance/wording.toml`.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use super::{char_span, CheckKind, Finding, Severity};
use crate::listing::Lang;

const RULES: &str = include_str!("../../../../assets/compliance/wording.toml");

#[derive(Deserialize)]
struct RuleFile {
    #[serde(default)]
    avoid_en: Vec<String>,
    #[serde(default)]
    avoid_zh: Vec<String>,
    rule: Vec<RawRule>,
}

/// Words the model is kept from writing in `lang` (the engine bans their
/// tokens); empty if the rule file does not load, which a test rules out.
pub fn avoid_words(lang: Lang) -> Vec<String> {
    let Ok(file) = toml::from_str::<RuleFile>(RULES) else {
        return Vec::new();
    };
    match lang {
        Lang::En => file.avoid_en,
        Lang::ZhCn => file.avoid_en.into_iter().chain(file.avoid_zh).collect(),
    }
}

#[derive(Deserialize)]
struct RawRule {
    id: String,
    kind: String,
    lang: String,
    severity: Severity,
    patterns: Vec<String>,
    #[serde(default)]
    exceptions: Vec<String>,
    explanation: String,
    suggestion: String,
    /// Draft kinds the rule is for; empty means every kind.
    #[serde(default)]
    applies_to: Vec<String>,
}

/// The draft kinds a rule's `applies_to` may name. A typo would silently
/// switch a rule off, so unknown kinds fail to load.
pub const DRAFT_KINDS: [&str; 4] = ["listing", "script", "review_summary", "text"];

/// One compiled wording rule.
pub struct WordingRule {
    pub id: String,
    /// absolute | promotional | medical | guarantee | meta
    pub kind: String,
    /// en | zh | any
    pub lang: String,
    pub severity: Severity,
    patterns: Vec<Regex>,
    exceptions: Vec<String>,
    pub explanation: String,
    pub suggestion: String,
    /// Draft kinds the rule is for; empty means every kind.
    pub applies_to: Vec<String>,
}

impl WordingRule {
    fn applies_to(&self, lang: Lang, kind: &str) -> bool {
        let lang_ok = match self.lang.as_str() {
            "en" => lang == Lang::En,
            "zh" => lang == Lang::ZhCn,
            _ => true,
        };
        lang_ok && (self.applies_to.is_empty() || self.applies_to.iter().any(|k| k == kind))
    }

    /// Byte ranges of the rule's matches in `text`, minus those an
    /// exception covers.
    fn matches(&self, text: &str) -> Vec<(usize, usize)> {
        let lower = text.to_lowercase();
        // Lowercasing can change byte lengths (rare letters); then match on
        // the original text so offsets stay right.
        let hay = if lower.len() == text.len() {
            &lower
        } else {
            text
        };
        let mut out = Vec::new();
        for re in &self.patterns {
            for m in re.find_iter(hay) {
                let (s, e) = (m.start(), m.end());
                // `(?:^|\s)#1` style patterns include the space before.
                let s = s + hay[s..e].len() - hay[s..e].trim_start().len();
                let excepted = self.exceptions.iter().any(|x| {
                    let x = x.to_lowercase();
                    hay.match_indices(x.as_str())
                        .any(|(xs, _)| xs <= s && e <= xs + x.len())
                });
                if !excepted && !out.iter().any(|&(os, oe)| s < oe && os < e) {
                    out.push((s, e));
                }
            }
        }
        out.sort_unstable();
        out
    }
}

static COMPILED: LazyLock<Result<Vec<WordingRule>, String>> = LazyLock::new(|| compile(RULES));

fn compile(text: &str) -> Result<Vec<WordingRule>, String> {
    let file: RuleFile = toml::from_str(text).map_err(|e| e.to_string())?;
    file.rule
        .into_iter()
        .map(|r| {
            if let Some(k) = r
                .applies_to
                .iter()
                .find(|k| !DRAFT_KINDS.contains(&k.as_str()))
            {
                return Err(format!(
                    "rule {}: applies_to names unknown kind `{k}` (known: {})",
                    r.id,
                    DRAFT_KINDS.join(", ")
                ));
            }
            let patterns = r
                .patterns
                .iter()
                .map(|p| {
                    RegexBuilder::new(p)
                        .case_insensitive(true)
                        .build()
                        .map_err(|e| format!("rule {}: pattern `{p}`: {e}", r.id))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(WordingRule {
                id: r.id,
                kind: r.kind,
                lang: r.lang,
                severity: r.severity,
                patterns,
                exceptions: r.exceptions,
                explanation: r.explanation,
                suggestion: r.suggestion,
                applies_to: r.applies_to,
            })
        })
        .collect()
}

/// The built-in wording rules. The file is compiled in and its every
/// pattern is covered by tests, so an error here is a build defect; it is
/// still reported rather than panicking.
pub fn wording_rules() -> Result<&'static [WordingRule], String> {
    COMPILED.as_deref().map_err(Clone::clone)
}

pub(super) fn check(field: &str, text: &str, lang: Lang, kind: &str) -> Vec<Finding> {
    let rules = match wording_rules() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "wording rules do not load");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    // Where rules overlap, the more severe one speaks for the text (a
    // blocking "guaranteed results" over the "guarantee" warning); file
    // order otherwise.
    let mut applicable: Vec<&WordingRule> =
        rules.iter().filter(|r| r.applies_to(lang, kind)).collect();
    applicable.sort_by_key(|r| std::cmp::Reverse(r.severity));
    for rule in applicable {
        for (s, e) in rule.matches(text) {
            let span = Some(char_span(text, s, e));
            // One finding per piece of text: "100%" is absolute in both
            // languages' rules.
            let overlaps = |f: &Finding| match (f.span, span) {
                (Some((a, b)), Some((c, d))) => a < d && c < b,
                _ => false,
            };
            if out.iter().any(overlaps) {
                continue;
            }
            out.push(Finding {
                check: if rule.kind == "meta" {
                    CheckKind::MetaText
                } else {
                    CheckKind::Wording
                },
                rule: rule.id.clone(),
                severity: rule.severity,
                field: field.into(),
                span,
                excerpt: text[s..e].to_string(),
                explanation: rule.explanation.clone(),
                suggestion: Some(rule.suggestion.clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_hit(text: &str, lang: Lang) -> Vec<String> {
        check("description", text, lang, "listing")
            .into_iter()
            .map(|f| format!("{}:{}", f.rule, f.excerpt))
            .collect()
    }

    #[test]
    fn rules_load() {
        let rules = wording_rules().unwrap();
        assert!(rules.len() >= 7);
        assert!(avoid_words(Lang::En).contains(&"perfect".to_string()));
        assert!(avoid_words(Lang::ZhCn).contains(&"完美".to_string()));
        // Every avoided word is one the rules flag, so a ban never hides
        // anything the checks would allow.
        for w in avoid_words(Lang::ZhCn) {
            let lang = if w.is_ascii() { Lang::En } else { Lang::ZhCn };
            assert!(
                !check("title", &w, lang, "listing").is_empty(),
                "`{w}` is avoided but no rule flags it"
            );
        }
    }

    #[test]
    fn chinese_absolute_terms_with_everyday_exceptions() {
        let hits = rules_hit("全网第一的最佳卫衣，国家级品质，100%满意", Lang::ZhCn);
        assert_eq!(
            hits,
            [
                "absolute-zh:第一",
                "absolute-zh:最佳",
                "absolute-zh:国家级",
                "absolute-zh:100%"
            ]
        );
        // 最近 (recently), 第一次 (the first time) and a composition are fine.
        assert!(rules_hit("最近上新，第一次穿就爱上，100%纯棉", Lang::ZhCn).is_empty());
    }

    #[test]
    fn english_claims_spans_and_exceptions() {
        let f = check(
            "title",
            "The best hoodie, 100% guaranteed to cure colds",
            Lang::En,
            "listing",
        );
        let ids: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
        assert!(ids.contains(&"absolute-en"), "{ids:?}");
        assert!(ids.contains(&"medical-en"), "{ids:?}");
        assert!(ids.contains(&"guarantee"), "{ids:?}");
        let best = f.iter().find(|f| f.excerpt == "The best").unwrap();
        assert_eq!(best.span, Some((0, 8)));
        assert_eq!(best.severity, Severity::Blocking);
        assert!(rules_hit("Made of 100% cotton; best worn loose.", Lang::En).is_empty());
    }

    #[test]
    fn meta_text_in_both_languages() {
        assert!(!rules_hit("As an AI, I cannot write this listing.", Lang::En).is_empty());
        assert!(!rules_hit("Here is the listing: soft hoodie", Lang::En).is_empty());
        assert!(!rules_hit("作为一个AI，我无法提供", Lang::ZhCn).is_empty());
        // English meta text left in Chinese copy is caught too.
        assert!(!rules_hit("柔软卫衣 As an AI language model", Lang::ZhCn).is_empty());
        assert!(rules_hit("A soft hoodie for cool evenings.", Lang::En).is_empty());
    }

    fn kind_hits(text: &str, lang: Lang, kind: &str) -> Vec<String> {
        check("host", text, lang, kind)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn rules_apply_to_their_draft_kinds() {
        // A call to action is the point of a script, not of a listing.
        assert_eq!(kind_hits("Buy now!", Lang::En, "listing"), ["promotional"]);
        assert!(kind_hits("Buy now!", Lang::En, "script").is_empty());
        assert!(kind_hits("马上下单，包邮", Lang::ZhCn, "script").is_empty());
        // Live-commerce pressure is the script's own rule, not a listing's.
        assert_eq!(
            kind_hits("Only 3 left, hurry!", Lang::En, "script"),
            ["scarcity-en"]
        );
        assert!(kind_hits("Only 3 left, hurry!", Lang::En, "listing").is_empty());
        assert_eq!(
            kind_hits("今天最后一天", Lang::ZhCn, "script"),
            ["scarcity-zh"]
        );
        // Rules without applies_to run on every kind.
        for kind in DRAFT_KINDS {
            assert_eq!(kind_hits("It cures colds", Lang::En, kind), ["medical-en"]);
            assert_eq!(kind_hits("全网最低价", Lang::ZhCn, kind).len(), 1, "{kind}");
        }
    }

    #[test]
    fn an_unknown_kind_in_applies_to_fails_to_load() {
        let good = r#"
[[rule]]
id = "x"
kind = "promotional"
lang = "any"
severity = "warning"
patterns = ["\\bx\\b"]
explanation = "e"
suggestion = "s"
applies_to = ["script"]
"#;
        let rules = compile(good).unwrap();
        assert_eq!(rules[0].applies_to, ["script"]);
        assert!(rules[0].applies_to(Lang::En, "script"));
        assert!(!rules[0].applies_to(Lang::En, "listing"));
        let bad = good.replace("[\"script\"]", "[\"scripts\"]");
        let err = compile(&bad).err().unwrap_or_default();
        assert!(err.contains("unknown kind `scripts`"), "{err}");
    }
}
