//! The REST API's handlers, by area. Each calls `Studio` or `core::*` and
//! turns the result into JSON; none decides anything itself.

pub mod batches;
pub mod drafts;
pub mod exports;
pub mod skills;
pub mod skills_upload;
pub mod tryon;

use vitrine_core::completion::CancelToken;
use vitrine_core::CoreError;

use crate::error::ApiResult;

/// A JSON body of any shape, as the handlers return it.
pub type JsonValue = axum::Json<serde_json::Value>;

/// Serialise a core value as a handler's JSON reply.
pub fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<JsonValue> {
    serde_json::to_value(v)
        .map(axum::Json)
        .map_err(|e| CoreError::Task(e.to_string()).into())
}

/// Cancels a generation when its request is dropped (the client went
/// away), so a model does not write for nobody.
pub struct CancelOnDrop(pub CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

pub fn en() -> String {
    "en".into()
}

pub fn generic() -> String {
    "generic".into()
}

pub fn yes() -> bool {
    true
}
