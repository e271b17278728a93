//! Batch jobs from an uploaded catalogue, run in the background.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use vitrine_core::batch::runner::RunOptions;
use vitrine_core::batch::{BatchSpec, BatchStatus, Output};
use vitrine_core::catalogue::{self, SourceFormat};
use vitrine_core::studio::Backend;
use vitrine_core::CoreError;

use super::skills_upload::{field, parse_field, read_upload};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{check_length, extension_in, Multipart, Path};
use crate::state::AppState;

use super::{to_json, JsonValue};

/// A catalogue upload and the batch's options (text parts).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BatchUpload {
    /// A Shopify product CSV or a generic CSV (UTF-8 or GBK). Image paths
    /// in it are not read: a server does not open files a client names.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// listing, script (comma-separated; default listing).
    outputs: Option<String>,
    /// en, zh-CN (comma-separated; default en).
    langs: Option<String>,
    /// Default: shopify for a Shopify CSV, else generic.
    marketplace: Option<String>,
    brand: Option<String>,
    model: Option<String>,
    concurrency: Option<usize>,
    /// Minutes of each livestream script.
    minutes: Option<f64>,
    use_cache: Option<bool>,
    /// Start running at once (default true); false only creates it.
    run: Option<bool>,
}

fn list_field(fields: &[(String, String)], name: &str, default: &str) -> Vec<String> {
    field(fields, name)
        .unwrap_or(default)
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Import a catalogue and create a batch (products × outputs × languages
/// items); it starts running in the background unless `run` is false.
/// The same file with the same options again is the same batch.
#[utoipa::path(post, path = "/api/batches", tag = "batches",
    request_body(content = BatchUpload, content_type = "multipart/form-data"),
    responses((status = 202, description = "The batch and its import report", body = Object),
        (status = 400, body = Problem), (status = 413, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<impl IntoResponse> {
    check_length(&headers, state.config().max_upload_bytes)?;
    let (name, bytes, fields) = read_upload(multipart).await?;
    let studio = state.studio();
    let mut parsed = catalogue::import::parse_csv_bytes(&bytes, None)
        .map_err(|e| ApiError::bad_request("invalid_catalogue", e.to_string()))?;
    for p in &mut parsed.products {
        p.photos.clear();
    }
    let outputs = list_field(&fields, "outputs", "listing")
        .iter()
        .map(|o| Output::parse(o))
        .collect::<Result<Vec<_>, _>>()?;
    if outputs.contains(&Output::Reviews) {
        return Err(ApiError::bad_request(
            "invalid_input",
            "the reviews output needs a folder of review files, which the HTTP API does not take yet; \
             use POST /api/reviews/summary per product",
        ));
    }
    let remote = matches!(studio.backend(), Backend::Remote(_));
    let spec = BatchSpec {
        outputs,
        langs: list_field(&fields, "langs", "en"),
        marketplace: field(&fields, "marketplace")
            .map(str::to_string)
            .unwrap_or_else(|| match parsed.format {
                SourceFormat::Shopify => "shopify".into(),
                _ => "generic".into(),
            }),
        brand: field(&fields, "brand").map(str::to_string),
        model: field(&fields, "model").map(str::to_string),
        concurrency: parse_field(&fields, "concurrency")?.unwrap_or(if remote { 4 } else { 1 }),
        reviews_dir: None,
        script_minutes: parse_field(&fields, "minutes")?,
        use_cache: parse_field(&fields, "use_cache")?.unwrap_or(true),
    };
    spec.validate()?;
    if let Some(brand) = &spec.brand {
        studio.store().brand(brand).await?;
    }
    if !remote {
        studio.check_models(spec.model.as_deref())?;
    }
    // Stored under its sha256: the client's name is a label, never a path.
    let ext = extension_in(&name, &["csv", "tsv", "txt"]).unwrap_or_else(|| "csv".into());
    let dir = studio.dirs().root().join("uploads");
    let path = dir.join(format!("{}.{ext}", hex::encode(Sha256::digest(&bytes))));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|source| CoreError::Io {
            path: dir.clone(),
            source,
        })?;
    tokio::fs::write(&path, &bytes)
        .await
        .map_err(|source| CoreError::Io {
            path: path.clone(),
            source,
        })?;
    let report = studio
        .import_catalogue(&parsed, &path, &mut |_, _| {})
        .await?;
    if report.product_ids.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_catalogue",
            format!(
                "no product could be imported from {name} ({} problem(s): {})",
                report.errors.len(),
                report
                    .errors
                    .iter()
                    .take(3)
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    let source = path.display().to_string();
    let store = studio.store();
    let batch = match store.open_batch_for(&source, &spec).await? {
        Some(b) => b,
        None => {
            store
                .create_batch(&source, &spec, &report.product_ids, &report.errors)
                .await?
        }
    };
    if parse_field(&fields, "run")?.unwrap_or(true) && batch.status != BatchStatus::Done {
        state.spawn_batch(batch.id, RunOptions::default())?;
    }
    let batch = store.batch(batch.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        to_json(&serde_json::json!({ "batch": batch, "import": report }))?,
    ))
}

/// All batches, newest first.
#[utoipa::path(get, path = "/api/batches", tag = "batches",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<JsonValue> {
    to_json(&state.studio().store().batches().await?)
}

/// Where a batch stands: status, counts, failed items, import errors.
#[utoipa::path(get, path = "/api/batches/{id}", tag = "batches", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn status(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    let store = state.studio().store();
    let batch = store.batch(id).await?;
    let failures = store.batch_items(id, Some("failed")).await?;
    let import_errors = store.batch_import_errors(id).await?;
    to_json(&serde_json::json!({
        "batch": batch,
        "failures": failures,
        "import_errors": import_errors,
    }))
}

/// Pause a batch: items in flight go back to the queue; resume goes on.
#[utoipa::path(post, path = "/api/batches/{id}/pause", tag = "batches", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn pause(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    to_json(&state.studio().pause_batch(id).await?)
}

/// Cancel a batch for good: finished items keep their drafts.
#[utoipa::path(post, path = "/api/batches/{id}/cancel", tag = "batches", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn cancel(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    to_json(&state.studio().cancel_batch(id).await?)
}

/// Resume a paused or interrupted batch in the background.
#[utoipa::path(post, path = "/api/batches/{id}/resume", tag = "batches",
    params(("id" = i64, Path), ("retry_failed" = Option<bool>, Query, description = "run failed items again")),
    responses((status = 202, body = Object), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    crate::extract::Query(q): crate::extract::Query<ResumeQuery>,
) -> ApiResult<impl IntoResponse> {
    let store = state.studio().store();
    let batch = store.batch(id).await?;
    match batch.status {
        BatchStatus::Cancelled | BatchStatus::Done if !q.retry_failed.unwrap_or(false) => {
            return Err(ApiError::bad_request(
                "invalid_input",
                format!(
                    "batch {id} is {}; there is nothing to resume",
                    batch.status.as_str()
                ),
            ))
        }
        _ => {}
    }
    state.spawn_batch(
        id,
        RunOptions {
            retry_failed: q.retry_failed.unwrap_or(false),
            concurrency: None,
        },
    )?;
    Ok((StatusCode::ACCEPTED, to_json(&store.batch(id).await?)?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ResumeQuery {
    pub retry_failed: Option<bool>,
}
