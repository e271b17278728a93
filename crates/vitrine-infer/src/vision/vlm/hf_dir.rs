//! A Hugging Face model directory as Transformers saves it: `config.json`,
//! weights in one `model.safetensors` or shards named by
//! `model.safetensors.index.json`, `tokenizer.json`, and optionally
//! `preprocessor_config.json`, `generation_config.json` and a chat template
//! (`chat_template.jinja`, `chat_template.json`, or `tokenizer_config.json`'s
//! `chat_template`). Everything in it is untrusted: names in the index are
//! plain file names in the directory, and a missing or malformed file is an
//! error that names it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::VlmSource;
use crate::error::{InferError, Result};

const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";
const SINGLE_WEIGHTS: &str = "model.safetensors";
const WEIGHTS_INDEX: &str = "model.safetensors.index.json";
const PREPROCESSOR: &str = "preprocessor_config.json";
const GENERATION: &str = "generation_config.json";
const TEMPLATE_JINJA: &str = "chat_template.jinja";
const TEMPLATE_JSON: &str = "chat_template.json";
const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// The files of a model directory, found and checked.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub root: PathBuf,
    pub config: PathBuf,
    pub weights: Vec<PathBuf>,
    pub tokenizer: PathBuf,
    pub preprocessor: Option<PathBuf>,
    pub generation: Option<PathBuf>,
    /// The chat template's source, when the directory has one.
    pub chat_template: Option<String>,
}

fn bad(path: &Path, reason: impl Into<String>) -> InferError {
    InferError::BadModelDir {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read it: {e}")))
}

/// Parse a JSON file, naming it in the error.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| bad(path, format!("malformed JSON: {e}")))
}

/// A bare file name: no directories, no `..`, so an index cannot point
/// outside the model directory.
fn plain_file_name(name: &str) -> bool {
    Path::new(name).file_name().is_some_and(|f| f == name) && name != ".." && name != "."
}

#[derive(Deserialize)]
struct WeightIndex {
    weight_map: HashMap<String, String>,
}

#[derive(Deserialize)]
struct TemplateFile {
    chat_template: Option<TemplateField>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TemplateField {
    One(String),
    Named(Vec<NamedTemplate>),
}

#[derive(Deserialize)]
struct NamedTemplate {
    name: String,
    template: String,
}

impl TemplateField {
    fn default_template(self) -> Option<String> {
        match self {
            TemplateField::One(s) => Some(s),
            TemplateField::Named(list) => list
                .into_iter()
                .find(|t| t.name == "default")
                .map(|t| t.template),
        }
    }
}

impl ModelDir {
    /// Find and check the files of the model in `dir` (or of the
    /// `config.json` it names).
    pub fn open(dir: &Path) -> Result<Self> {
        let root = if dir.is_file() && dir.file_name().is_some_and(|n| n == CONFIG) {
            dir.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            dir.to_path_buf()
        };
        if !root.is_dir() {
            return Err(bad(&root, "no such directory"));
        }
        let required = |name: &str| -> Result<PathBuf> {
            let p = root.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(bad(&p, "missing (a Hugging Face model directory needs it)"))
            }
        };
        let optional = |name: &str| Some(root.join(name)).filter(|p| p.is_file());
        let config = required(CONFIG)?;
        let tokenizer = required(TOKENIZER)?;
        let weights = Self::weights(&root)?;
        let chat_template = Self::chat_template(&root)?;
        Ok(Self {
            config,
            weights,
            tokenizer,
            preprocessor: optional(PREPROCESSOR),
            generation: optional(GENERATION),
            chat_template,
            root,
        })
    }

    fn weights(root: &Path) -> Result<Vec<PathBuf>> {
        let index = root.join(WEIGHTS_INDEX);
        if index.is_file() {
            let parsed: WeightIndex = read_json(&index)?;
            let mut files: Vec<String> = parsed.weight_map.into_values().collect();
            files.sort();
            files.dedup();
            if files.is_empty() {
                return Err(bad(&index, "its weight_map names no files"));
            }
            return files
                .into_iter()
                .map(|name| {
                    if !plain_file_name(&name) {
                        return Err(bad(
                            &index,
                            format!("shard `{name}` is not a file name in the model directory"),
                        ));
                    }
                    let p = root.join(&name);
                    if p.is_file() {
                        Ok(p)
                    } else {
                        Err(bad(&p, "missing (named by model.safetensors.index.json)"))
                    }
                })
                .collect();
        }
        let single = root.join(SINGLE_WEIGHTS);
        if single.is_file() {
            return Ok(vec![single]);
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(|e| bad(root, format!("cannot list it: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "safetensors"))
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(bad(
                root,
                "no weights: expected model.safetensors or model.safetensors.index.json",
            ));
        }
        Ok(found)
    }

    fn chat_template(root: &Path) -> Result<Option<String>> {
        let jinja = root.join(TEMPLATE_JINJA);
        if jinja.is_file() {
            return read_text(&jinja).map(Some);
        }
        for name in [TEMPLATE_JSON, TOKENIZER_CONFIG] {
            let p = root.join(name);
            if p.is_file() {
                let file: TemplateFile = read_json(&p)?;
                if let Some(t) = file.chat_template.and_then(TemplateField::default_template) {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }
}

/// The local directory holding a model from `source`: a `path` as it is; an
/// `hf` repository downloaded (only the files a model directory needs) into
/// the Hugging Face cache (`HF_HOME`, `HF_ENDPOINT` and `HF_TOKEN` are read
/// from the environment), or found there when already downloaded.
pub fn resolve_vlm_source(source: &VlmSource) -> Result<PathBuf> {
    match source {
        VlmSource::Path(p) => {
            let dir = ModelDir::open(p)?;
            Ok(dir.root)
        }
        VlmSource::Hf { repo, revision } => download_hf(repo, revision.as_deref()),
    }
}

fn download_hf(repo_id: &str, revision: Option<&str>) -> Result<PathBuf> {
    use hf_hub::{Repo, RepoType};
    let fetch_err = |reason: String| InferError::Fetch {
        id: repo_id.to_string(),
        reason,
    };
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| fetch_err(e.to_string()))?;
    let repo = match revision {
        Some(rev) => Repo::with_revision(repo_id.to_string(), RepoType::Model, rev.to_string()),
        None => Repo::new(repo_id.to_string(), RepoType::Model),
    };
    let repo = api.repo(repo);
    // The listing says which optional files exist; offline (or when the Hub
    // cannot be asked) the cache answers for every file instead.
    let listed: Option<Vec<String>> = match repo.info() {
        Ok(info) => Some(info.siblings.into_iter().map(|s| s.rfilename).collect()),
        Err(e) => {
            tracing::warn!(repo = repo_id, error = %e, "cannot list the repository; using the cache");
            None
        }
    };
    let has = |name: &str| listed.as_ref().is_none_or(|l| l.iter().any(|f| f == name));
    let get = |name: &str| {
        repo.get(name)
            .map_err(|e| fetch_err(format!("{name}: {e}")))
    };

    let config = get(CONFIG)?;
    get(TOKENIZER)?;
    for name in [
        PREPROCESSOR,
        GENERATION,
        TEMPLATE_JINJA,
        TEMPLATE_JSON,
        TOKENIZER_CONFIG,
    ] {
        if has(name) {
            if let Err(e) = repo.get(name) {
                if listed.is_some() {
                    return Err(fetch_err(format!("{name}: {e}")));
                }
            }
        }
    }
    let index_listed = listed
        .as_ref()
        .map(|l| l.iter().any(|f| f == WEIGHTS_INDEX));
    let index = match index_listed {
        Some(false) => None,
        Some(true) => Some(get(WEIGHTS_INDEX)?),
        None => repo.get(WEIGHTS_INDEX).ok(),
    };
    match index {
        Some(index) => {
            let parsed: WeightIndex = read_json(&index)?;
            let mut shards: Vec<String> = parsed.weight_map.into_values().collect();
            shards.sort();
            shards.dedup();
            for shard in shards {
                if !plain_file_name(&shard) {
                    return Err(fetch_err(format!(
                        "{WEIGHTS_INDEX} names `{shard}`, which is not a file name"
                    )));
                }
                get(&shard)?;
            }
        }
        None => {
            get(SINGLE_WEIGHTS)?;
        }
    }
    let dir = config
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| fetch_err("the cache returned a path without a directory".into()))?;
    Ok(ModelDir::open(&dir)?.root)
}
