//! `vitrine serve` end to end over real HTTP: auth, limits, bad input, and
//! the skills with the tiny model.

mod common;

use std::time::{Duration, Instant};

use common::{catalogue_csv, raw_exchange, red_square_png, Server, TINY};
use serde_json::json;
use vitrine_server::ServerConfig;

#[test]
fn tokens_roles_and_public_routes() {
    let s = Server::start();
    assert_eq!(s.get("/health", None).status, 200);

    let doc = s.get("/openapi.json", None);
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/photos",
        "/api/products/{id}/listing",
        "/api/batches",
        "/api/exports",
        "/v1/chat/completions",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let r = s.get("/api/products", None);
    r.assert_problem(401, "unauthorized");
    assert!(r
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Bearer")));
    s.get("/api/products", Some("vtr_0000"))
        .assert_problem(401, "unauthorized");
    // Under /v1 a refusal takes OpenAI's error shape, which its clients read.
    let r = s.get("/v1/models", Some("not-even-a-token"));
    assert_eq!(r.status, 401);
    assert_eq!(r.content_type, "application/json");
    let e = r.json();
    assert_eq!(e["error"]["type"], "authentication_error", "{e}");
    assert_eq!(e["error"]["code"], "unauthorized", "{e}");

    let me = s.get("/api/me", Some(&s.tokens.reviewer)).json();
    assert_eq!(me["profile"], "rita");
    assert_eq!(me["role"], "reviewer");

    // A server-side role check, and the workflow's own below (the flow test).
    s.get("/api/audit/verify", Some(&s.tokens.author))
        .assert_problem(403, "forbidden");
    let audit = s.get("/api/audit/verify", Some(&s.tokens.reviewer));
    assert_eq!(audit.status, 200);
    assert_eq!(audit.json()["ok"], true);

    s.get("/api/nothing-here", Some(&s.tokens.author))
        .assert_problem(404, "no_route");
    s.get("/api/products/77", Some(&s.tokens.author))
        .assert_problem(404, "not_found");
    s.get("/api/products/abc", Some(&s.tokens.author))
        .assert_problem(400, "invalid_path");

    // Every response carries a request id; a client's own is kept.
    let r = s.get("/api/me", Some(&s.tokens.author));
    assert!(r.header("x-request-id").is_some_and(|v| v.len() >= 32));
    let r = s
        .agent()
        .get(&s.url("/health"))
        .set("x-request-id", "trace-me-42")
        .call()
        .expect("health");
    assert_eq!(r.header("x-request-id"), Some("trace-me-42"));
}

#[test]
fn bad_input_is_refused_with_a_useful_problem() {
    let mut config = ServerConfig {
        rate_per_second: 0,
        max_upload_bytes: 64 * 1024,
        header_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    config.body_timeout = Duration::from_secs(2);
    let s = Server::start_with(config);
    let t = s.tokens.author.clone();

    // Malformed JSON: where it broke.
    let p = s
        .post_raw(
            "/api/checks",
            Some(&t),
            "application/json",
            b"{\"text\": \"hi\",",
        )
        .assert_problem(400, "malformed_json");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("line 1")),
        "{p}"
    );
    // Valid JSON of the wrong shape: which field.
    let p = s
        .post_json("/api/checks", Some(&t), &json!({"text": 42}))
        .assert_problem(400, "invalid_json");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("string")),
        "{p}"
    );
    let p = s
        .post_json("/api/checks", Some(&t), &json!({"txet": "typo"}))
        .assert_problem(400, "invalid_json");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("txet")),
        "{p}"
    );
    s.post_raw("/api/checks", Some(&t), "text/plain", b"{}")
        .assert_problem(415, "unsupported_media_type");
    s.post_json("/api/checks", Some(&t), &json!({"text": "a", "listing": {"title": "b", "bullets": [], "description": "", "keywords": []}}))
        .assert_problem(400, "invalid_input");
    // A check on posted text runs for real.
    let findings = s.post_json(
        "/api/checks",
        Some(&t),
        &json!({"text": "The best shirt in the world, cures colds."}),
    );
    assert_eq!(findings.status, 200);
    let findings = findings.json();
    assert!(
        findings
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["severity"] == "blocking")),
        "{findings}"
    );

    // Path traversal in an upload's name: refused, nothing stored.
    let png = red_square_png();
    for name in [
        "../../etc/passwd.png",
        "..\\..\\x.png",
        "/abs/photo.png",
        ".hidden.png",
    ] {
        s.post_form("/api/photos", &t, &[("file", Some(name), &png)])
            .assert_problem(400, "unsafe_file_name");
    }
    assert_eq!(s.get("/api/products", Some(&t)).json(), json!([]));
    // Not a photo.
    s.post_form(
        "/api/photos",
        &t,
        &[("file", Some("notes.png"), b"hello there")],
    )
    .assert_problem(415, "unsupported_format");
    s.post_form("/api/photos", &t, &[("other", None, b"x")])
        .assert_problem(400, "missing_file");

    // Over the upload limit: 413 from the declared length, before any of
    // the body is read (so a 10 GB upload costs the server nothing). Only
    // the head is sent: the server answers and closes without reading the
    // body, so a client still writing one can meet a broken pipe before it
    // reads the reply (CI saw that even at 72 KiB).
    for length in [72 * 1024, 10_000_000_000u64] {
        let head = format!(
            "POST /api/photos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
             Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\n\r\n"
        );
        let (reply, _) = raw_exchange(s.addr, head.as_bytes(), Duration::from_secs(10));
        assert!(reply.starts_with("HTTP/1.1 413"), "{length}: {reply}");
        assert!(reply.contains("body_too_large"), "{length}: {reply}");
    }

    // Slow clients: headers never finished, a body that stalls.
    let (reply, took) = raw_exchange(
        s.addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(20),
    );
    assert!(
        took < Duration::from_secs(8),
        "a half-sent request held the connection {took:?}"
    );
    assert!(!reply.contains("200 OK"), "{reply}");
    let stalled = format!(
        "POST /api/checks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"text\": "
    );
    let (reply, took) = raw_exchange(s.addr, stalled.as_bytes(), Duration::from_secs(20));
    assert!(
        took < Duration::from_secs(10),
        "a stalled body held the request {took:?}"
    );
    assert!(!reply.contains("200 OK"), "{reply}");

    // The server survived all of it.
    assert_eq!(s.get("/health", None).status, 200);
}

#[test]
fn per_token_rate_limit() {
    let s = Server::start_with(ServerConfig {
        rate_per_second: 1,
        rate_burst: 2,
        ..ServerConfig::default()
    });
    let statuses: Vec<u16> = (0..4)
        .map(|_| s.get("/api/me", Some(&s.tokens.author)).status)
        .collect();
    assert_eq!(&statuses[..2], &[200, 200], "{statuses:?}");
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    let r = s.get("/api/me", Some(&s.tokens.author));
    let p = r.assert_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some(), "{p}");
    // Another token has its own bucket.
    assert_eq!(s.get("/api/me", Some(&s.tokens.reviewer)).status, 200);
}

#[test]
fn photo_to_exported_listing_through_the_review_workflow() {
    let s = Server::start();
    let tk = &s.tokens;
    let up = s.upload_photo(&tk.author, "red tee.png", &red_square_png());
    let product = up["product_id"].as_i64().expect("product id");
    assert_eq!(up["photo"]["source_name"], "red tee.png");
    assert!(
        up["facts"].as_array().is_some_and(|f| !f.is_empty()),
        "{up}"
    );

    let again = s.post_json(
        &format!("/api/products/{product}/analyze"),
        Some(&tk.author),
        &json!(null),
    );
    assert_eq!(
        again.status,
        200,
        "{}",
        String::from_utf8_lossy(&again.body)
    );

    let listing = s.post_json(
        &format!("/api/products/{product}/listing"),
        Some(&tk.author),
        &json!({"model": TINY, "marketplace": "generic", "lang": "en"}),
    );
    assert_eq!(
        listing.status,
        200,
        "{}",
        String::from_utf8_lossy(&listing.body)
    );
    let draft = listing.json();
    let id = draft["id"].as_i64().expect("draft id");
    assert_eq!(draft["versions"][0]["provenance"]["model_id"], TINY);
    assert_eq!(
        s.get(&format!("/api/drafts/{id}/checks"), Some(&tk.author))
            .status,
        200
    );

    // A reviewer cannot be an author's approver of last resort: approving
    // over blocking findings is an admin's call.
    let r = s.post_json(
        &format!("/api/drafts/{id}/submit"),
        Some(&tk.author),
        &json!({"reason": "first pass"}),
    );
    assert_eq!(r.json()["status"], "in_review");
    s.post_json(
        &format!("/api/drafts/{id}/approve"),
        Some(&tk.author),
        &json!({}),
    )
    .assert_problem(403, "forbidden");
    s.post_json(
        &format!("/api/drafts/{id}/approve"),
        Some(&tk.reviewer),
        &json!({"override": "ship it"}),
    )
    .assert_problem(403, "forbidden");
    s.post_json(
        &format!("/api/drafts/{id}/reopen"),
        Some(&tk.reviewer),
        &json!({}),
    )
    .assert_problem(403, "forbidden");
    let c = s.post_json(
        &format!("/api/drafts/{id}/comments"),
        Some(&tk.reviewer),
        &json!({"field": "title", "body": "Say what the fabric is."}),
    );
    assert_eq!(c.status, 200, "{}", String::from_utf8_lossy(&c.body));
    assert_eq!(c.json()["author"], "rita");

    let r = s.post_json(
        &format!("/api/drafts/{id}/approve"),
        Some(&tk.reviewer),
        &json!({}),
    );
    match r.status {
        200 => assert_eq!(r.json()["draft"]["status"], "approved"),
        409 => {
            // The tiny model's copy has blocking findings: an admin
            // overrides, and the log says so.
            r.assert_problem(409, "blocked");
            let r = s.post_json(
                &format!("/api/drafts/{id}/approve"),
                Some(&tk.admin),
                &json!({"override": "test copy"}),
            );
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            assert_eq!(r.json()["overridden"], true);
        }
        other => panic!("approve: {other} {}", String::from_utf8_lossy(&r.body)),
    }

    let ex = s.post_json(
        "/api/exports",
        Some(&tk.admin),
        &json!({"format": "json", "lang": "en"}),
    );
    assert_eq!(ex.status, 200, "{}", String::from_utf8_lossy(&ex.body));
    assert!(ex
        .header("content-disposition")
        .is_some_and(|v| v.contains("vitrine-export.json")));
    let report: serde_json::Value =
        serde_json::from_str(ex.header("x-vitrine-export").expect("report")).expect("json");
    assert_eq!(report["drafts"], json!([id]));
    let file = ex.json();
    assert!(file.to_string().contains(
        &draft["versions"][0]["listing"]["title"]
            .as_str()
            .expect("title")
            .replace('"', "\\\"")
    ));

    let d = s.get(&format!("/api/drafts/{id}"), Some(&tk.author)).json();
    assert_eq!(d["status"], "exported");
    let history = s
        .get(&format!("/api/drafts/{id}/history"), Some(&tk.author))
        .json();
    let actors: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["actor"].as_str())
        .collect();
    assert!(
        actors.contains(&"ana") && actors.contains(&"boss"),
        "{actors:?}"
    );
    let listed = s
        .get("/api/drafts?status=exported", Some(&tk.author))
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    s.get("/api/drafts?status=bogus", Some(&tk.author))
        .assert_problem(400, "invalid_query");
    // Exported copy is final.
    s.post_json(
        &format!("/api/drafts/{id}/submit"),
        Some(&tk.author),
        &json!({}),
    )
    .assert_problem(409, "illegal_transition");
}

#[test]
fn batches_create_status_cancel_and_pause_on_shutdown() {
    let mut s = Server::start();
    let t = s.tokens.author.clone();
    let csv = catalogue_csv(2);
    let r = s.post_form(
        "/api/batches",
        &t,
        &[
            ("file", Some("shop.csv"), &csv),
            ("model", None, TINY.as_bytes()),
            ("run", None, b"false"),
        ],
    );
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let b = r.json();
    let id = b["batch"]["id"].as_i64().expect("batch id");
    assert_eq!(b["batch"]["status"], "queued");
    assert_eq!(b["batch"]["counts"]["total"], 2);
    assert_eq!(b["import"]["created"], 2);
    // The upload is stored under its hash, not the client's name.
    assert!(b["batch"]["source"]
        .as_str()
        .is_some_and(|p| p.contains("uploads") && !p.contains("shop.csv")));

    let st = s.get(&format!("/api/batches/{id}"), Some(&t)).json();
    assert_eq!(st["batch"]["counts"]["pending"], 2);
    let c = s.post_json(&format!("/api/batches/{id}/cancel"), Some(&t), &json!(null));
    assert_eq!(c.json()["status"], "cancelled");
    s.post_json(&format!("/api/batches/{id}/resume"), Some(&t), &json!(null))
        .assert_problem(400, "invalid_input");
    s.post_form(
        "/api/batches",
        &t,
        &[("file", Some("x.csv"), b"\x00\x01binary")],
    )
    .assert_problem(400, "invalid_catalogue");
    s.post_form(
        "/api/batches",
        &t,
        &[
            ("file", Some("shop.csv"), &csv),
            ("outputs", None, b"poems"),
        ],
    )
    .assert_problem(400, "invalid_input");

    // A running batch when the server is told to stop: it is paused (its
    // items in flight back in the queue), not left running.
    let r = s.post_form(
        "/api/batches",
        &t,
        &[
            ("file", Some("big.csv"), &catalogue_csv(30)),
            ("model", None, TINY.as_bytes()),
        ],
    );
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["batch"]["id"].as_i64().expect("batch id");
    let started = Instant::now();
    loop {
        let st = s.get(&format!("/api/batches/{id}"), Some(&t)).json();
        if st["batch"]["status"] == "running" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "batch never ran: {st}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.post_json(&format!("/api/batches/{id}/resume"), Some(&t), &json!(null))
        .assert_problem(409, "batch_running");
    s.shutdown();
    let db = s.data.path().join("vitrine.db");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let batch = rt.block_on(async {
        let store = vitrine_core::Store::open(&db).await.expect("store");
        store.batch(id).await.expect("batch")
    });
    assert_eq!(batch.status.as_str(), "paused", "{batch:?}");
    assert_eq!(batch.counts.running, 0, "{batch:?}");
    assert!(
        batch.counts.pending > 0,
        "the batch finished before the shutdown: {batch:?}"
    );
}
