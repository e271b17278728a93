//! The decoder-only transformer families Vitrine runs natively on the CPU
//! (`llama`, `qwen2`, `qwen3`, `phi3`), straight from a memory-mapped GGUF.
//!
//! The KV cache remembers which tokens it holds, so a request that starts
//! with the same tokens as the previous one (the shared system prompt and
//! marketplace rules of a batch) only computes its new suffix.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use candle_core::quantized::gguf_file;
use memmap2::Mmap;

use super::matmul::{matmul, KernelLevel, QMatrix, Storage};
use super::quant::{dequantize_row, ActKind, QActs, QType};
use crate::error::{InferError, Result};
use crate::text::CancelToken;

/// Prompt tokens per forward pass: small enough that one layer of a chunk
/// of the 1.5B model takes tens of milliseconds (the granularity of
/// cancellation), large enough to keep the kernels' token tiles full.
pub const CHUNK: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Llama,
    Qwen2,
    Qwen3,
    Phi3,
}

impl Arch {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "llama" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            "qwen3" => Arch::Qwen3,
            "phi3" => Arch::Phi3,
            _ => return None,
        })
    }

    /// GGUF `llama` weights are permuted for rotation of adjacent pairs;
    /// the others rotate the two halves of each head (NeoX style).
    fn neox_rope(self) -> bool {
        !matches!(self, Arch::Llama)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub arch: Arch,
    pub layers: usize,
    pub dim: usize,
    pub ffn: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rope_dims: usize,
    pub rope_base: f32,
    pub eps: f32,
    pub context_length: usize,
    pub vocab: usize,
}

struct Layer {
    attn_norm: Vec<f32>,
    /// Separate q, k, v, or one fused matrix (phi3).
    q: QMatrix,
    k: Option<QMatrix>,
    v: Option<QMatrix>,
    q_bias: Option<Vec<f32>>,
    k_bias: Option<Vec<f32>>,
    v_bias: Option<Vec<f32>>,
    q_norm: Option<Vec<f32>>,
    k_norm: Option<Vec<f32>>,
    out: QMatrix,
    ffn_norm: Vec<f32>,
    /// `None` when `up` holds gate and up fused (phi3).
    gate: Option<QMatrix>,
    up: QMatrix,
    down: QMatrix,
    k_cache: Vec<f32>,
    v_cache: Vec<f32>,
}

/// Scratch buffers reused across forward calls.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    h: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    qkv: Vec<f32>,
    att: Vec<f32>,
    o: Vec<f32>,
    g: Vec<f32>,
    u: Vec<f32>,
    gu: Vec<f32>,
    scores: Vec<f32>,
    acts: [QActs; 2],
}

pub struct NativeModel {
    pub config: Config,
    embed: QMatrix,
    output_norm: Vec<f32>,
    output: QMatrix,
    layers: Vec<Layer>,
    /// Tokens whose keys and values are in the cache, in order.
    cached: Vec<u32>,
    rope_cos: Vec<f32>,
    rope_sin: Vec<f32>,
    pool: Option<Arc<rayon::ThreadPool>>,
    scratch: Scratch,
}

fn bad(path: &Path, reason: impl Into<String>) -> InferError {
    InferError::BadModelFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

struct Loader<'a> {
    path: &'a Path,
    content: &'a gguf_file::Content,
    map: Arc<Mmap>,
}

impl Loader<'_> {
    fn meta_u32(&self, key: &str) -> Option<usize> {
        self.content
            .metadata
            .get(key)
            .and_then(|v| {
                v.to_u32()
                    .ok()
                    .or_else(|| v.to_u64().ok().map(|x| x as u32))
            })
            .map(|v| v as usize)
    }

    fn meta_f32(&self, key: &str) -> Option<f32> {
        self.content.metadata.get(key).and_then(|v| v.to_f32().ok())
    }

    fn has(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// A tensor's bytes within the file, bounds-checked: the file is
    /// untrusted and every size in its header is checked before use.
    fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<QMatrix> {
        let info = self
            .content
            .tensor_infos
            .get(name)
            .ok_or_else(|| bad(self.path, format!("tensor {name} is missing")))?;
        let dims = info.shape.dims();
        let (r, c) = match dims {
            [c] => (1, *c),
            [r, c] => (*r, *c),
            _ => return Err(bad(self.path, format!("tensor {name} has shape {dims:?}"))),
        };
        if (r, c) != (rows, cols) {
            return Err(bad(
                self.path,
                format!("tensor {name} is {r}×{c}, the header implies {rows}×{cols}"),
            ));
        }
        let start = (self.content.tensor_data_offset)
            .checked_add(info.offset)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| bad(self.path, format!("tensor {name} offset overflows")))?;
        let native = QType::from_ggml(info.ggml_dtype);
        let storage_type = native.unwrap_or(QType::F32);
        let src_bytes = {
            let bs = info.ggml_dtype.block_size();
            if !c.is_multiple_of(bs) {
                return Err(bad(
                    self.path,
                    format!("tensor {name}: {c} columns in blocks of {bs}"),
                ));
            }
            (c / bs)
                .checked_mul(info.ggml_dtype.type_size())
                .and_then(|b| b.checked_mul(r))
                .ok_or_else(|| bad(self.path, format!("tensor {name} is too large")))?
        };
        let end = start
            .checked_add(src_bytes)
            .filter(|&e| e <= self.map.len())
            .ok_or_else(|| {
                bad(
                    self.path,
                    format!("tensor {name} runs past the end of the file"),
                )
            })?;
        let data = match native {
            Some(_) => Storage::Mapped {
                map: self.map.clone(),
                offset: start,
                len: end - start,
            },
            None => {
                // No kernel for this format: candle dequantizes it once.
                let cpu = candle_core::Device::Cpu;
                let qt = info
                    .read(
                        &mut std::io::Cursor::new(&self.map[..]),
                        self.content.tensor_data_offset,
                        &cpu,
                    )
                    .and_then(|t| t.dequantize(&cpu))
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(|e| bad(self.path, format!("tensor {name}: {e}")))?;
                Storage::Owned(qt.iter().flat_map(|v| v.to_le_bytes()).collect())
            }
        };
        QMatrix::new(storage_type, r, c, data)
            .ok_or_else(|| bad(self.path, format!("tensor {name}: bad row size")))
    }

    fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let m = self.matrix(name, 1, len)?;
        let mut out = vec![0f32; len];
        dequantize_row(m.qtype, m.row(0), &mut out);
        Ok(out)
    }

    fn opt_vector(&self, name: &str, len: usize) -> Result<Option<Vec<f32>>> {
        if self.has(name) {
            self.vector(name, len).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl NativeModel {
    /// Map `path` and build the model from its already-read header.
    pub fn load(path: &Path, content: &gguf_file::Content, threads: usize) -> Result<Self> {
        let file = File::open(path).map_err(crate::error::io_err(path))?;
        // Safety: the mapping is read-only; if another process truncates the
        // file while we run, reads fault. Model files are written once, by
        // rename, and never modified in place.
        // Without repacking the weights are used in place, so the mapping
        // is populated up front: reading the file at load keeps disk reads
        // out of the first request (and out of benchmarks' timed phases).
        // With repacking, the packing pass reads what it needs and the
        // rest (embeddings) is faulted in on use.
        let level = super::kernel_level();
        let repack = level == KernelLevel::Avx512Vnni;
        let mut options = memmap2::MmapOptions::new();
        if !repack {
            options.populate();
        }
        let map = unsafe { options.map(&file) }.map_err(crate::error::io_err(path))?;
        let l = Loader {
            path,
            content,
            map: Arc::new(map),
        };
        let arch_name = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        let arch = Arch::from_name(&arch_name)
            .ok_or_else(|| InferError::UnsupportedArchitecture(arch_name.clone()))?;
        let key = |k: &str| format!("{arch_name}.{k}");
        let need = |k: &str| {
            l.meta_u32(&key(k))
                .filter(|&v| v > 0 && v < 1 << 20)
                .ok_or_else(|| bad(path, format!("missing or implausible {}", key(k))))
        };
        let layers = need("block_count")?;
        let dim = need("embedding_length")?;
        let ffn = need("feed_forward_length")?;
        let heads = need("attention.head_count")?;
        let kv_heads = l.meta_u32(&key("attention.head_count_kv")).unwrap_or(heads);
        let head_dim = l
            .meta_u32(&key("attention.key_length"))
            .unwrap_or(dim / heads);
        if kv_heads == 0 || heads % kv_heads != 0 || head_dim == 0 || !head_dim.is_multiple_of(2) {
            return Err(bad(path, "inconsistent attention head counts"));
        }
        let rope_dims = l.meta_u32(&key("rope.dimension_count")).unwrap_or(head_dim);
        if rope_dims > head_dim || !rope_dims.is_multiple_of(2) {
            return Err(bad(path, "bad rope.dimension_count"));
        }
        let embed_info = content
            .tensor_infos
            .get("token_embd.weight")
            .ok_or_else(|| bad(path, "tensor token_embd.weight is missing"))?;
        let vocab = embed_info.shape.dims().first().copied().unwrap_or(0);
        let config = Config {
            arch,
            layers,
            dim,
            ffn,
            heads,
            kv_heads,
            head_dim,
            rope_dims,
            rope_base: l.meta_f32(&key("rope.freq_base")).unwrap_or(10_000.0),
            eps: l
                .meta_f32(&key("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-5),
            context_length: l.meta_u32(&key("context_length")).unwrap_or(2048),
            vocab,
        };
        let embed = l.matrix("token_embd.weight", vocab, dim)?;
        let output = if l.has("output.weight") {
            l.matrix("output.weight", vocab, dim)?
        } else {
            embed.clone()
        };
        let (qd, kvd) = (heads * head_dim, kv_heads * head_dim);
        let mut blocks = Vec::with_capacity(layers);
        for i in 0..layers {
            let n = |s: &str| format!("blk.{i}.{s}");
            let fused_qkv = l.has(&n("attn_qkv.weight"));
            let (q, k, v) = if fused_qkv {
                (
                    l.matrix(&n("attn_qkv.weight"), qd + 2 * kvd, dim)?,
                    None,
                    None,
                )
            } else {
                (
                    l.matrix(&n("attn_q.weight"), qd, dim)?,
                    Some(l.matrix(&n("attn_k.weight"), kvd, dim)?),
                    Some(l.matrix(&n("attn_v.weight"), kvd, dim)?),
                )
            };
            let fused_up = !l.has(&n("ffn_gate.weight"));
            blocks.push(Layer {
                attn_norm: l.vector(&n("attn_norm.weight"), dim)?,
                q,
                k,
                v,
                q_bias: l.opt_vector(&n("attn_q.bias"), qd)?,
                k_bias: l.opt_vector(&n("attn_k.bias"), kvd)?,
                v_bias: l.opt_vector(&n("attn_v.bias"), kvd)?,
                q_norm: l.opt_vector(&n("attn_q_norm.weight"), head_dim)?,
                k_norm: l.opt_vector(&n("attn_k_norm.weight"), head_dim)?,
                out: l.matrix(&n("attn_output.weight"), dim, qd)?,
                ffn_norm: l.vector(&n("ffn_norm.weight"), dim)?,
                gate: if fused_up {
                    None
                } else {
                    Some(l.matrix(&n("ffn_gate.weight"), ffn, dim)?)
                },
                up: l.matrix(
                    &n("ffn_up.weight"),
                    if fused_up { 2 * ffn } else { ffn },
                    dim,
                )?,
                down: l.matrix(&n("ffn_down.weight"), dim, ffn)?,
                k_cache: Vec::new(),
                v_cache: Vec::new(),
            });
        }
        let output_norm = l.vector("output_norm.weight", dim)?;
        let mut output = output;
        let pool = if threads > 1 {
            Some(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("vitrine-cpu-{i}"))
                    .build()
                    .map_err(|e| InferError::Backend(format!("thread pool: {e}")))?,
            ))
        } else {
            None
        };
        if repack {
            let started = std::time::Instant::now();
            let mut packed = usize::from(output.pack(level, pool.as_deref()));
            for b in &mut blocks {
                let mats = [
                    Some(&mut b.q),
                    b.k.as_mut(),
                    b.v.as_mut(),
                    Some(&mut b.out),
                    b.gate.as_mut(),
                    Some(&mut b.up),
                    Some(&mut b.down),
                ];
                for m in mats.into_iter().flatten() {
                    packed += usize::from(m.pack(level, pool.as_deref()));
                }
            }
            tracing::debug!(
                matrices = packed,
                ms = started.elapsed().as_millis() as u64,
                "weights repacked for AVX-512 VNNI"
            );
        }
        Ok(Self {
            config,
            embed,
            output_norm,
            output,
            layers: blocks,
            cached: Vec::new(),
            rope_cos: Vec::new(),
            rope_sin: Vec::new(),
            pool,
            scratch: Scratch::default(),
        })
    }

    /// Tokens whose keys and values the cache holds.
    pub fn cached_tokens(&self) -> &[u32] {
        &self.cached
    }

    /// Keep only the first `len` cached positions.
    pub fn truncate_cache(&mut self, len: usize) {
        let len = len.min(self.cached.len());
        self.cached.truncate(len);
        let kvd = self.config.kv_heads * self.config.head_dim;
        for l in &mut self.layers {
            l.k_cache.truncate(len * kvd);
            l.v_cache.truncate(len * kvd);
        }
    }

    pub fn clear_cache(&mut self) {
        self.truncate_cache(0);
    }

    fn ensure_rope(&mut self, positions: usize) {
        let half = self.config.rope_dims / 2;
        let have = self.rope_cos.len() / half;
        if have >= positions {
            return;
        }
        // Grow in steps so generation does not recompute every token.
        let target = positions.next_power_of_two().max(256);
        for p in have..target {
            for i in 0..half {
                let theta = (self.config.rope_base as f64)
                    .powf(-2.0 * i as f64 / self.config.rope_dims as f64);
                let a = p as f64 * theta;
                self.rope_cos.push(a.cos() as f32);
                self.rope_sin.push(a.sin() as f32);
            }
        }
    }

    /// Run `tokens` after the cached ones. Returns the logits of the last
    /// token. Long inputs run in chunks of [`CHUNK`] tokens, and `cancel` is
    /// checked between layers, so a cancellation takes effect within one
    /// layer of one chunk; on cancellation or error the cache is left as it
    /// was before the call.
    pub fn forward(&mut self, tokens: &[u32], cancel: &CancelToken) -> Result<Vec<f32>> {
        let start = self.cached.len();
        let mut logits = Vec::new();
        let n = tokens.len();
        // The whole input is checked before any chunk runs, so a bad one
        // costs no computation.
        if n == 0 {
            return Err(InferError::Backend("forward with no tokens".into()));
        }
        if start + n > self.config.context_length {
            return Err(InferError::Backend(format!(
                "{} positions exceed the context of {}",
                start + n,
                self.config.context_length
            )));
        }
        if let Some(&bad_tok) = tokens.iter().find(|&&t| t as usize >= self.config.vocab) {
            return Err(InferError::Backend(format!(
                "token id {bad_tok} is outside the vocabulary"
            )));
        }
        // The whole pass runs on a pool thread: each matmul's fork-join is
        // then a cheap join among workers that are already awake, not a
        // job sent from outside the pool with the caller parked until it
        // ends (which cost more than a small matmul at one token).
        let pool = self.pool.clone();
        let mut run = || {
            for (i, chunk) in tokens.chunks(CHUNK).enumerate() {
                let last = (i + 1) * CHUNK >= n;
                match self.forward_inner(chunk, cancel, last) {
                    Ok(v) => logits = v,
                    Err(e) => {
                        self.truncate_cache(start);
                        return Err(e);
                    }
                }
            }
            Ok(())
        };
        match pool {
            Some(pool) => pool.install(run)?,
            None => run()?,
        }
        Ok(logits)
    }

    fn forward_inner(
        &mut self,
        tokens: &[u32],
        cancel: &CancelToken,
        want_logits: bool,
    ) -> Result<Vec<f32>> {
        let c = self.config.clone();
        let n = tokens.len();
        let pos0 = self.cached.len();
        self.ensure_rope(pos0 + n);
        let (qd, kvd) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
        let s = &mut self.scratch;
        s.x.resize(n * c.dim, 0.0);
        for (t, &tok) in tokens.iter().enumerate() {
            dequantize_row(
                self.embed.qtype,
                self.embed.row(tok as usize),
                &mut s.x[t * c.dim..(t + 1) * c.dim],
            );
        }
        let pool = self.pool.as_deref();
        for layer in self.layers.iter_mut() {
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            rms_norm(&s.x, &layer.attn_norm, c.eps, &mut s.h);
            let mut acts = Acts::new(&mut s.acts, &s.h, n, c.dim);
            s.q.resize(n * qd, 0.0);
            s.k.resize(n * kvd, 0.0);
            s.v.resize(n * kvd, 0.0);
            match (&layer.k, &layer.v) {
                (Some(k), Some(v)) => {
                    mm(&layer.q, &mut acts, &mut s.q, pool);
                    mm(k, &mut acts, &mut s.k, pool);
                    mm(v, &mut acts, &mut s.v, pool);
                }
                _ => {
                    s.qkv.resize(n * (qd + 2 * kvd), 0.0);
                    mm(&layer.q, &mut acts, &mut s.qkv, pool);
                    for t in 0..n {
                        let row = &s.qkv[t * (qd + 2 * kvd)..(t + 1) * (qd + 2 * kvd)];
                        s.q[t * qd..(t + 1) * qd].copy_from_slice(&row[..qd]);
                        s.k[t * kvd..(t + 1) * kvd].copy_from_slice(&row[qd..qd + kvd]);
                        s.v[t * kvd..(t + 1) * kvd].copy_from_slice(&row[qd + kvd..]);
                    }
                }
            }
            add_bias(&mut s.q, layer.q_bias.as_deref());
            add_bias(&mut s.k, layer.k_bias.as_deref());
            add_bias(&mut s.v, layer.v_bias.as_deref());
            if let Some(w) = &layer.q_norm {
                head_norm(&mut s.q, w, c.eps);
            }
            if let Some(w) = &layer.k_norm {
                head_norm(&mut s.k, w, c.eps);
            }
            for t in 0..n {
                let p = pos0 + t;
                rope(
                    &mut s.q[t * qd..(t + 1) * qd],
                    &c,
                    p,
                    &self.rope_cos,
                    &self.rope_sin,
                );
                rope(
                    &mut s.k[t * kvd..(t + 1) * kvd],
                    &c,
                    p,
                    &self.rope_cos,
                    &self.rope_sin,
                );
            }
            layer.k_cache.extend_from_slice(&s.k);
            layer.v_cache.extend_from_slice(&s.v);
            attention(
                &c,
                pos0,
                n,
                &s.q,
                &layer.k_cache,
                &layer.v_cache,
                &mut s.att,
                &mut s.scores,
                pool,
            );
            let mut acts = Acts::new(&mut s.acts, &s.att, n, qd);
            s.o.resize(n * c.dim, 0.0);
            mm(&layer.out, &mut acts, &mut s.o, pool);
            for (x, o) in s.x.iter_mut().zip(&s.o) {
                *x += o;
            }

            rms_norm(&s.x, &layer.ffn_norm, c.eps, &mut s.h);
            let mut acts = Acts::new(&mut s.acts, &s.h, n, c.dim);
            s.g.resize(n * c.ffn, 0.0);
            s.u.resize(n * c.ffn, 0.0);
            match &layer.gate {
                Some(gate) => {
                    mm(gate, &mut acts, &mut s.g, pool);
                    mm(&layer.up, &mut acts, &mut s.u, pool);
                }
                None => {
                    s.gu.resize(n * 2 * c.ffn, 0.0);
                    mm(&layer.up, &mut acts, &mut s.gu, pool);
                    for t in 0..n {
                        let row = &s.gu[t * 2 * c.ffn..(t + 1) * 2 * c.ffn];
                        s.g[t * c.ffn..(t + 1) * c.ffn].copy_from_slice(&row[..c.ffn]);
                        s.u[t * c.ffn..(t + 1) * c.ffn].copy_from_slice(&row[c.ffn..]);
                    }
                }
            }
            for (g, u) in s.g.iter_mut().zip(&s.u) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            let mut acts = Acts::new(&mut s.acts, &s.g, n, c.ffn);
            mm(&layer.down, &mut acts, &mut s.o, pool);
            for (x, o) in s.x.iter_mut().zip(&s.o) {
                *x += o;
            }
        }
        self.cached.extend_from_slice(tokens);
        if !want_logits {
            return Ok(Vec::new());
        }
        // Only the last token's logits are needed to sample.
        let last = &s.x[(n - 1) * c.dim..];
        rms_norm(last, &self.output_norm, c.eps, &mut s.h);
        let mut acts = Acts::new(&mut s.acts, &s.h, 1, c.dim);
        let mut logits = vec![0f32; c.vocab];
        mm(&self.output, &mut acts, &mut logits, pool);
        Ok(logits)
    }
}

/// Activations of one matmul input, quantized lazily for each kind the
/// weights reading it need (q, k and v may be in different formats).
struct Acts<'a> {
    bufs: &'a mut [QActs; 2],
    x: &'a [f32],
    n: usize,
    cols: usize,
    done: [bool; 2],
}

impl<'a> Acts<'a> {
    fn new(bufs: &'a mut [QActs; 2], x: &'a [f32], n: usize, cols: usize) -> Self {
        Self {
            bufs,
            x: &x[..n * cols],
            n,
            cols,
            done: [false; 2],
        }
    }

    fn for_kind(&mut self, kind: ActKind) -> &QActs {
        let i = usize::from(kind == ActKind::K256);
        if kind != ActKind::F32 && !self.done[i] {
            self.bufs[i].quantize(kind, self.x, self.n, self.cols);
            self.done[i] = true;
        }
        &self.bufs[i]
    }
}

fn mm(w: &QMatrix, acts: &mut Acts, out: &mut Vec<f32>, pool: Option<&rayon::ThreadPool>) {
    let n = acts.n;
    out.resize(n * w.rows, 0.0);
    let x = acts.x;
    let a = acts.for_kind(w.qtype.act_kind());
    matmul(w, x, a, n, out, pool);
}

fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut Vec<f32>) {
    let d = w.len();
    out.resize(x.len(), 0.0);
    for (xr, or) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        let ss: f32 = xr.iter().map(|v| v * v).sum::<f32>() / d as f32;
        let scale = 1.0 / (ss + eps).sqrt();
        for ((o, v), g) in or.iter_mut().zip(xr).zip(w) {
            *o = v * scale * g;
        }
    }
}

fn head_norm(x: &mut [f32], w: &[f32], eps: f32) {
    let d = w.len();
    for h in x.chunks_exact_mut(d) {
        let ss: f32 = h.iter().map(|v| v * v).sum::<f32>() / d as f32;
        let scale = 1.0 / (ss + eps).sqrt();
        for (v, g) in h.iter_mut().zip(w) {
            *v = *v * scale * g;
        }
    }
}

fn add_bias(x: &mut [f32], b: Option<&[f32]>) {
    if let Some(b) = b {
        for row in x.chunks_exact_mut(b.len()) {
            for (v, bb) in row.iter_mut().zip(b) {
                *v += bb;
            }
        }
    }
}

fn rope(x: &mut [f32], c: &Config, pos: usize, cos: &[f32], sin: &[f32]) {
    let half = c.rope_dims / 2;
    let (cs, sn) = (
        &cos[pos * half..(pos + 1) * half],
        &sin[pos * half..(pos + 1) * half],
    );
    for head in x.chunks_exact_mut(c.head_dim) {
        for i in 0..half {
            let (a, b) = if c.arch.neox_rope() {
                (i, i + half)
            } else {
                (2 * i, 2 * i + 1)
            };
            let (x0, x1) = (head[a], head[b]);
            head[a] = x0 * cs[i] - x1 * sn[i];
            head[b] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn attention(
    c: &Config,
    pos0: usize,
    n: usize,
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    out: &mut Vec<f32>,
    scores: &mut Vec<f32>,
    pool: Option<&rayon::ThreadPool>,
) {
    let hd = c.head_dim;
    out.clear();
    out.resize(n * c.heads * hd, 0.0);
    match pool {
        // Heads are independent: with threads, they are split between them
        // (16% off SmolLM2's 2-thread prompt time). The pass already runs
        // on a pool thread, so the fork-join is cheap; only one token over
        // a short context costs less than it, and stays serial.
        Some(pool) if pool.current_num_threads() > 1 && (n > 1 || pos0 >= 32) => {
            pool.install(|| {
                use rayon::prelude::*;
                out.par_chunks_mut(hd).enumerate().for_each(|(i, o)| {
                    let mut scores = Vec::new();
                    head_attention(c, pos0, i, q, k_cache, v_cache, o, &mut scores);
                })
            })
        }
        _ => {
            for (i, o) in out.chunks_mut(hd).enumerate() {
                head_attention(c, pos0, i, q, k_cache, v_cache, o, scores);
            }
        }
    }
}

/// Causal attention of one query head of one token (`i = token * heads +
/// head`) over the cached keys and values, written to `o`.
#[allow(clippy::too_many_arguments)]
fn head_attention(
    c: &Config,
    pos0: usize,
    i: usize,
    q: &[f32],
    k_cache: &[f32],
    v_cache: &[f32],
    o: &mut [f32],
    scores: &mut Vec<f32>,
) {
    let (hd, kvd) = (c.head_dim, c.kv_heads * c.head_dim);
    let (t, h) = (i / c.heads, i % c.heads);
    let kh = h / (c.heads / c.kv_heads);
    let scale = 1.0 / (hd as f32).sqrt();
    let qh = &q[i * hd..(i + 1) * hd];
    scores.clear();
    scores.resize(pos0 + t + 1, 0.0);
    let mut max = f32::NEG_INFINITY;
    for (j, s) in scores.iter_mut().enumerate() {
        let kr = &k_cache[j * kvd + kh * hd..j * kvd + (kh + 1) * hd];
        *s = dot(qh, kr) * scale;
        max = max.max(*s);
    }
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    let inv = 1.0 / sum;
    for (j, s) in scores.iter().enumerate() {
        let vr = &v_cache[j * kvd + kh * hd..j * kvd + (kh + 1) * hd];
        let w = s * inv;
        for (ov, vv) in o.iter_mut().zip(vr) {
            *ov += w * vv;
        }
    }
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums let the compiler vectorize without reassociating.
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ar.iter().zip(br) {
        s += x * y;
    }
    s
}
