//! `vitrine analyze --vlm DIR` through a tiny Qwen3-VL written in the real
//! on-disk format (random weights, so the answer's content is arbitrary;
//! its shape is not: JSON of knowledge-graph keys by construction).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../vitrine-infer/tests/vlm_fixture/mod.rs"]
mod vlm_fixture;

fn models_dir() -> PathBuf {
    std::env::var_os("VITRINE_MODELS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.data_dir().join("models"))
        })
        .expect("a models dir")
}

#[test]
fn analyze_asks_a_vision_language_model_for_graph_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let vlm = tmp.path().join("tiny-qwen3-vl");
    vlm_fixture::write_tiny_qwen3_vl(&vlm, 7);
    let photo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vitrine-infer/tests/fixtures/coffee.png");
    let out = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .env("VITRINE_DATA_DIR", tmp.path().join("data"))
        .env("VITRINE_MODELS_DIR", models_dir())
        .env_remove("VITRINE_DEVICE")
        .args(["analyze", "--json", "--vlm"])
        .arg(&vlm)
        .arg(&photo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let facts = v["photos"][0]["facts"].as_array().unwrap();
    let vision: Vec<&serde_json::Value> =
        facts.iter().filter(|f| f["source"] == "vision").collect();
    let keys: Vec<&str> = vision.iter().map(|f| f["key"].as_str().unwrap()).collect();
    // Category and colour are required by the schema; every value is a
    // graph key with its English and Chinese labels.
    assert!(
        keys.contains(&"category") && keys.contains(&"colour"),
        "{v}"
    );
    for f in &vision {
        assert!(!f["label_en"].as_str().unwrap().is_empty(), "{f}");
        assert!(!f["label_zh"].as_str().unwrap().is_empty(), "{f}");
    }
    let cat = vision.iter().find(|f| f["key"] == "category").unwrap();
    let shown = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .env("VITRINE_DATA_DIR", tmp.path().join("data"))
        .args(["kg", "show", cat["value"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(shown.status.success(), "the category is a graph key: {cat}");

    // A directory that is not a model is refused before any photo.
    let out = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .env("VITRINE_DATA_DIR", tmp.path().join("data"))
        .args(["analyze", "--vlm"])
        .arg(tmp.path())
        .arg(&photo)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("config.json"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
