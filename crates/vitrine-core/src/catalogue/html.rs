//! HTML for exports (Shopify's Body (HTML), the HTML preview) and plain
//! text from imported HTML. Generated copy is escaped first and then
//! sanitised with `ammonia` against a small allow-list, so a model reply
//! holding `<script>` or `onerror=` comes out as inert text.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::types::Listing;

/// Tags a product body may contain; no attributes at all.
const BODY_TAGS: &[&str] = &["p", "ul", "li", "strong", "em", "br"];

/// `&`, `<`, `>`, `"` and `'` escaped for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn body_cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(BODY_TAGS.iter().copied().collect::<HashSet<_>>());
        b
    })
}

/// Keep only the allow-listed tags (p, ul, li, strong, em, br), without
/// attributes; scripts and styles go with their content.
pub fn sanitize_body(html: &str) -> String {
    body_cleaner().clean(html).to_string()
}

/// A product body from a listing: each non-blank line of the description
/// a `<p>`, then the bullets as a `<ul>`; all text escaped, then sanitised.
pub fn listing_body_html(listing: &Listing) -> String {
    let mut html = String::new();
    for para in listing
        .description
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        html.push_str("<p>");
        html.push_str(&escape(para));
        html.push_str("</p>");
    }
    let bullets: Vec<&str> = listing
        .bullets
        .iter()
        .map(|b| b.trim())
        .filter(|b| !b.is_empty())
        .collect();
    if !bullets.is_empty() {
        html.push_str("<ul>");
        for b in bullets {
            html.push_str("<li>");
            html.push_str(&escape(b));
            html.push_str("</li>");
        }
        html.push_str("</ul>");
    }
    sanitize_body(&html)
}

fn preview_cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(
            BODY_TAGS
                .iter()
                .chain(&["section", "h2", "small"])
                .copied()
                .collect::<HashSet<_>>(),
        );
        b
    })
}

/// The HTML preview's body: the body tags plus `section`, `h2`, `small`.
pub fn sanitize_preview(html: &str) -> String {
    preview_cleaner().clean(html).to_string()
}

fn text_cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(ammonia::Builder::empty)
}

/// The text of an HTML fragment: block boundaries become spaces, entities
/// are decoded by a real HTML parser, whitespace is folded.
pub fn html_to_text(html: &str) -> String {
    // ammonia drops tags without a separator, so `<p>a</p><p>b</p>` would
    // read `ab`: put a space before every tag first (inline tags too; the
    // folding below removes what is extra).
    let spaced = html.replace('<', " <");
    let cleaned = text_cleaner().clean(&spaced).to_string();
    let decoded = unescape_serialized(&cleaned);
    super::text::fold_whitespace(&decoded)
}

/// Undo what html5ever's serializer escapes in text: `&amp;`, `&lt;`,
/// `&gt;`, `&nbsp;` (and `&quot;` for safety).
fn unescape_serialized(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(description: &str, bullets: &[&str]) -> Listing {
        Listing {
            title: "t".into(),
            bullets: bullets.iter().map(|s| s.to_string()).collect(),
            description: description.into(),
            keywords: vec![],
            extra: Default::default(),
        }
    }

    #[test]
    fn body_has_paragraphs_and_bullets() {
        let l = listing("Soft cotton.\n\nMade to last & wash well.", &["Navy", " "]);
        assert_eq!(
            listing_body_html(&l),
            "<p>Soft cotton.</p><p>Made to last &amp; wash well.</p><ul><li>Navy</li></ul>"
        );
    }

    #[test]
    fn model_markup_comes_out_inert() {
        let l = listing(
            "<script>alert(1)</script><img src=x onerror=alert(1)>",
            &["<a href=\"javascript:alert(1)\">click</a>"],
        );
        let body = listing_body_html(&l);
        assert!(!body.contains("<script"), "{body}");
        assert!(!body.contains("<img"), "{body}");
        assert!(!body.contains("<a "), "{body}");
        assert!(body.contains("&lt;script&gt;"), "{body}");
    }

    #[test]
    fn sanitiser_drops_disallowed_markup() {
        let dirty = "<p onclick=\"x()\">Hi <strong>there</strong><script>bad()</script></p><img src=x onerror=alert(1)><iframe></iframe>";
        assert_eq!(sanitize_body(dirty), "<p>Hi <strong>there</strong></p>");
    }

    #[test]
    fn text_from_html() {
        assert_eq!(
            html_to_text("<p>Warm&nbsp;&amp; soft</p><ul><li>A&lt;B</li><li>纯棉</li></ul><script>x</script>"),
            "Warm & soft A<B 纯棉"
        );
    }
}
