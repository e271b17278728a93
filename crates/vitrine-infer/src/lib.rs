//! Vitrine's model engine: the model manifest, fetching and verifying
//! weights, and local text generation with candle over GGUF files. It knows
//! nothing of the store or the UI.

pub mod chat;
pub mod constrained;
pub mod device;
pub mod error;
pub mod fetch;
pub mod gguf_guard;
pub mod manifest;
pub mod native;
pub mod registry;
mod spm;
pub mod text;
pub mod tokenizer;

pub use chat::{ChatMessage, Role as ChatRole};
pub use device::{select_device, DevicePref};
pub use error::{InferError, Result};
pub use fetch::{fetch_model, FetchEvent, FetchOptions};
pub use manifest::{Manifest, ModelSpec, Role, Source};
pub use registry::{ModelStatus, ModelStore};
pub use text::{
    CancelToken, CandleTextModel, Engine, Generation, GenerationParams, StopReason, TextModel,
};
pub use tokenizer::GgufTokenizer;
