//! Bearer tokens: every `/api` and `/v1` request names a token; the token
//! acts as its review-workflow profile, and counts against its own rate.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use vitrine_core::api_tokens;
use vitrine_core::review::{Profile, Role};

use crate::error::ApiError;
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

pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
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
    Ok(next.run(req).await)
}
