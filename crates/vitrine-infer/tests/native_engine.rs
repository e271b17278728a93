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
    let m = QMatrix::new(qtype, rows, cols, Storage::Owned(bytes)).unwrap();
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

/// The panel-packed AVX-512 kernels against the scalar reference on the
/// row-major data, for every packed format, token counts that exercise
/// every tile width (8, 4, 2, 1) and two threads.
#[test]
fn packed_kernels_agree_with_scalar() {
    if best_level() != KernelLevel::Avx512Vnni {
        eprintln!("skipped: this CPU has no AVX-512 VNNI");
        return;
    }
    let (rows, cols) = (48, 768);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for dtype in TYPES {
        let (mut m, _) = quantized(dtype, rows, cols, 5);
        let packs = m.pack(KernelLevel::Avx512Vnni, None);
        assert_eq!(
            packs,
            !matches!(dtype, GgmlDType::F32 | GgmlDType::F16),
            "{dtype:?}"
        );
        for n in [1usize, 2, 3, 7, 8, 15, 21] {
            let x = values(n * cols, 300 + n as u64);
            let mut acts = QActs::default();
            acts.quantize(m.qtype.act_kind(), &x, n, cols);
            let mut scalar = vec![0f32; n * rows];
            let mut packed = vec![0f32; n * rows];
            let mut threaded = vec![0f32; n * rows];
            matmul_with(KernelLevel::Scalar, &m, &x, &acts, n, &mut scalar, None);
            matmul_with(KernelLevel::Avx512Vnni, &m, &x, &acts, n, &mut packed, None);
            matmul_with(
                KernelLevel::Avx512Vnni,
                &m,
                &x,
                &acts,
                n,
                &mut threaded,
                Some(&pool),
            );
            assert_eq!(packed, threaded, "{dtype:?} n={n}: threads change results");
            for (i, (s, p)) in scalar.iter().zip(&packed).enumerate() {
                assert!(
                    (s - p).abs() <= 1e-3 * s.abs().max(1.0),
                    "{dtype:?} n={n} token {} row {}: scalar {s} packed {p}",
                    i / rows,
                    i % rows
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

mod tiny {
    //! Tiny models of each architecture, written in the real GGUF format
    //! with random weights, run by our engine and by candle's modules.

    use super::*;
    use candle_core::quantized::gguf_file::{self, Value};
    use candle_transformers::models::{
        quantized_llama, quantized_phi3, quantized_qwen2, quantized_qwen3,
    };
    use vitrine_infer::native::NativeModel;
    use vitrine_infer::CancelToken;

    const DIM: usize = 64;
    const HEADS: usize = 4;
    const KV: usize = 2;
    const HD: usize = 16;
    const FFN: usize = 128;
    const VOCAB: usize = 96;
    const LAYERS: usize = 2;

    fn tensor(shape: &[usize], seed: u64, q: bool) -> QTensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = values(n, seed).iter().map(|x| x * 0.5).collect();
        let t = Tensor::from_vec(v, shape, &Device::Cpu).unwrap();
        QTensor::quantize(&t, if q { GgmlDType::Q8_0 } else { GgmlDType::F32 }).unwrap()
    }

    fn norm(seed: u64) -> QTensor {
        let v: Vec<f32> = values(DIM, seed).iter().map(|x| 1.0 + x * 0.2).collect();
        QTensor::quantize(
            &Tensor::from_vec(v, DIM, &Device::Cpu).unwrap(),
            GgmlDType::F32,
        )
        .unwrap()
    }

    pub fn write(arch: &str, path: &std::path::Path) {
        let u = |v: usize| Value::U32(v as u32);
        let meta: Vec<(String, Value)> = vec![
            ("general.architecture".into(), Value::String(arch.into())),
            ("general.dtype".into(), Value::U32(0)),
            (format!("{arch}.block_count"), u(LAYERS)),
            (format!("{arch}.embedding_length"), u(DIM)),
            (format!("{arch}.feed_forward_length"), u(FFN)),
            (format!("{arch}.attention.head_count"), u(HEADS)),
            (format!("{arch}.attention.head_count_kv"), u(KV)),
            (format!("{arch}.attention.key_length"), u(HD)),
            (format!("{arch}.attention.value_length"), u(HD)),
            (format!("{arch}.rope.dimension_count"), u(HD)),
            (format!("{arch}.rope.freq_base"), Value::F32(10_000.0)),
            (
                format!("{arch}.attention.layer_norm_rms_epsilon"),
                Value::F32(1e-5),
            ),
            (format!("{arch}.context_length"), u(256)),
        ];
        let mut tensors: Vec<(String, QTensor)> = vec![
            ("token_embd.weight".into(), tensor(&[VOCAB, DIM], 1, true)),
            ("output_norm.weight".into(), norm(2)),
            ("output.weight".into(), tensor(&[VOCAB, DIM], 3, true)),
        ];
        for l in 0..LAYERS {
            let s = 100 * (l as u64 + 1);
            let n = |x: &str| format!("blk.{l}.{x}");
            tensors.push((n("attn_norm.weight"), norm(s)));
            tensors.push((n("ffn_norm.weight"), norm(s + 1)));
            if arch == "phi3" {
                tensors.push((
                    n("attn_qkv.weight"),
                    tensor(&[HEADS * HD + 2 * KV * HD, DIM], s + 2, true),
                ));
                tensors.push((n("ffn_up.weight"), tensor(&[2 * FFN, DIM], s + 3, true)));
            } else {
                tensors.push((n("attn_q.weight"), tensor(&[HEADS * HD, DIM], s + 2, true)));
                tensors.push((n("attn_k.weight"), tensor(&[KV * HD, DIM], s + 4, true)));
                tensors.push((n("attn_v.weight"), tensor(&[KV * HD, DIM], s + 5, true)));
                tensors.push((n("ffn_gate.weight"), tensor(&[FFN, DIM], s + 6, true)));
                tensors.push((n("ffn_up.weight"), tensor(&[FFN, DIM], s + 3, true)));
            }
            if arch == "qwen2" {
                tensors.push((n("attn_q.bias"), tensor(&[HEADS * HD], s + 7, false)));
                tensors.push((n("attn_k.bias"), tensor(&[KV * HD], s + 8, false)));
                tensors.push((n("attn_v.bias"), tensor(&[KV * HD], s + 9, false)));
            }
            if arch == "qwen3" {
                let hn = |seed| {
                    let v: Vec<f32> = values(HD, seed).iter().map(|x| 1.0 + x * 0.2).collect();
                    QTensor::quantize(
                        &Tensor::from_vec(v, HD, &Device::Cpu).unwrap(),
                        GgmlDType::F32,
                    )
                    .unwrap()
                };
                tensors.push((n("attn_q_norm.weight"), hn(s + 10)));
                tensors.push((n("attn_k_norm.weight"), hn(s + 11)));
            }
            tensors.push((
                n("attn_output.weight"),
                tensor(&[DIM, HEADS * HD], s + 12, true),
            ));
            tensors.push((n("ffn_down.weight"), tensor(&[DIM, FFN], s + 13, true)));
        }
        let meta_refs: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let tensor_refs: Vec<(&str, &QTensor)> =
            tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut f = std::fs::File::create(path).unwrap();
        gguf_file::write(&mut f, &meta_refs, &tensor_refs).unwrap();
    }

    fn candle_logits(arch: &str, path: &std::path::Path, ids: &[u32]) -> Vec<f32> {
        let mut f = std::fs::File::open(path).unwrap();
        let ct = gguf_file::Content::read(&mut f).unwrap();
        let input = Tensor::new(ids, &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let out = match arch {
            "llama" => quantized_llama::ModelWeights::from_gguf(ct, &mut f, &Device::Cpu)
                .unwrap()
                .forward(&input, 0),
            "qwen2" => quantized_qwen2::ModelWeights::from_gguf(ct, &mut f, &Device::Cpu)
                .unwrap()
                .forward(&input, 0),
            "qwen3" => quantized_qwen3::ModelWeights::from_gguf(ct, &mut f, &Device::Cpu)
                .unwrap()
                .forward(&input, 0),
            _ => quantized_phi3::ModelWeights::from_gguf(false, ct, &mut f, &Device::Cpu)
                .unwrap()
                .forward(&input, 0),
        };
        out.unwrap().flatten_all().unwrap().to_vec1().unwrap()
    }

    #[test]
    fn every_native_architecture_matches_candle_on_a_tiny_model() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<u32> = (0..23).map(|i| (i * 7 + 3) % VOCAB as u32).collect();
        for arch in ["llama", "qwen2", "qwen3", "phi3"] {
            let path = dir.path().join(format!("{arch}.gguf"));
            write(arch, &path);
            let mut f = std::fs::File::open(&path).unwrap();
            let ct = gguf_file::Content::read(&mut f).unwrap();
            let mut m = NativeModel::load(&path, &ct, 1).unwrap();
            let ours = m.forward(&ids, &CancelToken::new()).unwrap();
            let theirs = candle_logits(arch, &path, &ids);
            let cos = cosine(&ours, &theirs);
            assert!(cos > 0.999, "{arch}: cosine {cos}");
            assert_eq!(argmax(&ours), argmax(&theirs), "{arch}");
        }
    }

    #[test]
    fn tensors_that_disagree_with_the_header_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        write("qwen3", &path);
        let mut f = std::fs::File::open(&path).unwrap();
        let mut ct = gguf_file::Content::read(&mut f).unwrap();
        // The header now claims wider layers than the tensors hold.
        ct.metadata
            .insert("qwen3.embedding_length".into(), Value::U32(128));
        let err = NativeModel::load(&path, &ct, 1).err().expect("must fail");
        assert!(err.to_string().contains("token_embd.weight"), "{err}");
        ct.metadata
            .insert("qwen3.embedding_length".into(), Value::U32(64));
        ct.metadata
            .insert("general.architecture".into(), Value::String("mamba".into()));
        let err = NativeModel::load(&path, &ct, 1).err().expect("must fail");
        assert!(
            matches!(err, vitrine_infer::InferError::UnsupportedArchitecture(_)),
            "{err}"
        );
        // A tensor whose data would run past the end of the file.
        ct.metadata
            .insert("general.architecture".into(), Value::String("qwen3".into()));
        ct.tensor_infos.get_mut("output.weight").unwrap().offset = u64::MAX / 2;
        let err = NativeModel::load(&path, &ct, 1).err().expect("must fail");
        assert!(err.to_string().contains("output.weight"), "{err}");
    }

    #[test]
    fn a_cancelled_forward_leaves_the_cache_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        write("llama", &path);
        let mut f = std::fs::File::open(&path).unwrap();
        let ct = gguf_file::Content::read(&mut f).unwrap();
        let mut m = NativeModel::load(&path, &ct, 1).unwrap();
        m.forward(&[1, 2, 3], &CancelToken::new()).unwrap();
        let cancel = CancelToken::new();
        cancel.cancel();
        let err = m.forward(&[4, 5], &cancel).expect_err("cancelled");
        assert!(matches!(err, vitrine_infer::InferError::Cancelled), "{err}");
        assert_eq!(m.cached_tokens(), &[1, 2, 3]);
        let again = m.forward(&[4, 5], &CancelToken::new()).unwrap();
        m.clear_cache();
        let fresh = m.forward(&[1, 2, 3, 4, 5], &CancelToken::new()).unwrap();
        assert!(cosine(&again, &fresh) > 0.9999);
    }
}
