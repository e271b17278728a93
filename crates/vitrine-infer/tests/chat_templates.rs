//! Real chat templates (Qwen3, Gemma 3, Gemma 2, Phi-3.5, those inside the
//! Phi-3 and Qwen2 vocabulary GGUFs and our models' own) must render through our minijinja
//! setup exactly as the reference Jinja2 setup renders them. The expected
//! prompts were written by scripts/make_chat_template_fixtures.py; the
//! templates' sources are in tests/fixtures/chat_templates/SOURCES.md.

mod common;

use serde::Deserialize;
use vitrine_infer::chat::{ChatMessage, ChatTemplate};
use vitrine_infer::text::read_gguf_header;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    template: String,
    bos: String,
    eos: String,
    conversation: String,
    messages: Vec<ChatMessage>,
    enable_thinking: Option<bool>,
    expected: String,
}

fn fixture_dir() -> String {
    format!(
        "{}/tests/fixtures/chat_templates",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn cases() -> Vec<Case> {
    let path = format!("{}/expected.json", fixture_dir());
    let fixture: Fixture =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file"))
            .expect("fixture json");
    fixture.cases
}

/// A template's source: a committed file, `gguf:NAME` for the
/// `tokenizer.chat_template` of a fetched vocabulary GGUF, or `model:ID` for
/// that of an installed model.
fn source(name: &str) -> String {
    let gguf = if let Some(file) = name.strip_prefix("gguf:") {
        common::vocab_file(file)
    } else if let Some(id) = name.strip_prefix("model:") {
        common::installed(id).1
    } else {
        return std::fs::read_to_string(format!("{}/{name}", fixture_dir()))
            .expect("template file");
    };
    let (content, _) = read_gguf_header(&gguf).expect("gguf header");
    content
        .metadata
        .get("tokenizer.chat_template")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .expect("a chat template in the GGUF")
}

fn render(src: &str, case: &Case) -> String {
    let mut t = ChatTemplate::new(Some(src.to_owned()), case.bos.clone(), case.eos.clone());
    if let Some(on) = case.enable_thinking {
        t = t.with_enable_thinking(on);
    }
    t.render(&case.messages).expect("render")
}

fn check(template: &str) {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.template == template)
        .collect();
    assert!(cases.len() >= 3, "too few cases for {template}");
    let src = source(template);
    for case in &cases {
        assert_eq!(
            render(&src, case),
            case.expected,
            "{template}, {} (enable_thinking {:?})",
            case.conversation,
            case.enable_thinking
        );
    }
}

#[test]
fn qwen3_renders_as_jinja2_does() {
    check("qwen3.jinja");
}

#[test]
fn qwen3_closes_the_think_block_when_thinking_is_off() {
    let case = cases()
        .into_iter()
        .find(|c| c.template == "qwen3.jinja" && c.enable_thinking == Some(false))
        .expect("a thinking-off case");
    assert!(render(&source("qwen3.jinja"), &case)
        .ends_with("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
}

#[test]
fn gemma3_folds_the_system_prompt_into_the_first_user_turn() {
    check("gemma3.jinja");
}

#[test]
fn phi35_renders_as_jinja2_does() {
    check("phi3.5.jinja");
}

#[test]
fn qwen2_gguf_template_renders_as_jinja2_does() {
    check("gguf:ggml-vocab-qwen2.gguf");
}

/// The templates of the models we ship.
#[test]
fn installed_models_templates_render_as_jinja2_does() {
    check("model:smollm2-135m");
    check("model:qwen2.5-coder-0.5b");
    check("model:qwen2.5-coder-1.5b");
}

/// Gemma 2's template raises on a system turn and Phi-3-mini's drops it: we
/// fold it into the first user turn, and the expected prompt is Jinja2's
/// rendering of that folded conversation.
#[test]
fn templates_without_a_system_turn_get_it_folded_into_the_user_turn() {
    check("gemma2.jinja");
    check("gguf:ggml-vocab-phi-3.gguf");
}
