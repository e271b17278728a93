//! Raw chat completions on the models Vitrine manages, for the
//! OpenAI-compatible endpoint of `vitrine serve`: the caller's messages
//! as they are, no pipeline, no checks, nothing stored.

use serde::Serialize;

use crate::error::{CoreError, Result};
use crate::listing::Lang;
use crate::router::TaskKind;
use crate::studio::{Backend, Studio};

pub use vitrine_infer::{CancelToken, ChatMessage, ChatRole, GenerationParams};

/// The model name that lets the router choose.
pub const AUTO_MODEL: &str = "auto";

/// At most this many stop sequences (as OpenAI allows).
pub const MAX_STOP: usize = 4;

#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// An installed manifest model id, or [`AUTO_MODEL`]. With a remote
    /// backend every name goes to the server's one model.
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub params: GenerationParams,
    /// Generation ends before the first of these; it is not returned.
    pub stop: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn, or a stop sequence came.
    Stop,
    /// `max_tokens` ran out.
    Length,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatCompletion {
    /// The model that ran.
    pub model_id: String,
    pub text: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub finish_reason: FinishReason,
}

impl ChatRequest {
    /// Refuse what the engine cannot do sensibly, with the field named.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(CoreError::InvalidInput(m));
        if self.messages.is_empty() {
            return bad("`messages` must hold at least one message".into());
        }
        let p = &self.params;
        if !(0.0..=2.0).contains(&p.temperature) {
            return bad(format!(
                "`temperature` must be between 0 and 2, not {}",
                p.temperature
            ));
        }
        if let Some(top_p) = p.top_p {
            if !(top_p > 0.0 && top_p <= 1.0) {
                return bad(format!(
                    "`top_p` must be above 0 and at most 1, not {top_p}"
                ));
            }
        }
        if !(1..=8192).contains(&p.max_tokens) {
            return bad(format!(
                "`max_tokens` must be between 1 and 8192, not {}",
                p.max_tokens
            ));
        }
        if self.stop.len() > MAX_STOP {
            return bad(format!("`stop` takes at most {MAX_STOP} sequences"));
        }
        if self.stop.iter().any(String::is_empty) {
            return bad("a `stop` sequence may not be empty".into());
        }
        Ok(())
    }
}

/// Holds back streamed text that could be the start of a stop sequence,
/// so a stop sequence split across tokens is never sent.
#[derive(Debug, Default)]
pub struct StopScanner {
    stops: Vec<String>,
    text: String,
    /// Bytes of `text` already released.
    released: usize,
    stopped: bool,
}

impl StopScanner {
    pub fn new(stops: Vec<String>) -> Self {
        Self {
            stops,
            ..Self::default()
        }
    }

    /// Add a piece; returns the text safe to release now and whether a
    /// stop sequence was reached (nothing after it is released).
    pub fn push(&mut self, piece: &str) -> (String, bool) {
        if self.stopped {
            return (String::new(), true);
        }
        self.text.push_str(piece);
        // A stop sequence may begin in text held back from earlier pieces.
        let hit = self
            .stops
            .iter()
            .filter_map(|s| self.text[self.released..].find(s.as_str()))
            .min()
            .map(|at| self.released + at);
        if let Some(end) = hit {
            let out = self.text[self.released..end].to_string();
            self.text.truncate(end);
            self.released = end;
            self.stopped = true;
            return (out, true);
        }
        let hold = self
            .stops
            .iter()
            .map(|s| longest_prefix_suffix(&self.text[self.released..], s))
            .max()
            .unwrap_or(0);
        let end = self.text.len() - hold;
        let out = self.text[self.released..end].to_string();
        self.released = end;
        (out, false)
    }

    /// What is held back, once generation has ended without a stop.
    pub fn finish(&mut self) -> String {
        let out = self.text[self.released..].to_string();
        self.released = self.text.len();
        out
    }

    /// Everything released (the reply).
    pub fn text(&self) -> &str {
        &self.text[..self.released]
    }

    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

/// Bytes at the end of `text` that are a proper prefix of `stop`, on a
/// character boundary.
fn longest_prefix_suffix(text: &str, stop: &str) -> usize {
    let max = stop.len().saturating_sub(1).min(text.len());
    (1..=max)
        .rev()
        .find(|&n| {
            text.is_char_boundary(text.len() - n)
                && stop.is_char_boundary(n)
                && text.ends_with(&stop[..n])
        })
        .unwrap_or(0)
}

impl Studio {
    /// The model names a chat completion accepts: the installed text
    /// models (manifest order), or the remote server's one model.
    pub fn chat_models(&self) -> Vec<String> {
        match self.backend() {
            Backend::Local => self.installed_ids(),
            Backend::Remote(config) => vec![config.identity()],
        }
    }

    /// Run the caller's chat on a managed model. `on_text` receives the
    /// reply piece by piece (stop sequences held back and cut) and returns
    /// whether to go on: `false` (the client went away) ends generation.
    pub async fn chat_completion(
        &self,
        req: ChatRequest,
        mut on_text: Box<dyn FnMut(&str) -> bool + Send>,
        cancel: CancelToken,
    ) -> Result<ChatCompletion> {
        req.validate()?;
        let remote = matches!(self.backend(), Backend::Remote(_));
        let pin = (!remote && req.model != AUTO_MODEL).then(|| req.model.clone());
        if let Some(id) = &pin {
            // A name that is no model at all is `not_found`, as OpenAI says.
            self.manifest()
                .get(id)
                .map_err(|_| CoreError::ModelNotInstalled {
                    id: id.clone(),
                    installed: self.installed_ids(),
                })?;
        }
        let chars: usize = req.messages.iter().map(|m| m.content.chars().count()).sum();
        let (mut generator, _route) = self.text_generator(
            TaskKind::ReviewSummary,
            chars,
            Lang::En,
            req.params.temperature,
            pin.as_deref(),
            false,
            cancel,
        )?;
        let ChatRequest {
            messages,
            params,
            stop,
            ..
        } = req;
        tokio::task::spawn_blocking(move || {
            let mut scanner = StopScanner::new(stop);
            let mut client_gone = false;
            let mut forward = |piece: &str| {
                let (out, stopped) = scanner.push(piece);
                if !out.is_empty() && !on_text(&out) {
                    client_gone = true;
                    return false;
                }
                !stopped
            };
            let answer = generator.generate(&messages, "", &params, &mut |_| {}, &mut forward)?;
            if client_gone {
                return Err(CoreError::Cancelled);
            }
            if !scanner.stopped() {
                let rest = scanner.finish();
                if !rest.is_empty() {
                    on_text(&rest);
                }
            }
            let finish_reason =
                if !scanner.stopped() && answer.generated_tokens >= params.max_tokens {
                    FinishReason::Length
                } else {
                    FinishReason::Stop
                };
            Ok(ChatCompletion {
                model_id: generator.model_id(),
                text: scanner.text().to_string(),
                prompt_tokens: answer.prompt_tokens,
                completion_tokens: answer.generated_tokens,
                finish_reason,
            })
        })
        .await
        .map_err(|e| CoreError::Task(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (Vec<String>, bool, String) {
        let mut s = StopScanner::new(stops.iter().map(|s| s.to_string()).collect());
        let mut out = Vec::new();
        let mut stopped = false;
        for p in pieces {
            let (o, st) = s.push(p);
            out.push(o);
            if st {
                stopped = true;
                break;
            }
        }
        if !stopped {
            out.push(s.finish());
        }
        (out, stopped, s.text().to_string())
    }

    #[test]
    fn a_stop_split_across_pieces_is_never_released() {
        let (out, stopped, text) = run(&["END"], &["hello E", "N", "D and more"]);
        assert!(stopped);
        assert_eq!(text, "hello ");
        assert_eq!(out.concat(), "hello ");
        assert_eq!(out[0], "hello ", "the `E` is held back");
    }

    #[test]
    fn a_false_start_is_released_later() {
        let (out, stopped, text) = run(&["END"], &["an E", "xample"]);
        assert!(!stopped);
        assert_eq!(text, "an Example");
        assert_eq!(out, vec!["an ", "Example", ""]);
    }

    #[test]
    fn the_earliest_of_several_stops_wins_and_text_without_stops_flows() {
        let (_, stopped, text) = run(&["\n\n", "。"], &["第一句。第二句\n\n"]);
        assert!(stopped);
        assert_eq!(text, "第一句");
        let (out, stopped, text) = run(&[], &["a", "b"]);
        assert!(!stopped);
        assert_eq!(text, "ab");
        assert_eq!(out, vec!["a", "b", ""]);
    }

    #[test]
    fn validation_names_the_field() {
        let mut req = ChatRequest {
            model: AUTO_MODEL.into(),
            messages: vec![ChatMessage::user("hi")],
            params: GenerationParams::default(),
            stop: vec![],
        };
        assert!(req.validate().is_ok());
        req.params.temperature = 3.0;
        let e = req.validate().expect_err("too hot").to_string();
        assert!(e.contains("`temperature`"), "{e}");
        req.params.temperature = 0.5;
        req.stop = vec!["".into()];
        assert!(req.validate().is_err());
        req.stop = vec![];
        req.messages.clear();
        assert!(req.validate().is_err());
    }
}
