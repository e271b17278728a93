//! SentencePiece vocabularies (`tokenizer.ggml.model == "llama"`: Llama 2,
//! Phi-3, Gemma 3) tokenized the way llama.cpp does it, so ids match its own
//! (checked by fixtures in tests/). The `tokenizers` crate has no model that
//! merges by piece score with llama.cpp's tie-breaking and space prefix after
//! every special token, so this is a small, direct implementation.
//!
//! Encoding: special pieces are cut out of the text first (longest first);
//! each remaining run gets a leading space when `add_space_prefix` is set and
//! it follows a special piece (or starts the text), spaces become `▁`, and
//! adjacent symbols are merged, highest-scoring resulting piece first (the
//! leftmost on a tie), for as long as the merged text is a piece. A character
//! that never became a piece is written as its UTF-8 bytes (`<0xXX>`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use crate::error::{InferError, Result};

/// llama.cpp's token types (`llama_token_type`).
pub(crate) const TYPE_NORMAL: i32 = 1;
pub(crate) const TYPE_UNKNOWN: i32 = 2;
pub(crate) const TYPE_CONTROL: i32 = 3;
pub(crate) const TYPE_USER_DEFINED: i32 = 4;
pub(crate) const TYPE_BYTE: i32 = 6;

/// SentencePiece's stand-in for a space.
const SPACE: char = '\u{2581}';

/// A piece matched as a whole before the text is tokenized.
struct Special {
    id: u32,
    /// Whitespace after the piece is dropped (llama.cpp's `rstrip` attribute).
    rstrip: bool,
}

pub(crate) struct SpmVocab {
    pieces: Vec<String>,
    scores: Vec<f32>,
    types: Vec<i32>,
    by_text: HashMap<String, u32>,
    /// Control, user-defined and unknown pieces, longest first.
    specials: Vec<Special>,
    byte_ids: [Option<u32>; 256],
    unk: Option<u32>,
    add_space_prefix: bool,
}

/// What a GGUF says about one SentencePiece vocabulary.
pub(crate) struct SpmConfig {
    pub pieces: Vec<String>,
    pub scores: Vec<f32>,
    /// One type per piece (already with llama.cpp's overrides applied).
    pub types: Vec<i32>,
    pub add_space_prefix: bool,
    /// llama.cpp strips whitespace after Phi-3's special pieces (it decides
    /// by the model's name).
    pub rstrip_specials: bool,
    pub unk: Option<u32>,
}

impl SpmVocab {
    pub(crate) fn new(cfg: SpmConfig) -> Result<Self> {
        let SpmConfig {
            pieces,
            mut scores,
            types,
            add_space_prefix,
            rstrip_specials,
            unk,
        } = cfg;
        let n = pieces.len();
        if scores.len() != n || types.len() != n {
            return Err(InferError::Tokenizer(format!(
                "vocabulary has {n} pieces but {} scores and {} types",
                scores.len(),
                types.len()
            )));
        }
        // A NaN score would make the merge order ill-defined.
        for s in &mut scores {
            if s.is_nan() {
                *s = f32::NEG_INFINITY;
            }
        }
        let mut by_text = HashMap::with_capacity(n);
        for (id, piece) in pieces.iter().enumerate() {
            let id = u32::try_from(id).map_err(|_| tok_err("vocabulary too large"))?;
            if by_text.insert(piece.clone(), id).is_some() {
                // llama.cpp refuses such a vocabulary too.
                return Err(tok_err(format!("piece {piece:?} appears twice")));
            }
        }

        let mut specials: Vec<Special> = pieces
            .iter()
            .zip(&types)
            .enumerate()
            .filter(|(_, (p, &t))| {
                !p.is_empty() && (t == TYPE_CONTROL || t == TYPE_USER_DEFINED || t == TYPE_UNKNOWN)
            })
            .map(|(id, (p, _))| Special {
                id: id as u32,
                rstrip: rstrip_specials && !matches!(p.as_str(), "<unk>" | "<s>" | "<|endoftext|>"),
            })
            .collect();
        // llama.cpp cuts longer pieces first; equal lengths keep id order.
        specials.sort_by_key(|s| std::cmp::Reverse(pieces[s.id as usize].len()));

        let mut byte_ids = [None; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = by_text.get(&format!("<0x{b:02X}>")).copied().or_else(|| {
                // Some vocabularies spell an ASCII byte as itself.
                char::from_u32(b as u32)
                    .filter(|c| c.is_ascii())
                    .and_then(|c| by_text.get(c.encode_utf8(&mut [0; 4]) as &str).copied())
            });
        }

        Ok(Self {
            pieces,
            scores,
            types,
            by_text,
            specials,
            byte_ids,
            unk,
            add_space_prefix,
        })
    }

    /// Ids of `text`, special pieces in it parsed as those tokens (llama.cpp's
    /// `parse_special`). No BOS.
    pub(crate) fn encode(&self, text: &str) -> Vec<u32> {
        self.encode_from(text, true)
    }

    /// Ids of `text` as it would go on from text already tokenized: no space
    /// prefix before its start (there still is one after a special piece).
    pub(crate) fn encode_continuation(&self, text: &str) -> Vec<u32> {
        self.encode_from(text, false)
    }

    fn encode_from(&self, text: &str, at_start: bool) -> Vec<u32> {
        let mut out = Vec::new();
        // Not even the space prefix for no text, as in llama.cpp.
        if text.is_empty() {
            return out;
        }
        let mut prev_special = at_start;
        for frag in self.split_specials(text) {
            match frag {
                Fragment::Special(id) => {
                    out.push(id);
                    prev_special = true;
                }
                Fragment::Text(s) => {
                    let mut run = String::with_capacity(s.len() + 4);
                    if self.add_space_prefix && prev_special {
                        run.push(' ');
                    }
                    run.push_str(s);
                    let run = run.replace(' ', SPACE.encode_utf8(&mut [0; 4]));
                    self.encode_run(&run, &mut out);
                    prev_special = false;
                }
            }
        }
        out
    }

    /// Cut every special piece out of `text`, one piece at a time over all the
    /// text runs left, longest piece first, as llama.cpp's partition does.
    fn split_specials<'a>(&self, text: &'a str) -> Vec<Fragment<'a>> {
        let mut frags = vec![Fragment::Text(text)];
        for sp in &self.specials {
            let piece = self.pieces[sp.id as usize].as_str();
            if !text.contains(piece) {
                continue;
            }
            let mut next = Vec::with_capacity(frags.len() + 2);
            for frag in frags {
                let Fragment::Text(mut rest) = frag else {
                    next.push(frag);
                    continue;
                };
                while let Some(at) = rest.find(piece) {
                    if at > 0 {
                        next.push(Fragment::Text(&rest[..at]));
                    }
                    next.push(Fragment::Special(sp.id));
                    rest = &rest[at + piece.len()..];
                    if sp.rstrip {
                        rest = rest.trim_start_matches(is_c_space);
                    }
                }
                if !rest.is_empty() {
                    next.push(Fragment::Text(rest));
                }
            }
            frags = next;
        }
        frags
    }

    /// Merge one run of text (spaces already `▁`) into pieces.
    fn encode_run(&self, run: &str, out: &mut Vec<u32>) {
        let mut syms: Vec<Symbol> = Vec::with_capacity(run.len());
        for (i, (start, c)) in run.char_indices().enumerate() {
            syms.push(Symbol {
                start,
                len: c.len_utf8(),
                prev: i.checked_sub(1),
                next: None,
            });
            if i > 0 {
                syms[i - 1].next = Some(i);
            }
        }
        let mut queue = BinaryHeap::new();
        for i in 1..syms.len() {
            self.push_bigram(run, &syms, i - 1, i, &mut queue);
        }
        while let Some(b) = queue.pop() {
            let (l, r) = (&syms[b.left], &syms[b.right]);
            // Stale: one side has been merged into something else since.
            if l.len == 0 || r.len == 0 || l.len + r.len != b.size {
                continue;
            }
            let right_next = r.next;
            syms[b.left].len += syms[b.right].len;
            syms[b.right].len = 0;
            syms[b.left].next = right_next;
            if let Some(n) = right_next {
                syms[n].prev = Some(b.left);
            }
            if let Some(p) = syms[b.left].prev {
                self.push_bigram(run, &syms, p, b.left, &mut queue);
            }
            if let Some(n) = right_next {
                self.push_bigram(run, &syms, b.left, n, &mut queue);
            }
        }
        // Every merge made a piece, so only single characters can be missing
        // from the vocabulary: those go out as their bytes.
        let mut at = if syms.is_empty() { None } else { Some(0) };
        while let Some(i) = at {
            let s = &syms[i];
            let text = &run[s.start..s.start + s.len];
            match self.by_text.get(text) {
                Some(&id) => out.push(id),
                None => out.extend(
                    text.bytes()
                        .filter_map(|b| self.byte_ids[b as usize].or(self.unk)),
                ),
            }
            at = s.next;
        }
    }

    fn push_bigram(
        &self,
        run: &str,
        syms: &[Symbol],
        left: usize,
        right: usize,
        queue: &mut BinaryHeap<Bigram>,
    ) {
        let start = syms[left].start;
        let size = syms[left].len + syms[right].len;
        if let Some(&id) = self.by_text.get(&run[start..start + size]) {
            queue.push(Bigram {
                score: self.scores[id as usize],
                left,
                right,
                size,
            });
        }
    }

    /// The bytes `id` stands for in generated text: nothing for control and
    /// unknown pieces, `▁` as a space, a byte piece as its byte.
    pub(crate) fn piece_bytes(&self, id: u32) -> Vec<u8> {
        let Some(piece) = self.pieces.get(id as usize) else {
            return Vec::new();
        };
        match self.types[id as usize] {
            TYPE_USER_DEFINED => piece.as_bytes().to_vec(),
            TYPE_NORMAL => piece.replace(SPACE, " ").into_bytes(),
            TYPE_BYTE => parse_byte_piece(piece).map(|b| vec![b]).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Text of `ids` as llama.cpp's `llama_detokenize` gives it (special
    /// pieces left out): with `add_space_prefix`, the first piece loses one
    /// leading space, the one encoding added.
    pub(crate) fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for (i, &id) in ids.iter().enumerate() {
            let piece = self.piece_bytes(id);
            let skip = usize::from(i == 0 && self.add_space_prefix && piece.first() == Some(&b' '));
            bytes.extend_from_slice(&piece[skip..]);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Each piece's bytes for llguidance: text pieces as their text, special
    /// ones behind its marker byte so a grammar never produces them.
    pub(crate) fn token_bytes(&self, special_marker: u8) -> Vec<Vec<u8>> {
        (0..self.pieces.len())
            .map(|id| match self.types[id] {
                TYPE_NORMAL | TYPE_USER_DEFINED | TYPE_BYTE => self.piece_bytes(id as u32),
                _ => {
                    let mut b = vec![special_marker];
                    b.extend_from_slice(self.pieces[id].as_bytes());
                    b
                }
            })
            .collect()
    }
}

enum Fragment<'a> {
    Text(&'a str),
    Special(u32),
}

/// C's `isspace` in the "C" locale, which llama.cpp strips with.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

fn parse_byte_piece(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    u8::from_str_radix(hex, 16).ok()
}

fn tok_err(msg: impl Into<String>) -> InferError {
    InferError::Tokenizer(msg.into())
}

struct Symbol {
    start: usize,
    /// Bytes; 0 once merged into the symbol on its left.
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

/// A candidate merge. The heap pops the highest score, then the leftmost.
struct Bigram {
    score: f32,
    left: usize,
    right: usize,
    size: usize,
}

impl Ord for Bigram {
    fn cmp(&self, other: &Self) -> Ordering {
        // Scores are never NaN (see `SpmVocab::new`), so `partial_cmp`
        // only fails to order -0.0 against 0.0, which llama.cpp calls equal.
        self.score
            .partial_cmp(&other.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Bigram {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Bigram {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy vocabulary: enough to pin the merge order and byte fallback.
    fn vocab(add_space_prefix: bool) -> SpmVocab {
        let mut pieces: Vec<String> = vec!["<unk>".into(), "<s>".into(), "</s>".into()];
        let mut types = vec![TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL];
        let mut scores = vec![0.0, 0.0, 0.0];
        for b in 0..=255u8 {
            pieces.push(format!("<0x{b:02X}>"));
            types.push(TYPE_BYTE);
            scores.push(0.0);
        }
        for (p, s) in [
            ("▁", -1.0),
            ("a", -2.0),
            ("b", -3.0),
            ("c", -4.0),
            ("ab", -5.0),
            ("bc", -0.5),
            ("▁a", -1.5),
        ] {
            pieces.push(p.into());
            types.push(TYPE_NORMAL);
            scores.push(s);
        }
        SpmVocab::new(SpmConfig {
            pieces,
            scores,
            types,
            add_space_prefix,
            rstrip_specials: false,
            unk: Some(0),
        })
        .unwrap()
    }

    fn pieces(v: &SpmVocab, ids: &[u32]) -> Vec<String> {
        ids.iter().map(|&i| v.pieces[i as usize].clone()).collect()
    }

    #[test]
    fn merges_the_best_scoring_pair_first() {
        let v = vocab(false);
        // "bc" (-0.5) beats "ab" (-5.0); then "a"+"bc" is no piece.
        assert_eq!(pieces(&v, &v.encode("abc")), ["a", "bc"]);
    }

    #[test]
    fn prefixes_a_space_and_falls_back_to_bytes() {
        let v = vocab(true);
        let ids = v.encode("ab é");
        assert_eq!(
            pieces(&v, &ids),
            ["▁a", "b", "▁", "<0xC3>", "<0xA9>"],
            "é is not a piece, so it goes out as its two UTF-8 bytes"
        );
        assert_eq!(v.decode(&ids), "ab é");
    }

    #[test]
    fn cuts_special_pieces_out_and_prefixes_the_text_after_them() {
        let v = vocab(true);
        let ids = v.encode("<s>a</s>");
        assert_eq!(pieces(&v, &ids), ["<s>", "▁a", "</s>"]);
        assert_eq!(v.decode(&ids), " a", "control pieces decode to nothing");
    }

    #[test]
    fn a_continuation_has_no_space_prefix() {
        let v = vocab(true);
        assert_eq!(pieces(&v, &v.encode_continuation("ab")), ["ab"]);
        assert_eq!(
            pieces(&v, &v.encode_continuation("b<s>a")),
            ["b", "<s>", "▁a"]
        );
    }

    #[test]
    fn special_pieces_are_marked_for_llguidance() {
        let v = vocab(true);
        let bytes = v.token_bytes(0xFF);
        assert_eq!(bytes[1], b"\xFF<s>");
        assert_eq!(bytes[3 + 0x41], b"A");
        assert_eq!(bytes[v.by_text["▁a"] as usize], b" a");
    }
}
