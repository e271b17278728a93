//! Algorithm transparency: which facts each sentence of a draft uses, so a
//! reviewer can trace "Soft navy cotton hoodie" back to the colour the photo
//! showed and the material the title stated.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checks::FieldText;
use crate::kg::{AttrValue, KnowledgeGraph};
use crate::mentions;
use crate::types::Fact;

/// One sentence of the copy and the facts it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceTrace {
    pub field: String,
    pub sentence: String,
    /// Ids of the facts whose values the sentence names; empty for a
    /// sentence that names none (style, not substance).
    pub fact_ids: Vec<i64>,
}

/// Sentences of a field: split after . ! ? and their Chinese forms, and at
/// semicolons and line breaks.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '；' | ';' | '\n') {
            let end = i + c.len_utf8();
            // "2.5" is not a sentence end.
            let next_is_digit = text[end..]
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_digit());
            if c == '.' && next_is_digit {
                continue;
            }
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The value a fact states, with its names, for matching: the knowledge
/// graph's entry when the key is an attribute or the category, else the
/// fact's own labels.
fn fact_names(fact: &Fact, kg: Option<&KnowledgeGraph>) -> AttrValue {
    let from_kg = kg.and_then(|kg| {
        if fact.key == "category" {
            kg.category(&fact.value).map(|c| c.as_value())
        } else {
            kg.values(&fact.key)
                .into_iter()
                .find(|v| v.key == fact.value)
        }
    });
    from_kg.unwrap_or_else(|| AttrValue {
        key: fact.value.clone(),
        en: fact.label_en.clone(),
        zh: fact.label_zh.clone(),
        synonyms_en: Vec::new(),
        synonyms_zh: Vec::new(),
    })
}

/// Trace every sentence of `fields` to the facts it names.
pub fn trace(
    fields: &[FieldText],
    facts: &[Fact],
    kg: Option<&KnowledgeGraph>,
) -> Vec<SentenceTrace> {
    let names: Vec<AttrValue> = facts.iter().map(|f| fact_names(f, kg)).collect();
    let mut out = Vec::new();
    for field in fields {
        for sentence in sentences(field.text) {
            let mut ids: Vec<i64> = Vec::new();
            for (fact, value) in facts.iter().zip(&names) {
                let named = !mentions::find(sentence, std::slice::from_ref(value), &[]).is_empty();
                if named && !ids.contains(&fact.id) {
                    ids.push(fact.id);
                }
            }
            out.push(SentenceTrace {
                field: field.field.clone(),
                sentence: sentence.to_string(),
                fact_ids: ids,
            });
        }
    }
    out
}

/// sha256 of the built-in rule files, recorded with each draft.
pub fn rules_sha256() -> String {
    let mut h = Sha256::new();
    h.update(include_str!("../../../assets/compliance/wording.toml"));
    h.update(include_str!("../../../assets/marketplaces.toml"));
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FactSource;

    fn fact(id: i64, key: &str, value: &str, en: &str) -> Fact {
        Fact {
            id,
            product_id: 1,
            key: key.into(),
            value: value.into(),
            label_en: en.into(),
            label_zh: String::new(),
            source: FactSource::Colour,
            confidence: 0.8,
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn sentences_trace_to_the_facts_they_name() {
        let kg = KnowledgeGraph::builtin().unwrap();
        let facts = [
            fact(1, "colour", "navy", "navy"),
            fact(2, "material", "cotton", "cotton"),
            fact(3, "category", "apparel.tops.hoodies", "Hoodies"),
            fact(4, "text", "Northwind", "Northwind"),
        ];
        let fields = [FieldText {
            field: "description".into(),
            text: "A navy blue hoodie in soft cotton. By Northwind! 藏青色卫衣。Feels great.",
        }];
        let t = trace(&fields, &facts, Some(&kg));
        let ids: Vec<Vec<i64>> = t.iter().map(|s| s.fact_ids.clone()).collect();
        assert_eq!(ids, [vec![1, 2, 3], vec![4], vec![1, 3], vec![]]);
        assert_eq!(t[2].sentence, "藏青色卫衣。");
    }

    #[test]
    fn decimals_do_not_end_sentences() {
        assert_eq!(sentences("Holds 2.5 l. Light"), ["Holds 2.5 l.", "Light"]);
    }
}
