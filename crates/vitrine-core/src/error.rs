//! The one error type of `vitrine-core`. Each variant carries what a user
//! needs to act: the file, the reason, or the command that fixes it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{}: no such file", path.display())]
    MissingFile { path: PathBuf },

    #[error("{}: is a directory, not a photo", path.display())]
    IsDirectory { path: PathBuf },

    #[error("{}: file is empty", path.display())]
    EmptyFile { path: PathBuf },

    #[error("{}: file is too large ({size} bytes; the limit is {limit} bytes)", path.display())]
    FileTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error("{}: unsupported format ({what}); Vitrine reads JPEG, PNG and WebP", path.display())]
    UnsupportedFormat { path: PathBuf, what: String },

    #[error("{}: image is {width}x{height} pixels; the limit is {limit} pixels per side", path.display())]
    ImageTooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        limit: u32,
    },

    #[error("{}: cannot decode image: {reason}", path.display())]
    CorruptImage { path: PathBuf, reason: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: i64 },

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    /// The database could not be reached (a PostgreSQL server down, a wrong
    /// password) or the SQLite file could not be opened.
    #[error("cannot open the database at {target}: {source}; check VITRINE_DATABASE_URL or `database_url` in the data dir's config.toml (see docs/TEAM_DATABASE.md)")]
    DatabaseConnect {
        target: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error(transparent)]
    Infer(#[from] vitrine_infer::InferError),

    /// A model the user pinned is missing: pinning is explicit, so nothing
    /// is substituted.
    #[error("model `{id}` is not installed; run `vitrine models fetch {id}` (installed: {})", installed_note(.installed))]
    ModelNotInstalled { id: String, installed: Vec<String> },

    #[error("no model is installed; run `vitrine models fetch` for the default model or `vitrine models fetch ID` for another (see `vitrine models list`)")]
    NoModelInstalled,

    #[error("the model's output was not a valid listing after {attempts} attempts: {reason}")]
    InvalidModelOutput { attempts: u32, reason: String },

    /// Approval refused: the draft's current text has blocking findings.
    #[error("draft {draft_id} cannot be approved: {}", .problems.join("; "))]
    Blocked {
        draft_id: i64,
        problems: Vec<String>,
    },

    /// The work was done already (a batch item that has its draft).
    #[error("already done: {0}")]
    Duplicate(String),

    /// A batch stopped on an error every item would hit (a full disk).
    #[error("batch {id} stopped: {reason}; fix it and run `vitrine batch resume {id}`")]
    BatchStopped { id: i64, reason: String },

    /// The acting profile's role does not allow the action.
    #[error("{role} `{profile}` may not {action}; it takes the {needed} role or above")]
    Forbidden {
        action: String,
        profile: String,
        role: String,
        needed: String,
    },

    /// The action does not apply to a draft in its current state.
    #[error("draft {draft_id} is {from}: `{action}` does not apply to it (see docs/review.md for the states)")]
    IllegalTransition {
        draft_id: i64,
        from: String,
        action: String,
    },

    #[error("no profile named `{name}` (profiles: {}); add it with `vitrine profiles add {name} --role author|reviewer|admin`", installed_note(.known))]
    UnknownProfile { name: String, known: Vec<String> },

    #[error("cancelled")]
    Cancelled,

    #[error("background task failed: {0}")]
    Task(String),
}

impl CoreError {
    /// A stable machine-readable code, used across the desktop IPC boundary.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::MissingFile { .. } => "missing_file",
            CoreError::IsDirectory { .. } => "is_directory",
            CoreError::EmptyFile { .. } => "empty_file",
            CoreError::FileTooLarge { .. } => "file_too_large",
            CoreError::UnsupportedFormat { .. } => "unsupported_format",
            CoreError::ImageTooLarge { .. } => "image_too_large",
            CoreError::CorruptImage { .. } => "corrupt_image",
            CoreError::Io { .. } => "io",
            CoreError::NotFound { .. } => "not_found",
            CoreError::InvalidInput(_) => "invalid_input",
            CoreError::Database(_) | CoreError::DatabaseConnect { .. } => "database",
            CoreError::Migration(_) => "migration",
            CoreError::Infer(e) => e.code(),
            CoreError::ModelNotInstalled { .. } => "model_not_installed",
            CoreError::NoModelInstalled => "no_model_installed",
            CoreError::InvalidModelOutput { .. } => "invalid_model_output",
            CoreError::Blocked { .. } => "blocked",
            CoreError::Duplicate(_) => "duplicate",
            CoreError::BatchStopped { .. } => "batch_stopped",
            CoreError::Forbidden { .. } => "forbidden",
            CoreError::IllegalTransition { .. } => "illegal_transition",
            CoreError::UnknownProfile { .. } => "unknown_profile",
            CoreError::Cancelled => "cancelled",
            CoreError::Task(_) => "task",
        }
    }
}

fn installed_note(installed: &[String]) -> String {
    if installed.is_empty() {
        "none".to_string()
    } else {
        installed.join(", ")
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
