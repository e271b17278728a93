//! The chat-completions request body: messages, sampling settings and the
//! structured-output request in the dialect the server speaks.

use serde_json::{json, Map, Value};

use super::ResponseFormat;
use crate::chat::ChatMessage;
use crate::text::GenerationParams;

/// String length bounds above this are left out of the schema a server gets.
/// llama.cpp turns a bound into that many nested grammar rules and refuses
/// grammars past its repetition threshold (measured with llama-cpp-python
/// 0.3.36: 500 works, 2000 does not, and its server process dies on it).
/// Callers validate lengths themselves (the listing pipeline does).
pub const MAX_STRING_BOUND: u64 = 500;

/// The body of one streamed chat-completions request.
///
/// Both spellings of the repetition penalty are sent: llama.cpp's servers
/// read `repeat_penalty` (and `repeat_last_n`), vLLM reads
/// `repetition_penalty`; each ignores the other's.
pub fn chat_body(
    model: &str,
    messages: &[ChatMessage],
    params: &GenerationParams,
    format: ResponseFormat,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        // vLLM then reports token counts in a last chunk; others ignore it.
        "stream_options": {"include_usage": true},
        "max_tokens": params.max_tokens,
        "temperature": params.temperature.max(0.0),
        "seed": params.seed,
        "repeat_penalty": params.repeat_penalty,
        "repetition_penalty": params.repeat_penalty,
        "repeat_last_n": params.repeat_last_n,
    });
    if let Some(p) = params.top_p {
        body["top_p"] = json!(p);
    }
    if let Some(k) = params.top_k {
        body["top_k"] = json!(k);
    }
    if let Some(schema) = &params.json_schema {
        body["response_format"] = response_format(&server_schema(schema), format);
    }
    body
}

/// `json_schema` is the OpenAI form (vLLM, llama.cpp's `llama-server`);
/// `json_object` with a `schema` is what llama-cpp-python's server accepts
/// (`llama-server` takes it too).
fn response_format(schema: &Value, format: ResponseFormat) -> Value {
    match format {
        ResponseFormat::JsonObject => json!({"type": "json_object", "schema": schema}),
        ResponseFormat::JsonSchema | ResponseFormat::Auto => json!({
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": schema, "strict": true}
        }),
    }
}

/// The schema as a server gets it: without our engine's `x-guidance`
/// extension and without string bounds past [`MAX_STRING_BOUND`].
pub fn server_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let too_long = matches!(k.as_str(), "maxLength" | "minLength")
                    && v.as_u64().is_some_and(|n| n > MAX_STRING_BOUND);
                if k.starts_with("x-") || too_long {
                    continue;
                }
                let v = match (k.as_str(), v) {
                    // Maps of names to schemas: the names are data, not keywords.
                    (
                        "properties" | "patternProperties" | "$defs" | "definitions",
                        Value::Object(named),
                    ) => Value::Object(
                        named
                            .iter()
                            .map(|(name, s)| (name.clone(), server_schema(s)))
                            .collect(),
                    ),
                    _ => server_schema(v),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(server_schema).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_and_both_penalty_spellings_are_sent() {
        let params = GenerationParams {
            temperature: 0.3,
            top_p: None,
            top_k: Some(40),
            repeat_penalty: 1.15,
            repeat_last_n: 128,
            seed: 7,
            max_tokens: 64,
            json_schema: None,
            avoid_words: Vec::new(),
        };
        let body = chat_body(
            "m",
            &[ChatMessage::user("hi")],
            &params,
            ResponseFormat::Auto,
        );
        assert_eq!(body["stream"], true);
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["max_tokens"], 64);
        assert_eq!(body["seed"], 7);
        assert_eq!(body["top_k"], 40);
        assert!(body.get("top_p").is_none());
        assert_eq!(body["repeat_penalty"], body["repetition_penalty"]);
        assert!(body.get("response_format").is_none());
    }

    #[test]
    fn schemas_lose_long_bounds_and_extensions_in_either_format() {
        let schema = json!({
            "type": "object",
            "properties": {
                "title": {"type": "string", "minLength": 8, "maxLength": 120},
                "description": {"type": "string", "minLength": 40, "maxLength": 2000},
                "tags": {"type": "array", "items": [{"type": "string", "maxLength": 9000}]},
                "x-ref": {"type": "string"}
            },
            "x-guidance": {"whitespace_flexible": false}
        });
        let relaxed = server_schema(&schema);
        assert_eq!(relaxed["properties"]["title"]["maxLength"], 120);
        assert_eq!(relaxed["properties"]["description"]["minLength"], 40);
        assert!(relaxed["properties"]["description"]
            .get("maxLength")
            .is_none());
        assert!(relaxed["properties"]["tags"]["items"][0]
            .get("maxLength")
            .is_none());
        assert!(relaxed.get("x-guidance").is_none());
        assert_eq!(relaxed["properties"]["x-ref"]["type"], "string");

        let mut params = GenerationParams {
            json_schema: Some(schema),
            ..GenerationParams::default()
        };
        let body = chat_body("m", &[], &params, ResponseFormat::JsonObject);
        assert_eq!(body["response_format"]["type"], "json_object");
        assert_eq!(body["response_format"]["schema"], relaxed);
        params.seed = 1;
        let body = chat_body("m", &[], &params, ResponseFormat::JsonSchema);
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["schema"], relaxed);
    }
}
