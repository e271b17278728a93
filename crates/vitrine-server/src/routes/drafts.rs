//! Drafts and the review workflow, acting as the token's profile.

use axum::body::Bytes;
use axum::extract::State;
use axum::Extension;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vitrine_core::review::{self, DraftFilter, DraftStatus, NewComment};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

use super::{to_json, JsonValue};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DraftQuery {
    /// draft, in_review, approved, changes_requested, rejected, exported
    pub status: Option<String>,
    /// listing, script, review_summary
    pub kind: Option<String>,
    pub lang: Option<String>,
    pub marketplace: Option<String>,
    pub product: Option<i64>,
}

/// Drafts matching the filters, oldest first (a review queue's order).
#[utoipa::path(get, path = "/api/drafts", tag = "review", params(DraftQuery),
    responses((status = 200, body = [Object]), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<DraftQuery>,
) -> ApiResult<JsonValue> {
    let status = match q.status.as_deref() {
        Some(s) => Some(DraftStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_query", format!("unknown draft status `{s}`"))
        })?),
        None => None,
    };
    let filter = DraftFilter {
        status,
        kind: q.kind,
        lang: q.lang,
        marketplace: q.marketplace,
        product_ids: q.product.into_iter().collect(),
        draft_ids: Vec::new(),
    };
    to_json(&review::list(state.studio().store(), &filter).await?)
}

/// A draft with every version, its provenance and findings.
#[utoipa::path(get, path = "/api/drafts/{id}", tag = "review", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    to_json(&state.studio().draft(id).await?)
}

/// The draft's audit history, oldest first.
#[utoipa::path(get, path = "/api/drafts/{id}/history", tag = "review", params(("id" = i64, Path)),
    responses((status = 200, body = [Object]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    to_json(&review::history(state.studio().store(), id).await?)
}

/// An action's optional body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// Why; kept in the audit log.
    pub reason: Option<String>,
    /// Approve despite blocking findings (admins only), with this reason.
    #[serde(rename = "override")]
    pub override_reason: Option<String>,
}

/// The body is optional: empty means no reason.
fn action_body(bytes: &Bytes) -> ApiResult<ActionBody> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionBody::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "malformed_json"
        } else {
            "invalid_json"
        };
        ApiError::bad_request(code, format!("the body is not a valid action: {e}"))
    })
}

/// A review action on a draft: submit, approve, reject, request-changes,
/// reopen. Roles: authors submit; reviewers approve, reject and request
/// changes; admins reopen and override blocking findings.
#[utoipa::path(post, path = "/api/drafts/{id}/{action}", tag = "review",
    params(("id" = i64, Path), ("action" = String, Path, description = "submit, approve, reject, request-changes or reopen")),
    request_body(content = Option<ActionBody>, content_type = "application/json"),
    responses((status = 200, description = "The draft after the action (approve: with the findings)", body = Object),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn act(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, action)): Path<(i64, String)>,
    body: Bytes,
) -> ApiResult<JsonValue> {
    let body = action_body(&body)?;
    let store = state.studio().store();
    let actor = &caller.profile;
    let note = body.reason.as_deref();
    if body.override_reason.is_some() && action != "approve" {
        return Err(ApiError::bad_request(
            "invalid_input",
            "`override` applies to approve only",
        ));
    }
    match action.as_str() {
        "approve" => to_json(
            &review::approve(store, actor, id, note, body.override_reason.as_deref()).await?,
        ),
        "submit" => to_json(&review::submit(store, actor, id, note).await?),
        "reject" => to_json(&review::reject(store, actor, id, note).await?),
        "request-changes" | "request_changes" => {
            to_json(&review::request_changes(store, actor, id, note).await?)
        }
        "reopen" => to_json(&review::reopen(store, actor, id, note).await?),
        other => Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_action",
            format!("no action `{other}`: submit, approve, reject, request-changes or reopen"),
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// `title`, `bullets[1]`, `description`, `keywords[2]`, `seo_title`…
    pub field: String,
    /// Character offsets `[start, end)` in the field's text.
    pub span: Option<(usize, usize)>,
    /// The version commented on; the current one by default.
    pub version: Option<i64>,
    pub body: String,
}

/// Comment on a field (or a span of it) of a draft version.
#[utoipa::path(post, path = "/api/drafts/{id}/comments", tag = "review", params(("id" = i64, Path)),
    request_body = CommentBody,
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<CommentBody>,
) -> ApiResult<JsonValue> {
    let c = review::add_comment(
        state.studio().store(),
        &caller.profile,
        id,
        &NewComment {
            version: body.version,
            field: body.field,
            span: body.span,
            body: body.body,
        },
    )
    .await?;
    to_json(&c)
}

/// The comments on a draft.
#[utoipa::path(get, path = "/api/drafts/{id}/comments", tag = "review", params(("id" = i64, Path)),
    responses((status = 200, body = [Object]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn comments(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    let store = state.studio().store();
    store.draft(id).await?;
    to_json(&review::comments(store, id).await?)
}

/// Who the token acts as.
#[utoipa::path(get, path = "/api/me", tag = "review",
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn me(Extension(caller): Extension<Caller>) -> ApiResult<JsonValue> {
    to_json(&serde_json::json!({
        "profile": caller.profile.name,
        "role": caller.profile.role,
        "token_id": caller.token_id,
    }))
}

/// Verify the audit log's hash chain (reviewers and admins).
#[utoipa::path(get, path = "/api/audit/verify", tag = "review",
    responses((status = 200, body = Object), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn audit_verify(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<JsonValue> {
    caller.require(vitrine_core::review::Role::Reviewer, "verify the audit log")?;
    to_json(&vitrine_core::audit::verify(state.studio().store()).await?)
}
