//! The livestream-script red-team cases in `tests/redteam/scripts/` (format
//! in its README), run without a model: each case's host lines go through a
//! real plan, timing and the checks generation uses, and its product's
//! prompt is built to see what injected text reaches the model.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vitrine_core::checks::{Context, Severity};
use vitrine_core::kg::KnowledgeGraph;
use vitrine_core::listing::{self, Lang};
use vitrine_core::script::{self, ScriptProduct, SegmentKind};
use vitrine_core::{Fact, FactSource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    about: String,
    lang: String,
    product_name: String,
    #[serde(default)]
    offer: Option<String>,
    #[serde(default)]
    facts: Vec<CaseFact>,
    #[serde(default)]
    segment: Vec<CaseSegment>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFact {
    key: String,
    en: String,
    zh: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSegment {
    kind: SegmentKind,
    host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    blocking: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    clean: bool,
    #[serde(default)]
    prompt_excludes: Vec<String>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/redteam/scripts")
}

/// What one case got wrong; empty when it passes.
fn run_case(case: &Case, kg: &KnowledgeGraph) -> Vec<String> {
    let mut failures = Vec::new();
    let lang = Lang::parse(&case.lang).expect("case language");
    let facts: Vec<Fact> = case
        .facts
        .iter()
        .enumerate()
        .map(|(i, f)| Fact {
            id: i as i64 + 1,
            product_id: 1,
            key: f.key.clone(),
            value: f.en.clone(),
            label_en: f.en.clone(),
            label_zh: f.zh.clone(),
            source: FactSource::User,
            confidence: 1.0,
            data: serde_json::json!({}),
        })
        .collect();

    let plan = script::plan(1, 60.0, lang);
    let prompt = script::build_messages(
        &[ScriptProduct {
            id: 1,
            name: case.product_name.clone(),
            facts: listing::prompt_facts(&case.product_name, &facts, lang),
        }],
        &plan,
        lang,
        case.offer.as_deref(),
        None,
    );
    let prompt_text: String = prompt.iter().map(|m| m.content.as_str()).collect();
    for x in &case.expect.prompt_excludes {
        if prompt_text.contains(x.as_str()) {
            failures.push(format!("the prompt carries `{x}`"));
        }
    }

    // The case's lines where it gives them, a neutral line elsewhere.
    let neutral = match lang {
        Lang::En => "Take a look.",
        Lang::ZhCn => "大家看一下。",
    };
    let mut reply = serde_json::Map::new();
    for p in &plan {
        let host = case
            .segment
            .iter()
            .find(|s| s.kind == p.kind)
            .map_or(neutral, |s| s.host.as_str());
        reply.insert(
            p.key.clone(),
            serde_json::json!({"host": host, "cues": ["hold the product up"]}),
        );
    }
    let (raw, errors) = script::parse(&serde_json::Value::Object(reply).to_string(), &plan);
    let Some(raw) = raw.filter(|_| errors.is_empty()) else {
        return vec![format!("the case's script does not parse: {errors:?}")];
    };
    let s = script::assemble(
        &plan,
        raw,
        &[(1, case.product_name.clone())],
        lang,
        case.offer.as_deref(),
    );
    let mp = listing::marketplace("generic").expect("generic marketplace");
    let ctx = Context {
        marketplace: &mp,
        lang,
        facts: &facts,
        product_name: &case.product_name,
        kg: Some(kg),
        brand: None,
    };
    let findings = script::check_script(&s, std::slice::from_ref(&ctx), case.offer.as_deref());
    let blocking: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocking)
        .map(|f| f.rule.as_str())
        .collect();
    for rule in &case.expect.blocking {
        if !blocking.contains(&rule.as_str()) {
            failures.push(format!("no blocking `{rule}` (blocking: {blocking:?})"));
        }
    }
    for rule in &case.expect.absent {
        if findings.iter().any(|f| &f.rule == rule) {
            failures.push(format!("`{rule}` fired"));
        }
    }
    if case.expect.clean && !blocking.is_empty() {
        failures.push(format!("expected clean, got blocking {blocking:?}"));
    }
    failures
}

#[test]
fn script_red_team_cases_hold() {
    let kg = KnowledgeGraph::builtin().expect("built-in knowledge graph");
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/redteam/scripts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "at least 8 cases, found {}", files.len());
    let mut report = Vec::new();
    let mut table = String::from(
        "# Red-team report: livestream script cases\n\n| case | result |\n|---|---|\n",
    );
    let mut names = std::collections::HashSet::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read case");
        let case: Case =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            names.insert(case.name.clone()),
            "duplicate case {}",
            case.name
        );
        assert!(!case.about.trim().is_empty(), "{}: about", case.name);
        let e = &case.expect;
        assert!(
            e.clean || !e.blocking.is_empty() || !e.prompt_excludes.is_empty(),
            "{}: a case must expect something",
            case.name
        );
        let failures = run_case(&case, &kg);
        table.push_str(&format!(
            "| {} | {} |\n",
            case.name,
            if failures.is_empty() { "pass" } else { "FAIL" }
        ));
        for failure in failures {
            report.push(format!("{}: {failure}", case.name));
        }
    }
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("redteam-scripts.md");
    // The report is for people; failing to write it must not hide results.
    let _ = std::fs::write(&out, &table);
    println!("{table}\nreport: {}", out.display());
    assert!(
        report.is_empty(),
        "red-team failures:\n{}",
        report.join("\n")
    );
}
