//! GGML block formats the native engine computes on directly, their scalar
//! dequantization (embedding rows, tests) and the int8 activation formats the
//! dot-product kernels pair them with.
//!
//! Weights stay in their file format (memory-mapped); activations are
//! quantized to int8 once per matmul input so every dot product is integer
//! arithmetic, as llama.cpp does. Two activation layouts exist because the
//! legacy formats carry one scale per 32 weights and the K formats one per
//! 256 (with small per-sub-block scales).

use half::f16;

/// The weight formats with native kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q8_0,
    Q4K,
    Q6K,
}

impl QType {
    /// Elements per block.
    pub const fn block_elems(self) -> usize {
        match self {
            QType::F32 | QType::F16 => 1,
            QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q8_0 => 32,
            QType::Q4K | QType::Q6K => 256,
        }
    }

    /// Bytes per block.
    pub const fn block_bytes(self) -> usize {
        match self {
            QType::F32 => 4,
            QType::F16 => 2,
            QType::Q4_0 => 18,
            QType::Q4_1 => 20,
            QType::Q5_0 => 22,
            QType::Q8_0 => 34,
            QType::Q4K => 144,
            QType::Q6K => 210,
        }
    }

    /// Bytes of one row of `cols` elements, `None` when `cols` is not a
    /// whole number of blocks.
    pub fn row_bytes(self, cols: usize) -> Option<usize> {
        cols.is_multiple_of(self.block_elems())
            .then(|| (cols / self.block_elems()).checked_mul(self.block_bytes()))
            .flatten()
    }

    /// The activation layout this weight format's kernel reads.
    pub fn act_kind(self) -> ActKind {
        match self {
            QType::Q4K | QType::Q6K => ActKind::K256,
            QType::F32 | QType::F16 => ActKind::F32,
            _ => ActKind::B32,
        }
    }

    pub fn from_ggml(t: candle_core::quantized::GgmlDType) -> Option<Self> {
        use candle_core::quantized::GgmlDType as G;
        Some(match t {
            G::F32 => QType::F32,
            G::F16 => QType::F16,
            G::Q4_0 => QType::Q4_0,
            G::Q4_1 => QType::Q4_1,
            G::Q5_0 => QType::Q5_0,
            G::Q8_0 => QType::Q8_0,
            G::Q4K => QType::Q4K,
            G::Q6K => QType::Q6K,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActKind {
    F32,
    B32,
    K256,
}

#[inline]
pub(crate) fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f32()
}

/// Q4_K packs eight 6-bit (scale, min) pairs into 12 bytes.
#[inline]
pub(crate) fn q4k_scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// Dequantize one row (`out.len()` elements) stored in `row`.
pub fn dequantize_row(t: QType, row: &[u8], out: &mut [f32]) {
    match t {
        QType::F32 => {
            for (o, c) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        QType::F16 => {
            for (o, c) in out.iter_mut().zip(row.chunks_exact(2)) {
                *o = f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32();
            }
        }
        QType::Q4_0 | QType::Q4_1 | QType::Q5_0 => {
            for (o, b) in out
                .chunks_exact_mut(32)
                .zip(row.chunks_exact(t.block_bytes()))
            {
                let d = f16_at(b, 0);
                let (m, qh, qs) = match t {
                    QType::Q4_0 => (-8.0 * d, 0u32, &b[2..18]),
                    QType::Q4_1 => (f16_at(b, 2), 0, &b[4..20]),
                    _ => (
                        -16.0 * d,
                        u32::from_le_bytes([b[2], b[3], b[4], b[5]]),
                        &b[6..22],
                    ),
                };
                for j in 0..16 {
                    let lo = (qs[j] & 0xF) as u32 | (((qh >> j) & 1) << 4);
                    let hi = (qs[j] >> 4) as u32 | (((qh >> (j + 16)) & 1) << 4);
                    o[j] = lo as f32 * d + m;
                    o[j + 16] = hi as f32 * d + m;
                }
            }
        }
        QType::Q8_0 => {
            for (o, b) in out.chunks_exact_mut(32).zip(row.chunks_exact(34)) {
                let d = f16_at(b, 0);
                for (j, v) in o.iter_mut().enumerate() {
                    *v = b[2 + j] as i8 as f32 * d;
                }
            }
        }
        QType::Q4K => {
            for (o, b) in out.chunks_exact_mut(256).zip(row.chunks_exact(144)) {
                let d = f16_at(b, 0);
                let dmin = f16_at(b, 2);
                let scales = &b[4..16];
                let qs = &b[16..144];
                for p in 0..4 {
                    let (s1, m1) = q4k_scale_min(2 * p, scales);
                    let (s2, m2) = q4k_scale_min(2 * p + 1, scales);
                    let q = &qs[32 * p..32 * p + 32];
                    for l in 0..32 {
                        o[64 * p + l] = d * s1 as f32 * (q[l] & 0xF) as f32 - dmin * m1 as f32;
                        o[64 * p + 32 + l] = d * s2 as f32 * (q[l] >> 4) as f32 - dmin * m2 as f32;
                    }
                }
            }
        }
        QType::Q6K => {
            for (o, b) in out.chunks_exact_mut(256).zip(row.chunks_exact(210)) {
                let d = f16_at(b, 208);
                for h in 0..2 {
                    let ql = &b[64 * h..64 * h + 64];
                    let qh = &b[128 + 32 * h..128 + 32 * h + 32];
                    let sc = &b[192 + 8 * h..192 + 8 * h + 8];
                    let y = &mut o[128 * h..128 * h + 128];
                    for l in 0..32 {
                        let is = l / 16;
                        let q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i32 - 32;
                        let q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                        let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                        let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                        y[l] = d * (sc[is] as i8) as f32 * q1 as f32;
                        y[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
                        y[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
                        y[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
                    }
                }
            }
        }
    }
}

/// Int8 activations for a batch of rows in one of the two block layouts.
/// Structure of arrays so kernels load 32 contiguous int8 at a time.
#[derive(Debug, Default, Clone)]
pub struct QActs {
    pub kind: Option<ActKind>,
    pub cols: usize,
    pub rows: usize,
    /// `rows * cols` int8 values.
    pub q: Vec<i8>,
    /// One scale per block (32 or 256 values).
    pub d: Vec<f32>,
    /// B32: `d * sum(q)` per block of 32 (the offset/min terms need it).
    pub s: Vec<f32>,
    /// K256: the sum of each 16 values.
    pub bsum: Vec<i16>,
    /// B32: `-sum(q)` per block, the integer offset term of the packed
    /// kernels (which read weights as unsigned bytes).
    pub nisum: Vec<i32>,
    /// K256: the sum of each 32 values (Q4_K's sub-blocks, for the mins).
    pub bsum32: Vec<i16>,
    /// K256: `-32 * sum` of each 16 values, Q6_K's offset term.
    pub q6_off: Vec<i32>,
}

impl QActs {
    /// Quantize `x` (`rows * cols`, row-major) for kernels of kind `kind`.
    pub fn quantize(&mut self, kind: ActKind, x: &[f32], rows: usize, cols: usize) {
        self.kind = Some(kind);
        self.rows = rows;
        self.cols = cols;
        self.q.resize(rows * cols, 0);
        let block = match kind {
            ActKind::B32 => 32,
            ActKind::K256 => 256,
            ActKind::F32 => return,
        };
        let nblocks = rows * cols / block;
        self.d.resize(nblocks, 0.0);
        if kind == ActKind::B32 {
            self.s.resize(nblocks, 0.0);
            self.nisum.resize(nblocks, 0);
        } else {
            self.bsum.resize(rows * cols / 16, 0);
            self.bsum32.resize(rows * cols / 32, 0);
            self.q6_off.resize(rows * cols / 16, 0);
        }
        for (bi, (xb, qb)) in x
            .chunks_exact(block)
            .zip(self.q.chunks_exact_mut(block))
            .enumerate()
        {
            let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = amax / 127.0;
            let id = if d > 0.0 { 1.0 / d } else { 0.0 };
            for (q, v) in qb.iter_mut().zip(xb) {
                *q = (v * id).round().clamp(-127.0, 127.0) as i8;
            }
            self.d[bi] = d;
            match kind {
                ActKind::B32 => {
                    let sum: i32 = qb.iter().map(|&v| v as i32).sum();
                    self.s[bi] = d * sum as f32;
                    self.nisum[bi] = -sum;
                }
                _ => {
                    for (k, c) in qb.chunks_exact(16).enumerate() {
                        let sum: i16 = c.iter().map(|&v| v as i16).sum();
                        self.bsum[bi * 16 + k] = sum;
                        self.q6_off[bi * 16 + k] = -32 * i32::from(sum);
                    }
                    for k in 0..8 {
                        self.bsum32[bi * 8 + k] =
                            self.bsum[bi * 16 + 2 * k] + self.bsum[bi * 16 + 2 * k + 1];
                    }
                }
            }
        }
    }
}

/// Scalar reference dot product of one weight row with activation row `r`.
/// The SIMD kernels must agree with it (up to float summation order).
pub fn dot_scalar(t: QType, w: &[u8], a: &QActs, r: usize, x: &[f32]) -> f32 {
    let cols = a.cols;
    match t {
        QType::F32 | QType::F16 => {
            let mut tmp = vec![0f32; cols];
            dequantize_row(t, w, &mut tmp);
            tmp.iter()
                .zip(&x[r * cols..(r + 1) * cols])
                .map(|(a, b)| a * b)
                .sum()
        }
        QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q8_0 => {
            let nb = cols / 32;
            let mut acc = 0f32;
            for (i, b) in w.chunks_exact(t.block_bytes()).enumerate().take(nb) {
                let bi = r * nb + i;
                let aq = &a.q[bi * 32..bi * 32 + 32];
                let (da, sa) = (a.d[bi], a.s[bi]);
                let d = f16_at(b, 0);
                match t {
                    QType::Q8_0 => {
                        let s: i32 = (0..32).map(|j| b[2 + j] as i8 as i32 * aq[j] as i32).sum();
                        acc += d * da * s as f32;
                    }
                    _ => {
                        let (qh, qs, off) = match t {
                            QType::Q4_0 => (0u32, &b[2..18], -8.0 * d * sa),
                            QType::Q4_1 => (0, &b[4..20], f16_at(b, 2) * sa),
                            _ => (
                                u32::from_le_bytes([b[2], b[3], b[4], b[5]]),
                                &b[6..22],
                                -16.0 * d * sa,
                            ),
                        };
                        let mut s = 0i32;
                        for j in 0..16 {
                            let lo = (qs[j] & 0xF) as i32 | ((((qh >> j) & 1) << 4) as i32);
                            let hi = (qs[j] >> 4) as i32 | ((((qh >> (j + 16)) & 1) << 4) as i32);
                            s += lo * aq[j] as i32 + hi * aq[j + 16] as i32;
                        }
                        acc += d * da * s as f32 + off;
                    }
                }
            }
            acc
        }
        QType::Q4K | QType::Q6K => {
            let nb = cols / 256;
            let mut acc = 0f32;
            for (i, b) in w.chunks_exact(t.block_bytes()).enumerate().take(nb) {
                let bi = r * nb + i;
                let aq = &a.q[bi * 256..bi * 256 + 256];
                let da = a.d[bi];
                let mut deq = [0f32; 256];
                // Integer form of the same block: dequantize with d = 1 and
                // fold the scale back in, so rounding matches the kernels.
                dequantize_row(t, b, &mut deq);
                let s: f32 = deq.iter().zip(aq).map(|(w, &q)| w * q as f32).sum();
                acc += s * da;
            }
            acc
        }
    }
}
