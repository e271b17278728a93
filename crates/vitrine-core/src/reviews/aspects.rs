//! Aspect-based pros and cons, notable problems and the rating
//! distribution: counted here so every number in a summary is exact.
//!
//! Counting is per review: a review that praises the fabric twice is one
//! positive mention of material. Within a review, an aspect's clauses are
//! summed; a net positive is a pro, a net negative a con, zero a neutral
//! mention.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::lexicon::Lexicon;
use super::text::{clauses, sentences};
use super::Review;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingStats {
    /// Counts of 1, 2, 3, 4 and 5 stars.
    pub counts: [usize; 5],
    pub unrated: usize,
    /// Mean of the rated reviews; `None` when none is rated.
    pub mean: Option<f64>,
}

impl RatingStats {
    pub fn of(reviews: &[Review]) -> Self {
        let mut s = Self::default();
        let mut sum = 0usize;
        for r in reviews {
            match r.rating {
                Some(n @ 1..=5) => {
                    s.counts[usize::from(n) - 1] += 1;
                    sum += usize::from(n);
                }
                _ => s.unrated += 1,
            }
        }
        let rated: usize = s.counts.iter().sum();
        if rated > 0 {
            // Two decimals: enough for people, stable in JSON and prompts.
            s.mean = Some((sum as f64 / rated as f64 * 100.0).round() / 100.0);
        }
        s
    }

    pub fn rated(&self) -> usize {
        self.counts.iter().sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AspectStats {
    pub id: String,
    pub en: String,
    pub zh: String,
    /// Reviews that mention the aspect at all.
    pub mentions: usize,
    pub positive: usize,
    pub negative: usize,
    /// `mentions / usable reviews`.
    pub share: f64,
    /// `positive / mentions` and `negative / mentions`.
    pub positive_share: f64,
    pub negative_share: f64,
}

/// A kind of problem (defects, sizing, delivery…) and who reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: String,
    pub reviews: usize,
    /// Up to five review ids, in file order.
    pub examples: Vec<usize>,
}

/// One opinionated clause: the evidence quotes are drawn from.
#[derive(Debug, Clone)]
pub struct Opinion {
    /// Index into the usable reviews.
    pub review: usize,
    pub aspect: usize,
    pub polarity: i32,
    /// Byte spans in the review's text.
    pub sentence: Range<usize>,
    pub clause: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub aspects: Vec<AspectStats>,
    pub problems: Vec<Problem>,
    pub opinions: Vec<Opinion>,
    pub usable: usize,
}

impl Tally {
    /// Aspect ids with positive mentions, most first (ties: more mentions,
    /// then vocabulary order), at most `n`.
    pub fn pros(&self, n: usize) -> Vec<String> {
        self.ranked(n, |a| a.positive, |a| a.negative)
    }

    pub fn cons(&self, n: usize) -> Vec<String> {
        self.ranked(n, |a| a.negative, |a| a.positive)
    }

    fn ranked(
        &self,
        n: usize,
        key: impl Fn(&AspectStats) -> usize,
        against: impl Fn(&AspectStats) -> usize,
    ) -> Vec<String> {
        let mut v: Vec<(usize, &AspectStats)> = self
            .aspects
            .iter()
            .enumerate()
            // A pro must be praised more than it is criticised, and the
            // other way round: a split aspect is neither.
            .filter(|(_, a)| key(a) > 0 && key(a) > against(a))
            .collect();
        v.sort_by(|(i, a), (j, b)| {
            key(b)
                .cmp(&key(a))
                .then(b.mentions.cmp(&a.mentions))
                .then(i.cmp(j))
        });
        v.into_iter().take(n).map(|(_, a)| a.id.clone()).collect()
    }

    pub fn aspect(&self, id: &str) -> Option<(usize, &AspectStats)> {
        self.aspects.iter().enumerate().find(|(_, a)| a.id == id)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        (a as f64 / b as f64 * 1000.0).round() / 1000.0
    }
}

/// Count aspects, polarity and problems over `reviews`.
pub fn tally(lex: &Lexicon, reviews: &[Review]) -> Tally {
    let n = lex.aspects.len();
    let (mut mentions, mut pos, mut neg) = (vec![0; n], vec![0; n], vec![0; n]);
    let mut problems: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut opinions = Vec::new();
    for (ri, r) in reviews.iter().enumerate() {
        let mut net: Vec<Option<i32>> = vec![None; n];
        let mut problem_kinds: Vec<&str> = Vec::new();
        for sentence in sentences(&r.text) {
            for clause in clauses(&r.text, sentence.clone()) {
                let c = &r.text[clause.clone()];
                let polarity = lex.polarity(c).signum();
                for a in lex.aspects_in(c) {
                    *net[a].get_or_insert(0) += polarity;
                    if polarity != 0 {
                        opinions.push(Opinion {
                            review: ri,
                            aspect: a,
                            polarity,
                            sentence: sentence.clone(),
                            clause: clause.clone(),
                        });
                    }
                    if polarity < 0 {
                        if let Some(kind) = &lex.aspects[a].problem {
                            problem_kinds.push(kind);
                        }
                    }
                }
                if polarity <= 0 {
                    for a in lex.problems_in(c) {
                        if let Some(kind) = &lex.aspects[a].problem {
                            problem_kinds.push(kind);
                        }
                    }
                }
            }
        }
        for a in 0..n {
            if let Some(v) = net[a] {
                mentions[a] += 1;
                if v > 0 {
                    pos[a] += 1;
                } else if v < 0 {
                    neg[a] += 1;
                }
            }
        }
        problem_kinds.sort_unstable();
        problem_kinds.dedup();
        for kind in problem_kinds {
            problems.entry(kind.to_string()).or_default().push(r.id);
        }
    }
    let total = reviews.len();
    let aspects = lex
        .aspects
        .iter()
        .enumerate()
        .map(|(i, a)| AspectStats {
            id: a.id.clone(),
            en: a.en.clone(),
            zh: a.zh.clone(),
            mentions: mentions[i],
            positive: pos[i],
            negative: neg[i],
            share: ratio(mentions[i], total),
            positive_share: ratio(pos[i], mentions[i]),
            negative_share: ratio(neg[i], mentions[i]),
        })
        .collect();
    let mut problems: Vec<Problem> = problems
        .into_iter()
        .map(|(kind, ids)| Problem {
            kind,
            reviews: ids.len(),
            examples: ids.into_iter().take(5).collect(),
        })
        .collect();
    problems.sort_by(|a, b| b.reviews.cmp(&a.reviews).then(a.kind.cmp(&b.kind)));
    Tally {
        aspects,
        problems,
        opinions,
        usable: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reviews::Position;

    fn reviews(texts: &[(&str, Option<u8>)]) -> Vec<Review> {
        texts
            .iter()
            .enumerate()
            .map(|(i, (t, rating))| Review {
                id: i + 1,
                position: Position {
                    record: i + 1,
                    line: None,
                },
                product: None,
                rating: *rating,
                text: t.to_string(),
                date: None,
            })
            .collect()
    }

    #[test]
    fn pros_cons_and_problems_are_counted_per_review() {
        let lex = Lexicon::builtin().unwrap();
        let rs = reviews(&[
            ("The fabric is so soft. Really soft fabric!", Some(5)),
            ("Soft material but it runs small, size up.", Some(4)),
            ("面料很柔软，但是尺码偏小。", Some(3)),
            (
                "The material is not soft at all and the zipper broke.",
                Some(1),
            ),
            ("没有异味，物流很快。", Some(5)),
            ("Delivery was late.", None),
        ]);
        let t = tally(lex, &rs);
        let (_, material) = t.aspect("material").unwrap();
        assert_eq!(material.mentions, 4);
        assert_eq!(material.positive, 3, "{material:?}");
        assert_eq!(material.negative, 1);
        assert_eq!(material.positive_share, 0.75);
        let (_, size) = t.aspect("size_fit").unwrap();
        assert_eq!((size.mentions, size.negative), (2, 2), "{size:?}");
        let (_, smell) = t.aspect("smell").unwrap();
        assert_eq!((smell.positive, smell.negative), (1, 0));
        assert_eq!(t.pros(1), ["material"]);
        assert_eq!(t.cons(1), ["size_fit"]);
        let kinds: Vec<(&str, usize)> = t
            .problems
            .iter()
            .map(|p| (p.kind.as_str(), p.reviews))
            .collect();
        assert!(kinds.contains(&("sizing", 2)), "{kinds:?}");
        assert!(kinds.contains(&("defects", 1)), "{kinds:?}");
        assert!(kinds.contains(&("delivery", 1)), "{kinds:?}");
        assert!(!kinds.iter().any(|(k, _)| *k == "smell"), "{kinds:?}");
        let sizing = t.problems.iter().find(|p| p.kind == "sizing").unwrap();
        assert_eq!(sizing.examples, [2, 3]);
    }

    #[test]
    fn ratings_distribution_and_mean() {
        let s = RatingStats::of(&reviews(&[
            ("a", Some(5)),
            ("b", Some(4)),
            ("c", Some(4)),
            ("d", None),
            ("e", Some(1)),
        ]));
        assert_eq!(s.counts, [1, 0, 0, 2, 1]);
        assert_eq!(s.unrated, 1);
        assert_eq!(s.mean, Some(3.5));
        assert_eq!(RatingStats::of(&[]).mean, None);
    }
}
