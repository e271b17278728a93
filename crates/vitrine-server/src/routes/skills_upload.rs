//! Reading multipart uploads: the `file` part (its name checked, never
//! used as a path) and the text parts beside it.

use crate::error::{ApiError, ApiResult};
use crate::extract::{safe_file_name, Multipart};

/// Read the `file` part (refusing unsafe names) and the text parts.
pub async fn read_upload(
    Multipart(mut multipart): Multipart,
) -> ApiResult<(String, Vec<u8>, Vec<(String, String)>)> {
    let mut file = None;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = safe_file_name(field.file_name().unwrap_or("upload"))?;
            let bytes = field.bytes().await?;
            file = Some((file_name, bytes.to_vec()));
        } else {
            let value = field.text().await?;
            fields.push((name, value));
        }
    }
    let (name, bytes) = file.ok_or_else(|| {
        ApiError::bad_request(
            "missing_file",
            "the form needs a `file` part holding the upload",
        )
    })?;
    Ok((name, bytes, fields))
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

pub fn parse_field<T: std::str::FromStr>(
    fields: &[(String, String)],
    name: &str,
) -> ApiResult<Option<T>> {
    field(fields, name)
        .map(|v| {
            v.parse::<T>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_field",
                    format!("form field `{name}`: cannot read {v:?}"),
                )
            })
        })
        .transpose()
}
