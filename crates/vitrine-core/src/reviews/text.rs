//! Text helpers shared by the review steps: whitespace folding, the
//! de-duplication key, CJK detection, words and clauses with byte spans.

use std::ops::Range;

/// Runs of whitespace (newlines included) become one space; ends trimmed.
/// Reviews are stored and quoted in this form.
pub fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Han ideographs (CJK Unified, Extension A, Compatibility).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}

/// Full-width ASCII forms (Ａ, ！, ３) to their ASCII twins, the ideographic
/// space to a space.
pub fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// The key two reviews are duplicates under: case, width and whitespace
/// folded; punctuation and symbols (emoji included) count as spaces, so
/// "很好，很舒服" and "很好 很舒服" match.
pub fn dedup_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().map(fold_width) {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// Lower-cased words (letters, digits, apostrophes) with their byte spans
/// in `s`. CJK characters are not words here: Chinese is matched by
/// substring instead.
pub fn words(s: &str) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = None;
    let is_word = |c: char| (c.is_alphanumeric() && !is_cjk(c)) || c == '\'' || c == '’';
    for (i, c) in s.char_indices() {
        match (is_word(c), start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                push_word(&mut out, s, st..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        push_word(&mut out, s, st..s.len());
    }
    out
}

fn push_word(out: &mut Vec<(String, Range<usize>)>, s: &str, span: Range<usize>) {
    let w = s[span.clone()]
        .trim_matches(|c| c == '\'' || c == '’')
        .replace('’', "'")
        .to_lowercase();
    if !w.is_empty() {
        out.push((w, span));
    }
}

/// Sentence ends in English and Chinese.
fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | ';' | '。' | '！' | '？' | '；' | '…' | '\n'
    )
}

/// Sentence spans of `s`, each trimmed and including its closing mark.
pub fn sentences(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if ends_sentence(c) {
            // Keep "!!!" and "?!" with their sentence.
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if ends_sentence(d) || d == '"' || d == '”' || d == ')' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            // "4.5" is not a sentence end.
            let decimal = c == '.'
                && s[..i].chars().last().is_some_and(|p| p.is_ascii_digit())
                && s[end..].chars().next().is_some_and(|n| n.is_ascii_digit());
            if !decimal {
                push_trimmed(&mut out, s, start..end);
                start = end;
            }
        }
    }
    push_trimmed(&mut out, s, start..s.len());
    out
}

/// Clause spans inside a sentence span: split at commas and at contrast
/// words ("but", "however", 但/但是/可是/不过), so "soft but the zip broke"
/// gives one clause per opinion.
pub fn clauses(s: &str, sentence: Range<usize>) -> Vec<Range<usize>> {
    let text = &s[sentence.clone()];
    let mut cuts = vec![0];
    for (i, c) in text.char_indices() {
        if matches!(c, ',' | '，' | '、' | ':' | '：') {
            cuts.push(i + c.len_utf8());
        }
    }
    for (w, span) in words(text) {
        if matches!(
            w.as_str(),
            "but" | "however" | "although" | "though" | "yet"
        ) {
            cuts.push(span.start);
        }
    }
    for marker in ["但是", "可是", "不过", "但", "就是"] {
        for (i, _) in text.match_indices(marker) {
            cuts.push(i);
        }
    }
    cuts.push(text.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        push_trimmed(&mut out, s, sentence.start + w[0]..sentence.start + w[1]);
    }
    out
}

fn push_trimmed(out: &mut Vec<Range<usize>>, s: &str, span: Range<usize>) {
    let piece = &s[span.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if lead + trail < piece.len() {
        out.push(span.start + lead..span.end - trail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_keys_fold() {
        assert_eq!(fold_whitespace("  a\n\n b\t c "), "a b c");
        assert_eq!(dedup_key("Great  HOODIE!!"), dedup_key("great hoodie"));
        assert_eq!(dedup_key("很好，很舒服！"), dedup_key("很好 很舒服"));
        assert_eq!(dedup_key("ＧＲＥＡＴ！"), "great");
        assert_ne!(dedup_key("great hoodie"), dedup_key("great hoodies"));
    }

    #[test]
    fn sentences_and_clauses_split_in_both_languages() {
        let s = "Soft fabric but the zipper broke. Size 4.5 fits!! 面料很软，但是有线头。";
        let sents: Vec<&str> = sentences(s).into_iter().map(|r| &s[r]).collect();
        assert_eq!(
            sents,
            [
                "Soft fabric but the zipper broke.",
                "Size 4.5 fits!!",
                "面料很软，但是有线头。"
            ]
        );
        let first = sentences(s)[0].clone();
        let cl: Vec<&str> = clauses(s, first).into_iter().map(|r| &s[r]).collect();
        assert_eq!(cl, ["Soft fabric", "but the zipper broke."]);
        let third = sentences(s)[2].clone();
        let cl: Vec<&str> = clauses(s, third).into_iter().map(|r| &s[r]).collect();
        assert_eq!(cl, ["面料很软，", "但是有线头。"]);
    }

    #[test]
    fn words_keep_contractions() {
        let w: Vec<String> = words("It doesn't FIT, 很好")
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(w, ["it", "doesn't", "fit"]);
    }
}
