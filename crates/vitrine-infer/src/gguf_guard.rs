//! A bounded walk over a GGUF header before candle reads it. GGUF files are
//! untrusted input and candle's reader allocates whatever lengths the file
//! claims, so a few crafted bytes could ask for terabytes; here every length
//! and count is checked against the bytes actually left in the file, and
//! strings are skipped rather than read.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{InferError, Result};

/// ggml supports at most four dimensions per tensor.
const MAX_DIMS: u32 = 4;
/// Nested arrays deeper than this are not used by any model format.
const MAX_DEPTH: u32 = 2;

struct Walker<R> {
    reader: R,
    pos: u64,
    size: u64,
}

impl<R: Read + Seek> Walker<R> {
    fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    fn need(&self, n: u64, what: &str) -> std::result::Result<(), String> {
        if n > self.remaining() {
            Err(format!(
                "{what} claims {n} bytes but only {} remain",
                self.remaining()
            ))
        } else {
            Ok(())
        }
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> std::result::Result<[u8; N], String> {
        self.need(N as u64, what)?;
        let mut buf = [0u8; N];
        self.reader
            .read_exact(&mut buf)
            .map_err(|e| format!("{what}: {e}"))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u32(&mut self, what: &str) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes::<4>(what)?))
    }

    fn u64(&mut self, what: &str) -> std::result::Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes::<8>(what)?))
    }

    fn skip(&mut self, n: u64, what: &str) -> std::result::Result<(), String> {
        self.need(n, what)?;
        let offset = i64::try_from(n).map_err(|_| format!("{what}: length {n} is too large"))?;
        self.reader
            .seek(SeekFrom::Current(offset))
            .map_err(|e| format!("{what}: {e}"))?;
        self.pos += n;
        Ok(())
    }

    fn string(&mut self, what: &str) -> std::result::Result<(), String> {
        let len = self.u64(what)?;
        self.skip(len, what)
    }

    /// Skip one metadata value of `ty`.
    fn value(&mut self, ty: u32, depth: u32) -> std::result::Result<(), String> {
        match ty {
            0 | 1 | 7 => self.skip(1, "value"), // u8, i8, bool
            2 | 3 => self.skip(2, "value"),     // u16, i16
            4..=6 => self.skip(4, "value"),     // u32, i32, f32
            10..=12 => self.skip(8, "value"),   // u64, i64, f64
            8 => self.string("string value"),
            9 => {
                if depth >= MAX_DEPTH {
                    return Err("arrays nested too deeply".into());
                }
                let elem = self.u32("array type")?;
                let count = self.u64("array length")?;
                // Every element takes at least one byte: a count beyond the
                // bytes left is a lie, whatever the element type.
                self.need(count, "array")?;
                for _ in 0..count {
                    self.value(elem, depth + 1)?;
                }
                Ok(())
            }
            other => Err(format!("unknown metadata type {other}")),
        }
    }
}

/// Check that `path` is a GGUF file whose header can be read without
/// trusting any length in it. Cheap: it reads the header only.
pub fn check_gguf_header(path: &Path) -> Result<()> {
    let bad = |reason: String| InferError::BadModelFile {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|source| InferError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let size = file
        .metadata()
        .map_err(|source| InferError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let mut w = Walker {
        reader: BufReader::new(file),
        pos: 0,
        size,
    };
    let walk = |w: &mut Walker<BufReader<File>>| -> std::result::Result<(), String> {
        if &w.bytes::<4>("magic")? != b"GGUF" {
            return Err("not a GGUF file (bad magic)".into());
        }
        let version = w.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(format!("GGUF version {version} is not supported (2 or 3)"));
        }
        let tensors = w.u64("tensor count")?;
        let kvs = w.u64("metadata count")?;
        // A tensor entry is at least 24 bytes, a key-value pair at least 13.
        w.need(tensors.saturating_mul(24), "tensor table")?;
        w.need(kvs.saturating_mul(13), "metadata")?;
        for _ in 0..kvs {
            w.string("metadata key")?;
            let ty = w.u32("metadata type")?;
            w.value(ty, 0)?;
        }
        for _ in 0..tensors {
            w.string("tensor name")?;
            let dims = w.u32("tensor dimensions")?;
            if dims == 0 || dims > MAX_DIMS {
                return Err(format!("a tensor has {dims} dimensions"));
            }
            let mut elements: u64 = 1;
            for _ in 0..dims {
                elements = elements
                    .checked_mul(w.u64("tensor shape")?)
                    .ok_or_else(|| "a tensor shape overflows".to_string())?;
            }
            // Even at two bits per weight a tensor cannot exceed the file.
            if elements / 4 > size {
                return Err(format!(
                    "a tensor claims {elements} elements, more than the file can hold"
                ));
            }
            w.u32("tensor type")?;
            let offset = w.u64("tensor offset")?;
            if offset > size {
                return Err(format!(
                    "a tensor starts at {offset}, beyond the end of the file"
                ));
            }
        }
        Ok(())
    };
    walk(&mut w).map_err(bad)
}
