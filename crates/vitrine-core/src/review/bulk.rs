//! Listing drafts by filter, and acting on many at once: each draft in its
//! own transaction, so one that is blocked or in the wrong state is
//! reported and the others go on.

use serde::{Deserialize, Serialize};

use super::{approve, authorize, change_status, Action, DraftStatus, Profile};
use crate::error::{CoreError, Result};
use crate::store::{self, Store};
use crate::types::DraftSummary;

/// Which drafts; every field that is set must match (lists match any of
/// their values; an empty list matches all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftFilter {
    pub status: Option<DraftStatus>,
    pub kind: Option<String>,
    pub lang: Option<String>,
    pub marketplace: Option<String>,
    #[serde(default)]
    pub product_ids: Vec<i64>,
    #[serde(default)]
    pub draft_ids: Vec<i64>,
}

/// Drafts matching `filter`, oldest first (the order a review queue is
/// worked through).
pub async fn list(store: &Store, filter: &DraftFilter) -> Result<Vec<DraftSummary>> {
    let mut sql = format!("{} WHERE 1 = 1", store::SUMMARY_SELECT);
    let mut text_binds: Vec<&str> = Vec::new();
    // Numbered placeholders (`$n`) read the same on SQLite and PostgreSQL.
    let mut n = 0;
    for (column, value) in [
        ("d.status", filter.status.map(DraftStatus::as_str)),
        ("d.kind", filter.kind.as_deref()),
        ("d.lang", filter.lang.as_deref()),
        ("d.marketplace", filter.marketplace.as_deref()),
    ] {
        if let Some(v) = value {
            n += 1;
            sql.push_str(&format!(" AND {column} = ${n}"));
            text_binds.push(v);
        }
    }
    for (column, ids) in [
        ("d.product_id", &filter.product_ids),
        ("d.id", &filter.draft_ids),
    ] {
        if !ids.is_empty() {
            let marks = (n + 1..=n + ids.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            n += ids.len();
            sql.push_str(&format!(" AND {column} IN ({marks})"));
        }
    }
    sql.push_str(" ORDER BY d.id");
    let mut query = sqlx::query(&sql);
    for v in text_binds {
        query = query.bind(v);
    }
    for id in filter.product_ids.iter().chain(&filter.draft_ids) {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(store.pool()).await?;
    rows.iter().map(store::summary_from_row).collect()
}

/// What became of one draft in a bulk action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub draft_id: i64,
    pub ok: bool,
    /// The draft's status afterwards, when the action succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// [`CoreError::code`] when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Blocking findings stood and an admin approved anyway.
    #[serde(default)]
    pub overridden: bool,
}

impl Outcome {
    fn done(draft_id: i64, status: &str, overridden: bool) -> Outcome {
        Outcome {
            draft_id,
            ok: true,
            status: Some(status.to_string()),
            code: None,
            error: None,
            overridden,
        }
    }

    fn failed(draft_id: i64, e: &CoreError) -> Outcome {
        Outcome {
            draft_id,
            ok: false,
            status: None,
            code: Some(e.code().to_string()),
            error: Some(e.to_string()),
            overridden: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Approve,
    Reject,
}

impl BulkAction {
    fn action(self) -> Action {
        match self {
            BulkAction::Approve => Action::Approve,
            BulkAction::Reject => Action::Reject,
        }
    }
}

/// Approve or reject every draft `filter` selects. Without a status in the
/// filter only drafts the action applies to are selected (so `approve
/// --all` does not report every approved draft as an error). A role that
/// may not take the action fails the whole call before anything changes.
pub async fn bulk(
    store: &Store,
    actor: &Profile,
    action: BulkAction,
    filter: &DraftFilter,
    note: Option<&str>,
    override_reason: Option<&str>,
) -> Result<Vec<Outcome>> {
    authorize(actor, action.action())?;
    let applies = action.action().applies_to();
    let drafts: Vec<i64> = list(store, filter)
        .await?
        .into_iter()
        .filter(|d| {
            filter.status.is_some()
                || DraftStatus::parse(&d.status).is_some_and(|s| applies.contains(&s))
        })
        .map(|d| d.id)
        .collect();
    let mut out = Vec::with_capacity(drafts.len());
    for id in drafts {
        let outcome = match action {
            BulkAction::Approve => match approve(store, actor, id, note, override_reason).await {
                Ok(a) => Outcome::done(id, &a.draft.status, a.overridden),
                Err(e) => Outcome::failed(id, &e),
            },
            BulkAction::Reject => match change_status(store, actor, id, Action::Reject, note).await
            {
                Ok(d) => Outcome::done(id, &d.status, false),
                Err(e) => Outcome::failed(id, &e),
            },
        };
        out.push(outcome);
    }
    Ok(out)
}

/// Mark drafts exported (called by the export code with the drafts it
/// wrote). Drafts that are not approved are reported, not changed.
pub async fn mark_exported(
    store: &Store,
    actor: &Profile,
    draft_ids: &[i64],
) -> Result<Vec<Outcome>> {
    authorize(actor, Action::MarkExported)?;
    let mut out = Vec::with_capacity(draft_ids.len());
    for &id in draft_ids {
        out.push(
            match change_status(store, actor, id, Action::MarkExported, None).await {
                Ok(d) => Outcome::done(id, &d.status, false),
                Err(e) => Outcome::failed(id, &e),
            },
        );
    }
    Ok(out)
}
