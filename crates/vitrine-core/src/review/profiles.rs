//! Local profiles. A merchant working alone is everyone: on a store with no
//! profile at all, the first use creates an admin named after the OS user,
//! and later uses without an explicit name act as that profile.

use crate::store::Conn;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{permit, Profile, Role};
use crate::audit::{self, AuditEntry};
use crate::error::{CoreError, Result};
use crate::store::{now, Store};

/// The name the implicit profile takes: `USER`, else `USERNAME`, else
/// `local`.
pub fn default_profile_name() -> String {
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "local".to_string())
}

/// The profile to act as: `name` when given, else the OS user's. On a
/// store with no profile yet, the OS user's is first created as an admin.
/// A name that is not a profile is [`CoreError::UnknownProfile`].
pub async fn acting_profile(store: &Store, name: Option<&str>) -> Result<Profile> {
    let default_name = default_profile_name();
    ensure_first_profile(store, &default_name).await?;
    let wanted = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&default_name);
    match profile(store, wanted).await? {
        Some(p) => Ok(p),
        None => Err(CoreError::UnknownProfile {
            name: wanted.to_string(),
            known: profiles(store).await?.into_iter().map(|p| p.name).collect(),
        }),
    }
}

/// Create the first profile (admin) when there is none, in one transaction
/// with its audit entry; a no-op otherwise.
async fn ensure_first_profile(store: &Store, name: &str) -> Result<()> {
    let any: Option<i64> = sqlx::query_scalar("SELECT id FROM profiles LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    if any.is_some() {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    // Another process may have created it between the read and the lock.
    let any: Option<i64> = sqlx::query_scalar("SELECT id FROM profiles LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    if any.is_none() {
        let created = insert(&mut tx, name, Role::Admin).await?;
        audit_profile(&mut tx, name, &created, true).await?;
        tracing::info!(name, "first profile created as admin");
    }
    tx.commit().await?;
    Ok(())
}

/// Add a profile (admins only).
pub async fn add_profile(
    store: &Store,
    actor: &super::Profile,
    name: &str,
    role: Role,
) -> Result<Profile> {
    permit(actor, "add profiles", Role::Admin)?;
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(CoreError::InvalidInput(
            "a profile name must be non-empty printable text".into(),
        ));
    }
    let mut tx = store.begin_write().await?;
    if find(&mut tx, name).await?.is_some() {
        return Err(CoreError::InvalidInput(format!(
            "a profile named `{name}` already exists"
        )));
    }
    let created = insert(&mut tx, name, role).await?;
    audit_profile(&mut tx, &actor.name, &created, false).await?;
    tx.commit().await?;
    Ok(created)
}

/// All profiles, oldest first.
pub async fn profiles(store: &Store) -> Result<Vec<Profile>> {
    let rows = sqlx::query("SELECT id, name, role, created_at FROM profiles ORDER BY id")
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn profile(store: &Store, name: &str) -> Result<Option<Profile>> {
    let mut conn = store.pool().acquire().await?;
    find(&mut conn, name).await
}

async fn find(conn: &mut Conn, name: &str) -> Result<Option<Profile>> {
    sqlx::query("SELECT id, name, role, created_at FROM profiles WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

async fn insert(conn: &mut Conn, name: &str, role: Role) -> Result<Profile> {
    let created_at = now();
    let id = sqlx::query_scalar(
        "INSERT INTO profiles (name, role, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(&created_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Profile {
        id,
        name: name.to_string(),
        role,
        created_at,
    })
}

async fn audit_profile(
    conn: &mut Conn,
    actor: &str,
    created: &Profile,
    implicit: bool,
) -> Result<()> {
    audit::append(
        conn,
        &AuditEntry {
            actor: actor.to_string(),
            action: "profile_add".into(),
            entity: "profile".into(),
            entity_id: created.id,
            before_sha: None,
            after_sha: None,
            details: serde_json::json!({
                "name": created.name,
                "role": created.role.as_str(),
                "implicit": implicit,
            }),
        },
    )
    .await?;
    Ok(())
}

fn from_row(r: &AnyRow) -> Result<Profile> {
    let role: String = r.try_get("role")?;
    Ok(Profile {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: Role::parse(&role)?,
        created_at: r.try_get("created_at")?,
    })
}
