//! What changed between two versions of a draft, field by field: by word
//! for English, by character for Chinese (which has no spaces between
//! words, so a word diff would replace whole sentences).

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::comments::version_fields;
use crate::checks::is_han;
use crate::error::{CoreError, Result};
use crate::types::Draft;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffOp {
    Equal,
    Insert,
    Delete,
}

/// A run of text with one op; neighbouring runs have different ops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffChunk {
    pub op: DiffOp,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Word,
    Char,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiff {
    pub field: String,
    pub granularity: Granularity,
    pub changed: bool,
    pub chunks: Vec<DiffChunk>,
    /// The chunks as text, `[-deleted-]{+inserted+}`.
    pub rendered: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDiff {
    pub draft_id: i64,
    pub from: i64,
    pub to: i64,
    /// Every field of either version, in the newer version's order with
    /// fields only the older one has at the end.
    pub fields: Vec<FieldDiff>,
}

impl VersionDiff {
    /// The changed fields as `field: rendered` lines; says so when nothing
    /// changed.
    pub fn render(&self) -> String {
        let changed: Vec<String> = self
            .fields
            .iter()
            .filter(|f| f.changed)
            .map(|f| format!("{}: {}", f.field, f.rendered))
            .collect();
        if changed.is_empty() {
            return format!("versions {} and {} have the same text", self.from, self.to);
        }
        changed.join("\n")
    }
}

/// Diff two texts: by character when either contains a Han character,
/// else by word (words and the spaces between them are separate tokens).
pub fn diff_texts(old: &str, new: &str) -> (Granularity, Vec<DiffChunk>) {
    let granularity = if old.chars().chain(new.chars()).any(is_han) {
        Granularity::Char
    } else {
        Granularity::Word
    };
    let diff = match granularity {
        Granularity::Char => TextDiff::from_chars(old, new),
        Granularity::Word => TextDiff::from_words(old, new),
    };
    let mut chunks: Vec<DiffChunk> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => DiffOp::Equal,
            ChangeTag::Insert => DiffOp::Insert,
            ChangeTag::Delete => DiffOp::Delete,
        };
        match chunks.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => chunks.push(DiffChunk {
                op,
                text: change.value().to_string(),
            }),
        }
    }
    (granularity, chunks)
}

/// `[-deleted-]{+inserted+}` around changed runs, equal text as it is.
pub fn render_chunks(chunks: &[DiffChunk]) -> String {
    let mut out = String::new();
    for c in chunks {
        match c.op {
            DiffOp::Equal => out.push_str(&c.text),
            DiffOp::Delete => {
                out.push_str("[-");
                out.push_str(&c.text);
                out.push_str("-]");
            }
            DiffOp::Insert => {
                out.push_str("{+");
                out.push_str(&c.text);
                out.push_str("+}");
            }
        }
    }
    out
}

/// Diff versions `from` and `to` of a draft.
pub fn diff_versions(draft: &Draft, from: i64, to: i64) -> Result<VersionDiff> {
    let version = |n: i64| {
        draft
            .versions
            .iter()
            .find(|v| v.version == n)
            .ok_or_else(|| {
                CoreError::InvalidInput(format!(
                    "draft {} has no version {n} (it has 1..={})",
                    draft.id,
                    draft.versions.len()
                ))
            })
    };
    let old = version_fields(&draft.kind, version(from)?);
    let new = version_fields(&draft.kind, version(to)?);
    let mut names: Vec<&str> = new.iter().map(|(n, _)| n.as_str()).collect();
    for (n, _) in &old {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let text_of = |fields: &[(String, String)], name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let fields = names
        .into_iter()
        .map(|name| {
            let (granularity, chunks) = diff_texts(&text_of(&old, name), &text_of(&new, name));
            FieldDiff {
                field: name.to_string(),
                granularity,
                changed: chunks.iter().any(|c| c.op != DiffOp::Equal),
                rendered: render_chunks(&chunks),
                chunks,
            }
        })
        .collect();
    Ok(VersionDiff {
        draft_id: draft.id,
        from,
        to,
        fields,
    })
}
