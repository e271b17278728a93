//! Where Vitrine keeps its files: the data dir (database, photo copies,
//! thumbnails) and the models dir (weights, which are large and shared).

use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};
use crate::store::DatabaseTarget;

/// `<data dir>/config.toml`. Unknown keys are refused, so a misspelt
/// `database_url` is an error rather than a silent fall back to SQLite.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    database_url: Option<String>,
}

pub const DATA_DIR_ENV: &str = "VITRINE_DATA_DIR";
pub const MODELS_DIR_ENV: &str = "VITRINE_MODELS_DIR";
/// A database URL (`postgres://…`) that replaces the SQLite file in the
/// data dir; see docs/TEAM_DATABASE.md.
pub const DATABASE_URL_ENV: &str = "VITRINE_DATABASE_URL";
/// The data dir's settings file; its `database_url` key is the fallback
/// for [`DATABASE_URL_ENV`].
pub const CONFIG_FILE: &str = "config.toml";

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    models: PathBuf,
}

impl DataDir {
    /// Resolve the data dir: explicit override, then `VITRINE_DATA_DIR`, then
    /// the platform's data directory. The models dir is `VITRINE_MODELS_DIR`
    /// when set, else `<data dir>/models`.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self> {
        let root = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
                Some(v) => PathBuf::from(v),
                None => default_data_dir()?,
            },
        };
        let models = match std::env::var_os(MODELS_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => root.join("models"),
        };
        Ok(Self { root, models })
    }

    pub fn with_models_dir(mut self, models: PathBuf) -> Self {
        self.models = models;
        self
    }

    /// Create the directories if needed.
    pub fn ensure(&self) -> Result<()> {
        for dir in [
            self.root.clone(),
            self.photos_dir(),
            self.thumbs_dir(),
            self.cutouts_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|source| CoreError::Io { path: dir, source })?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn db_path(&self) -> PathBuf {
        self.root.join("vitrine.db")
    }
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
    /// Where the store lives: `VITRINE_DATABASE_URL`, else `database_url`
    /// in `<data dir>/config.toml`, else the SQLite file [`Self::db_path`].
    pub fn database(&self) -> Result<DatabaseTarget> {
        if let Some(url) = std::env::var(DATABASE_URL_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            return DatabaseTarget::from_url(&url);
        }
        let path = self.config_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DatabaseTarget::SqliteFile(self.db_path()))
            }
            Err(source) => return Err(CoreError::Io { path, source }),
        };
        let config: Config = toml::from_str(&text)
            .map_err(|e| CoreError::InvalidInput(format!("{}: {}", path.display(), e.message())))?;
        match config.database_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => DatabaseTarget::from_url(&url),
            None => Ok(DatabaseTarget::SqliteFile(self.db_path())),
        }
    }
    pub fn photos_dir(&self) -> PathBuf {
        self.root.join("photos")
    }
    pub fn thumbs_dir(&self) -> PathBuf {
        self.root.join("thumbs")
    }
    /// Products cut out of their photos (PNG with alpha).
    pub fn cutouts_dir(&self) -> PathBuf {
        self.root.join("cutouts")
    }
    pub fn models_dir(&self) -> &Path {
        &self.models
    }
}

/// The platform's per-user data directory for Vitrine (e.g. `~/.local/share/vitrine`).
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "vitrine")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            CoreError::InvalidInput(
                "cannot determine the home directory; set VITRINE_DATA_DIR".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `VITRINE_DATABASE_URL` wins over the file; with it set (a developer's
    /// shell) the file cannot be checked, so the test says so and stops.
    fn env_set() -> bool {
        let set = std::env::var(DATABASE_URL_ENV).is_ok_and(|v| !v.trim().is_empty());
        if set {
            eprintln!("SKIPPED: {DATABASE_URL_ENV} is set");
        }
        set
    }

    #[test]
    fn config_file_chooses_the_database() {
        if env_set() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let dirs = DataDir::resolve(Some(dir.path())).unwrap();
        assert_eq!(
            dirs.database().unwrap(),
            DatabaseTarget::SqliteFile(dir.path().join("vitrine.db"))
        );
        std::fs::write(
            dirs.config_path(),
            "database_url = \"postgres://team:pw@db/vitrine\"\n",
        )
        .unwrap();
        assert_eq!(
            dirs.database().unwrap(),
            DatabaseTarget::Postgres("postgres://team:pw@db/vitrine".into())
        );
        std::fs::write(dirs.config_path(), "databse_url = \"postgres://db/v\"\n").unwrap();
        let e = dirs.database().unwrap_err().to_string();
        assert!(
            e.contains("databse_url") && e.contains("config.toml"),
            "{e}"
        );
        std::fs::write(dirs.config_path(), "database_url = \"mysql://db/v\"\n").unwrap();
        assert!(dirs.database().is_err());
    }
}
