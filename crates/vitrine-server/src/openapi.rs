//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{batches, drafts, exports, skills};
use crate::{error, openai};

#[derive(OpenApi)]
#[openapi(
    info(title = "Vitrine", description = "Vitrine's skills over HTTP, and an OpenAI-compatible endpoint on the models it manages. Errors are application/problem+json (RFC 9457) with a stable `code`; /v1 errors take OpenAI's shape."),
    paths(
        crate::health,
        drafts::me,
        skills::upload_photo, skills::products, skills::product, skills::analyze,
        skills::listing, skills::script, skills::review_summary, skills::check, skills::check_draft,
        drafts::list, drafts::show, drafts::history, drafts::act, drafts::comment, drafts::comments,
        drafts::audit_verify,
        batches::create, batches::list, batches::status, batches::pause, batches::cancel, batches::resume,
        exports::export,
        openai::models, openai::model, openai::chat_completions,
    ),
    components(schemas(error::Problem)),
    modifiers(&BearerAuth),
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

/// The document, without a token (it says nothing secret).
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
