//! The red-team suite's check cases (`tests/redteam/listings/*.toml`, format
//! in tests/redteam/README.md): adversarial drafts — banned-word bait,
//! injected instructions that made it into copy, contradictions with the
//! facts, invented specs, the wrong language, overlong fields, brand rules —
//! and false-positive guards, run through the real checks and knowledge
//! graph. Every case must pass; the report lists each case's findings.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vitrine_core::brand::BrandProfile;
use vitrine_core::checks::{self, FieldText, Finding, Severity};
use vitrine_core::kg::KnowledgeGraph;
use vitrine_core::listing::{marketplace, Lang};
use vitrine_core::{Fact, FactSource, Listing};

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    about: String,
    #[serde(default = "generic")]
    marketplace: String,
    #[serde(default = "en")]
    lang: String,
    #[serde(default)]
    product_name: String,
    #[serde(default)]
    facts: Vec<CaseFact>,
    listing: Option<Listing>,
    text: Option<String>,
    brand: Option<BrandProfile>,
    expect: Expect,
}

fn generic() -> String {
    "generic".into()
}
fn en() -> String {
    "en".into()
}

#[derive(Deserialize)]
struct CaseFact {
    key: String,
    value: String,
    #[serde(default)]
    label_en: String,
    #[serde(default)]
    label_zh: String,
    #[serde(default = "colour_source")]
    source: String,
}

fn colour_source() -> String {
    "colour".into()
}

#[derive(Deserialize, Default)]
struct Expect {
    /// Rules that must be among the blocking findings.
    #[serde(default)]
    blocking: Vec<String>,
    /// Rules that must be among the warnings.
    #[serde(default)]
    warnings: Vec<String>,
    /// Rules that must not fire at all (false-positive guards).
    #[serde(default)]
    absent: Vec<String>,
    /// No blocking finding at all.
    #[serde(default)]
    approvable: bool,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/redteam/listings")
}

fn run(case: &Case, kg: &KnowledgeGraph) -> Result<Vec<Finding>, String> {
    let mp = marketplace(&case.marketplace).map_err(|e| e.to_string())?;
    let lang = Lang::parse(&case.lang).map_err(|e| e.to_string())?;
    let facts: Vec<Fact> = case
        .facts
        .iter()
        .enumerate()
        .map(|(i, f)| Fact {
            id: i as i64 + 1,
            product_id: 1,
            key: f.key.clone(),
            value: f.value.clone(),
            label_en: if f.label_en.is_empty() {
                f.value.clone()
            } else {
                f.label_en.clone()
            },
            label_zh: f.label_zh.clone(),
            source: FactSource::parse(&f.source).unwrap_or(FactSource::Colour),
            confidence: 0.9,
            data: serde_json::json!({}),
        })
        .collect();
    let ctx = checks::Context {
        marketplace: &mp,
        lang,
        facts: &facts,
        product_name: &case.product_name,
        kg: Some(kg),
        brand: case.brand.as_ref(),
    };
    match (&case.listing, &case.text) {
        (Some(l), None) => Ok(checks::check_listing(l, &ctx)),
        (None, Some(t)) => Ok(checks::check_fields(
            &[FieldText {
                field: "text".into(),
                text: t,
            }],
            &ctx,
        )),
        _ => Err("a case has either [listing] or text".into()),
    }
}

/// What is wrong with a case's outcome; empty when it passes.
fn verdict(case: &Case, findings: &[Finding]) -> Vec<String> {
    let has = |rule: &str, sev: Severity| {
        findings
            .iter()
            .any(|f| f.severity == sev && (f.rule == rule || f.check.as_str() == rule))
    };
    let mut wrong = Vec::new();
    for r in &case.expect.blocking {
        if !has(r, Severity::Blocking) {
            wrong.push(format!("expected blocking `{r}`"));
        }
    }
    for r in &case.expect.warnings {
        if !has(r, Severity::Warning) {
            wrong.push(format!("expected warning `{r}`"));
        }
    }
    for r in &case.expect.absent {
        if findings
            .iter()
            .any(|f| f.rule == *r || f.check.as_str() == r)
        {
            wrong.push(format!("`{r}` fired but must not"));
        }
    }
    if case.expect.approvable && checks::has_blocking(findings) {
        wrong.push("expected no blocking finding".into());
    }
    wrong
}

#[test]
fn red_team_check_cases() {
    let kg = KnowledgeGraph::builtin().expect("built-in graph");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/redteam/listings exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 35,
        "{} cases; the suite keeps at least 35",
        paths.len()
    );

    let mut report = String::from(
        "# Red-team report: check cases\n\n| case | result | findings (blocking / warning) |\n|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("readable case");
        let case: Case = match toml::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: does not parse: {e}", path.display()));
                continue;
            }
        };
        let findings = match run(&case, &kg) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        let wrong = verdict(&case, &findings);
        // "absolute-en ×3": one entry per rule, in order of first finding.
        let list = |sev: Severity| {
            let mut rules: Vec<(&str, usize)> = Vec::new();
            for f in findings.iter().filter(|f| f.severity == sev) {
                match rules.iter_mut().find(|(r, _)| *r == f.rule) {
                    Some(r) => r.1 += 1,
                    None => rules.push((&f.rule, 1)),
                }
            }
            rules
                .iter()
                .map(|(r, n)| {
                    if *n > 1 {
                        format!("{r} ×{n}")
                    } else {
                        r.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        report.push_str(&format!(
            "| {} | {} | {} / {} |\n",
            case.name,
            if wrong.is_empty() { "pass" } else { "FAIL" },
            list(Severity::Blocking),
            list(Severity::Warning)
        ));
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({}): {}\n  about: {}\n  findings: {:#?}",
                case.name,
                path.display(),
                wrong.join("; "),
                case.about,
                findings
            ));
        }
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redteam-checks.md");
    // The report is for people; failing to write it must not hide results.
    let _ = std::fs::write(&out, &report);
    println!("{report}\nreport: {}", out.display());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
