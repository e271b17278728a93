//! Photos, products, listings, scripts, review summaries and checks.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Extension;
use serde::Deserialize;
use utoipa::ToSchema;
use vitrine_core::completion::CancelToken;
use vitrine_core::reviews::summarize::SummaryRequest;
use vitrine_core::script::ScriptRequest;
use vitrine_core::studio::{listing_params, ListingRequest};
use vitrine_core::{CoreError, Listing};

use super::skills_upload::{field, parse_field, read_upload};
use super::{en, generic, yes, CancelOnDrop};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{check_length, extension_in, Json, Multipart, Path};
use crate::state::AppState;

use super::{to_json, JsonValue};

/// A photo upload: `multipart/form-data` with one `file` part.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// JPEG, PNG or WebP; a plain file name (no path).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a product photo: ingested (de-duplicated by its sha256) and
/// analysed (colours, category, cut-out); a new photo is a new product.
#[utoipa::path(post, path = "/api/photos", tag = "skills",
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "The product, photo and facts", body = Object),
        (status = 400, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)),
    security(("bearer" = [])))]
pub async fn upload_photo(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<JsonValue> {
    check_length(&headers, state.config().max_upload_bytes)?;
    let (name, bytes, _) = read_upload(multipart).await?;
    let outcome = state.studio().ingest_bytes(&name, bytes).await?;
    to_json(&outcome)
}

/// All products, newest first.
#[utoipa::path(get, path = "/api/products", tag = "skills",
    responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub async fn products(State(state): State<AppState>) -> ApiResult<JsonValue> {
    to_json(&state.studio().products().await?)
}

/// A product with its photos, facts and drafts.
#[utoipa::path(get, path = "/api/products/{id}", tag = "skills",
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn product(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    to_json(&state.studio().product(id).await?)
}

/// Analyse a product's first photo again (machine facts replaced, the
/// user's kept).
#[utoipa::path(post, path = "/api/products/{id}/analyze", tag = "skills",
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn analyze(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<JsonValue> {
    let studio = state.studio();
    let product = studio.product(id).await?;
    let photo = product.photos.first().ok_or_else(|| {
        ApiError::bad_request("no_photo", format!("product {id} has no photo to analyse"))
    })?;
    let u = studio.understanding().await?;
    let out = vitrine_core::ingest::reanalyse(studio.store(), studio.dirs(), photo, &u).await?;
    to_json(&out)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingBody {
    /// `en` or `zh-CN`.
    #[serde(default = "en")]
    #[schema(default = "en")]
    pub lang: String,
    /// `generic`, `shopify`, `amazon`, `taobao`.
    #[serde(default = "generic")]
    #[schema(default = "generic")]
    pub marketplace: String,
    /// Pin an installed model (`GET /v1/models`); the router chooses
    /// otherwise.
    pub model: Option<String>,
    /// A stored brand profile.
    pub brand: Option<String>,
    /// Answer an identical earlier request from the generation cache.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub use_cache: bool,
    pub seed: Option<u64>,
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
}

fn sampling(
    base: vitrine_core::completion::GenerationParams,
    seed: Option<u64>,
    temperature: Option<f64>,
) -> ApiResult<Option<vitrine_core::completion::GenerationParams>> {
    if seed.is_none() && temperature.is_none() {
        return Ok(None);
    }
    let mut p = base;
    if let Some(t) = temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(ApiError::bad_request(
                "invalid_input",
                format!("`temperature` must be between 0 and 2, not {t}"),
            ));
        }
        p.temperature = t;
    }
    if let Some(s) = seed {
        p.seed = s;
    }
    Ok(Some(p))
}

/// Write a listing for a product: generated under the marketplace's
/// schema, checked (one repair round), stored as a draft.
#[utoipa::path(post, path = "/api/products/{id}/listing", tag = "skills",
    params(("id" = i64, Path)), request_body = ListingBody,
    responses((status = 200, description = "The draft", body = Object),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn listing(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ListingBody>,
) -> ApiResult<JsonValue> {
    let cancel = CancelToken::new();
    let _guard = CancelOnDrop(cancel.clone());
    let req = ListingRequest {
        product_id: id,
        lang: body.lang,
        marketplace: body.marketplace,
        model: body.model,
        params: sampling(listing_params(), body.seed, body.temperature)?,
        use_cache: body.use_cache,
        brand: body.brand,
        batch_item: None,
    };
    let draft = state
        .studio()
        .generate_listing(req, Box::new(|_| {}), cancel)
        .await?;
    to_json(&draft)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptBody {
    /// The line-up, in order; the draft is stored on the first.
    #[schema(min_items = 1)]
    pub product_ids: Vec<i64>,
    #[serde(default = "en")]
    #[schema(default = "en")]
    pub lang: String,
    /// Minutes per product (0.25–60; 5 by default).
    pub minutes: Option<f64>,
    /// The offer to announce word for word; none is announced without it.
    pub offer: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub use_cache: bool,
    pub seed: Option<u64>,
}

/// Write a timed livestream script for one product or a line-up.
#[utoipa::path(post, path = "/api/scripts", tag = "skills", request_body = ScriptBody,
    responses((status = 200, description = "The script draft", body = Object),
        (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn script(
    State(state): State<AppState>,
    Json(body): Json<ScriptBody>,
) -> ApiResult<JsonValue> {
    let cancel = CancelToken::new();
    let _guard = CancelOnDrop(cancel.clone());
    let req = ScriptRequest {
        product_ids: body.product_ids,
        lang: body.lang,
        minutes: body.minutes,
        offer: body.offer,
        brand: body.brand,
        model: body.model,
        params: sampling(vitrine_core::script::script_params(), body.seed, None)?,
        use_cache: body.use_cache,
        batch_item: None,
    };
    let draft = state
        .studio()
        .generate_script(req, Box::new(|_| {}), cancel)
        .await?;
    to_json(&draft)
}

/// A review file upload and its options.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReviewsUpload {
    /// CSV, JSON, JSON lines or text (one review a line); UTF-8 or GBK.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Store the summary as a draft of this product.
    product_id: Option<i64>,
    /// `en` or `zh-CN` (default `en`).
    lang: Option<String>,
    model: Option<String>,
}

/// Summarise customer reviews: counts, pros and cons, verified quotes,
/// suspicious reviews, and a paragraph from the model.
#[utoipa::path(post, path = "/api/reviews/summary", tag = "skills",
    request_body(content = ReviewsUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 413, body = Problem)),
    security(("bearer" = [])))]
pub async fn review_summary(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<JsonValue> {
    check_length(&headers, state.config().max_upload_bytes)?;
    let (name, bytes, fields) = read_upload(multipart).await?;
    // The client's name only picks the format; the file lives in a
    // directory of ours under a name of ours.
    let ext = extension_in(&name, &["csv", "json", "jsonl", "txt"]).unwrap_or_else(|| "txt".into());
    let dir = tempfile::tempdir().map_err(|e| CoreError::Task(e.to_string()))?;
    let path = dir.path().join(format!("reviews.{ext}"));
    tokio::fs::write(&path, &bytes)
        .await
        .map_err(|source| CoreError::Io {
            path: path.clone(),
            source,
        })?;
    let cancel = CancelToken::new();
    let _guard = CancelOnDrop(cancel.clone());
    let req = SummaryRequest {
        product_id: parse_field(&fields, "product_id")?,
        lang: field(&fields, "lang").unwrap_or("en").to_string(),
        model: field(&fields, "model").map(str::to_string),
        params: None,
        use_cache: parse_field(&fields, "use_cache")?.unwrap_or(true),
        batch_item: None,
    };
    let summary = state
        .studio()
        .summarize_reviews(&path, req, Box::new(|_| {}), cancel)
        .await?;
    to_json(&summary)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// A listing. Give this or `text`, not both.
    pub listing: Option<ListingInput>,
    /// Any copy, checked as one field. Give this or `listing`.
    pub text: Option<String>,
    /// Check against this product's facts.
    pub product_id: Option<i64>,
    #[serde(default = "generic")]
    #[schema(default = "generic")]
    pub marketplace: String,
    #[serde(default = "en")]
    #[schema(default = "en")]
    pub lang: String,
    pub brand: Option<String>,
}

/// A listing's copy, as posted for checking.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ListingInput {
    pub title: String,
    pub bullets: Vec<String>,
    pub description: String,
    pub keywords: Vec<String>,
    /// The marketplace's own fields (Shopify's `seo_title`,
    /// `seo_description`, `image_alt`), by name.
    #[serde(default)]
    pub extra: std::collections::BTreeMap<String, String>,
}

impl From<ListingInput> for Listing {
    fn from(l: ListingInput) -> Self {
        Listing {
            title: l.title,
            bullets: l.bullets,
            description: l.description,
            keywords: l.keywords,
            extra: l.extra,
        }
    }
}

/// Says in the document what the handler insists on: exactly one of
/// `listing` and `text` (a `oneOf` that `utoipa`'s derive cannot write).
pub struct CheckBodyChoice;

impl utoipa::Modify for CheckBodyChoice {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(body) = components.schemas.remove("CheckBody") else {
            return;
        };
        let typed = |t: Type| ObjectBuilder::new().schema_type(t);
        let only = |given: &str, given_schema: ObjectBuilder, absent: &str| {
            ObjectBuilder::new()
                .required(given)
                .property(given, given_schema)
                .property(absent, typed(Type::Null))
        };
        let choice = OneOfBuilder::new()
            .item(only("listing", typed(Type::Object), "text"))
            .item(only("text", typed(Type::String), "listing"));
        let schema = AllOfBuilder::new().item(body).item(choice).build();
        components
            .schemas
            .insert("CheckBody".to_string(), RefOr::T(Schema::AllOf(schema)));
    }
}

/// Run every check on a posted listing or text: limits, wording,
/// contradictions with the facts, unsupported specs, language, brand.
#[utoipa::path(post, path = "/api/checks", tag = "skills", request_body = CheckBody,
    responses((status = 200, description = "Findings, blocking first", body = [Object]),
        (status = 400, body = Problem), (status = 404, description = "No such product", body = Problem)),
    security(("bearer" = [])))]
pub async fn check(
    State(state): State<AppState>,
    Json(body): Json<CheckBody>,
) -> ApiResult<JsonValue> {
    let studio = state.studio();
    let findings = match (&body.listing, &body.text) {
        (Some(listing), None) => {
            studio
                .check_listing(
                    &listing.clone().into(),
                    body.product_id,
                    &body.marketplace,
                    &body.lang,
                    body.brand.as_deref(),
                )
                .await?
        }
        (None, Some(text)) => {
            studio
                .check_text(text, body.product_id, &body.lang, body.brand.as_deref())
                .await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_input",
                "give exactly one of `listing` and `text`",
            ))
        }
    };
    to_json(&findings)
}

/// Run every check on a stored draft's current version.
#[utoipa::path(get, path = "/api/drafts/{id}/checks", tag = "skills",
    params(("id" = i64, Path)),
    responses((status = 200, body = [Object]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn check_draft(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Extension(_caller): Extension<Caller>,
) -> ApiResult<JsonValue> {
    to_json(&state.studio().check_draft(id).await?)
}

use crate::error::Problem;
