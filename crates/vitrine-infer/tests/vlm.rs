//! The vision-language path end to end on a tiny randomly initialised
//! Qwen3-VL in the real on-disk format (written by `vlm_fixture`): loading,
//! image preprocessing, prompt building, the vision tower, the decoder with
//! multimodal RoPE and a KV cache, stop tokens, cancellation, JSON-schema
//! constrained answers, and refusal of broken model directories and odd
//! images. The weights are random, so what the model says is arbitrary; what
//! must hold is the shape of every answer and that nothing panics.
//!
//! The decoder and the vision tower are also checked against an independent
//! implementation of the same architecture, candle-transformers'
//! `qwen3_vl`, on the same files (where that one is exact: see the tests).

mod vlm_fixture;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::{json, Value};
use vitrine_infer::vision::vlm::qwen3_vl::Qwen3VlModel;
use vitrine_infer::vision::vlm::{resolve_vlm_source, VisionModel, VlmOptions, VlmSource};
use vitrine_infer::{CancelToken, GenerationParams, InferError, StopReason};

use vlm_fixture::{write_json, write_tiny_qwen3_vl, Fixture};

const SEED: u64 = 20_250_917;

/// The fixture, written once per test binary (the TempDir lives as long
/// as the process).
fn fixture() -> (&'static PathBuf, &'static Fixture) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf, Fixture)> = OnceLock::new();
    let (_, path, fx) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tiny-qwen3-vl");
        let fx = write_tiny_qwen3_vl(&path, SEED);
        (dir, path, fx)
    });
    (path, fx)
}

/// A copy of the fixture to break.
fn copy_fixture() -> (tempfile::TempDir, PathBuf) {
    let (src, _) = fixture();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dst = tmp.path().join("model");
    std::fs::create_dir_all(&dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("list fixture") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, dst.join(p.file_name().expect("name"))).expect("copy");
    }
    (tmp, dst)
}

fn load(dir: &Path) -> Qwen3VlModel {
    Qwen3VlModel::load(dir, &Device::Cpu).expect("tiny fixture loads")
}

/// A real photo committed with the tests (see `coffee.LICENSE.md`).
fn photo() -> DynamicImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coffee.png");
    image::open(&path).expect("tests/fixtures/coffee.png decodes")
}

const CATEGORIES: [&str; 4] = ["hoodie", "t-shirt", "mug", "sneakers"];
const COLOURS: [&str; 5] = ["red", "blue", "black", "white", "brown"];
const MATERIALS: [&str; 4] = ["cotton", "wool", "ceramic", "leather"];

fn attributes_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "category": {"enum": CATEGORIES},
            "colour": {"enum": COLOURS},
            "material": {"enum": MATERIALS},
        },
        "required": ["category", "colour", "material"],
        "additionalProperties": false,
        "x-guidance": {"whitespace_flexible": false},
    })
}

fn greedy(max_tokens: usize) -> GenerationParams {
    GenerationParams {
        temperature: 0.0,
        top_p: None,
        top_k: None,
        repeat_penalty: 1.0,
        max_tokens,
        ..GenerationParams::default()
    }
}

fn check_attributes(text: &str) {
    let v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text:?}"));
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), 3, "exactly the schema's keys: {text}");
    for (key, allowed) in [
        ("category", &CATEGORIES[..]),
        ("colour", &COLOURS[..]),
        ("material", &MATERIALS[..]),
    ] {
        let value = obj.get(key).and_then(Value::as_str);
        assert!(
            value.is_some_and(|s| allowed.contains(&s)),
            "{key} = {value:?} is not one of {allowed:?} in {text}"
        );
    }
}

#[test]
fn tiny_fixture_answers_a_photo_with_schema_valid_json() {
    let (dir, _) = fixture();
    let t = Instant::now();
    let mut model = load(dir);
    let load_time = t.elapsed();
    let schema = attributes_schema();
    let params = GenerationParams {
        json_schema: Some(schema),
        ..greedy(200)
    };
    let prompt =
        "Describe the product in the photo as JSON with its category, colour and material.";
    let answer = model
        .describe(&photo(), prompt, &params, &CancelToken::new())
        .expect("describe");
    eprintln!(
        "tiny Qwen3-VL: load {load_time:?}, {} prompt tokens ({} image, photo resized to {:?}), \
         {} generated; {:?}\n{}",
        answer.prompt_tokens,
        answer.image_tokens,
        answer.image_size,
        answer.tokens.len(),
        answer.timings,
        answer.text
    );
    check_attributes(&answer.text);
    assert_eq!(answer.stop, StopReason::EndOfTurn);
    // 600×400 in a 128² budget (smart resize: β = √(240 000 / 16 384),
    // sides floored to multiples of 32): 128×96, 4×3 merged tokens.
    assert_eq!(answer.image_size, (128, 96));
    assert_eq!(answer.image_tokens, 12);
    let t = &answer.timings;
    assert!(t.total >= t.preprocess + t.vision + t.prompt);

    // The same request again: the cache was cleared, greedy is repeatable.
    let again = model
        .describe(&photo(), prompt, &params, &CancelToken::new())
        .expect("describe again");
    assert_eq!(again.text, answer.text);

    // A Chinese prompt, sampled: still valid by construction.
    let sampled = GenerationParams {
        temperature: 1.0,
        top_p: Some(0.95),
        top_k: None,
        seed: 7,
        ..params
    };
    let zh = model
        .describe(
            &photo(),
            "请用 JSON 描述图中商品的类别、颜色和材质。",
            &sampled,
            &CancelToken::new(),
        )
        .expect("describe in Chinese");
    check_attributes(&zh.text);
}

#[test]
fn the_chat_template_renders_the_qwen_vl_prompt() {
    let (dir, _) = fixture();
    let model = load(dir);
    let want = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is it?<|im_end|>\n<|im_start|>assistant\n";
    assert_eq!(model.render_prompt("What is it?").expect("render"), want);

    // Without a template file the built-in form is the same.
    let (_tmp, copy) = copy_fixture();
    std::fs::remove_file(copy.join("chat_template.json")).expect("rm template");
    let plain = load(&copy);
    assert_eq!(plain.render_prompt("What is it?").expect("render"), want);

    // The placeholder becomes one token per merged patch.
    let (ids, start) = model.prompt_ids("What is it?", 6).expect("ids");
    let image = model.config().image_token_id;
    assert_eq!(ids.iter().filter(|&&t| t == image).count(), 6);
    assert!(ids[start..start + 6].iter().all(|&t| t == image));
    assert_eq!(ids[start - 1], model.config().vision_start_token_id);
    assert_eq!(ids[start + 6], model.config().vision_end_token_id);

    // Control tokens in the user's text are refused, not obeyed.
    assert!(matches!(
        model.render_prompt("hi <|image_pad|>"),
        Err(InferError::Template(_))
    ));
}

#[test]
fn unconstrained_generation_stops_at_max_tokens_or_a_stop_token() {
    let (dir, _) = fixture();
    let mut model = load(dir);
    let img = photo();
    let never = CancelToken::new();
    let a = model
        .describe(&img, "What is this?", &greedy(6), &never)
        .expect("describe");
    eprintln!(
        "unconstrained: {:?} after {} tokens: {:?}",
        a.stop,
        a.tokens.len(),
        a.text
    );
    assert!(a.tokens.len() <= 6);
    match a.stop {
        StopReason::MaxTokens => assert_eq!(a.tokens.len(), 6),
        StopReason::EndOfTurn => assert!(a.tokens.len() < 6),
        other => panic!("unexpected stop {other:?}"),
    }
    let zero = model
        .describe(&img, "What is this?", &greedy(0), &never)
        .expect("describe");
    assert_eq!((zero.tokens.len(), zero.stop), (0, StopReason::MaxTokens));

    // Make the token the model says first a stop token (through
    // generation_config.json, as real checkpoints list theirs): the answer
    // must now end before it, with nothing generated.
    let Some(&first) = a.tokens.first() else {
        // The model's first word already was a stop token.
        assert_eq!(a.stop, StopReason::EndOfTurn);
        return;
    };
    let (_tmp, copy) = copy_fixture();
    write_json(
        &copy.join("generation_config.json"),
        &json!({"eos_token_id": [first]}),
    );
    let mut stopping = load(&copy);
    assert!(stopping.stop_ids().contains(&first));
    let b = stopping
        .describe(&img, "What is this?", &greedy(6), &never)
        .expect("describe");
    assert_eq!((b.tokens.len(), b.stop), (0, StopReason::EndOfTurn));
    assert!(b.text.is_empty());
}

#[test]
fn cancellation_stops_before_and_during_an_answer() {
    let (dir, _) = fixture();
    let mut model = load(dir);
    let img = photo();
    let cancelled = CancelToken::new();
    cancelled.cancel();
    assert!(matches!(
        model.describe(&img, "What is this?", &greedy(10), &cancelled),
        Err(InferError::Cancelled)
    ));

    // From another thread, mid-generation (a long unconstrained answer that
    // never meets a stop token within the budget is not guaranteed, so
    // accept an answer that ended first, but never a late one).
    let cancel = CancelToken::new();
    let remote = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        remote.cancel();
    });
    let t = Instant::now();
    let r = model.describe(&img, "What is this?", &greedy(3000), &cancel);
    let took = t.elapsed();
    canceller.join().expect("canceller");
    eprintln!(
        "cancelled after 30 ms: {:?} in {took:?}",
        r.as_ref().map(|a| a.stop)
    );
    match r {
        Err(InferError::Cancelled) => {}
        Ok(a) => assert_eq!(a.stop, StopReason::EndOfTurn, "ran to {a:?} despite cancel"),
        Err(e) => panic!("unexpected error {e}"),
    }
    assert!(took < Duration::from_secs(10), "cancel took {took:?}");

    // The model is usable again and answers as before.
    let fresh = CancelToken::new();
    let x = model
        .describe(&img, "What is this?", &greedy(5), &fresh)
        .expect("after cancel");
    let mut reloaded = load(dir);
    let y = reloaded
        .describe(&img, "What is this?", &greedy(5), &fresh)
        .expect("fresh model");
    assert_eq!(x.text, y.text);
}

#[test]
fn odd_images_are_resized_or_refused() {
    let (dir, _) = fixture();
    let mut model = load(dir);
    let never = CancelToken::new();
    let params = GenerationParams {
        json_schema: Some(attributes_schema()),
        ..greedy(200)
    };

    // 8×8: scaled up to the minimum budget.
    let tiny = DynamicImage::ImageRgb8(RgbImage::from_pixel(8, 8, Rgb([200, 30, 30])));
    let a = model
        .describe(&tiny, "What is it?", &params, &never)
        .expect("8×8");
    assert!(a.image_tokens >= 1);
    check_attributes(&a.text);

    // 6000×4000: resized into the budget, not attended at full size.
    let huge = DynamicImage::ImageRgb8(RgbImage::from_fn(6000, 4000, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }));
    let t = Instant::now();
    let b = model
        .describe(&huge, "What is it?", &params, &never)
        .expect("huge");
    eprintln!(
        "6000×4000 photo: {:?} total, preprocess {:?}",
        t.elapsed(),
        b.timings.preprocess
    );
    let (w, h) = b.image_size;
    assert!(w * h <= 128 * 128 && w > h, "{w}×{h}");
    check_attributes(&b.text);

    // Transparent cut-out: composited on white.
    let cutout = DynamicImage::ImageRgba8(RgbaImage::from_fn(100, 140, |x, _| {
        Rgba([20, 20, 200, if x < 50 { 0 } else { 255 }])
    }));
    check_attributes(
        &model
            .describe(&cutout, "What is it?", &params, &never)
            .expect("rgba")
            .text,
    );

    // Grayscale and 16-bit images are converted.
    let gray = DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(
        90,
        60,
        image::Luma([40_000u16]),
    ));
    check_attributes(
        &model
            .describe(&gray, "What is it?", &params, &never)
            .expect("luma16")
            .text,
    );

    // 1×500: beyond the model's 200:1 aspect ratio, and empty.
    let strip = DynamicImage::ImageRgb8(RgbImage::new(500, 1));
    assert!(matches!(
        model.describe(&strip, "What is it?", &params, &never),
        Err(InferError::BadImage(_))
    ));
    let empty = DynamicImage::ImageRgb8(RgbImage::new(0, 0));
    assert!(matches!(
        model.describe(&empty, "What is it?", &params, &never),
        Err(InferError::BadImage(_))
    ));
}

/// The error loading `dir` gives, which must be a `BadModelDir` naming a
/// file whose name contains `file` and whose reason contains `reason`.
fn expect_bad_dir(dir: &Path, file: &str, reason: &str) {
    match Qwen3VlModel::load(dir, &Device::Cpu) {
        Err(InferError::BadModelDir { path, reason: r }) => {
            assert!(
                path.to_string_lossy().contains(file),
                "error names {} rather than {file}: {r}",
                path.display()
            );
            assert!(r.contains(reason), "reason {r:?} lacks {reason:?}");
        }
        Err(e) => panic!("expected a BadModelDir error about {file}, got {e}"),
        Ok(_) => panic!("a broken model directory ({file}: {reason}) loaded"),
    }
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("config.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    edit(&mut v);
    write_json(&path, &v);
}

#[test]
fn broken_model_directories_are_refused_with_the_file_named() {
    // Missing files.
    for (file, why) in [
        ("config.json", "missing"),
        ("tokenizer.json", "missing"),
        ("model.safetensors", "no weights"),
    ] {
        let (_tmp, dir) = copy_fixture();
        std::fs::remove_file(dir.join(file)).expect("rm");
        expect_bad_dir(
            &dir,
            if file == "model.safetensors" {
                "model"
            } else {
                file
            },
            why,
        );
    }
    // Not a directory at all.
    expect_bad_dir(
        Path::new("/nonexistent/qwen3-vl"),
        "nonexistent",
        "no such directory",
    );

    // Malformed JSON and a malformed tokenizer.
    let (_tmp, dir) = copy_fixture();
    std::fs::write(dir.join("config.json"), "{\"text_config\": ").expect("write");
    expect_bad_dir(&dir, "config.json", "malformed JSON");
    let (_tmp, dir) = copy_fixture();
    std::fs::write(dir.join("tokenizer.json"), "{\"model\": 3}").expect("write");
    expect_bad_dir(&dir, "tokenizer.json", "not a readable tokenizer");

    // Inconsistent dimensions, caught before any tensor is read.
    type Edit = fn(&mut Value);
    let cases: [(Edit, &str); 8] = [
        (
            |v| v["vision_config"]["out_hidden_size"] = json!(48),
            "out_hidden_size",
        ),
        (
            |v| v["text_config"]["num_key_value_heads"] = json!(3),
            "num_key_value_heads",
        ),
        (
            |v| v["text_config"]["rope_scaling"]["mrope_section"] = json!([4, 4, 4]),
            "mrope_section",
        ),
        (|v| v["vision_config"]["num_heads"] = json!(5), "num_heads"),
        (
            |v| v["vision_config"]["num_position_embeddings"] = json!(60),
            "square",
        ),
        (
            |v| v["vision_config"]["deepstack_visual_indexes"] = json!([7]),
            "deepstack",
        ),
        (|v| v["image_token_id"] = json!(1_000_000), "image_token_id"),
        (
            |v| v["text_config"]["hidden_size"] = json!(0),
            "hidden_size",
        ),
    ];
    for (edit, needle) in cases {
        let (_tmp, dir) = copy_fixture();
        edit_config(&dir, edit);
        expect_bad_dir(&dir, "config.json", needle);
    }
    let (_tmp, dir) = copy_fixture();
    edit_config(&dir, |v| v["model_type"] = json!("llava"));
    expect_bad_dir(&dir, "config.json", "not Qwen3-VL");

    // A consistent config that the weights do not match.
    let (_tmp, dir) = copy_fixture();
    edit_config(&dir, |v| v["text_config"]["intermediate_size"] = json!(96));
    expect_bad_dir(&dir, "model", "weights do not fit");

    // A vocabulary smaller than the tokenizer's ids.
    let (_tmp, dir) = copy_fixture();
    edit_config(&dir, |v| {
        v["text_config"]["vocab_size"] = json!(200);
        v["image_token_id"] = json!(10);
        v["video_token_id"] = json!(11);
        v["vision_start_token_id"] = json!(12);
        v["vision_end_token_id"] = json!(13);
    });
    expect_bad_dir(&dir, "tokenizer.json", "outside the model's vocabulary");

    // The config names a special token the tokenizer does not have (the
    // padding rows of the output layer).
    let (_tmp, dir) = copy_fixture();
    let (_, fx) = fixture();
    let pad = fx.config.text_config.vocab_size as u32 - 1;
    edit_config(&dir, |v| v["image_token_id"] = json!(pad));
    expect_bad_dir(&dir, "tokenizer.json", "image_token_id");

    // Truncated weights, and garbage in their place.
    let (_tmp, dir) = copy_fixture();
    let w = dir.join("model.safetensors");
    let bytes = std::fs::read(&w).expect("read weights");
    std::fs::write(&w, &bytes[..bytes.len() / 2]).expect("truncate");
    expect_bad_dir(&dir, "model", "unreadable safetensors");
    std::fs::write(&w, b"not a safetensors file at all").expect("garbage");
    expect_bad_dir(&dir, "model", "unreadable safetensors");
    std::fs::write(&w, b"").expect("empty");
    expect_bad_dir(&dir, "model", "unreadable safetensors");

    // A shard index pointing outside the directory, or at a missing shard.
    let (_tmp, dir) = copy_fixture();
    std::fs::rename(
        dir.join("model.safetensors"),
        dir.join("model-00001-of-00001.safetensors"),
    )
    .expect("rename");
    write_json(
        &dir.join("model.safetensors.index.json"),
        &json!({"weight_map": {"lm_head.weight": "../../etc/passwd"}}),
    );
    expect_bad_dir(&dir, "index", "not a file name");
    write_json(
        &dir.join("model.safetensors.index.json"),
        &json!({"weight_map": {"a": "model-00001-of-00002.safetensors"}}),
    );
    expect_bad_dir(&dir, "00001-of-00002", "missing");
}

#[test]
fn sharded_weights_load_through_their_index() {
    let (_tmp, dir) = copy_fixture();
    let (_, fx) = fixture();
    // Two shards: the fixture's tensors split by module.
    let all = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
        .expect("read fixture weights");
    std::fs::remove_file(dir.join("model.safetensors")).expect("rm");
    let (vision, text): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(k, _)| k.starts_with("model.visual."));
    let mut map = serde_json::Map::new();
    for (name, part) in [
        ("model-00001-of-00002.safetensors", &vision),
        ("model-00002-of-00002.safetensors", &text),
    ] {
        let tensors: std::collections::HashMap<String, Tensor> = part.iter().cloned().collect();
        candle_core::safetensors::save(&tensors, dir.join(name)).expect("save shard");
        for k in tensors.keys() {
            map.insert(k.clone(), json!(name));
        }
    }
    write_json(
        &dir.join("model.safetensors.index.json"),
        &json!({"metadata": {}, "weight_map": map}),
    );
    let mut sharded = load(&dir);
    let mut single = load(fixture().0);
    let ids: Vec<u32> = vec![fx.special("<|im_start|>"), 80, 81, 82];
    let a = sharded.text_only_logits(&ids).expect("sharded logits");
    let b = single.text_only_logits(&ids).expect("single logits");
    assert_eq!(a, b);
}

#[test]
fn sources_resolve_local_directories() {
    let (dir, _) = fixture();
    let resolved = resolve_vlm_source(&VlmSource::Path(dir.clone())).expect("path source");
    assert_eq!(&resolved, dir);
    // The config file itself names its directory too.
    let via_config =
        resolve_vlm_source(&VlmSource::Path(dir.join("config.json"))).expect("config path");
    assert_eq!(&via_config, dir);
    assert!(matches!(
        resolve_vlm_source(&VlmSource::Path("/nonexistent/vlm".into())),
        Err(InferError::BadModelDir { .. })
    ));
    // Manifest sources map onto model-directory sources.
    let hf = vitrine_infer::Source::Hf {
        repo: "Qwen/Qwen3-VL-2B-Instruct".into(),
        file: "config.json".into(),
        revision: Some("main".into()),
    };
    assert_eq!(
        VlmSource::from_manifest(&hf),
        Some(VlmSource::Hf {
            repo: "Qwen/Qwen3-VL-2B-Instruct".into(),
            revision: Some("main".into())
        })
    );
    let local = vitrine_infer::Source::Path { path: dir.clone() };
    assert_eq!(
        VlmSource::from_manifest(&local),
        Some(VlmSource::Path(dir.clone()))
    );
    let opts = VlmOptions {
        id: Some("tiny".into()),
        max_pixels: Some(64 * 64),
        dtype: Some(DType::F32),
    };
    let model = Qwen3VlModel::load_with(&resolved, &Device::Cpu, &opts).expect("load");
    assert_eq!(model.id(), "tiny");
    // The caller's budget wins over the preprocessor's 128².
    assert_eq!(model.processor().max_pixels, 64 * 64);
}

#[test]
fn bf16_weights_answer_like_f32() {
    // GPUs load bf16 by default; the same dtype path runs on the CPU here.
    let (dir, _) = fixture();
    let opts = VlmOptions {
        dtype: Some(DType::BF16),
        ..VlmOptions::default()
    };
    let mut half = Qwen3VlModel::load_with(dir, &Device::Cpu, &opts).expect("bf16 load");
    let params = GenerationParams {
        json_schema: Some(attributes_schema()),
        ..greedy(200)
    };
    let a = half
        .describe(&photo(), "What is it?", &params, &CancelToken::new())
        .expect("bf16 describe");
    check_attributes(&a.text);
    let ids: Vec<u32> = vec![1, 2, 3, 4, 5];
    let lo = half.text_only_logits(&ids).expect("bf16 logits");
    let hi = load(dir).text_only_logits(&ids).expect("f32 logits");
    let diff = max_abs_diff(&lo, &hi);
    let scale = hi.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(
        diff < 0.05 * scale.max(1e-3),
        "bf16 vs f32: {diff} of {scale}"
    );
}

// --- Against candle-transformers' qwen3_vl ---------------------------------
//
// candle-transformers 0.11 has its own Qwen3-VL. Its text path differs from
// the reference where images are concerned (no causal mask over a
// multi-token input, 1-D rather than multimodal RoPE, see
// `text_decoder.rs`), but fed one text token at a time it is exact: a
// single query needs no mask, and text positions are equal on all three
// RoPE components. Its vision tower matches the reference except for the
// merger's GELU (tanh approximation there, exact erf in the reference and
// here).

fn candle_reference(dir: &Path) -> candle_transformers::models::qwen3_vl::Qwen3VLModel {
    use candle_transformers::models::qwen3_vl::{Config, Qwen3VLModel};
    let cfg: Config = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("read config"),
    )
    .expect("candle-transformers reads our config.json");
    // SAFETY: test files nobody else writes.
    let vb = unsafe {
        candle_nn::VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .expect("mmap fixture");
    Qwen3VLModel::new(&cfg, vb).expect("candle-transformers loads every tensor of the fixture")
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn decoder_matches_candle_transformers_token_by_token() {
    let (dir, fx) = fixture();
    let reference = candle_reference(dir);
    let mut ours = load(dir);
    let ids: Vec<u32> = ours
        .tokenizer()
        .encode("<|im_start|>user\n红色的棉质连帽衫 red cotton hoodie<|im_end|>\n<|im_start|>assistant\n", false)
        .expect("encode")
        .get_ids()
        .to_vec();
    assert!(ids.contains(&fx.special("<|im_end|>")));
    let mut worst = 0f32;
    for (i, &id) in ids.iter().enumerate() {
        let input = Tensor::new(&[[id]], &Device::Cpu).expect("input");
        let theirs = reference
            .forward(
                &input,
                None,
                None,
                None,
                None,
                vec![1],
                vec![vec![]],
                vec![vec![]],
                &[i],
            )
            .expect("reference step")
            .flatten_all()
            .expect("flatten")
            .to_vec1::<f32>()
            .expect("logits");
        // Ours runs the whole prefix at once (causal mask, multi-token RoPE).
        let mine = ours.text_only_logits(&ids[..=i]).expect("our logits");
        worst = worst.max(max_abs_diff(&theirs, &mine));
    }
    eprintln!(
        "decoder vs candle-transformers: max |Δlogit| = {worst:e} over {} steps",
        ids.len()
    );
    assert!(worst < 1e-4, "max |Δlogit| = {worst}");
}

#[test]
fn vision_tower_matches_candle_transformers() {
    // A variant with no decoder layers: the logits of the last image token
    // are then the output layer over that token's vision embedding, which
    // both implementations compute from the same pixels.
    let (_tmp, dir) = copy_fixture();
    edit_config(&dir, |v| {
        v["text_config"]["num_hidden_layers"] = json!(0);
        v["vision_config"]["deepstack_visual_indexes"] = json!([]);
    });
    let cfg: vitrine_infer::vision::vlm::Qwen3VlConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).expect("read"))
            .expect("parse");
    vlm_fixture::write_weights(&dir, &cfg, SEED + 1, None);
    let reference = candle_reference(&dir);
    let mut ours = load(&dir);

    let (patches, gh, gw) = ours.processor().patches(&photo()).expect("patches");
    let n = gh * gw / 4;
    let (ids, start) = ours.prompt_ids("x", n).expect("ids");
    // Up to and including the last image token.
    let ids = &ids[..start + n];
    let row = patches.len() / (gh * gw);
    let pixels = Tensor::from_vec(patches, (gh * gw, row), &Device::Cpu).expect("pixels");
    let grid = Tensor::new(&[[1u32, gh as u32, gw as u32]], &Device::Cpu).expect("grid");
    let input = Tensor::new(ids, &Device::Cpu)
        .expect("ids")
        .unsqueeze(0)
        .expect("batch");
    let theirs = reference
        .forward(
            &input,
            Some(pixels.clone()),
            None,
            Some(grid),
            None,
            vec![ids.len()],
            vec![vec![(start, start + n)]],
            vec![vec![]],
            &[0],
        )
        .expect("reference forward")
        .flatten_all()
        .expect("flatten")
        .to_vec1::<f32>()
        .expect("logits");
    let mine = ours
        .image_prompt_logits(&pixels, gh, gw, ids, start)
        .expect("ours");
    let diff = max_abs_diff(&theirs, &mine);
    let scale = theirs.iter().fold(0f32, |m, x| m.max(x.abs()));
    eprintln!(
        "vision tower vs candle-transformers: max |Δlogit| = {diff:e} (logits up to {scale:e})"
    );
    // Only the merger's GELU differs (tanh approximation vs erf, < 5e-4
    // before the output projections shrink it).
    assert!(diff < 1e-3, "max |Δlogit| = {diff} of {scale}");
}

/// Writes the fixture where `VITRINE_TINY_VLM_DIR` says, for a look or for
/// another runtime.
#[test]
#[ignore]
fn write_tiny_fixture() {
    let dir = std::env::var_os("VITRINE_TINY_VLM_DIR").expect("set VITRINE_TINY_VLM_DIR");
    write_tiny_qwen3_vl(Path::new(&dir), SEED);
}
