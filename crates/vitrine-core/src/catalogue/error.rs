//! What can stop a catalogue from being read or written as a whole. A bad
//! row never does: it becomes a `RowError` and the rest goes on.

use std::path::PathBuf;

use crate::text_decode::DecodeError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}: no such file or folder", path.display())]
    MissingFile { path: PathBuf },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("catalogue file is too large ({size} bytes; the limit is {limit} bytes); split it")]
    TooLarge { size: u64, limit: u64 },

    #[error("catalogue file is empty")]
    Empty,

    #[error("this is not a text file (a NUL byte at offset {offset}); save the catalogue as CSV")]
    Binary { offset: usize },

    #[error(transparent)]
    Encoding(#[from] DecodeError),

    #[error("the CSV header cannot be read: {0}")]
    Header(String),

    #[error("the CSV has no title column (looked for Title, Name, Product Name, 标题, 商品名称); columns found: {}", found.join(", "))]
    NoTitleColumn { found: Vec<String> },

    #[error("{}: the folder holds too many entries (more than {limit})", path.display())]
    TooManyFiles { path: PathBuf, limit: usize },

    #[error("handle `{handle}` appears twice in the export; a {format} file holds one product per handle")]
    DuplicateExportHandle {
        handle: String,
        format: &'static str,
    },

    #[error("writing the export failed: {0}")]
    Write(#[from] std::io::Error),

    #[error("writing the export failed: {0}")]
    Csv(#[from] csv::Error),

    #[error("writing the JSON export failed: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<CatalogueError> for crate::CoreError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::MissingFile { path } => crate::CoreError::MissingFile { path },
            CatalogueError::Io { path, source } => crate::CoreError::Io { path, source },
            other => crate::CoreError::InvalidInput(other.to_string()),
        }
    }
}
