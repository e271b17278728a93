//! The OpenAI-compatible endpoint: `/v1/models` and `/v1/chat/completions`
//! (streamed as server-sent events, or whole) on the models Vitrine
//! manages, for tools that already speak OpenAI's API. Errors here take
//! OpenAI's shape (`{"error": {"message", "type", "code"}}`), which its
//! SDKs read.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tracing::Instrument;
use utoipa::ToSchema;
use vitrine_core::completion::{
    CancelToken, ChatCompletion, ChatMessage, ChatRequest, FinishReason, GenerationParams,
    AUTO_MODEL,
};

use crate::error::ApiError;
use crate::routes::CancelOnDrop;
use crate::state::AppState;

/// An error in OpenAI's shape.
pub struct OpenAiError(pub ApiError);

impl From<ApiError> for OpenAiError {
    fn from(e: ApiError) -> Self {
        OpenAiError(e)
    }
}

impl From<vitrine_core::CoreError> for OpenAiError {
    fn from(e: vitrine_core::CoreError) -> Self {
        OpenAiError(e.into())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenAiErrorBody {
    #[schema(value_type = Object)]
    pub error: serde_json::Value,
}

fn error_json(e: &ApiError) -> serde_json::Value {
    let kind = match e.status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    serde_json::json!({ "error": {
        "message": e.detail, "type": kind, "code": e.code, "param": null,
    }})
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        (self.0.status, axum::Json(error_json(&self.0))).into_response()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelObject {
    pub id: String,
    pub object: String,
    pub created: i64,
    pub owned_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    pub object: String,
    pub data: Vec<ModelObject>,
}

fn model_object(id: String) -> ModelObject {
    ModelObject {
        id,
        object: "model".into(),
        created: 0,
        owned_by: "vitrine".into(),
    }
}

/// The models a chat completion can name: the installed text models (or
/// the remote server's), and `auto`, which lets the router choose.
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses((status = 200, body = ModelList)), security(("bearer" = [])))]
pub async fn models(State(state): State<AppState>) -> axum::Json<ModelList> {
    let mut data: Vec<ModelObject> = state
        .studio()
        .chat_models()
        .into_iter()
        .map(model_object)
        .collect();
    data.push(model_object(AUTO_MODEL.into()));
    axum::Json(ModelList {
        object: "list".into(),
        data,
    })
}

/// One model.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "openai", params(("id" = String, Path)),
    responses((status = 200, body = ModelObject), (status = 404, body = OpenAiErrorBody)),
    security(("bearer" = [])))]
pub async fn model(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::Json<ModelObject>, OpenAiError> {
    if id == AUTO_MODEL || state.studio().chat_models().contains(&id) {
        return Ok(axum::Json(model_object(id)));
    }
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "model_not_found",
        format!("no model `{id}` here; GET /v1/models lists them"),
    )
    .into())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatCompletionRequest {
    /// A name from `GET /v1/models`.
    pub model: String,
    pub messages: Vec<RequestMessage>,
    /// 0–2 (default 1).
    pub temperature: Option<f64>,
    /// (0, 1] (default 1).
    pub top_p: Option<f64>,
    /// Default 512.
    pub max_tokens: Option<usize>,
    pub max_completion_tokens: Option<usize>,
    pub seed: Option<u64>,
    /// A string or up to 4 strings.
    #[schema(value_type = Option<Object>)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub stream: bool,
    #[schema(value_type = Option<Object>)]
    pub stream_options: Option<StreamOptions>,
    /// Only 1.
    pub n: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestMessage {
    /// system, developer, user, assistant
    pub role: String,
    /// A string, or text parts `[{"type": "text", "text": "…"}]`.
    #[schema(value_type = Object)]
    pub content: Option<Content>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
pub struct Part {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

fn invalid(detail: impl Into<String>) -> OpenAiError {
    OpenAiError(ApiError::bad_request("invalid_request", detail))
}

fn to_message(m: RequestMessage) -> Result<ChatMessage, OpenAiError> {
    let content = match m.content {
        None => String::new(),
        Some(Content::Text(t)) => t,
        Some(Content::Parts(parts)) => {
            let mut out = String::new();
            for p in parts {
                if p.kind != "text" {
                    return Err(invalid(format!(
                        "content parts of type `{}` are not supported; send text",
                        p.kind
                    )));
                }
                out.push_str(p.text.as_deref().unwrap_or_default());
            }
            out
        }
    };
    match m.role.as_str() {
        "system" | "developer" => Ok(ChatMessage::system(content)),
        "user" => Ok(ChatMessage::user(content)),
        "assistant" => Ok(ChatMessage::assistant(content)),
        other => Err(invalid(format!(
            "messages with role `{other}` are not supported (system, developer, user, assistant)"
        ))),
    }
}

fn completion_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "chatcmpl-{:x}{:04x}",
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn finish(r: FinishReason) -> &'static str {
    match r {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
    }
}

fn usage(c: &ChatCompletion) -> serde_json::Value {
    serde_json::json!({
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "total_tokens": c.prompt_tokens + c.completion_tokens,
    })
}

/// A chat completion on a managed model: the messages as given, no
/// pipeline. `stream: true` sends `data: {chunk}` events and `data: [DONE]`.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai",
    request_body = ChatCompletionRequest,
    responses((status = 200, description = "A chat.completion object, or an event stream of chat.completion.chunk objects", body = Object),
        (status = 400, body = OpenAiErrorBody), (status = 404, body = OpenAiErrorBody)),
    security(("bearer" = [])))]
pub async fn chat_completions(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, OpenAiError> {
    let req: ChatCompletionRequest = serde_json::from_slice(&body).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "malformed_json"
        } else {
            "invalid_json"
        };
        OpenAiError(ApiError::bad_request(
            code,
            format!("the body is not a chat completion request: {e}"),
        ))
    })?;
    if req.n.is_some_and(|n| n != 1) {
        return Err(invalid("only `n: 1` is supported"));
    }
    let studio = state.studio();
    if req.model != AUTO_MODEL && !studio.chat_models().contains(&req.model) {
        return Err(OpenAiError(ApiError::new(
            StatusCode::NOT_FOUND,
            "model_not_found",
            format!("no model `{}` here; GET /v1/models lists them", req.model),
        )));
    }
    let messages = req
        .messages
        .into_iter()
        .map(to_message)
        .collect::<Result<Vec<_>, _>>()?;
    let params = GenerationParams {
        temperature: req.temperature.unwrap_or(1.0),
        top_p: Some(req.top_p.unwrap_or(1.0)),
        top_k: None,
        repeat_penalty: 1.0,
        repeat_last_n: 64,
        seed: req.seed.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default()
        }),
        max_tokens: req.max_completion_tokens.or(req.max_tokens).unwrap_or(512),
        json_schema: None,
        avoid_words: Vec::new(),
    };
    let stop = match req.stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s],
        Some(Stop::Many(v)) => v,
    };
    let chat = ChatRequest {
        model: req.model.clone(),
        messages,
        params,
        stop,
    };
    chat.validate()?;
    let id = completion_id();
    let created = now_secs();
    let cancel = CancelToken::new();

    if !req.stream {
        let _guard = CancelOnDrop(cancel.clone());
        let c = studio
            .chat_completion(chat, Box::new(|_| true), cancel)
            .await?;
        let body = serde_json::json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": c.model_id,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": c.text },
                "finish_reason": finish(c.finish_reason),
                "logprobs": null,
            }],
            "usage": usage(&c),
        });
        return Ok(axum::Json(body).into_response());
    }

    let include_usage = req.stream_options.is_some_and(|o| o.include_usage);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Event, Infallible>>();
    let model = req.model.clone();
    let chunk = move |delta: serde_json::Value, finish_reason: Option<&str>| {
        serde_json::json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null }],
        })
    };
    let send = |tx: &tokio::sync::mpsc::UnboundedSender<Result<Event, Infallible>>,
                v: &serde_json::Value| {
        tx.send(Ok(Event::default().data(v.to_string()))).is_ok()
    };
    send(
        &tx,
        &chunk(
            serde_json::json!({"role": "assistant", "content": ""}),
            None,
        ),
    );
    let studio = studio.clone();
    let span = tracing::Span::current();
    tokio::spawn(
        async move {
            // The stream ending (the client went away) drops `rx`: the next
            // token's send fails and generation stops.
            let token_tx = tx.clone();
            let token_chunk = chunk.clone();
            let on_text = Box::new(move |piece: &str| {
                send(
                    &token_tx,
                    &token_chunk(serde_json::json!({ "content": piece }), None),
                )
            });
            match studio.chat_completion(chat, on_text, cancel).await {
                Ok(c) => {
                    let mut last = chunk(serde_json::json!({}), Some(finish(c.finish_reason)));
                    if let Some(obj) = last.as_object_mut() {
                        obj.insert("model".into(), c.model_id.clone().into());
                    }
                    send(&tx, &last);
                    if include_usage {
                        let mut u = chunk(serde_json::json!({}), None);
                        if let Some(obj) = u.as_object_mut() {
                            obj.insert("choices".into(), serde_json::json!([]));
                            obj.insert("usage".into(), usage(&c));
                        }
                        send(&tx, &u);
                    }
                }
                Err(vitrine_core::CoreError::Cancelled) => {
                    tracing::info!("chat completion stream closed by the client");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "chat completion failed mid-stream");
                    send(&tx, &error_json(&ApiError::from(e)));
                }
            }
            let _ = tx.send(Ok(Event::default().data("[DONE]")));
        }
        .instrument(span),
    );
    Ok(Sse::new(UnboundedReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response())
}
