//! Where a text names the knowledge graph's values: English names as whole
//! words (case, hyphens and punctuation folded: "T-Shirt" is "t shirt"),
//! Chinese names as substrings. Offsets are bytes of the original text, so
//! findings can point at the words.
//!
//! Words inside a category's own name are not values of other attributes:
//! "Red Wine" and "白葡萄酒" name a kind of wine, "Orange Juice" a juice.

use crate::kg::{AttrValue, KnowledgeGraph};

/// One value named in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub value: AttrValue,
    /// Byte offsets in the text.
    pub start: usize,
    pub end: usize,
}

/// The text folded for English matching, byte for byte the same length:
/// letters and digits lowercased, everything else a space.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let lower: String = c.to_lowercase().collect();
        if c.is_alphanumeric() && lower.len() == c.len_utf8() {
            out.push_str(&lower);
        } else if c.is_alphanumeric() {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}

/// A name folded the same way, with single spaces, trimmed.
fn fold_name(name: &str) -> String {
    fold(name).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_cjk_name(name: &str) -> bool {
    !name.is_ascii()
}

/// Byte ranges where `names` occur in `text`: English names as whole words
/// of the folded text, Chinese names as substrings of the raw text.
fn occurrences(text: &str, folded: &str, name: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if is_cjk_name(name) {
        // One character is too common inside other words: 包 (bag) in 包邮
        // (free shipping), 表 (watch) in 表面 (surface).
        if name.chars().count() < 2 {
            return out;
        }
        for (at, m) in text.match_indices(name) {
            out.push((at, at + m.len()));
        }
        return out;
    }
    let n = fold_name(name);
    if n.len() < 2 {
        return out;
    }
    let bytes = folded.as_bytes();
    let mut from = 0;
    while let Some(at) = folded[from..].find(n.as_str()) {
        let s = from + at;
        let e = s + n.len();
        let before = s == 0 || bytes[s - 1] == b' ';
        let after = e == bytes.len() || bytes[e] == b' ';
        if before && after {
            out.push((s, e));
        }
        from = s + 1;
        while !folded.is_char_boundary(from) {
            from += 1;
        }
    }
    out
}

/// Byte ranges of every category name or synonym in `text`.
pub fn category_spans(kg: &KnowledgeGraph, text: &str) -> Vec<(usize, usize)> {
    let folded = fold(text);
    let mut out = Vec::new();
    for c in kg.categories() {
        for name in std::iter::once(&c.en)
            .chain(&c.synonyms_en)
            .chain(std::iter::once(&c.zh))
            .chain(&c.synonyms_zh)
        {
            if !name.is_empty() {
                out.extend(occurrences(text, &folded, name));
            }
        }
    }
    out
}

/// The values of `values` that `text` names, outside `masked` ranges, in
/// order; where names overlap the longest wins ("navy blue" is navy, not
/// also blue). A value named twice appears twice.
pub fn find(text: &str, values: &[AttrValue], masked: &[(usize, usize)]) -> Vec<Mention> {
    let folded = fold(text);
    let mut hits: Vec<(usize, usize, usize)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        for name in std::iter::once(&v.en)
            .chain(&v.synonyms_en)
            .chain(std::iter::once(&v.zh))
            .chain(&v.synonyms_zh)
        {
            if name.is_empty() {
                continue;
            }
            for (s, e) in occurrences(text, &folded, name) {
                if !masked.iter().any(|&(ms, me)| s < me && ms < e) {
                    hits.push((s, e, i));
                }
            }
        }
    }
    hits.sort_by_key(|&(s, e, _)| (std::cmp::Reverse(e - s), s));
    let mut taken: Vec<(usize, usize, usize)> = Vec::new();
    for h in hits {
        if !taken.iter().any(|t| h.0 < t.1 && t.0 < h.1) {
            taken.push(h);
        }
    }
    taken.sort_by_key(|&(s, _, _)| s);
    taken
        .into_iter()
        .map(|(start, end, i)| Mention {
            value: values[i].clone(),
            start,
            end,
        })
        .collect()
}

/// The values of `attribute` a text names, not counting words of category
/// names.
pub fn attribute_mentions(kg: &KnowledgeGraph, text: &str, attribute: &str) -> Vec<Mention> {
    let masked = category_spans(kg, text);
    find(text, &kg.values(attribute), &masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kg() -> KnowledgeGraph {
        KnowledgeGraph::builtin().expect("built-in graph")
    }

    fn keys(m: &[Mention]) -> Vec<&str> {
        m.iter().map(|m| m.value.key.as_str()).collect()
    }

    #[test]
    fn whole_words_longest_first_with_offsets() {
        let kg = kg();
        let text = "Navy Blue hoodie, not blueish; Off-White trim";
        let m = attribute_mentions(&kg, text, "colour");
        assert_eq!(keys(&m), ["navy", "cream"]);
        assert_eq!(&text[m[0].start..m[0].end], "Navy Blue");
        assert_eq!(&text[m[1].start..m[1].end], "Off-White");
    }

    #[test]
    fn chinese_substrings_and_category_words_masked() {
        let kg = kg();
        let text = "藏青色卫衣，搭配红酒";
        let m = attribute_mentions(&kg, text, "colour");
        assert_eq!(keys(&m), ["navy"]);
        assert_eq!(&text[m[0].start..m[0].end], "藏青色");
        assert!(attribute_mentions(&kg, "Red Wine, 白葡萄酒", "colour").is_empty());
    }
}
