//! The Reviews screen: summarise a file of customer reviews (CSV, JSON or
//! one per line) for a product, with progress as `reviews://event`. The
//! counts, charts' data and quotes come from the core's analysis; only the
//! paragraph is the model's.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::{AppHandle, Emitter, State};
use vitrine_core::reviews::summarize::summary_params;
use vitrine_core::reviews::{ReviewEvent, ReviewSummary, SummaryRequest};
use vitrine_core::studio::{Backend, GenerationEvent};
use vitrine_infer::CancelToken;

use crate::error::IpcError;
use crate::state::Shell;

pub const REVIEWS_EVENT: &str = "reviews://event";

/// Review files the core reads.
const REVIEW_EXTENSIONS: &[&str] = &["csv", "tsv", "json", "jsonl", "txt"];

type CmdResult<T> = Result<T, IpcError>;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum ReviewsPayload {
    /// A map step over a chunk of reviews, or the paragraph (`what`).
    Step {
        done: usize,
        total: usize,
        what: String,
    },
    LoadingModel {
        model_id: String,
    },
    Retry {
        reason: String,
    },
}

/// The review file's full path, refused unless it is an existing file of
/// a kind the core reads.
fn review_file(path: &Path) -> CmdResult<PathBuf> {
    if !path.is_absolute() {
        return Err(IpcError::bad_request(format!(
            "{}: give the review file's full path",
            path.display()
        )));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !REVIEW_EXTENSIONS.contains(&ext.as_str()) {
        return Err(IpcError::new(
            "unsupported_format",
            format!(
                "{}: a review file is .csv, .json, .jsonl or .txt",
                path.display()
            ),
        ));
    }
    let file = std::fs::canonicalize(path)
        .map_err(|_| IpcError::new("missing_file", format!("{}: no such file", path.display())))?;
    if !file.is_file() {
        return Err(IpcError::new(
            "is_directory",
            format!("{}: not a file", path.display()),
        ));
    }
    Ok(file)
}

/// Summarise a review file; with `productId` the summary is stored as a
/// `review_summary` draft of that product.
#[tauri::command]
pub async fn summarize_reviews(
    app: AppHandle,
    shell: State<'_, Shell>,
    path: PathBuf,
    product_id: Option<i64>,
    lang: String,
    model: Option<String>,
) -> CmdResult<ReviewSummary> {
    let studio = shell.studio().await?;
    let file = review_file(&path)?;
    let model = model.filter(|m| !m.is_empty());
    if matches!(studio.backend(), Backend::Local) {
        studio.check_models(model.as_deref())?;
    }
    let on_event = Box::new(move |ev: ReviewEvent| {
        let payload = match ev {
            ReviewEvent::Step { done, total, what } => ReviewsPayload::Step { done, total, what },
            ReviewEvent::Generation(GenerationEvent::LoadingModel { model_id }) => {
                ReviewsPayload::LoadingModel { model_id }
            }
            ReviewEvent::Generation(GenerationEvent::Retry { reason }) => {
                ReviewsPayload::Retry { reason }
            }
            ReviewEvent::Generation(_) => return,
        };
        if let Err(err) = app.emit(REVIEWS_EVENT, payload) {
            tracing::warn!(%err, "could not send review progress to the page");
        }
    });
    let req = SummaryRequest {
        product_id,
        lang,
        model,
        params: Some(summary_params()),
        use_cache: true,
        batch_item: None,
    };
    let summary = studio
        .summarize_reviews(&file, req, on_event, CancelToken::new())
        .await?;
    tracing::info!(
        reviews = summary.analysis.total,
        draft = ?summary.draft_id,
        "reviews summarised from the app"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_existing_review_files_are_read() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let csv = tmp.path().join("reviews.CSV");
        std::fs::write(&csv, "rating,text\n5,great\n").expect("write");
        assert!(review_file(&csv).is_ok());
        assert_eq!(
            review_file(Path::new("reviews.csv")).err().map(|e| e.code),
            Some("bad_request")
        );
        assert_eq!(
            review_file(&tmp.path().join("photo.png"))
                .err()
                .map(|e| e.code),
            Some("unsupported_format")
        );
        assert_eq!(
            review_file(&tmp.path().join("gone.csv"))
                .err()
                .map(|e| e.code),
            Some("missing_file")
        );
        let dir = tmp.path().join("folder.csv");
        std::fs::create_dir(&dir).expect("mkdir");
        assert_eq!(
            review_file(&dir).err().map(|e| e.code),
            Some("is_directory")
        );
    }
}
