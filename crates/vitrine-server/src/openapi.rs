//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::routes::skills::CheckBodyChoice;
use crate::routes::{batches, drafts, exports, skills, tryon};
use crate::{error, openai};

#[derive(OpenApi)]
#[openapi(
    info(title = "Vitrine", description = "Vitrine's skills over HTTP, and an OpenAI-compatible endpoint on the models it manages. Errors are application/problem+json (RFC 9457) with a stable `code`; /v1 errors take OpenAI's shape."),
    paths(
        crate::health,
        drafts::me,
        skills::upload_photo, skills::products, skills::product, skills::analyze,
        skills::listing, tryon::tryon, skills::script, skills::review_summary, skills::check, skills::check_draft,
        drafts::list, drafts::show, drafts::history, drafts::act, drafts::approve, drafts::comment, drafts::comments,
        drafts::audit_verify,
        batches::create, batches::list, batches::status, batches::pause, batches::cancel, batches::resume,
        exports::export,
        openai::models, openai::model, openai::chat_completions,
    ),
    components(schemas(
        error::Problem, openai::OpenAiErrorBody,
        drafts::StatusName, drafts::KindName, drafts::ReviewAction,
        tryon::GarmentName, tryon::ViewName, tryon::FramingName, tryon::SizeName,
    )),
    modifiers(&BearerAuth, &ErrorResponses, &KnownValues, &CheckBodyChoice),
    tags(
        (name = "skills", description = "Photos, listings, scripts, review summaries, checks"),
        (name = "review", description = "Drafts and the review workflow"),
        (name = "batches", description = "Batch jobs over a catalogue"),
        (name = "exports", description = "Approved listings in a shop's format"),
        (name = "openai", description = "OpenAI-compatible chat completions"),
        (name = "meta", description = "Health"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Documents the errors every operation can answer with, so that a client
/// generated from the document (or a contract tester) knows them: 401 and
/// 429 behind a token, 400 for malformed parameters or bodies, 404 for a
/// missing resource, 413 and 415 for bodies. `/api` errors are
/// `application/problem+json`; `/v1` errors take OpenAI's JSON shape. The
/// handlers' own annotations name their specific statuses; this adds the
/// ones the middleware and extractors produce, and gives every error
/// response its real content type.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let openai = path.starts_with("/v1/");
            for op in operations(item) {
                document_errors(op, openai);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn document_errors(op: &mut Operation, openai: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let params = op.parameters.as_deref().unwrap_or_default();
    let path_params = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let body = op.request_body.is_some();
    let mut statuses: Vec<(&str, &str)> = Vec::new();
    if secured {
        statuses.push(("401", "No token, or an unknown or revoked one"));
        statuses.push(("429", "Over the token's rate limit (see `Retry-After`)"));
    }
    if !params.is_empty() || body {
        statuses.push(("400", "A malformed parameter or body"));
    }
    if path_params {
        statuses.push(("404", "No such resource"));
    }
    if body {
        statuses.push(("413", "The body is over the size limit"));
        statuses.push((
            "415",
            "The body's Content-Type is not one this operation takes",
        ));
    }
    for (status, description) in statuses {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    let (content_type, schema) = if openai {
        ("application/json", "OpenAiErrorBody")
    } else {
        ("application/problem+json", "Problem")
    };
    for (status, response) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            response.content.clear();
            response.content.insert(
                content_type.to_string(),
                Content::new(Some(Ref::from_schema_name(schema))),
            );
        }
    }
}

/// The language codes `Lang::parse` accepts (a test keeps them in step).
pub const LANGS: [&str; 8] = [
    "en", "en-us", "en-gb", "english", "zh", "zh-cn", "zh-hans", "chinese",
];

/// Lists the values `lang` and `marketplace` take in request bodies. (Query
/// filters stay open: filtering on a value nothing has is an empty list,
/// not an error.) Marketplaces are data
/// (`assets/marketplaces.toml`), so the list comes from the core, not from
/// a copy here.
struct KnownValues;

impl Modify for KnownValues {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let markets: Vec<String> = vitrine_core::listing::marketplaces()
            .map(|all| all.into_iter().map(|m| m.id).collect())
            .unwrap_or_default();
        let langs: Vec<String> = LANGS.iter().map(|s| s.to_string()).collect();
        let known = |name: &str| match name {
            "lang" => Some(&langs),
            "marketplace" if !markets.is_empty() => Some(&markets),
            _ => None,
        };
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                let RefOr::T(Schema::Object(object)) = schema else {
                    continue;
                };
                for (name, property) in object.properties.iter_mut() {
                    if let (Some(values), RefOr::T(schema)) = (known(name), property) {
                        restrict(schema, values);
                    }
                }
            }
        }
    }
}

fn restrict(schema: &mut Schema, values: &[String]) {
    let Schema::Object(object) = schema else {
        return;
    };
    let nullable =
        matches!(&object.schema_type, SchemaType::Array(types) if types.contains(&Type::Null));
    let mut all: Vec<serde_json::Value> = values.iter().map(|v| v.as_str().into()).collect();
    if nullable {
        all.push(serde_json::Value::Null);
    }
    object.enum_values = Some(all);
}

/// The document, without a token (it says nothing secret).
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_language_parses() {
        for lang in LANGS {
            assert!(vitrine_core::listing::Lang::parse(lang).is_ok(), "{lang}");
        }
    }
}
