//! Extractors whose rejections are problem documents, and upload helpers.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{header, HeaderMap, StatusCode};

use crate::error::ApiError;

/// `axum::Json` with a 400 problem saying where the JSON went wrong.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Multipart` whose rejection (no or a bad boundary) is a
/// problem document like every other error.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Multipart)
            .map_err(ApiError::from)
    }
}

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Refuse an upload by its declared length before reading any of it.
pub fn check_length(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the upload is {n} bytes; the limit is {limit} bytes"),
        )),
        _ => Ok(()),
    }
}

/// A client's file name, for labels only: it is never used as a path.
/// Anything that tries to name a path (separators, `..`, a leading dot,
/// control characters, a drive letter) is refused rather than cleaned,
/// so a client learns its name was wrong.
pub fn safe_file_name(raw: &str) -> Result<String, ApiError> {
    let bad = |why: &str| {
        Err(ApiError::bad_request(
            "unsafe_file_name",
            format!("file name {raw:?} is refused: {why}; send a plain name such as `photo.jpg`"),
        ))
    };
    let name = raw.trim();
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > 200 {
        return bad("it is longer than 200 characters");
    }
    if name.contains(['/', '\\']) {
        return bad("it contains a path separator");
    }
    if name.contains("..") || name.starts_with('.') {
        return bad("it names a parent or hidden path");
    }
    if name.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' {
        return bad("it names a drive");
    }
    Ok(name.to_string())
}

/// The lower-case extension of a safe name, when it is one of `allowed`.
pub fn extension_in(name: &str, allowed: &[&str]) -> Option<String> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    allowed.contains(&ext.as_str()).then_some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_like_names_are_refused() {
        for raw in [
            "../etc/passwd",
            "..\\..\\boot.ini",
            "/etc/shadow",
            "a/b.jpg",
            ".bashrc",
            "C:evil.jpg",
            "x\u{0}.jpg",
            "..",
            "",
        ] {
            let e = safe_file_name(raw).expect_err(raw);
            assert_eq!(e.code, "unsafe_file_name", "{raw}");
        }
        assert_eq!(
            safe_file_name(" red tee.JPG ").expect("plain"),
            "red tee.JPG"
        );
        assert_eq!(safe_file_name("连衣裙.png").expect("cjk"), "连衣裙.png");
        assert_eq!(
            extension_in("Reviews.CSV", &["csv", "json"]).as_deref(),
            Some("csv")
        );
        assert_eq!(extension_in("reviews", &["csv"]), None);
    }
}
