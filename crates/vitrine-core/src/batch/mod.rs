//! Batch jobs: what to generate for a whole catalogue, kept in the store
//! so a batch survives the process that runs it.
//!
//! A batch is a list of items — one output, in one language, for one
//! product. An item's draft and its `done` are written in one transaction,
//! and the draft carries the item's id under a unique index, so whatever
//! happens to the process an item never gets two drafts; an item that was
//! running when the process died simply runs again.

pub mod catalogue_import;
pub mod jobs;
pub mod runner;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// What a batch produces for each product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    Listing,
    /// A livestream script of the product on its own.
    Script,
    /// A summary of the product's reviews (from the batch's reviews folder).
    Reviews,
}

impl Output {
    /// The kind of the draft it makes (and of the batch item).
    pub fn kind(self) -> &'static str {
        match self {
            Output::Listing => "listing",
            Output::Script => crate::script::DRAFT_KIND,
            Output::Reviews => "review_summary",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        [Output::Listing, Output::Script, Output::Reviews]
            .into_iter()
            .find(|o| o.kind() == kind)
    }

    /// `listing`, `script` or `reviews` as a user types it.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "listing" | "listings" => Ok(Output::Listing),
            "script" | "scripts" | "livestream" => Ok(Output::Script),
            "reviews" | "review" | "review_summary" | "review-summary" => Ok(Output::Reviews),
            other => Err(CoreError::InvalidInput(format!(
                "unknown output `{other}`; choose listing, script or reviews"
            ))),
        }
    }
}

/// How a batch was asked for; stored with it, so `resume` needs nothing
/// but the batch's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSpec {
    pub outputs: Vec<Output>,
    /// `en`, `zh-CN`.
    pub langs: Vec<String>,
    /// Marketplace profile of the listings.
    pub marketplace: String,
    #[serde(default)]
    pub brand: Option<String>,
    /// A pinned model; the router chooses per item when `None`.
    #[serde(default)]
    pub model: Option<String>,
    /// Items generated at once. With local models they queue for the one
    /// loaded model; against a remote server they are concurrent requests.
    pub concurrency: usize,
    /// Where review files are found for `reviews` outputs: the product's
    /// handle (else its id) with `.csv`, `.json`, `.jsonl` or `.txt`.
    #[serde(default)]
    pub reviews_dir: Option<PathBuf>,
    /// Minutes of a livestream script.
    #[serde(default)]
    pub script_minutes: Option<f64>,
    /// Answer from the generation cache when possible.
    #[serde(default = "yes")]
    pub use_cache: bool,
}

fn yes() -> bool {
    true
}

impl BatchSpec {
    /// Refuse what could only fail item by item later.
    pub fn validate(&self) -> Result<()> {
        if self.outputs.is_empty() {
            return Err(CoreError::InvalidInput(
                "a batch needs at least one output (listing, script, reviews)".into(),
            ));
        }
        if self.langs.is_empty() {
            return Err(CoreError::InvalidInput(
                "a batch needs at least one language".into(),
            ));
        }
        for lang in &self.langs {
            crate::listing::Lang::parse(lang)?;
        }
        crate::listing::marketplace(&self.marketplace)?;
        if !(1..=64).contains(&self.concurrency) {
            return Err(CoreError::InvalidInput(format!(
                "concurrency must be between 1 and 64, not {}",
                self.concurrency
            )));
        }
        if self.outputs.contains(&Output::Reviews) {
            match &self.reviews_dir {
                Some(dir) if dir.is_dir() => {}
                Some(dir) => {
                    return Err(CoreError::InvalidInput(format!(
                        "{}: the reviews folder does not exist",
                        dir.display()
                    )))
                }
                None => {
                    return Err(CoreError::InvalidInput(
                        "the reviews output needs a reviews folder (--reviews DIR) holding \
                         HANDLE.csv (or .json, .jsonl, .txt) per product"
                            .into(),
                    ))
                }
            }
        }
        Ok(())
    }
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Queued,
    /// A runner holds it (or held it when its process died).
    Running,
    Paused,
    Cancelled,
    Done,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Queued => "queued",
            BatchStatus::Running => "running",
            BatchStatus::Paused => "paused",
            BatchStatus::Cancelled => "cancelled",
            BatchStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "queued" => Ok(BatchStatus::Queued),
            "running" => Ok(BatchStatus::Running),
            "paused" => Ok(BatchStatus::Paused),
            "cancelled" => Ok(BatchStatus::Cancelled),
            "done" => Ok(BatchStatus::Done),
            other => Err(CoreError::InvalidInput(format!(
                "unknown batch status `{other}`"
            ))),
        }
    }
}

/// Items by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: u64,
    pub pending: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    /// Items no run will touch again (unless failed ones are retried).
    pub fn finished(&self) -> u64 {
        self.done + self.failed + self.skipped
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub id: i64,
    /// The catalogue file or folder it came from.
    pub source: String,
    pub spec: BatchSpec,
    pub status: BatchStatus,
    /// Why it stopped, when an error stopped it.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
    pub counts: Counts,
    /// Catalogue rows that could not be imported.
    pub import_errors: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    pub id: i64,
    pub batch_id: i64,
    pub product_id: i64,
    pub kind: String,
    pub lang: String,
    /// pending, running, done, failed, skipped.
    pub status: String,
    pub attempts: i64,
    pub draft_id: Option<i64>,
    pub error: Option<String>,
    pub gen_ms: Option<i64>,
    pub overhead_us: Option<i64>,
}

/// A catalogue row that could not be imported, kept with the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportError {
    pub line: Option<u64>,
    pub handle: Option<String>,
    pub message: String,
}

/// Whether a handle can name a file in a folder without leaving it: no
/// separators, no leading dot, no `..`, nothing but letters, digits, CJK
/// and `-_.`.
pub fn is_safe_file_stem(stem: &str) -> bool {
    !stem.is_empty()
        && stem.len() <= 200
        && !stem.starts_with('.')
        && !stem.contains("..")
        && stem
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
