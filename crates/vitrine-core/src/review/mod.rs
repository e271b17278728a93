//! The brand review workflow: who may move a draft between states, the
//! checks approval re-runs, comments, diffs between versions, and an audit
//! entry for every change, written in the change's own transaction.
//!
//! States (see docs/review.md):
//!
//! ```text
//! draft ──submit──▶ in_review ──approve──▶ approved ──mark_exported──▶ exported
//!   │  ▲               │  │                   │
//!   │  └──(edit)───────┘  └─request_changes─▶ changes_requested ──submit──▶ in_review
//!   ├──approve──▶ approved          (edit of approved → draft)
//!   └──reject──▶ rejected ──reopen (admin)──▶ draft
//! ```
//!
//! Roles are ordered author < reviewer < admin; each action names the
//! least role that may take it.

mod bulk;
mod comments;
mod diff;
mod profiles;

use crate::store::Conn;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, AuditEntry};
use crate::checks::{self, Finding};
use crate::draft_check;
use crate::error::{CoreError, Result};
use crate::store::{self, Store};
use crate::types::Draft;

pub use bulk::{bulk, list, mark_exported, BulkAction, DraftFilter, Outcome};
pub use comments::{add_comment, comments, version_fields, Comment, NewComment};
pub use diff::{
    diff_texts, diff_versions, render_chunks, DiffChunk, DiffOp, FieldDiff, Granularity,
    VersionDiff,
};
pub use profiles::{acting_profile, add_profile, default_profile_name, profile, profiles};

/// What a profile may do, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Author,
    Reviewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "author" => Ok(Role::Author),
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(CoreError::InvalidInput(format!(
                "unknown role `{other}`: author, reviewer or admin"
            ))),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A local profile: a name people act under, and its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    Draft,
    InReview,
    Approved,
    ChangesRequested,
    Rejected,
    Exported,
}

impl DraftStatus {
    pub const ALL: [DraftStatus; 6] = [
        DraftStatus::Draft,
        DraftStatus::InReview,
        DraftStatus::Approved,
        DraftStatus::ChangesRequested,
        DraftStatus::Rejected,
        DraftStatus::Exported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::InReview => "in_review",
            DraftStatus::Approved => "approved",
            DraftStatus::ChangesRequested => "changes_requested",
            DraftStatus::Rejected => "rejected",
            DraftStatus::Exported => "exported",
        }
    }

    /// Also accepts `in-review` and `changes-requested`, as typed on a
    /// command line.
    pub fn parse(s: &str) -> Option<DraftStatus> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        DraftStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for DraftStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a profile does to a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Approve,
    RequestChanges,
    Reject,
    Reopen,
    MarkExported,
    /// A new version written by a person.
    Edit,
    Comment,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Submit,
        Action::Approve,
        Action::RequestChanges,
        Action::Reject,
        Action::Reopen,
        Action::MarkExported,
        Action::Edit,
        Action::Comment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::RequestChanges => "request_changes",
            Action::Reject => "reject",
            Action::Reopen => "reopen",
            Action::MarkExported => "mark_exported",
            Action::Edit => "edit",
            Action::Comment => "comment",
        }
    }

    /// The least role that may take the action.
    pub fn min_role(self) -> Role {
        match self {
            Action::Submit | Action::MarkExported | Action::Edit | Action::Comment => Role::Author,
            Action::Approve | Action::RequestChanges | Action::Reject => Role::Reviewer,
            Action::Reopen => Role::Admin,
        }
    }

    /// The state the action leads to from `from`, or `None` when it does
    /// not apply there. Comments change no state.
    pub fn next(self, from: DraftStatus) -> Option<DraftStatus> {
        use DraftStatus as S;
        match (self, from) {
            (Action::Submit, S::Draft | S::ChangesRequested) => Some(S::InReview),
            (Action::Approve, S::InReview | S::Draft) => Some(S::Approved),
            (Action::RequestChanges, S::InReview) => Some(S::ChangesRequested),
            (Action::Reject, S::InReview | S::Draft | S::ChangesRequested) => Some(S::Rejected),
            (Action::Reopen, S::Rejected) => Some(S::Draft),
            (Action::MarkExported, S::Approved) => Some(S::Exported),
            // Changed text must be reviewed again.
            (Action::Edit, S::Approved | S::InReview) => Some(S::Draft),
            (Action::Edit, S::Draft | S::ChangesRequested) => Some(from),
            (Action::Comment, _) => Some(from),
            _ => None,
        }
    }

    /// The states the action applies to.
    pub fn applies_to(self) -> Vec<DraftStatus> {
        DraftStatus::ALL
            .into_iter()
            .filter(|s| self.next(*s).is_some())
            .collect()
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Refuse `action` unless `actor`'s role allows it.
pub fn authorize(actor: &Profile, action: Action) -> Result<()> {
    permit(actor, action.as_str(), action.min_role())
}

fn permit(actor: &Profile, action: &str, needed: Role) -> Result<()> {
    if actor.role >= needed {
        return Ok(());
    }
    Err(CoreError::Forbidden {
        action: action.to_string(),
        profile: actor.name.clone(),
        role: actor.role.to_string(),
        needed: needed.to_string(),
    })
}

/// The result of an approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub draft: Draft,
    /// What the checks found in the approved version.
    pub findings: Vec<Finding>,
    /// Blocking findings stood and an admin approved anyway.
    pub overridden: bool,
}

pub async fn submit(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    note: Option<&str>,
) -> Result<Draft> {
    change_status(store, actor, draft_id, Action::Submit, note).await
}

pub async fn request_changes(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    note: Option<&str>,
) -> Result<Draft> {
    change_status(store, actor, draft_id, Action::RequestChanges, note).await
}

pub async fn reject(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    note: Option<&str>,
) -> Result<Draft> {
    change_status(store, actor, draft_id, Action::Reject, note).await
}

/// Bring a rejected draft back to `draft` (admins only).
pub async fn reopen(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    note: Option<&str>,
) -> Result<Draft> {
    change_status(store, actor, draft_id, Action::Reopen, note).await
}

/// Approve a draft. Its current version is checked again; a blocking
/// finding refuses approval ([`CoreError::Blocked`]) unless `actor` is an
/// admin and gives `override_reason`, which the audit entry records with
/// the findings it overrode.
pub async fn approve(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    note: Option<&str>,
    override_reason: Option<&str>,
) -> Result<Approval> {
    authorize(actor, Action::Approve)?;
    let override_reason = match override_reason.map(str::trim) {
        Some("") => return Err(CoreError::InvalidInput("an override needs a reason".into())),
        Some(r) => {
            permit(actor, "override blocking findings", Role::Admin)?;
            Some(r)
        }
        None => None,
    };
    // The checks read the store (and may seed the knowledge graph), so
    // they run before the write transaction; the transaction then makes
    // sure the version checked is still the current one.
    for _ in 0..3 {
        let draft = store.draft(draft_id).await?;
        let from = parse_status(draft_id, &draft.status, Action::Approve)?;
        let to = next_or_illegal(draft_id, from, Action::Approve)?;
        let checked_version = draft.versions.last().map_or(0, |v| v.version);
        let findings = draft_check::check_current(store, &draft).await?;
        let blocking: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == checks::Severity::Blocking)
            .collect();
        if !blocking.is_empty() && override_reason.is_none() {
            return Err(CoreError::Blocked {
                draft_id,
                problems: blocking.iter().map(|f| f.describe()).collect(),
            });
        }
        let mut tx = store.begin_write().await?;
        let (status, version) = current_state(&mut tx, draft_id).await?;
        if status != draft.status || version != checked_version {
            // Edited or moved meanwhile: check what is there now.
            continue;
        }
        let mut details = serde_json::json!({
            "from": from.as_str(),
            "to": to.as_str(),
            "version": version,
            "findings": {
                "blocking": blocking.len(),
                "warnings": findings.len() - blocking.len(),
            },
        });
        if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
            details["note"] = note.into();
        }
        let overridden = !blocking.is_empty();
        if let (true, Some(reason)) = (overridden, override_reason) {
            details["override"] = serde_json::json!({
                "reason": reason,
                "findings": blocking,
            });
        }
        set_status(&mut tx, actor, draft_id, to, "approve", details).await?;
        let draft = store::load_draft(&mut tx, draft_id).await?;
        tx.commit().await?;
        tracing::info!(draft_id, actor = %actor.name, overridden, "draft approved");
        return Ok(Approval {
            draft,
            findings,
            overridden,
        });
    }
    Err(CoreError::InvalidInput(format!(
        "draft {draft_id} kept changing while it was being approved; try again"
    )))
}

/// A person's edit: a new version of the draft's content (a [`Listing`]
/// for listing drafts, its kind's JSON for others). An approved or
/// in-review draft goes back to `draft`.
///
/// [`Listing`]: crate::types::Listing
pub async fn edit<T: Serialize>(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    content: &T,
) -> Result<Draft> {
    authorize(actor, Action::Edit)?;
    let value = serde_json::to_value(content)
        .map_err(|e| CoreError::InvalidInput(format!("cannot serialise the edit: {e}")))?;
    let draft = store.draft(draft_id).await?;
    let value = validate_content(&draft.kind, value)?;
    let text = store::to_json(&value)?;
    let mut tx = store.begin_write().await?;
    record_version(&mut tx, draft_id, &text, None, &actor.name).await?;
    let draft = store::load_draft(&mut tx, draft_id).await?;
    tx.commit().await?;
    Ok(draft)
}

/// The content an edit stores must read back as its kind; listings and
/// scripts are stored as their types write them (unknown keys dropped).
fn validate_content(kind: &str, value: serde_json::Value) -> Result<serde_json::Value> {
    fn normalise<T: serde::de::DeserializeOwned + Serialize>(
        kind: &str,
        value: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let typed: T = serde_json::from_value(value)
            .map_err(|e| CoreError::InvalidInput(format!("the edit is not a valid {kind}: {e}")))?;
        serde_json::to_value(typed)
            .map_err(|e| CoreError::InvalidInput(format!("cannot serialise the edit: {e}")))
    }
    match kind {
        checks::LISTING => normalise::<crate::types::Listing>(kind, value),
        crate::script::DRAFT_KIND => normalise::<crate::script::Script>(kind, value),
        _ if value.is_object() => Ok(value),
        _ => Err(CoreError::InvalidInput(format!(
            "the edit of a {kind} draft must be a JSON object"
        ))),
    }
}

/// Append a version and audit it, inside the caller's write transaction:
/// the one path every new version of an existing draft takes. `author`
/// is the actor; a version with provenance is a regeneration.
pub(crate) async fn record_version(
    conn: &mut Conn,
    draft_id: i64,
    content: &str,
    provenance: Option<&str>,
    author: &str,
) -> Result<()> {
    let (status, _) = current_state(conn, draft_id).await?;
    let from = parse_status(draft_id, &status, Action::Edit)?;
    let to = next_or_illegal(draft_id, from, Action::Edit)?;
    let before_sha = audit::draft_state_sha(conn, draft_id).await?;
    let at = store::now();
    sqlx::query("UPDATE drafts SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(&at)
        .bind(draft_id)
        .execute(&mut *conn)
        .await?;
    store::insert_next_version(conn, draft_id, content, provenance, author, &at).await?;
    let (_, version) = current_state(conn, draft_id).await?;
    let after_sha = audit::draft_state_sha(conn, draft_id).await?;
    audit::append(
        conn,
        &AuditEntry {
            actor: author.to_string(),
            action: if provenance.is_some() {
                "regenerate"
            } else {
                "edit"
            }
            .into(),
            entity: "draft".into(),
            entity_id: draft_id,
            before_sha,
            after_sha,
            details: serde_json::json!({
                "from": from.as_str(),
                "to": to.as_str(),
                "version": version,
            }),
        },
    )
    .await?;
    Ok(())
}

/// A plain state change: check the role, the state, then write the status
/// and its audit entry in one transaction.
async fn change_status(
    store: &Store,
    actor: &Profile,
    draft_id: i64,
    action: Action,
    note: Option<&str>,
) -> Result<Draft> {
    authorize(actor, action)?;
    let mut tx = store.begin_write().await?;
    let (status, version) = current_state(&mut tx, draft_id).await?;
    let from = parse_status(draft_id, &status, action)?;
    let to = next_or_illegal(draft_id, from, action)?;
    let mut details = serde_json::json!({
        "from": from.as_str(),
        "to": to.as_str(),
        "version": version,
    });
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        details["note"] = note.into();
    }
    set_status(&mut tx, actor, draft_id, to, action.as_str(), details).await?;
    let draft = store::load_draft(&mut tx, draft_id).await?;
    tx.commit().await?;
    tracing::debug!(draft_id, actor = %actor.name, %action, %to, "draft status changed");
    Ok(draft)
}

async fn set_status(
    conn: &mut Conn,
    actor: &Profile,
    draft_id: i64,
    to: DraftStatus,
    action: &str,
    details: serde_json::Value,
) -> Result<()> {
    let before_sha = audit::draft_state_sha(conn, draft_id).await?;
    sqlx::query("UPDATE drafts SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(store::now())
        .bind(draft_id)
        .execute(&mut *conn)
        .await?;
    let after_sha = audit::draft_state_sha(conn, draft_id).await?;
    audit::append(
        conn,
        &AuditEntry {
            actor: actor.name.clone(),
            action: action.to_string(),
            entity: "draft".into(),
            entity_id: draft_id,
            before_sha,
            after_sha,
            details,
        },
    )
    .await?;
    Ok(())
}

/// A draft's status and current version number.
async fn current_state(conn: &mut Conn, draft_id: i64) -> Result<(String, i64)> {
    let row = sqlx::query(
        "SELECT d.status, (SELECT COALESCE(MAX(version), 0) FROM draft_versions
                            WHERE draft_id = d.id) AS version
           FROM drafts d WHERE d.id = $1",
    )
    .bind(draft_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(CoreError::NotFound {
        kind: "draft",
        id: draft_id,
    })?;
    Ok((row.try_get("status")?, row.try_get("version")?))
}

/// A status written before the workflow, or by hand, that it does not
/// know is treated as one no action applies to.
fn parse_status(draft_id: i64, status: &str, action: Action) -> Result<DraftStatus> {
    DraftStatus::parse(status).ok_or_else(|| CoreError::IllegalTransition {
        draft_id,
        from: status.to_string(),
        action: action.as_str().to_string(),
    })
}

fn next_or_illegal(draft_id: i64, from: DraftStatus, action: Action) -> Result<DraftStatus> {
    action
        .next(from)
        .ok_or_else(|| CoreError::IllegalTransition {
            draft_id,
            from: from.as_str().to_string(),
            action: action.as_str().to_string(),
        })
}

/// A draft's audit entries, oldest first.
pub async fn history(store: &Store, draft_id: i64) -> Result<Vec<audit::AuditRecord>> {
    audit::for_entity(store, "draft", draft_id).await
}
