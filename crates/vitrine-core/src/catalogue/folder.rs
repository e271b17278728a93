//! A folder of photos: one product per sub-folder, plus the loose photos at
//! the top grouped by file name (`blue-tee-1.jpg`, `blue-tee_back.png` →
//! "blue tee").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::import::io_error;
use super::text::slug;
use super::{
    CatalogueError, CatalogueProduct, ImageRef, ParsedCatalogue, SkippedFile, SourceFormat,
};

/// More entries than this in one folder are refused (a mistaken `~`).
pub const MAX_FOLDER_ENTRIES: usize = 100_000;

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp"];

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// A trailing `[-_ ]` + number or view name; `None` cannot happen for this
/// literal (the tests compile it) and would only stop the grouping.
static SUFFIX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^(.*?[^-_ ])[-_ ]+(?:\d+|front|back|side|detail|main|alt)$").ok()
});

/// The product a loose file belongs to: its stem without the trailing
/// view or number suffixes, separators as spaces: `Blue-Tee_back` →
/// `Blue Tee`.
pub(super) fn group_name(stem: &str) -> String {
    let mut name = stem.trim();
    let Some(suffix) = SUFFIX.as_ref() else {
        return name.to_string();
    };
    while let Some(c) = suffix.captures(name) {
        match c.get(1) {
            Some(m) => name = m.as_str(),
            None => break,
        }
    }
    name.split(['-', '_', ' '])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Entries of a folder, sorted by name, hidden ones left out.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, CatalogueError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hidden(&name) {
            continue;
        }
        out.push((name, entry.path()));
        if out.len() > MAX_FOLDER_ENTRIES {
            return Err(CatalogueError::TooManyFiles {
                path: dir.to_path_buf(),
                limit: MAX_FOLDER_ENTRIES,
            });
        }
    }
    out.sort();
    Ok(out)
}

struct Group {
    title: String,
    photos: Vec<PathBuf>,
}

pub(super) fn parse_folder(dir: &Path) -> Result<ParsedCatalogue, CatalogueError> {
    // Keyed by handle, so products come out sorted and a sub-folder and
    // loose files with the same name are one product.
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut add = |title: &str, photo: PathBuf, skipped: &mut Vec<SkippedFile>| {
        let handle = slug(title);
        if handle.is_empty() {
            skipped.push(SkippedFile {
                path: photo,
                reason: "its name has no letters or digits to name a product".into(),
            });
            return;
        }
        groups
            .entry(handle)
            .or_insert_with(|| Group {
                title: title.to_string(),
                photos: Vec::new(),
            })
            .photos
            .push(photo);
    };
    for (name, path) in entries(dir)? {
        // Follows links: a linked photo or folder counts like a real one.
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_dir() {
            let mut any = false;
            for (_, inner) in entries(&path)? {
                let inner_meta = std::fs::metadata(&inner).map_err(|e| io_error(&inner, e))?;
                if inner_meta.is_dir() {
                    skipped.push(SkippedFile {
                        path: inner,
                        reason: "a folder inside a product folder is not read".into(),
                    });
                } else if is_image(&inner) {
                    add(name.trim(), inner, &mut skipped);
                    any = true;
                } else {
                    skipped.push(not_a_photo(inner));
                }
            }
            if !any {
                skipped.push(SkippedFile {
                    path,
                    reason: "the folder holds no photos".into(),
                });
            }
        } else if is_image(&path) {
            let stem = Path::new(&name)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(&name);
            add(&group_name(stem), path, &mut skipped);
        } else {
            skipped.push(not_a_photo(path));
        }
    }
    let products = groups
        .into_iter()
        .map(|(handle, g)| {
            let mut p = CatalogueProduct::new(handle, g.title, 0);
            p.images = g
                .photos
                .iter()
                .enumerate()
                .map(|(i, path)| ImageRef {
                    src: path.to_string_lossy().into_owned(),
                    position: u32::try_from(i + 1).ok(),
                    alt: None,
                })
                .collect();
            p.photos = g.photos;
            p
        })
        .collect();
    Ok(ParsedCatalogue {
        format: SourceFormat::Folder,
        encoding: String::new(),
        products,
        errors: Vec::new(),
        skipped_files: skipped,
    })
}

fn not_a_photo(path: PathBuf) -> SkippedFile {
    SkippedFile {
        path,
        reason: format!(
            "not a photo (Vitrine reads {})",
            IMAGE_EXTENSIONS.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_group_by_stem() {
        assert!(SUFFIX.is_some());
        for (stem, want) in [
            ("blue-tee-1", "blue tee"),
            ("blue-tee_back", "blue tee"),
            ("Blue Tee FRONT", "Blue Tee"),
            ("blue-tee_front_2", "blue tee"),
            ("blue-tee", "blue tee"),
            ("1", "1"),
            ("tee-42x", "tee 42x"),
            ("backpack", "backpack"),
            ("-back", "back"),
        ] {
            assert_eq!(group_name(stem), want, "{stem}");
        }
    }
}
