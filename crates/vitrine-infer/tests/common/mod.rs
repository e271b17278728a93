//! Finding the real models the tests run against. They are fetched by
//! `scripts/test.sh` (`vitrine models fetch all`); a missing model fails the
//! test with the command that fixes it rather than skipping silently.

use std::path::PathBuf;

use vitrine_infer::{Manifest, ModelSpec, ModelStore};

pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VITRINE_MODELS_DIR").filter(|v| !v.is_empty()) {
        return dir.into();
    }
    let data = std::env::var_os("VITRINE_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.data_dir().to_path_buf())
        })
        .expect("a home directory");
    data.join("models")
}

#[allow(dead_code)]
pub fn installed(id: &str) -> (ModelSpec, PathBuf) {
    let manifest = Manifest::builtin().expect("manifest");
    let spec = manifest.get(id).expect("model in manifest").clone();
    let store = ModelStore::new(models_dir());
    assert!(
        store.is_installed(&spec),
        "model {id} is not installed in {}; run `vitrine models fetch {id}` (scripts/test.sh does)",
        store.dir().display()
    );
    let path = store.path_for(&spec);
    (spec, path)
}

/// A tokenizer vocabulary fetched by `scripts/fetch-test-vocab.sh` into
/// `VITRINE_VOCAB_DIR` (default `vocab/` in the download cache:
/// `VITRINE_CACHE_DIR` or `~/.cache/vitrine`).
#[allow(dead_code)]
pub fn vocab_file(name: &str) -> PathBuf {
    let env_dir = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = env_dir("VITRINE_VOCAB_DIR")
        .or_else(|| env_dir("VITRINE_CACHE_DIR").map(|d| d.join("vocab")))
        .or_else(|| directories::BaseDirs::new().map(|d| d.cache_dir().join("vitrine/vocab")))
        .expect("a home directory");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "vocabulary {name} is not in {}; run `scripts/fetch-test-vocab.sh` \
         (`scripts/setup.sh --test-deps` runs it)",
        dir.display()
    );
    path
}
