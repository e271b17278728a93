//! The REST API's handlers, by area. Each calls `Studio` or `core::*` and
//! turns the result into JSON; none decides anything itself.

pub mod batches;
pub mod drafts;
pub mod exports;
pub mod skills;
pub mod skills_upload;

use vitrine_core::completion::CancelToken;

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
