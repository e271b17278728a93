//! AVX-512 VNNI kernels over panel-packed weights (see `packed.rs`): each
//! call computes sixteen rows against up to eight tokens, unpacking a block
//! panel once and multiplying it by every token with broadcast activations,
//! so the per-token work is the multiply-adds plus one scale step per
//! sub-block, with no horizontal sums.
//!
//! Safety (all functions): the CPU has AVX-512 F/BW/VL and VNNI; `panel`
//! is one whole panel for `a.cols` columns of the matrix's format; tokens
//! `t0..t0 + T` are rows of `a`; `out` has room for `T` rows of sixteen
//! floats `stride` apart.

#![allow(unsafe_op_in_unsafe_fn)]
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;

use super::packed::PANEL_ROWS;
use super::quant::{QActs, QType};

#[inline(always)]
unsafe fn load(p: *const u8) -> __m512i {
    _mm512_loadu_si512(p as *const __m512i)
}

/// Sixteen f16 values as f32.
#[inline(always)]
unsafe fn halves(p: *const u8) -> __m512 {
    _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i))
}

/// Eight groups of 4-bit values from four 64-byte vectors: group `g` in the
/// low nibbles of vector `g`, group `g + 4` in its high nibbles.
#[inline(always)]
unsafe fn nibbles(qs: *const u8) -> [__m512i; 8] {
    let m4 = _mm512_set1_epi8(0x0F);
    let mut w = [_mm512_setzero_si512(); 8];
    for g in 0..4 {
        let x = load(qs.add(64 * g));
        w[g] = _mm512_and_si512(x, m4);
        w[g + 4] = _mm512_and_si512(_mm512_srli_epi16::<4>(x), m4);
    }
    w
}

/// Four bytes at `p` in every 32-bit lane (the compiler folds this into the
/// multiply-add's broadcast memory operand).
#[inline(always)]
unsafe fn bcast(p: *const u8) -> __m512i {
    _mm512_set1_epi32((p as *const i32).read_unaligned())
}

/// `acc[t] += d × (token t's block scale) × sums[t]`: a K-format block's
/// integer sums into the float accumulators.
#[inline(always)]
unsafe fn fold_block<const T: usize>(
    acc: &mut [__m512; T],
    sums: &[__m512i; T],
    d: __m512,
    ad: *const f32,
    t0: usize,
    nb: usize,
    i: usize,
) {
    for t in 0..T {
        let da = _mm512_mul_ps(d, _mm512_set1_ps(*ad.add((t0 + t) * nb + i)));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[t]), da, acc[t]);
    }
}

/// `acc + Σ_g w[g] · (4 activation bytes at ap + 4g)` in 32-bit lanes.
#[inline(always)]
unsafe fn dot_groups<const G: usize>(mut acc: __m512i, w: &[__m512i], ap: *const u8) -> __m512i {
    for g in 0..G {
        acc = _mm512_dpbusd_epi32(acc, w[g], bcast(ap.add(4 * g)));
    }
    acc
}

#[inline(always)]
unsafe fn store<const T: usize>(acc: &[__m512; T], out: *mut f32, stride: usize) {
    for t in 0..T {
        _mm512_storeu_ps(out.add(t * stride), acc[t]);
    }
}

/// Q8_0, Q4_0, Q4_1 and Q5_0 (`KIND` 0..=3 in that order): one 32-column
/// block of sixteen rows is eight weight vectors.
#[inline(always)]
unsafe fn legacy<const T: usize, const KIND: u8>(
    panel: *const u8,
    a: &QActs,
    t0: usize,
    out: *mut f32,
    stride: usize,
) {
    let nb = a.cols / 32;
    let bb = [16 * 34, 16 * 18, 16 * 20, 16 * 22][KIND as usize];
    let h5 = _mm512_set1_epi8(0x10);
    let (aq, ad, asum, anis) = (
        a.q.as_ptr() as *const u8,
        a.d.as_ptr(),
        a.s.as_ptr(),
        a.nisum.as_ptr(),
    );
    let mut acc = [_mm512_setzero_ps(); T];
    for i in 0..nb {
        let b = panel.add(i * bb);
        let d = halves(b);
        let mut w = [_mm512_setzero_si512(); 8];
        match KIND {
            0 => {
                for g in 0..8 {
                    w[g] = load(b.add(32 + 64 * g));
                }
            }
            _ => {
                let qs = b.add([0, 32, 64, 96][KIND as usize]);
                w = nibbles(qs);
                if KIND == 3 {
                    for g in 0..4 {
                        let lo =
                            _cvtu64_mask64((b.add(32 + 16 * g) as *const u64).read_unaligned());
                        let hi =
                            _cvtu64_mask64((b.add(40 + 16 * g) as *const u64).read_unaligned());
                        w[g] = _mm512_mask_add_epi8(w[g], lo, w[g], h5);
                        w[g + 4] = _mm512_mask_add_epi8(w[g + 4], hi, w[g + 4], h5);
                    }
                }
            }
        }
        for t in 0..T {
            let bi = (t0 + t) * nb + i;
            let ap = aq.add(bi * 32);
            // The values' offset (128, 8, none, 16) times the block's sum.
            let mut s = match KIND {
                0 => _mm512_slli_epi32::<7>(_mm512_set1_epi32(*anis.add(bi))),
                1 => _mm512_slli_epi32::<3>(_mm512_set1_epi32(*anis.add(bi))),
                2 => _mm512_setzero_si512(),
                _ => _mm512_slli_epi32::<4>(_mm512_set1_epi32(*anis.add(bi))),
            };
            s = dot_groups::<8>(s, &w, ap);
            let scale = _mm512_mul_ps(d, _mm512_set1_ps(*ad.add(bi)));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, acc[t]);
            if KIND == 2 {
                acc[t] = _mm512_fmadd_ps(halves(b.add(32)), _mm512_set1_ps(*asum.add(bi)), acc[t]);
            }
        }
    }
    store(&acc, out, stride);
}

#[inline(always)]
unsafe fn q4k<const T: usize>(
    panel: *const u8,
    a: &QActs,
    t0: usize,
    out: *mut f32,
    stride: usize,
) {
    let nb = a.cols / 256;
    let (aq, ad, ab32) = (
        a.q.as_ptr() as *const u8,
        a.d.as_ptr(),
        a.bsum32.as_ptr() as *const u8,
    );
    let mut acc = [_mm512_setzero_ps(); T];
    for i in 0..nb {
        let b = panel.add(i * 16 * 148);
        let d = halves(b);
        let dmin = halves(b.add(32));
        // Mins against pairs of 32-value activation sums.
        let mut mins = [_mm512_setzero_si512(); 4];
        for p in 0..4 {
            mins[p] =
                _mm512_cvtepu8_epi16(_mm256_loadu_si256(b.add(192 + 32 * p) as *const __m256i));
        }
        for t in 0..T {
            let bi = (t0 + t) * nb + i;
            let mut m = _mm512_setzero_si512();
            for p in 0..4 {
                m = _mm512_dpwssd_epi32(m, mins[p], bcast(ab32.add(2 * (bi * 8 + 2 * p))));
            }
            let dm = _mm512_mul_ps(dmin, _mm512_set1_ps(*ad.add(bi)));
            acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), dm, acc[t]);
        }
        let mut sums = [_mm512_setzero_si512(); T];
        for j in 0..8 {
            let sc = _mm512_cvtepu8_epi32(_mm_loadu_si128(b.add(64 + 16 * j) as *const __m128i));
            let qs = b.add(320 + 256 * j);
            let w = nibbles(qs);
            for t in 0..T {
                let ap = aq.add(((t0 + t) * nb + i) * 256 + 32 * j);
                let s = dot_groups::<8>(_mm512_setzero_si512(), &w, ap);
                sums[t] = _mm512_add_epi32(sums[t], _mm512_mullo_epi32(s, sc));
            }
        }
        fold_block(&mut acc, &sums, d, ad, t0, nb, i);
    }
    store(&acc, out, stride);
}

#[inline(always)]
unsafe fn q6k<const T: usize>(
    panel: *const u8,
    a: &QActs,
    t0: usize,
    out: *mut f32,
    stride: usize,
) {
    let nb = a.cols / 256;
    let m4 = _mm512_set1_epi8(0x0F);
    let m30 = _mm512_set1_epi8(0x30);
    let (aq, ad, aoff) = (a.q.as_ptr() as *const u8, a.d.as_ptr(), a.q6_off.as_ptr());
    let mut acc = [_mm512_setzero_ps(); T];
    // (x & m4) | y, one instruction.
    const OR_AND: i32 = 0xEA;
    for i in 0..nb {
        let b = panel.add(i * 16 * 210);
        let d = halves(b);
        let mut sums = [_mm512_setzero_si512(); T];
        for s in 0..16 {
            let sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(b.add(32 + 16 * s) as *const __m128i));
            let v = b.add(288 + 192 * s);
            let (x0, x1, h) = (load(v), load(v.add(64)), load(v.add(128)));
            let hi = |y: __m512i| _mm512_and_si512(y, m30);
            let w = [
                _mm512_ternarylogic_epi32::<OR_AND>(x0, m4, hi(_mm512_slli_epi16::<4>(h))),
                _mm512_ternarylogic_epi32::<OR_AND>(x1, m4, hi(_mm512_slli_epi16::<2>(h))),
                _mm512_ternarylogic_epi32::<OR_AND>(_mm512_srli_epi16::<4>(x0), m4, hi(h)),
                _mm512_ternarylogic_epi32::<OR_AND>(
                    _mm512_srli_epi16::<4>(x1),
                    m4,
                    hi(_mm512_srli_epi16::<2>(h)),
                ),
            ];
            for t in 0..T {
                let bi = (t0 + t) * nb + i;
                let ap = aq.add(bi * 256 + 16 * s);
                let x = dot_groups::<4>(_mm512_set1_epi32(*aoff.add(bi * 16 + s)), &w, ap);
                sums[t] = _mm512_add_epi32(sums[t], _mm512_mullo_epi32(x, sc));
            }
        }
        fold_block(&mut acc, &sums, d, ad, t0, nb, i);
    }
    store(&acc, out, stride);
}

#[inline(always)]
unsafe fn tile<const T: usize>(
    t: QType,
    panel: *const u8,
    a: &QActs,
    t0: usize,
    out: *mut f32,
    stride: usize,
) {
    match t {
        QType::Q8_0 => legacy::<T, 0>(panel, a, t0, out, stride),
        QType::Q4_0 => legacy::<T, 1>(panel, a, t0, out, stride),
        QType::Q4_1 => legacy::<T, 2>(panel, a, t0, out, stride),
        QType::Q5_0 => legacy::<T, 3>(panel, a, t0, out, stride),
        QType::Q4K => q4k::<T>(panel, a, t0, out, stride),
        QType::Q6K => q6k::<T>(panel, a, t0, out, stride),
        QType::F32 | QType::F16 => {}
    }
}

/// Sixteen rows (one panel) against tokens `t0..t0 + n`: `out` points at
/// token `t0`'s first output of these rows, tokens `stride` floats apart.
///
/// # Safety
/// See the module: AVX-512 F/BW/VL/VNNI present, `panel` whole for
/// `a.cols` in format `t` (one with a packed layout), `t0 + n <= a.rows`,
/// and `out` valid for `n` rows of sixteen floats `stride` apart.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")]
pub unsafe fn panel_tokens(
    t: QType,
    panel: *const u8,
    a: &QActs,
    t0: usize,
    n: usize,
    out: *mut f32,
    stride: usize,
) {
    debug_assert_eq!(PANEL_ROWS, 16);
    let mut k = 0;
    while n - k >= 8 {
        tile::<8>(t, panel, a, t0 + k, out.add(k * stride), stride);
        k += 8;
    }
    for w in [4, 2, 1] {
        if n - k >= w {
            let o = out.add(k * stride);
            match w {
                4 => tile::<4>(t, panel, a, t0 + k, o, stride),
                2 => tile::<2>(t, panel, a, t0 + k, o, stride),
                _ => tile::<1>(t, panel, a, t0 + k, o, stride),
            }
            k += w;
        }
    }
}
