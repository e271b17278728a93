//! Greedy CTC decoding of the recogniser's per-column class probabilities.

/// The recogniser's classes: index 0 is the CTC blank, then the dictionary
/// the model carries in its `character` metadata (one entry a line), then a
/// space, which the dictionary itself lacks.
#[derive(Debug, Clone)]
pub(crate) struct Charset {
    symbols: Vec<String>,
}

impl Charset {
    pub(crate) fn from_dictionary(dictionary: &str) -> Self {
        let mut symbols = vec![String::new()];
        symbols.extend(
            dictionary
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string()),
        );
        // A trailing newline ends the last entry rather than adding an empty one.
        if dictionary.ends_with('\n') {
            symbols.pop();
        }
        symbols.push(" ".into());
        Self { symbols }
    }

    /// Number of classes, blank and space included.
    pub(crate) fn len(&self) -> usize {
        self.symbols.len()
    }

    /// The text of `probs` (`steps` rows of `len()` probabilities): the most
    /// likely class per step, repeats merged, blanks dropped. The confidence
    /// is the mean probability of the kept steps, 0 for empty text.
    pub(crate) fn decode(&self, probs: &[f32]) -> (String, f32) {
        let n = self.symbols.len();
        let mut text = String::new();
        let (mut sum, mut kept) = (0f32, 0usize);
        let mut previous = None;
        for row in probs.chunks_exact(n) {
            let (best, p) =
                row.iter()
                    .copied()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |acc, (i, p)| {
                            if p > acc.1 {
                                (i, p)
                            } else {
                                acc
                            }
                        },
                    );
            if best != 0 && previous != Some(best) {
                text.push_str(&self.symbols[best]);
                sum += p;
                kept += 1;
            }
            previous = Some(best);
        }
        let confidence = if kept == 0 { 0.0 } else { sum / kept as f32 };
        (text, confidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(charset: &Charset, best: &[(usize, f32)]) -> Vec<f32> {
        let n = charset.len();
        let mut out = vec![0.0; best.len() * n];
        for (t, &(i, p)) in best.iter().enumerate() {
            out[t * n + i] = p;
        }
        out
    }

    #[test]
    fn repeats_merge_blanks_split_and_space_is_last() {
        let c = Charset::from_dictionary("a\nb\r\nl\n");
        assert_eq!(c.len(), 5);
        // a a _ b b _ b <space> l
        let p = rows(
            &c,
            &[
                (1, 0.9),
                (1, 0.7),
                (0, 0.99),
                (2, 0.8),
                (2, 0.8),
                (0, 0.9),
                (2, 0.6),
                (4, 0.5),
                (3, 0.7),
            ],
        );
        let (text, conf) = c.decode(&p);
        assert_eq!(text, "abb l");
        assert!((conf - (0.9 + 0.8 + 0.6 + 0.5 + 0.7) / 5.0).abs() < 1e-6);
    }

    #[test]
    fn all_blank_is_empty_with_zero_confidence() {
        let c = Charset::from_dictionary("x\ny");
        assert_eq!(c.len(), 4);
        assert_eq!(
            c.decode(&rows(&c, &[(0, 1.0), (0, 1.0)])),
            (String::new(), 0.0)
        );
        assert_eq!(c.decode(&[]), (String::new(), 0.0));
    }
}
