//! llguidance sees SentencePiece vocabularies right: with the token bytes
//! our tokenizer gives it (`▁` as a space, `<0xXX>` as that byte, control
//! pieces marked), a JSON grammar allows the pieces that spell valid JSON,
//! refuses control pieces, and ends on the vocabulary's end of turn.

mod common;

use std::path::Path;

use serde_json::json;
use vitrine_infer::constrained::ConstraintFactory;
use vitrine_infer::text::read_gguf_header;
use vitrine_infer::GgufTokenizer;

fn allowed(c: &mut vitrine_infer::constrained::JsonConstraint, n: usize) -> Vec<bool> {
    let mut logits = vec![0.0f32; n];
    c.mask_logits(&mut logits).expect("mask");
    logits.iter().map(|l| l.is_finite()).collect()
}

fn check(gguf: &Path, control_piece: &str) {
    let (content, _) = read_gguf_header(gguf).expect("gguf header");
    let tok = GgufTokenizer::from_gguf(&content).expect("tokenizer");
    let n = tok.vocab_size();
    let factory = ConstraintFactory::new(&tok, n).expect("factory");
    let schema = json!({
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": false,
    });
    let mut c = factory.json(&schema).expect("constraint");

    // Our tokenizer's own ids for a valid answer going on from the prompt,
    // with characters the Llama vocabulary can only spell with byte pieces.
    let answer = r#"{"title": "Navy hoodie 藏青 👕"}"#;
    let ids = tok.encode_continuation(answer).expect("encode");
    let control = tok.encode(control_piece).expect("encode control piece");
    assert_eq!(control.len(), 1, "{control_piece} is one piece");
    let eot = tok.end_of_turn().expect("end of turn") as usize;
    for (step, &id) in ids.iter().enumerate() {
        let ok = allowed(&mut c, n);
        assert!(
            ok[id as usize],
            "step {step}: grammar refuses piece {id} of {ids:?}"
        );
        assert!(!ok[control[0] as usize], "{control_piece} is never JSON");
        assert!(!ok[eot], "end of turn before the object closes");
        c.consume(&[id]).expect("consume");
    }
    let ok = allowed(&mut c, n);
    assert!(ok[eot] || c.is_done(), "end of turn once the object closes");
}

#[test]
fn phi3_vocabulary_drives_a_json_grammar() {
    check(&common::vocab_file("ggml-vocab-phi-3.gguf"), "<|user|>");
}

#[test]
fn llama_spm_vocabulary_drives_a_json_grammar() {
    check(&common::vocab_file("ggml-vocab-llama-spm.gguf"), "<s>");
}

#[test]
fn gemma3_vocabulary_drives_a_json_grammar() {
    check(
        &common::vocab_file("gemma-3-270m-q4_k_m.gguf"),
        "<start_of_turn>",
    );
}
