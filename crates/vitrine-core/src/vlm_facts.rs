//! Facts from a vision-language model: a knowledge-graph-constrained
//! question about the photo, answered as JSON valid by construction
//! (llguidance), mapped back onto the graph's keys.

use std::sync::{Arc, Mutex};

use image::DynamicImage;
use serde_json::{json, Value};
use vitrine_infer::vision::vlm::VisionModel;
use vitrine_infer::{CancelToken, GenerationParams};

use crate::error::{CoreError, Result};
use crate::kg::KnowledgeGraph;

/// A loaded vision-language model, shared by the analyses that use it
/// (one answer at a time).
pub type SharedVlm = Arc<Mutex<Box<dyn VisionModel>>>;

/// Attributes asked besides category and colour: the ones most products
/// of every top level can be judged on from a photo.
pub const ASKED: [&str; 4] = ["material", "pattern", "style", "season"];

/// A VLM's answer is not a calibrated probability: its facts carry this
/// confidence, below what the classifier and colour analysis usually give,
/// so measured facts win in prompts where both exist.
pub const VISION_CONFIDENCE: f32 = 0.5;

pub const PROMPT: &str = "Describe the product in this photo for an online shop listing. \
Answer with one JSON object: its category, its main colour, and its material, pattern, \
style and season where the photo shows them, each chosen from the allowed values. \
请根据图片描述商品，只从允许的取值中选择。";

/// The reply's JSON schema: every value an enum of the graph's keys.
pub fn schema(kg: &KnowledgeGraph) -> Value {
    let keys = |attr: &str| -> Vec<String> { kg.values(attr).into_iter().map(|v| v.key).collect() };
    let categories: Vec<String> = kg.categories().map(|c| c.key.clone()).collect();
    let mut props = serde_json::Map::new();
    props.insert(
        "category".into(),
        json!({"type": "string", "enum": categories}),
    );
    props.insert(
        "colour".into(),
        json!({"type": "string", "enum": keys("colour")}),
    );
    for a in ASKED {
        let values = keys(a);
        if !values.is_empty() {
            props.insert(a.into(), json!({"type": "string", "enum": values}));
        }
    }
    json!({
        "type": "object",
        "properties": props,
        "required": ["category", "colour"],
        "additionalProperties": false,
        // No free whitespace: the shortest answer, and no room to wander.
        "x-guidance": {"whitespace_flexible": false, "key_separator": ": ", "item_separator": ", "}
    })
}

/// One fact the model stated: key, value key, English and Chinese labels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VisionFact {
    pub key: String,
    pub value: String,
    pub en: String,
    pub zh: String,
}

/// Ask `vlm` about `img` and map its answer onto the graph. Values the
/// graph does not know (impossible under the schema, but the answer is
/// checked anyway) are dropped.
pub fn describe(
    vlm: &SharedVlm,
    kg: &KnowledgeGraph,
    img: &DynamicImage,
) -> Result<Vec<VisionFact>> {
    let params = GenerationParams {
        temperature: 0.0,
        // The longest answer the schema allows, even spelt byte by byte.
        max_tokens: 512,
        json_schema: Some(schema(kg)),
        ..GenerationParams::default()
    };
    let answer = {
        let mut model = vlm.lock().map_err(|_| {
            CoreError::InvalidInput("the vision model is unusable after a crash".into())
        })?;
        model.describe(img, PROMPT, &params, &CancelToken::new())?
    };
    let value: Value = serde_json::from_str(&answer.text).map_err(|e| {
        CoreError::InvalidInput(format!("the vision model's answer is not JSON: {e}"))
    })?;
    Ok(facts(kg, &value))
}

/// Map a JSON answer onto graph keys.
pub fn facts(kg: &KnowledgeGraph, answer: &Value) -> Vec<VisionFact> {
    let mut out = Vec::new();
    if let Some(c) = answer["category"].as_str().and_then(|k| kg.category(k)) {
        out.push(VisionFact {
            key: "category".into(),
            value: c.key.clone(),
            en: c.en.clone(),
            zh: c.zh.clone(),
        });
    }
    for attr in std::iter::once("colour").chain(ASKED) {
        if let Some(v) = answer[attr].as_str().and_then(|s| kg.find_value(attr, s)) {
            out.push(VisionFact {
                key: attr.into(),
                value: v.key,
                en: v.en,
                zh: v.zh,
            });
        }
    }
    out
}

/// Load a vision-language model from `source`: a local Hugging Face-format
/// directory, or `hf:OWNER/REPO[@REVISION]` to download it into the Hub
/// cache. Only the Qwen3-VL family is supported.
pub fn load(source: &str, device: vitrine_infer::DevicePref) -> Result<SharedVlm> {
    use vitrine_infer::vision::vlm::{resolve_vlm_source, Qwen3VlModel, VlmSource};
    let src = match source.strip_prefix("hf:") {
        Some(rest) => {
            let (repo, revision) = match rest.split_once('@') {
                Some((r, v)) => (r.to_string(), Some(v.to_string())),
                None => (rest.to_string(), None),
            };
            VlmSource::Hf { repo, revision }
        }
        None => VlmSource::Path(std::path::PathBuf::from(source)),
    };
    let dir = resolve_vlm_source(&src)?;
    let device = vitrine_infer::select_device(device)?;
    let model = Qwen3VlModel::load(&dir, &device)?;
    Ok(Arc::new(
        Mutex::new(Box::new(model) as Box<dyn VisionModel>),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_only_allows_graph_keys_and_answers_map_back() {
        let kg = KnowledgeGraph::builtin().unwrap();
        let s = schema(&kg);
        let cats = s["properties"]["category"]["enum"].as_array().unwrap();
        assert!(cats.iter().any(|c| c == "apparel.tops.hoodies"));
        assert!(s["properties"]["material"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "cotton"));
        let f = facts(
            &kg,
            &json!({"category": "apparel.tops.hoodies", "colour": "navy", "material": "cotton", "style": "nonsense"}),
        );
        let keys: Vec<&str> = f.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["category", "colour", "material"]);
        assert_eq!(f[1].zh, "藏青色");
    }
}
