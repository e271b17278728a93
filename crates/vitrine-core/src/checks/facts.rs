//! The copy against the product's facts: colours, materials and categories
//! it contradicts (through the knowledge graph's names and synonyms in both
//! languages), and numbers with units that no fact backs.

use std::sync::LazyLock;

use regex::Regex;

use super::{char_span, CheckKind, Context, Finding, Severity};
use crate::colours;
use crate::kg::{AttrValue, KnowledgeGraph, RelationKind};
use crate::mentions;
use crate::types::{Fact, FactSource};

/// The values the product has for `key`, by the most authoritative source
/// present: the user's, else the merchant's (title, import), else every
/// machine guess (a photo's several colours are all the product's).
fn known_values<'a>(facts: &'a [Fact], key: &str) -> Vec<&'a Fact> {
    let of_key: Vec<&Fact> = facts.iter().filter(|f| f.key == key).collect();
    for source in [FactSource::User, FactSource::Import] {
        let v: Vec<&Fact> = of_key
            .iter()
            .copied()
            .filter(|f| f.source == source)
            .collect();
        if !v.is_empty() {
            return v;
        }
    }
    of_key
}

fn finding(field: &str, text: &str, s: usize, e: usize, severity: Severity) -> Finding {
    Finding {
        check: CheckKind::Contradiction,
        rule: String::new(),
        severity,
        field: field.into(),
        span: Some(char_span(text, s, e)),
        excerpt: text[s..e].to_string(),
        explanation: String::new(),
        suggestion: None,
    }
}

/// In the title a contradiction misdescribes the product; elsewhere a
/// colour or material may describe something it goes with ("pairs with
/// black jeans"), so it is a warning for the reviewer.
fn severity_for(field: &str) -> Severity {
    if field == "title" {
        Severity::Blocking
    } else {
        Severity::Warning
    }
}

pub(super) fn contradictions(
    field: &str,
    text: &str,
    facts: &[Fact],
    kg: &KnowledgeGraph,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for attribute in ["colour", "material"] {
        let known = known_values(facts, attribute);
        if known.is_empty() {
            continue;
        }
        for m in mentions::attribute_mentions(kg, text, attribute) {
            let agrees = known.iter().any(|f| {
                f.value == m.value.key
                    || (attribute == "colour" && same_colour_family(&f.value, &m.value.key))
            });
            if agrees {
                continue;
            }
            let names: Vec<String> = known.iter().map(|f| f.label_en.clone()).collect();
            let mut f = finding(field, text, m.start, m.end, severity_for(field));
            f.rule = format!("{attribute}_contradiction");
            f.explanation = format!(
                "the copy says {attribute} `{}`, but the product's {attribute} is {}",
                m.value.en,
                names.join(", ")
            );
            f.suggestion = Some(format!(
                "Use {}, or remove `{}`.",
                names.join(" / "),
                &text[m.start..m.end]
            ));
            out.push(f);
        }
    }
    out.extend(category_contradictions(field, text, facts, kg));
    out
}

fn same_colour_family(a: &str, b: &str) -> bool {
    match (colours::by_key(a), colours::by_key(b)) {
        (Some(a), Some(b)) => a.family() == b.family(),
        _ => false,
    }
}

/// A category the title names that is not the product's, nor one of its
/// ancestors or descendants, nor something it goes with. Only the title:
/// elsewhere copy names other things all the time ("a wardrobe staple",
/// "pairs with jeans", "a gift for the home").
fn category_contradictions(
    field: &str,
    text: &str,
    facts: &[Fact],
    kg: &KnowledgeGraph,
) -> Vec<Finding> {
    let known = known_values(facts, "category");
    if field != "title" || known.is_empty() {
        return Vec::new();
    }
    let values: Vec<AttrValue> = kg.categories().map(|c| c.as_value()).collect();
    let related = |named: &str, product: &str| {
        let family = named.starts_with(&format!("{product}."))
            || product.starts_with(&format!("{named}."))
            || named == product;
        let paired = [RelationKind::GoesWith, RelationKind::BundleWith]
            .into_iter()
            .any(|k| kg.related(product, k).iter().any(|c| c.key == named));
        family || paired
    };
    // "Orange" in "Orange Hoodie" is a colour, not the fruit.
    let attribute_words: Vec<(usize, usize)> = ["colour", "material"]
        .into_iter()
        .flat_map(|a| mentions::find(text, &kg.values(a), &[]))
        .map(|m| (m.start, m.end))
        .collect();
    let mut out = Vec::new();
    for m in mentions::find(text, &values, &attribute_words) {
        if known.iter().any(|f| related(&m.value.key, &f.value)) {
            continue;
        }
        let mut f = finding(field, text, m.start, m.end, Severity::Blocking);
        f.rule = "category_contradiction".into();
        let names: Vec<String> = known.iter().map(|f| f.label_en.clone()).collect();
        f.explanation = format!(
            "the title calls it `{}` ({}), but the product is {}",
            &text[m.start..m.end],
            m.value.en,
            names.join(", ")
        );
        f.suggestion = Some(format!("Call it {}.", names.join(" / ")));
        out.push(f);
    }
    out
}

/// A number with a unit of measure, size, count, capacity or share.
static SPEC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\d+(?:[.,]\d+)*)\s*(%|(?:cm|mm|km|kg|mg|ml|oz|lbs?|inch(?:es)?|ft|mah|gb|tb|mb|ghz|hz|mp|pcs|pieces|pack|m|g|l|w|v|in)\b|厘米|毫米|千克|公斤|毫升|英寸|小时|分钟|米|克|升|寸|瓦|伏|件|片|只|包|码|岁|天|年|个)",
    )
    .unwrap_or_else(|e| panic!("the spec pattern is a constant: {e}"))
});

/// The numbers in `text`, normalised ("1,200" → "1200", "2.50" → "2.5").
fn numbers(text: &str) -> Vec<String> {
    static NUM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\d+(?:[.,]\d+)*")
            .unwrap_or_else(|e| panic!("the number pattern is a constant: {e}"))
    });
    NUM.find_iter(text).map(|m| normalise(m.as_str())).collect()
}

fn normalise(n: &str) -> String {
    // A comma before three digits groups thousands; otherwise it is a
    // decimal comma.
    let n = if n.contains(',') && n.rsplit(',').next().is_some_and(|t| t.len() == 3) {
        n.replace(',', "")
    } else {
        n.replace(',', ".")
    };
    if n.contains('.') {
        n.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        n
    }
}

pub(super) fn unsupported_specs(field: &str, text: &str, ctx: &Context) -> Vec<Finding> {
    let mut backed: Vec<String> = numbers(ctx.product_name);
    for f in ctx.facts {
        backed.extend(numbers(&f.value));
        backed.extend(numbers(&f.label_en));
        backed.extend(numbers(&f.label_zh));
    }
    let materials: Vec<&Fact> = known_values(ctx.facts, "material");
    let mut out = Vec::new();
    for c in SPEC.captures_iter(text) {
        let (Some(all), Some(num), Some(unit)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        let n = normalise(num.as_str());
        if backed.contains(&n) {
            continue;
        }
        // "100% cotton" states a composition the material fact backs.
        if unit.as_str() == "%" && n == "100" {
            let after = text[all.end()..].trim_start().to_lowercase();
            if materials.iter().any(|m| {
                after.starts_with(&m.label_en.to_lowercase())
                    || (!m.label_zh.is_empty() && after.starts_with(&m.label_zh))
            }) {
                continue;
            }
        }
        out.push(Finding {
            check: CheckKind::UnsupportedSpec,
            rule: "unsupported_spec".into(),
            severity: Severity::Blocking,
            field: field.into(),
            span: Some(char_span(text, all.start(), all.end())),
            excerpt: all.as_str().to_string(),
            explanation: format!(
                "`{}` is a specification no fact of the product states",
                all.as_str()
            ),
            suggestion: Some("Remove the number, or add the spec as a fact if it is true.".into()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{marketplace, Lang};

    fn fact(key: &str, value: &str, en: &str, source: FactSource) -> Fact {
        Fact {
            id: 1,
            product_id: 1,
            key: key.into(),
            value: value.into(),
            label_en: en.into(),
            label_zh: String::new(),
            source,
            confidence: 0.9,
            data: serde_json::json!({}),
        }
    }

    fn facts() -> Vec<Fact> {
        vec![
            fact("colour", "navy", "navy", FactSource::Colour),
            fact("colour", "white", "white", FactSource::Colour),
            fact("material", "cotton", "cotton", FactSource::Import),
            fact(
                "category",
                "apparel.tops.hoodies",
                "Hoodies",
                FactSource::Classifier,
            ),
        ]
    }

    #[test]
    fn colours_materials_and_categories_against_the_facts() {
        let kg = KnowledgeGraph::builtin().unwrap();
        let f = facts();
        // Navy and a navy-family "blue", white print, a cotton hoodie: fine.
        assert!(
            contradictions("title", "Navy Blue Cotton Hoodie with white print", &f, &kg).is_empty()
        );
        let found = contradictions("title", "Red Wool T-shirt", &f, &kg);
        let rules: Vec<&str> = found.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "colour_contradiction",
                "material_contradiction",
                "category_contradiction"
            ]
        );
        assert!(found.iter().all(|f| f.severity == Severity::Blocking));
        assert_eq!(found[0].excerpt, "Red");
        // Chinese synonyms count; outside the title it is a warning.
        let found = contradictions("description", "红色羊毛卫衣", &f, &kg);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        // A colour that is also a category's name is a colour.
        let mut orange = f.clone();
        orange[0].value = "orange".into();
        assert!(
            contradictions("title", "Orange Cotton Hoodie", &orange, &kg)
                .iter()
                .all(|f| f.rule != "category_contradiction")
        );
        // Outside the title other categories are things it goes with.
        assert!(contradictions("description", "A wardrobe staple.", &f, &kg).is_empty());
        // What a hoodie goes with is not a contradiction.
        assert!(contradictions("description", "Wear it with jeans.", &f, &kg).is_empty());
    }

    #[test]
    fn specs_need_a_fact() {
        let mp = marketplace("generic").unwrap();
        let mut f = facts();
        f.push(fact("text", "500ml", "500ml", FactSource::Ocr));
        let ctx = Context {
            marketplace: &mp,
            lang: Lang::En,
            facts: &f,
            product_name: "Hoodie 2-pack",
            kg: None,
            brand: None,
        };
        let found = unsupported_specs(
            "description",
            "Holds 500 ml, weighs 350g, 2 pack, 100% cotton, 80% polyester",
            &ctx,
        );
        let excerpts: Vec<&str> = found.iter().map(|f| f.excerpt.as_str()).collect();
        assert_eq!(excerpts, ["350g", "80%"]);
        let found = unsupported_specs("title", "卫衣 净含量1,000毫升", &ctx);
        assert_eq!(found[0].excerpt, "1,000毫升");
    }
}
