//! Weights re-laid out at load time for the AVX-512 VNNI kernels: sixteen
//! rows interleaved per "panel", four bytes of each row side by side, so one
//! 512-bit `vpdpbusd` multiplies four weights of sixteen rows by the same
//! four activations (broadcast from memory). Row-major blocks need a
//! horizontal sum per row and per token and decode each row's scales one
//! row at a time; interleaved, scales decode sixteen rows at once and
//! results land as sixteen finished outputs. llama.cpp and candle repack
//! weights the same way for the same reason; this layout is our own.
//!
//! A panel holds, for each block of columns in turn, a *block panel*: the
//! sixteen rows' scales (as plain bytes or f16) followed by their quants,
//! grouped so each 64-byte vector holds one 4-column group of all sixteen
//! rows (two groups for 4-bit formats, in the low and high nibbles). The
//! exact layouts are documented on each `pack_*` function; the kernels in
//! `vnni512.rs` read them.
//!
//! Values are stored unsigned (`vpdpbusd` multiplies unsigned bytes by
//! signed ones): Q8_0 with 128 added, Q6_K with its usual 32 offset; the
//! kernels subtract the offset through the activations' block sums.

use rayon::prelude::*;

use super::quant::{q4k_scale_min, QType};

/// Rows per panel: one 512-bit vector of 32-bit lanes.
pub const PANEL_ROWS: usize = 16;

/// A matrix in panel layout.
#[derive(Debug)]
pub struct Packed {
    pub bytes: Vec<u8>,
    /// Bytes of one panel (all column blocks of sixteen rows).
    pub panel_bytes: usize,
    /// Bytes of one block panel (one column block of sixteen rows).
    pub block_bytes: usize,
}

/// Bytes of one block panel of `t`, `None` for formats without a packed
/// kernel.
pub fn block_panel_bytes(t: QType) -> Option<usize> {
    Some(match t {
        QType::Q4_0 => 16 * 18,
        QType::Q4_1 => 16 * 20,
        QType::Q5_0 => 16 * 22,
        QType::Q8_0 => 16 * 34,
        // Scales and mins as one byte each instead of 12 packed bytes:
        // 2.8% more than the file, in exchange for decoding with one
        // zero-extension per sixteen rows.
        QType::Q4K => 16 * 148,
        QType::Q6K => 16 * 210,
        QType::F32 | QType::F16 => return None,
    })
}

/// Re-lay `rows × cols` weights of type `t` (row-major, `row_bytes` per
/// row) as panels; `None` when the format has no packed kernel or the rows
/// do not fill whole panels (the row-major kernels then serve it).
pub fn pack(
    t: QType,
    rows: usize,
    cols: usize,
    row_bytes: usize,
    data: &[u8],
    pool: Option<&rayon::ThreadPool>,
) -> Option<Packed> {
    let block_bytes = block_panel_bytes(t)?;
    if rows == 0 || !rows.is_multiple_of(PANEL_ROWS) || data.len() < rows * row_bytes {
        return None;
    }
    let nb = cols / t.block_elems();
    let src_block = t.block_bytes();
    let panel_bytes = nb * block_bytes;
    let mut bytes = vec![0u8; rows / PANEL_ROWS * panel_bytes];
    let fill = |(p, panel): (usize, &mut [u8])| {
        for (i, out) in panel.chunks_exact_mut(block_bytes).enumerate() {
            let block = |r: usize| {
                let at = (p * PANEL_ROWS + r) * row_bytes + i * src_block;
                &data[at..at + src_block]
            };
            match t {
                QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q8_0 => pack_legacy(t, block, out),
                QType::Q4K => pack_q4k(block, out),
                QType::Q6K => pack_q6k(block, out),
                QType::F32 | QType::F16 => {}
            }
        }
    };
    let chunks = bytes.par_chunks_mut(panel_bytes).enumerate();
    match pool {
        Some(pool) => pool.install(|| chunks.for_each(fill)),
        None => chunks.for_each(fill),
    }
    Some(Packed {
        bytes,
        panel_bytes,
        block_bytes,
    })
}

/// Writes `v` for each of the sixteen rows as four bytes per 4-column
/// group: `out[64 * g + 4 * r + b] = v(r, g, b)`.
fn groups(out: &mut [u8], ngroups: usize, v: impl Fn(usize, usize, usize) -> u8) {
    for g in 0..ngroups {
        for r in 0..PANEL_ROWS {
            for b in 0..4 {
                out[64 * g + 4 * r + b] = v(r, g, b);
            }
        }
    }
}

/// Legacy 32-column blocks: `d` of the sixteen rows (f16), then for Q4_1
/// their `m` (f16), for Q5_0 eight 64-bit masks of fifth bits, then the
/// quants:
/// - Q8_0: eight groups, `q + 128` as bytes;
/// - Q4_0/Q4_1/Q5_0: four vectors, vector `g` holding group `g` in its low
///   nibbles and group `g + 4` in its high ones (exactly the file's bytes
///   `4g..4g+4`); Q5_0's mask `2g` marks group `g`'s fifth bits and mask
///   `2g + 1` group `g + 4`'s, bit `4r + b` for row `r`, column `b`.
fn pack_legacy<'a>(t: QType, block: impl Fn(usize) -> &'a [u8], out: &mut [u8]) {
    for r in 0..PANEL_ROWS {
        out[2 * r..2 * r + 2].copy_from_slice(&block(r)[..2]);
    }
    match t {
        QType::Q8_0 => groups(&mut out[32..], 8, |r, g, b| {
            (block(r)[2 + 4 * g + b] as i8 as i16 + 128) as u8
        }),
        QType::Q4_0 => groups(&mut out[32..], 4, |r, g, b| block(r)[2 + 4 * g + b]),
        QType::Q4_1 => {
            for r in 0..PANEL_ROWS {
                out[32 + 2 * r..34 + 2 * r].copy_from_slice(&block(r)[2..4]);
            }
            groups(&mut out[64..], 4, |r, g, b| block(r)[4 + 4 * g + b]);
        }
        _ => {
            for m in 0..8 {
                let mut mask = 0u64;
                for r in 0..PANEL_ROWS {
                    let b = block(r);
                    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                    // Mask 2g covers columns 4g.., mask 2g+1 columns 16+4g..
                    let first = 4 * (m / 2) + 16 * (m % 2);
                    for c in 0..4 {
                        if qh >> (first + c) & 1 == 1 {
                            mask |= 1 << (4 * r + c);
                        }
                    }
                }
                out[32 + 8 * m..40 + 8 * m].copy_from_slice(&mask.to_le_bytes());
            }
            groups(&mut out[96..], 4, |r, g, b| block(r)[6 + 4 * g + b]);
        }
    }
}

/// The 4-bit values (0..15) of a Q4_K block, in column order.
fn q4k_values(b: &[u8]) -> [u8; 256] {
    let mut v = [0u8; 256];
    for c in 0..4 {
        for l in 0..32 {
            let q = b[16 + 32 * c + l];
            v[64 * c + l] = q & 0xF;
            v[64 * c + 32 + l] = q >> 4;
        }
    }
    v
}

/// Q4_K: `d` (16 × f16), `dmin` (16 × f16), the eight sub-block scales as
/// bytes `[j][r]`, the mins as bytes `[j / 2][r][j % 2]` (pairs, for
/// 16-bit multiply-adds against pairs of activation sums), then per
/// sub-block `j` four vectors, vector `g` holding group `g` of the
/// sub-block in its low nibbles and group `g + 4` in its high ones.
fn pack_q4k<'a>(block: impl Fn(usize) -> &'a [u8], out: &mut [u8]) {
    let vals: Vec<[u8; 256]> = (0..PANEL_ROWS).map(|r| q4k_values(block(r))).collect();
    for r in 0..PANEL_ROWS {
        let b = block(r);
        out[2 * r..2 * r + 2].copy_from_slice(&b[..2]);
        out[32 + 2 * r..34 + 2 * r].copy_from_slice(&b[2..4]);
        for j in 0..8 {
            let (sc, m) = q4k_scale_min(j, &b[4..16]);
            out[64 + 16 * j + r] = sc;
            out[192 + 32 * (j / 2) + 2 * r + j % 2] = m;
        }
    }
    for j in 0..8 {
        groups(&mut out[320 + 256 * j..], 4, |r, g, b| {
            let v = &vals[r][32 * j..];
            v[4 * g + b] | v[16 + 4 * g + b] << 4
        });
    }
}

/// The unsigned 6-bit values (0..63, the file's value + 32) of a Q6_K
/// block, in column order.
fn q6k_values(b: &[u8]) -> [u8; 256] {
    let mut v = [0u8; 256];
    for h in 0..2 {
        let (ql, qh) = (&b[64 * h..64 * h + 64], &b[128 + 32 * h..160 + 32 * h]);
        for l in 0..32 {
            let o = 128 * h + l;
            v[o] = (ql[l] & 0xF) | (qh[l] & 3) << 4;
            v[o + 32] = (ql[l + 32] & 0xF) | (qh[l] >> 2 & 3) << 4;
            v[o + 64] = (ql[l] >> 4) | (qh[l] >> 4 & 3) << 4;
            v[o + 96] = (ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4;
        }
    }
    v
}

/// Q6_K: `d` (16 × f16), the sixteen scales as bytes `[s][r]`, then per
/// 16-column sub-block three vectors: groups 0 and 2's low four bits (low
/// and high nibbles), groups 1 and 3's, and all four groups' top two bits
/// (group `g` in bits `2g..2g+2`).
fn pack_q6k<'a>(block: impl Fn(usize) -> &'a [u8], out: &mut [u8]) {
    let vals: Vec<[u8; 256]> = (0..PANEL_ROWS).map(|r| q6k_values(block(r))).collect();
    for r in 0..PANEL_ROWS {
        let b = block(r);
        out[2 * r..2 * r + 2].copy_from_slice(&b[208..210]);
        for s in 0..16 {
            out[32 + 16 * s + r] = b[192 + s];
        }
    }
    for s in 0..16 {
        let o = &mut out[288 + 192 * s..288 + 192 * (s + 1)];
        groups(o, 2, |r, g, b| {
            let v = &vals[r][16 * s..];
            (v[4 * g + b] & 0xF) | (v[4 * (g + 2) + b] & 0xF) << 4
        });
        groups(&mut o[128..], 1, |r, _, b| {
            let v = &vals[r][16 * s..];
            (0..4).fold(0u8, |h, g| h | (v[4 * g + b] >> 4) << (2 * g))
        });
    }
}
