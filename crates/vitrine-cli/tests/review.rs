//! `vitrine review`, `profiles` and `audit` end to end on a real store.
//! Drafts are written through the store (no model needed); everything
//! else goes through the binary, acting as different profiles.

mod common;

use std::path::Path;
use std::process::Command;

use common::{as_merchant, ok, run, stderr, stdout_json as json};
use vitrine_core::{DataDir, Listing, Provenance, Store};

fn cli(data: &Path) -> Command {
    as_merchant(data)
}

fn listing(title: &str) -> Listing {
    Listing {
        title: title.into(),
        bullets: vec!["Soft brushed cotton".into(), "Machine washable".into()],
        description: "A warm hoodie for cool evenings.".into(),
        keywords: vec!["hoodie".into()],
        extra: Default::default(),
    }
}

fn provenance() -> Provenance {
    serde_json::from_value(serde_json::json!({
        "model_id": "smollm2-135m",
        "model_sha256": "ab".repeat(32),
        "prompt_sha256": "cd".repeat(32),
        "sampling": {"seed": 1},
        "facts_used": [],
        "prompt_tokens": 10,
        "generated_tokens": 20,
        "time_to_first_token_ms": 5,
        "total_ms": 50,
        "attempts": 1
    }))
    .unwrap()
}

/// Store drafts with these titles (English, generic marketplace); returns
/// their ids.
async fn drafts(data: &Path, titles: &[&str]) -> Vec<i64> {
    let db = DataDir::resolve(Some(data)).unwrap().db_path();
    let store = Store::open(&db).await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    let product = vitrine_core::store::insert_product(&mut tx, "Hoodie")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut ids = Vec::new();
    for t in titles {
        let d = store
            .create_draft(
                product,
                "listing",
                "en",
                "generic",
                &listing(t),
                &provenance(),
            )
            .await
            .unwrap();
        ids.push(d.id);
    }
    store.close().await;
    ids
}

#[tokio::test]
async fn a_review_round_through_the_cli() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let ids = drafts(d, &["Navy cotton hoodie", "The perfect navy hoodie"]).await;
    let (clean, blocked) = (ids[0].to_string(), ids[1].to_string());

    // The first use makes the OS user an admin; the admin adds the team.
    let profiles = json(&run(cli(d).args(["profiles", "list", "--json"])));
    assert_eq!(profiles[0]["name"], "merchant");
    assert_eq!(profiles[0]["role"], "admin");
    ok(&run(
        cli(d).args(["profiles", "add", "rita", "--role", "reviewer"])
    ));
    ok(&run(
        cli(d).args(["profiles", "add", "arno", "--role", "author"])
    ));
    let o = run(cli(d).args(["--as", "arno", "profiles", "add", "eve", "--role", "admin"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("may not"), "{}", stderr(&o));
    let o = run(cli(d).args(["--as", "nobody", "review", "submit", &clean]));
    assert!(
        stderr(&o).contains("no profile named `nobody`"),
        "{}",
        stderr(&o)
    );

    // An author submits, and may not approve.
    let o = run(cli(d).args(["--as", "arno", "review", "approve", &clean]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("reviewer role"), "{}", stderr(&o));
    ok(&run(cli(d).args([
        "--as", "arno", "review", "submit", &clean, &blocked,
    ])));
    let queue = json(&run(cli(d).args([
        "review",
        "list",
        "--status",
        "in-review",
        "--json",
    ])));
    assert_eq!(queue.as_array().unwrap().len(), 2);

    // `show` puts the findings and comments next to the field.
    ok(&run(cli(d).env("VITRINE_PROFILE", "rita").args([
        "review",
        "comment",
        &blocked,
        "--field",
        "title",
        "--span",
        "4..11",
        "“perfect” will not pass",
    ])));
    let o = run(cli(d).args([
        "--as", "rita", "review", "comment", &blocked, "--field", "title", "--span", "4..99", "x",
    ]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not within `title`"), "{}", stderr(&o));
    let shown = ok(&run(cli(d).args(["review", "show", &blocked])));
    let title_at = shown.find("title: The perfect navy hoodie").unwrap();
    let blocking_at = shown.find("BLOCKING").unwrap();
    let comment_at = shown
        .find("# rita [4..11]: “perfect” will not pass")
        .unwrap();
    assert!(
        title_at < blocking_at && blocking_at < comment_at,
        "{shown}"
    );
    assert!(shown.contains("submit"), "history: {shown}");

    // Bulk approval: the clean draft passes, the blocked one is reported
    // and the command fails.
    let o = run(cli(d)
        .env("VITRINE_PROFILE", "rita")
        .args(["review", "approve", "--all", "--lang", "en", "--json"]));
    assert!(!o.status.success());
    let outcomes = json(&o);
    assert_eq!(outcomes[0]["ok"], true);
    assert_eq!(outcomes[0]["status"], "approved");
    assert_eq!(outcomes[1]["ok"], false);
    assert_eq!(outcomes[1]["code"], "blocked");

    // A reviewer may not override; an admin may, with a reason.
    let o = run(cli(d).args([
        "--as",
        "rita",
        "review",
        "approve",
        &blocked,
        "--override",
        "fine",
    ]));
    assert!(!o.status.success());
    let o = run(cli(d).args(["review", "approve", &blocked]));
    assert!(stderr(&o).contains("--override"), "{}", stderr(&o));

    // The author fixes the title instead; the diff shows what changed.
    let fixed = d.join("fixed.json");
    std::fs::write(
        &fixed,
        serde_json::to_string(&listing("The soft navy hoodie")).unwrap(),
    )
    .unwrap();
    let edited = json(&run(cli(d)
        .args(["--as", "arno", "review", "edit", &blocked, "--file"])
        .arg(&fixed)
        .arg("--json")));
    assert_eq!(edited["status"], "draft");
    assert_eq!(edited["versions"].as_array().unwrap().len(), 2);
    let diff = ok(&run(cli(d).args(["review", "diff", &blocked])));
    assert!(
        diff.contains("title: The [-perfect-]{+soft+} navy hoodie"),
        "{diff}"
    );
    // `drafts approve` is the same approval.
    let out = ok(&run(cli(d).args(["drafts", "approve", &blocked])));
    assert!(out.contains("approved"), "{out}");

    let log = json(&run(cli(d).args(["audit", "log", "--limit", "2", "--json"])));
    assert_eq!(log[0]["action"], "approve");
    assert_eq!(log[0]["actor"], "merchant");
    assert_eq!(log[1]["action"], "edit");
    let verified = ok(&run(cli(d).args(["audit", "verify"])));
    assert!(verified.contains("intact"), "{verified}");
}

#[tokio::test]
async fn an_admin_override_and_a_tampered_log() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let ids = drafts(d, &["The perfect navy hoodie"]).await;
    let id = ids[0].to_string();
    let out = ok(&run(cli(d).args([
        "review",
        "approve",
        &id,
        "--override",
        "legal cleared the claim",
    ])));
    assert!(out.contains("overridden"), "{out}");
    let log = ok(&run(cli(d).args(["audit", "log"])));
    assert!(log.contains("OVERRIDE: legal cleared the claim"), "{log}");
    let report = json(&run(cli(d).args(["audit", "verify", "--json"])));
    assert_eq!(report["ok"], true);
    // create, the implicit admin, the approval.
    assert_eq!(report["entries"], 3);

    // Someone edits the file behind Vitrine's back.
    let db = DataDir::resolve(Some(d)).unwrap().db_path();
    let store = Store::open(&db).await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit_log SET details = replace(details, 'legal cleared', 'nobody checked')
          WHERE action = 'approve'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let o = run(cli(d).args(["audit", "verify"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("broken at entry 3"), "{}", stderr(&o));
}
