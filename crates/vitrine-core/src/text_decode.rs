//! Decoding the text files merchants hand us (review exports, catalogue
//! CSVs): UTF-8 with or without a BOM, else GB18030, which also reads GBK
//! and GB2312 — what Chinese spreadsheet tools save by default.

use std::borrow::Cow;

/// The bytes are neither UTF-8 nor GB18030; the offsets say where each
/// reading failed so the user can find the damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the file is neither UTF-8 (invalid byte at offset {utf8_offset}) nor GBK/GB18030 (invalid byte at offset {gbk_offset})")]
pub struct DecodeError {
    pub utf8_offset: usize,
    pub gbk_offset: usize,
}

/// UTF-8 (a BOM dropped), else GB18030. Neither decodes with replacement
/// characters: a file that is neither is refused. UTF-8 input is borrowed,
/// not copied, so a large file is held in memory once.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), DecodeError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let utf8_offset = match std::str::from_utf8(body) {
        Ok(s) => return Ok((Cow::Borrowed(s), "utf-8")),
        Err(e) => e.valid_up_to() + (bytes.len() - body.len()),
    };
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(4));
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok((Cow::Owned(out), "gb18030")),
        encoding_rs::DecoderResult::Malformed(bad, after) => Err(DecodeError {
            utf8_offset,
            gbk_offset: read.saturating_sub(bad as usize + after as usize),
        }),
        // The buffer was sized for the whole input, so this cannot happen;
        // report it as a failure at the end rather than panic.
        encoding_rs::DecoderResult::OutputFull => Err(DecodeError {
            utf8_offset,
            gbk_offset: read,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_borrowed_and_the_bom_dropped() {
        let (text, enc) = decode(b"\xEF\xBB\xBFhandle,title\n").unwrap();
        assert_eq!(enc, "utf-8");
        assert!(matches!(text, Cow::Borrowed(_)));
        assert_eq!(text, "handle,title\n");
    }

    #[test]
    fn gbk_falls_back_to_gb18030() {
        let (gbk, _, bad) = encoding_rs::GBK.encode("标题,价格\n卫衣,99\n");
        assert!(!bad);
        let (text, enc) = decode(&gbk).unwrap();
        assert_eq!(enc, "gb18030");
        assert_eq!(text, "标题,价格\n卫衣,99\n");
    }

    #[test]
    fn garbage_names_both_offsets() {
        let err = decode(b"ok\n\xFF\xFF").unwrap_err();
        assert_eq!(
            err,
            DecodeError {
                utf8_offset: 3,
                gbk_offset: 3
            }
        );
    }
}
