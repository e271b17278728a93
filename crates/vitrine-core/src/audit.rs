//! The append-only, hash-chained audit log: who did what to which draft
//! (or profile), when, and the draft's state before and after.
//!
//! Each row's `hash` is
//!
//! ```text
//! hex(sha256(prev_hash ++ "\n" ++ canonical))
//! canonical = compact JSON array, serde_json escaping (RFC 8259; non-ASCII
//!             as UTF-8, only `"`, `\` and control characters escaped):
//!   [id, at, actor, action, entity, entity_id, before_sha, after_sha, details]
//! ```
//!
//! where `id` and `entity_id` are JSON integers, `before_sha`/`after_sha` are
//! strings or `null`, `details` is the stored JSON text *as a string* (so
//! its bytes are hashed exactly as stored), and `prev_hash` is the previous
//! row's hash in lower-case hex, or 64 zeros for the first row. Ids start at
//! 1 and go up by one, so a deleted row shows as a gap or a broken link, a
//! reordered or edited row as a hash that no longer matches. Deleting the
//! newest rows leaves a valid shorter chain: compare the head hash `verify`
//! reports with one kept elsewhere to catch that.
//!
//! A draft's state hash (`before_sha`, `after_sha`) is
//! `hex(sha256(canonical))` with `canonical = [status, version, content]`:
//! its status, its current version's number and that version's stored
//! content JSON text, as a compact JSON array.

use crate::store::Conn;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{CoreError, Result};
use crate::store::{now, Store};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A row about to be appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// A profile's name, or `model` for generated drafts.
    pub actor: String,
    /// `create`, `edit`, `submit`, `approve`, `comment`, `profile_add`…
    pub action: String,
    /// `draft` or `profile`.
    pub entity: String,
    pub entity_id: i64,
    pub before_sha: Option<String>,
    pub after_sha: Option<String>,
    /// A JSON object with what else the action needs recorded (the note,
    /// an override's reason and findings, a comment's anchor).
    pub details: serde_json::Value,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: i64,
    pub before_sha: Option<String>,
    pub after_sha: Option<String>,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The first row that does not fit the chain, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFault {
    pub id: i64,
    pub reason: String,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Rows read.
    pub entries: u64,
    pub ok: bool,
    pub first_bad: Option<AuditFault>,
    /// The newest row's hash (keep it elsewhere to detect a truncated log).
    pub head: Option<String>,
}

/// Append `entry` on `conn`, which must be inside a write transaction
/// (`Store::begin_write`): reading the last row and inserting the next must
/// not interleave with another writer, or the chain would fork.
pub async fn append(conn: &mut Conn, entry: &AuditEntry) -> Result<AuditRecord> {
    if !entry.details.is_object() {
        return Err(CoreError::InvalidInput(
            "audit details must be a JSON object".into(),
        ));
    }
    let last = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (id, prev_hash) = match last {
        Some(r) => (
            r.try_get::<i64, _>("id")? + 1,
            r.try_get::<String, _>("hash")?,
        ),
        None => (1, GENESIS.to_string()),
    };
    let details = entry.details.to_string();
    let at = now();
    let fields = HashedFields {
        id,
        at: &at,
        actor: &entry.actor,
        action: &entry.action,
        entity: &entry.entity,
        entity_id: entry.entity_id,
        before_sha: entry.before_sha.as_deref(),
        after_sha: entry.after_sha.as_deref(),
        details: &details,
    };
    let hash = fields.hash(&prev_hash)?;
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, before_sha, after_sha,
                                details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(&at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.entity)
    .bind(entry.entity_id)
    .bind(&entry.before_sha)
    .bind(&entry.after_sha)
    .bind(&details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(AuditRecord {
        id,
        at,
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        entity: entry.entity.clone(),
        entity_id: entry.entity_id,
        before_sha: entry.before_sha.clone(),
        after_sha: entry.after_sha.clone(),
        details: entry.details.clone(),
        prev_hash,
        hash,
    })
}

/// Recompute the whole chain, oldest first, and report the first row that
/// was edited, deleted or moved.
pub async fn verify(store: &Store) -> Result<AuditReport> {
    // Pages keep memory flat however long the log grows.
    const PAGE: i64 = 1000;
    let mut entries = 0u64;
    let mut expected_id = 1i64;
    let mut last_id = i64::MIN;
    let mut prev_hash = GENESIS.to_string();
    loop {
        let rows = sqlx::query(&format!(
            "{SELECT_RAW} WHERE id > $1 ORDER BY id LIMIT {PAGE}"
        ))
        .bind(last_id)
        .fetch_all(store.pool())
        .await?;
        let done = (rows.len() as i64) < PAGE;
        for r in &rows {
            let raw = RawRow::read(r)?;
            entries += 1;
            let fault = |reason: String| AuditReport {
                entries,
                ok: false,
                first_bad: Some(AuditFault { id: raw.id, reason }),
                head: None,
            };
            last_id = raw.id;
            if raw.id < expected_id {
                return Ok(fault(format!(
                    "id {} is out of sequence (ids start at 1 and go up by one)",
                    raw.id
                )));
            }
            if raw.id > expected_id {
                let missing = if raw.id - 1 == expected_id {
                    format!("entry {expected_id} is missing")
                } else {
                    format!("entries {expected_id}..{} are missing", raw.id - 1)
                };
                return Ok(fault(format!("{missing} (deleted)")));
            }
            if raw.prev_hash != prev_hash {
                return Ok(fault(if raw.id == 1 {
                    "the first entry does not start the chain".to_string()
                } else {
                    format!(
                        "its prev_hash is not entry {}'s hash (an entry was deleted, replaced or moved)",
                        raw.id - 1
                    )
                }));
            }
            if raw.fields().hash(&raw.prev_hash)? != raw.hash {
                return Ok(fault(
                    "its hash does not match its content (the entry was edited)".to_string(),
                ));
            }
            prev_hash = raw.hash.clone();
            expected_id += 1;
        }
        if done {
            break;
        }
    }
    Ok(AuditReport {
        entries,
        ok: true,
        first_bad: None,
        head: (entries > 0).then_some(prev_hash),
    })
}

/// The newest `limit` rows, newest first.
pub async fn recent(store: &Store, limit: u32) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(&format!("{SELECT_RAW} ORDER BY id DESC LIMIT $1"))
        .bind(i64::from(limit))
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(|r| RawRow::read(r)?.record()).collect()
}

/// Every row about one entity (`draft`, 7), oldest first: a draft's history.
pub async fn for_entity(store: &Store, entity: &str, entity_id: i64) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(&format!(
        "{SELECT_RAW} WHERE entity = $1 AND entity_id = $2 ORDER BY id"
    ))
    .bind(entity)
    .bind(entity_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| RawRow::read(r)?.record()).collect()
}

/// The hash of a draft's state (see the module docs), or `None` when the
/// draft does not exist.
pub async fn draft_state_sha(conn: &mut Conn, draft_id: i64) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT d.status, v.version, v.content
           FROM drafts d
           JOIN draft_versions v
             ON v.draft_id = d.id
            AND v.version = (SELECT MAX(version) FROM draft_versions WHERE draft_id = d.id)
          WHERE d.id = $1",
    )
    .bind(draft_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let status: String = row.try_get("status")?;
    let version: i64 = row.try_get("version")?;
    let content: String = row.try_get("content")?;
    let canonical = serde_json::to_string(&(status, version, content))
        .map_err(|e| CoreError::InvalidInput(format!("cannot serialise a draft's state: {e}")))?;
    Ok(Some(hex::encode(Sha256::digest(canonical.as_bytes()))))
}

const SELECT_RAW: &str = "SELECT id, at, actor, action, entity, entity_id, before_sha, \
     after_sha, details, prev_hash, hash FROM audit_log";

/// A row as stored, details still text: the hash covers the text.
struct RawRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: i64,
    before_sha: Option<String>,
    after_sha: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl RawRow {
    fn read(r: &AnyRow) -> Result<RawRow> {
        Ok(RawRow {
            id: r.try_get("id")?,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            entity: r.try_get("entity")?,
            entity_id: r.try_get("entity_id")?,
            before_sha: r.try_get("before_sha")?,
            after_sha: r.try_get("after_sha")?,
            details: r.try_get("details")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    }

    fn fields(&self) -> HashedFields<'_> {
        HashedFields {
            id: self.id,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            entity: &self.entity,
            entity_id: self.entity_id,
            before_sha: self.before_sha.as_deref(),
            after_sha: self.after_sha.as_deref(),
            details: &self.details,
        }
    }

    fn record(self) -> Result<AuditRecord> {
        // A row whose details someone broke still lists, as text, so the
        // log can be read to see what happened.
        let details =
            serde_json::from_str(&self.details).unwrap_or(serde_json::Value::String(self.details));
        Ok(AuditRecord {
            id: self.id,
            at: self.at,
            actor: self.actor,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            before_sha: self.before_sha,
            after_sha: self.after_sha,
            details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// The hashed part of a row, in hashing order.
struct HashedFields<'a> {
    id: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: i64,
    before_sha: Option<&'a str>,
    after_sha: Option<&'a str>,
    details: &'a str,
}

impl HashedFields<'_> {
    fn hash(&self, prev_hash: &str) -> Result<String> {
        let canonical = serde_json::to_string(&(
            self.id,
            self.at,
            self.actor,
            self.action,
            self.entity,
            self.entity_id,
            self.before_sha,
            self.after_sha,
            self.details,
        ))
        .map_err(|e| CoreError::InvalidInput(format!("cannot serialise an audit entry: {e}")))?;
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(canonical.as_bytes());
        Ok(hex::encode(hasher.finalize()))
    }
}
