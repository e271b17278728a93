//! Comments anchored to a field of one draft version, and optionally to a
//! character span of its text (as findings are).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{authorize, Action, Profile};
use crate::audit::{self, AuditEntry};
use crate::checks;
use crate::error::{CoreError, Result};
use crate::script::{self, Script};
use crate::store::{self, now, Store};
use crate::types::DraftVersion;

/// A comment about to be added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComment {
    /// The version commented on; the current one when `None`.
    pub version: Option<i64>,
    /// `title`, `bullets[2]`, `description`… (see [`version_fields`]).
    pub field: String,
    /// Character offsets `[start, end)` in the field's text.
    pub span: Option<(usize, usize)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub draft_id: i64,
    pub version: i64,
    pub field: String,
    pub span: Option<(usize, usize)>,
    pub author: String,
    pub body: String,
    pub created_at: String,
}

/// The text fields of a version, named as the checks name them: a
/// listing's `title`, `bullets[N]`, `description`, `keywords[N]` and
/// marketplace fields; a script's `title` and `segments[N].KIND` host
/// lines.
pub fn version_fields(kind: &str, version: &DraftVersion) -> Vec<(String, String)> {
    if kind == script::DRAFT_KIND {
        if let Some(s) = version
            .content
            .as_ref()
            .and_then(|c| serde_json::from_value::<Script>(c.clone()).ok())
        {
            let mut out = vec![("title".to_string(), s.title.clone())];
            out.extend(
                script::host_fields(&s)
                    .into_iter()
                    .map(|f| (f.field, f.text.to_string())),
            );
            return out;
        }
    }
    checks::listing_fields(&version.listing)
        .into_iter()
        .map(|f| (f.field, f.text.to_string()))
        .collect()
}

/// Add a comment; the anchor must name a field of that version and the
/// span lie within its text. Audited in the same transaction.
pub async fn add_comment(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    comment: &NewComment,
) -> Result<Comment> {
    authorize(actor, Action::Comment)?;
    let body = comment.body.trim();
    if body.is_empty() {
        return Err(CoreError::InvalidInput("a comment needs some text".into()));
    }
    let mut tx = store.begin_write().await?;
    let draft = store::load_draft(&mut tx, draft_id).await?;
    let version = match comment.version {
        Some(n) => draft
            .versions
            .iter()
            .find(|v| v.version == n)
            .ok_or_else(|| {
                CoreError::InvalidInput(format!(
                    "draft {draft_id} has no version {n} (it has 1..={})",
                    draft.versions.len()
                ))
            })?,
        None => draft.versions.last().ok_or(CoreError::NotFound {
            kind: "draft version",
            id: draft_id,
        })?,
    };
    let fields = version_fields(&draft.kind, version);
    let Some((_, text)) = fields.iter().find(|(name, _)| *name == comment.field) else {
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        return Err(CoreError::InvalidInput(format!(
            "version {} of draft {draft_id} has no field `{}` (fields: {})",
            version.version,
            comment.field,
            names.join(", ")
        )));
    };
    if let Some((start, end)) = comment.span {
        let len = text.chars().count();
        if start >= end || end > len {
            return Err(CoreError::InvalidInput(format!(
                "span {start}..{end} is not within `{}` ({len} characters; a span is start..end with start < end <= {len})",
                comment.field
            )));
        }
    }
    let created_at = now();
    let (span_start, span_end) = match comment.span {
        Some((s, e)) => (Some(count(s)?), Some(count(e)?)),
        None => (None, None),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO comments (draft_id, version, field, span_start, span_end, author, body,
                               created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id",
    )
    .bind(draft_id)
    .bind(version.version)
    .bind(&comment.field)
    .bind(span_start)
    .bind(span_end)
    .bind(&actor.name)
    .bind(body)
    .bind(&created_at)
    .fetch_one(&mut *tx)
    .await?;
    let stored = Comment {
        id,
        draft_id,
        version: version.version,
        field: comment.field.clone(),
        span: comment.span,
        author: actor.name.clone(),
        body: body.to_string(),
        created_at,
    };
    // A comment leaves the draft as it was: before and after are the same.
    let state = audit::draft_state_sha(&mut tx, draft_id).await?;
    audit::append(
        &mut tx,
        &AuditEntry {
            actor: actor.name.clone(),
            action: "comment".into(),
            entity: "draft".into(),
            entity_id: draft_id,
            before_sha: state.clone(),
            after_sha: state,
            details: serde_json::json!({
                "comment_id": stored.id,
                "version": stored.version,
                "field": stored.field,
                "span": stored.span,
                "body": stored.body,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// A draft's comments, oldest first.
pub async fn comments(store: &Store, draft_id: i64) -> Result<Vec<Comment>> {
    let rows = sqlx::query(
        "SELECT id, draft_id, version, field, span_start, span_end, author, body, created_at
           FROM comments WHERE draft_id = $1 ORDER BY id",
    )
    .bind(draft_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

fn count(n: usize) -> Result<i64> {
    i64::try_from(n).map_err(|_| CoreError::InvalidInput(format!("offset {n} is too large")))
}

fn from_row(r: &AnyRow) -> Result<Comment> {
    let start: Option<i64> = r.try_get("span_start")?;
    let end: Option<i64> = r.try_get("span_end")?;
    let offset = |v: i64| {
        usize::try_from(v).map_err(|_| {
            CoreError::Database(sqlx::Error::Decode(
                format!("negative comment offset {v}").into(),
            ))
        })
    };
    let span = match (start, end) {
        (Some(s), Some(e)) => Some((offset(s)?, offset(e)?)),
        _ => None,
    };
    Ok(Comment {
        id: r.try_get("id")?,
        draft_id: r.try_get("draft_id")?,
        version: r.try_get("version")?,
        field: r.try_get("field")?,
        span,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}
