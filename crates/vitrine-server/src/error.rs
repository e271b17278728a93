//! Errors as `application/problem+json` (RFC 9457): `type`, `title`,
//! `status`, `detail`, and our stable `code` (`CoreError::code`), so a
//! client can branch on the code and show the detail.

use axum::extract::multipart::MultipartError;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vitrine_core::CoreError;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:vitrine:problem:CODE`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable: `not_found`, `forbidden`, `blocked`…
    pub code: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:vitrine:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
        }
    }
}

/// The HTTP status of a core error: the client's mistake (4xx) or ours
/// (5xx), and which.
pub fn status_of(e: &CoreError) -> StatusCode {
    match e.code() {
        "not_found" | "unknown_profile" | "unknown_model" | "missing_file" => StatusCode::NOT_FOUND,
        "invalid_input" | "empty_file" | "is_directory" | "prompt_too_long" => {
            StatusCode::BAD_REQUEST
        }
        "file_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "unsupported_format" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "corrupt_image" | "image_too_large" | "bad_image" => StatusCode::UNPROCESSABLE_ENTITY,
        "forbidden" => StatusCode::FORBIDDEN,
        "blocked" | "illegal_transition" | "duplicate" | "batch_stopped" => StatusCode::CONFLICT,
        "model_not_installed" | "no_model_installed" | "cancelled" => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        "invalid_model_output" | "remote" | "remote_status" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let status = status_of(&e);
        if status.is_server_error() {
            tracing::warn!(code = e.code(), error = %e, "request failed");
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    b.body_text(),
                )
            }
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {}", source_text(&e)),
            ),
            JsonRejection::JsonDataError(e) => ApiError::bad_request(
                "invalid_json",
                format!("the JSON does not fit this endpoint: {}", source_text(&e)),
            ),
            other => ApiError::new(other.status(), "bad_body", other.body_text()),
        }
    }
}

/// serde's own message (line, column, the field), without axum's prefix.
fn source_text(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        last = s.to_string();
        cur = s.source();
    }
    last
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

impl From<MultipartRejection> for ApiError {
    fn from(r: MultipartRejection) -> Self {
        ApiError::new(r.status(), "bad_multipart", r.body_text())
    }
}

impl From<MultipartError> for ApiError {
    fn from(e: MultipartError) -> Self {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "body_too_large", e.body_text())
        } else {
            ApiError::new(status, "bad_multipart", e.body_text())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vitrine\""),
            );
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
