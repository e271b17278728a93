//! The store on real databases, SQLite and PostgreSQL (see
//! `common/mod.rs`): schema, constraints and the draft API.

mod common;

use common::TestDb;
use sqlx::Row;
use vitrine_core::router::{RouteDecision, RouteRequest, Router, TaskKind};
use vitrine_core::store::Backend;
use vitrine_core::store::{self, NewFact};
use vitrine_core::{CoreError, FactSource, Listing, Provenance, Store};

async fn new_product(store: &Store, name: &str) -> i64 {
    let mut tx = store.begin_write().await.unwrap();
    let id = store::insert_product(&mut tx, name).await.unwrap();
    tx.commit().await.unwrap();
    id
}

fn listing(title: &str) -> Listing {
    Listing {
        title: title.into(),
        bullets: vec!["Soft cotton".into(), "Machine washable".into()],
        description: "A hoodie.".into(),
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
        facts_used: vec![1, 2],
        prompt_tokens: 120,
        generated_tokens: 80,
        time_to_first_token_ms: 35,
        total_ms: 900,
        attempts: 1,
        cached: false,
        warnings: vec![],
        route: Some(route()),
        findings: Vec::new(),
        rules: None,
        trace: Vec::new(),
        script: None,
    }
}

/// A real router decision, so the stored JSON is what the pipeline writes.
fn route() -> RouteDecision {
    let request = RouteRequest {
        task: TaskKind::Listing,
        input_chars: 1200,
        products: 1,
        languages: vec!["en".into()],
        temperature: 0.3,
    };
    let manifest = vitrine_infer::Manifest::builtin().unwrap();
    Router::default()
        .choose(&request, &manifest, &["smollm2-135m"], None)
        .unwrap()
}

async fn migrations_create_the_schema_on_a_new_file(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.backend(), db.backend());
    let (tables_sql, indexes_sql) = match db.backend() {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            "SELECT name FROM sqlite_master WHERE type = 'index'",
        ),
        Backend::Postgres => (
            "SELECT tablename::text AS name FROM pg_tables
              WHERE schemaname = current_schema() ORDER BY tablename",
            "SELECT indexname::text AS name FROM pg_indexes WHERE schemaname = current_schema()",
        ),
    };
    let tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(store.pool())
        .await
        .unwrap();
    for t in [
        "products",
        "photos",
        "facts",
        "drafts",
        "draft_versions",
        "generation_cache",
        "generation_cache_stats",
        "batches",
        "batch_items",
        "profiles",
        "comments",
        "audit_log",
        "api_tokens",
        "_sqlx_migrations",
    ] {
        assert!(
            tables.iter().any(|x| x == t),
            "missing table {t}: {tables:?}"
        );
    }
    let indexes: Vec<String> = sqlx::query_scalar(indexes_sql)
        .fetch_all(store.pool())
        .await
        .unwrap();
    for i in [
        "photos_product_id",
        "facts_product_id",
        "drafts_product_id",
        "drafts_batch_item",
        "audit_log_entity",
    ] {
        assert!(
            indexes.iter().any(|x| x == i),
            "missing index {i}: {indexes:?}"
        );
    }
    // Both backends applied the same versions.
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(versions, (1..=8).collect::<Vec<i64>>());

    if db.backend() == Backend::Sqlite {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(busy, 5000);
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(sync, 1, "synchronous = NORMAL");
    }
    store.close().await;

    // Reopening runs the (already applied) migrations again without harm.
    let store = db.open().await;
    assert!(store.products().await.unwrap().is_empty());
    store.close().await;
}

/// A URL that is not a database, and a server that is not there, are
/// errors that say what to fix, not panics.
async fn bad_database_urls_are_clear_errors(_db: &TestDb) {
    use vitrine_core::store::DatabaseTarget;
    let e = DatabaseTarget::from_url("mysql://u:secret@h/db").unwrap_err();
    assert!(e.to_string().contains("postgres://"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
    assert_eq!(
        DatabaseTarget::from_url("sqlite:///var/x/v.db").unwrap(),
        DatabaseTarget::SqliteFile("/var/x/v.db".into())
    );
    let e = DatabaseTarget::from_url("postgres//nothing").unwrap_err();
    assert!(e.to_string().contains("postgres://"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
    // Port 9 (discard) on loopback: nothing listens there.
    let target = DatabaseTarget::from_url("postgres://u:secret@127.0.0.1:9/db").unwrap();
    let e = match Store::open_target(&target).await {
        Ok(_) => panic!("connected to nothing"),
        Err(e) => e,
    };
    let text = e.to_string();
    assert!(matches!(e, CoreError::DatabaseConnect { .. }), "{text}");
    assert!(
        text.contains("127.0.0.1:9") && text.contains("VITRINE_DATABASE_URL"),
        "{text}"
    );
    assert!(!text.contains("secret"), "password leaked: {text}");
    // The cause in its own words, not a pool timeout.
    assert!(!text.contains("timed out"), "{text}");
    eprintln!("unreachable server: {text}");
}

async fn foreign_keys_are_enforced_and_cascade(db: &TestDb) {
    let store = db.open().await;
    let orphan = sqlx::query(
        "INSERT INTO photos (product_id, sha256, original_path, thumbnail_path, source_name,
                             width, height, format, created_at)
         VALUES (999, $1, 'a', 'b', 'c', 1, 1, 'png', 'now')",
    )
    .bind("0".repeat(64))
    .execute(store.pool())
    .await;
    let err = orphan.expect_err("a photo of a missing product must be refused");
    assert_eq!(
        common::db_error_kind(&err),
        Some(sqlx::error::ErrorKind::ForeignKeyViolation),
        "{err}"
    );

    let product = new_product(&store, "Hoodie").await;
    store
        .add_fact(&NewFact {
            product_id: product,
            key: "colour".into(),
            value: "navy".into(),
            label_en: "navy".into(),
            label_zh: "藏青色".into(),
            source: FactSource::User,
            confidence: 1.0,
            data: serde_json::json!({}),
        })
        .await
        .unwrap();
    store
        .create_draft(
            product,
            "listing",
            "en",
            "generic",
            &listing("Hoodie"),
            &provenance(),
        )
        .await
        .unwrap();

    sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(product)
        .execute(store.pool())
        .await
        .unwrap();
    for table in ["facts", "drafts", "draft_versions"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} not cascaded");
    }
}

async fn check_constraints_reject_nonsense(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "Mug").await;
    let insert = |source: &'static str, confidence: f64, data: &'static str| {
        sqlx::query(
            "INSERT INTO facts (product_id, key, value, label_en, label_zh, source, confidence,
                                data, created_at)
             VALUES ($1, 'colour', 'red', 'red', '红色', $2, $3, $4, 'now')",
        )
        .bind(product)
        .bind(source)
        .bind(confidence)
        .bind(data)
        .execute(store.pool())
    };
    assert!(insert("colour", 0.5, "{}").await.is_ok());
    assert!(
        insert("colour", 1.5, "{}").await.is_err(),
        "confidence above 1"
    );
    assert!(
        insert("colour", -0.1, "{}").await.is_err(),
        "negative confidence"
    );
    assert!(insert("guess", 0.5, "{}").await.is_err(), "unknown source");
    assert!(
        insert("colour", 0.5, "{not json").await.is_err(),
        "invalid JSON"
    );

    let blank = sqlx::query("INSERT INTO products (name, created_at) VALUES ('  ', 'now')")
        .execute(store.pool())
        .await;
    assert!(blank.is_err(), "blank product name");

    // The helper clamps instead of tripping the constraint.
    let fact = store
        .add_fact(&NewFact {
            product_id: product,
            key: "colour".into(),
            value: "red".into(),
            label_en: "red".into(),
            label_zh: "红色".into(),
            source: FactSource::Colour,
            confidence: 1.2,
            data: serde_json::json!({"hex": "#ff0000"}),
        })
        .await
        .unwrap();
    assert_eq!(fact.confidence, 1.0);
}

async fn drafts_are_versioned(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "Hoodie").await;

    let draft = store
        .create_draft(
            product,
            "listing",
            "zh-CN",
            "shopify",
            &listing("Navy hoodie"),
            &provenance(),
        )
        .await
        .unwrap();
    assert_eq!(draft.product_id, product);
    assert_eq!(draft.status, "draft");
    assert_eq!(
        (draft.kind.as_str(), draft.lang.as_str()),
        ("listing", "zh-CN")
    );
    assert_eq!(draft.marketplace, "shopify");
    assert_eq!(draft.versions.len(), 1);
    assert_eq!(draft.versions[0].version, 1);
    assert_eq!(draft.versions[0].author, "model");
    assert_eq!(draft.versions[0].provenance.as_ref(), Some(&provenance()));
    assert_eq!(draft.versions[0].listing, listing("Navy hoodie"));
    assert!(draft.created_at.ends_with('Z'), "{}", draft.created_at);

    let edited = store
        .add_draft_version(draft.id, &listing("Navy cotton hoodie"), None, "user")
        .await
        .unwrap();
    assert_eq!(edited.versions.len(), 2);
    assert_eq!(edited.versions[1].version, 2);
    assert_eq!(edited.versions[1].author, "user");
    assert_eq!(edited.versions[1].provenance, None);
    assert!(edited.updated_at >= draft.updated_at);
    assert_eq!(store.draft(draft.id).await.unwrap(), edited);

    let summaries = store.drafts_for_product(product).await.unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].current_version, 2);
    assert_eq!(summaries[0].title, "Navy cotton hoodie");

    let detail = store.product(product).await.unwrap();
    assert_eq!(detail.name, "Hoodie");
    assert_eq!(detail.drafts, summaries);
    assert!(detail.photos.is_empty());

    let list = store.products().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].draft_count, list[0].photo_count), (1, 0));
    assert_eq!(list[0].thumbnail_path, None);
}

async fn missing_rows_are_not_found(db: &TestDb) {
    let store = db.open().await;
    let not_found = |r: Result<_, CoreError>, want_kind: &str| match r {
        Err(CoreError::NotFound { kind, id }) => {
            assert_eq!(kind, want_kind);
            assert_eq!(id, 404);
        }
        other => panic!("expected NotFound {want_kind}, got {other:?}"),
    };
    not_found(store.product(404).await.map(|_| ()), "product");
    not_found(store.draft(404).await.map(|_| ()), "draft");
    not_found(
        store
            .create_draft(
                404,
                "listing",
                "en",
                "generic",
                &listing("x"),
                &provenance(),
            )
            .await
            .map(|_| ()),
        "product",
    );
    not_found(
        store
            .add_draft_version(404, &listing("x"), None, "user")
            .await
            .map(|_| ()),
        "draft",
    );
    assert_eq!(
        store.product(404).await.unwrap_err().to_string(),
        "product 404 not found"
    );
    // Nothing was left behind by the refused draft.
    let drafts: i64 = sqlx::query("SELECT COUNT(*) AS n FROM drafts")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(drafts, 0);
    assert!(store.photo_by_sha(&"0".repeat(64)).await.unwrap().is_none());
}

async fn products_are_listed_newest_first(db: &TestDb) {
    let store = db.open().await;
    let first = new_product(&store, "First").await;
    let second = new_product(&store, "Second").await;
    let ids: Vec<i64> = store
        .products()
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [second, first]);
}

/// The library's filters read a product's category (the user's over the
/// machine's, else the most confident guess) and its newest listing's status.
async fn products_carry_their_category_and_review_status(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "Hoodie").await;
    let listed = |store: Store| async move { store.products().await.unwrap().remove(0) };
    let p = listed(store.clone()).await;
    assert_eq!((p.category, p.review_status), (None, None));
    for (value, source, confidence) in [
        ("apparel.tops.hoodies", FactSource::Classifier, 0.6),
        ("apparel.tops.tshirts", FactSource::Classifier, 0.3),
    ] {
        store
            .add_fact(&NewFact {
                product_id: product,
                key: "category".into(),
                value: value.into(),
                label_en: value.into(),
                label_zh: value.into(),
                source,
                confidence,
                data: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        listed(store.clone()).await.category.as_deref(),
        Some("apparel.tops.hoodies")
    );
    store
        .add_fact(&NewFact {
            product_id: product,
            key: "category".into(),
            value: "food_drink".into(),
            label_en: "Food".into(),
            label_zh: "食品".into(),
            source: FactSource::User,
            confidence: 0.2,
            data: serde_json::json!({}),
        })
        .await
        .unwrap();
    store
        .create_draft(
            product,
            "script",
            "en",
            "generic",
            &listing("S"),
            &provenance(),
        )
        .await
        .unwrap();
    let p = listed(store.clone()).await;
    assert_eq!(p.category.as_deref(), Some("food_drink"));
    assert_eq!(p.review_status, None, "a script is not a listing");
    store
        .create_draft(
            product,
            "listing",
            "en",
            "generic",
            &listing("L"),
            &provenance(),
        )
        .await
        .unwrap();
    assert_eq!(listed(store).await.review_status.as_deref(), Some("draft"));
}

async fn concurrent_edits_get_distinct_versions(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "Hoodie").await;
    let draft = store
        .create_draft(
            product,
            "listing",
            "en",
            "generic",
            &listing("v1"),
            &provenance(),
        )
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add_draft_version(draft.id, &listing(&format!("edit {i}")), None, "user")
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let versions: Vec<i64> = store
        .draft(draft.id)
        .await
        .unwrap()
        .versions
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, (1..=9).collect::<Vec<_>>());
}

async fn generation_cache_round_trip_and_stats(db: &TestDb) {
    use vitrine_core::cache::{key, CachedGeneration};
    use vitrine_infer::{ChatMessage, GenerationParams};

    let store = db.open().await;
    let msgs = [ChatMessage::user("Write a title.")];
    let params = GenerationParams::default();
    let k = key("aa", &msgs, "{", &params).unwrap();
    // Another model file, seed or prefill is another request.
    assert_ne!(k, key("bb", &msgs, "{", &params).unwrap());
    assert_ne!(k, key("aa", &msgs, "", &params).unwrap());
    let reseeded = GenerationParams {
        seed: params.seed + 1,
        ..params.clone()
    };
    assert_ne!(k, key("aa", &msgs, "{", &reseeded).unwrap());

    assert!(store.cache_get(&k).await.unwrap().is_none());
    let answer = CachedGeneration {
        text: "Navy Hoodie\"}".into(),
        prompt_tokens: 12,
        generated_tokens: 5,
    };
    store.cache_put(&k, "m", "aa", &answer).await.unwrap();
    let hit = store.cache_get(&k).await.unwrap().expect("hit");
    assert_eq!(hit.text, answer.text);
    assert_eq!((hit.prompt_tokens, hit.generated_tokens), (12, 5));
    let stats = store.cache_stats().await.unwrap();
    assert_eq!((stats.entries, stats.hits, stats.misses), (1, 1, 1));
    assert_eq!(store.cache_clear().await.unwrap(), 1);
    assert!(store.cache_get(&k).await.unwrap().is_none());
}

async fn provenance_written_before_the_router_still_reads(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "hoodie").await;
    let draft = store
        .create_draft(
            product,
            "listing",
            "en",
            "generic",
            &listing("Navy hoodie"),
            &provenance(),
        )
        .await
        .unwrap();
    // The provenance JSON of the walking skeleton: no cache flag, no
    // warnings, no route.
    let old = serde_json::json!({
        "model_id": "qwen2.5-coder-1.5b",
        "model_sha256": "ab".repeat(32),
        "prompt_sha256": "cd".repeat(32),
        "sampling": {"temperature": 0.3},
        "facts_used": [1],
        "prompt_tokens": 247,
        "generated_tokens": 192,
        "time_to_first_token_ms": 9200,
        "total_ms": 28900,
        "attempts": 1
    });
    sqlx::query("UPDATE draft_versions SET provenance = $1 WHERE draft_id = $2")
        .bind(old.to_string())
        .bind(draft.id)
        .execute(store.pool())
        .await
        .unwrap();
    let read = store.draft(draft.id).await.unwrap();
    let p = read.versions[0].provenance.as_ref().expect("provenance");
    assert_eq!(p.model_id, "qwen2.5-coder-1.5b");
    assert_eq!(p.route, None);
    assert!(p.warnings.is_empty() && !p.cached);
}

/// The knowledge graph is seeded into the store once, a user's import adds
/// to it and wins over the built-in entries it replaces, survives a later
/// seed, and an import that would break the graph writes nothing.
async fn knowledge_graph_seed_import_and_user_rows_win(db: &TestDb) {
    use vitrine_core::kg::GraphFile;
    let store = db.open().await;
    let kg = store.knowledge_graph().await.unwrap();
    let builtin = vitrine_core::kg::KnowledgeGraph::builtin().unwrap();
    assert_eq!(kg.counts(), builtin.counts());

    let import = GraphFile::parse(
        r#"
[[category]]
key = "apparel.tops.t_shirts"
en = "Tees"
zh = "T恤衫"
attributes = ["sleeve_length"]

[[category]]
key = "apparel.tops.jerseys"
en = "Sports jerseys"
zh = "球衣"
synonyms_en = ["football shirt"]

[[attribute]]
key = "material"
en = "material"
zh = "材质"
multi = true
[[attribute.value]]
key = "bamboo_fibre"
en = "bamboo fibre"
zh = "竹纤维"

[[relation]]
kind = "goes_with"
from = "apparel.tops.jerseys"
to = "apparel.bottoms.shorts"
"#,
        "import",
    )
    .unwrap();
    let counts = store.import_knowledge_graph(import).await.unwrap();
    assert_eq!(counts.categories, builtin.counts().categories + 1);
    let kg = store.knowledge_graph().await.unwrap();
    assert_eq!(kg.category("apparel.tops.t_shirts").unwrap().en, "Tees");
    assert_eq!(
        kg.find_value("material", "竹纤维").unwrap().key,
        "bamboo_fibre"
    );
    // Built-in values of the attribute are still there.
    assert_eq!(kg.find_value("material", "cotton").unwrap().key, "cotton");

    // A re-seed (the built-in files changed) keeps the user's rows.
    sqlx::query("UPDATE kg_meta SET builtin_digest = 'old'")
        .execute(store.pool())
        .await
        .unwrap();
    let kg = store.knowledge_graph().await.unwrap();
    assert_eq!(kg.category("apparel.tops.t_shirts").unwrap().en, "Tees");
    assert!(kg.category("apparel.tops.jerseys").is_some());

    // A dangling parent is refused and nothing of the import is stored.
    let bad = GraphFile::parse(
        r#"
[[category]]
key = "gizmos.widgets"
en = "Widgets"
zh = "小部件"

[[category]]
key = "apparel.tops.vests"
en = "Vests"
zh = "背心"
"#,
        "bad",
    )
    .unwrap();
    let e = store.import_knowledge_graph(bad).await.unwrap_err();
    assert!(e.to_string().contains("no parent `gizmos`"), "{e}");
    let kg = store.knowledge_graph().await.unwrap();
    assert!(kg.category("apparel.tops.vests").is_none());
}

async fn drafts_of_other_kinds_list_beside_listings(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "Hoodie").await;
    store
        .create_draft(
            product,
            "listing",
            "en",
            "generic",
            &listing("Navy hoodie"),
            &provenance(),
        )
        .await
        .unwrap();
    let script = serde_json::json!({"title": "Livestream script: Hoodie (05:00)", "segments": []});
    let stored = store
        .create_draft(
            product,
            "script",
            "en",
            "livestream",
            &script,
            &provenance(),
        )
        .await
        .unwrap();
    // The script's own JSON comes back whole; the listing slot carries its title.
    assert_eq!(stored.versions[0].content.as_ref(), Some(&script));
    assert_eq!(
        stored.versions[0].listing.title,
        "Livestream script: Hoodie (05:00)"
    );
    let untitled = serde_json::json!({"points": ["soft"]});
    store
        .create_draft(
            product,
            "review_summary",
            "en",
            "generic",
            &untitled,
            &provenance(),
        )
        .await
        .unwrap();
    let mut titles: Vec<(String, String)> = store
        .drafts_for_product(product)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.kind, d.title))
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            ("listing".to_string(), "Navy hoodie".to_string()),
            ("review_summary".into(), "review_summary".into()),
            ("script".into(), "Livestream script: Hoodie (05:00)".into()),
        ]
    );
    // A listing still has no `content`: its text is the listing.
    let product_detail = store.product(product).await.unwrap();
    assert_eq!(product_detail.drafts.len(), 3);
}

/// A batch item can never produce two drafts (the unique index on
/// `drafts.batch_item_id`): a second create is a `Duplicate`, and the item
/// keeps its first draft. Also: a product listed twice is one item
/// (`ON CONFLICT DO NOTHING`).
async fn a_batch_item_gets_exactly_one_draft(db: &TestDb) {
    use vitrine_core::batch::{BatchSpec, Output};
    use vitrine_core::store::NewDraft;
    let store = db.open().await;
    let product = new_product(&store, "Hoodie").await;
    let spec = BatchSpec {
        outputs: vec![Output::Listing],
        langs: vec!["en".into()],
        marketplace: "generic".into(),
        brand: None,
        model: None,
        concurrency: 1,
        reviews_dir: None,
        script_minutes: None,
        use_cache: false,
    };
    let batch = store
        .create_batch("test", &spec, &[product, product], &[])
        .await
        .unwrap();
    assert_eq!(batch.counts.total, 1, "a product listed twice is one item");
    let item = store.claim_batch_item(batch.id).await.unwrap().unwrap();
    let new = NewDraft {
        product_id: product,
        kind: "listing",
        lang: "en",
        marketplace: "generic",
        batch_item: Some(item.id),
    };
    let first = store
        .create_draft_for(&new, &listing("first"), &provenance())
        .await
        .unwrap();
    let again = store
        .create_draft_for(&new, &listing("second"), &provenance())
        .await;
    assert!(matches!(again, Err(CoreError::Duplicate(_))), "{again:?}");
    assert_eq!(
        store.draft_of_batch_item(item.id).await.unwrap(),
        Some(first.id)
    );
    assert_eq!(store.drafts_for_product(product).await.unwrap().len(), 1);
    let counts = store.batch_counts(batch.id).await.unwrap();
    assert_eq!(counts.done, 1, "{counts:?}");
    // The failed second attempt left no audit entry behind.
    let report = vitrine_core::audit::verify(&store).await.unwrap();
    assert!(report.ok && report.entries == 1, "{report:?}");
}

/// On PostgreSQL a running batch is marked in the database, so a second
/// runner (another machine) is refused until the first lets go; on SQLite
/// the data dir's lock file does that job and the database lock is a no-op.
async fn a_batch_is_run_by_one_process_at_a_time(db: &TestDb) {
    let store = db.open().await;
    let first = store.lock_batch(7).await.unwrap();
    let second = store.lock_batch(7).await;
    match db.backend() {
        Backend::Postgres => {
            let e = second.err().expect("a second runner must be refused");
            assert!(e.to_string().contains("another Vitrine process"), "{e}");
            let other = store.lock_batch(8).await.unwrap();
            drop(other);
        }
        Backend::Sqlite => assert!(second.is_ok()),
    }
    // Released explicitly: free at once.
    first.release().await;
    let again = store.lock_batch(7).await.expect("released");
    // Dropped (a panicking runner): free once the server sees the
    // connection go.
    drop(again);
    let mut after_drop = store.lock_batch(7).await;
    for _ in 0..100 {
        if after_drop.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        after_drop = store.lock_batch(7).await;
    }
    assert!(after_drop.is_ok(), "lock not released");
}

/// The one expression whose SQL differs by backend: a JSON field's text
/// (ingest uses it to drop facts a previous title stated).
async fn json_fields_read_the_same_on_both(db: &TestDb) {
    let store = db.open().await;
    let product = new_product(&store, "Mug").await;
    for (value, data) in [
        ("ceramic", serde_json::json!({"from": "title", "n": 1})),
        ("white", serde_json::json!({"from": "options"})),
        ("mug", serde_json::json!({})),
    ] {
        store
            .add_fact(&NewFact {
                product_id: product,
                key: "material".into(),
                value: value.into(),
                label_en: value.into(),
                label_zh: value.into(),
                source: FactSource::Import,
                confidence: 0.9,
                data,
            })
            .await
            .unwrap();
    }
    let from = store.backend().json_text("data", "from");
    let values: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT value FROM facts WHERE product_id = $1 AND {from} = $2 ORDER BY value"
    ))
    .bind(product)
    .bind("title")
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(values, ["ceramic"]);
}

on_both_backends!(
    json_fields_read_the_same_on_both,
    a_batch_is_run_by_one_process_at_a_time,
    a_batch_item_gets_exactly_one_draft,
    bad_database_urls_are_clear_errors,
    migrations_create_the_schema_on_a_new_file,
    foreign_keys_are_enforced_and_cascade,
    check_constraints_reject_nonsense,
    drafts_are_versioned,
    missing_rows_are_not_found,
    products_are_listed_newest_first,
    products_carry_their_category_and_review_status,
    concurrent_edits_get_distinct_versions,
    generation_cache_round_trip_and_stats,
    provenance_written_before_the_router_still_reads,
    knowledge_graph_seed_import_and_user_rows_win,
    drafts_of_other_kinds_list_beside_listings,
);
