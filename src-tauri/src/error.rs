//! The one error type that crosses the IPC boundary. Commands reject with
//! `{code, message, details}`: `code` is stable and machine-readable (the
//! core's `CoreError::code()` or one of the shell's own), `message` is one
//! line for the user, `details` carries the causes when there are any.

use serde::Serialize;
use serde_json::Value;
use vitrine_core::CoreError;

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl IpcError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// The request does not have the shape the command needs.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new("bad_request", message)
    }

    /// The page asked for something outside what it may reach.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new("forbidden", message)
    }

    /// A generation for this product is already running.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new("busy", message)
    }
}

impl From<CoreError> for IpcError {
    fn from(err: CoreError) -> Self {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            causes.push(Value::String(cause.to_string()));
            source = cause.source();
        }
        let details = if causes.is_empty() {
            Value::Null
        } else {
            serde_json::json!({ "causes": causes })
        };
        Self {
            code: err.code(),
            message: err.to_string(),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_code_and_message() {
        let err = IpcError::from(CoreError::NotFound {
            kind: "product",
            id: 42,
        });
        assert_eq!(err.code, "not_found");
        assert_eq!(err.message, "product 42 not found");
        let json = serde_json::to_value(&err).expect("serialises");
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["message"], "product 42 not found");
        assert!(json["details"].is_null());
    }

    #[test]
    fn causes_travel_in_details() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err = IpcError::from(CoreError::Io {
            path: "/x/y.jpg".into(),
            source: io,
        });
        assert_eq!(err.code, "io");
        assert_eq!(err.details["causes"][0], "denied");
    }
}
