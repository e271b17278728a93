//! AVX2/FMA/F16C dot-product kernels, compiled for those features whatever
//! the build's target CPU and called only after run-time detection.
//!
//! Each kernel computes one weight row against up to four activation rows
//! at once: unpacking a quantized block costs more than multiplying it, so
//! doing it once per block for several tokens is what makes prompt
//! processing fast. `N = 1` is the generation path.
//!
//! Safety (all functions): the caller guarantees the CPU has AVX2, FMA and
//! F16C, `w` holds one full row for `a.cols`, and each of `rows` indexes a
//! row of `a`.

#![allow(unsafe_op_in_unsafe_fn)]
// Indexed loops over lanes and tiles read closer to the arithmetic here.
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;

use super::quant::{QActs, QType};

#[inline(always)]
unsafe fn f16(p: *const u8) -> f32 {
    let bits = u16::from_le_bytes([*p, *p.add(1)]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
}

#[inline(always)]
unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

#[inline(always)]
unsafe fn load(p: *const u8) -> __m256i {
    _mm256_loadu_si256(p as *const __m256i)
}

/// 0xFF in byte j where bit j of `bits` is set, else 0.
#[inline(always)]
unsafe fn bits_to_bytes(bits: u32) -> __m256i {
    let spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(bits as i32),
        _mm256_setr_epi64x(
            0,
            0x0101_0101_0101_0101,
            0x0202_0202_0202_0202,
            0x0303_0303_0303_0303,
        ),
    );
    let mask = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask)
}

#[inline(always)]
unsafe fn q8_0<const N: usize, const VNNI: bool>(
    w: &[u8],
    a: &QActs,
    rows: &[usize],
    out: &mut [f32],
) {
    let nb = a.cols / 32;
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_ps(); N];
    let (wp, aq, ad) = (w.as_ptr(), a.q.as_ptr() as *const u8, a.d.as_ptr());
    for i in 0..nb {
        let b = wp.add(i * 34);
        let d = f16(b);
        let wq = load(b.add(2));
        let wabs = _mm256_sign_epi8(wq, wq);
        for t in 0..N {
            let bi = rows[t] * nb + i;
            let x = _mm256_sign_epi8(load(aq.add(bi * 32)), wq);
            let p = if VNNI {
                _mm256_dpbusd_epi32(_mm256_setzero_si256(), wabs, x)
            } else {
                _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, x), ones)
            };
            acc[t] = _mm256_fmadd_ps(
                _mm256_cvtepi32_ps(p),
                _mm256_set1_ps(d * *ad.add(bi)),
                acc[t],
            );
        }
    }
    for t in 0..N {
        out[t] = hsum(acc[t]);
    }
}

/// Q4_0, Q4_1 and Q5_0: 32 unsigned 4- or 5-bit values per block and an
/// offset (fixed for Q4_0/Q5_0, stored for Q4_1) folded in through the
/// activation block sums.
#[inline(always)]
unsafe fn q4_legacy<const N: usize, const KIND: u8, const VNNI: bool>(
    w: &[u8],
    a: &QActs,
    rows: &[usize],
    out: &mut [f32],
) {
    let nb = a.cols / 32;
    let bsz = [18usize, 20, 22][KIND as usize];
    let ones = _mm256_set1_epi16(1);
    let m4 = _mm_set1_epi8(0x0F);
    let h5 = _mm256_set1_epi8(0x10);
    let mut acc = [_mm256_setzero_ps(); N];
    let mut off = [0f32; N];
    let (wp, aq, ad, asum) = (
        w.as_ptr(),
        a.q.as_ptr() as *const u8,
        a.d.as_ptr(),
        a.s.as_ptr(),
    );
    for i in 0..nb {
        let b = wp.add(i * bsz);
        let d = f16(b);
        let (qs, k) = match KIND {
            0 => (b.add(2), -8.0 * d),
            1 => (b.add(4), f16(b.add(2))),
            _ => (b.add(6), -16.0 * d),
        };
        let x = _mm_loadu_si128(qs as *const __m128i);
        let mut q = _mm256_set_m128i(
            _mm_and_si128(_mm_srli_epi16(x, 4), m4),
            _mm_and_si128(x, m4),
        );
        if KIND == 2 {
            let qh = u32::from_le_bytes([*b.add(2), *b.add(3), *b.add(4), *b.add(5)]);
            q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(qh), h5));
        }
        for t in 0..N {
            let bi = rows[t] * nb + i;
            let x = load(aq.add(bi * 32));
            let p = if VNNI {
                _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, x)
            } else {
                _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), ones)
            };
            acc[t] = _mm256_fmadd_ps(
                _mm256_cvtepi32_ps(p),
                _mm256_set1_ps(d * *ad.add(bi)),
                acc[t],
            );
            off[t] += k * *asum.add(bi);
        }
    }
    for t in 0..N {
        out[t] = hsum(acc[t]) + off[t];
    }
}

/// Byte-shuffle masks that broadcast one i16 element of each 128-bit lane:
/// `mask(lo, hi)` picks element `lo` in the low lane and `hi` in the high.
/// Built at compile time: a mask assembled from run-time bytes costs
/// dozens of inserts per use.
const fn mask(lo: usize, hi: usize) -> [u8; 32] {
    let mut m = [0u8; 32];
    let mut i = 0;
    while i < 16 {
        m[i] = (2 * lo + i % 2) as u8;
        m[16 + i] = (2 * hi + i % 2) as u8;
        i += 1;
    }
    m
}

/// `SAME[j]`: element `j` in both lanes (Q4_K scales).
static SAME: [[u8; 32]; 8] = [
    mask(0, 0),
    mask(1, 1),
    mask(2, 2),
    mask(3, 3),
    mask(4, 4),
    mask(5, 5),
    mask(6, 6),
    mask(7, 7),
];
/// `PAIR[k]`: elements `2k` and `2k + 1` (Q6_K scales of a 32-value group).
static PAIR: [[u8; 32]; 4] = [mask(0, 1), mask(2, 3), mask(4, 5), mask(6, 7)];

#[inline(always)]
unsafe fn pick(m: &[u8; 32]) -> __m256i {
    _mm256_loadu_si256(m.as_ptr() as *const __m256i)
}

/// A Q4_K block's eight 6-bit scales, each broadcast over 16 lanes, and its
/// eight mins laid out `m0 m0 m1 m1 … m7 m7` against 16-value sums. The
/// 12 packed bytes are unpacked with word-wide masks and shifts rather
/// than eight scalar extractions: at one token this was as costly as the
/// multiply-adds.
#[inline(always)]
unsafe fn q4k_scales(p: *const u8) -> ([__m256i; 8], __m256i) {
    const K1: u32 = 0x3f3f_3f3f;
    const K2: u32 = 0x0f0f_0f0f;
    const K3: u32 = 0x0303_0303;
    let w = |i: usize| {
        u32::from_le_bytes([
            *p.add(4 * i),
            *p.add(4 * i + 1),
            *p.add(4 * i + 2),
            *p.add(4 * i + 3),
        ])
    };
    let (u0, u1, u2) = (w(0), w(1), w(2));
    // Scales 0-3 are the low 6 bits of bytes 0-3, mins 0-3 of bytes 4-7;
    // scales and mins 4-7 take 4 bits from bytes 8-11 and their top 2 bits
    // from the high bits of bytes 0-3 and 4-7.
    let scales_lo = u0 & K1;
    let scales_hi = (u2 & K2) | (((u0 >> 6) & K3) << 4);
    let mins_lo = u1 & K1;
    let mins_hi = ((u2 >> 4) & K2) | (((u1 >> 6) & K3) << 4);
    let all = _mm256_cvtepu8_epi16(_mm_setr_epi32(
        scales_lo as i32,
        scales_hi as i32,
        mins_lo as i32,
        mins_hi as i32,
    ));
    let scales = _mm256_permute2x128_si256(all, all, 0x00);
    let mut sc = [_mm256_setzero_si256(); 8];
    for (j, s) in sc.iter_mut().enumerate() {
        *s = _mm256_shuffle_epi8(scales, pick(&SAME[j]));
    }
    let mins = _mm256_permute2x128_si256(all, all, 0x11);
    let mins = _mm256_shuffle_epi8(
        mins,
        _mm256_setr_epi8(
            0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12,
            13, 14, 15, 14, 15,
        ),
    );
    (sc, mins)
}

/// A Q6_K block's scale vectors for its eight 32-value groups: group `k`
/// has scale `2k` on its first 16 values and `2k + 1` on the next 16.
#[inline(always)]
unsafe fn q6k_scales(sc16: __m256i) -> [__m256i; 8] {
    let lo = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    let hi = _mm256_permute2x128_si256(sc16, sc16, 0x11);
    let mut sc = [_mm256_setzero_si256(); 8];
    for (k, s) in sc.iter_mut().enumerate() {
        let src = if k < 4 { lo } else { hi };
        *s = _mm256_shuffle_epi8(src, pick(&PAIR[k % 4]));
    }
    sc
}

/// Calls `tile::<W, VNNI>(args…)` for the tokens `0..n` in tiles of up to
/// four, with `tok` the tile's first token (offset by `t_start`) and `slot`
/// its first partial-sum slot.
macro_rules! each_tile {
    ($n:expr, $accp:expr, $t_start:expr, |$tok:ident, $slot:ident| $tile:ident::<_, $v:ident>($($arg:expr),* $(,)?)) => {{
        let mut t = 0;
        while t < $n {
            let $slot = $accp.add(8 * t);
            let $tok = $t_start + t;
            match $n - t {
                1 => $tile::<1, $v>($($arg),*),
                2 => $tile::<2, $v>($($arg),*),
                3 => $tile::<3, $v>($($arg),*),
                _ => $tile::<4, $v>($($arg),*),
            }
            t += 4;
        }
    }};
}

#[inline(always)]
unsafe fn zero_acc(accp: *mut f32, n: usize) {
    for t in 0..n {
        _mm256_storeu_ps(accp.add(8 * t), _mm256_setzero_ps());
    }
}

#[inline(always)]
unsafe fn sum_acc(accp: *const f32, n: usize, res: &mut [f32]) {
    for (t, r) in res.iter_mut().enumerate().take(n) {
        *r = hsum(_mm256_loadu_ps(accp.add(8 * t)));
    }
}

/// Q4_K and Q6_K walk a row one super-block at a time, decoding its scales
/// once and then running every token through it; per-token partial sums
/// live in `acc` (8 floats per token).
#[inline(always)]
unsafe fn q4k_all<const VNNI: bool>(
    w: &[u8],
    a: &QActs,
    t_start: usize,
    n: usize,
    acc: &mut [f32],
    res: &mut [f32],
) {
    let nb = a.cols / 256;
    let accp = acc.as_mut_ptr();
    zero_acc(accp, n);
    for i in 0..nb {
        let b = w.as_ptr().add(i * 144);
        let d = f16(b);
        let dmin = f16(b.add(2));
        let (sc, mins) = q4k_scales(b.add(4));
        each_tile!(n, accp, t_start, |tok, slot| q4k_tile::<_, VNNI>(
            b, &sc, mins, d, dmin, a, tok, i, slot
        ));
    }
    sum_acc(accp, n, res);
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn q4k_tile<const W: usize, const VNNI: bool>(
    b: *const u8,
    sc: &[__m256i; 8],
    mins: __m256i,
    d: f32,
    dmin: f32,
    a: &QActs,
    t0: usize,
    i: usize,
    accp: *mut f32,
) {
    let nb = a.cols / 256;
    let m4 = _mm256_set1_epi8(0x0F);
    let aq = a.q.as_ptr() as *const u8;
    let mut sumi = [_mm256_setzero_si256(); W];
    let qs = b.add(16);
    for p in 0..4 {
        let x = load(qs.add(32 * p));
        let lo = _mm256_and_si256(x, m4);
        let hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);
        for k in 0..W {
            let base = aq.add(((t0 + k) * nb + i) * 256 + 64 * p);
            let p1 = _mm256_maddubs_epi16(lo, load(base));
            let p2 = _mm256_maddubs_epi16(hi, load(base.add(32)));
            sumi[k] = if VNNI {
                _mm256_dpwssd_epi32(
                    _mm256_dpwssd_epi32(sumi[k], p1, sc[2 * p]),
                    p2,
                    sc[2 * p + 1],
                )
            } else {
                _mm256_add_epi32(
                    sumi[k],
                    _mm256_add_epi32(
                        _mm256_madd_epi16(p1, sc[2 * p]),
                        _mm256_madd_epi16(p2, sc[2 * p + 1]),
                    ),
                )
            };
        }
    }
    for k in 0..W {
        let bi = (t0 + k) * nb + i;
        let da = *a.d.as_ptr().add(bi);
        let m = _mm256_madd_epi16(mins, load(a.bsum.as_ptr().add(bi * 16) as *const u8));
        let slot = accp.add(8 * k);
        let v = _mm256_fmadd_ps(
            _mm256_cvtepi32_ps(sumi[k]),
            _mm256_set1_ps(d * da),
            _mm256_loadu_ps(slot),
        );
        _mm256_storeu_ps(
            slot,
            _mm256_fnmadd_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(dmin * da), v),
        );
    }
}

#[inline(always)]
unsafe fn q6k_all<const VNNI: bool>(
    w: &[u8],
    a: &QActs,
    t_start: usize,
    n: usize,
    acc: &mut [f32],
    res: &mut [f32],
) {
    let nb = a.cols / 256;
    let accp = acc.as_mut_ptr();
    zero_acc(accp, n);
    for i in 0..nb {
        let b = w.as_ptr().add(i * 210);
        let d = f16(b.add(208));
        let sc8 = b.add(192);
        let sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(sc8 as *const __m128i));
        let sc = q6k_scales(sc16);
        each_tile!(n, accp, t_start, |tok, slot| q6k_tile::<_, VNNI>(
            b, &sc, sc16, d, a, tok, i, slot
        ));
    }
    sum_acc(accp, n, res);
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn q6k_tile<const W: usize, const VNNI: bool>(
    b: *const u8,
    sc: &[__m256i; 8],
    sc16: __m256i,
    d: f32,
    a: &QActs,
    t0: usize,
    i: usize,
    accp: *mut f32,
) {
    let nb = a.cols / 256;
    let m4 = _mm256_set1_epi8(0x0F);
    let m3 = _mm256_set1_epi8(0x03);
    let aq = a.q.as_ptr() as *const u8;
    let mut sumi = [_mm256_setzero_si256(); W];
    // The -32 offset of every value: 32 * sum(scale_k * bsum_k).
    for k in 0..W {
        let bi = (t0 + k) * nb + i;
        let o = _mm256_madd_epi16(sc16, load(a.bsum.as_ptr().add(bi * 16) as *const u8));
        sumi[k] = _mm256_sub_epi32(sumi[k], _mm256_slli_epi32(o, 5));
    }
    for h in 0..2 {
        let ql0 = load(b.add(64 * h));
        let ql1 = load(b.add(64 * h + 32));
        let qh = load(b.add(128 + 32 * h));
        let q = [
            _mm256_or_si256(
                _mm256_and_si256(ql0, m4),
                _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4),
            ),
            _mm256_or_si256(
                _mm256_and_si256(ql1, m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4),
            ),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4),
            ),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4),
            ),
        ];
        for (g, qg) in q.iter().enumerate() {
            let s = sc[4 * h + g];
            for k in 0..W {
                let base = aq.add(((t0 + k) * nb + i) * 256 + 128 * h + 32 * g);
                let p = _mm256_maddubs_epi16(*qg, load(base));
                sumi[k] = if VNNI {
                    _mm256_dpwssd_epi32(sumi[k], p, s)
                } else {
                    _mm256_add_epi32(sumi[k], _mm256_madd_epi16(p, s))
                };
            }
        }
    }
    for k in 0..W {
        let bi = (t0 + k) * nb + i;
        let slot = accp.add(8 * k);
        let v = _mm256_fmadd_ps(
            _mm256_cvtepi32_ps(sumi[k]),
            _mm256_set1_ps(d * *a.d.as_ptr().add(bi)),
            _mm256_loadu_ps(slot),
        );
        _mm256_storeu_ps(slot, v);
    }
}

/// f32 or f16 weights against f32 activations.
#[inline(always)]
unsafe fn float<const N: usize, const HALF: bool>(
    w: &[u8],
    cols: usize,
    x: &[f32],
    rows: &[usize],
    out: &mut [f32],
) {
    let mut acc = [_mm256_setzero_ps(); N];
    let chunks = cols / 8;
    let xp = x.as_ptr();
    for c in 0..chunks {
        let wv = if HALF {
            _mm256_cvtph_ps(_mm_loadu_si128(w.as_ptr().add(c * 16) as *const __m128i))
        } else {
            _mm256_loadu_ps(w.as_ptr().add(c * 32) as *const f32)
        };
        for t in 0..N {
            let xv = _mm256_loadu_ps(xp.add(rows[t] * cols + c * 8));
            acc[t] = _mm256_fmadd_ps(wv, xv, acc[t]);
        }
    }
    for t in 0..N {
        let mut s = hsum(acc[t]);
        for j in chunks * 8..cols {
            let wj = if HALF {
                super::quant::f16_at(w, 2 * j)
            } else {
                f32::from_le_bytes([w[4 * j], w[4 * j + 1], w[4 * j + 2], w[4 * j + 3]])
            };
            s += wj * x[rows[t] * cols + j];
        }
        out[t] = s;
    }
}

macro_rules! tiles {
    ($f:ident::<$($g:tt),*>, $t0:expr, $n:expr, $res:expr, $($args:expr),*) => {{
        let mut idx = [0usize; 4];
        let mut t = 0;
        while t < $n {
            let width = ($n - t).min(4);
            for (k, slot) in idx.iter_mut().enumerate().take(width) {
                *slot = $t0 + t + k;
            }
            let rows = &idx[..width];
            let out = &mut $res[t..t + width];
            match width {
                1 => $f::<1, $($g),*>($($args,)* rows, out),
                2 => $f::<2, $($g),*>($($args,)* rows, out),
                3 => $f::<3, $($g),*>($($args,)* rows, out),
                _ => $f::<4, $($g),*>($($args,)* rows, out),
            }
            t += width;
        }
    }};
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dot_all_impl<const VNNI: bool>(
    t: QType,
    w: &[u8],
    a: &QActs,
    x: &[f32],
    t0: usize,
    n: usize,
    acc: &mut [f32],
    res: &mut [f32],
) {
    match t {
        QType::Q8_0 => tiles!(q8_0::<VNNI>, t0, n, res, w, a),
        QType::Q4_0 => tiles!(q4_legacy::<0, VNNI>, t0, n, res, w, a),
        QType::Q4_1 => tiles!(q4_legacy::<1, VNNI>, t0, n, res, w, a),
        QType::Q5_0 => tiles!(q4_legacy::<2, VNNI>, t0, n, res, w, a),
        QType::Q4K => q4k_all::<VNNI>(w, a, t0, n, acc, res),
        QType::Q6K => q6k_all::<VNNI>(w, a, t0, n, acc, res),
        QType::F32 => tiles!(float::<false>, t0, n, res, w, a.cols, x),
        QType::F16 => tiles!(float::<true>, t0, n, res, w, a.cols, x),
    }
}

/// Dot products of the weight row `w` with activation rows `t0..t0 + n`
/// into `res`; `acc` is scratch of at least `8 * n` floats.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `w` is one full row for `a.cols`;
/// `a` (or `x` for float weights) has `n` rows; `res` holds `n` values.
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn dot_all(
    t: QType,
    w: &[u8],
    a: &QActs,
    x: &[f32],
    t0: usize,
    n: usize,
    acc: &mut [f32],
    res: &mut [f32],
) {
    dot_all_impl::<false>(t, w, a, x, t0, n, acc, res)
}

/// [`dot_all`] for CPUs with AVX-512 VNNI: the same kernels with the fused
/// int8/int16 dot-product instructions and 32 vector registers.
///
/// # Safety
/// As [`dot_all`], and the CPU has AVX-512 F/VL/BW and VNNI.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn dot_all_vnni(
    t: QType,
    w: &[u8],
    a: &QActs,
    x: &[f32],
    t0: usize,
    n: usize,
    acc: &mut [f32],
    res: &mut [f32],
) {
    dot_all_impl::<true>(t, w, a, x, t0, n, acc, res)
}
