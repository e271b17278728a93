//! Quantized matrix × activations, with the kernel chosen at run time from
//! the CPU's features (not the build's target), rows split over threads.

use std::sync::{Arc, OnceLock};

use memmap2::Mmap;
use rayon::prelude::*;

use super::packed::{self, Packed, PANEL_ROWS};
use super::quant::{dot_scalar, ActKind, QActs, QType};

/// Which kernels this process uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelLevel {
    Scalar,
    Avx2,
    Avx512Vnni,
}

impl KernelLevel {
    pub fn name(self) -> &'static str {
        match self {
            KernelLevel::Scalar => "scalar",
            KernelLevel::Avx2 => "avx2+fma",
            KernelLevel::Avx512Vnni => "avx512-vnni",
        }
    }
}

/// Detected once. `VITRINE_KERNELS=scalar` (or `avx2`) forces a lesser
/// level: tests compare them, and users can rule SIMD code out when
/// debugging.
pub fn kernel_level() -> KernelLevel {
    static LEVEL: OnceLock<KernelLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = best_level();
        match std::env::var("VITRINE_KERNELS")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            Ok("scalar") => KernelLevel::Scalar,
            Ok("avx2") if best != KernelLevel::Scalar => KernelLevel::Avx2,
            _ => best,
        }
    })
}

/// The fastest kernels this CPU can run.
pub fn best_level() -> KernelLevel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
            {
                return KernelLevel::Avx512Vnni;
            }
            return KernelLevel::Avx2;
        }
    }
    KernelLevel::Scalar
}

/// Where a weight's bytes live: in the memory-mapped file (the usual case,
/// so weights cost page cache rather than heap) or, for formats without a
/// kernel, dequantized to f32 on the heap.
#[derive(Debug, Clone)]
pub enum Storage {
    Mapped {
        map: Arc<Mmap>,
        offset: usize,
        len: usize,
    },
    Owned(Vec<u8>),
}

impl Storage {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped { map, offset, len } => &map[*offset..*offset + *len],
            Storage::Owned(v) => v,
        }
    }
}

/// A `rows × cols` weight matrix in a [`QType`] format, row-major, and
/// optionally the same weights in panel layout for the AVX-512 kernels.
#[derive(Debug, Clone)]
pub struct QMatrix {
    pub qtype: QType,
    pub rows: usize,
    pub cols: usize,
    pub row_bytes: usize,
    pub data: Storage,
    /// Only ever built from `data` by [`QMatrix::pack`], so the two agree.
    packed: Option<Arc<Packed>>,
}

impl QMatrix {
    /// `None` when `cols` is not a whole number of blocks or `data` is too
    /// short for `rows` rows.
    pub fn new(qtype: QType, rows: usize, cols: usize, data: Storage) -> Option<Self> {
        let row_bytes = qtype.row_bytes(cols)?;
        (data.bytes().len() >= rows.checked_mul(row_bytes)?).then_some(Self {
            qtype,
            rows,
            cols,
            row_bytes,
            data,
            packed: None,
        })
    }

    pub fn row(&self, r: usize) -> &[u8] {
        &self.data.bytes()[r * self.row_bytes..(r + 1) * self.row_bytes]
    }

    /// Build the panel layout when the kernels in use read it (AVX-512
    /// VNNI) and the format and row count allow; returns whether it did.
    /// The row-major data stays: embedding lookups and the other kernel
    /// levels read it.
    pub fn pack(&mut self, level: KernelLevel, pool: Option<&rayon::ThreadPool>) -> bool {
        if level != KernelLevel::Avx512Vnni || best_level() != KernelLevel::Avx512Vnni {
            return false;
        }
        let data = self.data.bytes();
        self.packed = packed::pack(self.qtype, self.rows, self.cols, self.row_bytes, data, pool)
            .map(Arc::new);
        if let (Some(_), Storage::Mapped { map, offset, len }) = (&self.packed, &self.data) {
            // The kernels read the packed copy now: drop the file pages the
            // packing pass faulted in, so a model costs its size once, not
            // twice. Safety: the mapping is private and read-only; dropped
            // pages are read back from the file if anything touches them.
            if let Err(e) = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, *offset, *len)
            } {
                tracing::debug!(error = %e, "madvise(DONTNEED) on packed weights failed");
            }
        }
        self.packed.is_some()
    }

    pub fn is_packed(&self) -> bool {
        self.packed.is_some()
    }
}

/// Tokens per pass over the weights in prompt processing: 16 rows of int8
/// activations (16 KiB at 1024 columns) sit in L1 beside one weight row.
const TOKEN_CHUNK: usize = 16;

/// Raw output pointer shared by the threads of one matmul; each thread
/// writes a disjoint set of columns.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// `out[t * w.rows + r] = w.row(r) · x[t]` for the `n` rows of `x`.
/// `acts` must hold `x` quantized for `w.qtype.act_kind()` (unused for
/// float weights).
pub fn matmul(
    w: &QMatrix,
    x: &[f32],
    acts: &QActs,
    n: usize,
    out: &mut [f32],
    pool: Option<&rayon::ThreadPool>,
) {
    matmul_with(kernel_level(), w, x, acts, n, out, pool)
}

/// [`matmul`] with the kernels chosen by the caller (tests compare them).
/// A level the CPU lacks falls back to the scalar code.
pub fn matmul_with(
    level: KernelLevel,
    w: &QMatrix,
    x: &[f32],
    acts: &QActs,
    n: usize,
    out: &mut [f32],
    pool: Option<&rayon::ThreadPool>,
) {
    let best = best_level();
    let level = match level {
        KernelLevel::Avx512Vnni if best != KernelLevel::Avx512Vnni => best,
        KernelLevel::Avx2 if best == KernelLevel::Scalar => best,
        other => other,
    };
    // The kernels read through raw pointers: these checks (once per
    // matmul, not per row) are what keeps this safe function sound.
    assert_eq!(x.len(), n * w.cols, "activations do not match the matrix");
    assert_eq!(out.len(), n * w.rows, "output does not match the matrix");
    assert_eq!(w.qtype.row_bytes(w.cols), Some(w.row_bytes), "bad row size");
    assert!(
        w.data.bytes().len() >= w.rows * w.row_bytes,
        "matrix data too short"
    );
    let kind = w.qtype.act_kind();
    assert!(
        kind == ActKind::F32 || (acts.kind == Some(kind) && acts.cols == w.cols && acts.rows >= n),
        "activations quantized for another layout"
    );
    let ptr = OutPtr(out.as_mut_ptr());
    #[cfg(target_arch = "x86_64")]
    if let (KernelLevel::Avx512Vnni, Some(pk)) = (level, w.packed.as_deref()) {
        let panels = w.rows / PANEL_ROWS;
        assert!(
            w.rows.is_multiple_of(PANEL_ROWS)
                && pk.panel_bytes == w.cols / w.qtype.block_elems() * pk.block_bytes
                && pk.bytes.len() >= panels * pk.panel_bytes,
            "packed weights do not match the matrix"
        );
        let run = |p0: usize, p1: usize| {
            let o = ptr;
            for p in p0..p1 {
                // Safety: VNNI was detected (`level` is only this when the
                // CPU has it); panel `p` is whole (asserted above); `acts`
                // holds `n` rows; the output rows `16p..16p + 16` of each
                // token are in `out` and written by this thread alone.
                unsafe {
                    super::vnni512::panel_tokens(
                        w.qtype,
                        pk.bytes.as_ptr().add(p * pk.panel_bytes),
                        acts,
                        0,
                        n,
                        o.0.add(p * PANEL_ROWS),
                        w.rows,
                    )
                }
            }
        };
        split(pool, panels, 4, 1, run);
        return;
    }
    let run = |r0: usize, r1: usize| {
        let p = ptr;
        let chunk = n.min(TOKEN_CHUNK);
        let mut acc = vec![0f32; 8 * chunk];
        let mut res = vec![0f32; chunk];
        // Tokens outer, rows inner: a chunk's activations stay in L1 while
        // every row of the weights passes over them.
        for t0 in (0..n).step_by(chunk) {
            let m = (n - t0).min(chunk);
            let res = &mut res[..m];
            for r in r0..r1 {
                let row = w.row(r);
                match level {
                    #[cfg(target_arch = "x86_64")]
                    // Safety: the level was chosen after detecting the
                    // features; `row` is one full row, `acts`/`x` hold `n` rows.
                    KernelLevel::Avx2 => unsafe {
                        super::avx2::dot_all(w.qtype, row, acts, x, t0, m, &mut acc, res)
                    },
                    #[cfg(target_arch = "x86_64")]
                    // Safety: as above, AVX-512 VNNI detected.
                    KernelLevel::Avx512Vnni => unsafe {
                        super::avx2::dot_all_vnni(w.qtype, row, acts, x, t0, m, &mut acc, res)
                    },
                    _ => {
                        for (k, v) in res.iter_mut().enumerate() {
                            *v = dot_scalar(w.qtype, row, acts, t0 + k, x);
                        }
                    }
                }
                for (k, v) in res.iter().enumerate() {
                    // Safety: `t0 + k < n` and `r < w.rows`, so the index is
                    // in `out`; no other thread writes row `r`.
                    unsafe { *p.0.add((t0 + k) * w.rows + r) = *v };
                }
            }
        }
    };
    split(pool, w.rows, 64, 16, run);
}

/// Run `run(start, end)` over `0..units`: inline with no pool, one thread
/// or fewer than `min_units`; else in chunks of at least `min_chunk`, a few
/// per thread so units of unequal cost even out.
fn split(
    pool: Option<&rayon::ThreadPool>,
    units: usize,
    min_units: usize,
    min_chunk: usize,
    run: impl Fn(usize, usize) + Sync,
) {
    match pool {
        Some(pool) if pool.current_num_threads() > 1 && units >= min_units => {
            let chunk = units
                .div_ceil(pool.current_num_threads() * 4)
                .max(min_chunk);
            pool.install(|| {
                (0..units.div_ceil(chunk))
                    .into_par_iter()
                    .for_each(|c| run(c * chunk, ((c + 1) * chunk).min(units)))
            });
        }
        _ => run(0, units),
    }
}
