//! Red-team cases for review summaries (`tests/redteam/reviews/*.toml`, the
//! format is in `tests/redteam/README.md`), run through every Rust step —
//! import, clean, injection, aspects, quotes — and the prompt the model
//! would get. No model: what is checked here must hold whatever it writes.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vitrine_core::listing::Lang;
use vitrine_core::reviews::{self, import, prompt, quotes, Format};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    lang: String,
    format: String,
    input: String,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    suspicious_min: Option<usize>,
    suspicious_max: Option<usize>,
    duplicates_min: Option<usize>,
    empty_skipped_min: Option<usize>,
    usable_min: Option<usize>,
    #[serde(default)]
    must_not_contain: Vec<String>,
    #[serde(default)]
    quotes_verified: bool,
    error_contains: Option<String>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/redteam/reviews")
}

/// Run one case; `Err` says what failed.
fn run(case: &Case) -> Result<String, String> {
    let format = Format::parse(&case.format).ok_or(format!("unknown format {}", case.format))?;
    let lang = Lang::parse(&case.lang).map_err(|e| e.to_string())?;
    let e = &case.expect;
    let imported = import::import_bytes(case.input.as_bytes(), Some(format));
    let analysed = match (imported.and_then(reviews::analyse), &e.error_contains) {
        (Err(err), Some(want)) if err.to_string().contains(want.as_str()) => {
            return Ok(format!("refused: {err}"))
        }
        (Err(err), _) => return Err(format!("error: {err}")),
        (Ok(_), Some(want)) => return Err(format!("expected an error containing `{want}`")),
        (Ok(a), None) => a,
    };
    let a = &analysed.analysis;
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    let n = a.suspicious.len();
    if let Some(min) = e.suspicious_min {
        check(n >= min, format!("{n} suspicious, expected at least {min}"));
    }
    if let Some(max) = e.suspicious_max {
        check(
            n <= max,
            format!("{n} suspicious, expected at most {max}: {:?}", a.suspicious),
        );
    }
    if let Some(min) = e.duplicates_min {
        let d = a.duplicates.len();
        check(d >= min, format!("{d} duplicates, expected at least {min}"));
    }
    if let Some(min) = e.empty_skipped_min {
        check(
            a.empty_skipped >= min,
            format!("{} empty skipped, expected at least {min}", a.empty_skipped),
        );
    }
    if let Some(min) = e.usable_min {
        check(
            a.usable >= min,
            format!("{} usable, expected at least {min}", a.usable),
        );
    }
    // Everything that could reach a reader or the model.
    let lines: Vec<String> = analysed.usable.iter().map(prompt::review_line).collect();
    let messages = prompt::final_messages(a, None, &lines, false, lang);
    let mut visible: Vec<String> = messages.into_iter().map(|m| m.content).collect();
    visible.extend(a.quotes.iter().map(|q| q.text.clone()));
    visible.push(prompt::template_paragraph(a, lang));
    let visible = visible.join("\n").to_lowercase();
    for bad in &e.must_not_contain {
        check(
            !visible.contains(&bad.to_lowercase()),
            format!("`{bad}` reaches the prompt, a quote or the summary"),
        );
    }
    if e.quotes_verified {
        let (kept, dropped) = quotes::verify(a.quotes.clone(), &analysed.usable);
        check(
            dropped == 0 && kept.len() == a.quotes.len(),
            format!("{dropped} quotes failed verification"),
        );
        let source = case.input.split_whitespace().collect::<Vec<_>>().join(" ");
        for q in &a.quotes {
            // CSV and JSON quoting aside, a quote is a run of the input.
            let found = source.contains(&q.text) || source.replace("\"\"", "\"").contains(&q.text);
            check(found, format!("quote not in the input: {}", q.text));
            check(
                !a.suspicious.iter().any(|s| s.review_id == q.review_id),
                format!("quote from a suspicious review: {}", q.text),
            );
        }
    }
    if failures.is_empty() {
        Ok(format!(
            "{} reviews, {} usable, {} suspicious, {} duplicates, {} quotes",
            a.total,
            a.usable,
            n,
            a.duplicates.len(),
            a.quotes.len()
        ))
    } else {
        Err(failures.join("; "))
    }
}

#[test]
fn every_review_red_team_case_holds() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/redteam/reviews exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 15, "only {} cases", paths.len());
    let mut failed = 0;
    let mut report = format!("# Review red-team report ({} cases)\n\n", paths.len());
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let case: Case =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match run(&case) {
            Ok(note) => report.push_str(&format!("- pass `{}`: {note}\n", case.name)),
            Err(why) => {
                failed += 1;
                report.push_str(&format!("- **FAIL** `{}`: {why}\n", case.name));
            }
        }
    }
    report.push_str(&format!(
        "\n{} passed, {failed} failed\n",
        paths.len() - failed
    ));
    println!("{report}");
    // Beside the listing suite's reports, for CI to keep.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redteam-reviews.md");
    if let Err(e) = std::fs::write(&out, &report) {
        println!("could not write {}: {e}", out.display());
    }
    assert_eq!(failed, 0, "red-team cases failed (see the report above)");
}
