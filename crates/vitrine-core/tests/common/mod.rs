//! The store's suites run on both backends: SQLite always, PostgreSQL when
//! `VITRINE_TEST_POSTGRES_URL` names a server (a role that may create
//! databases; `scripts/test.sh` starts one). Each test gets a fresh
//! database of its own, so tests stay independent and run in parallel.

#![allow(dead_code)] // Each suite uses its own part of this.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};
use tempfile::TempDir;
use vitrine_core::store::{Backend, DatabaseTarget};
use vitrine_core::Store;

pub const POSTGRES_URL_ENV: &str = "VITRINE_TEST_POSTGRES_URL";

pub enum TestDb {
    Sqlite(TempDir),
    Postgres {
        /// The server's maintenance database, to create and drop ours.
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A fresh, empty database on the test server; `None` (said loudly)
    /// when no server is configured.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let Some(admin_url) = std::env::var(POSTGRES_URL_ENV)
            .ok()
            .filter(|v| !v.is_empty())
        else {
            eprintln!(
                "SKIPPED on PostgreSQL: {test} (set {POSTGRES_URL_ENV}=postgres://USER:PASS@HOST/postgres \
                 to a role with CREATEDB; scripts/test.sh does)"
            );
            return None;
        };
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "vitrine_test_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            rand_suffix()
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_ENV}: cannot connect: {e}"));
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("a postgres:// URL");
        url.set_path(&name);
        Some(TestDb::Postgres {
            admin_url,
            name,
            url: url.to_string(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            TestDb::Sqlite(_) => Backend::Sqlite,
            TestDb::Postgres { .. } => Backend::Postgres,
        }
    }

    pub fn target(&self) -> DatabaseTarget {
        match self {
            // A nested path: opening must create the parent directories.
            TestDb::Sqlite(dir) => {
                DatabaseTarget::SqliteFile(dir.path().join("nested/dir/vitrine.db"))
            }
            TestDb::Postgres { url, .. } => DatabaseTarget::Postgres(url.clone()),
        }
    }

    /// A data dir whose store is this database: the SQLite file's own
    /// directory, or a fresh one whose `config.toml` names the PostgreSQL
    /// database (the way a team points Vitrine at its server).
    pub fn data_dir(&self) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        match self {
            TestDb::Sqlite(db) => {
                let from = db.path().join("nested/dir/vitrine.db");
                std::fs::write(
                    dir.path().join("config.toml"),
                    format!(
                        "database_url = {:?}\n",
                        format!("sqlite://{}", from.display())
                    ),
                )
                .unwrap();
            }
            TestDb::Postgres { url, .. } => {
                std::fs::write(
                    dir.path().join("config.toml"),
                    format!("database_url = {url:?}\n"),
                )
                .unwrap();
            }
        }
        dir
    }

    pub async fn open(&self) -> Store {
        Store::open_target(&self.target()).await.unwrap()
    }

    pub async fn drop_database(self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            admin
                .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await
                .unwrap();
            admin.close().await.ok();
        }
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

/// A unique-violation, foreign-key or check failure, however the backend
/// words it.
pub fn db_error_kind(e: &sqlx::Error) -> Option<sqlx::error::ErrorKind> {
    match e {
        sqlx::Error::Database(d) => Some(d.kind()),
        _ => None,
    }
}

/// `async fn NAME(db: &TestDb)` becomes two tests, `NAME::sqlite` and
/// `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite();
                super::$name(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = $crate::common::TestDb::postgres(stringify!($name)).await else {
                    return;
                };
                super::$name(&db).await;
                db.drop_database().await;
            }
        }
    )*};
}
