//! The generation cache: an identical request (model file, prompt, prefill,
//! sampling parameters and seed) is answered from the store instead of
//! running the model again.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use vitrine_infer::{ChatMessage, GenerationParams};

use crate::error::{CoreError, Result};
use crate::store::{now, Store};

/// A stored answer.
#[derive(Debug, Clone)]
pub struct CachedGeneration {
    pub text: String,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    pub entries: i64,
    /// Requests answered from the cache: model calls saved.
    pub hits: i64,
    /// Requests that ran a model.
    pub misses: i64,
    /// hits / (hits + misses), 0 when nothing was asked yet.
    pub hit_rate: f64,
}

/// The cache key of one generation request.
pub fn key(
    model_sha256: &str,
    messages: &[ChatMessage],
    prefill: &str,
    params: &GenerationParams,
) -> Result<String> {
    let canonical = serde_json::to_vec(&serde_json::json!({
        "model_sha256": model_sha256,
        "messages": messages,
        "prefill": prefill,
        "params": params,
    }))
    .map_err(|e| CoreError::Task(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(canonical)))
}

impl Store {
    /// Look `key` up; a hit is counted on the entry and in the totals.
    pub async fn cache_get(&self, key: &str) -> Result<Option<CachedGeneration>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT text, prompt_tokens, generated_tokens FROM generation_cache WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        sqlx::query("UPDATE generation_cache SET hits = hits + 1, last_hit_at = $1 WHERE key = $2")
            .bind(now())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE generation_cache_stats SET hits = hits + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(CachedGeneration {
            text: row.try_get("text")?,
            prompt_tokens: usize::try_from(row.try_get::<i64, _>("prompt_tokens")?).unwrap_or(0),
            generated_tokens: usize::try_from(row.try_get::<i64, _>("generated_tokens")?)
                .unwrap_or(0),
        }))
    }

    /// Store the answer to a request that ran a model (counted as a miss).
    pub async fn cache_put(
        &self,
        key: &str,
        model_id: &str,
        model_sha256: &str,
        answer: &CachedGeneration,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO generation_cache
             (key, model_id, model_sha256, text, prompt_tokens, generated_tokens, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (key) DO UPDATE SET model_id = excluded.model_id,
                 model_sha256 = excluded.model_sha256, text = excluded.text,
                 prompt_tokens = excluded.prompt_tokens,
                 generated_tokens = excluded.generated_tokens,
                 created_at = excluded.created_at, hits = 0, last_hit_at = NULL",
        )
        .bind(key)
        .bind(model_id)
        .bind(model_sha256)
        .bind(&answer.text)
        .bind(i64::try_from(answer.prompt_tokens).unwrap_or(i64::MAX))
        .bind(i64::try_from(answer.generated_tokens).unwrap_or(i64::MAX))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE generation_cache_stats SET misses = misses + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn cache_stats(&self) -> Result<CacheStats> {
        let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM generation_cache")
            .fetch_one(self.pool())
            .await?;
        let row = sqlx::query("SELECT hits, misses FROM generation_cache_stats WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let (hits, misses): (i64, i64) = (row.try_get("hits")?, row.try_get("misses")?);
        let asked = hits + misses;
        Ok(CacheStats {
            entries,
            hits,
            misses,
            hit_rate: if asked > 0 {
                hits as f64 / asked as f64
            } else {
                0.0
            },
        })
    }

    /// Drop every entry (the totals are kept); returns how many were removed.
    pub async fn cache_clear(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM generation_cache")
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
