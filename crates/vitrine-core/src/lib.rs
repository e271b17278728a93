//! Vitrine's domain: the store, photo ingest, facts and content pipelines.
//! It calls `vitrine-infer` for models and knows nothing of the UI.

pub mod analysis;
pub mod api_tokens;
pub mod audit;
pub mod batch;
pub mod brand;
pub mod cache;
pub mod catalogue;
pub mod checks;
pub mod colours;
pub mod completion;
pub mod draft_check;
pub mod error;
pub mod exports;
pub mod ingest;
pub mod kg;
mod kg_store;
mod label_paper;
pub mod label_text;
pub mod listing;
pub mod mentions;
pub mod paths;
pub mod photo_classifier;
pub mod provenance;
pub mod review;
pub mod reviews;
pub mod router;
pub mod script;
pub mod store;
pub mod studio;
pub mod text_decode;
pub mod title_facts;
pub mod types;
pub mod vlm_facts;

pub use error::{CoreError, Result};
pub use paths::DataDir;
pub use store::Store;
pub use studio::Studio;
pub use types::*;
