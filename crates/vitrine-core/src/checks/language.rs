//! Copy in the language that was asked for. Scripts tell English from
//! Chinese reliably, and that is the whole question here: Latin brand names
//! and sizes ("S–XXL") inside Chinese copy are normal, so Chinese copy is
//! judged by its share of Han characters among letters, English copy by the
//! absence of Han and kana.

use super::{excerpt, CheckKind, Finding, Severity};
use crate::listing::Lang;

/// Chinese copy below this share of Han characters (among letters) reads
/// as English with a few Chinese words.
const MIN_HAN_SHARE: f32 = 0.5;
/// Fields shorter than this many letters (keywords, "S–XXL") say too
/// little to judge.
const MIN_LETTERS: usize = 6;

pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

fn is_kana_or_hangul(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// (Han chars, other letters) in `text`.
pub(crate) fn script_counts(text: &str) -> (usize, usize) {
    let mut han = 0;
    let mut other = 0;
    for c in text.chars() {
        if is_han(c) {
            han += 1;
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    (han, other)
}

pub(super) fn check(field: &str, text: &str, lang: Lang) -> Vec<Finding> {
    let (han, other) = script_counts(text);
    // A Latin letter is about a third of a Han character's information.
    let letters = han * 3 + other;
    if letters < MIN_LETTERS {
        return Vec::new();
    }
    let wrong = match lang {
        Lang::En => han > 0 || text.chars().any(is_kana_or_hangul),
        Lang::ZhCn => (han * 3) as f32 / (letters as f32) < MIN_HAN_SHARE,
    };
    if !wrong {
        return Vec::new();
    }
    let (asked, found) = match lang {
        Lang::En => ("English", "Chinese or other non-Latin text"),
        Lang::ZhCn => ("Simplified Chinese", "mostly non-Chinese text"),
    };
    // Keywords may legitimately mix (Chinese shoppers search English
    // brand names); prose may not.
    let severity = if field.starts_with("keywords") {
        Severity::Warning
    } else {
        Severity::Blocking
    };
    vec![Finding {
        check: CheckKind::Language,
        rule: "language".into(),
        severity,
        field: field.into(),
        span: None,
        excerpt: excerpt(text, 60),
        explanation: format!("the copy should be in {asked}; {field} has {found}"),
        suggestion: Some(format!("Rewrite {field} in {asked}.")),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_copy_with_chinese_is_flagged() {
        assert!(check("title", "Navy hoodie", Lang::En).is_empty());
        assert_eq!(check("title", "Navy hoodie 卫衣", Lang::En).len(), 1);
    }

    #[test]
    fn chinese_copy_may_carry_latin_names_and_sizes() {
        assert!(check("title", "Vitrine 藏青色纯棉连帽卫衣 S-XXL", Lang::ZhCn).is_empty());
        let f = check(
            "description",
            "A soft navy hoodie in cotton, 卫衣",
            Lang::ZhCn,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Blocking);
        // Too short to judge.
        assert!(check("keywords[1]", "XL", Lang::ZhCn).is_empty());
    }
}
