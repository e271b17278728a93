//! Vitrine's model engine: the model manifest, fetching and verifying
//! weights, local text generation with candle over GGUF files, and the same
//! interface over a remote OpenAI-compatible server. It knows nothing of the
//! store or the UI.

pub mod chat;
pub mod constrained;
pub mod device;
pub mod error;
pub mod fetch;
pub mod gguf_guard;
pub mod manifest;
pub mod native;
pub mod registry;
pub mod remote;
pub mod requant;
mod spm;
pub mod text;
pub mod tokenizer;
pub mod vision;

pub use chat::{ChatMessage, Role as ChatRole};
pub use device::{select_device, DevicePref};
pub use error::{InferError, Result};
pub use fetch::{fetch_model, FetchEvent, FetchOptions};
pub use manifest::{Manifest, ModelSpec, Role, Source};
pub use registry::{ModelStatus, ModelStore};
pub use remote::{RemoteConfig, RemoteTextModel, ResponseFormat};
pub use text::{
    CancelToken, CandleTextModel, Engine, Generation, GenerationParams, StopReason, TextModel,
};
pub use tokenizer::GgufTokenizer;
