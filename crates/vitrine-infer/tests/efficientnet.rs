//! The built-in image classifier: the legacy PyTorch checkpoint reader on the
//! real EfficientNet-Lite0 weights and on malformed files, and the candle
//! module's logits against the independent numpy reference
//! (`scripts/efficientnet_reference.py`, fixture
//! `tests/fixtures/efficientnet_lite0_reference.json`).
//!
//! Weights: `efficientnet-lite0-57934424.pth` (and, once `vitrine models
//! fetch efficientnet-lite0` has converted it, `efficientnet-lite0.safetensors`)
//! in the models directory (`VITRINE_MODELS_DIR`, else
//! `$VITRINE_DATA_DIR/models`, else the platform data dir). Sample photos:
//! `assets/samples` (`vitrine samples fetch --dir assets/samples`) or
//! `VITRINE_SAMPLES_DIR`. Missing files fail the tests with the command that
//! fetches them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use vitrine_infer::vision::{
    convert_pth_to_safetensors, preprocess, read_legacy_pth, EfficientNetLite0,
};
use vitrine_infer::InferError;

const PTH: &str = "efficientnet-lite0-57934424.pth";
const SAFETENSORS: &str = "efficientnet-lite0.safetensors";
const PTH_SHA256: &str = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db";
const ESPRESSO: usize = 967;
const SWEATSHIRT: usize = 841;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pth() -> PathBuf {
    let path = common::models_dir().join(PTH);
    assert!(
        path.is_file(),
        "{} is missing; run `vitrine models fetch efficientnet-lite0`",
        path.display()
    );
    path
}

/// The converted weights: the installed file when `vitrine models fetch`
/// made one, else a conversion of the installed checkpoint for this run.
fn safetensors() -> &'static Path {
    static PATH: OnceLock<(PathBuf, Option<tempfile::TempDir>)> = OnceLock::new();
    let (path, _keep) = PATH.get_or_init(|| {
        let installed = common::models_dir().join(SAFETENSORS);
        if installed.is_file() {
            return (installed, None);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SAFETENSORS);
        convert_pth_to_safetensors(&pth(), &path).expect("convert the installed checkpoint");
        (path, Some(dir))
    });
    path
}

fn model() -> &'static EfficientNetLite0 {
    static MODEL: OnceLock<EfficientNetLite0> = OnceLock::new();
    MODEL.get_or_init(|| EfficientNetLite0::load(safetensors(), &Device::Cpu).expect("load"))
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

#[derive(Deserialize)]
struct Fixture {
    weights_sha256: String,
    images: Vec<FixtureImage>,
}

#[derive(Deserialize)]
struct FixtureImage {
    image: String,
    origin: String,
    sha256: String,
    top5: Vec<usize>,
    logits: Vec<f32>,
}

fn fixture() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/efficientnet_lite0_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture json")
}

/// Where a fixture image is: committed fixtures under the workspace, sample
/// photos in the samples directory.
fn image_path(img: &FixtureImage) -> PathBuf {
    let path = if img.origin == "sample" {
        let name = Path::new(&img.image).file_name().expect("file name");
        let dir = std::env::var_os("VITRINE_SAMPLES_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("assets/samples"));
        dir.join(name)
    } else {
        workspace().join(&img.image)
    };
    assert!(
        path.is_file(),
        "{} is missing; run `vitrine samples fetch --dir assets/samples` \
         (or point VITRINE_SAMPLES_DIR at the samples)",
        path.display()
    );
    assert_eq!(
        sha256(&path),
        img.sha256,
        "{} is not the fixture's image",
        path.display()
    );
    path
}

fn logits_of(path: &Path) -> Vec<f32> {
    let img = image::open(path).expect("decode");
    let x = preprocess(&img).expect("preprocess");
    let y = model().forward(&x).expect("forward");
    y.squeeze(0).unwrap().to_vec1().unwrap()
}

fn top_k(logits: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..logits.len()).collect();
    idx.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    idx.truncate(k);
    idx
}

fn softmax_at(logits: &[f32], i: usize) -> f32 {
    let max = logits.iter().cloned().fold(f32::MIN, f32::max);
    let sum: f32 = logits.iter().map(|v| (v - max).exp()).sum();
    (logits[i] - max).exp() / sum
}

// --- The reader on the real checkpoint -------------------------------------------

#[test]
fn reads_the_real_checkpoint() {
    let path = pth();
    assert_eq!(
        sha256(&path),
        PTH_SHA256,
        "{} is not the released file",
        path.display()
    );
    let tensors = read_legacy_pth(&path).expect("read");
    // 99 weights, 50 biases, 49 batch norms' mean, var and batch count.
    assert_eq!(tensors.len(), 296);
    let get = |name: &str| {
        tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("no tensor {name}"))
    };
    let stem = get("_conv_stem.weight");
    assert_eq!(stem.dims(), &[32, 3, 3, 3]);
    assert_eq!(stem.dtype(), DType::F32);
    // Values printed by the numpy reader in scripts/efficientnet_reference.py.
    let row: Vec<f32> = stem
        .get(0)
        .unwrap()
        .get(0)
        .unwrap()
        .get(0)
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(row, vec![-1.110_336_1, -1.308_770_4, -0.010_156_915]);
    let project = get("_blocks.15._project_conv.weight");
    assert_eq!(project.dims(), &[320, 1152, 1, 1]);
    let sum = project.sum_all().unwrap().to_scalar::<f32>().unwrap();
    assert!((sum - 39.966_1).abs() < 1e-2, "sum {sum}");
    assert_eq!(get("_fc.weight").dims(), &[1000, 1280]);
    let bias_sum = get("_fc.bias")
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!((bias_sum - -0.049_817).abs() < 1e-4, "sum {bias_sum}");
    let tracked = get("_bn0.num_batches_tracked");
    assert_eq!((tracked.dtype(), tracked.dims()), (DType::I64, &[][..]));
    let params: usize = tensors.iter().map(|(_, t)| t.elem_count()).sum();
    assert_eq!(params, 4_694_073);
    assert!(!tensors.iter().any(|(n, _)| n.contains("_metadata")));
}

#[test]
fn converts_to_safetensors_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("lite0.safetensors");
    let count = convert_pth_to_safetensors(&pth(), &dst).expect("convert");
    assert_eq!(count, 296);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("lite0.safetensors")]
    );

    let back = candle_core::safetensors::load(&dst, &Device::Cpu).expect("load safetensors");
    let original = read_legacy_pth(&pth()).unwrap();
    assert_eq!(back.len(), original.len());
    for (name, t) in &original {
        let b = &back[name];
        assert_eq!((b.dtype(), b.dims()), (t.dtype(), t.dims()), "{name}");
        let values = |t: &Tensor| -> Vec<f64> {
            t.to_dtype(DType::F64)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        assert_eq!(values(b), values(t), "{name}");
    }
}

// --- The network against the numpy reference ------------------------------------

#[test]
fn logits_match_the_numpy_reference() {
    let fixture = fixture();
    assert_eq!(fixture.weights_sha256, PTH_SHA256);
    assert!(fixture.images.len() >= 4);
    for img in &fixture.images {
        let got = logits_of(&image_path(img));
        assert_eq!(got.len(), 1000);
        let max_diff = got
            .iter()
            .zip(&img.logits)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("{}: max |logit - reference| = {max_diff:.5}", img.image);
        assert!(
            max_diff < 1e-2,
            "{}: logits differ by {max_diff}",
            img.image
        );
        assert_eq!(top_k(&got, 5), img.top5, "{}: top-5", img.image);
    }
}

#[test]
fn the_coffee_photo_is_an_espresso() {
    let path = workspace().join("crates/vitrine-infer/tests/fixtures/coffee.png");
    let logits = logits_of(&path);
    assert_eq!(top_k(&logits, 1), vec![ESPRESSO]);
    let p = softmax_at(&logits, ESPRESSO);
    assert!(p > 0.9, "p(espresso) = {p}");
}

#[test]
fn a_batch_gives_each_image_its_own_logits() {
    let fixture = fixture();
    let paths: Vec<PathBuf> = fixture.images.iter().take(2).map(image_path).collect();
    let inputs: Vec<Tensor> = paths
        .iter()
        .map(|p| preprocess(&image::open(p).unwrap()).unwrap())
        .collect();
    let batch = model().forward(&Tensor::cat(&inputs, 0).unwrap()).unwrap();
    assert_eq!(batch.dims(), &[2, 1000]);
    for (i, p) in paths.iter().enumerate() {
        let one: Vec<f32> = batch.get(i).unwrap().to_vec1().unwrap();
        let alone = logits_of(p);
        let diff = one
            .iter()
            .zip(&alone)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-3, "image {i}: batch and single differ by {diff}");
    }
}

/// One 1024x1024 product photo, decoded image to logits, timed. Run alone
/// with `RAYON_NUM_THREADS=1 ... -- --nocapture one_photo` for the one-core
/// figure in docs/PERFORMANCE.md.
#[test]
fn one_photo_end_to_end() {
    let fixture = fixture();
    let hoodie = fixture
        .images
        .iter()
        .find(|i| i.image.ends_with("hoodie-01.png"))
        .expect("hoodie in fixture");
    let path = image_path(hoodie);
    let t0 = Instant::now();
    let img = image::open(&path).unwrap();
    let decode = t0.elapsed().as_secs_f64() * 1e3;
    assert_eq!((img.width(), img.height()), (1024, 1024));
    let model = model();
    model.forward(&preprocess(&img).unwrap()).unwrap(); // warm up
    let mut pre = f64::MAX;
    let mut fwd = f64::MAX;
    let mut logits = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let x = preprocess(&img).unwrap();
        let t1 = Instant::now();
        logits = model
            .forward(&x)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec1()
            .unwrap();
        let t2 = Instant::now();
        pre = pre.min((t1 - t0).as_secs_f64() * 1e3);
        fwd = fwd.min((t2 - t1).as_secs_f64() * 1e3);
    }
    eprintln!(
        "1024x1024 photo: decode {decode:.1} ms, preprocess {pre:.1} ms, forward {fwd:.1} ms \
         (best of 3)"
    );
    assert_eq!(top_k(&logits, 1), vec![SWEATSHIRT]);
}

#[test]
fn unusual_pixel_formats_classify_like_their_rgb8_original() {
    let coffee =
        image::open(workspace().join("crates/vitrine-infer/tests/fixtures/coffee.png")).unwrap();
    let reference = logits_of(&workspace().join("crates/vitrine-infer/tests/fixtures/coffee.png"));
    let variants = [
        ("rgb16", image::DynamicImage::ImageRgb16(coffee.to_rgb16())),
        (
            "opaque rgba",
            image::DynamicImage::ImageRgba8(coffee.to_rgba8()),
        ),
        (
            "rgba32f",
            image::DynamicImage::ImageRgba32F(coffee.to_rgba32f()),
        ),
    ];
    for (what, img) in variants {
        let x = preprocess(&img).unwrap();
        let got: Vec<f32> = model()
            .forward(&x)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec1()
            .unwrap();
        let diff = got
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-3, "{what}: differs by {diff}");
    }
    // Grayscale loses colour but must still run and say something coffee-ish.
    let gray = image::DynamicImage::ImageLuma16(coffee.to_luma16());
    let got: Vec<f32> = model()
        .forward(&preprocess(&gray).unwrap())
        .unwrap()
        .squeeze(0)
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(
        top_k(&got, 5).contains(&ESPRESSO),
        "grayscale top-5 {:?}",
        top_k(&got, 5)
    );
}

#[test]
fn wrong_weights_and_inputs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = EfficientNetLite0::load(&dir.path().join("none.safetensors"), &Device::Cpu);
    assert!(matches!(missing, Err(InferError::Io { .. })));
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not safetensors at all").unwrap();
    assert!(matches!(
        EfficientNetLite0::load(&junk, &Device::Cpu),
        Err(InferError::BadModelFile { .. })
    ));
    // A valid safetensors file that is not this network.
    let other = dir.path().join("other.safetensors");
    let mut map = std::collections::HashMap::new();
    map.insert(
        "_conv_stem.weight".to_string(),
        Tensor::zeros((8, 3, 3, 3), DType::F32, &Device::Cpu).unwrap(),
    );
    candle_core::safetensors::save(&map, &other).unwrap();
    assert!(matches!(
        EfficientNetLite0::load(&other, &Device::Cpu),
        Err(InferError::BadModelFile { .. })
    ));
    let two_channels = Tensor::zeros((1, 2, 224, 224), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        model().forward(&two_channels),
        Err(InferError::BadImage(_))
    ));
}

// --- Malformed checkpoints ---------------------------------------------------------

const MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.',
];

fn unicode(s: &str) -> Vec<u8> {
    let mut v = vec![b'X'];
    v.extend((s.len() as u32).to_le_bytes());
    v.extend(s.as_bytes());
    v
}

fn long(n: u64) -> Vec<u8> {
    let mut v = vec![0x8a, 8];
    v.extend(n.to_le_bytes());
    v
}

fn small_tuple(items: &[u8]) -> Vec<u8> {
    let mut v = vec![b'('];
    for &i in items {
        v.extend([b'K', i]);
    }
    v.push(b't');
    v
}

/// A legacy checkpoint with one f32 tensor `w` of `size`/`stride` at
/// `offset` in a storage of `declared` elements, whose data section says
/// `header` elements and holds `data`; what torch 1.x `torch.save` writes,
/// assembled by hand.
fn legacy_checkpoint(
    size: &[u8],
    stride: &[u8],
    offset: u8,
    declared: u64,
    header: u64,
    data: &[f32],
) -> Vec<u8> {
    let mut f = MAGIC.to_vec();
    f.extend([0x80, 0x02, b'M', 0xe9, 0x03, b'.']); // protocol 1001
    f.extend([0x80, 0x02, b'}', b'(']);
    f.extend(unicode("little_endian"));
    f.extend([0x88, b'u', b'.']);
    // The state dict.
    f.extend([0x80, 0x02]);
    f.extend(b"ccollections\nOrderedDict\n)R(");
    f.extend(unicode("w"));
    f.extend(b"ctorch._utils\n_rebuild_tensor_v2\n((");
    f.extend(unicode("storage"));
    f.extend(b"ctorch\nFloatStorage\n");
    f.extend(unicode("0"));
    f.extend(unicode("cpu"));
    f.extend(long(declared));
    f.extend(b"NtQK");
    f.push(offset);
    f.extend(small_tuple(size));
    f.extend(small_tuple(stride));
    f.extend(b"\x89ccollections\nOrderedDict\n)RtRu.");
    // Storage keys, then the storage.
    f.extend([0x80, 0x02, b']', b'(']);
    f.extend(unicode("0"));
    f.extend(b"e.");
    f.extend(header.to_le_bytes());
    for v in data {
        f.extend(v.to_le_bytes());
    }
    f
}

fn read_bytes(bytes: &[u8]) -> vitrine_infer::Result<Vec<(String, Tensor)>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.pth");
    std::fs::write(&path, bytes).unwrap();
    read_legacy_pth(&path)
}

fn bad_checkpoint_reason(bytes: &[u8]) -> String {
    match read_bytes(bytes) {
        Err(InferError::BadCheckpoint { reason, .. }) => reason,
        Err(other) => panic!("expected BadCheckpoint, got {other}"),
        Ok(t) => panic!("expected an error, read {} tensors", t.len()),
    }
}

const SIX: [f32; 6] = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];

#[test]
fn a_hand_made_checkpoint_reads_back() {
    // A transposed (strided) 2x3 view of six floats.
    let ok = read_bytes(&legacy_checkpoint(&[2, 3], &[1, 2], 0, 6, 6, &SIX)).expect("valid");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].0, "w");
    let m: Vec<Vec<f32>> = ok[0].1.to_vec2().unwrap();
    assert_eq!(m, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
}

#[test]
fn malformed_checkpoints_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Empty file, and a missing one.
    assert!(bad_checkpoint_reason(b"").contains("magic"));
    assert!(matches!(
        read_legacy_pth(&dir.path().join("absent.pth")),
        Err(InferError::Io { .. })
    ));
    // Garbage after the magic number.
    let mut garbage = MAGIC.to_vec();
    garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    bad_checkpoint_reason(&garbage);
    // A zip checkpoint is named as such.
    assert!(bad_checkpoint_reason(b"PK\x03\x04rest").contains("zip"));
    // A storage that claims a terabyte (in its pickle and its header alike).
    let huge = legacy_checkpoint(&[2, 3], &[3, 1], 0, 1 << 40, 1 << 40, &SIX);
    assert!(bad_checkpoint_reason(&huge).contains("bytes left"));
    let huge = legacy_checkpoint(&[2, 3], &[3, 1], 0, u64::MAX, u64::MAX, &SIX);
    bad_checkpoint_reason(&huge);
    // The pickle and the data section disagree on the size.
    bad_checkpoint_reason(&legacy_checkpoint(&[2, 3], &[3, 1], 0, 6, 7, &SIX));
    // The tensor reaches past its storage, by offset or by stride.
    assert!(
        bad_checkpoint_reason(&legacy_checkpoint(&[2, 3], &[3, 1], 1, 6, 6, &SIX))
            .contains("reaches")
    );
    bad_checkpoint_reason(&legacy_checkpoint(&[2, 3], &[200, 1], 0, 6, 6, &SIX));
    // A stride-0 tensor that would expand six floats to 255 x 255.
    bad_checkpoint_reason(&legacy_checkpoint(&[255, 255], &[0, 0], 0, 6, 6, &SIX));
    // Trailing bytes after the last storage.
    let mut trailing = legacy_checkpoint(&[2, 3], &[3, 1], 0, 6, 6, &SIX);
    trailing.extend(b"junk");
    assert!(bad_checkpoint_reason(&trailing).contains("unexpected bytes"));
}

#[test]
fn every_truncation_of_a_checkpoint_is_an_error() {
    let good = legacy_checkpoint(&[2, 3], &[1, 2], 0, 6, 6, &SIX);
    for len in 0..good.len() {
        bad_checkpoint_reason(&good[..len]);
    }
    // And the real file, cut inside each section.
    let real = std::fs::read(pth()).unwrap();
    for len in [10, 100, 20_000, 47_180, 1_000_000, real.len() - 1] {
        bad_checkpoint_reason(&real[..len]);
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let good = legacy_checkpoint(&[2, 3], &[1, 2], 0, 6, 6, &SIX);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        // Either it still reads (a flipped float) or it is a clean error.
        match read_bytes(&bytes) {
            Ok(_) | Err(InferError::BadCheckpoint { .. }) => {}
            Err(other) => panic!("unexpected error kind: {other}"),
        }
    }
}
