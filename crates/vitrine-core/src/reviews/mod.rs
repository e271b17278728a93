//! Review summaries (用户评价摘要): import customer reviews, clean them,
//! count aspects, pros, cons and problems, pick verified quotes, flag
//! prompt injections, and have a model write one short paragraph.
//!
//! Everything countable is computed here, in Rust: a model never counts,
//! so a number in a summary is right however small the model. The model
//! only words a paragraph from these counts and quotes (see `summarize`).

pub mod aspects;
pub mod clean;
pub mod import;
pub mod injection;
pub mod lexicon;
pub mod prompt;
pub mod quotes;
pub mod summarize;
pub mod text;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use aspects::{AspectStats, Problem, RatingStats};
pub use clean::ReviewLang;
pub use import::{Format, Imported};
pub use injection::Suspicion;
pub use quotes::Quote;
pub use summarize::{ReviewEvent, ReviewSummary, SummaryRequest};

/// Files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// More reviews than this are refused: counts would still be right, but the
/// map-reduce would run for hours on a laptop.
pub const MAX_REVIEWS: usize = 200_000;

/// Where a review came from in its file, so a quote can be traced back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// 1-based: the CSV record, the JSON array item or the review line.
    pub record: usize,
    /// 1-based line of the file where the review starts (CSV and lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "#{} (line {line})", self.record),
            None => write!(f, "#{}", self.record),
        }
    }
}

/// One imported review. `text` is the source text with runs of whitespace
/// folded to one space and trimmed: the form quotes are checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// 1-based, in file order; stable for a given file.
    pub id: usize,
    pub position: Position,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// 1..=5 when the file gave a usable rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{}: no such file", path.display())]
    MissingFile { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("review file is too large ({size} bytes; the limit is {limit} bytes)")]
    TooLarge { size: u64, limit: u64 },
    #[error("review file is empty")]
    Empty,
    #[error("no reviews found: {0}")]
    NoReviews(String),
    #[error("too many reviews (more than {limit}); split the file")]
    TooMany { limit: usize },
    #[error("the file is neither UTF-8 (invalid byte at offset {utf8_offset}) nor GBK/GB18030 (invalid byte at offset {gbk_offset})")]
    Encoding {
        utf8_offset: usize,
        gbk_offset: usize,
    },
    #[error("the CSV has no review text column (looked for text, review, body, content, comment, 评价, 内容); columns found: {}", found.join(", "))]
    NoTextColumn { found: Vec<String> },
    #[error("CSV record {record}: {reason}")]
    Csv { record: usize, reason: String },
    #[error("JSON: {0}")]
    Json(String),
    #[error("vocabulary {file}: {reason}")]
    Lexicon { file: &'static str, reason: String },
}

impl From<ReviewError> for crate::CoreError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::MissingFile { path } => crate::CoreError::MissingFile { path },
            ReviewError::Io { path, source } => crate::CoreError::Io { path, source },
            other => crate::CoreError::InvalidInput(other.to_string()),
        }
    }
}

/// Everything the Rust side knows about a review set: no model involved.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub format: Format,
    pub encoding: String,
    /// Reviews read from the file (after empty ones were skipped).
    pub total: usize,
    pub empty_skipped: usize,
    /// Reviews whose rating was present but not a number in 1..=5.
    pub invalid_ratings: usize,
    /// `(id, id of the first copy)` for each duplicate dropped.
    pub duplicates: Vec<(usize, usize)>,
    pub languages: clean::LanguageCounts,
    pub suspicious: Vec<Suspicion>,
    /// Reviews counted for aspects and quotes: not duplicates, not suspicious.
    pub usable: usize,
    /// Over every review read, suspicious ones included (see ARCHITECTURE).
    pub ratings: RatingStats,
    /// Over the usable reviews only: what the model may see.
    pub usable_ratings: RatingStats,
    pub aspects: Vec<AspectStats>,
    pub pros: Vec<String>,
    pub cons: Vec<String>,
    pub problems: Vec<Problem>,
    pub quotes: Vec<Quote>,
    /// Quotes dropped because they failed the final substring check.
    pub quotes_dropped: usize,
}

/// The reviews the model may see and their analysis.
#[derive(Debug, Clone)]
pub struct Analysed {
    pub analysis: Analysis,
    /// Usable reviews (not duplicates, not suspicious), in file order.
    pub usable: Vec<Review>,
    /// Suspicious reviews' texts, for checking what the model writes.
    pub suspicious_texts: Vec<String>,
}

/// Run every Rust step on imported reviews: clean, flag, count, quote.
pub fn analyse(imported: Imported) -> Result<Analysed, ReviewError> {
    let lex = lexicon::Lexicon::builtin()?;
    let detector = injection::Detector::builtin()?;
    let Imported {
        format,
        encoding,
        reviews,
        empty_skipped,
        invalid_ratings,
    } = imported;
    let total = reviews.len();
    let ratings = RatingStats::of(&reviews);
    let languages = clean::LanguageCounts::of(&reviews);
    let (unique, duplicates) = clean::dedup(reviews);
    let mut suspicious = Vec::new();
    let mut suspicious_texts = Vec::new();
    let mut usable = Vec::new();
    for r in unique {
        match detector.check(&r) {
            Some(s) => {
                suspicious.push(s);
                suspicious_texts.push(r.text);
            }
            None => usable.push(r),
        }
    }
    let usable_ratings = RatingStats::of(&usable);
    let tally = aspects::tally(lex, &usable);
    let (quotes, quotes_dropped) = quotes::pick(&tally, &usable);
    let analysis = Analysis {
        format,
        encoding,
        total,
        empty_skipped,
        invalid_ratings,
        duplicates,
        languages,
        suspicious,
        usable: usable.len(),
        ratings,
        usable_ratings,
        pros: tally.pros(3),
        cons: tally.cons(3),
        problems: tally.problems.clone(),
        aspects: tally.aspects.clone(),
        quotes,
        quotes_dropped,
    };
    Ok(Analysed {
        analysis,
        usable,
        suspicious_texts,
    })
}
