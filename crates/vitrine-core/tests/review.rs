//! The review workflow and the audit log on real databases, SQLite and
//! PostgreSQL (see `common/mod.rs`): states, roles, approval's checks and
//! overrides, comments, diffs, bulk actions, and a chain that notices
//! tampering.

mod common;

use common::TestDb;
use vitrine_core::audit;
use vitrine_core::review::{
    self, Action, BulkAction, DiffOp, DraftFilter, DraftStatus, Granularity, NewComment, Profile,
    Role,
};
use vitrine_core::store::{self, Backend};
use vitrine_core::{CoreError, Draft, Listing, Provenance, Store};

struct Fixture {
    backend: Backend,
    store: Store,
    product: i64,
    admin: Profile,
    reviewer: Profile,
    author: Profile,
}

async fn fixture(db: &TestDb) -> Fixture {
    let store = db.open().await;
    let mut tx = store.begin_write().await.unwrap();
    let product = store::insert_product(&mut tx, "Hoodie").await.unwrap();
    tx.commit().await.unwrap();
    // The first use on an empty store makes the OS user an admin.
    let admin = review::acting_profile(&store, None).await.unwrap();
    let reviewer = review::add_profile(&store, &admin, "rita", Role::Reviewer)
        .await
        .unwrap();
    let author = review::add_profile(&store, &admin, "arno", Role::Author)
        .await
        .unwrap();
    Fixture {
        backend: db.backend(),
        store,
        product,
        admin,
        reviewer,
        author,
    }
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
    Provenance {
        model_id: "smollm2-135m".into(),
        model_sha256: "ab".repeat(32),
        prompt_sha256: "cd".repeat(32),
        sampling: serde_json::json!({"temperature": 0.7, "seed": 42}),
        facts_used: vec![],
        prompt_tokens: 120,
        generated_tokens: 80,
        time_to_first_token_ms: 35,
        total_ms: 900,
        attempts: 1,
        cached: false,
        warnings: vec![],
        route: None,
        findings: Vec::new(),
        rules: None,
        trace: Vec::new(),
        script: None,
    }
}

async fn draft(f: &Fixture, title: &str) -> Draft {
    f.store
        .create_draft(
            f.product,
            "listing",
            "en",
            "generic",
            &listing(title),
            &provenance(),
        )
        .await
        .unwrap()
}

/// A title the checks block ("perfect" is an absolute claim).
const BLOCKED_TITLE: &str = "The perfect navy hoodie";
const CLEAN_TITLE: &str = "Navy cotton hoodie";

async fn status(f: &Fixture, id: i64) -> String {
    f.store.draft(id).await.unwrap().status
}

fn illegal(r: Result<impl std::fmt::Debug, CoreError>, id: i64, from: &str, action: &str) {
    match r {
        Err(CoreError::IllegalTransition {
            draft_id,
            from: f,
            action: a,
        }) => {
            assert_eq!((draft_id, f.as_str(), a.as_str()), (id, from, action));
        }
        other => panic!("expected IllegalTransition {from}/{action}, got {other:?}"),
    }
}

fn forbidden(r: Result<impl std::fmt::Debug, CoreError>, want_role: &str) {
    match r {
        Err(e @ CoreError::Forbidden { .. }) => {
            assert_eq!(e.code(), "forbidden");
            let CoreError::Forbidden { role, .. } = &e else {
                unreachable!()
            };
            assert_eq!(role, want_role);
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[test]
fn the_transition_table() {
    use DraftStatus as S;
    // (action, from) -> to; every pair not listed is illegal.
    let legal = [
        (Action::Submit, S::Draft, S::InReview),
        (Action::Submit, S::ChangesRequested, S::InReview),
        (Action::Approve, S::InReview, S::Approved),
        (Action::Approve, S::Draft, S::Approved),
        (Action::RequestChanges, S::InReview, S::ChangesRequested),
        (Action::Reject, S::InReview, S::Rejected),
        (Action::Reject, S::Draft, S::Rejected),
        (Action::Reject, S::ChangesRequested, S::Rejected),
        (Action::Reopen, S::Rejected, S::Draft),
        (Action::MarkExported, S::Approved, S::Exported),
        (Action::Edit, S::Draft, S::Draft),
        (Action::Edit, S::InReview, S::Draft),
        (Action::Edit, S::Approved, S::Draft),
        (Action::Edit, S::ChangesRequested, S::ChangesRequested),
    ];
    for action in Action::ALL {
        for from in S::ALL {
            let want = if action == Action::Comment {
                Some(from)
            } else {
                legal
                    .iter()
                    .find(|(a, f, _)| *a == action && *f == from)
                    .map(|(_, _, to)| *to)
            };
            assert_eq!(action.next(from), want, "{action} from {from}");
        }
    }
    assert_eq!(Action::Approve.min_role(), Role::Reviewer);
    assert_eq!(Action::Reopen.min_role(), Role::Admin);
    assert_eq!(Action::MarkExported.min_role(), Role::Author);
    assert!(Role::Author < Role::Reviewer && Role::Reviewer < Role::Admin);
    assert_eq!(DraftStatus::parse("in-review"), Some(S::InReview));
    assert_eq!(DraftStatus::parse("nonsense"), None);
}

async fn a_draft_walks_the_workflow_and_every_step_is_audited(db: &TestDb) {
    let f = fixture(db).await;
    assert_eq!(f.admin.role, Role::Admin);
    assert_eq!(f.admin.name, review::default_profile_name());
    let d = draft(&f, CLEAN_TITLE).await;

    let d1 = review::submit(&f.store, &f.author, d.id, Some("ready"))
        .await
        .unwrap();
    assert_eq!(d1.status, "in_review");
    let d2 = review::request_changes(&f.store, &f.reviewer, d.id, Some("shorter title"))
        .await
        .unwrap();
    assert_eq!(d2.status, "changes_requested");
    // An edit of a draft with changes requested keeps it there.
    let d3 = review::edit(&f.store, &f.author, d.id, &listing("Navy hoodie"))
        .await
        .unwrap();
    assert_eq!(d3.status, "changes_requested");
    assert_eq!(d3.versions.len(), 2);
    assert_eq!(d3.versions[1].author, "arno");
    review::submit(&f.store, &f.author, d.id, None)
        .await
        .unwrap();
    let a = review::approve(&f.store, &f.reviewer, d.id, None, None)
        .await
        .unwrap();
    assert_eq!(a.draft.status, "approved");
    assert!(!a.overridden);
    // An edit of an approved draft sends it back to draft.
    let d4 = review::edit(&f.store, &f.author, d.id, &listing("Navy hoodie, cotton"))
        .await
        .unwrap();
    assert_eq!(d4.status, "draft");
    review::approve(&f.store, &f.reviewer, d.id, None, None)
        .await
        .unwrap();
    let out = review::mark_exported(&f.store, &f.author, &[d.id])
        .await
        .unwrap();
    assert!(out[0].ok && out[0].status.as_deref() == Some("exported"));
    // Exported text is final.
    illegal(
        review::edit(&f.store, &f.admin, d.id, &listing("late change")).await,
        d.id,
        "exported",
        "edit",
    );
    illegal(
        review::approve(&f.store, &f.admin, d.id, None, None).await,
        d.id,
        "exported",
        "approve",
    );

    let history = review::history(&f.store, d.id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create",
            "submit",
            "request_changes",
            "edit",
            "submit",
            "approve",
            "edit",
            "approve",
            "mark_exported"
        ]
    );
    let actors: Vec<&str> = history.iter().map(|h| h.actor.as_str()).collect();
    assert_eq!(actors[..3], ["model", "arno", "rita"]);
    assert_eq!(history[1].details["note"], "ready");
    // Each entry starts from the state the previous one left.
    for pair in history.windows(2) {
        assert_eq!(pair[1].before_sha, pair[0].after_sha, "{:?}", pair[1]);
        assert_ne!(pair[1].before_sha, pair[1].after_sha);
    }
    let report = audit::verify(&f.store).await.unwrap();
    assert!(report.ok, "{report:?}");
    // Two profiles added, the implicit admin, and the draft's nine.
    assert_eq!(report.entries, 3 + 9);
    assert_eq!(report.head.as_deref(), Some(history[8].hash.as_str()));
}

async fn rejection_and_reopening(db: &TestDb) {
    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    review::reject(&f.store, &f.reviewer, d.id, Some("off brand"))
        .await
        .unwrap();
    illegal(
        review::edit(&f.store, &f.author, d.id, &listing("x")).await,
        d.id,
        "rejected",
        "edit",
    );
    illegal(
        review::submit(&f.store, &f.author, d.id, None).await,
        d.id,
        "rejected",
        "submit",
    );
    forbidden(
        review::reopen(&f.store, &f.reviewer, d.id, None).await,
        "reviewer",
    );
    let reopened = review::reopen(&f.store, &f.admin, d.id, None)
        .await
        .unwrap();
    assert_eq!(reopened.status, "draft");
    illegal(
        review::request_changes(&f.store, &f.reviewer, d.id, None).await,
        d.id,
        "draft",
        "request_changes",
    );
    // Export marks only approved drafts; the others are reported.
    let out = review::mark_exported(&f.store, &f.author, &[d.id, 9999])
        .await
        .unwrap();
    assert!(!out[0].ok && !out[1].ok);
    assert_eq!(out[0].code.as_deref(), Some("illegal_transition"));
    assert_eq!(out[1].code.as_deref(), Some("not_found"));
    assert_eq!(status(&f, d.id).await, "draft");
}

async fn roles_limit_what_a_profile_may_do(db: &TestDb) {
    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    forbidden(
        review::approve(&f.store, &f.author, d.id, None, None).await,
        "author",
    );
    forbidden(
        review::reject(&f.store, &f.author, d.id, None).await,
        "author",
    );
    forbidden(
        review::bulk(
            &f.store,
            &f.author,
            BulkAction::Approve,
            &DraftFilter::default(),
            None,
            None,
        )
        .await,
        "author",
    );
    forbidden(
        review::add_profile(&f.store, &f.reviewer, "eve", Role::Admin).await,
        "reviewer",
    );
    // Nothing the refused calls tried was written.
    assert_eq!(status(&f, d.id).await, "draft");
    assert_eq!(review::history(&f.store, d.id).await.unwrap().len(), 1);

    // Names resolve; an unknown one is a typed error naming the others.
    let rita = review::acting_profile(&f.store, Some("rita"))
        .await
        .unwrap();
    assert_eq!(rita, f.reviewer);
    match review::acting_profile(&f.store, Some("zed")).await {
        Err(e @ CoreError::UnknownProfile { .. }) => {
            assert_eq!(e.code(), "unknown_profile");
            assert!(e.to_string().contains("rita"), "{e}");
        }
        other => panic!("expected UnknownProfile, got {other:?}"),
    }
    let err = review::add_profile(&f.store, &f.admin, "rita", Role::Admin)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let names: Vec<String> = review::profiles(&f.store)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        names,
        [review::default_profile_name(), "rita".into(), "arno".into()]
    );
}

async fn a_blocking_finding_needs_an_admin_override_with_a_reason(db: &TestDb) {
    let f = fixture(db).await;
    let d = draft(&f, BLOCKED_TITLE).await;
    review::submit(&f.store, &f.author, d.id, None)
        .await
        .unwrap();

    match review::approve(&f.store, &f.reviewer, d.id, None, None).await {
        Err(CoreError::Blocked { draft_id, problems }) => {
            assert_eq!(draft_id, d.id);
            assert!(problems.iter().any(|p| p.contains("title")), "{problems:?}");
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    forbidden(
        review::approve(&f.store, &f.reviewer, d.id, None, Some("brand says ok")).await,
        "reviewer",
    );
    assert!(matches!(
        review::approve(&f.store, &f.admin, d.id, None, None).await,
        Err(CoreError::Blocked { .. })
    ));
    assert!(matches!(
        review::approve(&f.store, &f.admin, d.id, None, Some("  ")).await,
        Err(CoreError::InvalidInput(_))
    ));
    assert_eq!(status(&f, d.id).await, "in_review");

    let a = review::approve(
        &f.store,
        &f.admin,
        d.id,
        Some("launch"),
        Some("legal cleared it"),
    )
    .await
    .unwrap();
    assert!(a.overridden);
    assert_eq!(a.draft.status, "approved");
    let entry = review::history(&f.store, d.id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(entry.action, "approve");
    assert_eq!(entry.actor, f.admin.name);
    assert_eq!(entry.details["override"]["reason"], "legal cleared it");
    assert_eq!(entry.details["note"], "launch");
    let overridden = entry.details["override"]["findings"].as_array().unwrap();
    assert!(!overridden.is_empty());
    assert!(overridden
        .iter()
        .all(|f| f["severity"] == "blocking" && f["field"] == "title"));
    assert_eq!(
        entry.details["findings"]["blocking"].as_u64(),
        Some(overridden.len() as u64)
    );

    // The old entry point still approves clean drafts, and still refuses
    // blocked ones, as the default profile.
    let clean = draft(&f, CLEAN_TITLE).await;
    let blocked = draft(&f, BLOCKED_TITLE).await;
    // The studio finds the same database through the data dir (its
    // config.toml names the PostgreSQL one).
    let data = db.data_dir();
    let dirs = vitrine_core::DataDir::resolve(Some(data.path())).unwrap();
    let studio = vitrine_core::Studio::open(dirs).await.unwrap();
    assert_eq!(
        studio.approve_draft(clean.id).await.unwrap().status,
        "approved"
    );
    assert!(matches!(
        studio.approve_draft(blocked.id).await,
        Err(CoreError::Blocked { .. })
    ));
}

async fn comments_anchor_to_a_field_and_span_of_a_version(db: &TestDb) {
    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    let c = review::add_comment(
        &f.store,
        &f.reviewer,
        d.id,
        &NewComment {
            version: None,
            field: "bullets[1]".into(),
            span: Some((0, 4)),
            body: "Say what kind of soft".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (c.version, c.span, c.author.as_str()),
        (1, Some((0, 4)), "rita")
    );

    let bad = |field: &str, span: Option<(usize, usize)>, version: Option<i64>, body: &str| {
        let store = f.store.clone();
        let who = f.author.clone();
        let id = d.id;
        let comment = NewComment {
            version,
            field: field.into(),
            span,
            body: body.into(),
        };
        async move {
            match review::add_comment(&store, &who, id, &comment).await {
                Err(CoreError::InvalidInput(m)) => m,
                other => panic!("expected a refusal for {comment:?}, got {other:?}"),
            }
        }
    };
    let len = CLEAN_TITLE.chars().count();
    let m = bad("title", Some((3, len + 1)), None, "too far").await;
    assert!(m.contains(&format!("{len} characters")), "{m}");
    bad("title", Some((5, 5)), None, "empty span").await;
    bad("title", Some((6, 2)), None, "backwards").await;
    let m = bad("subtitle", None, None, "no such field").await;
    assert!(m.contains("bullets[2]"), "lists the fields: {m}");
    bad("bullets[3]", None, None, "only two bullets").await;
    bad("title", None, Some(7), "no such version").await;
    bad("title", None, None, "   ").await;

    // A Chinese field counts characters, not bytes.
    review::edit(
        &f.store,
        &f.author,
        d.id,
        &Listing {
            title: "藏青色纯棉连帽卫衣".into(),
            ..listing("x")
        },
    )
    .await
    .unwrap();
    let zh = review::add_comment(
        &f.store,
        &f.author,
        d.id,
        &NewComment {
            version: Some(2),
            field: "title".into(),
            span: Some((3, 5)),
            body: "纯棉? check the label".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(zh.version, 2);
    bad("title", Some((3, 10)), Some(2), "past the end").await;

    let all = review::comments(&f.store, d.id).await.unwrap();
    assert_eq!(all, [c, zh]);
    // Two comments and one edit on top of the creation.
    let history = review::history(&f.store, d.id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["create", "comment", "edit", "comment"]);
    assert_eq!(history[1].before_sha, history[1].after_sha);
    assert_eq!(history[1].details["field"], "bullets[1]");
}

async fn diffs_by_word_in_english_and_by_character_in_chinese(db: &TestDb) {
    let (g, chunks) = review::diff_texts("Soft navy cotton hoodie", "Soft blue cotton hoodie");
    assert_eq!(g, Granularity::Word);
    assert_eq!(
        review::render_chunks(&chunks),
        "Soft [-navy-]{+blue+} cotton hoodie"
    );
    let (g, chunks) = review::diff_texts("藏青色纯棉卫衣", "藏青色加绒卫衣");
    assert_eq!(g, Granularity::Char);
    assert_eq!(review::render_chunks(&chunks), "藏青色[-纯棉-]{+加绒+}卫衣");
    assert_eq!(chunks[1].op, DiffOp::Delete);

    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    let mut edited = listing("Navy brushed cotton hoodie");
    edited.bullets.push("Kangaroo pocket".into());
    let d = review::edit(&f.store, &f.author, d.id, &edited)
        .await
        .unwrap();
    let diff = review::diff_versions(&d, 1, 2).unwrap();
    let title = &diff.fields[0];
    assert_eq!(title.field, "title");
    assert_eq!(title.rendered, "Navy {+brushed +}cotton hoodie");
    let added = diff
        .fields
        .iter()
        .find(|f| f.field == "bullets[3]")
        .unwrap();
    assert_eq!(added.rendered, "{+Kangaroo pocket+}");
    assert!(
        !diff
            .fields
            .iter()
            .find(|f| f.field == "description")
            .unwrap()
            .changed
    );
    assert_eq!(
        diff.render(),
        "title: Navy {+brushed +}cotton hoodie\nbullets[3]: {+Kangaroo pocket+}"
    );
    let json = serde_json::to_value(&diff).unwrap();
    assert_eq!(json["fields"][0]["chunks"][1]["op"], "insert");
    assert!(review::diff_versions(&d, 1, 3).is_err());
}

async fn bulk_approval_goes_on_past_a_blocked_draft(db: &TestDb) {
    let f = fixture(db).await;
    let a = draft(&f, CLEAN_TITLE).await;
    let blocked = draft(&f, BLOCKED_TITLE).await;
    let c = draft(&f, "Grey wool scarf").await;
    let done = draft(&f, CLEAN_TITLE).await;
    review::approve(&f.store, &f.reviewer, done.id, None, None)
        .await
        .unwrap();
    let zh = f
        .store
        .create_draft(
            f.product,
            "listing",
            "zh-CN",
            "generic",
            &listing("藏青色连帽卫衣"),
            &provenance(),
        )
        .await
        .unwrap();

    let filter = DraftFilter {
        lang: Some("en".into()),
        ..Default::default()
    };
    let out = review::bulk(
        &f.store,
        &f.reviewer,
        BulkAction::Approve,
        &filter,
        None,
        None,
    )
    .await
    .unwrap();
    // The already approved draft is not selected; the Chinese one is
    // filtered out.
    let ids: Vec<i64> = out.iter().map(|o| o.draft_id).collect();
    assert_eq!(ids, [a.id, blocked.id, c.id]);
    assert!(out[0].ok && out[2].ok);
    assert!(!out[1].ok);
    assert_eq!(out[1].code.as_deref(), Some("blocked"));
    assert_eq!(status(&f, a.id).await, "approved");
    assert_eq!(status(&f, blocked.id).await, "draft");
    assert_eq!(status(&f, c.id).await, "approved");
    assert_eq!(status(&f, zh.id).await, "draft");

    // Filters: by status, by ids.
    let approved = review::list(
        &f.store,
        &DraftFilter {
            status: Some(DraftStatus::Approved),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        approved.iter().map(|d| d.id).collect::<Vec<_>>(),
        [a.id, c.id, done.id]
    );
    let rejected = review::bulk(
        &f.store,
        &f.reviewer,
        BulkAction::Reject,
        &DraftFilter {
            draft_ids: vec![blocked.id, zh.id, done.id],
            ..Default::default()
        },
        Some("not for this season"),
        None,
    )
    .await
    .unwrap();
    // `done` is approved: reject does not apply, so it is not selected.
    assert_eq!(
        rejected
            .iter()
            .map(|o| (o.draft_id, o.ok))
            .collect::<Vec<_>>(),
        [(blocked.id, true), (zh.id, true)]
    );
    let by_product = review::list(
        &f.store,
        &DraftFilter {
            product_ids: vec![f.product + 1],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(by_product.is_empty());
    assert!(audit::verify(&f.store).await.unwrap().ok);
}

async fn a_failed_audit_write_undoes_the_change(db: &TestDb) {
    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    let pool = f.store.pool().clone();
    let refuse: &[&str] = match f.backend {
        Backend::Sqlite => &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit disk full'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'audit disk full'; END; $$",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
    };
    for q in refuse {
        sqlx::query(q).execute(&pool).await.unwrap();
    }
    let err = review::submit(&f.store, &f.author, d.id, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("audit disk full"), "{err}");
    assert_eq!(status(&f, d.id).await, "draft");
    assert!(review::edit(&f.store, &f.author, d.id, &listing("x"))
        .await
        .is_err());
    assert_eq!(f.store.draft(d.id).await.unwrap().versions.len(), 1);
}

/// Let the test tamper with the log as someone with the database could:
/// drop the append-only triggers.
async fn drop_append_only(f: &Fixture) {
    let sql: &[&str] = match f.backend {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER audit_log_no_update ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
        ],
    };
    for q in sql {
        sqlx::query(q).execute(f.store.pool()).await.unwrap();
    }
}

/// A store with a handful of audit entries (ids 1..=6).
async fn audited(db: &TestDb) -> Fixture {
    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    review::submit(&f.store, &f.author, d.id, None)
        .await
        .unwrap();
    review::approve(&f.store, &f.reviewer, d.id, None, None)
        .await
        .unwrap();
    let report = audit::verify(&f.store).await.unwrap();
    assert!(report.ok && report.entries == 6, "{report:?}");
    f
}

async fn the_log_refuses_updates_and_deletes(db: &TestDb) {
    let f = audited(db).await;
    let pool = f.store.pool().clone();
    let mut refused = vec![
        "UPDATE audit_log SET actor = 'mallory' WHERE id = 2",
        "DELETE FROM audit_log WHERE id = 2",
    ];
    if f.backend == Backend::Postgres {
        refused.push("TRUNCATE audit_log");
    }
    for sql in refused {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

async fn verify_names_an_edited_entry(db: &TestDb) {
    let f = audited(db).await;
    let pool = f.store.pool().clone();
    drop_append_only(&f).await;
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 5")
        .execute(&pool)
        .await
        .unwrap();
    let report = audit::verify(&f.store).await.unwrap();
    assert!(!report.ok);
    let bad = report.first_bad.unwrap();
    assert_eq!(bad.id, 5);
    assert!(bad.reason.contains("edited"), "{}", bad.reason);
}

async fn verify_names_the_entry_after_a_deleted_one(db: &TestDb) {
    let f = audited(db).await;
    let pool = f.store.pool().clone();
    drop_append_only(&f).await;
    sqlx::query("DELETE FROM audit_log WHERE id = 3")
        .execute(&pool)
        .await
        .unwrap();
    let bad = audit::verify(&f.store).await.unwrap().first_bad.unwrap();
    assert_eq!(bad.id, 4);
    assert!(bad.reason.contains("entry 3 is missing"), "{}", bad.reason);

    // Renumbering to hide the gap breaks the link instead (in two steps, so
    // no intermediate id collides: PostgreSQL checks keys row by row).
    for sql in [
        "UPDATE audit_log SET id = -id WHERE id > 3",
        "UPDATE audit_log SET id = -id - 1 WHERE id < 0",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let bad = audit::verify(&f.store).await.unwrap().first_bad.unwrap();
    assert_eq!(bad.id, 3);
    assert!(bad.reason.contains("prev_hash"), "{}", bad.reason);
}

async fn verify_notices_reordered_entries(db: &TestDb) {
    let f = audited(db).await;
    let pool = f.store.pool().clone();
    drop_append_only(&f).await;
    // Swap rows 4 and 5 whole, hashes included.
    for sql in [
        "UPDATE audit_log SET id = -4 WHERE id = 4",
        "UPDATE audit_log SET id = 4 WHERE id = 5",
        "UPDATE audit_log SET id = 5 WHERE id = -4",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let bad = audit::verify(&f.store).await.unwrap().first_bad.unwrap();
    assert_eq!(bad.id, 4);
}

async fn an_edit_must_be_the_drafts_kind(db: &TestDb) {
    let f = fixture(db).await;
    let d = draft(&f, CLEAN_TITLE).await;
    for bad in [
        serde_json::json!({"title": "no bullets"}),
        serde_json::json!(["not", "an", "object"]),
        serde_json::json!({"title": 5, "bullets": [], "description": "", "keywords": []}),
    ] {
        match review::edit(&f.store, &f.author, d.id, &bad).await {
            Err(CoreError::InvalidInput(m)) => assert!(m.contains("not a valid listing"), "{m}"),
            other => panic!("{bad} was accepted: {other:?}"),
        }
    }
    let good = serde_json::json!({
        "title": "Navy hoodie", "bullets": ["Warm"], "description": "A hoodie.",
        "keywords": [], "ignored": true
    });
    let edited = review::edit(&f.store, &f.author, d.id, &good)
        .await
        .unwrap();
    assert_eq!(edited.versions[1].listing.title, "Navy hoodie");
    assert_eq!(review::history(&f.store, d.id).await.unwrap().len(), 2);
    assert!(matches!(
        review::edit(&f.store, &f.author, 404, &good).await,
        Err(CoreError::NotFound {
            kind: "draft",
            id: 404
        })
    ));
}

on_both_backends!(
    a_draft_walks_the_workflow_and_every_step_is_audited,
    rejection_and_reopening,
    roles_limit_what_a_profile_may_do,
    a_blocking_finding_needs_an_admin_override_with_a_reason,
    comments_anchor_to_a_field_and_span_of_a_version,
    diffs_by_word_in_english_and_by_character_in_chinese,
    bulk_approval_goes_on_past_a_blocked_draft,
    a_failed_audit_write_undoes_the_change,
    the_log_refuses_updates_and_deletes,
    verify_names_an_edited_entry,
    verify_names_the_entry_after_a_deleted_one,
    verify_notices_reordered_entries,
    an_edit_must_be_the_drafts_kind,
);
