//! Time to analyse a large review file without the model (import, clean,
//! injection, aspects, quotes). A measurement, not a pass/fail speed test:
//! `cargo test --release -p vitrine-core --test reviews_speed -- --ignored --nocapture`
//! (figures in docs/PERFORMANCE.md).

use std::time::Instant;

use vitrine_core::reviews::{analyse, import};

#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn analyse_ten_thousand_reviews() {
    let sample = include_str!("../../../assets/samples/reviews-hoodie.csv");
    let rows: Vec<&str> = sample.lines().skip(1).collect();
    let mut csv = String::from("product,rating,review,date\n");
    for i in 0..10_000 {
        let (head, rest) = rows[i % rows.len()].split_once(",\"").unwrap();
        csv.push_str(&format!("{head},\"Customer {i}: {rest}\n"));
    }
    let bytes = csv.into_bytes();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let imported = import::import_bytes(&bytes, None).unwrap();
        let a = analyse(imported).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(a.analysis.total, 10_000);
        assert!(a.analysis.suspicious.len() > 200);
    }
    println!(
        "10,000 reviews ({:.1} MB): best of 3 {:.0} ms",
        bytes.len() as f64 / 1e6,
        best * 1000.0
    );
}
