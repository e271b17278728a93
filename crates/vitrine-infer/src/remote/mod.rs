//! The remote backend: a [`TextModel`] served by an OpenAI-compatible
//! inference server (vLLM, llama.cpp's `llama-server`, llama-cpp-python's
//! server) over `POST {base}/v1/chat/completions` with streaming.
//!
//! Policies (docs/REMOTE.md has the reasons):
//! - **Retries**: connection failures, timeouts before the response starts,
//!   HTTP 429 and 5xx (not 501) are retried up to `max_retries` times after
//!   `backoff_base × 2^n` plus up to a quarter of that at random (at least
//!   a `Retry-After` the server sends, at most [`MAX_BACKOFF`]). Other 4xx
//!   are final. Nothing is retried once the reply has started streaming:
//!   text already handed to the caller cannot be taken back.
//! - **Concurrency**: requests in flight per server are limited across every
//!   client in the process (see [`endpoint`]).
//! - **Structured output** and **prefill**: see [`ResponseFormat`] and
//!   [`prefill`].

mod endpoint;
mod prefill;
mod request;
mod sse;

use std::cell::Cell;
use std::io::{BufReader, Read};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::ChatMessage;
use crate::error::{InferError, Result};
use crate::text::{CancelToken, Generation, GenerationParams, StopReason, TextModel};
use endpoint::{Endpoint, Permit};
use prefill::PrefillAligner;
use sse::{SseItem, SseReader};

pub use request::MAX_STRING_BOUND;

/// The context length assumed when neither the configuration nor the
/// server says.
pub const DEFAULT_CONTEXT_LENGTH: usize = 4096;
/// The longest wait between two attempts, whatever the backoff or the
/// server's `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How much of an error response's body goes into the error message.
const BODY_EXCERPT_CHARS: usize = 300;
/// How often a backoff wait looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// How a JSON schema is put to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseFormat {
    /// `json-schema` first; when the server refuses it naming
    /// `response_format`, `json-object` from then on (remembered per server
    /// for the life of the process).
    #[default]
    Auto,
    /// `{"type":"json_schema","json_schema":{"name","schema","strict"}}`:
    /// the OpenAI form; vLLM and llama.cpp's `llama-server`.
    JsonSchema,
    /// `{"type":"json_object","schema":…}`: llama-cpp-python's server (its
    /// request model only knows `text` and `json_object`); `llama-server`.
    JsonObject,
}

impl FromStr for ResponseFormat {
    type Err = InferError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "json-schema" | "json_schema" => Ok(Self::JsonSchema),
            "json-object" | "json_object" => Ok(Self::JsonObject),
            other => Err(InferError::Backend(format!(
                "unknown response format `{other}` (use auto, json-schema or json-object)"
            ))),
        }
    }
}

/// Where and how to reach a remote model server.
#[derive(Clone, PartialEq)]
pub struct RemoteConfig {
    /// `http://host:port`; a trailing `/v1` is accepted.
    pub base_url: String,
    /// The model name the server serves (`model` in requests).
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    pub connect_timeout: Duration,
    /// The longest silence: before the response starts (then retried) and
    /// between two streamed chunks (then the request fails).
    pub read_timeout: Duration,
    /// Attempts after the first.
    pub max_retries: u32,
    pub backoff_base: Duration,
    /// Requests in flight to this server from the whole process.
    pub max_concurrency: usize,
    /// Overrides what the server reports (and [`DEFAULT_CONTEXT_LENGTH`]).
    pub context_length: Option<usize>,
    pub response_format: ResponseFormat,
}

impl RemoteConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            max_concurrency: 4,
            context_length: None,
            response_format: ResponseFormat::Auto,
        }
    }

    /// `model@base-url`: names the remote model in provenance and in the
    /// generation cache's key, so another server or model is another key.
    pub fn identity(&self) -> String {
        format!("{}@{}", self.model, normalise_base(&self.base_url))
    }
}

/// The API key stays out of logs.
impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("max_concurrency", &self.max_concurrency)
            .field("context_length", &self.context_length)
            .field("response_format", &self.response_format)
            .finish()
    }
}

fn normalise_base(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix("/v1").unwrap_or(url).to_string()
}

/// A model on a remote OpenAI-compatible server. Cheap to clone; clones
/// share the connection pool and the server's concurrency limit.
#[derive(Clone)]
pub struct RemoteTextModel {
    config: RemoteConfig,
    base: String,
    id: String,
    agent: ureq::Agent,
    endpoint: Arc<Endpoint>,
    context_length: usize,
}

/// A response whose status was a success, with the slot it holds.
struct Sent {
    response: ureq::Response,
    permit: Permit,
}

impl RemoteTextModel {
    /// A client for `config`; nothing is sent yet.
    pub fn new(config: RemoteConfig) -> Result<Self> {
        let base = normalise_base(&config.base_url);
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(InferError::Remote {
                url: config.base_url.clone(),
                reason: "not an http:// or https:// URL".into(),
            });
        }
        if config.model.trim().is_empty() {
            return Err(InferError::Remote {
                url: base,
                reason: "no model name given".into(),
            });
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(config.connect_timeout)
            .timeout_read(config.read_timeout)
            .timeout_write(config.read_timeout)
            .build();
        Ok(Self {
            endpoint: endpoint::endpoint(&base, config.max_concurrency),
            id: config.identity(),
            context_length: config.context_length.unwrap_or(DEFAULT_CONTEXT_LENGTH),
            base,
            agent,
            config,
        })
    }

    /// A client that has checked the server answers: it reads the served
    /// models (`GET /v1/models`), takes the context length from there when
    /// the server reports one (vLLM's `max_model_len`) and warns when the
    /// model is not among them (llama-cpp-python serves whatever is asked).
    pub fn connect(config: RemoteConfig) -> Result<Self> {
        let mut model = Self::new(config)?;
        let sent = model.send("/v1/models", None, &|_, _| false, &CancelToken::new())?;
        let url = model.url("/v1/models");
        let listing: Value = read_json(sent.response, &url)?;
        let served: Vec<&Value> = listing["data"].as_array().into_iter().flatten().collect();
        match served
            .iter()
            .find(|m| m["id"].as_str() == Some(&model.config.model))
        {
            Some(entry) => {
                let reported = ["max_model_len", "context_length"]
                    .iter()
                    .find_map(|k| entry[*k].as_u64());
                if let (None, Some(n)) = (model.config.context_length, reported) {
                    model.context_length = usize::try_from(n).unwrap_or(usize::MAX);
                }
            }
            None => tracing::warn!(
                url = %model.base,
                model = %model.config.model,
                served = ?served.iter().filter_map(|m| m["id"].as_str()).collect::<Vec<_>>(),
                "the server does not list this model"
            ),
        }
        Ok(model)
    }

    pub fn config(&self) -> &RemoteConfig {
        &self.config
    }

    /// The limit on requests in flight to this server in this process (the
    /// strictest any client asked for).
    pub fn concurrency_limit(&self) -> usize {
        self.endpoint.limit()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send a request, retrying what may pass on a second try. `final_status`
    /// can declare an error status final (no retry) from its body.
    fn send(
        &self,
        path: &str,
        body: Option<&str>,
        final_status: &dyn Fn(u16, &str) -> bool,
        cancel: &CancelToken,
    ) -> Result<Sent> {
        let url = self.url(path);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            let permit = self.endpoint.acquire(cancel)?;
            let mut req = match body {
                Some(_) => self
                    .agent
                    .post(&url)
                    .set("Content-Type", "application/json")
                    .set("Accept", "text/event-stream"),
                None => self.agent.get(&url),
            };
            if let Some(key) = self.config.api_key.as_deref().filter(|k| !k.is_empty()) {
                req = req.set("Authorization", &format!("Bearer {key}"));
            }
            let result = match body {
                Some(b) => req.send_string(b),
                None => req.call(),
            };
            let last = attempt > self.config.max_retries;
            let (reason, server_wait) = match result {
                Ok(response) => return Ok(Sent { response, permit }),
                Err(ureq::Error::Status(status, response)) => {
                    drop(permit);
                    let retry_after = response
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = error_text(response);
                    let retryable = status == 429 || (500..600).contains(&status) && status != 501;
                    if last || !retryable || final_status(status, &text) {
                        return Err(InferError::RemoteStatus {
                            url,
                            status,
                            body: excerpt(&text),
                            attempts: attempt,
                        });
                    }
                    (format!("HTTP {status}"), retry_after)
                }
                Err(ureq::Error::Transport(t)) => {
                    drop(permit);
                    let (reason, retryable) = describe_transport(&t, self.config.read_timeout);
                    if last || !retryable {
                        let reason = if attempt > 1 {
                            format!("{reason} (after {attempt} attempts)")
                        } else {
                            reason
                        };
                        return Err(InferError::Remote { url, reason });
                    }
                    (reason, None)
                }
            };
            let wait = backoff(self.config.backoff_base, attempt, server_wait);
            tracing::warn!(%url, attempt, %reason, wait_ms = wait.as_millis() as u64, "remote request failed; retrying");
            sleep_unless_cancelled(wait, cancel)?;
        }
    }

    /// Read the streamed reply, handing each piece (less the prefill) on.
    fn stream(
        &self,
        sent: Sent,
        prefill: &str,
        on_text: &mut dyn FnMut(&str) -> bool,
        cancel: &CancelToken,
        start: Instant,
    ) -> Result<Generation> {
        let url = self.url("/v1/chat/completions");
        let broke = |reason: String| InferError::Remote {
            url: url.clone(),
            reason,
        };
        // The slot is held until the stream is read or dropped.
        let _permit = sent.permit;
        let mut events = SseReader::new(BufReader::new(sent.response.into_reader()));
        let mut aligner = PrefillAligner::new(prefill);
        let mut text = String::new();
        let mut first_chunk_at = None;
        let mut first_text_at = None;
        let mut pieces = 0usize;
        let mut usage: Option<(usize, usize)> = None;
        let mut finish: Option<String> = None;
        let mut stopped_by_caller = false;
        let mut done = false;
        while !done {
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            let data = match events.next_item() {
                Ok(Some(SseItem::Data(d))) => d,
                Ok(Some(SseItem::Done)) => break,
                Ok(None) => {
                    if finish.is_none() {
                        return Err(broke(
                            "the stream ended before the reply was finished".into(),
                        ));
                    }
                    break;
                }
                Err(e) => return Err(broke(describe_stream_error(&e, self.config.read_timeout))),
            };
            let chunk: Value = serde_json::from_str(&data)
                .map_err(|e| broke(format!("malformed stream event ({e}): {}", excerpt(&data))))?;
            if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
                return Err(broke(format!(
                    "the server failed mid-reply: {}",
                    excerpt(&error_message(err))
                )));
            }
            if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
                let n = |k: &str| u[k].as_u64().and_then(|n| usize::try_from(n).ok());
                if let (Some(p), Some(c)) = (n("prompt_tokens"), n("completion_tokens")) {
                    usage = Some((p, c));
                }
            }
            let Some(choice) = chunk["choices"].get(0) else {
                continue;
            };
            if let Some(piece) = choice["delta"]["content"]
                .as_str()
                .filter(|s| !s.is_empty())
            {
                pieces += 1;
                first_chunk_at.get_or_insert_with(|| start.elapsed());
                let out = aligner.push(piece);
                if !out.is_empty() {
                    first_text_at.get_or_insert_with(|| start.elapsed());
                    text.push_str(&out);
                    if !on_text(&out) {
                        stopped_by_caller = true;
                        done = true;
                    }
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                finish = Some(reason.to_string());
            }
        }
        if !stopped_by_caller {
            let rest = aligner.finish();
            if !rest.is_empty() {
                first_text_at.get_or_insert_with(|| start.elapsed());
                text.push_str(&rest);
                on_text(&rest);
            }
        }
        let stop = if stopped_by_caller {
            StopReason::Caller
        } else {
            match finish.as_deref() {
                Some("length") => StopReason::MaxTokens,
                _ => StopReason::EndOfTurn,
            }
        };
        let total_time = start.elapsed();
        let (prompt_tokens, generated_tokens) = usage.unwrap_or((0, pieces));
        Ok(Generation {
            text,
            prompt_tokens,
            // The server's own prompt cache, if any, is not reported.
            cached_prompt_tokens: 0,
            generated_tokens,
            stop,
            time_to_first_token: first_text_at.unwrap_or(total_time),
            // The server's prompt processing is only visible as the wait for
            // its first chunk.
            prompt_time: first_chunk_at.unwrap_or(total_time),
            total_time,
            // Constrained decoding, if any, happens on the server.
            constraint_time: Duration::ZERO,
        })
    }
}

impl TextModel for RemoteTextModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn context_length(&self) -> usize {
        self.context_length
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        prefill: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
        cancel: &CancelToken,
    ) -> Result<Generation> {
        let start = Instant::now();
        let auto =
            self.config.response_format == ResponseFormat::Auto && params.json_schema.is_some();
        let mut format = match self.config.response_format {
            ResponseFormat::Auto => self
                .endpoint
                .learnt_format()
                .unwrap_or(ResponseFormat::JsonSchema),
            chosen => chosen,
        };
        let sent = loop {
            let body = request::chat_body(&self.config.model, messages, params, format).to_string();
            let refused_format = Cell::new(false);
            let final_status = |_: u16, text: &str| {
                let refused = auto
                    && format == ResponseFormat::JsonSchema
                    && text.contains("response_format");
                refused_format.set(refused);
                refused
            };
            match self.send("/v1/chat/completions", Some(&body), &final_status, cancel) {
                Err(InferError::RemoteStatus { .. }) if refused_format.get() => {
                    tracing::info!(url = %self.base, "the server refused response_format json_schema; using json_object with a schema");
                    format = ResponseFormat::JsonObject;
                    self.endpoint.learn_format(format);
                }
                other => break other?,
            }
        };
        self.stream(sent, prefill, on_text, cancel, start)
    }
}

/// The wait before attempt `attempt + 1`.
fn backoff(base: Duration, attempt: u32, server_wait: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt - 1).min(16));
    let jitter_ms = (exp.as_millis() as u64 / 4).max(1);
    let jitter = Duration::from_millis(rand::rng().random_range(0..jitter_ms));
    (exp + jitter)
        .max(server_wait.unwrap_or_default())
        .min(MAX_BACKOFF)
}

fn sleep_unless_cancelled(wait: Duration, cancel: &CancelToken) -> Result<()> {
    let until = Instant::now() + wait;
    loop {
        if cancel.is_cancelled() {
            return Err(InferError::Cancelled);
        }
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(CANCEL_POLL));
    }
}

/// What went wrong at the transport level, and whether another attempt may
/// fare better.
fn describe_transport(t: &ureq::Transport, read_timeout: Duration) -> (String, bool) {
    use ureq::ErrorKind as K;
    // ureq's own text repeats the URL the error already names; the I/O
    // error underneath says what happened.
    let io = std::error::Error::source(t).and_then(|s| s.downcast_ref::<std::io::Error>());
    let timed_out = io.is_some_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        )
    });
    let cause = io.map_or_else(|| t.to_string(), |e| e.to_string());
    match t.kind() {
        K::ConnectionFailed if timed_out => ("connecting timed out".into(), true),
        K::ConnectionFailed => (format!("cannot connect: {cause}"), true),
        K::Io if timed_out => (
            format!("no answer within {} s", read_timeout.as_secs_f32()),
            true,
        ),
        K::Io => (format!("the connection broke: {cause}"), true),
        K::Dns => (format!("cannot resolve the host: {cause}"), false),
        _ => (t.to_string(), false),
    }
}

fn describe_stream_error(e: &std::io::Error, read_timeout: Duration) -> String {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => format!(
            "the reply stalled: nothing for {} s",
            read_timeout.as_secs_f32()
        ),
        _ => format!("the connection broke mid-reply: {e}"),
    }
}

/// The reason an error response gives: OpenAI-style `{"error":{"message"}}`
/// or FastAPI's `{"detail"}` when it parses so, else the raw text.
fn error_text(response: ureq::Response) -> String {
    let mut raw = String::new();
    let _ = response
        .into_reader()
        .take(16 * 1024)
        .read_to_string(&mut raw);
    match serde_json::from_str::<Value>(&raw) {
        Ok(v) if v.get("error").is_some() => error_message(&v["error"]),
        Ok(v) if v.get("detail").is_some() => match &v["detail"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        _ => raw,
    }
}

fn error_message(err: &Value) -> String {
    match err {
        Value::String(s) => s.clone(),
        other => other["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    }
}

/// One line, at most [`BODY_EXCERPT_CHARS`] characters.
fn excerpt(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= BODY_EXCERPT_CHARS {
        one_line
    } else {
        one_line
            .chars()
            .take(BODY_EXCERPT_CHARS)
            .collect::<String>()
            + "…"
    }
}

fn read_json(response: ureq::Response, url: &str) -> Result<Value> {
    let mut raw = String::new();
    response
        .into_reader()
        .take(4 * 1024 * 1024)
        .read_to_string(&mut raw)
        .map_err(|e| InferError::Remote {
            url: url.to_string(),
            reason: format!("reading the answer: {e}"),
        })?;
    serde_json::from_str(&raw).map_err(|e| InferError::Remote {
        url: url.to_string(),
        reason: format!("the answer is not JSON ({e}): {}", excerpt(&raw)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_checked() {
        let c = RemoteConfig::new(" http://gpu-box:8000/v1/ ", "qwen");
        assert_eq!(c.identity(), "qwen@http://gpu-box:8000");
        assert!(RemoteTextModel::new(RemoteConfig::new("gpu-box:8000", "qwen")).is_err());
        assert!(RemoteTextModel::new(RemoteConfig::new("http://gpu-box:8000", " ")).is_err());
    }

    #[test]
    fn the_api_key_stays_out_of_debug_output() {
        let mut c = RemoteConfig::new("http://h:1", "m");
        c.api_key = Some("sk-secret".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("<set>"));
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_respects_the_server() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4u32 {
            let exp = base * (1 << (attempt - 1));
            let w = backoff(base, attempt, None);
            assert!(w >= exp && w <= exp + exp / 4, "{attempt}: {w:?}");
        }
        assert_eq!(
            backoff(base, 1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(backoff(base, 40, None), MAX_BACKOFF);
        assert_eq!(
            backoff(base, 1, Some(Duration::from_secs(999))),
            MAX_BACKOFF
        );
    }

    #[test]
    fn error_bodies_become_one_short_line() {
        let long = format!("{}\n{}", "a".repeat(200), "b".repeat(200));
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(!e.contains('\n'));
        assert_eq!(
            error_message(&serde_json::json!({"message": "bad model"})),
            "bad model"
        );
    }

    #[test]
    fn response_formats_parse() {
        assert_eq!(
            "json-object".parse::<ResponseFormat>().unwrap(),
            ResponseFormat::JsonObject
        );
        assert!("xml".parse::<ResponseFormat>().is_err());
    }
}
