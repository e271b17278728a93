//! Bearer tokens for the HTTP API. A token is shown once, when created;
//! the store keeps its sha256 only. Every token acts as a review-workflow
//! profile: the profile's role is what the token may do, and the audit log
//! names the profile.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, AuditEntry};
use crate::error::{CoreError, Result};
use crate::review::{self, Profile, Role};
use crate::store::{now, Store};

/// What every token starts with, so one pasted into the wrong place is
/// recognisable (and secret scanners can find it).
pub const TOKEN_PREFIX: &str = "vtr_";

/// A stored token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    /// The token's first characters.
    pub prefix: String,
    pub profile: String,
    pub role: Role,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token just made: `token` is shown once and not kept.
#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    pub token: String,
    pub info: ApiToken,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Make a token acting as profile `name` with `role` (admins only). The
/// profile is created when it does not exist; an existing one must have
/// that role, so a token never quietly gets more (or less) than asked.
pub async fn create_token(
    store: &Store,
    actor: &Profile,
    name: &str,
    role: Role,
) -> Result<NewToken> {
    if actor.role < Role::Admin {
        return Err(CoreError::Forbidden {
            action: "create API tokens".into(),
            profile: actor.name.clone(),
            role: actor.role.to_string(),
            needed: Role::Admin.to_string(),
        });
    }
    let profile = match review::profile(store, name.trim()).await? {
        Some(p) if p.role == role => p,
        Some(p) => {
            return Err(CoreError::InvalidInput(format!(
                "profile `{}` is a{} {}, not a{} {}; pick another --name, or the role it has",
                p.name,
                article(p.role),
                p.role,
                article(role),
                role
            )))
        }
        None => review::add_profile(store, actor, name, role).await?,
    };
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let created_at = now();
    let mut tx = store.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (token_sha256, prefix, profile_id, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(digest(&token))
    .bind(&prefix)
    .bind(profile.id)
    .bind(&created_at)
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &AuditEntry {
            actor: actor.name.clone(),
            action: "token_create".into(),
            entity: "profile".into(),
            entity_id: profile.id,
            before_sha: None,
            after_sha: None,
            details: serde_json::json!({ "token_id": id, "prefix": prefix }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewToken {
        token,
        info: ApiToken {
            id,
            prefix,
            profile: profile.name,
            role: profile.role,
            created_at,
            last_used_at: None,
            revoked_at: None,
        },
    })
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Admin => "n",
        _ => "",
    }
}

const SELECT: &str = "SELECT t.id, t.prefix, t.created_at, t.last_used_at, t.revoked_at, \
                      p.id AS profile_id, p.name, p.role, p.created_at AS profile_created_at \
                      FROM api_tokens t JOIN profiles p ON p.id = t.profile_id";

fn token_from_row(r: &sqlx::any::AnyRow) -> Result<ApiToken> {
    let role: String = r.try_get("role")?;
    Ok(ApiToken {
        id: r.try_get("id")?,
        prefix: r.try_get("prefix")?,
        profile: r.try_get("name")?,
        role: Role::parse(&role)?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Every token, oldest first, revoked ones included.
pub async fn tokens(store: &Store) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY t.id"))
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(token_from_row).collect()
}

/// Revoke a token for good (admins only); revoking twice is harmless.
pub async fn revoke_token(store: &Store, actor: &Profile, id: i64) -> Result<ApiToken> {
    if actor.role < Role::Admin {
        return Err(CoreError::Forbidden {
            action: "revoke API tokens".into(),
            profile: actor.name.clone(),
            role: actor.role.to_string(),
            needed: Role::Admin.to_string(),
        });
    }
    let mut tx = store.begin_write().await?;
    let row = sqlx::query(&format!("{SELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(CoreError::NotFound { kind: "token", id })?;
    let profile_id: i64 = row.try_get("profile_id")?;
    let mut token = token_from_row(&row)?;
    if token.revoked_at.is_none() {
        let at = now();
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &AuditEntry {
                actor: actor.name.clone(),
                action: "token_revoke".into(),
                entity: "profile".into(),
                entity_id: profile_id,
                before_sha: None,
                after_sha: None,
                details: serde_json::json!({ "token_id": id, "prefix": token.prefix }),
            },
        )
        .await?;
        token.revoked_at = Some(at);
    }
    tx.commit().await?;
    Ok(token)
}

/// The profile a presented token acts as; `None` for a token that is
/// unknown or revoked. Records when it was last used.
pub async fn authenticate(store: &Store, token: &str) -> Result<Option<(ApiToken, Profile)>> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "{SELECT} WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL"
    ))
    .bind(digest(token))
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let info = token_from_row(&row)?;
    let profile = Profile {
        id: row.try_get("profile_id")?,
        name: info.profile.clone(),
        role: info.role,
        created_at: row.try_get("profile_created_at")?,
    };
    // Bookkeeping only: a busy database must not fail the request.
    if let Err(e) = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now())
        .bind(info.id)
        .execute(store.pool())
        .await
    {
        tracing::debug!(error = %e, "token last-use not recorded");
    }
    Ok(Some((info, profile)))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.db")).await.expect("store");
        (dir, store)
    }

    #[tokio::test]
    async fn tokens_are_stored_hashed_and_map_to_profiles() {
        let (_d, store) = store().await;
        let admin = review::acting_profile(&store, None).await.expect("admin");
        let made = create_token(&store, &admin, "rita", Role::Reviewer)
            .await
            .expect("token");
        assert!(made.token.starts_with(TOKEN_PREFIX));
        let stored: Vec<String> = sqlx::query_scalar("SELECT token_sha256 FROM api_tokens")
            .fetch_all(store.pool())
            .await
            .expect("rows");
        assert_eq!(stored, vec![digest(&made.token)]);
        assert!(!stored[0].contains(&made.token[4..]));
        let (info, profile) = authenticate(&store, &made.token)
            .await
            .expect("auth")
            .expect("known");
        assert_eq!(profile.name, "rita");
        assert_eq!(profile.role, Role::Reviewer);
        assert_eq!(info.id, made.info.id);
        assert!(authenticate(&store, "vtr_nope")
            .await
            .expect("auth")
            .is_none());

        // A profile keeps its role: asking for another is refused.
        let err = create_token(&store, &admin, "rita", Role::Admin)
            .await
            .expect_err("role mismatch");
        assert_eq!(err.code(), "invalid_input");

        // A reviewer cannot mint tokens.
        let err = create_token(&store, &profile, "eve", Role::Admin)
            .await
            .expect_err("forbidden");
        assert_eq!(err.code(), "forbidden");

        revoke_token(&store, &admin, made.info.id)
            .await
            .expect("revoke");
        assert!(authenticate(&store, &made.token)
            .await
            .expect("auth")
            .is_none());
        let all = tokens(&store).await.expect("list");
        assert!(all[0].revoked_at.is_some() && all[0].last_used_at.is_some());
        assert!(audit::verify(&store).await.expect("verify").ok);
    }
}
