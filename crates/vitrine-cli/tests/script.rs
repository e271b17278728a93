//! `vitrine script` end to end with the real tiny model: a two-product
//! line-up from sample photos, stored as a `script` draft whose segments,
//! timing and findings are checked from the store.

mod common;

use common::{run, samples, stderr, vitrine};

const ORDER: [&str; 7] = [
    "showcase",
    "demonstration",
    "interaction",
    "objection",
    "offer",
    "urgency",
    "call_to_action",
];

fn seconds(mmss: &str) -> u32 {
    let (m, s) = mmss.split_once(':').expect("mm:ss");
    m.parse::<u32>().expect("minutes") * 60 + s.parse::<u32>().expect("seconds")
}

#[test]
fn a_line_up_script_is_timed_checked_and_stored() {
    let data = tempfile::tempdir().unwrap();
    let o = run(vitrine(data.path())
        .args([
            "script",
            "--json",
            "--model",
            "smollm2-135m",
            "--minutes",
            "0.5",
        ])
        .arg(samples().join("hoodie-02.png"))
        .arg(samples().join("cushion-01.png")));
    assert!(o.status.success(), "script failed: {}", stderr(&o));
    let out: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    let draft_id = out["draft_id"].as_i64().expect("draft id");

    // Read the draft back from the store, not from the command's output.
    let o = run(vitrine(data.path()).args(["drafts", "show", "--json", &draft_id.to_string()]));
    assert!(o.status.success(), "{}", stderr(&o));
    let draft: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(draft["kind"], "script");
    let version = &draft["versions"][0];
    let script = &version["content"];
    let products: Vec<i64> = script["product_ids"]
        .as_array()
        .expect("product ids")
        .iter()
        .filter_map(|v| v.as_i64())
        .collect();
    assert_eq!(products.len(), 2, "{script}");
    assert_eq!(draft["product_id"].as_i64(), products.first().copied());

    // Every kind, in order: hook, the seven per product, a transition
    // before the second.
    let segments = script["segments"].as_array().expect("segments");
    let kinds: Vec<&str> = segments
        .iter()
        .map(|s| s["kind"].as_str().unwrap_or_default())
        .collect();
    let mut expected = vec!["hook"];
    expected.extend(ORDER);
    expected.push("transition");
    expected.extend(ORDER);
    assert_eq!(kinds, expected);
    assert_eq!(segments[9]["product_id"].as_i64(), Some(products[1]));

    // Contiguous from 00:00, and the total is the last end.
    assert_eq!(segments[0]["start"], "00:00");
    for pair in segments.windows(2) {
        assert_eq!(pair[0]["end"], pair[1]["start"]);
    }
    for s in segments {
        let (a, b) = (
            seconds(s["start"].as_str().unwrap()),
            seconds(s["end"].as_str().unwrap()),
        );
        assert!(a <= b, "{s}");
        assert!(!s["host"].as_str().unwrap_or_default().trim().is_empty());
    }
    let last_end = seconds(segments.last().unwrap()["end"].as_str().unwrap());
    assert_eq!(
        script["measured_seconds"].as_u64(),
        Some(u64::from(last_end))
    );
    assert_eq!(script["target_seconds"], 60);

    // Provenance: the line-up, the timing and the rules.
    let p = &version["provenance"];
    assert_eq!(p["model_id"], "smollm2-135m");
    assert_eq!(p["route"]["task"], "livestream_script");
    assert_eq!(p["script"]["product_ids"], script["product_ids"]);
    assert_eq!(
        p["script"]["segments"].as_array().map(Vec::len),
        Some(segments.len())
    );
    assert_eq!(p["rules"]["marketplace"], "livestream");
    // Off target by more than 20% means a duration warning is recorded.
    let target = 60.0;
    let off = (f64::from(last_end) - target).abs() / target > 0.2;
    let recorded = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "script-duration");
    assert_eq!(off, recorded, "measured {last_end} s");

    // Every blocking finding the checks give on the stored host lines is in
    // the provenance.
    let o = run(vitrine(data.path()).args(["check", "--json", &draft_id.to_string()]));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("check --json: {e}: {}", stderr(&o)));
    let key = |f: &serde_json::Value| {
        format!(
            "{}|{}|{}",
            f["rule"],
            f["field"],
            f["excerpt"].as_str().unwrap_or_default()
        )
    };
    let stored: Vec<String> = p["findings"].as_array().unwrap().iter().map(key).collect();
    for f in report["findings"].as_array().unwrap() {
        if f["severity"] == "blocking" {
            assert!(stored.contains(&key(f)), "{} not in {stored:?}", key(f));
        }
    }
    // And check's verdict follows them: it fails exactly when one blocks.
    assert_eq!(
        o.status.success(),
        report["blocking"] == 0,
        "{}",
        stderr(&o)
    );

    // The product lists the script among its drafts, by its title.
    let o =
        run(vitrine(data.path()).args(["products", "show", "--json", &products[0].to_string()]));
    assert!(o.status.success(), "{}", stderr(&o));
    let product: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let listed = product["drafts"].as_array().expect("drafts");
    assert!(
        listed
            .iter()
            .any(|d| d["kind"] == "script" && d["title"] == script["title"]),
        "{product}"
    );
}

#[test]
fn bad_script_requests_fail_before_generating() {
    let data = tempfile::tempdir().unwrap();
    let o =
        run(vitrine(data.path()).args(["script", "--model", "smollm2-135m", "--products", "42"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("42"), "{}", stderr(&o));
    let o = run(vitrine(data.path()).args(["script", "--model", "smollm2-135m"]));
    assert!(!o.status.success(), "no photos and no products is refused");
}
