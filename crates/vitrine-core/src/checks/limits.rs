//! The marketplace's limits: lengths, counts, bytes, forbidden characters,
//! repeated words, emoji and guarantee claims in bullets.

use super::{char_span, excerpt, CheckKind, Finding, Severity};
use crate::listing::{display_width, Marketplace};
use crate::types::Listing;

fn finding(rule: &str, field: &str, text: &str, explanation: String) -> Finding {
    Finding {
        check: CheckKind::Limits,
        rule: rule.into(),
        severity: Severity::Blocking,
        field: field.into(),
        span: None,
        excerpt: excerpt(text, 60),
        explanation,
        suggestion: None,
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn too_long(field: &str, text: &str, max: usize, rule: &str, mp: &Marketplace) -> Option<Finding> {
    let n = chars(text);
    (n > max).then(|| {
        let mut f = finding(
            rule,
            field,
            text,
            format!("{field} has {n} characters; {} allows {max}", mp.name),
        );
        f.suggestion = Some(format!(
            "Shorten it to at most {max} characters, ending on a whole word."
        ));
        f
    })
}

pub(super) fn check(listing: &Listing, mp: &Marketplace) -> Vec<Finding> {
    let mut out = Vec::new();
    let title = listing.title.as_str();
    if title.trim().is_empty() {
        out.push(finding(
            "title_present",
            "title",
            title,
            "the title is empty".into(),
        ));
    }
    out.extend(too_long(
        "title",
        title,
        mp.title_max_chars,
        "title_max_chars",
        mp,
    ));
    if let Some(w) = mp.title_max_width {
        let width = display_width(title);
        if width > w {
            let mut f = finding(
                "title_max_width",
                "title",
                title,
                format!(
                    "the title is {width} bytes wide (a Chinese character counts 2); {} allows {w}",
                    mp.name
                ),
            );
            f.suggestion = Some(format!("Shorten it to about {} Chinese characters.", w / 2));
            out.push(f);
        }
    }
    for (i, c) in title.char_indices() {
        if mp.title_forbidden_chars.contains(c) {
            let mut f = finding(
                "title_forbidden_chars",
                "title",
                &c.to_string(),
                format!("{} does not allow `{c}` in titles", mp.name),
            );
            f.span = Some(char_span(title, i, i + c.len_utf8()));
            f.suggestion = Some(format!("Remove `{c}`."));
            out.push(f);
        }
    }
    if let Some(max) = mp.max_word_repeats {
        out.extend(repeated_words(title, max, &mp.repeat_exempt, mp));
    }
    // Amazon bars "100% quality guaranteed" and the like from titles too.
    if mp.no_guarantee_claims {
        out.extend(guarantee_claim("title", title, mp));
    }

    if listing.bullets.len() != mp.bullets {
        let name = mp.bullets_name.as_deref().unwrap_or("bullets");
        let mut f = finding(
            "bullet_count",
            "bullets",
            "",
            format!("{} {name} instead of {}", listing.bullets.len(), mp.bullets),
        );
        // Fewer selling points is a weaker listing, not a rejected one.
        f.severity = if listing.bullets.is_empty() {
            Severity::Blocking
        } else {
            Severity::Warning
        };
        out.push(f);
    }
    for (i, b) in listing.bullets.iter().enumerate() {
        let field = format!("bullets[{}]", i + 1);
        out.extend(too_long(
            &field,
            b,
            mp.bullet_max_chars,
            "bullet_max_chars",
            mp,
        ));
        for forbidden in &mp.bullet_forbidden {
            if forbidden == "emoji" {
                if let Some((at, c)) = b.char_indices().find(|&(_, c)| is_emoji(c)) {
                    let mut f = finding(
                        "bullet_emoji",
                        &field,
                        &c.to_string(),
                        format!("{} does not allow emoji in bullets", mp.name),
                    );
                    f.span = Some(char_span(b, at, at + c.len_utf8()));
                    f.suggestion = Some("Remove the emoji.".into());
                    out.push(f);
                }
            } else if let Some(at) = b.find(forbidden.as_str()) {
                let mut f = finding(
                    "bullet_forbidden",
                    &field,
                    forbidden,
                    format!("{} does not allow `{forbidden}` in bullets", mp.name),
                );
                f.span = Some(char_span(b, at, at + forbidden.len()));
                f.suggestion = Some(format!("Remove `{forbidden}`."));
                out.push(f);
            }
        }
        if mp.no_guarantee_claims {
            out.extend(guarantee_claim(&field, b, mp));
        }
    }

    if listing.description.trim().is_empty() {
        out.push(finding(
            "description_present",
            "description",
            "",
            "the description is empty".into(),
        ));
    }
    out.extend(too_long(
        "description",
        &listing.description,
        mp.description_max_chars,
        "description_max_chars",
        mp,
    ));

    if listing.keywords.len() > mp.keywords_max {
        out.push(finding(
            "keywords_max",
            "keywords",
            "",
            format!(
                "{} keywords; {} takes {}",
                listing.keywords.len(),
                mp.name,
                mp.keywords_max
            ),
        ));
    }
    // Amazon counts search terms joined by spaces.
    let bytes = listing.keywords.join(" ").len();
    if bytes > mp.keywords_max_bytes {
        let mut f = finding(
            "keywords_max_bytes",
            "keywords",
            &listing.keywords.join(" "),
            format!(
                "the keywords take {bytes} bytes; {} allows {}",
                mp.name, mp.keywords_max_bytes
            ),
        );
        f.suggestion = Some("Drop the least specific keywords.".into());
        out.push(f);
    }

    for (name, &max) in &mp.extra_fields {
        match listing.extra.get(name) {
            Some(text) => out.extend(too_long(name, text, max, &format!("{name}_max_chars"), mp)),
            None => {
                let mut f = finding(
                    "extra_field_present",
                    name,
                    "",
                    format!("{} listings have a `{name}`; this one has none", mp.name),
                );
                f.severity = Severity::Warning;
                out.push(f);
            }
        }
    }
    out
}

/// A guarantee or warranty promise in `text`, which `mp` does not allow.
fn guarantee_claim(field: &str, text: &str, mp: &Marketplace) -> Option<Finding> {
    let lower = text.to_lowercase();
    let (at, word) = ["guarantee", "warranty", "money back", "money-back"]
        .into_iter()
        .filter_map(|w| lower.find(w).map(|at| (at, w)))
        .min()?;
    let mut f = finding(
        "guarantee_claim",
        field,
        word,
        format!(
            "{} does not allow guarantee or warranty claims in {field}",
            mp.name
        ),
    );
    // Lowercasing may move bytes in exotic text; then no span.
    if lower.len() == text.len() {
        f.span = Some(char_span(text, at, at + word.len()));
    }
    f.suggestion = Some("Move the terms to the description, or drop them.".into());
    Some(f)
}

/// Words used more than `max` times in a title (case-insensitive), except
/// the exempt function words.
fn repeated_words(title: &str, max: usize, exempt: &[String], mp: &Marketplace) -> Vec<Finding> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for w in title
        .split(|c: char| !c.is_alphanumeric() && c != '&' && c != '\'')
        .filter(|w| !w.is_empty())
    {
        let w = w.to_lowercase();
        if exempt.iter().any(|e| e.eq_ignore_ascii_case(&w)) {
            continue;
        }
        match counts.iter_mut().find(|(k, _)| *k == w) {
            Some(c) => c.1 += 1,
            None => counts.push((w, 1)),
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > max)
        .map(|(w, n)| {
            let mut f = finding(
                "title_word_repeats",
                "title",
                &w,
                format!(
                    "`{w}` appears {n} times in the title; {} allows {max}",
                    mp.name
                ),
            );
            f.suggestion = Some(format!("Use `{w}` at most {max} times."));
            f
        })
        .collect()
}

/// Emoji and pictographs (the blocks marketplaces reject), not CJK or
/// ordinary punctuation.
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF   // mahjong to pictographs extended-A, flags included
        | 0x2600..=0x27BF   // miscellaneous symbols, dingbats
        | 0x2B50..=0x2B55   // stars, circles
        | 0xFE0F            // emoji presentation selector
        | 0x200D            // zero-width joiner in emoji sequences
        | 0x2190..=0x21FF   // arrows, used as emoji in bullets
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{marketplace, Lang};

    fn listing(title: &str, bullets: &[&str]) -> Listing {
        Listing {
            title: title.into(),
            bullets: bullets.iter().map(|b| b.to_string()).collect(),
            description: "A warm hoodie in soft cotton.".into(),
            keywords: vec!["hoodie".into()],
            extra: Default::default(),
        }
    }

    fn rules(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn amazon_title_rules() {
        let mp = marketplace("amazon").unwrap();
        let five = ["a b c"; 5];
        let l = listing("Hoodie! Warm hoodie, soft hoodie for the cold", &five);
        let f = check(&l, &mp);
        assert!(rules(&f).contains(&"title_forbidden_chars"), "{f:?}");
        assert!(rules(&f).contains(&"title_word_repeats"), "{f:?}");
        // Articles and prepositions may repeat.
        let l = listing("The hoodie of the year for the cold and the rain", &five);
        assert!(check(&l, &mp).is_empty(), "{:?}", check(&l, &mp));
    }

    #[test]
    fn amazon_bullets_refuse_emoji_marks_and_guarantees() {
        let mp = marketplace("amazon").unwrap();
        let l = listing(
            "Navy Hoodie",
            &[
                "Soft cotton 🔥",
                "Brand™ fabric",
                "Lifetime guarantee",
                "ok",
                "ok",
            ],
        );
        let f = check(&l, &mp);
        let r = rules(&f);
        assert!(r.contains(&"bullet_emoji"), "{r:?}");
        assert!(r.contains(&"bullet_forbidden"), "{r:?}");
        assert!(r.contains(&"guarantee_claim"), "{r:?}");
        let emoji = f.iter().find(|f| f.rule == "bullet_emoji").unwrap();
        assert_eq!(emoji.span, Some((12, 13)));
    }

    #[test]
    fn taobao_counts_title_width() {
        let mp = marketplace("taobao").unwrap();
        let five = ["柔软"; 5];
        let ok = listing(&"卫".repeat(30), &five);
        assert!(check(&ok, &mp).is_empty());
        let wide = listing(&"卫".repeat(31), &five);
        assert_eq!(rules(&check(&wide, &mp)), ["title_max_width"]);
        assert_eq!(mp.title_chars_for(Lang::ZhCn), 30);
    }

    #[test]
    fn amazon_search_terms_count_bytes() {
        let mp = marketplace("amazon").unwrap();
        let mut l = listing("Navy Hoodie", &["ok"; 5]);
        l.keywords = vec!["卫衣".repeat(42)];
        assert!(rules(&check(&l, &mp)).contains(&"keywords_max_bytes"));
    }

    #[test]
    fn shopify_wants_its_seo_fields_within_limits() {
        let mp = marketplace("shopify").unwrap();
        let mut l = listing("Navy Hoodie", &["ok"; 5]);
        let f = check(&l, &mp);
        assert_eq!(
            f.iter().filter(|f| f.rule == "extra_field_present").count(),
            3
        );
        assert!(!super::super::has_blocking(&f));
        l.extra.insert("seo_title".into(), "x".repeat(71));
        l.extra.insert("seo_description".into(), "ok".into());
        l.extra.insert("image_alt".into(), "ok".into());
        assert_eq!(rules(&check(&l, &mp)), ["seo_title_max_chars"]);
    }
}
