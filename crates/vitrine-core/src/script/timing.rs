//! How long host lines take to say, and where each segment starts and ends.
//!
//! Durations come from the text itself at a steady livestream speaking rate,
//! never from the model: a model asked for "a 30-second hook" has no sense
//! of time, while counted words or characters do.

use crate::checks::is_han;
use crate::listing::Lang;

/// English livestream hosts speak about 150 words a minute (broadcast and
/// presentation pace; faster sounds rushed on a sales stream).
pub const EN_WORDS_PER_MINUTE: f64 = 150.0;

/// Chinese hosts speak about 250 characters a minute (直播 pace; news
/// readers are near 300, conversation near 200).
pub const ZH_CHARS_PER_MINUTE: f64 = 250.0;

/// How far the measured total may stray from the target before the model is
/// asked to lengthen or shorten segments.
pub const TOLERANCE: f64 = 0.20;

/// Seconds it takes to say `text`: each Han character at the Chinese rate,
/// each run of other letters or digits (a word) at the English rate, so
/// mixed copy ("这款 hoodie") is timed by what is actually spoken.
/// Punctuation and whitespace are free.
pub fn speaking_seconds(text: &str) -> f64 {
    let (han, words) = units(text);
    han as f64 * 60.0 / ZH_CHARS_PER_MINUTE + words as f64 * 60.0 / EN_WORDS_PER_MINUTE
}

/// Han characters and non-Han words in `text`.
fn units(text: &str) -> (usize, usize) {
    let mut han = 0;
    let mut words = 0;
    let mut in_word = false;
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            in_word = false;
        } else if c.is_alphanumeric() || (in_word && matches!(c, '\'' | '’' | '-')) {
            if !in_word {
                words += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    (han, words)
}

/// Spoken units in `text`: Han characters plus other words, the units a
/// budget is given in (words for English, characters for Chinese).
pub fn length_units(text: &str) -> usize {
    let (han, words) = units(text);
    han + words
}

/// How many units (words or characters) fill `seconds` in `lang`.
pub fn units_for(seconds: f64, lang: Lang) -> usize {
    let per_minute = match lang {
        Lang::En => EN_WORDS_PER_MINUTE,
        Lang::ZhCn => ZH_CHARS_PER_MINUTE,
    };
    (seconds * per_minute / 60.0).round().max(1.0) as usize
}

/// The unit's name for prompts and reports.
pub fn unit_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "words",
        Lang::ZhCn => "Chinese characters",
    }
}

/// Whole-second `[start, end)` of consecutive segments that last
/// `durations` seconds: the first starts at 0 and each starts where the last
/// ended. Rounding the running total (not each duration) keeps the sum
/// exact.
pub fn contiguous(durations: &[f64]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(durations.len());
    let mut total = 0.0;
    let mut start = 0u32;
    for d in durations {
        total += d.max(0.0);
        let end = total.round() as u32;
        out.push((start, end));
        start = end;
    }
    out
}

/// `mm:ss` (minutes keep counting past 59: `75:00`).
pub fn mmss(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

/// Relative deviation of `measured` from `target`; positive when too long.
pub fn deviation(measured: f64, target: f64) -> f64 {
    if target <= 0.0 {
        return 0.0;
    }
    (measured - target) / target
}

/// Whether `measured` is within [`TOLERANCE`] of `target`.
pub fn on_target(measured: f64, target: f64) -> bool {
    deviation(measured, target).abs() <= TOLERANCE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_at_150_a_minute() {
        let text = vec!["word"; 150].join(" ");
        assert!((speaking_seconds(&text) - 60.0).abs() < 1e-9);
        // Contractions and hyphenated words are one word; punctuation is free.
        assert!((speaking_seconds("Don't miss this well-made hoodie!") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn chinese_characters_at_250_a_minute() {
        let text = "柔".repeat(250);
        assert!((speaking_seconds(&text) - 60.0).abs() < 1e-9);
        // Punctuation does not count; a Latin word in Chinese copy does.
        let mixed = "这款卫衣，很软。hoodie";
        let expected = 6.0 * 60.0 / 250.0 + 60.0 / 150.0;
        assert!((speaking_seconds(mixed) - expected).abs() < 1e-9);
        assert_eq!(length_units("这款卫衣，很软。"), 6);
    }

    #[test]
    fn budgets_follow_the_rate() {
        assert_eq!(units_for(60.0, Lang::En), 150);
        assert_eq!(units_for(30.0, Lang::ZhCn), 125);
        assert_eq!(units_for(0.0, Lang::En), 1);
    }

    #[test]
    fn segment_times_are_contiguous_from_zero() {
        let spans = contiguous(&[10.4, 10.4, 10.4, 0.0, 29.0]);
        assert_eq!(spans[0].0, 0);
        for w in spans.windows(2) {
            assert_eq!(w[0].1, w[1].0);
        }
        // Rounding the running total keeps the sum: 31.2 + 29 = 60.2.
        assert_eq!(spans.last().map(|s| s.1), Some(60));
        assert_eq!(spans[3], (31, 31));
    }

    #[test]
    fn mm_ss_and_target() {
        assert_eq!(mmss(0), "00:00");
        assert_eq!(mmss(125), "02:05");
        assert_eq!(mmss(4500), "75:00");
        assert!(on_target(290.0, 300.0));
        assert!(on_target(360.0, 300.0));
        assert!(!on_target(361.0, 300.0));
        assert!(!on_target(239.0, 300.0));
        assert!(deviation(150.0, 300.0) < 0.0);
    }
}
