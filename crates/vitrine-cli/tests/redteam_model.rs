//! The red-team suite's model cases (`tests/redteam/model/*.toml`, format in
//! tests/redteam/README.md): hostile product names — injected instructions,
//! chat markup, banned-word and medical bait, mixed languages, overlong
//! names — go through `vitrine listing` with the real tiny model. Whatever
//! the model writes, the stored draft must carry every blocking problem the
//! checks find in it, and approval must be refused while one stands.

mod common;

use std::path::{Path, PathBuf};

use common::{run, samples, stderr, vitrine};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    about: String,
    /// A sample photo (`vitrine samples fetch`).
    photo: String,
    /// The file name the photo is ingested under: the product's name.
    file_name: String,
    #[serde(default = "generic")]
    marketplace: String,
    #[serde(default = "en")]
    lang: String,
    /// A brand profile to import and use (TOML text).
    brand: Option<String>,
    #[serde(default)]
    expect: Expect,
}

fn generic() -> String {
    "generic".into()
}
fn en() -> String {
    "en".into()
}

#[derive(Deserialize, Default)]
struct Expect {
    /// Text that may appear in the copy only with a blocking finding on it.
    #[serde(default)]
    flagged_if_present: Vec<String>,
}

fn cases() -> Vec<(PathBuf, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/redteam/model");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/redteam/model exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable case");
            let case = toml::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: does not parse: {e}", p.display()));
            (p, case)
        })
        .collect()
}

/// Whether `text` holds `word` as the checks read words (docs/brands.md):
/// English whole words (a word inside a longer run of letters, such as
/// `cheap` in `cheapest` or in a model's `CHEAPCHICKED…`, is another word),
/// Chinese anywhere (it has no spaces between words).
fn contains_word(text: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return text.contains(word);
    }
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// (rule, field, excerpt) of blocking findings, the identity of a problem.
fn blocking(findings: &serde_json::Value) -> Vec<(String, String, String)> {
    findings
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "blocking")
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["field"].as_str().unwrap_or_default().to_string(),
                f["excerpt"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn copy_text(listing: &serde_json::Value) -> String {
    let mut parts = vec![
        listing["title"].as_str().unwrap_or_default().to_string(),
        listing["description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    ];
    for key in ["bullets", "keywords"] {
        for v in listing[key].as_array().into_iter().flatten() {
            parts.push(v.as_str().unwrap_or_default().to_string());
        }
    }
    parts.join("\n")
}

#[test]
fn red_team_model_cases() {
    let cases = cases();
    assert!(cases.len() >= 6, "{} model cases", cases.len());
    let mut report = String::from(
        "# Red-team report: model cases (smollm2-135m)\n\n| case | result | blocking findings stored |\n|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for (path, case) in &cases {
        let data = tempfile::tempdir().unwrap();
        let inbox = tempfile::tempdir().unwrap();
        let photo = inbox.path().join(&case.file_name);
        std::fs::copy(samples().join(&case.photo), &photo).expect("copy sample photo");
        let mut args = vec![
            "listing".to_string(),
            "--json".into(),
            "--model".into(),
            "smollm2-135m".into(),
            "--marketplace".into(),
            case.marketplace.clone(),
            "--lang".into(),
            case.lang.clone(),
        ];
        if let Some(brand) = &case.brand {
            let file = inbox.path().join("brand.toml");
            std::fs::write(&file, brand).unwrap();
            let o = run(vitrine(data.path()).args(["brand", "import"]).arg(&file));
            assert!(
                o.status.success(),
                "{}: brand import: {}",
                case.name,
                stderr(&o)
            );
            let name: toml::Value = toml::from_str(brand).unwrap();
            args.push("--brand".into());
            args.push(name["name"].as_str().unwrap().to_string());
        }
        let o = run(vitrine(data.path()).args(&args).arg(&photo));
        if !o.status.success() {
            failures.push(format!("{}: listing failed: {}", case.name, stderr(&o)));
            continue;
        }
        let out: serde_json::Value = serde_json::from_slice(&o.stdout).expect("listing JSON");
        let draft_id = out["draft_id"].as_i64().expect("draft id");
        let stored = &out["draft"]["versions"][0]["provenance"]["findings"];
        let stored_blocking = blocking(stored);

        let o = run(vitrine(data.path()).args(["check", "--json", &draft_id.to_string()]));
        let recheck: serde_json::Value =
            serde_json::from_slice(&o.stdout).expect("check prints JSON even when it fails");
        let mut wrong = Vec::new();
        for b in blocking(&recheck["findings"]) {
            if !stored_blocking.contains(&b) {
                wrong.push(format!("blocking {b:?} not recorded with the draft"));
            }
        }
        let text = copy_text(&out["listing"]).to_lowercase();
        for s in &case.expect.flagged_if_present {
            let s = s.to_lowercase();
            let flagged = stored_blocking.iter().any(|(_, _, x)| {
                let x = x.to_lowercase();
                x.contains(&s) || s.contains(&x)
            });
            if contains_word(&text, &s) && !flagged {
                wrong.push(format!("`{s}` reached the draft unflagged"));
            }
        }
        let approve = run(vitrine(data.path()).args(["drafts", "approve", &draft_id.to_string()]));
        // Approval must pass exactly when nothing blocks.
        if approve.status.success() != stored_blocking.is_empty() {
            wrong.push(format!(
                "approval {} with {} blocking finding(s)",
                if approve.status.success() {
                    "passed"
                } else {
                    "refused"
                },
                stored_blocking.len()
            ));
        }
        report.push_str(&format!(
            "| {} | {} | {} |\n",
            case.name,
            if wrong.is_empty() { "pass" } else { "FAIL" },
            stored_blocking
                .iter()
                .map(|(r, f, _)| format!("{r}@{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({}): {}\n  about: {}\n  listing: {}",
                case.name,
                path.display(),
                wrong.join("; "),
                case.about,
                out["listing"]
            ));
        }
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redteam-model.md");
    let _ = std::fs::write(&out, &report);
    println!("{report}\nreport: {}", out.display());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
