//! A second program, written by nobody here, uses Vitrine over HTTP: the
//! official `openai` Python SDK (scripts/openai-sdk-check.py) against an
//! in-process server. The SDK lives in a venv in the cache
//! (`VITRINE_SDK_PYTHON` overrides it; scripts/setup.sh --test-deps makes
//! it, and this test does too when it is missing).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Server, TINY};

fn sdk_python() -> PathBuf {
    if let Some(p) = std::env::var_os("VITRINE_SDK_PYTHON").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("VITRINE_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.cache_dir().to_path_buf())
        })
        .expect("a cache dir");
    let venv = cache.join("serve").join("sdk-venv");
    let python = venv.join("bin").join("python");
    let ready = |p: &PathBuf| {
        Command::new(p)
            .args(["-c", "import openai"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        assert!(
            ok.is_ok_and(|s| s.success()),
            "python3 -m venv failed (install python3-venv)"
        );
        let ok = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "openai==3.57.0",
            ])
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "pip install openai failed");
    }
    python
}

#[test]
fn the_official_openai_sdk_is_a_client() {
    let python = sdk_python();
    let s = Server::start();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/openai-sdk-check.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(s.url("/v1"))
        .arg(&s.tokens.author)
        .arg(TINY)
        .output()
        .expect("run the SDK check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openai SDK check failed:\n{stdout}\n{stderr}"
    );
    eprintln!("{stdout}");
    assert!(stdout.contains("agree"), "{stdout}");
}
