//! The OpenAI-compatible endpoint on the tiny model: models, whole and
//! streamed completions (the same greedy text both ways), stop sequences,
//! errors in OpenAI's shape. `scripts/openai-sdk-check.py` drives the same
//! endpoint with the official `openai` SDK.

mod common;

use common::{Server, TINY};
use serde_json::json;

fn sse_events(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        .map(|d| d.trim().to_string())
        .collect()
}

#[test]
fn chat_completions_whole_streamed_and_stopped() {
    let s = Server::start();
    let t = s.tokens.author.clone();

    let models = s.get("/v1/models", Some(&t)).json();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(ids.contains(&TINY) && ids.contains(&"auto"), "{ids:?}");
    assert_eq!(
        s.get(&format!("/v1/models/{TINY}"), Some(&t)).json()["id"],
        TINY
    );

    let ask = |extra: serde_json::Value| {
        let mut body = json!({
            "model": TINY,
            "messages": [
                {"role": "system", "content": "You are a helpful shop assistant."},
                {"role": "user", "content": "Describe a red cotton t-shirt in one sentence."}
            ],
            "temperature": 0,
            "max_tokens": 24,
            "seed": 7,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        s.post_json("/v1/chat/completions", Some(&t), &body)
    };

    let whole = ask(json!({}));
    assert_eq!(
        whole.status,
        200,
        "{}",
        String::from_utf8_lossy(&whole.body)
    );
    let whole = whole.json();
    assert_eq!(whole["object"], "chat.completion");
    assert_eq!(whole["model"], TINY);
    let text = whole["choices"][0]["message"]["content"]
        .as_str()
        .expect("content")
        .to_string();
    assert!(!text.trim().is_empty());
    assert_eq!(whole["choices"][0]["message"]["role"], "assistant");
    assert!(
        ["stop", "length"].contains(&whole["choices"][0]["finish_reason"].as_str().unwrap_or(""))
    );
    let usage = &whole["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap_or(0) > 10, "{usage}");
    assert!(
        usage["completion_tokens"].as_u64().unwrap_or(0) <= 24,
        "{usage}"
    );

    // Streamed: the same greedy text, in chunks, then [DONE].
    let streamed = ask(json!({"stream": true, "stream_options": {"include_usage": true}}));
    assert_eq!(streamed.status, 200);
    assert!(
        streamed.content_type.starts_with("text/event-stream"),
        "{}",
        streamed.content_type
    );
    let events = sse_events(&streamed.body);
    assert_eq!(
        events.last().map(String::as_str),
        Some("[DONE]"),
        "{events:?}"
    );
    let chunks: Vec<serde_json::Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("chunk JSON"))
        .collect();
    assert!(chunks.len() > 3, "{chunks:?}");
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"]));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let joined: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(joined, text, "streamed and whole greedy replies differ");
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"].is_string()));
    assert!(
        chunks
            .last()
            .is_some_and(|c| c["usage"]["total_tokens"].as_u64().is_some()),
        "{:?}",
        chunks.last()
    );

    // A stop sequence from the middle of that reply ends it just before.
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() >= 4 {
        let stop = words[words.len() / 2];
        let cut = text.find(stop).expect("stop in text");
        let stopped = ask(json!({"stop": [stop]})).json();
        assert_eq!(
            stopped["choices"][0]["message"]["content"].as_str(),
            Some(&text[..cut]),
            "stop {stop:?}"
        );
        assert_eq!(stopped["choices"][0]["finish_reason"], "stop");
        let streamed = ask(json!({"stop": stop, "stream": true}));
        let joined: String = sse_events(&streamed.body)
            .iter()
            .filter(|e| *e != "[DONE]")
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(e).ok())
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(joined, &text[..cut]);
    }

    // Errors in OpenAI's shape.
    let r = ask(json!({"model": "gpt-4o"}));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["type"], "not_found_error");
    let r = ask(json!({"temperature": 5}));
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("temperature")));
    let r = s.post_raw(
        "/v1/chat/completions",
        Some(&t),
        "application/json",
        b"{\"model\": ",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "malformed_json");
    let r = ask(json!({"messages": [{"role": "tool", "content": "x"}]}));
    assert_eq!(r.status, 400);
    assert_eq!(
        s.post_json("/v1/chat/completions", None, &json!({})).status,
        401
    );
}
