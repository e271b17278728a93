//! Errors of the model engine. Messages name the model, the file or the
//! command that fixes the problem.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("model manifest {}: {reason}", path.display())]
    Manifest { path: PathBuf, reason: String },

    #[error("unknown model `{id}`; known models: {known}")]
    UnknownModel { id: String, known: String },

    #[error("model `{id}` is not installed; run `vitrine models fetch {id}`")]
    NotInstalled { id: String },

    #[error("checksum mismatch for {}: expected sha256 {expected}, got {actual}; nothing was installed", path.display())]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("fetching `{id}` failed: {reason}")]
    Fetch { id: String, reason: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not a usable GGUF model: {reason}", path.display())]
    BadModelFile { path: PathBuf, reason: String },

    /// A PyTorch checkpoint that cannot be converted: truncated, malformed,
    /// or using a feature the reader does not support.
    #[error("{}: not a readable PyTorch checkpoint: {reason}", path.display())]
    BadCheckpoint { path: PathBuf, reason: String },

    /// A Hugging Face model directory (config.json, safetensors, tokenizer)
    /// that cannot be loaded: a file missing, malformed, or inconsistent
    /// with the others.
    #[error("{}: not a usable vision-language model: {reason}", path.display())]
    BadModelDir { path: PathBuf, reason: String },
    /// An ONNX model that cannot be read or run (truncated, malformed, or
    /// using operators the engine cannot evaluate).
    #[error("{}: not a usable ONNX model: {reason}", path.display())]
    BadOnnxModel { path: PathBuf, reason: String },

    /// An image the vision models cannot take (empty, undecodable).
    #[error("image: {0}")]
    BadImage(String),

    #[error("unsupported model architecture `{0}` (supported: llama, qwen2, qwen3, phi3, gemma3)")]
    UnsupportedArchitecture(String),

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error("chat template: {0}")]
    Template(String),

    #[error("prompt is {tokens} tokens; model `{id}` can take at most {limit}")]
    PromptTooLong {
        id: String,
        tokens: usize,
        limit: usize,
    },

    #[error("inference failed: {0}")]
    Backend(String),

    #[error("device `{0}` is not available in this build or on this machine")]
    Device(String),

    #[error("generation cancelled")]
    Cancelled,

    /// A remote model server could not be reached or broke off (connection,
    /// timeout, malformed stream); `reason` says which and after how many
    /// attempts.
    #[error("remote model server {url}: {reason}")]
    Remote { url: String, reason: String },

    /// A remote model server answered with an error status.
    #[error("remote model server {url} answered HTTP {status}{}: {body}", retried(*attempts))]
    RemoteStatus {
        url: String,
        status: u16,
        /// The start of the response body (servers put the reason there).
        body: String,
        attempts: u32,
    },
}

fn retried(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl InferError {
    /// Stable machine-readable code for the IPC boundary and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            InferError::Manifest { .. } => "manifest",
            InferError::UnknownModel { .. } => "unknown_model",
            InferError::NotInstalled { .. } => "model_not_installed",
            InferError::ChecksumMismatch { .. } => "checksum_mismatch",
            InferError::Fetch { .. } => "fetch_failed",
            InferError::Io { .. } => "io",
            InferError::BadModelFile { .. } => "bad_model_file",
            InferError::BadCheckpoint { .. } => "bad_checkpoint",
            InferError::BadModelDir { .. } => "bad_model_dir",
            InferError::BadOnnxModel { .. } => "bad_onnx_model",
            InferError::BadImage(_) => "bad_image",
            InferError::UnsupportedArchitecture(_) => "unsupported_architecture",
            InferError::Tokenizer(_) => "tokenizer",
            InferError::Template(_) => "chat_template",
            InferError::PromptTooLong { .. } => "prompt_too_long",
            InferError::Backend(_) => "inference",
            InferError::Device(_) => "device",
            InferError::Cancelled => "cancelled",
            InferError::Remote { .. } => "remote",
            InferError::RemoteStatus { .. } => "remote_status",
        }
    }
}

impl From<candle_core::Error> for InferError {
    fn from(e: candle_core::Error) -> Self {
        InferError::Backend(e.to_string())
    }
}

pub type Result<T, E = InferError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> InferError {
    let path = path.into();
    move |source| InferError::Io { path, source }
}
