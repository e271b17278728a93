//! Exports: the approved listings as a shop file, returned as the body.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use utoipa::ToSchema;
use vitrine_core::catalogue::export::ExportFormat;
use vitrine_core::exports::ExportFilter;
use vitrine_core::CoreError;

use super::en;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::Json;
use crate::state::AppState;

/// shopify (product CSV), amazon (flat file), json, markdown, html.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    Shopify,
    Amazon,
    Json,
    Markdown,
    Html,
}

impl From<FormatName> for ExportFormat {
    fn from(f: FormatName) -> Self {
        match f {
            FormatName::Shopify => ExportFormat::Shopify,
            FormatName::Amazon => ExportFormat::Amazon,
            FormatName::Json => ExportFormat::Json,
            FormatName::Markdown => ExportFormat::Markdown,
            FormatName::Html => ExportFormat::Html,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    pub format: FormatName,
    /// Listing language (one per shop file).
    #[serde(default = "en")]
    #[schema(default = "en")]
    pub lang: String,
    pub marketplace: Option<String>,
    /// Only drafts made by this batch.
    pub batch: Option<i64>,
    /// Only these products.
    #[serde(default)]
    pub products: Vec<i64>,
    /// Unapproved drafts too (not marked exported).
    #[serde(default)]
    pub include_unapproved: bool,
}

/// Export the newest approved listing of each product in a shop's format;
/// the exported drafts are marked `exported` as the token's profile. The
/// report is in the `X-Vitrine-Export` header.
#[utoipa::path(post, path = "/api/exports", tag = "exports", request_body = ExportBody,
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = String),
        (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<ExportBody>,
) -> ApiResult<Response> {
    let format = ExportFormat::from(body.format);
    let filter = ExportFilter {
        lang: Some(body.lang),
        marketplace: body.marketplace,
        batch: body.batch,
        products: body.products,
        include_unapproved: body.include_unapproved,
    };
    let dir = tempfile::tempdir().map_err(|e| CoreError::Task(e.to_string()))?;
    let path = dir.path().join(format!("export.{}", format.extension()));
    let report = state
        .studio()
        .export(format, &filter, &path, &caller.profile)
        .await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|source| CoreError::Io {
            path: path.clone(),
            source,
        })?;
    let content_type = match format {
        ExportFormat::Shopify => "text/csv; charset=utf-8",
        ExportFormat::Amazon => "text/tab-separated-values; charset=utf-8",
        ExportFormat::Json => "application/json",
        ExportFormat::Markdown => "text/markdown; charset=utf-8",
        ExportFormat::Html => "text/html; charset=utf-8",
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"vitrine-export.{}\"",
        format.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    let summary = serde_json::json!({
        "products": report.products,
        "rows": report.rows,
        "drafts": report.drafts,
        "not_approved": report.not_approved,
    });
    if let Ok(v) = HeaderValue::from_str(&summary.to_string()) {
        h.insert("x-vitrine-export", v);
    }
    Ok(res)
}
