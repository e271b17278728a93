//! `vitrine --remote-url … --remote-model … listing` against a real
//! llama.cpp server: llama-cpp-python's OpenAI-compatible server serving
//! the SmolLM2 GGUF on loopback, from the Python `VITRINE_LLAMACPP_PYTHON`
//! names or the bench's venv (`scripts/setup.sh --test-deps` installs it).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::shared_models_dir;

// The light model: the listing pipeline's checks (valid JSON, the main
// colour named) need a model that follows instructions, and a chat API
// cannot force the reply's start the way the local engine's prefill does,
// so the tiny model fails them as often as not.
const MODEL: &str = "qwen2.5-coder-0.5b";

fn llamacpp_python() -> PathBuf {
    if let Some(p) = std::env::var_os("VITRINE_LLAMACPP_PYTHON").filter(|v| !v.is_empty()) {
        return p.into();
    }
    std::env::var_os("VITRINE_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.cache_dir().to_path_buf())
        })
        .expect("a home directory")
        .join("bench/llamacpp-venv/bin/python")
}

/// The server as a child process, killed on drop; it also exits with this
/// process, watching its stdin.
struct LlamaServer {
    child: Child,
    _stdin: ChildStdin,
    base_url: String,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LlamaServer {
    fn start(log_path: &Path) -> Self {
        let python = llamacpp_python();
        let ok = Command::new(&python)
            .args(["-c", "import llama_cpp.server.app, uvicorn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{} cannot run llama-cpp-python's server; run `scripts/setup.sh --test-deps` or set \
             VITRINE_LLAMACPP_PYTHON",
            python.display()
        );
        let gguf = shared_models_dir().join("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
        assert!(
            gguf.is_file(),
            "{} is missing; run `vitrine models fetch {MODEL}`",
            gguf.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(log_path).expect("log file");
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(
                "import os, sys, threading, runpy\n\
                 threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n\
                 sys.argv = ['llama_cpp.server'] + sys.argv[1:]\n\
                 runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)",
            )
            .arg("--model")
            .arg(&gguf)
            .args(["--model_alias", MODEL, "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--n_ctx", "2048", "--verbose", "False"])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start the llama.cpp server");
        let stdin = child.stdin.take().expect("piped stdin");
        let base_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(90);
        let probe = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        while probe.get(&format!("{base_url}/v1/models")).call().is_err() {
            let log = || std::fs::read_to_string(log_path).unwrap_or_default();
            if let Ok(Some(status)) = child.try_wait() {
                panic!("llama.cpp server exited ({status}):\n{}", log());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("llama.cpp server not ready after 90 s:\n{}", log());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Self {
            child,
            _stdin: stdin,
            base_url,
        }
    }
}

/// A product photo: a red garment shape on a transparent background.
fn photo(dir: &Path) -> PathBuf {
    let img = image::RgbaImage::from_fn(96, 96, |x, y| {
        let inside = (16..80).contains(&x) && (12..88).contains(&y);
        if inside {
            image::Rgba([200, 24, 30, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let path = dir.join("t-shirt.png");
    img.save(&path).expect("write the photo");
    path
}

fn listing(data: &Path, url: &str, model: &str, photo: &Path) -> (Output, serde_json::Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .env("VITRINE_DATA_DIR", data)
        .env("VITRINE_MODELS_DIR", data.join("no-local-models"))
        .env_remove("VITRINE_DEVICE")
        .env_remove("VITRINE_REMOTE_API_KEY")
        .args(["--remote-url", url, "--remote-model", model])
        .args(["listing", "--json"])
        .arg(photo)
        .output()
        .expect("run vitrine");
    assert!(
        o.status.success(),
        "listing failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    (o, v)
}

#[test]
fn listing_through_a_remote_llama_cpp_server_stores_a_draft() {
    let data = tempfile::tempdir().unwrap();
    let server = LlamaServer::start(&data.path().join("server.log"));
    let photo = photo(data.path());

    // No local model is installed in this data dir: the server writes.
    let (_, out) = listing(data.path(), &server.base_url, MODEL, &photo);
    let l = &out["listing"];
    assert!(
        l["title"].as_str().is_some_and(|t| t.chars().count() >= 3),
        "{l}"
    );
    assert!(
        l["bullets"].as_array().is_some_and(|b| !b.is_empty()),
        "{l}"
    );
    assert!(
        l["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{l}"
    );
    let version = &out["draft"]["versions"][0];
    assert_eq!(version["listing"], *l, "the stored draft holds the listing");
    let p = &version["provenance"];
    assert_eq!(p["model_id"], format!("{MODEL}@{}", server.base_url));
    assert_eq!(p["cached"], false);
    assert!(p["generated_tokens"].as_u64().unwrap_or(0) > 0, "{p}");

    // The same request again is answered from the cache, whichever way
    // the server's URL is written…
    let (_, again) = listing(
        data.path(),
        &format!("{}/v1/", server.base_url),
        MODEL,
        &photo,
    );
    assert_eq!(again["draft"]["versions"][0]["provenance"]["cached"], true);
    assert_eq!(again["listing"], *l);
    // …but another model name is another model: the server runs again.
    let (_, other) = listing(data.path(), &server.base_url, "light-other", &photo);
    let p = &other["draft"]["versions"][0]["provenance"];
    assert_eq!(p["cached"], false);
    assert_eq!(p["model_id"], format!("light-other@{}", server.base_url));
}

/// A batch against the server sends concurrent requests (`--concurrency
/// 2`) and ends with every item accounted for: a draft, or a recorded
/// error; never a lost or doubled item.
#[test]
fn a_batch_runs_concurrent_requests_against_the_remote_server() {
    let data = tempfile::tempdir().unwrap();
    let server = LlamaServer::start(&data.path().join("server.log"));
    let csv = data.path().join("catalogue.csv");
    std::fs::write(
        &csv,
        "handle,title,colour,material\n\
         tee,Organic Cotton T-Shirt,navy,cotton\n\
         mug,Stoneware Coffee Mug,green,ceramic\n\
         scarf,Merino Wool Scarf,red,wool\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .env("VITRINE_DATA_DIR", data.path())
        .env("VITRINE_MODELS_DIR", data.path().join("no-local-models"))
        .env_remove("VITRINE_DEVICE")
        .env_remove("VITRINE_REMOTE_API_KEY")
        .args(["--remote-url", &server.base_url, "--remote-model", MODEL])
        .args(["batch", "run", "--json", "--concurrency", "2"])
        .arg(&csv)
        .output()
        .expect("run vitrine");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("no JSON report: {}", String::from_utf8_lossy(&o.stderr)));
    let counts = &report["batch"]["counts"];
    assert_eq!(report["batch"]["status"], "done", "{report}");
    assert_eq!(counts["total"], 3, "{report}");
    assert_eq!(
        counts["done"].as_u64().unwrap() + counts["failed"].as_u64().unwrap(),
        3,
        "{report}"
    );
    assert!(counts["done"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(report["batch"]["spec"]["concurrency"], 2);
    // A failure is the model's, recorded with its error, and the exit code
    // says so.
    assert_eq!(o.status.success(), counts["failed"] == 0, "{report}");
}
