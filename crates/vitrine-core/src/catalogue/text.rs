//! Small text helpers shared by the catalogue readers and writers.

/// A header's key for matching: trimmed, BOM dropped, lower-cased.
pub(crate) fn header_key(header: &str) -> String {
    header.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// A looser key for generic CSVs: also without spaces, `_`, `-` and `.`,
/// so `Product Name`, `product_name` and `productname` match.
pub(crate) fn loose_key(header: &str) -> String {
    header_key(header)
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\u{3000}'))
        .collect()
}

/// Lower-case, letters and digits kept (CJK included), every other run of
/// characters one `-`: `Blue Tee (2024)` → `blue-tee-2024`.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// Runs of whitespace (newlines included) folded to one space, trimmed.
pub(crate) fn fold_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Some(trimmed)` unless blank.
pub(crate) fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Shopify tags: comma-separated, trimmed, blanks dropped.
pub(crate) fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A generic CSV's list cell: commas (ASCII or full-width), `、`, `;`, `|`.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A URL rather than a local path (`https://`, `//cdn…`, `data:`).
pub(crate) fn is_url(src: &str) -> bool {
    let s = src.trim();
    s.starts_with("//")
        || s.starts_with("data:")
        || s.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        })
}

/// The field delimiter, from the header line: tab or `;` when the header
/// has them and no comma (spreadsheets in some locales save those).
pub(crate) fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.contains('\t') && !header.contains(',') {
        b'\t'
    } else if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Blue Tee (2024)"), "blue-tee-2024");
        assert_eq!(slug("  --纯棉 T恤--  "), "纯棉-t恤");
        assert_eq!(slug("!!!"), "");
    }

    #[test]
    fn urls_and_paths() {
        assert!(is_url("https://cdn.example.com/a.jpg"));
        assert!(is_url("//cdn.example.com/a.jpg"));
        assert!(!is_url("photos/a.jpg"));
        assert!(!is_url("C:\\photos\\a.jpg"));
        assert!(!is_url("/abs/a.jpg"));
    }

    #[test]
    fn keys_and_tags() {
        assert_eq!(header_key("\u{feff} Body (HTML) "), "body (html)");
        assert_eq!(loose_key("Product_Name"), "productname");
        assert_eq!(split_tags("a, b,,c;d"), ["a", "b", "c;d"]);
        assert_eq!(split_list("a, b,,c，标签|x"), ["a", "b", "c", "标签", "x"]);
    }
}
