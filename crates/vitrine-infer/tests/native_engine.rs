//! The native CPU engine against independent implementations: candle's
//! quantizers and dequantizers for every block format, the portable scalar
//! kernels against the SIMD ones, and whole-model logits against candle's
//! transformer on the real models.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use vitrine_infer::native::quant::{dequantize_row, QActs, QType};
use vitrine_infer::native::{best_level, matmul_with, KernelLevel, QMatrix, Storage};
use vitrine_infer::{CandleTextModel, Engine, Manifest};

/// A deterministic pseudo-random matrix with a few outliers, like weights.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5;
            if i % 97 == 0 {
                u * 8.0
            } else {
                u
            }
        })
        .collect()
}

fn quantized(dtype: GgmlDType, rows: usize, cols: usize, seed: u64) -> (QMatrix, Vec<f32>) {
    let w = Tensor::from_vec(values(rows * cols, seed), (rows, cols), &Device::Cpu).unwrap();
    let q = QTensor::quantize(&w, dtype).unwrap();
    let deq: Vec<f32> = q
        .dequantize(&Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let bytes = q.data().unwrap().into_owned();
    let qtype = QType::from_ggml(dtype).unwrap();
    let m = QMatrix {
        qtype,
        rows,
        cols,
        row_bytes: qtype.row_bytes(cols).unwrap(),
        data: Storage::Owned(bytes),
    };
    (m, deq)
}

const TYPES: [GgmlDType; 8] = [
    GgmlDType::F32,
    GgmlDType::F16,
    GgmlDType::Q4_0,
    GgmlDType::Q4_1,
    GgmlDType::Q5_0,
    GgmlDType::Q8_0,
    GgmlDType::Q4K,
    GgmlDType::Q6K,
];

#[test]
fn dequantization_matches_candle_for_every_format() {
    let (rows, cols) = (8, 512);
    for dtype in TYPES {
        let (m, reference) = quantized(dtype, rows, cols, 7);
        let mut row = vec![0f32; cols];
        for r in 0..rows {
            dequantize_row(m.qtype, m.row(r), &mut row);
            for (c, (a, b)) in row.iter().zip(&reference[r * cols..]).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    "{dtype:?} row {r} col {c}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn simd_and_scalar_kernels_agree_and_approximate_float_products() {
    let (rows, cols) = (67, 1024);
    for n in [1usize, 3, 4, 9] {
        let x = values(n * cols, 99 + n as u64);
        for dtype in TYPES {
            let (m, deq) = quantized(dtype, rows, cols, 11);
            let mut acts = QActs::default();
            acts.quantize(m.qtype.act_kind(), &x, n, cols);
            let mut scalar = vec![0f32; n * rows];
            let mut simd = vec![0f32; n * rows];
            matmul_with(KernelLevel::Scalar, &m, &x, &acts, n, &mut scalar, None);
            // AVX2 without VNNI (a no-op where the CPU lacks AVX2) against
            // the best level this CPU has.
            let mut avx2 = vec![0f32; n * rows];
            matmul_with(KernelLevel::Avx2, &m, &x, &acts, n, &mut avx2, None);
            matmul_with(best_level(), &m, &x, &acts, n, &mut simd, None);
            for (i, (p, q)) in avx2.iter().zip(&simd).enumerate() {
                assert!(
                    (p - q).abs() <= 1e-4 * p.abs().max(1.0),
                    "{dtype:?} n={n} at {i}: avx2 {p} best {q}"
                );
            }
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let mut threaded = vec![0f32; n * rows];
            matmul_with(best_level(), &m, &x, &acts, n, &mut threaded, Some(&pool));
            assert_eq!(simd, threaded, "{dtype:?}: threads change results");
            for t in 0..n {
                for r in 0..rows {
                    let pairs = deq[r * cols..(r + 1) * cols]
                        .iter()
                        .zip(&x[t * cols..(t + 1) * cols]);
                    let exact: f32 = pairs.clone().map(|(a, b)| a * b).sum();
                    let magnitude: f32 = pairs.map(|(a, b)| (a * b).abs()).sum();
                    let (s, v) = (scalar[t * rows + r], simd[t * rows + r]);
                    assert!(
                        (s - v).abs() <= 1e-3 * s.abs().max(1.0),
                        "{dtype:?} n={n} t={t} r={r}: scalar {s} simd {v}"
                    );
                    // Int8 activations cost a little precision, never more:
                    // a few percent of the products' total magnitude.
                    assert!(
                        (v - exact).abs() <= 0.03 * magnitude,
                        "{dtype:?} n={n} t={t} r={r}: kernel {v} float {exact}"
                    );
                }
            }
        }
    }
}

fn installed(id: &str) -> std::path::PathBuf {
    let spec = Manifest::builtin().unwrap().get(id).unwrap().clone();
    let dir = std::env::var_os("VITRINE_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine")
                .unwrap()
                .data_dir()
                .join("models")
        });
    let path = dir.join(&spec.file);
    assert!(
        path.exists(),
        "{id} is not installed: run scripts/setup.sh --models all"
    );
    path
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap()
}

#[test]
fn native_logits_match_candle_on_the_real_models() {
    for id in ["smollm2-135m", "qwen2.5-coder-0.5b"] {
        let path = installed(id);
        let mut native =
            CandleTextModel::load_with(id, &path, &Device::Cpu, Engine::Native).unwrap();
        let mut candle =
            CandleTextModel::load_with(id, &path, &Device::Cpu, Engine::Candle).unwrap();
        assert!(native.engine().starts_with("native"), "{}", native.engine());
        let ids = native
            .tokenizer()
            .encode("A royal blue hoodie in soft cotton fleece, with a kangaroo pocket and")
            .unwrap();
        let a = native.prompt_logits(&ids).unwrap();
        let b = candle.prompt_logits(&ids).unwrap();
        assert_eq!(a.len(), b.len());
        let cos = cosine(&a, &b);
        assert!(cos > 0.99, "{id}: cosine {cos}");
        assert_eq!(argmax(&a), argmax(&b), "{id}: different next token");
        // Token by token through the cache gives the same as one batch.
        let mut stepwise = Vec::new();
        native.clear_prefix_cache();
        for (i, _) in ids.iter().enumerate() {
            stepwise = native.prompt_logits_from_cache(&ids[..=i]).unwrap();
        }
        let cos = cosine(&a, &stepwise);
        assert!(cos > 0.999, "{id}: batched vs stepwise cosine {cos}");
    }
}
