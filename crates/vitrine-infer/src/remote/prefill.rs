//! Prefill over a chat API. [`crate::TextModel::generate`] promises a reply
//! that starts with the prefill, returned without it; a chat-completions
//! server cannot be made to continue a given start (llama-cpp-python's
//! server renders a trailing assistant message as a finished turn), so the
//! model writes the start itself and this module lines its reply up with
//! the prefill:
//!
//! - The reply starts with the prefill: the matched part is dropped, so
//!   `prefill + text` is what the model said. For a JSON prefill (one that
//!   starts with `{` or `[`) whitespace between tokens is ignored, because
//!   servers' grammars allow `{ "title":"` where the prefill says
//!   `{"title": "`; text before the first `{`/`[` (prose, a code fence) is
//!   dropped as well.
//! - The reply goes its own way: everything from the last boundary the two
//!   share (the start of a JSON string, after a structural character or
//!   after whitespace) is kept, so the prefill is forced in at that point
//!   and the model's words follow it, as they would after a real prefill.
//!   E.g. prefill `{"title": "Navy ` and reply `{"title": "Soft hoodie"…`
//!   give `{"title": "Navy Soft hoodie"…`.

/// How much leading non-JSON text is skipped while looking for the start of
/// a JSON reply before giving up on lining it up.
const MAX_SKIPPED_LEAD: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    /// More reply is needed to decide.
    Undecided,
    /// The whole prefill matched; the reply continues at this byte.
    Matched(usize),
    /// The reply diverged; it continues (after the forced prefill) here.
    Diverged(usize),
}

fn align(prefill: &str, reply: &str, complete: bool) -> Align {
    let json = prefill.trim_start().starts_with(['{', '[']);
    let mut j = 0usize;
    if json {
        let open = prefill.trim_start().chars().next().unwrap_or('{');
        match reply.find(open) {
            Some(at) if at <= MAX_SKIPPED_LEAD => j = at,
            Some(_) => return Align::Diverged(0),
            None if complete || reply.len() > MAX_SKIPPED_LEAD => return Align::Diverged(0),
            None => return Align::Undecided,
        }
    }
    let mut i = 0usize;
    let mut boundary = j;
    let mut in_string = false;
    let mut escaped = false;
    loop {
        let rest = &prefill[i..];
        if rest.is_empty() || (json && !in_string && rest.trim().is_empty()) {
            return Align::Matched(j);
        }
        let Some(r) = reply[j..].chars().next() else {
            // The reply so far is a start of the prefill. At its end the
            // model said nothing beyond the prefill.
            return if complete {
                Align::Matched(j)
            } else {
                Align::Undecided
            };
        };
        let p = rest.chars().next().unwrap_or_default();
        if json && !in_string {
            if p.is_whitespace() {
                i += p.len_utf8();
                continue;
            }
            if r.is_whitespace() {
                j += r.len_utf8();
                continue;
            }
        }
        if p != r {
            return Align::Diverged(boundary);
        }
        i += p.len_utf8();
        j += r.len_utf8();
        if !json {
            if p.is_whitespace() {
                boundary = j;
            }
        } else if in_string {
            if escaped {
                escaped = false;
            } else if p == '\\' {
                escaped = true;
            } else if p == '"' {
                in_string = false;
            } else if p.is_whitespace() {
                boundary = j;
            }
        } else if p == '"' {
            in_string = true;
            boundary = j;
        } else if matches!(p, '{' | '[' | ',' | ':') {
            boundary = j;
        }
    }
}

/// Lines a streamed reply up with the prefill, holding text back only until
/// that is decided.
pub struct PrefillAligner {
    prefill: String,
    held: String,
    decided: bool,
    honoured: bool,
}

impl PrefillAligner {
    pub fn new(prefill: &str) -> Self {
        Self {
            prefill: prefill.to_string(),
            held: String::new(),
            decided: prefill.is_empty(),
            honoured: true,
        }
    }

    /// The text to hand on for one streamed piece (often empty while the
    /// start is still being compared, then everything held back at once).
    pub fn push(&mut self, piece: &str) -> String {
        if self.decided {
            return piece.to_string();
        }
        self.held.push_str(piece);
        self.decide(false)
    }

    /// What is still held back when the stream ends.
    pub fn finish(&mut self) -> String {
        if self.decided {
            return String::new();
        }
        self.decide(true)
    }

    /// Whether the model's reply started with the prefill.
    #[cfg(test)]
    pub fn honoured(&self) -> bool {
        self.honoured
    }

    fn decide(&mut self, complete: bool) -> String {
        let from = match align(&self.prefill, &self.held, complete) {
            Align::Undecided => return String::new(),
            Align::Matched(at) => at,
            Align::Diverged(at) => {
                self.honoured = false;
                tracing::warn!(
                    prefill = %self.prefill,
                    "the remote model's reply does not start with the prefill; forcing it in"
                );
                at
            }
        };
        self.decided = true;
        let out = self.held.split_off(from);
        self.held.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The aligned text, fed in pieces of `step` bytes (on char boundaries).
    fn aligned(prefill: &str, reply: &str, step: usize) -> (String, bool) {
        let mut a = PrefillAligner::new(prefill);
        let mut out = String::new();
        let mut rest = reply;
        while !rest.is_empty() {
            let mut cut = step.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            out.push_str(&a.push(&rest[..cut]));
            rest = &rest[cut..];
        }
        out.push_str(&a.finish());
        (out, a.honoured())
    }

    #[test]
    fn a_json_reply_that_starts_with_the_prefill_loses_it_whatever_its_spacing() {
        for step in [1, 3, 100] {
            for reply in [
                "{\"title\": \"Navy hoodie\"}",
                "{ \"title\":\"Navy hoodie\"}",
                "```json\n{\n  \"title\" : \"Navy hoodie\"}",
            ] {
                let (text, ok) = aligned("{\"title\": \"", reply, step);
                assert_eq!(text, "Navy hoodie\"}", "{reply} in steps of {step}");
                assert!(ok);
            }
        }
    }

    #[test]
    fn spacing_inside_strings_still_counts() {
        let (text, ok) = aligned("{\"title\": \"Navy ", "{\"title\": \"Navy  hoodie\"}", 2);
        assert_eq!(text, " hoodie\"}");
        assert!(ok);
        let (text, ok) = aligned("{\"title\": \"Navy ", "{\"title\": \"Navyhoodie\"}", 2);
        assert_eq!(text, "Navyhoodie\"}");
        assert!(!ok);
    }

    #[test]
    fn a_diverging_reply_gets_the_prefill_forced_in_at_a_boundary() {
        let prefill = "{\"title\": \"Navy ";
        let (text, ok) = aligned(prefill, "{ \"title\": \"Navajo rug\", \"a\": 1}", 4);
        assert!(!ok);
        assert_eq!(text, "Navajo rug\", \"a\": 1}");
        let joined = format!("{prefill}{text}");
        let v: serde_json::Value = serde_json::from_str(&joined).unwrap();
        assert_eq!(v["title"], "Navy Navajo rug");
    }

    #[test]
    fn plain_text_prefills_match_exactly() {
        assert_eq!(
            aligned("Title: ", "Title: Red cup", 1),
            ("Red cup".into(), true)
        );
        assert_eq!(
            aligned("Title: ", "Here it is", 1),
            ("Here it is".into(), false)
        );
        assert_eq!(aligned("", "anything", 3), ("anything".into(), true));
    }

    #[test]
    fn a_reply_cut_short_inside_the_prefill_adds_nothing() {
        assert_eq!(aligned("{\"title\": \"", "{\"ti", 1).0, "");
        assert_eq!(aligned("{\"title\": \"", "", 1).0, "");
    }
}
