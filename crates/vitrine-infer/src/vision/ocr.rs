//! Text printed on labels and packaging (brand, size, volume), read with
//! the PP-OCRv4 models of the `rapidocr-onnxruntime` wheel: a DB text
//! detector, a 180° direction classifier and a CTC line recogniser whose
//! dictionary (6,623 Chinese and Latin characters) is stored in its ONNX
//! metadata. candle-onnx evaluates the graphs after [`lower_for_candle`]
//! rewrites the few operators it lacks; [`OnnxRunner`] hands depthwise
//! convolutions to a direct kernel.
//!
//! Pre- and post-processing follow the rapidocr 1.4.4 Python reference
//! (BGR channel order, `(x / 255 - 0.5) / 0.5`, DB thresholds 0.3 / 0.5,
//! unclip 1.6, recogniser input 48 pixels high and at least 320 wide) with
//! two simplifications: detection boxes are axis-aligned, and the detector
//! sees the photo at most [`DET_MAX_SIDE`] pixels on its long side.

mod ctc;
mod db;

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_onnx::onnx::ModelProto;
use image::{imageops, DynamicImage, RgbImage};

use self::ctc::Charset;
use self::db::TextBox;
use super::efficientnet_lite::rgb8_on_white;
use super::onnx_lowering::lower_for_candle;
use super::onnx_runner::OnnxRunner;
use crate::error::{InferError, Result};

/// The models' folder inside the models directory.
pub const OCR_DIR: &str = "ppocr-v4";
/// The model files, as the wheel names them.
pub const DET_FILE: &str = "ch_PP-OCRv4_det_infer.onnx";
pub const REC_FILE: &str = "ch_PP-OCRv4_rec_infer.onnx";
pub const CLS_FILE: &str = "ch_ppocr_mobile_v2.0_cls_infer.onnx";
/// The id `vitrine models fetch` knows the models by.
pub const OCR_MODEL_ID: &str = "ppocr-v4";

/// The detector's input is scaled so its short side reaches this (small
/// text in small images needs it, as in the reference) ...
pub const DET_MIN_SIDE: u32 = 736;
/// ... unless that makes the long side exceed this: detection time grows
/// with the area (about 1.6 s for 960 × 960 on one core).
pub const DET_MAX_SIDE: u32 = 960;
/// Lines read with less mean character probability are dropped, as the
/// reference's `text_score`.
pub const MIN_CONFIDENCE: f32 = 0.5;

const REC_HEIGHT: u32 = 48;
const REC_MIN_WIDTH: u32 = 320;
const CLS_WIDTH: u32 = 192;
/// The direction classifier must be this sure a line is upside down.
const CLS_THRESHOLD: f32 = 0.9;

/// One line of text found in a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    pub text: String,
    /// Mean probability of the line's characters, 0..1.
    pub confidence: f32,
    /// `[x0, y0, x1, y1]` in the photo's pixels, x1 and y1 exclusive.
    pub bbox: [u32; 4],
}

/// The three PP-OCR models, lowered for candle-onnx, and the recogniser's
/// character set.
pub struct OcrModels {
    det: OnnxRunner,
    cls: OnnxRunner,
    rec: OnnxRunner,
    charset: Charset,
}

impl OcrModels {
    /// Load the models from `dir` (the `ppocr-v4` folder of the models
    /// directory).
    pub fn load(dir: &Path) -> Result<Self> {
        let det = load_lowered(&dir.join(DET_FILE))?;
        let cls = load_lowered(&dir.join(CLS_FILE))?;
        let rec_path = dir.join(REC_FILE);
        let rec = load_lowered(&rec_path)?;
        let bad = |reason: String| InferError::BadOnnxModel {
            path: rec_path.clone(),
            reason,
        };
        let dictionary = rec
            .metadata_props
            .iter()
            .find(|p| p.key == "character")
            .ok_or_else(|| bad("no `character` dictionary in its metadata".into()))?;
        let charset = Charset::from_dictionary(&dictionary.value);
        let classes = output_last_dim(&rec);
        if classes.is_some_and(|c| c != charset.len()) {
            return Err(bad(format!(
                "its dictionary gives {} classes but it outputs {classes:?}",
                charset.len()
            )));
        }
        let runner = |model: ModelProto, path: &Path| {
            OnnxRunner::new(model).map_err(|e| InferError::BadOnnxModel {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        };
        Ok(Self {
            det: runner(det, &dir.join(DET_FILE))?,
            cls: runner(cls, &dir.join(CLS_FILE))?,
            rec: runner(rec, &rec_path)?,
            charset,
        })
    }

    /// The lines of text in `img`, in reading order, with confidence at
    /// least [`MIN_CONFIDENCE`]. A photo without text gives no lines.
    pub fn read_text(&self, img: &DynamicImage) -> Result<Vec<OcrLine>> {
        let (w, h) = (img.width(), img.height());
        if w == 0 || h == 0 {
            return Err(InferError::BadImage(format!(
                "the image is empty ({w}x{h})"
            )));
        }
        let rgb = rgb8_on_white(img);
        let started = Instant::now();
        let boxes = self.detect(&rgb)?;
        let detected = started.elapsed();
        let mut lines = Vec::new();
        for b in &boxes {
            let crop = imageops::crop_imm(&rgb, b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0).to_image();
            // Tall narrow boxes are vertical lines of text: read them turned
            // a quarter anticlockwise, as the reference does.
            let crop = if crop.height() * 2 >= crop.width() * 3 {
                imageops::rotate270(&crop)
            } else {
                crop
            };
            let crop = if self.upside_down(&crop)? {
                imageops::rotate180(&crop)
            } else {
                crop
            };
            let (text, confidence) = self.recognise(&crop)?;
            if confidence >= MIN_CONFIDENCE && !text.trim().is_empty() {
                lines.push(OcrLine {
                    text,
                    confidence,
                    bbox: [b.x0, b.y0, b.x1, b.y1],
                });
            }
        }
        tracing::debug!(
            boxes = boxes.len(),
            lines = lines.len(),
            detect_ms = detected.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "OCR"
        );
        Ok(lines)
    }

    /// Text boxes in `rgb`'s pixels.
    fn detect(&self, rgb: &RgbImage) -> Result<Vec<TextBox>> {
        let (w, h) = rgb.dimensions();
        let (dw, dh) = det_size(w, h);
        let resized = imageops::resize(rgb, dw, dh, imageops::FilterType::Triangle);
        let x = to_tensor(&resized, dw)?;
        let prob = self.det.run(x)?;
        let (_, _, ph, pw) = prob.dims4()?;
        let prob = prob.flatten_all()?.to_vec1::<f32>()?;
        Ok(db::boxes_from_map(&prob, pw, ph, w, h))
    }

    fn upside_down(&self, crop: &RgbImage) -> Result<bool> {
        let x = to_tensor(&resize_to_height(crop, CLS_WIDTH), CLS_WIDTH)?;
        let p = self.cls.run(x)?.flatten_all()?.to_vec1::<f32>()?;
        Ok(matches!(p[..], [p0, p180] if p180 > p0 && p180 > CLS_THRESHOLD))
    }

    fn recognise(&self, crop: &RgbImage) -> Result<(String, f32)> {
        let natural = (REC_HEIGHT * crop.width()).div_ceil(crop.height().max(1));
        let width = natural.max(REC_MIN_WIDTH);
        let x = to_tensor(&resize_to_height(crop, width), width)?;
        let probs = self.rec.run(x)?;
        let (_, _, classes) = probs.dims3()?;
        if classes != self.charset.len() {
            return Err(InferError::Backend(format!(
                "the recogniser output {classes} classes for a {}-class dictionary",
                self.charset.len()
            )));
        }
        Ok(self.charset.decode(&probs.flatten_all()?.to_vec1::<f32>()?))
    }
}

fn load_lowered(path: &Path) -> Result<ModelProto> {
    if !path.is_file() {
        tracing::warn!(path = %path.display(), "OCR model file missing");
        return Err(InferError::NotInstalled {
            id: OCR_MODEL_ID.into(),
        });
    }
    let bad = |reason: String| InferError::BadOnnxModel {
        path: PathBuf::from(path),
        reason,
    };
    let mut model = candle_onnx::read_file(path).map_err(|e| bad(e.to_string()))?;
    let lowered = lower_for_candle(&mut model, true).map_err(|e| bad(e.to_string()))?;
    tracing::debug!(path = %path.display(), ?lowered, "ONNX model lowered for candle");
    Ok(model)
}

fn output_last_dim(model: &ModelProto) -> Option<usize> {
    use candle_onnx::onnx::{tensor_shape_proto::dimension::Value, type_proto};
    let out = model.graph.as_ref()?.output.first()?;
    let Some(type_proto::Value::TensorType(tt)) = out.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    match tt.shape.as_ref()?.dim.last()?.value {
        Some(Value::DimValue(v)) if v > 0 => Some(v as usize),
        _ => None,
    }
}

/// The detector's input size: short side up to [`DET_MIN_SIDE`], long side
/// at most [`DET_MAX_SIDE`], both rounded to multiples of 32.
fn det_size(w: u32, h: u32) -> (u32, u32) {
    let (short, long) = (w.min(h).max(1) as f32, w.max(h).max(1) as f32);
    let ratio = (DET_MIN_SIDE as f32 / short)
        .max(1.0)
        .min(DET_MAX_SIDE as f32 / long);
    let round32 = |v: u32| ((v as f32 * ratio / 32.0).round() as u32).max(1) * 32;
    (round32(w), round32(h))
}

/// `crop` scaled to [`REC_HEIGHT`] keeping its aspect, no wider than
/// `max_width`.
fn resize_to_height(crop: &RgbImage, max_width: u32) -> RgbImage {
    let (w, h) = crop.dimensions();
    let width = (REC_HEIGHT * w)
        .div_ceil(h.max(1))
        .clamp(1, max_width.max(1));
    imageops::resize(crop, width, REC_HEIGHT, imageops::FilterType::Triangle)
}

/// `img` as a 1 × 3 × H × `width` tensor in BGR order scaled to [-1, 1],
/// zero-padded on the right.
fn to_tensor(img: &RgbImage, width: u32) -> Result<Tensor> {
    let (w, h) = img.dimensions();
    let (width, h) = (width.max(w) as usize, h as usize);
    let plane = h * width;
    let mut data = vec![0f32; 3 * plane];
    for (x, y, px) in img.enumerate_pixels() {
        let at = y as usize * width + x as usize;
        for (c, &v) in px.0.iter().rev().enumerate() {
            data[c * plane + at] = f32::from(v) / 127.5 - 1.0;
        }
    }
    Ok(Tensor::from_vec(data, (1, 3, h, width), &Device::Cpu)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_input_is_bounded_and_a_multiple_of_32() {
        assert_eq!(det_size(1024, 1024), (960, 960));
        assert_eq!(det_size(8, 8), (736, 736));
        assert_eq!(det_size(300, 100), (960, 320));
        assert_eq!(det_size(4000, 3000), (960, 736));
        assert_eq!(det_size(1, 5000), (32, 960));
    }

    #[test]
    fn tensors_are_bgr_and_padded() {
        let img = RgbImage::from_pixel(2, 1, image::Rgb([255, 0, 127]));
        let t = to_tensor(&img, 4).unwrap();
        assert_eq!(t.dims(), &[1, 3, 1, 4]);
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = 127.0 / 127.5 - 1.0;
        assert_eq!(
            v,
            vec![b, b, 0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
    }
}
