//! De-duplication and language detection.
//!
//! Language is decided by script share, not by a statistical detector:
//! reviews are often two or three words ("Love it", "很好"), where n-gram
//! detectors such as `whatlang` guess, and all the pipeline needs is which
//! vocabulary to match (Chinese, English, or neither). Han characters are
//! unambiguous; Latin-script text counts as English when it has an English
//! function word or is too short to tell.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text::{dedup_key, is_cjk, words};
use super::Review;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewLang {
    Zh,
    En,
    Other,
}

/// Common English words that rarely occur in other Latin-script languages'
/// reviews; one is enough to call a review English.
const EN_HINTS: &[&str] = &[
    "the", "and", "it", "is", "was", "i", "my", "this", "to", "of", "for", "with", "but", "not",
    "very", "too", "so", "love", "great", "good", "nice", "fits", "size", "would", "buy", "a",
    "in", "on", "after", "really", "just",
];

pub fn detect(text: &str) -> ReviewLang {
    let (mut han, mut latin, mut other) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if is_cjk(c) {
            han += 1;
        } else if c.is_ascii_alphabetic() || ('\u{C0}'..='\u{24F}').contains(&c) {
            latin += 1;
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    // A Han character stands for a word, a Latin letter for a fifth of one:
    // "XL码偏小" is Chinese, "Nice, 很好" mixed but Chinese-led.
    let latin_words = latin.div_ceil(5);
    if han > 0 && han >= latin_words && han >= other {
        return ReviewLang::Zh;
    }
    if latin == 0 || other > latin {
        return ReviewLang::Other;
    }
    let ws = words(text);
    if ws.len() <= 3 || ws.iter().any(|(w, _)| EN_HINTS.contains(&w.as_str())) {
        ReviewLang::En
    } else {
        ReviewLang::Other
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LanguageCounts {
    pub zh: usize,
    pub en: usize,
    pub other: usize,
}

impl LanguageCounts {
    pub fn of(reviews: &[Review]) -> Self {
        let mut c = Self::default();
        for r in reviews {
            match detect(&r.text) {
                ReviewLang::Zh => c.zh += 1,
                ReviewLang::En => c.en += 1,
                ReviewLang::Other => c.other += 1,
            }
        }
        c
    }
}

/// Keep the first of each group of reviews with the same product and the
/// same normalised text; return the kept reviews and `(dropped id, kept id)`.
pub fn dedup(reviews: Vec<Review>) -> (Vec<Review>, Vec<(usize, usize)>) {
    let mut first: HashMap<(String, String), usize> = HashMap::new();
    let mut kept = Vec::with_capacity(reviews.len());
    let mut dropped = Vec::new();
    for r in reviews {
        let product = r
            .product
            .as_deref()
            .map(|p| p.trim().to_lowercase())
            .unwrap_or_default();
        let key = (product, dedup_key(&r.text));
        match first.get(&key) {
            Some(&id) => dropped.push((r.id, id)),
            None => {
                first.insert(key, r.id);
                kept.push(r);
            }
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reviews::Position;

    fn review(id: usize, product: Option<&str>, text: &str) -> Review {
        Review {
            id,
            position: Position {
                record: id,
                line: None,
            },
            product: product.map(str::to_string),
            rating: None,
            text: text.to_string(),
            date: None,
        }
    }

    #[test]
    fn duplicates_fold_case_space_punctuation_and_width() {
        let (kept, dropped) = dedup(vec![
            review(1, Some("H1"), "Great hoodie!"),
            review(2, Some("h1 "), "great   HOODIE"),
            review(3, Some("H2"), "Great hoodie!"),
            review(4, Some("H1"), "质量很好！"),
            review(5, Some("H1"), "质量很好!"),
            review(6, Some("H1"), "Great hoodie, too small"),
        ]);
        assert_eq!(kept.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 3, 4, 6]);
        assert_eq!(dropped, [(2, 1), (5, 4)]);
    }

    #[test]
    fn language_by_script_share() {
        assert_eq!(detect("很舒服，质量好"), ReviewLang::Zh);
        assert_eq!(detect("XL码偏小"), ReviewLang::Zh);
        assert_eq!(detect("Love it"), ReviewLang::En);
        assert_eq!(
            detect("The fabric is soft but it runs small"),
            ReviewLang::En
        );
        assert_eq!(detect("Nice hoodie 很好很舒服"), ReviewLang::Zh);
        assert_eq!(
            detect("La qualité est vraiment excellente, je recommande"),
            ReviewLang::Other
        );
        assert_eq!(detect("Отличная толстовка"), ReviewLang::Other);
        assert_eq!(detect("!!! 123"), ReviewLang::Other);
    }
}
