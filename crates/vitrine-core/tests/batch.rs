//! Batch jobs against a real store and the real tiny model (smollm2-135m):
//! every item gets exactly one draft, a pause and a resume lose nothing, a
//! failing item does not stop the others. On SQLite and on PostgreSQL
//! (see `common/mod.rs`).

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::TestDb;
use tempfile::TempDir;
use vitrine_core::batch::runner::{BatchEvent, RunOptions};
use vitrine_core::batch::{BatchSpec, BatchStatus, Output};
use vitrine_core::store::{insert_product, NewDraft, NewFact};
use vitrine_core::{CoreError, DataDir, FactSource, Studio};

const TINY: &str = "smollm2-135m";

fn models_dir() -> PathBuf {
    std::env::var_os("VITRINE_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.data_dir().join("models"))
        })
        .expect("a home directory")
}

/// A studio on `db`, found the way users point Vitrine at a database: the
/// data dir's config.toml.
async fn studio(db: &TestDb) -> (TempDir, Studio) {
    let tmp = db.data_dir();
    let dirs = DataDir::resolve(Some(tmp.path()))
        .unwrap()
        .with_models_dir(models_dir());
    (tmp, Studio::open(dirs).await.unwrap())
}

/// A product with a name and a colour fact, as an import makes them.
async fn product(studio: &Studio, name: &str, colour: Option<(&str, &str, &str)>) -> i64 {
    let store = studio.store();
    let mut tx = store.begin_write().await.unwrap();
    let id = insert_product(&mut tx, name).await.unwrap();
    tx.commit().await.unwrap();
    if let Some((key, en, zh)) = colour {
        store
            .add_fact(&NewFact {
                product_id: id,
                key: "colour".into(),
                value: key.into(),
                label_en: en.into(),
                label_zh: zh.into(),
                source: FactSource::Import,
                confidence: 0.9,
                data: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    id
}

fn spec(concurrency: usize) -> BatchSpec {
    BatchSpec {
        outputs: vec![Output::Listing],
        langs: vec!["en".into()],
        marketplace: "generic".into(),
        brand: None,
        model: Some(TINY.into()),
        concurrency,
        reviews_dir: None,
        script_minutes: None,
        use_cache: false,
    }
}

async fn drafts_per_item(studio: &Studio, batch: i64) -> Vec<(i64, i64)> {
    sqlx::query_as::<_, (i64, i64)>(
        "SELECT i.id, (SELECT COUNT(*) FROM drafts d WHERE d.batch_item_id = i.id)
           FROM batch_items i WHERE i.batch_id = $1 ORDER BY i.id",
    )
    .bind(batch)
    .fetch_all(studio.store().pool())
    .await
    .unwrap()
}

async fn a_batch_gives_each_item_one_draft_and_goes_on_past_a_failure(db: &TestDb) {
    let (_tmp, studio) = studio(db).await;
    let tee = product(&studio, "Cotton T-Shirt", Some(("navy", "navy", "藏青色"))).await;
    let mug = product(&studio, "Ceramic Mug", Some(("white", "white", "白色"))).await;
    // No facts: the pipeline refuses to invent, the item fails.
    let blank = product(&studio, "Mystery Item", None).await;
    let batch = studio
        .store()
        .create_batch("test", &spec(2), &[tee, mug, blank, tee], &[])
        .await
        .unwrap();
    assert_eq!(batch.counts.total, 3, "a product listed twice is one item");

    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let report = studio
        .run_batch(
            batch.id,
            RunOptions::default(),
            Arc::new(move |e| sink.lock().unwrap().push(e)),
        )
        .await
        .unwrap();
    assert_eq!(report.batch.status, BatchStatus::Done);
    assert_eq!((report.done, report.failed), (2, 1), "{report:?}");
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].product_id, blank);
    assert!(
        report.failures[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("not enough information"),
        "{:?}",
        report.failures[0].error
    );
    assert!(report.overhead_us_median.is_some());
    let counts: Vec<i64> = drafts_per_item(&studio, batch.id)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(counts, vec![1, 1, 0]);
    let saw_eta = events.lock().unwrap().iter().any(|e| {
        matches!(
            e,
            BatchEvent::Progress {
                eta_secs: Some(_),
                ..
            }
        )
    });
    assert!(saw_eta, "no progress event with an ETA");

    // The draft completes its item: a second draft for it is refused.
    let items = studio
        .store()
        .batch_items(batch.id, Some("done"))
        .await
        .unwrap();
    let again = studio
        .store()
        .create_draft_for(
            &NewDraft {
                product_id: items[0].product_id,
                kind: "listing",
                lang: "en",
                marketplace: "generic",
                batch_item: Some(items[0].id),
            },
            &serde_json::json!({"title": "x", "bullets": [], "description": "", "keywords": []}),
            &serde_json::json!({}),
        )
        .await;
    assert!(matches!(again, Err(CoreError::Duplicate(_))), "{again:?}");

    // Running a finished batch again generates nothing.
    let rerun = studio
        .run_batch(batch.id, RunOptions::default(), Arc::new(|_| {}))
        .await
        .unwrap();
    assert_eq!((rerun.done, rerun.failed), (0, 0));
    assert_eq!(drafts_per_item(&studio, batch.id).await.len(), 3);
}

async fn a_paused_batch_resumes_where_it_stopped(db: &TestDb) {
    let (_tmp, studio) = studio(db).await;
    let mut ids = Vec::new();
    for (name, c) in [
        ("Linen Shirt", ("white", "white", "白色")),
        ("Wool Scarf", ("red", "red", "红色")),
        ("Canvas Tote Bag", ("beige", "beige", "米色")),
        ("Denim Jacket", ("blue", "blue", "蓝色")),
    ] {
        ids.push(product(&studio, name, Some(c)).await);
    }
    let batch = studio
        .store()
        .create_batch("test", &spec(1), &ids, &[])
        .await
        .unwrap();
    // Pause as soon as the first item is done, the way `batch pause` or
    // Ctrl-C does: through the stored status.
    let store = studio.store().clone();
    let id = batch.id;
    let handle = tokio::runtime::Handle::current();
    let report = studio
        .run_batch(
            id,
            RunOptions::default(),
            Arc::new(move |e| {
                if matches!(e, BatchEvent::ItemDone { .. }) {
                    let store = store.clone();
                    handle.spawn(async move {
                        store.set_batch_status(id, BatchStatus::Paused, None).await
                    });
                }
            }),
        )
        .await
        .unwrap();
    assert_eq!(report.batch.status, BatchStatus::Paused);
    assert!(report.batch.counts.done >= 1);
    assert!(
        report.batch.counts.pending >= 1,
        "{:?}",
        report.batch.counts
    );
    assert_eq!(report.batch.counts.running, 0);

    let resumed = studio
        .run_batch(id, RunOptions::default(), Arc::new(|_| {}))
        .await
        .unwrap();
    assert_eq!(resumed.batch.status, BatchStatus::Done);
    assert_eq!(resumed.batch.counts.done, 4);
    for (item, n) in drafts_per_item(&studio, id).await {
        assert_eq!(n, 1, "item {item}");
    }

    // A cancelled batch stays cancelled.
    studio.cancel_batch(id).await.unwrap_err();
    let other = studio
        .store()
        .create_batch("test", &spec(1), &ids, &[])
        .await
        .unwrap();
    studio.cancel_batch(other.id).await.unwrap();
    let refused = studio
        .run_batch(other.id, RunOptions::default(), Arc::new(|_| {}))
        .await;
    assert!(
        matches!(refused, Err(CoreError::InvalidInput(_))),
        "{refused:?}"
    );
}

async fn a_batch_without_outputs_languages_or_review_files_is_refused(db: &TestDb) {
    let (_tmp, studio) = studio(db).await;
    let mut s = spec(1);
    s.outputs.clear();
    assert!(studio
        .store()
        .create_batch("x", &s, &[], &[])
        .await
        .is_err());
    let mut s = spec(1);
    s.langs = vec!["fr".into()];
    assert!(studio
        .store()
        .create_batch("x", &s, &[], &[])
        .await
        .is_err());
    let mut s = spec(1);
    s.outputs = vec![Output::Reviews];
    let err = studio
        .store()
        .create_batch("x", &s, &[], &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--reviews"), "{err}");
    let mut s = spec(0);
    s.concurrency = 0;
    assert!(studio
        .store()
        .create_batch("x", &s, &[], &[])
        .await
        .is_err());
}

on_both_backends!(
    a_batch_gives_each_item_one_draft_and_goes_on_past_a_failure,
    a_paused_batch_resumes_where_it_stopped,
    a_batch_without_outputs_languages_or_review_files_is_refused,
);
