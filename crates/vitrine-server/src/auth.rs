//! Bearer tokens: every `/api` and `/v1` request names a token; the token
//! acts as its review-workflow profile, and counts against its own rate.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vitrine_core::api_tokens;
use vitrine_core::review::{Profile, Role};

use crate::error::ApiError;
use crate::openai::OpenAiError;
use crate::state::AppState;

/// Who is calling: put into each authenticated request's extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub profile: Profile,
}

impl Caller {
    /// Refuse an action above the caller's role (most roles are checked
    /// by the review workflow itself; this is for the server's own).
    pub fn require(&self, needed: Role, action: &str) -> Result<(), ApiError> {
        if self.profile.role >= needed {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{} `{}` may not {action}; it takes the {needed} role or above",
                self.profile.role, self.profile.name
            ),
        ))
    }
}

/// Authenticate the request; refusals take the shape of the API called
/// (OpenAI's error JSON under `/v1`, problem+json elsewhere), so an OpenAI
/// client shows the reason.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let openai = req.uri().path().starts_with("/v1/");
    match authenticate(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) if openai => OpenAiError(e).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn authenticate(state: &AppState, mut req: Request) -> Result<Request, ApiError> {
    let unauthorized =
        |detail: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail.to_string());
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            unauthorized(
                "no token: send `Authorization: Bearer TOKEN` (make one with `vitrine tokens create --role author`)",
            )
        })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
    let (info, profile) = api_tokens::authenticate(state.studio().store(), token)
        .await?
        .ok_or_else(|| unauthorized("the token is unknown or revoked"))?;
    state.check_rate(info.id)?;
    tracing::debug!(profile = %profile.name, token = info.id, "authenticated");
    req.extensions_mut().insert(Caller {
        token_id: info.id,
        profile,
    });
    Ok(req)
}
