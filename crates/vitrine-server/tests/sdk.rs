//! A second program, written by nobody here, uses Vitrine over HTTP: the
//! official `openai` Python SDK (scripts/openai-sdk-check.py) against an
//! in-process server, from the test tools' venv (`common::tool_python`).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{tool_python, Server, TINY};

#[test]
fn the_official_openai_sdk_is_a_client() {
    let python = tool_python();
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
