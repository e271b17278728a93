//! Depthwise convolution with TensorFlow "same" padding, computed directly
//! on the CPU.
//!
//! candle runs a grouped convolution as one small convolution per group
//! (im2col, a one-channel matrix product, then a concatenation), which for
//! the 32 to 1152 single-channel groups of EfficientNet-Lite's depthwise
//! layers took ~145 of the ~185 ms of a forward pass on one core, about
//! 0.25 GMAC/s. A direct loop over each channel's plane does the same 35 M
//! multiply-adds in a few milliseconds. Other devices keep candle's
//! grouped convolution.

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::error::Result;

/// Padding before the image for TensorFlow "same" (the odd pixel goes after)
/// and the output size, along one axis.
pub(crate) fn same_geometry(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, out)
}

/// Depthwise `kernel` x `kernel` convolution of `x` (N x C x H x W, f32,
/// CPU) with `weight` (C x k x k, row-major) plus `bias` (C).
pub(crate) fn depthwise_cpu(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    kernel: usize,
    stride: usize,
) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if h == 0 || w == 0 || stride == 0 {
        return Err(geometry_error(x, weight, bias));
    }
    let (pad_y, oh) = same_geometry(h, kernel, stride);
    let (pad_x, ow) = same_geometry(w, kernel, stride);
    let geometry = Geometry {
        kernel,
        stride: (stride, stride),
        pad: (pad_y, pad_x),
        out: (oh, ow),
    };
    depthwise_cpu_with(x, weight, bias, &geometry)
}

/// Where a depthwise convolution's taps fall: `pad` zero rows and columns
/// before the image (any needed after it are implied by `out`), strides
/// and output size as (rows, columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub kernel: usize,
    pub stride: (usize, usize),
    pub pad: (usize, usize),
    pub out: (usize, usize),
}

fn geometry_error(x: &Tensor, weight: &[f32], bias: &[f32]) -> crate::InferError {
    crate::InferError::Backend(format!(
        "depthwise convolution: {} taps and {} biases for input {:?}",
        weight.len(),
        bias.len(),
        x.dims()
    ))
}

/// [`depthwise_cpu`] with explicit padding, per-axis strides and output size
/// (ONNX convolutions pad symmetrically and may stride the axes differently).
pub(crate) fn depthwise_cpu_with(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    g: &Geometry,
) -> Result<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let kernel = g.kernel;
    let ((sy, sx), (pad_y, pad_x), (oh, ow)) = (g.stride, g.pad, g.out);
    if weight.len() != c * kernel * kernel
        || bias.len() != c
        || h == 0
        || w == 0
        || sy == 0
        || sx == 0
    {
        return Err(geometry_error(x, weight, bias));
    }
    let input = x.flatten_all()?.to_vec1::<f32>()?;
    let mut out = vec![0f32; n * c * oh * ow];
    if oh == 0 || ow == 0 {
        return Ok(Tensor::from_vec(out, (n, c, oh, ow), &Device::Cpu)?);
    }
    out.par_chunks_mut(oh * ow)
        .zip(input.par_chunks(h * w))
        .enumerate()
        .for_each(|(plane, (dst, src))| {
            let ch = plane % c;
            let taps = &weight[ch * kernel * kernel..(ch + 1) * kernel * kernel];
            dst.fill(bias[ch]);
            for ky in 0..kernel {
                for kx in 0..kernel {
                    let wv = taps[ky * kernel + kx];
                    // Output columns whose input column ox*sx + kx - pad_x
                    // lies inside the image.
                    let x_lo = pad_x.saturating_sub(kx).div_ceil(sx);
                    let x_hi = match (w + pad_x).checked_sub(kx + 1) {
                        Some(last) => (last / sx + 1).min(ow),
                        None => 0,
                    };
                    if x_lo >= x_hi {
                        continue;
                    }
                    for oy in 0..oh {
                        let iy = oy * sy + ky;
                        if iy < pad_y || iy - pad_y >= h {
                            continue;
                        }
                        let row = &src[(iy - pad_y) * w..(iy - pad_y + 1) * w];
                        let out_row = &mut dst[oy * ow..(oy + 1) * ow];
                        let first = x_lo * sx + kx - pad_x;
                        if sx == 1 {
                            let len = x_hi - x_lo;
                            for (o, i) in
                                out_row[x_lo..x_hi].iter_mut().zip(&row[first..first + len])
                            {
                                *o += wv * i;
                            }
                        } else {
                            for (j, o) in out_row[x_lo..x_hi].iter_mut().enumerate() {
                                *o += wv * row[first + j * sx];
                            }
                        }
                    }
                }
            }
        });
    Ok(Tensor::from_vec(out, (n, c, oh, ow), &Device::Cpu)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    /// candle's grouped convolution over an explicitly padded input is the
    /// reference.
    fn reference(x: &Tensor, w: &Tensor, b: &Tensor, k: usize, s: usize) -> Tensor {
        let (_, c, h, wd) = x.dims4().unwrap();
        let (py, oh) = same_geometry(h, k, s);
        let (px, ow) = same_geometry(wd, k, s);
        let ty = ((oh - 1) * s + k).saturating_sub(h);
        let tx = ((ow - 1) * s + k).saturating_sub(wd);
        let x = x
            .pad_with_zeros(2, py, ty - py)
            .unwrap()
            .pad_with_zeros(3, px, tx - px)
            .unwrap();
        x.conv2d(&w.reshape((c, 1, k, k)).unwrap(), 0, s, 1, c)
            .unwrap()
            .broadcast_add(&b.reshape((c, 1, 1)).unwrap())
            .unwrap()
    }

    #[test]
    fn matches_candles_grouped_convolution() {
        let dev = Device::Cpu;
        for (k, s, h, w) in [
            (3, 1, 7, 9),
            (3, 2, 8, 8),
            (5, 2, 14, 14),
            (5, 1, 7, 5),
            (3, 2, 7, 1),
            (5, 2, 3, 4),
        ] {
            let c = 4;
            let x = Tensor::randn(0f32, 1.0, (2, c, h, w), &dev).unwrap();
            let wt = Tensor::randn(0f32, 1.0, (c, k, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, c, &dev).unwrap();
            let got = depthwise_cpu(
                &x,
                &wt.flatten_all().unwrap().to_vec1().unwrap(),
                &b.to_vec1().unwrap(),
                k,
                s,
            )
            .unwrap();
            let want = reference(&x, &wt, &b, k, s);
            assert_eq!(got.dims(), want.dims(), "k{k} s{s} {h}x{w}");
            let diff = (got - want)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < 1e-4, "k{k} s{s} {h}x{w}: {diff}");
        }
    }

    /// Symmetric ONNX padding with different strides per axis: candle's
    /// stride-1 grouped convolution, sampled every sy rows and sx columns.
    #[test]
    fn explicit_geometry_matches_subsampled_convolution() {
        let dev = Device::Cpu;
        for (k, sy, sx, h, w) in [
            (3, 2, 1, 8, 9),
            (5, 2, 1, 7, 12),
            (3, 1, 2, 6, 7),
            (3, 2, 2, 9, 9),
        ] {
            let (c, p) = (3, k / 2);
            let x = Tensor::randn(0f32, 1.0, (1, c, h, w), &dev).unwrap();
            let wt = Tensor::randn(0f32, 1.0, (c, k, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 1.0, c, &dev).unwrap();
            let dense = x
                .conv2d(&wt.reshape((c, 1, k, k)).unwrap(), p, 1, 1, c)
                .unwrap()
                .broadcast_add(&b.reshape((c, 1, 1)).unwrap())
                .unwrap();
            let (oh, ow) = ((h + 2 * p - k) / sy + 1, (w + 2 * p - k) / sx + 1);
            let rows = Tensor::arange_step(0u32, (oh * sy) as u32, sy as u32, &dev).unwrap();
            let cols = Tensor::arange_step(0u32, (ow * sx) as u32, sx as u32, &dev).unwrap();
            let want = dense
                .index_select(&rows, 2)
                .unwrap()
                .index_select(&cols, 3)
                .unwrap();
            let g = Geometry {
                kernel: k,
                stride: (sy, sx),
                pad: (p, p),
                out: (oh, ow),
            };
            let got = depthwise_cpu_with(
                &x,
                &wt.flatten_all().unwrap().to_vec1().unwrap(),
                &b.to_vec1().unwrap(),
                &g,
            )
            .unwrap();
            let diff = (got - want)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap();
            let diff = diff.to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "k{k} s{sy}x{sx} {h}x{w}: {diff}");
        }
    }
}
