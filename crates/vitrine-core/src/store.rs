//! The store: products, photos, facts and versioned drafts, on SQLite (a
//! file in the data dir, the default) or PostgreSQL (a team database).
//!
//! One code path serves both through sqlx's `Any` driver: SQL is written
//! once in the dialect both accept (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING id`), integers are 64-bit on both, and each backend has its
//! own migrations with the same versions (`migrations/sqlite`,
//! `migrations/postgres`). Queries are runtime-checked (`sqlx::query` with
//! binds) because the build has no database to check compile-time macros
//! against; the store's tests exercise every query, on both backends.
//!
//! Write transactions are serialised, as the audit chain needs (each row
//! hashes the one before it): on SQLite they start with `BEGIN IMMEDIATE`
//! (a deferred transaction that reads first and writes later can fail with
//! `SQLITE_BUSY` when another writer got in between, which the busy timeout
//! cannot cure); on PostgreSQL they take one transaction-scoped advisory
//! lock, which gives the same one-writer-at-a-time order across machines.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Executor, Row, Transaction};

use crate::audit;
use crate::error::{CoreError, Result};
use crate::types::{
    Draft, DraftSummary, DraftVersion, Fact, FactSource, Listing, Photo, ProductDetail,
    ProductSummary, Provenance,
};

/// A connection of either backend; helpers that run inside a caller's
/// transaction take `&mut Conn` (pass `&mut *tx`).
pub type Conn = AnyConnection;

/// A write transaction from [`Store::begin_write`].
pub type WriteTx = Transaction<'static, Any>;

/// Which database engine the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// SQL for the text of the top-level `key` of the JSON in `column`: the
    /// one place the dialects differ in what the store asks.
    pub fn json_text(self, column: &str, key: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_extract({column}, '$.{key}')"),
            Backend::Postgres => format!("({column}::jsonb ->> '{key}')"),
        }
    }
}

/// Where the store lives: a SQLite file (the data dir's, or `sqlite://PATH`),
/// or a PostgreSQL URL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    SqliteFile(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DatabaseTarget {
    /// Parse a URL the user gave (`VITRINE_DATABASE_URL`, `database_url`).
    pub fn from_url(url: &str) -> Result<DatabaseTarget> {
        let url = url.trim();
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => Ok(DatabaseTarget::Postgres(url.to_string())),
            // A file elsewhere than the data dir: treated like the default
            // file (parent directories created, the file too).
            "sqlite" => {
                let options: SqliteConnectOptions = url.parse().map_err(|e| {
                    CoreError::InvalidInput(format!("database URL `{}`: {e}", redact(url)))
                })?;
                Ok(DatabaseTarget::SqliteFile(
                    options.get_filename().to_path_buf(),
                ))
            }
            _ => Err(CoreError::InvalidInput(format!(
                "database URL `{}` is not supported; use postgres://USER:PASSWORD@HOST/DATABASE \
                 (or leave it unset for the SQLite file in the data dir)",
                redact(url)
            ))),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseTarget::SqliteFile(_) => Backend::Sqlite,
            DatabaseTarget::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Shown without the password, so logs and error messages never carry it.
impl fmt::Display for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseTarget::SqliteFile(p) => write!(f, "{}", p.display()),
            DatabaseTarget::Postgres(u) => f.write_str(&redact(u)),
        }
    }
}

impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseTarget({self})")
    }
}

/// A URL with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            // Only fails for URLs that cannot have a password at all.
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparseable URL)".to_string(),
    }
}

/// Handle to the database; cheap to clone (it is a connection pool).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Key of the advisory lock that serialises PostgreSQL write transactions
/// (`pg_advisory_xact_lock`); any constant unlikely to clash with another
/// application sharing the database ("vitrine" in ASCII).
const PG_WRITE_LOCK: i64 = 0x0076_6974_7269_6e65;

/// How long to wait for a PostgreSQL server before reporting it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A photo row about to be inserted by ingest.
#[derive(Debug, Clone)]
pub struct NewPhoto<'a> {
    pub product_id: i64,
    pub sha256: &'a str,
    pub original_path: &'a str,
    pub thumbnail_path: &'a str,
    pub cutout_path: Option<&'a str>,
    pub source_name: &'a str,
    pub width: u32,
    pub height: u32,
    /// `jpeg`, `png` or `webp`.
    pub format: &'a str,
}

/// A fact row about to be inserted.
#[derive(Debug, Clone)]
pub struct NewFact {
    pub product_id: i64,
    pub key: String,
    pub value: String,
    pub label_en: String,
    pub label_zh: String,
    pub source: FactSource,
    /// Clamped to 0..=1 on insert.
    pub confidence: f32,
    pub data: serde_json::Value,
}

/// Where a new draft goes.
#[derive(Debug, Clone, Copy)]
pub struct NewDraft<'a> {
    pub product_id: i64,
    pub kind: &'a str,
    pub lang: &'a str,
    pub marketplace: &'a str,
    /// The batch item this draft completes.
    pub batch_item: Option<i64>,
}

/// Current time as RFC 3339 UTC with millisecond precision: fixed width, so
/// the text sorts chronologically.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Open (creating if needed) the SQLite database at `path` and bring
    /// its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        Store::open_target(&DatabaseTarget::SqliteFile(path.to_path_buf())).await
    }

    /// Open the store wherever `target` says and bring its schema up to
    /// date. A PostgreSQL database must exist already (its tables are
    /// created here); an unreachable server is a [`CoreError::DatabaseConnect`].
    pub async fn open_target(target: &DatabaseTarget) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = target.backend();
        let url = match target {
            DatabaseTarget::SqliteFile(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(|source| CoreError::Io {
                            path: parent.to_path_buf(),
                            source,
                        })?;
                }
                // sqlx percent-encodes the file name, so any path survives
                // the trip through a URL.
                SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .to_url_lossy()
            }
            DatabaseTarget::Postgres(u) => url::Url::parse(u).map_err(|e| {
                CoreError::InvalidInput(format!("database URL `{}`: {e}", redact(u)))
            })?,
        };
        let options = AnyConnectOptions::from_url(&url)?;
        let connect_error = |source| CoreError::DatabaseConnect {
            target: target.to_string(),
            source,
        };
        if backend == Backend::Postgres {
            // One direct attempt first: a server that is down or a wrong
            // password is reported at once and in its own words, not as a
            // pool timeout after the pool's retries.
            let probe = AnyConnection::connect_with(&options)
                .await
                .map_err(connect_error)?;
            // Only the probe's goodbye is lost if this fails.
            let _ = probe.close().await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(CONNECT_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match backend {
                        // WAL lets readers work beside the writer; NORMAL is
                        // durable across application crashes in WAL mode and
                        // only risks the last transactions on power loss.
                        Backend::Sqlite => conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        ),
                        // SQLite's busy timeout, more generous for a shared
                        // server: a writer waiting on the write lock (or a
                        // row lock) gives up with an error instead of
                        // waiting forever.
                        Backend::Postgres => conn.execute("SET lock_timeout = '30s'"),
                    }
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        tracing::debug!(%target, backend = backend.as_str(), "store opened");
        Ok(Store { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Start a write transaction (serialised with every other writer, see
    /// the module docs); helpers such as [`insert_product`] take `&mut *tx`.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// Close all connections (on SQLite this checkpoints the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// All products, newest first.
    pub async fn products(&self) -> Result<Vec<ProductSummary>> {
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.created_at,
                    (SELECT COUNT(*) FROM photos ph WHERE ph.product_id = p.id) AS photo_count,
                    (SELECT COUNT(*) FROM drafts d WHERE d.product_id = p.id) AS draft_count,
                    (SELECT ph.thumbnail_path FROM photos ph WHERE ph.product_id = p.id
                      ORDER BY ph.id LIMIT 1) AS thumbnail_path,
                    (SELECT f.value FROM facts f WHERE f.product_id = p.id AND f.key = 'category'
                      ORDER BY CASE WHEN f.source = 'user' THEN 0 ELSE 1 END,
                               f.confidence DESC, f.id DESC LIMIT 1) AS category,
                    (SELECT d.status FROM drafts d WHERE d.product_id = p.id AND d.kind = 'listing'
                      ORDER BY CASE WHEN d.status = 'rejected' THEN 1 ELSE 0 END, d.id DESC
                      LIMIT 1) AS review_status
               FROM products p
              ORDER BY p.created_at DESC, p.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ProductSummary {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    photo_count: r.try_get("photo_count")?,
                    draft_count: r.try_get("draft_count")?,
                    thumbnail_path: r.try_get("thumbnail_path")?,
                    category: r.try_get("category")?,
                    review_status: r.try_get("review_status")?,
                })
            })
            .collect()
    }

    /// One product with its photos, facts and drafts.
    pub async fn product(&self, id: i64) -> Result<ProductDetail> {
        let row = sqlx::query("SELECT id, name, created_at FROM products WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(CoreError::NotFound {
                kind: "product",
                id,
            })?;
        Ok(ProductDetail {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            photos: self.photos(id).await?,
            facts: self.facts(id).await?,
            drafts: self.drafts_for_product(id).await?,
        })
    }

    /// Photos of a product, in the order they were added.
    pub async fn photos(&self, product_id: i64) -> Result<Vec<Photo>> {
        let rows = sqlx::query(&format!("{PHOTO_SELECT} WHERE product_id = $1 ORDER BY id"))
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(photo_from_row).collect()
    }

    /// Facts of a product grouped by key; within a key the most confident
    /// first (for colours: the largest share first).
    pub async fn facts(&self, product_id: i64) -> Result<Vec<Fact>> {
        let mut conn = self.pool.acquire().await?;
        facts_for_product(&mut conn, product_id).await
    }

    pub async fn photo_by_sha(&self, sha: &str) -> Result<Option<Photo>> {
        sqlx::query(&format!("{PHOTO_SELECT} WHERE sha256 = $1"))
            .bind(sha)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(photo_from_row)
            .transpose()
    }

    /// Add one fact (e.g. a user's edit) outside ingest.
    pub async fn add_fact(&self, fact: &NewFact) -> Result<Fact> {
        let mut tx = self.begin_write().await?;
        let fact = insert_fact(&mut tx, fact).await?;
        tx.commit().await?;
        Ok(fact)
    }

    /// Create a draft and its first version, generated by a model, in one
    /// transaction.
    /// `content` is a [`Listing`] for `listing` drafts, its kind's own JSON
    /// (with a `title`) for others.
    pub async fn create_draft<T: serde::Serialize>(
        &self,
        product_id: i64,
        kind: &str,
        lang: &str,
        marketplace: &str,
        content: &T,
        provenance: &Provenance,
    ) -> Result<Draft> {
        self.create_draft_for(
            &NewDraft {
                product_id,
                kind,
                lang,
                marketplace,
                batch_item: None,
            },
            content,
            provenance,
        )
        .await
    }

    /// [`Store::create_draft`], for a batch item when `draft.batch_item` is
    /// set: the draft and the item's `done` are one transaction, and an
    /// item that already has its draft is refused ([`CoreError::Duplicate`])
    /// rather than given a second one.
    /// `provenance` is a [`Provenance`], or its JSON with a kind's extra
    /// fields.
    pub async fn create_draft_for<T: serde::Serialize, P: serde::Serialize>(
        &self,
        draft: &NewDraft<'_>,
        content: &T,
        provenance: &P,
    ) -> Result<Draft> {
        let content = to_json(content)?;
        let provenance = to_json(provenance)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        // Insert only if the product exists, so a missing product is a
        // NotFound rather than a foreign-key failure.
        let inserted = sqlx::query(
            "INSERT INTO drafts (product_id, kind, lang, marketplace, status, created_at, updated_at, batch_item_id)
             SELECT id, $1, $2, $3, 'draft', $4, $5, $6 FROM products WHERE id = $7
             RETURNING id",
        )
        .bind(draft.kind)
        .bind(draft.lang)
        .bind(draft.marketplace)
        .bind(&at)
        .bind(&at)
        .bind(draft.batch_item)
        .bind(draft.product_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| match (&e, draft.batch_item) {
            (sqlx::Error::Database(d), Some(item)) if d.is_unique_violation() => {
                CoreError::Duplicate(format!("batch item {item} already has its draft"))
            }
            _ => CoreError::Database(e),
        })?;
        let Some(inserted) = inserted else {
            return Err(CoreError::NotFound {
                kind: "product",
                id: draft.product_id,
            });
        };
        let draft_id: i64 = inserted.try_get("id")?;
        insert_next_version(&mut tx, draft_id, &content, Some(&provenance), "model", &at).await?;
        if let Some(item) = draft.batch_item {
            sqlx::query(
                "UPDATE batch_items SET status = 'done', draft_id = $1, error = NULL, finished_at = $2
                  WHERE id = $3",
            )
            .bind(draft_id)
            .bind(&at)
            .bind(item)
            .execute(&mut *tx)
            .await?;
        }
        let after_sha = audit::draft_state_sha(&mut tx, draft_id).await?;
        audit::append(
            &mut tx,
            &audit::AuditEntry {
                actor: "model".into(),
                action: "create".into(),
                entity: "draft".into(),
                entity_id: draft_id,
                before_sha: None,
                after_sha,
                details: serde_json::json!({
                    "product_id": draft.product_id,
                    "kind": draft.kind,
                    "lang": draft.lang,
                    "marketplace": draft.marketplace,
                    "version": 1,
                }),
            },
        )
        .await?;
        let stored = load_draft(&mut tx, draft_id).await?;
        tx.commit().await?;
        tracing::debug!(draft_id, product_id = draft.product_id, "draft created");
        Ok(stored)
    }

    /// Append a version to a draft (a regeneration, or an edit by `author`)
    /// under the review workflow's rules: an approved or in-review draft
    /// goes back to `draft`, an exported or rejected one is refused, and
    /// the change is audited with `author` as the actor. People's edits go
    /// through [`crate::review::edit`], which also checks their role.
    pub async fn add_draft_version(
        &self,
        draft_id: i64,
        listing: &Listing,
        provenance: Option<&Provenance>,
        author: &str,
    ) -> Result<Draft> {
        let content = to_json(listing)?;
        let provenance = provenance.map(to_json).transpose()?;
        let mut tx = self.begin_write().await?;
        crate::review::record_version(&mut tx, draft_id, &content, provenance.as_deref(), author)
            .await?;
        let draft = load_draft(&mut tx, draft_id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// A draft with all its versions, oldest first.
    pub async fn draft(&self, id: i64) -> Result<Draft> {
        let mut conn = self.pool.acquire().await?;
        load_draft(&mut conn, id).await
    }

    /// Drafts of a product, most recently updated first, each with its
    /// current version's number and title.
    pub async fn drafts_for_product(&self, product_id: i64) -> Result<Vec<DraftSummary>> {
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} WHERE d.product_id = $1 ORDER BY d.updated_at DESC, d.id DESC"
        ))
        .bind(product_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }
}

/// Drafts with their current version's number and content; callers add
/// `WHERE` and `ORDER BY` and map rows with [`summary_from_row`].
pub(crate) const SUMMARY_SELECT: &str =
    "SELECT d.id, d.product_id, d.kind, d.lang, d.marketplace, d.status,
            d.created_at, d.updated_at, v.version, v.content
       FROM drafts d
       JOIN draft_versions v
         ON v.draft_id = d.id
        AND v.version = (SELECT MAX(version) FROM draft_versions WHERE draft_id = d.id)";

pub(crate) fn summary_from_row(r: &AnyRow) -> Result<DraftSummary> {
    let content: String = r.try_get("content")?;
    let kind: String = r.try_get("kind")?;
    let title = draft_title(&kind, &content)?;
    Ok(DraftSummary {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        kind,
        lang: r.try_get("lang")?,
        marketplace: r.try_get("marketplace")?,
        status: r.try_get("status")?,
        current_version: r.try_get("version")?,
        title,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Append the draft's next version (1 for a new draft), inside the
/// caller's transaction.
pub(crate) async fn insert_next_version(
    conn: &mut Conn,
    draft_id: i64,
    content: &str,
    provenance: Option<&str>,
    author: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO draft_versions (draft_id, version, content, provenance, author, created_at)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5
           FROM draft_versions WHERE draft_id = $6",
    )
    .bind(draft_id)
    .bind(content)
    .bind(provenance)
    .bind(author)
    .bind(at)
    .bind(draft_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Insert a product; returns its id.
pub async fn insert_product(conn: &mut Conn, name: &str) -> Result<i64> {
    let id =
        sqlx::query_scalar("INSERT INTO products (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now())
            .fetch_one(&mut *conn)
            .await?;
    Ok(id)
}

pub async fn insert_photo(conn: &mut Conn, photo: &NewPhoto<'_>) -> Result<Photo> {
    let created_at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO photos (product_id, sha256, original_path, thumbnail_path, cutout_path,
                             source_name, width, height, format, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id",
    )
    .bind(photo.product_id)
    .bind(photo.sha256)
    .bind(photo.original_path)
    .bind(photo.thumbnail_path)
    .bind(photo.cutout_path)
    .bind(photo.source_name)
    .bind(i64::from(photo.width))
    .bind(i64::from(photo.height))
    .bind(photo.format)
    .bind(&created_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Photo {
        id,
        product_id: photo.product_id,
        sha256: photo.sha256.to_owned(),
        original_path: photo.original_path.to_owned(),
        thumbnail_path: photo.thumbnail_path.to_owned(),
        cutout_path: photo.cutout_path.map(str::to_owned),
        source_name: photo.source_name.to_owned(),
        width: photo.width,
        height: photo.height,
        format: photo.format.to_owned(),
        created_at,
    })
}

pub async fn insert_fact(conn: &mut Conn, fact: &NewFact) -> Result<Fact> {
    // NaN would fail the CHECK with an opaque message; treat it as "no confidence".
    let confidence = if fact.confidence.is_nan() {
        0.0
    } else {
        fact.confidence.clamp(0.0, 1.0)
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO facts (product_id, key, value, label_en, label_zh, source, confidence,
                            data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id",
    )
    .bind(fact.product_id)
    .bind(&fact.key)
    .bind(&fact.value)
    .bind(&fact.label_en)
    .bind(&fact.label_zh)
    .bind(fact.source.as_str())
    .bind(f64::from(confidence))
    .bind(fact.data.to_string())
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Fact {
        id,
        product_id: fact.product_id,
        key: fact.key.clone(),
        value: fact.value.clone(),
        label_en: fact.label_en.clone(),
        label_zh: fact.label_zh.clone(),
        source: fact.source,
        confidence,
        data: fact.data.clone(),
    })
}

/// Facts of a product on a given connection (usable inside a transaction).
pub async fn facts_for_product(conn: &mut Conn, product_id: i64) -> Result<Vec<Fact>> {
    let rows = sqlx::query(
        "SELECT id, product_id, key, value, label_en, label_zh, source, confidence, data
           FROM facts WHERE product_id = $1
          ORDER BY key, confidence DESC, id",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(fact_from_row).collect()
}

const PHOTO_SELECT: &str = "SELECT id, product_id, sha256, original_path, thumbnail_path, \
     cutout_path, source_name, width, height, format, created_at FROM photos";

fn photo_from_row(r: &AnyRow) -> Result<Photo> {
    Ok(Photo {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        sha256: r.try_get("sha256")?,
        original_path: r.try_get("original_path")?,
        thumbnail_path: r.try_get("thumbnail_path")?,
        cutout_path: r.try_get("cutout_path")?,
        source_name: r.try_get("source_name")?,
        width: dimension(r.try_get("width")?)?,
        height: dimension(r.try_get("height")?)?,
        format: r.try_get("format")?,
        created_at: r.try_get("created_at")?,
    })
}

fn dimension(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|e| decode_error(format!("photo dimension {v}: {e}")))
}

fn fact_from_row(r: &AnyRow) -> Result<Fact> {
    let source: String = r.try_get("source")?;
    let data: String = r.try_get("data")?;
    let confidence: f64 = r.try_get("confidence")?;
    Ok(Fact {
        id: r.try_get("id")?,
        product_id: r.try_get("product_id")?,
        key: r.try_get("key")?,
        value: r.try_get("value")?,
        label_en: r.try_get("label_en")?,
        label_zh: r.try_get("label_zh")?,
        source: FactSource::parse(&source)
            .ok_or_else(|| decode_error(format!("unknown fact source {source:?}")))?,
        confidence: confidence as f32,
        data: from_json(&data)?,
    })
}

pub(crate) async fn load_draft(conn: &mut Conn, id: i64) -> Result<Draft> {
    let row = sqlx::query(
        "SELECT id, product_id, kind, lang, marketplace, status, created_at, updated_at
           FROM drafts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(CoreError::NotFound { kind: "draft", id })?;
    let kind: String = row.try_get("kind")?;
    let versions = sqlx::query(
        "SELECT id, draft_id, version, content, provenance, author, created_at
           FROM draft_versions WHERE draft_id = $1 ORDER BY version",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|v| {
        let content: String = v.try_get("content")?;
        let provenance: Option<String> = v.try_get("provenance")?;
        let (listing, other) = if kind == LISTING_KIND {
            (from_json(&content)?, None)
        } else {
            // Review summaries are stored in a listing's shape; other kinds
            // (scripts) show their title in the listing slot.
            let listing = match serde_json::from_str::<Listing>(&content) {
                Ok(l) => l,
                Err(_) => titled_listing(draft_title(&kind, &content)?),
            };
            (listing, Some(from_json(&content)?))
        };
        Ok(DraftVersion {
            id: v.try_get("id")?,
            draft_id: v.try_get("draft_id")?,
            version: v.try_get("version")?,
            listing,
            content: other,
            provenance: provenance.as_deref().map(from_json).transpose()?,
            author: v.try_get("author")?,
            created_at: v.try_get("created_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(Draft {
        id: row.try_get("id")?,
        product_id: row.try_get("product_id")?,
        kind,
        lang: row.try_get("lang")?,
        marketplace: row.try_get("marketplace")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        versions,
    })
}

const LISTING_KIND: &str = "listing";

/// The title a draft is listed under: a listing's title; for other kinds
/// the `title` their JSON carries, else the kind itself.
fn draft_title(kind: &str, content: &str) -> Result<String> {
    if kind == LISTING_KIND {
        let listing: Listing = from_json(content)?;
        return Ok(listing.title);
    }
    let value: serde_json::Value = from_json(content)?;
    Ok(value
        .get("title")
        .and_then(|t| t.as_str())
        .map_or_else(|| kind.to_string(), str::to_string))
}

/// The listing slot of a draft that is not a listing.
fn titled_listing(title: String) -> Listing {
    Listing {
        title,
        bullets: Vec::new(),
        description: String::new(),
        keywords: Vec::new(),
        extra: Default::default(),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| CoreError::InvalidInput(format!("cannot serialise: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| decode_error(format!("stored JSON is invalid: {e}")))
}

/// Data in the database that does not fit the types: reported as a database
/// error, since the file was written by something other than this code.
fn decode_error(message: String) -> CoreError {
    CoreError::Database(sqlx::Error::Decode(message.into()))
}
