//! Re-quantizing a GGUF file into another block format: the same tensors,
//! metadata and tokenizer, with every matrix converted (vectors such as
//! norms stay as they are, as `llama-quantize` does). The bench uses it to
//! compare engines on formats no shipped file has (SmolLM2 as Q8_0).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;

use crate::error::{io_err, InferError, Result};

/// A block format by its usual name (`q8_0`, `q4_k`, …).
pub fn parse_format(name: &str) -> Result<GgmlDType> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "q8_0" => GgmlDType::Q8_0,
        "q4_0" => GgmlDType::Q4_0,
        "q4_1" => GgmlDType::Q4_1,
        "q5_0" => GgmlDType::Q5_0,
        "q4_k" => GgmlDType::Q4K,
        "q6_k" => GgmlDType::Q6K,
        other => {
            return Err(InferError::Backend(format!(
                "unknown block format `{other}` (try q8_0, q4_0, q4_1, q5_0, q4_k or q6_k)"
            )))
        }
    })
}

/// llama.cpp's `general.file_type` for a file mostly in `dtype`.
fn file_type(dtype: GgmlDType) -> u32 {
    match dtype {
        GgmlDType::Q4_0 => 2,
        GgmlDType::Q4_1 => 3,
        GgmlDType::Q8_0 => 7,
        GgmlDType::Q5_0 => 8,
        GgmlDType::Q4K => 15,
        GgmlDType::Q6K => 18,
        _ => 0,
    }
}

/// Write `src` re-quantized to `format` at `dst` (through a temporary file
/// renamed into place, so an interrupted run leaves no half file).
pub fn requantize(src: &Path, dst: &Path, format: &str) -> Result<()> {
    let dtype = parse_format(format)?;
    let mut file = File::open(src).map_err(io_err(src))?;
    let content = gguf_file::Content::read(&mut file).map_err(|e| InferError::BadModelFile {
        path: src.to_path_buf(),
        reason: e.to_string(),
    })?;
    let cpu = Device::Cpu;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort_by_key(|n| content.tensor_infos[*n].offset);
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let t = content.tensor(&mut file, name, &cpu)?;
        let dims = t.shape().dims().to_vec();
        let whole_blocks = dims.len() == 2 && dims[1] % dtype.block_size() == 0;
        let t = if whole_blocks && t.dtype() != dtype {
            QTensor::quantize(&t.dequantize(&cpu)?, dtype)?
        } else {
            t
        };
        tensors.push((name.clone(), t));
    }
    // candle writes with the default 32-byte alignment, so a different
    // stored one would misplace every tensor.
    let metadata: Vec<(String, gguf_file::Value)> = content
        .metadata
        .iter()
        .filter(|(k, _)| k.as_str() != "general.alignment")
        .map(|(k, v)| match k.as_str() {
            "general.file_type" => (k.clone(), gguf_file::Value::U32(file_type(dtype))),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let tmp = dst.with_extension("gguf.part");
    let written = (|| -> Result<()> {
        let mut w = BufWriter::new(File::create(&tmp).map_err(io_err(&tmp))?);
        let meta: Vec<(&str, &gguf_file::Value)> =
            metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
        gguf_file::write(&mut w, &meta, &ts)?;
        w.flush().map_err(io_err(&tmp))?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, dst).map_err(io_err(dst))
}
