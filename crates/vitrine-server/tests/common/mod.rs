//! An in-process `vitrine serve` on a random loopback port with a fresh
//! data dir, the user's models dir (or `VITRINE_MODELS_DIR`), and one
//! token per role; blocking HTTP helpers for the tests.
#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use vitrine_core::api_tokens::create_token;
use vitrine_core::review::{self, Role};
use vitrine_core::{DataDir, Studio};
use vitrine_server::{AppState, ServerConfig};

pub const TINY: &str = "smollm2-135m";

pub fn shared_models_dir() -> PathBuf {
    std::env::var_os("VITRINE_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.data_dir().join("models"))
        })
        .expect("a home directory")
}

/// The Python of a venv holding the HTTP clients the tests drive the
/// server with: the official `openai` SDK and schemathesis, pinned.
/// `VITRINE_SDK_PYTHON` names another; scripts/setup.sh --test-deps makes
/// this one, and the tests do too when it is missing.
pub fn tool_python() -> PathBuf {
    const PACKAGES: [(&str, &str); 2] = [
        ("openai", "openai==3.57.0"),
        ("schemathesis", "schemathesis==4.32.5"),
    ];
    if let Some(p) = std::env::var_os("VITRINE_SDK_PYTHON").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("VITRINE_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.cache_dir().to_path_buf())
        })
        .expect("a cache dir");
    let venv = cache.join("serve").join("sdk-venv");
    let python = venv.join("bin").join("python");
    let has = |module: &str| {
        std::process::Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !python.exists() {
        let ok = std::process::Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        assert!(
            ok.is_ok_and(|s| s.success()),
            "python3 -m venv failed (install python3-venv)"
        );
    }
    for (module, spec) in PACKAGES {
        if has(module) {
            continue;
        }
        let ok = std::process::Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                spec,
            ])
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "pip install {spec} failed");
    }
    python
}

pub struct Tokens {
    pub author: String,
    pub reviewer: String,
    pub admin: String,
}

pub struct Server {
    pub addr: SocketAddr,
    pub tokens: Tokens,
    pub data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(ServerConfig {
            // The tests send bursts; the limit has its own test.
            rate_per_second: 0,
            ..ServerConfig::default()
        })
    }

    pub fn start_with(config: ServerConfig) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let root = data.path().to_path_buf();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let dirs = DataDir::resolve(Some(&root))
                    .expect("data dir")
                    .with_models_dir(shared_models_dir());
                let studio = Studio::open(dirs).await.expect("studio");
                let store = studio.store();
                let admin = review::acting_profile(store, None).await.expect("admin");
                let mut made = Vec::new();
                for (name, role) in [
                    ("ana", Role::Author),
                    ("rita", Role::Reviewer),
                    ("boss", Role::Admin),
                ] {
                    made.push(
                        create_token(store, &admin, name, role)
                            .await
                            .expect("token")
                            .token,
                    );
                }
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                ready_tx.send((addr, made)).expect("ready");
                let state = AppState::new(studio.clone(), config);
                vitrine_server::serve(listener, state, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
                studio.store().close().await;
            });
        });
        let (addr, made) = ready_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server started");
        let mut made = made.into_iter();
        let tokens = Tokens {
            author: made.next().expect("author"),
            reviewer: made.next().expect("reviewer"),
            admin: made.next().expect("admin"),
        };
        Server {
            addr,
            tokens,
            data,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Ctrl-C, as far as the server knows; waits for it to finish.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread");
        }
    }

    pub fn agent(&self) -> ureq::Agent {
        ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(600))
            .build()
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.agent().get(&self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        Reply::from(req.call())
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &serde_json::Value) -> Reply {
        self.post_raw(path, token, "application/json", body.to_string().as_bytes())
    }

    pub fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Reply {
        let mut req = self
            .agent()
            .post(&self.url(path))
            .set("Content-Type", content_type);
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        Reply::from(req.send_bytes(body))
    }

    /// A multipart form: `(name, file name, bytes)`; text parts have no
    /// file name.
    pub fn post_form(
        &self,
        path: &str,
        token: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Reply {
        let boundary = "vitrine-test-boundary-7d1c";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.post_raw(
            path,
            Some(token),
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
        )
    }

    /// Uploads a photo, which must be accepted; the ingest's JSON.
    pub fn upload_photo(&self, token: &str, name: &str, bytes: &[u8]) -> serde_json::Value {
        let up = self.post_form("/api/photos", token, &[("file", Some(name), bytes)]);
        assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.body));
        up.json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A response, whatever its status.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    fn from(r: Result<ureq::Response, ureq::Error>) -> Reply {
        let resp = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status();
        let content_type = resp.header("content-type").unwrap_or_default().to_string();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = resp.header(&n).unwrap_or_default().to_string();
                (n, v)
            })
            .collect();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).expect("body");
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A problem document with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> serde_json::Value {
        assert_eq!(
            self.status,
            status,
            "expected {status} {code}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type, "application/problem+json");
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status);
        assert!(p["type"].as_str().is_some_and(|t| t.ends_with(code)), "{p}");
        assert!(p["title"].is_string() && p["detail"].as_str().is_some_and(|d| !d.is_empty()));
        p
    }
}

/// A 96×96 PNG: a red square on white, so colour analysis has a clear
/// answer.
pub fn red_square_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(96, 96, |x, y| {
        if (16..80).contains(&x) && (16..80).contains(&y) {
            image::Rgb([200, 20, 30])
        } else {
            image::Rgb([250, 250, 250])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Send raw bytes on a fresh connection and read until the server closes
/// it or `wait` passes: for requests no well-behaved client would send.
pub fn raw_exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (String, Duration) {
    use std::io::{Read, Write};
    let started = std::time::Instant::now();
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(wait)).expect("timeout");
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

/// A generic catalogue CSV of `n` products.
pub fn catalogue_csv(n: usize) -> Vec<u8> {
    let colours = ["red", "navy", "green", "black", "white"];
    let mut csv = String::from("handle,title,colour,material\n");
    for i in 0..n {
        csv.push_str(&format!(
            "tee-{i},Cotton T-shirt {i},{},cotton\n",
            colours[i % colours.len()]
        ));
    }
    csv.into_bytes()
}
