//! Load: 200 clients at once asking for a listing the generation cache
//! already holds (each still runs the checks and stores a draft). Prints
//! p50/p99 latency; any error fails. Figures in docs/PERFORMANCE.md.

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{red_square_png, Server, TINY};
use serde_json::json;

const CLIENTS: usize = 200;

#[test]
fn two_hundred_concurrent_cached_listings() {
    let s = Server::start();
    let up = s
        .post_form(
            "/api/photos",
            &s.tokens.author,
            &[("file", Some("tee.png"), &red_square_png())],
        )
        .json();
    let product = up["product_id"].as_i64().expect("product");
    let path = format!("/api/products/{product}/listing");
    let body = json!({"model": TINY, "use_cache": true});
    // Fill the cache.
    let warm = s.post_json(&path, Some(&s.tokens.author), &body);
    assert_eq!(warm.status, 200, "{}", String::from_utf8_lossy(&warm.body));

    let url = s.url(&path);
    let token = s.tokens.author.clone();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, token, barrier, body) = (
                url.clone(),
                token.clone(),
                barrier.clone(),
                body.to_string(),
            );
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(120))
                    .build();
                barrier.wait();
                let t = Instant::now();
                let r = agent
                    .post(&url)
                    .set("Authorization", &format!("Bearer {token}"))
                    .set("Content-Type", "application/json")
                    .send_string(&body);
                let ok = match r {
                    Ok(resp) => {
                        let v: serde_json::Value = resp.into_json().unwrap_or_default();
                        v["versions"][0]["provenance"]["cached"] == true
                    }
                    Err(e) => {
                        eprintln!("request failed: {e}");
                        false
                    }
                };
                (t.elapsed(), ok)
            })
        })
        .collect();
    let results: Vec<(Duration, bool)> = handles
        .into_iter()
        .map(|h| h.join().expect("client"))
        .collect();
    let wall = started.elapsed();
    let errors = results.iter().filter(|(_, ok)| !ok).count();
    let mut ms: Vec<f64> = results
        .iter()
        .map(|(d, _)| d.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        ms[((ms.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(ms.len() - 1)]
    };
    eprintln!(
        "LOAD {CLIENTS} concurrent cached listings: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, \
         {errors} error(s), {:.1} s wall, {:.0} req/s",
        pct(0.50),
        pct(0.99),
        ms[ms.len() - 1],
        wall.as_secs_f64(),
        CLIENTS as f64 / wall.as_secs_f64()
    );
    assert_eq!(
        errors, 0,
        "{errors} of {CLIENTS} requests failed or missed the cache"
    );
    let drafts = s
        .get(
            &format!("/api/drafts?product={product}"),
            Some(&s.tokens.author),
        )
        .json();
    assert_eq!(drafts.as_array().map(Vec::len), Some(CLIENTS + 1));
}
