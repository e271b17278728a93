//! Reader for PyTorch's legacy (pre-1.6, non-zip) checkpoint format, which
//! candle's own reader does not open, and conversion to safetensors.
//!
//! A legacy file is five pickles back to back followed by raw storages:
//! the magic number, the protocol version (1001), a sys-info dict
//! (endianness, C type sizes), the saved object (here a state dict whose
//! tensors name their storage by persistent id), and the list of storage
//! keys in the order their bytes follow; then, for each key, the element
//! count as a little-endian u64 and the elements themselves.
//!
//! Each pickle is parsed by candle's pickle VM after [`pickle_guard`] has
//! walked it dry; the container, the storage table and
//! `torch._utils._rebuild_tensor_v2` are handled here. Every count, offset
//! and stride comes from the file and is checked against the bytes actually
//! present before anything is allocated or copied.

use std::collections::HashMap;
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

use super::pickle_guard;
use crate::error::{io_err, InferError, Result};

/// `torch.serialization.MAGIC_NUMBER`, little-endian, as pickled by LONG1.
const MAGIC_LE: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const PROTOCOL_VERSION: i64 = 1001;

/// Reads every tensor of a legacy PyTorch state dict onto the CPU, as
/// contiguous tensors of the stored dtype (f32, f64, f16, bf16, i64, u8).
/// Entries that are not tensors (the `_metadata` torch attaches) are left
/// out.
pub fn read_legacy_pth(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let data = std::fs::read(path).map_err(io_err(path))?;
    parse(&data).map_err(|reason| InferError::BadCheckpoint {
        path: path.to_path_buf(),
        reason,
    })
}

/// Converts a legacy PyTorch checkpoint into a safetensors file with the same
/// tensor names. `dst` is written through a temporary file in its directory
/// and renamed into place, so it is either complete or absent. Returns the
/// number of tensors written.
pub fn convert_pth_to_safetensors(src: &Path, dst: &Path) -> Result<usize> {
    let tensors = read_legacy_pth(src)?;
    let count = tensors.len();
    let map: HashMap<String, Tensor> = tensors.into_iter().collect();
    let dir = match dst.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".vitrine-convert-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    candle_core::safetensors::save(&map, tmp.path())?;
    tmp.persist(dst).map_err(|e| InferError::Io {
        path: dst.to_path_buf(),
        source: e.error,
    })?;
    tracing::debug!(src = %src.display(), dst = %dst.display(), count, "converted checkpoint");
    Ok(count)
}

type Parse<T> = std::result::Result<T, String>;

fn parse(data: &[u8]) -> Parse<Vec<(String, Tensor)>> {
    if data.starts_with(b"PK\x03\x04") {
        return Err(
            "this is a zip-format checkpoint (PyTorch 1.6+), not the legacy format; \
                    candle's own reader opens those"
                .into(),
        );
    }
    let mut pos = check_magic(data)?;

    let (protocol, next) = run_pickle(data, pos, "protocol version")?;
    pos = next;
    match protocol.int_or_long() {
        Ok(PROTOCOL_VERSION) => {}
        Ok(v) => return Err(format!("unsupported protocol version {v}")),
        Err(_) => return Err("the protocol version is not an integer".into()),
    }

    let (sys_info, next) = run_pickle(data, pos, "sys info")?;
    pos = next;
    check_sys_info(sys_info)?;

    let (state, next) = run_pickle(data, pos, "state dict")?;
    pos = next;
    let entries = state_dict_entries(state)?;

    let (keys, next) = run_pickle(data, pos, "storage keys")?;
    pos = next;
    let keys = match keys {
        Object::List(keys) => keys
            .into_iter()
            .map(|k| {
                k.unicode()
                    .map_err(|_| "a storage key is not a string".to_string())
            })
            .collect::<Parse<Vec<_>>>()?,
        _ => return Err("the storage key list is not a list".into()),
    };

    let mut tensors = Vec::new();
    let mut storages: HashMap<String, StorageDecl> = HashMap::new();
    for (name, obj) in entries {
        let Some(t) = tensor_ref(obj).map_err(|e| format!("tensor `{name}`: {e}"))? else {
            tracing::debug!(%name, "skipping a state-dict entry that is not a tensor");
            continue;
        };
        let decl = &t.storage;
        match storages.get(&decl.key) {
            Some(prev) if prev.dtype != decl.dtype || prev.numel != decl.numel => {
                return Err(format!(
                    "storage {} is declared twice with different types or sizes",
                    decl.key
                ))
            }
            Some(_) => {}
            None => {
                storages.insert(decl.key.clone(), decl.clone());
            }
        }
        tensors.push((name, t));
    }

    let blobs = read_storages(data, pos, &keys, &storages)?;

    let mut out = Vec::with_capacity(tensors.len());
    let mut seen = std::collections::HashSet::new();
    for (name, t) in tensors {
        if !seen.insert(name.clone()) {
            return Err(format!("tensor `{name}` appears twice"));
        }
        let blob = blobs
            .get(t.storage.key.as_str())
            .ok_or_else(|| format!("tensor `{name}`: storage {} has no data", t.storage.key))?;
        let tensor = materialise(&t, blob).map_err(|e| format!("tensor `{name}`: {e}"))?;
        out.push((name, tensor));
    }
    Ok(out)
}

/// The first pickle must be exactly the magic number (protocol opcode
/// optional). Returns the offset after it.
fn check_magic(data: &[u8]) -> Parse<usize> {
    let mut pos = 0;
    if data.first() == Some(&0x80) {
        pos = 2;
    }
    let end = pos + 2 + MAGIC_LE.len() + 1;
    let ok = data.len() >= end
        && data[pos] == 0x8a
        && usize::from(data[pos + 1]) == MAGIC_LE.len()
        && data[pos + 2..end - 1] == MAGIC_LE
        && data[end - 1] == b'.';
    if ok {
        Ok(end)
    } else {
        Err("no legacy PyTorch magic number at the start of the file".into())
    }
}

/// Dry-runs, then executes, the pickle at `start`; returns its value and the
/// offset after it.
fn run_pickle(data: &[u8], start: usize, what: &str) -> Parse<(Object, usize)> {
    let end = pickle_guard::check(data, start).map_err(|e| format!("{what}: {e}"))?;
    let mut reader = &data[start..end];
    let mut stack = Stack::empty();
    stack
        .read_loop(&mut reader)
        .map_err(|e| format!("{what}: {e}"))?;
    let value = stack.finalize().map_err(|e| format!("{what}: {e}"))?;
    Ok((value, end))
}

fn check_sys_info(info: Object) -> Parse<()> {
    let Object::Dict(items) = info else {
        return Err("the sys-info record is not a dict".into());
    };
    for (k, v) in items {
        if let (Object::Unicode(k), Object::Bool(little)) = (&k, &v) {
            if k == "little_endian" {
                return if *little && cfg!(target_endian = "little") {
                    Ok(())
                } else {
                    Err("big-endian checkpoints (or hosts) are not supported".into())
                };
            }
        }
    }
    Err("the sys-info record does not say the byte order".into())
}

/// The state dict's (name, value) pairs. candle's VM turns an OrderedDict
/// into a plain dict and merges the `_metadata` attribute torch attaches
/// into it; the latter is not a tensor and is skipped later.
fn state_dict_entries(state: Object) -> Parse<Vec<(String, Object)>> {
    let items = match state {
        Object::Dict(items) => items,
        Object::Build { callable, .. } => match *callable {
            Object::Dict(items) => items,
            _ => return Err("the saved object is not a state dict".into()),
        },
        _ => return Err("the saved object is not a state dict".into()),
    };
    Ok(items
        .into_iter()
        .filter_map(|(k, v)| match k {
            Object::Unicode(k) => Some((k, v)),
            _ => None,
        })
        .collect())
}

#[derive(Clone, Debug, PartialEq)]
struct StorageDecl {
    key: String,
    dtype: DType,
    /// Elements in the whole storage.
    numel: usize,
}

#[derive(Debug)]
struct TensorRef {
    storage: StorageDecl,
    /// Where, in elements of the whole storage, the tensor's storage (a view,
    /// in old checkpoints) starts, and how long it is.
    view: (usize, usize),
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

fn class_is(obj: &Object, module: &str, name: &str) -> bool {
    matches!(obj, Object::Class { module_name, class_name } if module_name == module && class_name == name)
}

fn count(obj: Object, what: &str) -> Parse<usize> {
    let v = obj
        .int_or_long()
        .map_err(|_| format!("{what} is not an integer"))?;
    usize::try_from(v).map_err(|_| format!("{what} is negative ({v})"))
}

fn counts(obj: Object, what: &str) -> Parse<Vec<usize>> {
    match obj {
        Object::Tuple(items) | Object::List(items) => {
            items.into_iter().map(|v| count(v, what)).collect()
        }
        _ => Err(format!("{what} is not a tuple")),
    }
}

/// Recognises `_rebuild_tensor_v2(storage, offset, size, stride, ...)`,
/// possibly wrapped in `_rebuild_parameter`. Ok(None): not a tensor.
fn tensor_ref(obj: Object) -> Parse<Option<TensorRef>> {
    let Object::Reduce { callable, args } = obj else {
        return Ok(None);
    };
    let (callable, args) = if class_is(&callable, "torch._utils", "_rebuild_parameter") {
        let Object::Tuple(mut a) = *args else {
            return Err("parameter arguments are not a tuple".into());
        };
        if a.is_empty() {
            return Err("parameter without a tensor".into());
        }
        match a.swap_remove(0) {
            Object::Reduce { callable, args } => (callable, args),
            _ => return Err("parameter does not wrap a tensor".into()),
        }
    } else {
        (callable, args)
    };
    if !class_is(&callable, "torch._utils", "_rebuild_tensor_v2") {
        return Ok(None);
    }
    let Object::Tuple(args) = *args else {
        return Err("tensor arguments are not a tuple".into());
    };
    if args.len() < 4 {
        return Err(format!(
            "{} tensor arguments, expected at least 4",
            args.len()
        ));
    }
    let mut args = args.into_iter();
    let (Some(storage), Some(offset), Some(size), Some(stride)) =
        (args.next(), args.next(), args.next(), args.next())
    else {
        return Err("missing tensor arguments".into());
    };
    let (storage, view) = storage_ref(storage)?;
    let size = counts(size, "a tensor size")?;
    let stride = counts(stride, "a tensor stride")?;
    if size.len() != stride.len() {
        return Err(format!("{} sizes but {} strides", size.len(), stride.len()));
    }
    Ok(Some(TensorRef {
        storage,
        view,
        offset: count(offset, "the storage offset")?,
        size,
        stride,
    }))
}

/// The persistent id `('storage', StorageClass, key, location, numel,
/// view_metadata)`.
fn storage_ref(obj: Object) -> Parse<(StorageDecl, (usize, usize))> {
    let Object::PersistentLoad(pid) = obj else {
        return Err("the storage is not a persistent reference".into());
    };
    let Object::Tuple(pid) = *pid else {
        return Err("the storage reference is not a tuple".into());
    };
    let [tag, class, key, _location, numel, view]: [Object; 6] =
        pid.try_into().map_err(|p: Vec<Object>| {
            format!("storage reference has {} fields, expected 6", p.len())
        })?;
    if tag != Object::Unicode("storage".into()) {
        return Err("persistent reference is not a storage".into());
    }
    let Object::Class {
        module_name,
        class_name,
    } = class
    else {
        return Err("storage type is not a class".into());
    };
    let dtype = match (module_name.as_str(), class_name.as_str()) {
        ("torch", "FloatStorage") => DType::F32,
        ("torch", "DoubleStorage") => DType::F64,
        ("torch", "HalfStorage") => DType::F16,
        ("torch", "BFloat16Storage") => DType::BF16,
        ("torch", "LongStorage") => DType::I64,
        ("torch", "ByteStorage") => DType::U8,
        (m, c) => return Err(format!("unsupported storage type {m}.{c}")),
    };
    let key = key
        .unicode()
        .map_err(|_| "storage key is not a string".to_string())?;
    let numel = count(numel, "the storage size")?;
    let view = match view {
        Object::None => (0, numel),
        Object::Tuple(v) => {
            // (view_key, offset, size): the tensor's storage is a slice of
            // the storage saved under `key`.
            let [_view_key, offset, size]: [Object; 3] = v
                .try_into()
                .map_err(|_| "storage view metadata is not a triple".to_string())?;
            (count(offset, "a view offset")?, count(size, "a view size")?)
        }
        _ => return Err("storage view metadata is neither None nor a tuple".into()),
    };
    Ok((StorageDecl { key, dtype, numel }, view))
}

/// Slices the raw storages that follow the pickles: for each key, a u64
/// element count then the elements. Every storage must be one the tensors
/// declared, with the declared size, and the file must end right after them.
fn read_storages<'d, 'k>(
    data: &'d [u8],
    mut pos: usize,
    keys: &'k [String],
    decls: &HashMap<String, StorageDecl>,
) -> Parse<HashMap<&'k str, &'d [u8]>> {
    let mut blobs: HashMap<&str, &[u8]> = HashMap::with_capacity(keys.len());
    for key in keys {
        let decl = decls
            .get(key)
            .ok_or_else(|| format!("storage {key} is listed but no tensor uses it"))?;
        let header: [u8; 8] = data
            .get(pos..pos + 8)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| format!("truncated before storage {key}"))?;
        let n = u64::from_le_bytes(header);
        pos += 8;
        if n != decl.numel as u64 {
            return Err(format!(
                "storage {key} holds {n} elements but its tensors declare {}",
                decl.numel
            ));
        }
        let left = data.len() - pos;
        let bytes = decl
            .numel
            .checked_mul(decl.dtype.size_in_bytes())
            .filter(|&b| b <= left)
            .ok_or_else(|| {
                format!("storage {key} declares {n} elements, more than the {left} bytes left")
            })?;
        if blobs
            .insert(key.as_str(), &data[pos..pos + bytes])
            .is_some()
        {
            return Err(format!("storage {key} is listed twice"));
        }
        pos += bytes;
    }
    if pos != data.len() {
        return Err(format!(
            "{} unexpected bytes after the last storage",
            data.len() - pos
        ));
    }
    if let Some(missing) = decls.keys().find(|k| !blobs.contains_key(k.as_str())) {
        return Err(format!(
            "storage {missing} is used by a tensor but not saved"
        ));
    }
    Ok(blobs)
}

/// Copies a (possibly strided) tensor out of its storage into a contiguous
/// CPU tensor.
fn materialise(t: &TensorRef, storage: &[u8]) -> Parse<Tensor> {
    let elem = t.storage.dtype.size_in_bytes();
    let (view_start, view_len) = t.view;
    if view_start
        .checked_add(view_len)
        .is_none_or(|end| end > t.storage.numel)
    {
        return Err("its storage view runs past the storage".into());
    }
    let numel = t
        .size
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("its element count overflows")?;
    let mut bytes = Vec::new();
    if numel > 0 {
        // Highest element index the tensor touches within its view.
        let last = t
            .size
            .iter()
            .zip(&t.stride)
            .try_fold(t.offset, |acc, (&d, &s)| {
                (d - 1).checked_mul(s).and_then(|x| acc.checked_add(x))
            })
            .ok_or("its extent overflows")?;
        if last >= view_len {
            return Err(format!(
                "it reaches element {last} of a storage of {view_len}"
            ));
        }
        // A stride-0 tensor could expand a few bytes into gigabytes; state
        // dicts never hold one, so no tensor may outnumber its storage.
        if numel > view_len {
            return Err(format!("{numel} elements from a storage of {view_len}"));
        }
        let base = view_start + t.offset;
        bytes.reserve_exact(numel * elem);
        if is_contiguous(&t.size, &t.stride) {
            bytes.extend_from_slice(&storage[base * elem..(base + numel) * elem]);
        } else {
            let mut index = vec![0usize; t.size.len()];
            for _ in 0..numel {
                let at = base
                    + index
                        .iter()
                        .zip(&t.stride)
                        .map(|(i, s)| i * s)
                        .sum::<usize>();
                bytes.extend_from_slice(&storage[at * elem..(at + 1) * elem]);
                for d in (0..index.len()).rev() {
                    index[d] += 1;
                    if index[d] < t.size[d] {
                        break;
                    }
                    index[d] = 0;
                }
            }
        }
    }
    Tensor::from_raw_buffer(&bytes, t.storage.dtype, &t.size, &Device::Cpu)
        .map_err(|e| e.to_string())
}

fn is_contiguous(size: &[usize], stride: &[usize]) -> bool {
    let mut expected = 1;
    for (&d, &s) in size.iter().zip(stride).rev() {
        if d != 1 && s != expected {
            return false;
        }
        expected *= d;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tref(size: &[usize], stride: &[usize], offset: usize, numel: usize) -> TensorRef {
        TensorRef {
            storage: StorageDecl {
                key: "0".into(),
                dtype: DType::F32,
                numel,
            },
            view: (0, numel),
            offset,
            size: size.to_vec(),
            stride: stride.to_vec(),
        }
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn strided_tensors_are_gathered_in_row_major_order() {
        // A 2x3 matrix stored transposed (3x2 contiguous), offset by one.
        let storage = f32_bytes(&[9.0, 1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let t = materialise(&tref(&[2, 3], &[1, 2], 1, 7), &storage).unwrap();
        let got: Vec<Vec<f32>> = t.to_vec2().unwrap();
        assert_eq!(got, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
    }

    #[test]
    fn out_of_bounds_and_expanding_tensors_are_refused() {
        let storage = f32_bytes(&[1.0, 2.0, 3.0, 4.0]);
        assert!(materialise(&tref(&[2, 2], &[2, 1], 1, 4), &storage).is_err());
        assert!(materialise(&tref(&[1000], &[0], 0, 4), &storage).is_err());
        assert!(materialise(&tref(&[usize::MAX, 2], &[1, 1], 0, 4), &storage).is_err());
        let empty = materialise(&tref(&[0, 5], &[5, 1], 0, 4), &storage).unwrap();
        assert_eq!(empty.dims(), &[0, 5]);
    }

    #[test]
    fn contiguity_ignores_unit_dimensions() {
        assert!(is_contiguous(&[2, 3], &[3, 1]));
        assert!(is_contiguous(&[1, 3], &[7, 1]));
        assert!(!is_contiguous(&[2, 3], &[1, 2]));
        assert!(is_contiguous(&[], &[]));
    }
}
