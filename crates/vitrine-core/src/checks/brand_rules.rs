//! The brand profile's rules: forbidden words anywhere, required phrases
//! and disclaimers somewhere in the copy, and the brand's languages.

use super::{char_span, CheckKind, FieldText, Finding, Severity};
use crate::brand::BrandProfile;
use crate::listing::Lang;

fn finding(
    rule: &str,
    field: &str,
    excerpt: &str,
    explanation: String,
    suggestion: String,
) -> Finding {
    Finding {
        check: CheckKind::Brand,
        rule: rule.into(),
        severity: Severity::Blocking,
        field: field.into(),
        span: None,
        excerpt: excerpt.into(),
        explanation,
        suggestion: Some(suggestion),
    }
}

/// Byte ranges of `word` in `text`: case-insensitive whole words for
/// English, substrings for Chinese.
fn find_word(text: &str, word: &str) -> Vec<(usize, usize)> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return Vec::new();
    }
    let w = word.to_lowercase();
    let whole = word.is_ascii();
    lower
        .match_indices(w.as_str())
        .filter(|&(at, _)| {
            !whole
                || (lower[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
                    && lower[at + w.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric()))
        })
        .map(|(at, _)| (at, at + w.len()))
        .collect()
}

pub(super) fn check_field(field: &str, text: &str, brand: &BrandProfile) -> Vec<Finding> {
    let mut out = Vec::new();
    for word in &brand.forbidden_words {
        for (s, e) in find_word(text, word) {
            let mut f = finding(
                "brand_forbidden_word",
                field,
                &text[s..e],
                format!("{} never uses `{word}`", brand.name),
                format!("Remove or replace `{}`.", &text[s..e]),
            );
            f.span = Some(char_span(text, s, e));
            out.push(f);
        }
    }
    out
}

/// Rules about the draft as a whole: the language, required phrases and
/// disclaimers (anywhere in the copy, word for word).
pub(super) fn check_whole(fields: &[FieldText], brand: &BrandProfile, lang: Lang) -> Vec<Finding> {
    let mut out = Vec::new();
    if !brand.allows(lang) {
        out.push(finding(
            "brand_language",
            "draft",
            lang.code(),
            format!(
                "{} publishes in {}, not {}",
                brand.name,
                brand.languages.join(", "),
                lang.code()
            ),
            "Write the copy in one of the brand's languages.".into(),
        ));
    }
    let all: String = fields
        .iter()
        .map(|f| f.text.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    for (list, rule, what) in [
        (&brand.required_phrases, "brand_required_phrase", "phrase"),
        (&brand.disclaimers, "brand_disclaimer", "disclaimer"),
    ] {
        for phrase in BrandProfile::for_lang(list, lang) {
            if !all.contains(&phrase.to_lowercase()) {
                out.push(finding(
                    rule,
                    "description",
                    phrase,
                    format!("{}'s required {what} is missing", brand.name),
                    format!("Add \"{phrase}\" word for word."),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand() -> BrandProfile {
        BrandProfile {
            name: "Northwind".into(),
            voice: String::new(),
            tone: String::new(),
            preferred_words: vec![],
            forbidden_words: vec!["cheap".into(), "便宜".into()],
            required_phrases: vec!["Designed in Oslo".into(), "奥斯陆设计".into()],
            disclaimers: vec![],
            languages: vec!["en".into()],
            examples: vec![],
        }
    }

    #[test]
    fn forbidden_words_are_whole_words() {
        let f = check_field("title", "Cheap hoodie, not cheapest", &brand());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].span, Some((0, 5)));
        assert_eq!(check_field("title", "很便宜的卫衣", &brand()).len(), 1);
    }

    #[test]
    fn required_phrases_and_languages() {
        let b = brand();
        let fields = [FieldText {
            field: "description".into(),
            text: "Soft. Designed in Oslo.",
        }];
        assert!(check_whole(&fields, &b, Lang::En).is_empty());
        let fields = [FieldText {
            field: "description".into(),
            text: "Soft.",
        }];
        let f = check_whole(&fields, &b, Lang::En);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "brand_required_phrase");
        // Chinese copy: wrong language for this brand, and its own phrase.
        let rules: Vec<String> = check_whole(&fields, &b, Lang::ZhCn)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(rules, ["brand_language", "brand_required_phrase"]);
    }
}
