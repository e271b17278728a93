//! Verbatim quotes for the top pros and cons, picked in Rust and checked
//! against their source review before they are shown.

use serde::{Deserialize, Serialize};

use super::aspects::{Opinion, Tally};
use super::text::fold_whitespace;
use super::{Position, Review};

/// Quotes per pro or con aspect.
const PER_ASPECT: usize = 1;
/// Pros and cons that get quotes.
const ASPECTS: usize = 3;
/// Longer sentences are quoted by their clause alone.
const MAX_CHARS: usize = 160;
const MIN_CHARS: usize = 6;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub aspect: String,
    /// `pro` or `con`.
    pub polarity: String,
    /// An exact substring of the review's whitespace-folded text.
    pub text: String,
    pub review_id: usize,
    pub position: Position,
}

/// Pick quotes for the top pros and cons of `tally` (computed over
/// `reviews`), verify each, and return them with the number dropped.
pub fn pick(tally: &Tally, reviews: &[Review]) -> (Vec<Quote>, usize) {
    let mut quotes = Vec::new();
    for (ids, sign, label) in [
        (tally.pros(ASPECTS), 1, "pro"),
        (tally.cons(ASPECTS), -1, "con"),
    ] {
        for id in ids {
            let Some((index, _)) = tally.aspect(&id) else {
                continue;
            };
            let mut candidates: Vec<(i64, &Opinion)> = tally
                .opinions
                .iter()
                .filter(|o| o.aspect == index && o.polarity == sign)
                .map(|o| (score(o, &reviews[o.review], sign), o))
                .collect();
            // Best score first; ties go to the earlier review, so the
            // choice is stable for a given file.
            candidates.sort_by(|(a, oa), (b, ob)| b.cmp(a).then(oa.review.cmp(&ob.review)));
            let mut used = std::collections::HashSet::new();
            for (_, o) in candidates {
                if used.len() >= PER_ASPECT {
                    break;
                }
                let r = &reviews[o.review];
                // One quote per review across the summary: variety.
                if quotes.iter().any(|q: &Quote| q.review_id == r.id) {
                    continue;
                }
                let text = quote_text(r, o);
                if text.chars().count() < MIN_CHARS {
                    continue;
                }
                used.insert(r.id);
                quotes.push(Quote {
                    aspect: id.clone(),
                    polarity: label.to_string(),
                    text,
                    review_id: r.id,
                    position: r.position,
                });
            }
        }
    }
    verify(quotes, reviews)
}

/// The sentence when it is short enough, else the clause.
fn quote_text(r: &Review, o: &Opinion) -> String {
    let sentence = &r.text[o.sentence.clone()];
    if sentence.chars().count() <= MAX_CHARS {
        sentence.to_string()
    } else {
        let clause = &r.text[o.clause.clone()];
        clause.chars().take(MAX_CHARS).collect()
    }
}

/// Higher is better: a sentence of readable length from a review whose
/// rating agrees with the opinion.
fn score(o: &Opinion, r: &Review, sign: i32) -> i64 {
    let len = r.text[o.sentence.clone()].chars().count() as i64;
    let length_score = match len {
        25..=120 => 30,
        12..=24 | 121..=160 => 15,
        _ => 0,
    };
    let rating_score = match (r.rating, sign) {
        (Some(4..=5), 1) | (Some(1..=2), -1) => 20,
        (None, _) | (Some(3), _) => 5,
        _ => 0,
    };
    length_score + rating_score
}

/// Keep only quotes that are exact substrings of their review's folded
/// text; return the kept ones and how many were dropped. Run just before
/// output, whatever produced the quotes.
pub fn verify(quotes: Vec<Quote>, reviews: &[Review]) -> (Vec<Quote>, usize) {
    let before = quotes.len();
    let kept: Vec<Quote> = quotes
        .into_iter()
        .filter(|q| {
            let ok = !q.text.is_empty()
                && reviews
                    .iter()
                    .find(|r| r.id == q.review_id && r.position == q.position)
                    .is_some_and(|r| fold_whitespace(&r.text).contains(&q.text));
            if !ok {
                tracing::warn!(
                    review = q.review_id,
                    "quote dropped: not found in its review"
                );
            }
            ok
        })
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reviews::{aspects, lexicon::Lexicon};

    fn review(id: usize, rating: Option<u8>, text: &str) -> Review {
        Review {
            id,
            position: Position {
                record: id,
                line: Some(id as u64 + 1),
            },
            product: None,
            rating,
            text: text.to_string(),
            date: None,
        }
    }

    #[test]
    fn quotes_are_substrings_with_positions() {
        let rs = vec![
            review(
                1,
                Some(5),
                "Lovely hoodie. The fabric is wonderfully soft and warm!",
            ),
            review(2, Some(2), "It runs small, I had to return it. 袖子太短。"),
            review(3, Some(4), "Soft material, great price."),
            review(4, Some(1), "尺码偏小，面料不错。"),
        ];
        let lex = Lexicon::builtin().unwrap();
        let t = aspects::tally(lex, &rs);
        let (quotes, dropped) = pick(&t, &rs);
        assert_eq!(dropped, 0);
        assert!(!quotes.is_empty());
        for q in &quotes {
            let r = rs.iter().find(|r| r.id == q.review_id).unwrap();
            assert!(r.text.contains(&q.text), "{q:?}");
            assert_eq!(q.position, r.position);
        }
        let material = quotes.iter().find(|q| q.aspect == "material").unwrap();
        assert_eq!(material.polarity, "pro");
        assert_eq!(material.text, "The fabric is wonderfully soft and warm!");
        assert!(quotes
            .iter()
            .any(|q| q.aspect == "size_fit" && q.polarity == "con"));
    }

    #[test]
    fn verification_drops_altered_or_misplaced_quotes() {
        let rs = vec![review(1, None, "Soft fabric, fits well.")];
        let good = Quote {
            aspect: "material".into(),
            polarity: "pro".into(),
            text: "Soft fabric".into(),
            review_id: 1,
            position: rs[0].position,
        };
        let altered = Quote {
            text: "Very soft fabric".into(),
            ..good.clone()
        };
        let wrong_review = Quote {
            review_id: 2,
            ..good.clone()
        };
        let wrong_position = Quote {
            position: Position {
                record: 9,
                line: None,
            },
            ..good.clone()
        };
        let (kept, dropped) = verify(
            vec![good.clone(), altered, wrong_review, wrong_position],
            &rs,
        );
        assert_eq!(kept, [good]);
        assert_eq!(dropped, 3);
    }
}
