//! Model files are untrusted input: broken ones must fail with a clear
//! error, never a panic.

mod common;

use std::io::{Read, Write};

use candle_core::Device;
use vitrine_infer::{CandleTextModel, InferError};

fn load(bytes: &[u8]) -> Result<CandleTextModel, InferError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    CandleTextModel::load("broken", file.path(), &Device::Cpu)
}

fn head_of_real_model(n: u64) -> Vec<u8> {
    let (_, path) = common::installed("smollm2-135m");
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .take(n)
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

#[test]
fn empty_and_garbage_files_are_rejected() {
    for bytes in [Vec::new(), b"not a gguf at all".to_vec(), vec![0u8; 4096]] {
        let err = load(&bytes).err().expect("must fail");
        assert!(matches!(err, InferError::BadModelFile { .. }), "{err}");
    }
}

#[test]
fn truncated_models_are_rejected() {
    // Cut inside the metadata, and inside the tensor data.
    for n in [64 * 1024, 20 * 1024 * 1024] {
        let err = load(&head_of_real_model(n)).err().expect("must fail");
        assert!(
            matches!(
                err,
                InferError::BadModelFile { .. } | InferError::Tokenizer(_)
            ),
            "cut at {n}: {err}"
        );
    }
}

/// A GGUF v3 header with one metadata pair, built by hand.
fn crafted(key_len: u64, value: &[u8], tensors: u64) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(tensors.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    b.extend(key_len.to_le_bytes());
    b.extend(b"general.architecture");
    b.extend(value);
    b.extend(vec![0u8; 256]);
    b
}

#[test]
fn lying_lengths_are_refused_before_anything_is_allocated() {
    // A key that claims a terabyte.
    let mut string_value = 8u32.to_le_bytes().to_vec();
    string_value.extend(5u64.to_le_bytes());
    string_value.extend(b"llama");
    let cases = [
        ("huge key", crafted(1 << 40, &string_value, 0)),
        (
            "huge tensor count",
            crafted(20, &string_value, u64::MAX / 2),
        ),
        ("huge array", {
            let mut v = 9u32.to_le_bytes().to_vec();
            v.extend(8u32.to_le_bytes());
            v.extend((1u64 << 50).to_le_bytes());
            crafted(20, &v, 0)
        }),
        ("huge string value", {
            let mut v = 8u32.to_le_bytes().to_vec();
            v.extend((1u64 << 45).to_le_bytes());
            crafted(20, &v, 0)
        }),
    ];
    for (what, bytes) in cases {
        let err = load(&bytes)
            .err()
            .unwrap_or_else(|| panic!("{what} was accepted"));
        assert!(
            matches!(err, InferError::BadModelFile { .. }),
            "{what}: {err}"
        );
        assert!(
            err.to_string().contains("claims") || err.to_string().contains("remain"),
            "{what}: {err}"
        );
    }
}

#[test]
fn real_models_pass_the_header_check() {
    for id in ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"] {
        let (_, path) = common::installed(id);
        vitrine_infer::gguf_guard::check_gguf_header(&path).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
}
