//! The review vocabulary (`assets/reviews/aspects.toml`): aspects with cue
//! words, sentiment words and negators, in English and Chinese, and the
//! matching rules that find them in a clause.

use std::ops::Range;
use std::sync::OnceLock;

use serde::Deserialize;

use super::text::words;
use super::ReviewError;

const ASPECTS_TOML: &str = include_str!("../../../../assets/reviews/aspects.toml");

#[derive(Debug, Deserialize)]
struct File {
    sentiment: SentimentFile,
    aspect: Vec<AspectDef>,
}

#[derive(Debug, Deserialize)]
struct SentimentFile {
    positive_en: Vec<String>,
    negative_en: Vec<String>,
    positive_zh: Vec<String>,
    negative_zh: Vec<String>,
    negation_en: Vec<String>,
    negation_zh: Vec<String>,
}

/// One aspect reviews talk about.
#[derive(Debug, Clone, Deserialize)]
pub struct AspectDef {
    pub id: String,
    /// Display names.
    pub en: String,
    pub zh: String,
    /// The notable-problem kind a negative mention counts towards.
    #[serde(default)]
    pub problem: Option<String>,
    #[serde(default)]
    pub cues_en: Vec<String>,
    #[serde(default)]
    pub cues_zh: Vec<String>,
    #[serde(default)]
    pub problem_en: Vec<String>,
    #[serde(default)]
    pub problem_zh: Vec<String>,
}

/// A term in both matching styles: English word runs, Chinese substrings.
#[derive(Debug, Clone)]
struct Terms {
    /// Each phrase as its lower-cased words, longest phrases first.
    en: Vec<Vec<String>>,
    /// Longest first, so 不好 is found before 好.
    zh: Vec<String>,
}

impl Terms {
    fn new(en: &[String], zh: &[String]) -> Self {
        let mut en: Vec<Vec<String>> = en
            .iter()
            .map(|p| words(p).into_iter().map(|(w, _)| w).collect::<Vec<_>>())
            .filter(|w| !w.is_empty())
            .collect();
        en.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut zh: Vec<String> = zh.iter().filter(|s| !s.is_empty()).cloned().collect();
        zh.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        Self { en, zh }
    }

    /// Non-overlapping matches in `clause` as byte spans, longest terms
    /// first. `taken` holds spans already claimed by other terms of the
    /// same matching pass.
    fn find(&self, clause: &str, taken: &mut Vec<Range<usize>>) -> Vec<Range<usize>> {
        let ws = words(clause);
        let mut found = Vec::new();
        for phrase in &self.en {
            let n = phrase.len();
            if n > ws.len() {
                continue;
            }
            for start in 0..=ws.len() - n {
                if ws[start..start + n]
                    .iter()
                    .zip(phrase)
                    .all(|((w, _), p)| w == p)
                {
                    let span = ws[start].1.start..ws[start + n - 1].1.end;
                    if !overlaps(taken, &span) {
                        taken.push(span.clone());
                        found.push(span);
                    }
                }
            }
        }
        for term in &self.zh {
            for (i, _) in clause.match_indices(term.as_str()) {
                let span = i..i + term.len();
                if !overlaps(taken, &span) {
                    taken.push(span.clone());
                    found.push(span);
                }
            }
        }
        found
    }
}

fn overlaps(taken: &[Range<usize>], span: &Range<usize>) -> bool {
    taken
        .iter()
        .any(|t| t.start < span.end && span.start < t.end)
}

pub struct Lexicon {
    pub aspects: Vec<AspectDef>,
    cues: Vec<Terms>,
    problem_cues: Vec<Terms>,
    positive: Terms,
    negative: Terms,
    negation_en: Vec<String>,
    negation_zh: Vec<String>,
}

impl Lexicon {
    /// The built-in vocabulary, parsed once.
    pub fn builtin() -> Result<&'static Lexicon, ReviewError> {
        static LEX: OnceLock<Result<Lexicon, String>> = OnceLock::new();
        LEX.get_or_init(|| Lexicon::parse(ASPECTS_TOML))
            .as_ref()
            .map_err(|reason| ReviewError::Lexicon {
                file: "assets/reviews/aspects.toml",
                reason: reason.clone(),
            })
    }

    fn parse(text: &str) -> Result<Lexicon, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.aspect.is_empty() {
            return Err("no aspects".into());
        }
        let s = &file.sentiment;
        Ok(Lexicon {
            cues: file
                .aspect
                .iter()
                .map(|a| Terms::new(&a.cues_en, &a.cues_zh))
                .collect(),
            problem_cues: file
                .aspect
                .iter()
                .map(|a| Terms::new(&a.problem_en, &a.problem_zh))
                .collect(),
            positive: Terms::new(&s.positive_en, &s.positive_zh),
            negative: Terms::new(&s.negative_en, &s.negative_zh),
            negation_en: s.negation_en.iter().map(|w| w.to_lowercase()).collect(),
            negation_zh: s.negation_zh.clone(),
            aspects: file.aspect,
        })
    }

    /// Indexes of the aspects `clause` mentions.
    pub fn aspects_in(&self, clause: &str) -> Vec<usize> {
        (0..self.aspects.len())
            .filter(|&i| !self.cues[i].find(clause, &mut Vec::new()).is_empty())
            .collect()
    }

    /// Indexes of aspects whose problem cues occur in `clause`, not negated
    /// ("no smell at all" is not a smell problem).
    pub fn problems_in(&self, clause: &str) -> Vec<usize> {
        (0..self.aspects.len())
            .filter(|&i| {
                self.problem_cues[i]
                    .find(clause, &mut Vec::new())
                    .iter()
                    .any(|span| !self.negated(clause, span))
            })
            .collect()
    }

    /// Net sentiment of a clause: +1 per positive word, -1 per negative
    /// one, each flipped when negated. Sentiment terms compete for spans
    /// longest first, so 不舒服 (negative) hides 舒服 (positive).
    pub fn polarity(&self, clause: &str) -> i32 {
        let mut taken = Vec::new();
        // Longest-first across both lists: collect, then sort by length.
        let mut hits: Vec<(Range<usize>, i32)> = Vec::new();
        let mut pos_taken = Vec::new();
        let mut neg_taken = Vec::new();
        hits.extend(
            self.negative
                .find(clause, &mut neg_taken)
                .into_iter()
                .map(|s| (s, -1)),
        );
        hits.extend(
            self.positive
                .find(clause, &mut pos_taken)
                .into_iter()
                .map(|s| (s, 1)),
        );
        hits.sort_by_key(|(s, _)| (std::cmp::Reverse(s.len()), s.start));
        let mut score = 0;
        for (span, sign) in hits {
            if overlaps(&taken, &span) {
                continue;
            }
            taken.push(span.clone());
            score += if self.negated(clause, &span) {
                -sign
            } else {
                sign
            };
        }
        score
    }

    /// A negator up to three words before an English term, or within the
    /// two characters before a Chinese one (不太好, 没有异味).
    fn negated(&self, clause: &str, span: &Range<usize>) -> bool {
        let before = &clause[..span.start];
        let term = &clause[span.clone()];
        if term.chars().next().is_some_and(super::text::is_cjk) {
            let tail: String = {
                let chars: Vec<char> = before.chars().collect();
                chars[chars.len().saturating_sub(3)..].iter().collect()
            };
            // A negator that ends right before the term, or one character
            // earlier (不太好, 没那么舒服 is beyond this, on purpose).
            return self.negation_zh.iter().any(|n| {
                tail.ends_with(n.as_str())
                    || tail
                        .char_indices()
                        .last()
                        .is_some_and(|(i, _)| tail[..i].ends_with(n.as_str()))
            });
        }
        let ws = words(before);
        ws.iter()
            .rev()
            .take(3)
            .any(|(w, _)| self.negation_en.iter().any(|n| n == w) || w.ends_with("n't"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> &'static Lexicon {
        Lexicon::builtin().unwrap()
    }

    fn aspect_ids(clause: &str) -> Vec<&'static str> {
        lex()
            .aspects_in(clause)
            .into_iter()
            .map(|i| lex().aspects[i].id.as_str())
            .collect()
    }

    #[test]
    fn the_vocabulary_has_a_dozen_aspects_in_both_languages() {
        let l = lex();
        assert!(l.aspects.len() >= 12, "{}", l.aspects.len());
        for a in &l.aspects {
            assert!(!a.cues_en.is_empty() && !a.cues_zh.is_empty(), "{}", a.id);
        }
    }

    #[test]
    fn english_polarity_with_negation() {
        assert_eq!(lex().polarity("the fabric is soft"), 1);
        assert_eq!(lex().polarity("the fabric is not soft"), -1);
        assert_eq!(lex().polarity("it isn't very comfortable"), -1);
        assert_eq!(lex().polarity("never disappointed"), 1);
        assert_eq!(lex().polarity("not bad at all"), 1);
        assert_eq!(lex().polarity("the zipper broke"), -1);
        assert_eq!(lex().polarity("a hoodie"), 0);
    }

    #[test]
    fn chinese_polarity_with_negation() {
        assert_eq!(lex().polarity("面料很柔软"), 1);
        assert_eq!(lex().polarity("穿着不舒服"), -1);
        assert_eq!(lex().polarity("质量不好"), -1);
        assert_eq!(lex().polarity("不太好"), -1);
        assert_eq!(lex().polarity("没有异味"), 1);
        assert_eq!(lex().polarity("有异味"), -1);
        assert_eq!(lex().polarity("别买"), 0);
    }

    #[test]
    fn aspects_and_problems_are_found() {
        assert_eq!(aspect_ids("the zipper broke"), ["quality"]);
        assert_eq!(aspect_ids("尺码偏小"), ["size_fit"]);
        assert!(aspect_ids("delivery was late").contains(&"delivery"));
        let problems = |c: &str| -> Vec<&str> {
            lex()
                .problems_in(c)
                .into_iter()
                .map(|i| lex().aspects[i].id.as_str())
                .collect()
        };
        assert_eq!(problems("runs small, size up"), ["size_fit"]);
        assert_eq!(problems("有一股异味"), ["smell"]);
        assert!(problems("没有异味").is_empty());
        assert!(problems("no smell at all").is_empty());
        assert_eq!(problems("there is a hole in the sleeve"), ["quality"]);
    }
}
