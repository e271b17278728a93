//! The `vitrine` binary end to end, as a user runs it: real SQLite files in
//! fresh data dirs, real sample photos, the real tiny model.

mod common;

use std::path::Path;
use std::process::Output;

use common::{run, samples, shared_models_dir, stderr, vitrine};

fn products_json(data: &Path) -> serde_json::Value {
    let o = run(vitrine(data).args(["products", "list", "--json"]));
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("products json")
}

#[test]
fn listing_json_on_a_sample_photo_with_the_tiny_model() {
    let data = tempfile::tempdir().unwrap();
    let photo = samples().join("hoodie-02.png");
    let o = run(vitrine(data.path())
        .args([
            "listing",
            "--json",
            "--model",
            "smollm2-135m",
            "--marketplace",
            "amazon",
        ])
        .arg(&photo));
    assert!(o.status.success(), "listing failed: {}", stderr(&o));
    let out: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    let listing = &out["listing"];
    let title = listing["title"].as_str().expect("title");
    assert!(!title.is_empty() && title.chars().count() <= 200);
    let bullets = listing["bullets"].as_array().expect("bullets");
    assert!(!bullets.is_empty() && bullets.len() <= 5);
    assert!(bullets
        .iter()
        .all(|b| b.as_str().is_some_and(|s| s.chars().count() <= 255)));
    assert!(!listing["description"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    assert!(listing["keywords"].is_array());

    // The photo's colours were analysed and the copy names the main one.
    let facts = out["facts"].as_array().expect("facts");
    let main = facts
        .iter()
        .find(|f| f["key"] == "colour")
        .expect("a colour fact");
    let colour = main["label_en"].as_str().unwrap().to_lowercase();
    let copy = format!("{} {}", title, listing["description"].as_str().unwrap()).to_lowercase();
    assert!(
        copy.contains(&colour),
        "copy does not name {colour}: {copy}"
    );

    // Stored with provenance, and readable back.
    let draft_id = out["draft_id"].as_i64().expect("draft id");
    let o = run(vitrine(data.path()).args(["drafts", "show", "--json", &draft_id.to_string()]));
    assert!(o.status.success(), "{}", stderr(&o));
    let draft: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = &draft["versions"][0];
    assert_eq!(v["listing"]["title"], listing["title"]);
    assert_eq!(v["provenance"]["model_id"], "smollm2-135m");
    assert_eq!(v["provenance"]["route"]["pinned"], true);
    assert_eq!(
        v["provenance"]["prompt_sha256"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(products_json(data.path()).as_array().map(Vec::len), Some(1));
}

#[test]
fn bad_inputs_give_one_line_errors_and_store_nothing() {
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let truncated = d.join("truncated.jpg");
    // A real JPEG cut short: encode one, keep the first part.
    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(64, 64, image::Rgb([200, 30, 30]))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 3]).unwrap();
    let text = d.join("notes.jpg");
    std::fs::write(&text, "this is not a photo\n").unwrap();
    let empty = d.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let huge = d.join("huge.png");
    std::fs::write(&huge, png_header(30_000, 30_000)).unwrap();
    let gif = d.join("anim.gif");
    std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
    let missing = d.join("missing.png");
    let subdir = d.join("a-folder");
    std::fs::create_dir(&subdir).unwrap();

    for path in [&truncated, &text, &empty, &huge, &gif, &missing, &subdir] {
        let o = run(vitrine(data.path())
            .args(["listing", "--model", "smollm2-135m"])
            .arg(path));
        assert!(!o.status.success(), "{} was accepted", path.display());
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.len(),
            1,
            "want one line for {}, got: {err}",
            path.display()
        );
        assert!(
            lines[0].contains(&*path.file_name().unwrap().to_string_lossy()),
            "no file name: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(products_json(data.path()).as_array().map(Vec::len), Some(0));
    let photos = data.path().join("photos");
    assert!(
        std::fs::read_dir(&photos).map(|r| r.count()).unwrap_or(0) == 0,
        "photo copies left behind"
    );
}

/// A PNG signature and IHDR chunk claiming `w`×`h`, with a valid CRC.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc32fast::hash(&ihdr).to_be_bytes());
    out
}

#[test]
fn a_missing_model_names_the_command_that_fetches_it() {
    let data = tempfile::tempdir().unwrap();
    let no_models = tempfile::tempdir().unwrap();
    let o = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", no_models.path())
        .args(["listing", "--model", "qwen2.5-coder-0.5b"])
        .arg(samples().join("hoodie-01.png")));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("vitrine models fetch qwen2.5-coder-0.5b"),
        "{}",
        stderr(&o)
    );

    let o = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", no_models.path())
        .args(["models", "list", "--json"]));
    assert!(o.status.success());
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let models = list["models"].as_array().unwrap();
    // Three text models, the photo classifier and the three OCR models.
    assert_eq!(models.len(), 7);
    assert_eq!(models.iter().filter(|m| m["role"] == "vision").count(), 4);
    assert!(models.iter().all(|m| m["installed"] == false));
    assert_eq!(list["device"], "cpu");
}

#[test]
fn fetch_from_a_local_file_verifies_and_is_idempotent() {
    let data = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let bogus = data.path().join("bogus.gguf");
    std::fs::write(&bogus, vec![7u8; 4096]).unwrap();
    let o = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", models.path())
        .args(["models", "fetch", "smollm2-135m", "--from"])
        .arg(&bogus));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("checksum mismatch"), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(models.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "a failed fetch left files behind: {left:?}"
    );

    // The real file installs, and a second fetch is a no-op.
    let real = shared_models_dir().join("smollm2-135m-instruct-q4_1.gguf");
    for _ in 0..2 {
        let o = run(vitrine(data.path())
            .env("VITRINE_MODELS_DIR", models.path())
            .args(["models", "fetch", "smollm2-135m", "--from"])
            .arg(&real));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let names: Vec<String> = std::fs::read_dir(models.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["smollm2-135m-instruct-q4_1.gguf".to_string()]);
}

#[test]
fn bench_worker_times_prompt_and_generation() {
    // The engine side of `vitrine bench` (the llama.cpp side needs a
    // from-source build and runs in the bench, not in CI).
    let data = tempfile::tempdir().unwrap();
    let req = serde_json::json!({
        "model": shared_models_dir().join("smollm2-135m-instruct-q4_1.gguf"),
        "id": "smollm2-135m",
        "threads": 1,
        "prompt_ids": (1..=40).collect::<Vec<u32>>(),
        "gen_tokens": 8,
        "n_ctx": 64,
    });
    let mut child = vitrine(data.path())
        .args(["--threads", "1", "bench-worker"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).expect("timing json");
    assert!(t["prompt_s"].as_f64().unwrap() > 0.0);
    assert!(t["gen_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_without_reference_times_a_model_file_alone() {
    // What a GPU box runs: no llama.cpp, no installed models, a GGUF by path.
    // The reference Python points nowhere, so touching it fails the run.
    let data = tempfile::tempdir().unwrap();
    let no_models = tempfile::tempdir().unwrap();
    let gguf = shared_models_dir().join("smollm2-135m-instruct-q4_1.gguf");
    let bench = |extra: &[&str]| {
        let o = run(vitrine(data.path())
            .env("VITRINE_MODELS_DIR", no_models.path())
            .env("VITRINE_LLAMACPP_PYTHON", data.path().join("no-python"))
            .args([
                "--device",
                "cpu",
                "bench",
                "--no-reference",
                "--threads",
                "1",
            ])
            .args(["--runs", "1", "--prompt-tokens", "24", "--gen-tokens", "4"])
            .arg("--model-path")
            .arg(&gguf)
            .args(extra));
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let out = bench(&["--json"]);
    let row: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON row");
    assert_eq!(row["model"], "smollm2-135m-instruct-q4_1");
    assert_eq!(row["device"], "cpu");
    assert_eq!(row["threads"], 1);
    assert!(row["vitrine_prompt_tps"].as_f64().unwrap() > 0.0);
    assert!(row["vitrine_gen_tps"].as_f64().unwrap() > 0.0);
    assert!(row["llamacpp_prompt_tps"].is_null(), "{row}");
    assert!(row["llamacpp_gen_tps"].is_null(), "{row}");

    let table = bench(&[]);
    assert!(table.contains("reference skipped"), "{table}");
    assert!(!table.contains("llama.cpp prompt"), "{table}");
    assert!(
        table.contains("| smollm2-135m-instruct-q4_1 | cpu | 1 | 24 | 4 |"),
        "{table}"
    );
}

#[test]
fn bench_refuses_a_model_path_that_is_not_a_file() {
    let data = tempfile::tempdir().unwrap();
    let o = run(vitrine(data.path())
        .args(["bench", "--no-reference", "--model-path"])
        .arg(data.path().join("missing.gguf")));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no model file at"), "{}", stderr(&o));
}

#[test]
fn an_identical_request_is_answered_from_the_generation_cache() {
    let data = tempfile::tempdir().unwrap();
    let photo = samples().join("hoodie-03.png");
    let listing = |extra: &[&str]| -> serde_json::Value {
        let o = run(vitrine(data.path())
            .args(["listing", "--json", "--model", "smollm2-135m"])
            .args(extra)
            .arg(&photo));
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let first = listing(&[]);
    let second = listing(&[]);
    let provenance = |v: &serde_json::Value| v["draft"]["versions"][0]["provenance"].clone();
    assert_eq!(provenance(&first)["cached"], false);
    assert_eq!(provenance(&second)["cached"], true);
    assert_eq!(first["listing"], second["listing"]);
    assert_ne!(
        first["draft_id"], second["draft_id"],
        "a cached answer is still a new draft"
    );

    let third = listing(&["--no-cache"]);
    assert_eq!(provenance(&third)["cached"], false);
    assert_eq!(
        first["listing"], third["listing"],
        "same seed, same model: same text"
    );
    // A different seed is a different request.
    let fourth = listing(&["--seed", "7"]);
    assert_eq!(provenance(&fourth)["cached"], false);

    let o = run(vitrine(data.path()).args(["cache", "stats", "--json"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let stats: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(stats["hits"].as_i64().unwrap() >= 1, "{stats}");
    assert!(stats["misses"].as_i64().unwrap() >= 3, "{stats}");

    let o = run(vitrine(data.path()).args(["cache", "clear"]));
    assert!(o.status.success());
    let o = run(vitrine(data.path()).args(["cache", "stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stats["entries"], 0);
}

/// A models dir holding only the tiny model (a link to the shared copy):
/// what a merchant has after `vitrine models fetch smollm2-135m`.
fn tiny_only_models() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let name = "smollm2-135m-instruct-q4_1.gguf";
    let real = shared_models_dir().join(name);
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(&real, dir.path().join(name)).is_ok();
    #[cfg(not(unix))]
    let linked = false;
    if !linked {
        std::fs::copy(&real, dir.path().join(name)).unwrap();
    }
    dir
}

#[test]
fn an_unpinned_listing_falls_back_to_the_installed_model_with_a_notice() {
    let data = tempfile::tempdir().unwrap();
    let models = tiny_only_models();
    let photo = samples().join("hoodie-02.png");
    let listing = |extra: &[&str]| -> serde_json::Value {
        let o = run(vitrine(data.path())
            .env("VITRINE_MODELS_DIR", models.path())
            .args(["listing", "--json"])
            .args(extra)
            .arg(&photo));
        assert!(o.status.success(), "listing failed: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).expect("one JSON document")
    };
    let out = listing(&[]);
    let p = &out["draft"]["versions"][0]["provenance"];
    assert_eq!(p["model_id"], "smollm2-135m");
    let route = &p["route"];
    assert_eq!(route["model_id"], "smollm2-135m");
    assert_eq!(route["role"], "tiny");
    assert_eq!(route["task"], "listing");
    assert_eq!(route["pinned"], false);
    assert_eq!(route["threshold"], 0.25);
    let score = route["score"].as_f64().expect("score");
    assert!(
        (0.25..=1.0).contains(&score),
        "a listing scores heavy: {score}"
    );
    assert_eq!(route["factors"].as_array().map(Vec::len), Some(5));
    let notice = route["fallback"].as_str().expect("a fallback notice");
    assert!(
        notice.contains("qwen2.5-coder-1.5b") && notice.contains("vitrine models fetch"),
        "{notice}"
    );
    let warnings = p["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w.as_str() == Some(notice)),
        "the notice is among the warnings: {warnings:?}"
    );

    // The cache is keyed by the model that ran, not by how it was chosen:
    // pinning the same model answers the same request from the cache.
    let pinned = listing(&["--model", "smollm2-135m"]);
    let p = &pinned["draft"]["versions"][0]["provenance"];
    assert_eq!(p["cached"], true);
    assert_eq!(p["route"]["pinned"], true);
    assert!(p["route"]["fallback"].is_null());
    assert_eq!(pinned["listing"], out["listing"]);
}

#[test]
fn route_prints_the_decision_without_generating() {
    let data = tempfile::tempdir().unwrap();
    let models = tiny_only_models();
    let route = |extra: &[&str]| -> Output {
        run(vitrine(data.path())
            .env("VITRINE_MODELS_DIR", models.path())
            .arg("route")
            .args(extra))
    };
    let json = |extra: &[&str]| -> serde_json::Value {
        let o = route(&[&["--json"], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).expect("route json")
    };

    let en = json(&["--task", "listing", "--lang", "en", "--chars", "950"]);
    assert_eq!(en["model_id"], "smollm2-135m");
    assert_eq!(en["pinned"], false);
    assert!(en["fallback"]
        .as_str()
        .is_some_and(|n| n.contains("qwen2.5-coder-1.5b")));
    let zh = json(&["--task", "listing", "--lang", "zh-CN", "--chars", "950"]);
    assert!(zh["score"].as_f64() > en["score"].as_f64(), "{zh} vs {en}");
    // A short English summary scores light; the notice names that model.
    let summary = json(&["--task", "review-summary", "--chars", "1500"]);
    assert!(summary["score"].as_f64() < Some(0.25), "{summary}");
    assert!(summary["fallback"]
        .as_str()
        .is_some_and(|n| n.contains("qwen2.5-coder-0.5b")));
    // The threshold moves the boundary.
    let strict = json(&["--threshold", "0.9"]);
    assert!(strict["reason"]
        .as_str()
        .is_some_and(|r| r.contains("< threshold")));
    let o = route(&["--json"]);
    let from_env = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", models.path())
        .env("VITRINE_ROUTER_THRESHOLD", "0.9")
        .args(["route", "--json"]));
    assert!(o.status.success() && from_env.status.success());
    let from_env: serde_json::Value = serde_json::from_slice(&from_env.stdout).unwrap();
    assert_eq!(from_env["threshold"], 0.9);

    // People get the factors and the reason.
    let o = route(&["--lang", "en,zh-CN"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "task",
        "languages",
        "en,zh-CN",
        "score",
        "smollm2-135m (tiny)",
    ] {
        assert!(text.contains(needle), "no `{needle}` in: {text}");
    }
    assert!(
        stderr(&o).contains("note: the router chose"),
        "{}",
        stderr(&o)
    );

    // A pinned model that is missing is refused, naming what is installed.
    let o = route(&["--model", "qwen2.5-coder-0.5b"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("vitrine models fetch qwen2.5-coder-0.5b"),
        "{err}"
    );
    assert!(err.contains("installed: smollm2-135m"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let o = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", empty.path())
        .arg("route"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no model is installed"),
        "{}",
        stderr(&o)
    );

    for bad in [
        &["--threshold", "2"][..],
        &["--task", "poem"],
        &["--lang", "e n"],
    ] {
        let o = route(bad);
        assert!(!o.status.success(), "{bad:?} was accepted");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    let o = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", models.path())
        .env("VITRINE_ROUTER_THRESHOLD", "high")
        .arg("route"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("VITRINE_ROUTER_THRESHOLD"),
        "{}",
        stderr(&o)
    );
}

/// `vitrine kg`: the built-in graph is in a fresh store, a category shows
/// its inherited attributes, export → edit → import adds what was edited,
/// and a broken import is refused with the reason and changes nothing.
#[test]
fn knowledge_graph_show_export_and_import() {
    let data = tempfile::tempdir().unwrap();
    let out = run(vitrine(data.path()).args(["kg", "stats", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["top_levels"], 10);
    let categories = stats["categories"].as_u64().unwrap();

    let out = run(vitrine(data.path()).args(["kg", "show", "apparel.tops.polos", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let polo: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let attrs: Vec<&str> = polo["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert!(
        attrs.contains(&"colour") && attrs.contains(&"sleeve_length"),
        "{attrs:?}"
    );

    let file = data.path().join("kg.toml");
    let out = run(vitrine(data.path()).args(["kg", "export"]).arg(&file));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(
        "\n[[category]]\nkey = \"apparel.tops.rugby_shirts\"\nen = \"Rugby shirts\"\nzh = \"橄榄球衫\"\n",
    );
    std::fs::write(&file, text).unwrap();
    let out = run(vitrine(data.path()).args(["kg", "import"]).arg(&file));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(vitrine(data.path()).args(["kg", "show", "apparel.tops.rugby_shirts"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("橄榄球衫"));

    let bad = data.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[relation]]\nkind = \"goes_with\"\nfrom = \"apparel\"\nto = \"nowhere.at_all\"\n",
    )
    .unwrap();
    let out = run(vitrine(data.path()).args(["kg", "import"]).arg(&bad));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown category `nowhere.at_all`"),
        "{}",
        stderr(&out)
    );
    let out = run(vitrine(data.path()).args(["kg", "stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["categories"].as_u64().unwrap(), categories + 1);
}

/// `vitrine analyze` with the real classifier on sample photos: category
/// from the knowledge graph, colours, a cut-out with transparency; a bad
/// file among good ones is reported and the good ones are kept; the user's
/// category survives re-analysis; a title votes on the category.
#[test]
fn analyze_names_category_colour_and_keeps_user_edits() {
    let data = tempfile::tempdir().unwrap();
    let broken = data.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let out = run(vitrine(data.path())
        .args(["analyze", "--json"])
        .arg(samples().join("hoodie-02.png"))
        .arg(&broken)
        .arg(samples().join("wine-bottle-01.png")));
    assert!(
        !out.status.success(),
        "a broken photo must fail the command"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classifier_notice"], serde_json::Value::Null, "{v}");
    assert_eq!(v["failed"].as_array().unwrap().len(), 1, "{v}");
    let photos = v["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2, "the good photos are kept: {v}");
    let hoodie = &photos[0];
    assert_eq!(
        hoodie["category"]["key"], "apparel.tops.hoodies",
        "{hoodie}"
    );
    assert_eq!(hoodie["category"]["top_level"], "apparel");
    assert!(hoodie["category"]["confidence"].as_f64().unwrap() > 0.5);
    let facts = hoodie["facts"].as_array().unwrap();
    let first_colour = facts.iter().find(|f| f["key"] == "colour").unwrap();
    assert_eq!(first_colour["value"], "royal_blue", "{facts:?}");
    let category = facts.iter().find(|f| f["key"] == "category").unwrap();
    assert_eq!(category["source"], "classifier");
    let cut = image::open(hoodie["cutout_path"].as_str().unwrap())
        .unwrap()
        .to_rgba8();
    assert_eq!(
        cut.get_pixel(0, 0)[3],
        0,
        "the cut-out's corner is transparent"
    );
    assert_eq!(photos[1]["category"]["top_level"], "food_drink");

    // The user says it is a sweater; re-analysis keeps that.
    let id = hoodie["product_id"].as_i64().unwrap().to_string();
    let out = run(vitrine(data.path()).args(["products", "set-fact", &id, "category", "毛衣"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(vitrine(data.path())
        .args(["analyze", "--json"])
        .arg(samples().join("hoodie-02.png")));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let again = &v["photos"][0];
    assert_eq!(again["reanalysed"], true);
    let user: Vec<&serde_json::Value> = again["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "user")
        .collect();
    assert_eq!(user.len(), 1, "{again}");
    assert_eq!(user[0]["value"], "apparel.tops.sweaters");

    // ImageNet has no juice class; the merchant's title settles it.
    let out = run(vitrine(data.path())
        .args(["analyze", "--json", "--title", "Banana Juice"])
        .arg(samples().join("juice-bottle-01.png")));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["photos"][0]["category"]["key"], "food_drink.juice", "{v}");
}

/// `vitrine eval vision` on the repo's labelled samples: every labelled
/// sample is scored, and with the shop's titles every category is right.
#[test]
fn eval_vision_scores_the_labelled_samples() {
    let data = tempfile::tempdir().unwrap();
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/samples/labels.toml");
    let out = run(vitrine(data.path())
        .args(["eval", "vision", "--json", "--labels"])
        .arg(&labels)
        .arg(samples()));
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["photos"], 9, "{r}");
    assert_eq!(r["classifier"], true);
    assert_eq!(r["with_title_top_level_accuracy"], 1.0, "{r}");
    let top = r["top_level_accuracy"].as_f64().unwrap();
    assert!(top >= 0.85, "photo-only top level {top}: {r}");
}

/// A plain `vitrine analyze` (no title, no --ocr) reads the label of a
/// photo the classifier takes for lotion: "Bananas" on the bottle names
/// food & drink. `--no-ocr` leaves the classifier's answer alone; a photo
/// the classifier is sure of is not read at all.
#[test]
fn analyze_reads_the_label_when_the_classifier_is_unsure() {
    let data = tempfile::tempdir().unwrap();
    let out = run(vitrine(data.path())
        .args(["--threads", "2", "analyze", "--json"])
        .arg(samples().join("juice-bottle-01.png"))
        .arg(samples().join("hoodie-02.png")));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let juice = &v["photos"][0];
    assert_eq!(juice["category"]["top_level"], "food_drink", "{juice}");
    assert!(
        !juice["category"]["printed_categories"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{juice}"
    );
    let ocr = |p: &serde_json::Value| {
        p["facts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["source"] == "ocr")
            .count()
    };
    assert!(ocr(juice) > 0, "{juice}");
    assert_eq!(ocr(&v["photos"][1]), 0, "a sure hoodie is not read");

    let other = tempfile::tempdir().unwrap();
    let out = run(vitrine(other.path())
        .args(["analyze", "--json", "--no-ocr"])
        .arg(samples().join("juice-bottle-01.png")));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let juice = &v["photos"][0];
    assert_eq!(juice["category"]["top_level"], "beauty", "{juice}");
    assert_eq!(ocr(juice), 0, "{juice}");
}

/// A red wine's bottle is near-black under a white label that covers half
/// of it. A plain `vitrine analyze` reads the label (wine is packaged), and
/// the paper and its print are left out of the colours; without reading
/// it (`--no-ocr`) the label's white leads.
#[test]
fn analyze_leaves_a_paper_label_out_of_the_colour() {
    let colour = |args: &[&str]| {
        let data = tempfile::tempdir().unwrap();
        let out = run(vitrine(data.path())
            .args(["--threads", "2", "analyze", "--json"])
            .args(args)
            .arg(samples().join("wine-bottle-01.png")));
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let colours: Vec<String> = v["photos"][0]["facts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["key"] == "colour")
            .map(|f| f["value"].as_str().unwrap_or_default().to_string())
            .collect();
        colours
    };
    let read = colour(&[]);
    assert_eq!(read.first().map(String::as_str), Some("black"), "{read:?}");
    let unread = colour(&["--no-ocr"]);
    assert_eq!(
        unread.first().map(String::as_str),
        Some("white"),
        "{unread:?}"
    );
}

/// Grayscale and CMYK JPEGs, 16-bit and palette PNGs, animated PNG and
/// WebP, an 8×8 image and noise are analysed; GIF is refused with the
/// reason; the noise, which shows no product, gets no category.
#[test]
fn odd_images_are_analysed_or_refused_with_a_reason() {
    let data = tempfile::tempdir().unwrap();
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vitrine-core/tests/fixtures/odd-images");
    let names = [
        "grayscale.jpg",
        "cmyk.jpg",
        "gray16.png",
        "palette.png",
        "animated.png",
        "animated.webp",
        "tiny-8x8.png",
        "noise.png",
        "animated.gif",
    ];
    let out = run(vitrine(data.path())
        .args(["analyze", "--json"])
        .args(names.iter().map(|n| dir.join(n))));
    assert!(!out.status.success(), "the GIF must fail the command");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{v}");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("unsupported format (GIF)"),
        "{v}"
    );
    let photos = v["photos"].as_array().unwrap();
    assert_eq!(photos.len(), names.len() - 1, "{v}");
    for p in photos {
        assert!(
            p["facts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["key"] == "colour"),
            "{p}"
        );
        assert!(p["cutout_path"].is_string(), "{p}");
    }
    let noise = photos
        .iter()
        .find(|p| p["file"].as_str().unwrap().ends_with("noise.png"))
        .unwrap();
    assert_eq!(noise["category"]["key"], serde_json::Value::Null, "{noise}");
}

/// `vitrine analyze --ocr`: the text printed on the label becomes facts
/// (source ocr); without the OCR models the command says how to fetch them.
#[test]
fn analyze_reads_printed_text_with_ocr() {
    let data = tempfile::tempdir().unwrap();
    let out = run(vitrine(data.path())
        .args(["--threads", "2", "analyze", "--json", "--ocr"])
        .arg(samples().join("wine-bottle-01.png")));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text: Vec<&str> = v["photos"][0]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "ocr")
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    assert!(text.contains(&"750"), "{text:?}");

    let empty = tempfile::tempdir().unwrap();
    let out = run(vitrine(data.path())
        .env("VITRINE_MODELS_DIR", empty.path())
        .args(["analyze", "--ocr"])
        .arg(samples().join("wine-bottle-01.png")));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("vitrine models fetch ppocr-v4"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_product_with_no_facts_gets_no_invented_listing() {
    let data = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    // Fully transparent: no product to see, so no colour or any other fact.
    let photo = inbox.path().join("nothing.png");
    image::RgbaImage::from_pixel(64, 64, image::Rgba([0, 0, 0, 0]))
        .save(&photo)
        .unwrap();
    let o = run(vitrine(data.path())
        .args(["listing", "--model", "smollm2-135m"])
        .arg(&photo));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("not enough information"), "{err}");
    assert!(err.contains("set-fact"), "{err}");
    let products = products_json(data.path());
    let product = &products.as_array().unwrap()[0];
    assert_eq!(product["draft_count"], 0, "{product}");
}
