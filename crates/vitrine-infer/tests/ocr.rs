//! Reading text on labels with the PP-OCRv4 models through candle-onnx.
//!
//! Models: the `ppocr-v4` folder of the models directory (`VITRINE_MODELS_DIR`,
//! else `$VITRINE_DATA_DIR/models`, else the platform data dir) holding the
//! three ONNX files of the `rapidocr-onnxruntime==1.4.4` wheel
//! (`vitrine models fetch ppocr-v4`). Reference outputs: onnxruntime's, in
//! `tests/fixtures/ppocr_v4_reference.json` (`scripts/ppocr_reference.py`).
//! Sample photos: `assets/samples` (`vitrine samples fetch --dir
//! assets/samples`) or `VITRINE_SAMPLES_DIR`. Missing files fail the tests
//! with the command that fetches them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use candle_core::{Device, Tensor};
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use vitrine_infer::vision::ocr::{CLS_FILE, DET_FILE, OCR_DIR, REC_FILE};
use vitrine_infer::vision::onnx_lowering::lower_for_candle;
use vitrine_infer::vision::onnx_runner::OnnxRunner;
use vitrine_infer::vision::{OcrLine, OcrModels};
use vitrine_infer::InferError;

fn ocr_dir() -> PathBuf {
    let dir = common::models_dir().join(OCR_DIR);
    for file in [DET_FILE, REC_FILE, CLS_FILE] {
        assert!(
            dir.join(file).is_file(),
            "{} is missing; run `vitrine models fetch ppocr-v4`",
            dir.join(file).display()
        );
    }
    dir
}

fn models() -> &'static OcrModels {
    static MODELS: OnceLock<OcrModels> = OnceLock::new();
    MODELS.get_or_init(|| OcrModels::load(&ocr_dir()).expect("load the OCR models"))
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

fn sample(name: &str, sha: &str) -> DynamicImage {
    let dir = std::env::var_os("VITRINE_SAMPLES_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/samples"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing; run `vitrine samples fetch --dir assets/samples` \
         (or point VITRINE_SAMPLES_DIR at the samples)",
        path.display()
    );
    assert_eq!(sha256(&path), sha, "{} is not the sample", path.display());
    image::open(&path).expect("decode the sample")
}

fn read(img: &DynamicImage, what: &str) -> Vec<OcrLine> {
    let started = Instant::now();
    let lines = models().read_text(img).expect("read text");
    eprintln!("{what}: {} lines in {:?}", lines.len(), started.elapsed());
    for l in &lines {
        eprintln!("  {:?} {:.3} {:?}", l.text, l.confidence, l.bbox);
    }
    lines
}

fn find<'a>(lines: &'a [OcrLine], text: &str) -> &'a OcrLine {
    lines
        .iter()
        .find(|l| l.text == text)
        .unwrap_or_else(|| panic!("no line reads {text:?}: {lines:?}"))
}

fn near(bbox: [u32; 4], want: [u32; 4]) -> bool {
    bbox.iter().zip(want).all(|(&a, b)| a.abs_diff(b) <= 12)
}

#[derive(Deserialize)]
struct Fixture {
    models: Vec<FixtureModel>,
}

#[derive(Deserialize)]
struct FixtureModel {
    file: String,
    sha256: String,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    sum: f64,
    samples: Vec<(usize, f64)>,
}

/// The synthetic input `scripts/ppocr_reference.py` describes: rows of
/// dashes on white, a different horizontal ramp per channel.
fn pattern(shape: &[usize]) -> Tensor {
    let (c, h, w) = (shape[1], shape[2], shape[3]);
    let mut data = Vec::with_capacity(c * h * w);
    for k in 0..c {
        for y in 0..h {
            for x in 0..w {
                let ink = (y / 16) % 4 == 1 && (x / 5) % 3 != 0 && x >= 32 && x < w - 32;
                let v = if ink { -1.0 } else { 1.0 };
                let ramp = (x as f64 / (w - 1) as f64 - 0.5) * 0.2;
                data.push((v - ramp * k as f64) as f32);
            }
        }
    }
    Tensor::from_vec(data, shape, &Device::Cpu).expect("pattern")
}

#[test]
fn lowered_models_match_onnxruntime() {
    let dir = ocr_dir();
    let fixture: Fixture = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ppocr_v4_reference.json"),
        )
        .expect("fixture"),
    )
    .expect("parse fixture");
    assert_eq!(fixture.models.len(), 3);
    for m in &fixture.models {
        let path = dir.join(&m.file);
        assert_eq!(
            sha256(&path),
            m.sha256,
            "{} is not the reference's model",
            m.file
        );
        let x = pattern(&m.input_shape);
        let mut model = candle_onnx::read_file(&path).expect("read");
        let lowered = lower_for_candle(&mut model, true).expect("lower");
        let runner = OnnxRunner::new(model).expect("prepare");
        let started = Instant::now();
        let y = runner.run(x.clone()).expect("run");
        eprintln!("{}: {lowered:?}, {:?}", m.file, started.elapsed());
        compare(m, &y, "runner");
        // The lowering alone makes the graph runnable by candle-onnx's own
        // evaluator (slower: grouped convolutions, constants converted per call).
        let mut model = candle_onnx::read_file(&path).expect("read");
        let lowered = lower_for_candle(&mut model, false).expect("lower");
        let input = model.graph.as_ref().unwrap().input[0].name.clone();
        let output = model.graph.as_ref().unwrap().output[0].name.clone();
        let started = Instant::now();
        let mut out = candle_onnx::simple_eval(&model, [(input, x)].into()).expect("simple_eval");
        eprintln!(
            "{} with simple_eval: {lowered:?}, {:?}",
            m.file,
            started.elapsed()
        );
        compare(m, &out.remove(&output).expect("output"), "simple_eval");
    }
}

fn compare(m: &FixtureModel, y: &Tensor, how: &str) {
    {
        assert_eq!(y.dims(), m.output_shape.as_slice(), "{} ({how})", m.file);
        let y = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for &(i, want) in &m.samples {
            let got = f64::from(y[i]);
            assert!(
                (got - want).abs() <= 1e-4 + 1e-3 * want.abs(),
                "{} ({how}) output {i}: {got} vs onnxruntime {want}",
                m.file
            );
        }
        let sum: f64 = y.iter().map(|&v| f64::from(v)).sum();
        assert!(
            (sum - m.sum).abs() <= 1e-3 * m.sum.abs().max(1.0),
            "{} ({how}): sum {sum} vs {}",
            m.file,
            m.sum
        );
    }
}

#[test]
fn reads_the_wine_label() {
    let img = sample(
        "wine-bottle-01.png",
        "5ac62be129b480e2431505d3986ca752ea497301191dc03f1d7c314bf2b32d9e",
    );
    let lines = read(&img, "wine-bottle-01.png");
    let red = find(&lines, "Red");
    assert!(red.confidence > 0.9, "{red:?}");
    assert!(near(red.bbox, [402, 655, 465, 691]), "{red:?}");
    // Volume and strength, the facts a listing wants.
    find(&lines, "750");
    find(&lines, "15%");
    assert!(lines
        .iter()
        .all(|l| l.confidence >= 0.5 && !l.text.is_empty()));
    // Reading order: top to bottom.
    let tops: Vec<u32> = lines.iter().map(|l| l.bbox[1]).collect();
    assert!(tops.windows(2).all(|w| w[1] + 10 >= w[0]), "{tops:?}");
}

#[test]
fn reads_vertical_text_on_the_juice_bottle() {
    let img = sample(
        "juice-bottle-01.png",
        "6ab9e65225bcdd7b29a4274f040735ffd846ae7f7029ac1d1fb8469577fedaf2",
    );
    let lines = read(&img, "juice-bottle-01.png");
    let brand = find(&lines, "Bananas");
    // Written bottom to top along the bottle: a tall box.
    let [x0, y0, x1, y1] = brand.bbox;
    assert!(y1 - y0 > 3 * (x1 - x0), "{brand:?}");
}

#[test]
fn photos_without_text_give_no_lines() {
    let mut noise = RgbImage::new(8, 8);
    for (i, p) in noise.pixels_mut().enumerate() {
        *p = image::Rgb([
            (i * 37 % 256) as u8,
            (i * 91 % 256) as u8,
            (i * 13 % 256) as u8,
        ]);
    }
    let cases = [
        ("8x8 noise", DynamicImage::ImageRgb8(noise)),
        ("1x1", DynamicImage::ImageRgb8(RgbImage::new(1, 1))),
        (
            "white 640x480",
            DynamicImage::ImageRgb8(RgbImage::from_pixel(640, 480, image::Rgb([255; 3]))),
        ),
        (
            "black grey 300x300",
            DynamicImage::ImageLuma8(GrayImage::new(300, 300)),
        ),
        (
            "transparent 64x64",
            DynamicImage::ImageRgba8(RgbaImage::new(64, 64)),
        ),
        (
            "grey+alpha 2000x1",
            DynamicImage::ImageLumaA8(GrayAlphaImage::new(2000, 1)),
        ),
    ];
    for (what, img) in cases {
        let lines = read(&img, what);
        assert!(lines.is_empty(), "{what}: {lines:?}");
    }
    let empty = DynamicImage::ImageRgb8(RgbImage::new(0, 0));
    match models().read_text(&empty) {
        Err(InferError::BadImage(msg)) => assert!(msg.contains("empty"), "{msg}"),
        other => panic!("an empty image gave {other:?}"),
    }
}

#[test]
fn missing_models_say_how_to_fetch_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = OcrModels::load(dir.path())
        .err()
        .expect("no models, no OCR");
    assert!(matches!(err, InferError::NotInstalled { .. }), "{err}");
    assert!(
        err.to_string().contains("vitrine models fetch ppocr-v4"),
        "{err}"
    );
}

#[test]
fn corrupt_model_files_are_refused() {
    let real = ocr_dir();
    let dir = tempfile::tempdir().expect("temp dir");
    for file in [DET_FILE, REC_FILE, CLS_FILE] {
        std::fs::copy(real.join(file), dir.path().join(file)).expect("copy");
    }
    let det = std::fs::read(real.join(DET_FILE)).expect("read");
    let cases: [(&str, Vec<u8>); 3] = [
        ("garbage", b"not an onnx model at all".repeat(10)),
        ("truncated", det[..det.len() / 3].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        std::fs::write(dir.path().join(DET_FILE), &bytes).expect("write");
        let err = OcrModels::load(dir.path()).err();
        assert!(
            matches!(err, Some(InferError::BadOnnxModel { .. })),
            "{what}: {err:?}"
        );
    }
}
