//! Our GGUF tokenizer must give exactly llama.cpp's ids. The fixtures were
//! written by scripts/make_tokenizer_fixtures.py with llama.cpp itself.

mod common;

use serde::Deserialize;
use vitrine_infer::text::read_gguf_header;
use vitrine_infer::GgufTokenizer;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
}

fn check(id: &str) {
    let path = format!(
        "{}/tests/fixtures/tokenizer/{id}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture: Fixture =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file"))
            .expect("fixture json");
    assert!(fixture.cases.len() >= 10, "too few fixture cases in {path}");
    let (_, gguf) = common::installed(id);
    let (content, _) = read_gguf_header(&gguf).expect("gguf header");
    let tok = GgufTokenizer::from_gguf(&content).expect("tokenizer");
    let mut failures = Vec::new();
    for case in &fixture.cases {
        let ids = tok.encode(&case.text).expect("encode");
        if ids != case.ids {
            failures.push(format!(
                "{:?}\n  llama.cpp: {:?}\n  vitrine:   {:?}",
                case.text, case.ids, ids
            ));
        }
        // Round trip (control tokens are dropped by decode, so compare without them).
        let plain = !case.text.contains("<|");
        if plain {
            assert_eq!(
                tok.decode(&ids).expect("decode"),
                case.text,
                "decode round trip"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{id}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn smollm2_ids_match_llama_cpp() {
    check("smollm2-135m");
}

#[test]
fn qwen_05b_ids_match_llama_cpp() {
    check("qwen2.5-coder-0.5b");
}

#[test]
fn qwen_15b_ids_match_llama_cpp() {
    check("qwen2.5-coder-1.5b");
}
