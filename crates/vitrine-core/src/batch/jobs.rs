//! The store's side of batches: creating them, claiming items, recording
//! outcomes. Every change is one short write transaction.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Batch, BatchItem, BatchSpec, BatchStatus, Counts, ImportError, Output};
use crate::error::{CoreError, Result};
use crate::store::{now, Backend, Store};

/// First key of the PostgreSQL advisory locks that mark running batches
/// (the second is the batch id): "vb" in ASCII.
const BATCH_LOCK_CLASS: i32 = 0x7662;

/// Held while a process runs a batch on a shared PostgreSQL database: a
/// session advisory lock on a connection of its own, so a runner on another
/// machine is refused. The server releases it when the connection ends,
/// which dropping this (or the process dying) does. On SQLite the lock
/// file in the data dir already covers every process that can open it.
pub struct BatchDbLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
}

impl BatchDbLock {
    /// Let go now; the connection goes back to the pool unlocked (or is
    /// closed, if unlocking failed).
    pub async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock_all()")
                .execute(&mut *conn)
                .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "cannot release the batch lock; closing its connection");
                drop(conn.detach());
            }
        }
    }
}

impl Drop for BatchDbLock {
    fn drop(&mut self) {
        // Detached, the connection closes instead of going back to the
        // pool still holding the lock.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

const ITEM_COLUMNS: &str = "id, batch_id, product_id, kind, lang, status, attempts, draft_id, \
                            error, gen_ms, overhead_us";

impl Store {
    /// Mark `batch_id` as run by this process across every machine sharing
    /// the database (see [`BatchDbLock`]).
    pub async fn lock_batch(&self, batch_id: i64) -> Result<BatchDbLock> {
        if self.backend() == Backend::Sqlite {
            return Ok(BatchDbLock { conn: None });
        }
        let key = i32::try_from(batch_id)
            .map_err(|_| CoreError::InvalidInput(format!("batch id {batch_id} is out of range")))?;
        let mut conn = self.pool().acquire().await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(BATCH_LOCK_CLASS)
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if !got {
            return Err(CoreError::InvalidInput(format!(
                "batch {batch_id} is being run by another Vitrine process (on this or another \
                 machine sharing the database); `vitrine batch pause {batch_id}` stops it"
            )));
        }
        Ok(BatchDbLock { conn: Some(conn) })
    }

    /// Create a batch with one item per product × output × language, and
    /// the catalogue rows that failed to import, in one transaction.
    pub async fn create_batch(
        &self,
        source: &str,
        spec: &BatchSpec,
        product_ids: &[i64],
        import_errors: &[ImportError],
    ) -> Result<Batch> {
        spec.validate()?;
        let spec_json =
            serde_json::to_string(spec).map_err(|e| CoreError::InvalidInput(e.to_string()))?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO batches (source, spec, status, created_at, updated_at)
             VALUES ($1, $2, 'queued', $3, $4) RETURNING id",
        )
        .bind(source)
        .bind(&spec_json)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        for &product_id in product_ids {
            for output in &spec.outputs {
                for lang in &spec.langs {
                    // A product listed twice is one set of items.
                    sqlx::query(
                        "INSERT INTO batch_items (batch_id, product_id, kind, lang)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (batch_id, product_id, kind, lang) DO NOTHING",
                    )
                    .bind(id)
                    .bind(product_id)
                    .bind(output.kind())
                    .bind(lang)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        for e in import_errors {
            sqlx::query(
                "INSERT INTO batch_import_errors (batch_id, line, handle, message)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(e.line.map(|l| l as i64))
            .bind(&e.handle)
            .bind(&e.message)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.batch(id).await
    }

    /// The newest batch of `source` with exactly this spec that is not
    /// finished: running `batch run` again after a crash resumes it.
    pub async fn open_batch_for(&self, source: &str, spec: &BatchSpec) -> Result<Option<Batch>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, spec FROM batches
              WHERE source = $1 AND status IN ('queued', 'running', 'paused')
              ORDER BY id DESC",
        )
        .bind(source)
        .fetch_all(self.pool())
        .await?;
        for (id, stored) in rows {
            if serde_json::from_str::<BatchSpec>(&stored).ok().as_ref() == Some(spec) {
                return Ok(Some(self.batch(id).await?));
            }
        }
        Ok(None)
    }

    pub async fn batch(&self, id: i64) -> Result<Batch> {
        let row = sqlx::query(
            "SELECT id, source, spec, status, error, created_at, updated_at, finished_at,
                    (SELECT COUNT(*) FROM batch_import_errors e WHERE e.batch_id = b.id) AS import_errors
               FROM batches b WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(CoreError::NotFound { kind: "batch", id })?;
        let mut batch = batch_from_row(&row)?;
        batch.counts = self.batch_counts(id).await?;
        Ok(batch)
    }

    /// All batches, newest first.
    pub async fn batches(&self) -> Result<Vec<Batch>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM batches ORDER BY id DESC")
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.batch(id).await?);
        }
        Ok(out)
    }

    pub async fn batch_counts(&self, id: i64) -> Result<Counts> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM batch_items WHERE batch_id = $1 GROUP BY status",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut c = Counts::default();
        for r in rows {
            let status: String = r.try_get("status")?;
            let n = r.try_get::<i64, _>("n")? as u64;
            c.total += n;
            match status.as_str() {
                "pending" => c.pending += n,
                "running" => c.running += n,
                "done" => c.done += n,
                "failed" => c.failed += n,
                "skipped" => c.skipped += n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// A batch's items, in order, optionally of one status.
    pub async fn batch_items(&self, id: i64, status: Option<&str>) -> Result<Vec<BatchItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM batch_items
              WHERE batch_id = $1 AND ($2 IS NULL OR status = $3) ORDER BY id"
        ))
        .bind(id)
        .bind(status)
        .bind(status)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    pub async fn batch_import_errors(&self, id: i64) -> Result<Vec<ImportError>> {
        let rows = sqlx::query(
            "SELECT line, handle, message FROM batch_import_errors WHERE batch_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ImportError {
                    line: r.try_get::<Option<i64>, _>("line")?.map(|l| l as u64),
                    handle: r.try_get("handle")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }

    /// Set a batch's status; `error` says why when an error stopped it.
    pub async fn set_batch_status(
        &self,
        id: i64,
        status: BatchStatus,
        error: Option<&str>,
    ) -> Result<()> {
        let at = now();
        let finished = matches!(status, BatchStatus::Done | BatchStatus::Cancelled);
        let done = sqlx::query(
            "UPDATE batches SET status = $1, error = $2, updated_at = $3,
                    finished_at = CASE WHEN $4 THEN $5 ELSE NULL END
              WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(&at)
        .bind(finished)
        .bind(&at)
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(CoreError::NotFound { kind: "batch", id });
        }
        Ok(())
    }

    /// The status as stored now (another process may have changed it).
    pub async fn batch_status(&self, id: i64) -> Result<BatchStatus> {
        let s: Option<String> = sqlx::query_scalar("SELECT status FROM batches WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        BatchStatus::parse(&s.ok_or(CoreError::NotFound { kind: "batch", id })?)
    }

    /// Make a batch runnable again after its runner stopped or died: items
    /// left `running` go back to `pending`, and an item whose draft exists
    /// is `done` (its draft was committed; only the bookkeeping after it
    /// was lost). With `retry_failed`, failed items run again too.
    pub async fn recover_batch(&self, id: i64, retry_failed: bool) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let adopted = sqlx::query(
            "UPDATE batch_items
                SET status = 'done', error = NULL,
                    draft_id = (SELECT d.id FROM drafts d WHERE d.batch_item_id = batch_items.id)
              WHERE batch_id = $1 AND status <> 'done'
                AND EXISTS (SELECT 1 FROM drafts d WHERE d.batch_item_id = batch_items.id)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let reset = sqlx::query(
            "UPDATE batch_items SET status = 'pending', started_at = NULL
              WHERE batch_id = $1 AND (status = 'running' OR ($2 AND status = 'failed'))",
        )
        .bind(id)
        .bind(retry_failed)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if adopted + reset > 0 {
            tracing::info!(batch = id, adopted, reset, "batch recovered");
        }
        Ok(reset)
    }

    /// Take the next pending item of a batch, marking it `running`.
    pub async fn claim_batch_item(&self, batch_id: i64) -> Result<Option<BatchItem>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM batch_items
              WHERE batch_id = $1 AND status = 'pending' ORDER BY id LIMIT 1"
        ))
        .bind(batch_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let mut item = item_from_row(&row)?;
        sqlx::query(
            "UPDATE batch_items SET status = 'running', attempts = attempts + 1, started_at = $1
              WHERE id = $2",
        )
        .bind(now())
        .bind(item.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        item.status = "running".into();
        item.attempts += 1;
        Ok(Some(item))
    }

    /// End an item without a draft: `failed` (with the error) or
    /// `skipped` (with the reason), or back to `pending` when a stop
    /// interrupted it.
    pub async fn end_batch_item(
        &self,
        item_id: i64,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE batch_items SET status = $1, error = $2, finished_at = $3
              WHERE id = $4 AND status <> 'done'",
        )
        .bind(status)
        .bind(error)
        .bind(now())
        .bind(item_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Record where an item's time went.
    pub async fn time_batch_item(&self, item_id: i64, gen_ms: i64, overhead_us: i64) -> Result<()> {
        sqlx::query("UPDATE batch_items SET gen_ms = $1, overhead_us = $2 WHERE id = $3")
            .bind(gen_ms)
            .bind(overhead_us)
            .bind(item_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The draft an item produced (for an item found done by its draft).
    pub async fn draft_of_batch_item(&self, item_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM drafts WHERE batch_item_id = $1")
                .bind(item_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Mark an item done with a draft that already existed.
    pub async fn adopt_batch_draft(&self, item_id: i64, draft_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE batch_items SET status = 'done', draft_id = $1, error = NULL, finished_at = $2
              WHERE id = $3",
        )
        .bind(draft_id)
        .bind(now())
        .bind(item_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The product's shop handle, when it came from a catalogue.
    pub async fn product_handle(&self, product_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>("SELECT handle FROM products WHERE id = $1")
                .bind(product_id)
                .fetch_optional(self.pool())
                .await?
                .flatten(),
        )
    }
}

fn batch_from_row(r: &AnyRow) -> Result<Batch> {
    let spec: String = r.try_get("spec")?;
    let status: String = r.try_get("status")?;
    Ok(Batch {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        spec: serde_json::from_str(&spec)
            .map_err(|e| CoreError::InvalidInput(format!("stored batch spec: {e}")))?,
        status: BatchStatus::parse(&status)?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        finished_at: r.try_get("finished_at")?,
        counts: Counts::default(),
        import_errors: r.try_get::<i64, _>("import_errors")? as u64,
    })
}

fn item_from_row(r: &AnyRow) -> Result<BatchItem> {
    Ok(BatchItem {
        id: r.try_get("id")?,
        batch_id: r.try_get("batch_id")?,
        product_id: r.try_get("product_id")?,
        kind: r.try_get("kind")?,
        lang: r.try_get("lang")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        draft_id: r.try_get("draft_id")?,
        error: r.try_get("error")?,
        gen_ms: r.try_get("gen_ms")?,
        overhead_us: r.try_get("overhead_us")?,
    })
}

/// The output an item makes; items are only ever written with known kinds.
pub fn item_output(item: &BatchItem) -> Result<Output> {
    Output::from_kind(&item.kind)
        .ok_or_else(|| CoreError::InvalidInput(format!("unknown batch item kind `{}`", item.kind)))
}
