//! What the `vitrine` binary's end-to-end tests share: a fresh data dir per
//! test, the user's (large) models dir, the sample photos fetched once.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Models are big and shared: tests use the user's models dir (or
/// `VITRINE_MODELS_DIR`) while every test gets a fresh data dir.
pub fn shared_models_dir() -> PathBuf {
    std::env::var_os("VITRINE_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.data_dir().join("models"))
        })
        .expect("a home directory")
}

pub fn vitrine(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vitrine"));
    cmd.env("VITRINE_DATA_DIR", data)
        .env("VITRINE_MODELS_DIR", shared_models_dir())
        .env_remove("VITRINE_DEVICE")
        .env_remove("VITRINE_ROUTER_THRESHOLD");
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run vitrine")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The sample photos, fetched once per test run through `vitrine samples fetch`.
pub fn samples() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("samples");
        let tmp = tempfile::tempdir().expect("tempdir");
        let o = run(vitrine(tmp.path())
            .args(["samples", "fetch", "--dir"])
            .arg(&dir));
        assert!(o.status.success(), "samples fetch failed: {}", stderr(&o));
        dir
    })
}

/// The binary with a fixed OS user, so the implicit first profile (an
/// admin) has a known name: `merchant`.
pub fn as_merchant(data: &Path) -> Command {
    let mut cmd = vitrine(data);
    cmd.env("USER", "merchant")
        .env_remove("USERNAME")
        .env_remove("VITRINE_PROFILE");
    cmd
}

/// Stdout of a run that must have succeeded.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", stderr(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stdout of a run that must have succeeded, as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    let out = ok(o);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Stdout as JSON whatever the exit status: commands that partly fail
/// (a bulk action) still report every item.
pub fn stdout_json(o: &Output) -> serde_json::Value {
    let out = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}
