//! Contract tests generated from the OpenAPI document: schemathesis (a
//! second program, written by nobody here) derives cases from
//! `/openapi.json` and runs all its checks (its default) against an in-process
//! server: no server errors, documented statuses, content types and
//! schemas, valid data accepted, invalid data and missing auth refused.
//! Settings and exclusions, with reasons: tests/schemathesis.toml.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{tool_python, Server};

#[test]
fn schemathesis_finds_no_contract_violation() {
    let python = tool_python();
    let schemathesis = python.with_file_name("schemathesis");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis.toml");
    let s = Server::start();
    let seed = std::env::var("VITRINE_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261129".into());
    // schemathesis keeps a cache of past failures under its working
    // directory; a throwaway one keeps it out of the checkout.
    let workdir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(&schemathesis)
        .current_dir(workdir.path())
        .arg("--config-file")
        .arg(&config)
        .args(["run", &s.url("/openapi.json")])
        .args(["--max-examples", "10", "--seed", &seed])
        .args(["--no-color", "--max-failures", "20"])
        .arg("-H")
        .arg(format!("Authorization: Bearer {}", s.tokens.admin))
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout.rsplit("SUMMARY").next().unwrap_or(&stdout);
    eprintln!("schemathesis (seed {seed}):{summary}");
    assert!(
        out.status.success(),
        "schemathesis found contract violations (seed {seed}; VITRINE_SCHEMATHESIS_SEED repeats it):\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Tested:"),
        "no operation was tested:\n{stdout}"
    );
}
