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
    pub status: Option<StatusName>,
    pub kind: Option<KindName>,
    pub lang: Option<String>,
    pub marketplace: Option<String>,
    pub product: Option<i64>,
}

/// A draft's state in the review workflow.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    Draft,
    InReview,
    Approved,
    ChangesRequested,
    Rejected,
    Exported,
}

impl From<StatusName> for DraftStatus {
    fn from(s: StatusName) -> Self {
        match s {
            StatusName::Draft => DraftStatus::Draft,
            StatusName::InReview => DraftStatus::InReview,
            StatusName::Approved => DraftStatus::Approved,
            StatusName::ChangesRequested => DraftStatus::ChangesRequested,
            StatusName::Rejected => DraftStatus::Rejected,
            StatusName::Exported => DraftStatus::Exported,
        }
    }
}

/// What a draft holds.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    Listing,
    Script,
    ReviewSummary,
}

impl KindName {
    fn as_str(self) -> &'static str {
        match self {
            KindName::Listing => "listing",
            KindName::Script => "script",
            KindName::ReviewSummary => "review_summary",
        }
    }
}

/// Drafts matching the filters, oldest first (a review queue's order).
#[utoipa::path(get, path = "/api/drafts", tag = "review", params(DraftQuery),
    responses((status = 200, body = [Object]), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<DraftQuery>,
) -> ApiResult<JsonValue> {
    let filter = DraftFilter {
        status: q.status.map(DraftStatus::from),
        kind: q.kind.map(|k| k.as_str().to_string()),
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
}

/// Approval's optional body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Why; kept in the audit log.
    pub reason: Option<String>,
    /// Approve despite blocking findings (admins only), with this reason
    /// (not blank).
    #[serde(rename = "override")]
    #[schema(pattern = r"\S")]
    pub override_reason: Option<String>,
}

/// A body that may be empty or `null`, meaning all defaults.
fn optional_body<T: serde::de::DeserializeOwned + Default>(bytes: &Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice::<Option<T>>(bytes)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            let code = if e.is_syntax() || e.is_eof() {
                "malformed_json"
            } else {
                "invalid_json"
            };
            ApiError::bad_request(code, format!("the body does not fit this action: {e}"))
        })
}

/// A review action other than approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewAction {
    Submit,
    Reject,
    #[serde(alias = "request_changes")]
    RequestChanges,
    Reopen,
}

/// A review action on a draft: submit, reject, request-changes, reopen.
/// Roles: authors submit; reviewers reject and request changes; admins
/// reopen. Approval has its own operation.
#[utoipa::path(post, path = "/api/drafts/{id}/{action}", tag = "review",
    params(("id" = i64, Path), ("action" = ReviewAction, Path)),
    request_body(content = Option<ActionBody>, content_type = "application/json"),
    responses((status = 200, description = "The draft after the action", body = Object),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn act(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, action)): Path<(i64, ReviewAction)>,
    body: Bytes,
) -> ApiResult<JsonValue> {
    let body: ActionBody = optional_body(&body)?;
    let store = state.studio().store();
    let actor = &caller.profile;
    let note = body.reason.as_deref();
    match action {
        ReviewAction::Submit => to_json(&review::submit(store, actor, id, note).await?),
        ReviewAction::Reject => to_json(&review::reject(store, actor, id, note).await?),
        ReviewAction::RequestChanges => {
            to_json(&review::request_changes(store, actor, id, note).await?)
        }
        ReviewAction::Reopen => to_json(&review::reopen(store, actor, id, note).await?),
    }
}

/// Approve a draft in review (reviewers). Blocking findings refuse it
/// (409) unless an admin gives an `override` reason.
#[utoipa::path(post, path = "/api/drafts/{id}/approve", tag = "review",
    params(("id" = i64, Path)),
    request_body(content = Option<ApproveBody>, content_type = "application/json"),
    responses((status = 200, description = "The approval, with the findings", body = Object),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<JsonValue> {
    let body: ApproveBody = optional_body(&body)?;
    to_json(
        &review::approve(
            state.studio().store(),
            &caller.profile,
            id,
            body.reason.as_deref(),
            body.override_reason.as_deref(),
        )
        .await?,
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// `title`, `bullets[1]`, `description`, `keywords[2]`, `seo_title`…
    #[schema(min_length = 1)]
    pub field: String,
    /// Character offsets `[start, end)` in the field's text.
    #[schema(min_items = 2, max_items = 2)]
    pub span: Option<(usize, usize)>,
    /// The version commented on; the current one by default.
    pub version: Option<i64>,
    /// The comment; blank text is refused.
    #[schema(pattern = r"\S")]
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
