//! The remote backend against a real llama.cpp server (llama-cpp-python's
//! OpenAI-compatible server serving the SmolLM2 GGUF on loopback), and
//! against small local stand-ins for a server's failure modes: a busy
//! server (503, 429), one that never answers, one that refuses the request,
//! a slow streamer whose timestamps show the concurrency limit.
//!
//! The Python comes from `VITRINE_LLAMACPP_PYTHON`, else the bench's venv in
//! the cache dir; `scripts/setup.sh --test-deps` installs
//! `llama-cpp-python[server]` there. A missing server fails the tests with
//! that command rather than skipping them.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use vitrine_infer::{
    CancelToken, ChatMessage, GenerationParams, InferError, RemoteConfig, RemoteTextModel,
    StopReason, TextModel,
};

const MODEL_NAME: &str = "smollm2-135m";

// ---------------------------------------------------------------------------
// The real server

/// llama-cpp-python's server as a child process. It also exits when this
/// test process does: it watches its stdin, whose other end we hold.
struct LlamaServer {
    child: Child,
    _stdin: ChildStdin,
    base_url: String,
    _log_dir: tempfile::TempDir,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn llamacpp_python() -> PathBuf {
    if let Some(p) = std::env::var_os("VITRINE_LLAMACPP_PYTHON").filter(|v| !v.is_empty()) {
        return p.into();
    }
    let cache = std::env::var_os("VITRINE_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "vitrine").map(|d| d.cache_dir().to_path_buf())
        })
        .expect("a home directory");
    cache.join("bench/llamacpp-venv/bin/python")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl LlamaServer {
    fn start() -> Self {
        let python = llamacpp_python();
        let has_server = Command::new(&python)
            .args(["-c", "import llama_cpp.server.app, uvicorn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            has_server,
            "{} cannot run llama-cpp-python's server; run `scripts/setup.sh --test-deps` \
             (installs llama-cpp-python[server] into the bench's venv) or point \
             VITRINE_LLAMACPP_PYTHON at a Python that has it",
            python.display()
        );
        let (_, gguf) = common::installed(MODEL_NAME);
        let port = free_port();
        let log_dir = tempfile::tempdir().expect("tempdir");
        let log_path = log_dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("log file");
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
            .args(["--model_alias", MODEL_NAME, "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--n_ctx", "2048"])
            // Tests share the server; one request must not cut off another.
            .args(["--interrupt_requests", "False", "--verbose", "False"])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let base_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(90);
        let probe = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        loop {
            if probe.get(&format!("{base_url}/v1/models")).call().is_ok() {
                break;
            }
            let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "llama.cpp server exited ({status}) before it was ready:\n{}",
                    log()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("llama.cpp server not ready after 90 s:\n{}", log());
            }
            thread::sleep(Duration::from_millis(200));
        }
        Self {
            child,
            _stdin: stdin,
            base_url,
            _log_dir: log_dir,
        }
    }
}

/// One server for the whole file: loading it is most of a test's time.
fn server() -> &'static LlamaServer {
    static SERVER: OnceLock<LlamaServer> = OnceLock::new();
    SERVER.get_or_init(LlamaServer::start)
}

fn config(base_url: &str) -> RemoteConfig {
    let mut c = RemoteConfig::new(base_url, MODEL_NAME);
    c.connect_timeout = Duration::from_secs(5);
    c.read_timeout = Duration::from_secs(60);
    c
}

fn greedy(max_tokens: usize) -> GenerationParams {
    GenerationParams {
        temperature: 0.0,
        max_tokens,
        ..GenerationParams::default()
    }
}

fn chat() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("You are a helpful assistant."),
        ChatMessage::user("Describe a navy blue hoodie in two sentences."),
    ]
}

// ---------------------------------------------------------------------------
// A stand-in for a remote service's failure modes

/// What the stand-in does with request number `n` (from 0).
enum Reply {
    Status(u16, &'static str),
    /// Relay the request to the real server and its answer back.
    Relay(SocketAddr),
    /// An SSE stream of these pieces, one every `gap`.
    Slow(Vec<&'static str>, Duration),
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    arrived: Instant,
    /// When the whole answer but its last line was written.
    answered: Instant,
}

struct Responder {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Responder {
    fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for (n, conn) in listener.incoming().enumerate() {
                let Ok(conn) = conn else { continue };
                let (script, log) = (Arc::clone(&script), Arc::clone(&log));
                thread::spawn(move || {
                    let _ = answer(conn, script(n), &log);
                });
            }
        });
        Self { base_url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        let mut s = self.seen.lock().unwrap().clone();
        s.sort_by_key(|s| s.arrived);
        s
    }
}

/// Read one HTTP request: the head and a `Content-Length` body.
fn read_request(conn: &mut BufReader<TcpStream>) -> std::io::Result<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    conn.read_exact(&mut body)?;
    Ok((head, body))
}

fn answer(conn: TcpStream, reply: Reply, log: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let (head, body) = read_request(&mut reader)?;
    let arrived = Instant::now();
    let mut out = conn;
    let record = |answered| {
        log.lock().unwrap().push(Seen { arrived, answered });
    };
    match reply {
        Reply::Status(code, text) => {
            record(Instant::now());
            write!(
                out,
                "HTTP/1.1 {code} Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            )?;
        }
        Reply::Relay(upstream) => {
            let path = head.split_whitespace().nth(1).unwrap_or("/");
            let mut up = TcpStream::connect(upstream)?;
            write!(
                up,
                "POST {path} HTTP/1.1\r\nHost: {upstream}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            up.write_all(&body)?;
            record(arrived);
            std::io::copy(&mut up, &mut out)?;
        }
        Reply::Slow(pieces, gap) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            )?;
            for p in pieces {
                thread::sleep(gap);
                let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]});
                write!(out, "data: {chunk}\n\n")?;
                out.flush()?;
            }
            let last = serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
            write!(out, "data: {last}\n\n")?;
            out.flush()?;
            // Recorded before the client can see the end of the stream, so
            // a request it sends after that arrives later than this.
            record(Instant::now());
            write!(out, "data: [DONE]\n\n")?;
        }
    }
    out.flush()
}

fn upstream() -> SocketAddr {
    server()
        .base_url
        .trim_start_matches("http://")
        .parse()
        .expect("server address")
}

// ---------------------------------------------------------------------------
// Against the real server

#[test]
fn a_reply_streams_in_several_pieces_that_make_up_the_text() {
    let mut model = RemoteTextModel::connect(config(&server().base_url)).expect("connect");
    assert_eq!(model.id(), format!("{MODEL_NAME}@{}", server().base_url));
    let mut pieces = Vec::new();
    let g = model
        .generate(
            &chat(),
            "",
            &greedy(24),
            &mut |p| {
                pieces.push(p.to_string());
                true
            },
            &CancelToken::new(),
        )
        .expect("generate");
    assert!(pieces.len() >= 3, "{pieces:?}");
    assert_eq!(pieces.concat(), g.text);
    assert!(g.text.split_whitespace().count() >= 3, "{:?}", g.text);
    assert!(matches!(
        g.stop,
        StopReason::MaxTokens | StopReason::EndOfTurn
    ));
    assert!(g.generated_tokens >= pieces.len() && g.generated_tokens <= 24);
    assert!(g.time_to_first_token <= g.total_time);
}

#[test]
fn a_caller_that_says_stop_ends_the_reply_early() {
    let mut model = RemoteTextModel::new(config(&server().base_url)).unwrap();
    let full = model
        .generate(&chat(), "", &greedy(32), &mut |_| true, &CancelToken::new())
        .expect("full reply");
    let mut pieces = Vec::new();
    let short = model
        .generate(
            &chat(),
            "",
            &greedy(32),
            &mut |p| {
                pieces.push(p.to_string());
                pieces.len() < 3
            },
            &CancelToken::new(),
        )
        .expect("short reply");
    assert_eq!(short.stop, StopReason::Caller);
    assert_eq!(pieces.len(), 3);
    assert_eq!(short.text, pieces.concat());
    assert!(
        full.text.starts_with(&short.text) && full.text.len() > short.text.len(),
        "greedy replies share their start: {:?} / {:?}",
        short.text,
        full.text
    );
}

#[test]
fn json_schema_output_parses_and_keeps_to_the_schema() {
    let mut model = RemoteTextModel::new(config(&server().base_url)).unwrap();
    // A 2000-character bound is more than llama.cpp's grammar takes; the
    // backend leaves it out rather than have the server refuse or crash.
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 3, "maxLength": 60},
            "colours": {"type": "array", "items": {"type": "string", "maxLength": 20}, "minItems": 2, "maxItems": 3},
            "description": {"type": "string", "maxLength": 2000}
        },
        "required": ["title", "colours", "description"],
        "additionalProperties": false,
        "x-guidance": {"whitespace_flexible": false}
    });
    let params = GenerationParams {
        temperature: 0.0,
        max_tokens: 200,
        json_schema: Some(schema),
        ..GenerationParams::default()
    };
    let messages = vec![
        ChatMessage::system("Reply with one JSON object."),
        ChatMessage::user("A product listing for a navy hoodie: title, colours, description."),
    ];
    let prefill = "{\"title\": \"";
    let mut streamed = String::new();
    let g = model
        .generate(
            &messages,
            prefill,
            &params,
            &mut |p| {
                streamed.push_str(p);
                true
            },
            &CancelToken::new(),
        )
        .expect("generate");
    assert_eq!(streamed, g.text);
    assert!(
        !g.text.starts_with('{'),
        "the prefill is not repeated: {}",
        g.text
    );
    let reply = format!("{prefill}{}", g.text);
    assert_eq!(g.stop, StopReason::EndOfTurn, "{reply}");
    let v: serde_json::Value = serde_json::from_str(&reply).expect(&reply);
    let obj = v.as_object().expect("an object");
    let title = obj["title"].as_str().expect("title is a string");
    assert!((3..=60).contains(&title.chars().count()), "{title:?}");
    let colours = obj["colours"].as_array().expect("colours is a list");
    assert!((2..=3).contains(&colours.len()), "{colours:?}");
    assert!(colours
        .iter()
        .all(|c| c.as_str().is_some_and(|s| s.chars().count() <= 20)));
    assert!(obj["description"].is_string());
    assert!(obj
        .keys()
        .all(|k| ["title", "colours", "description"].contains(&k.as_str())));
}

#[test]
fn a_cancelled_reply_ends_with_cancelled() {
    let mut model = RemoteTextModel::new(config(&server().base_url)).unwrap();
    let cancel = CancelToken::new();
    let mut pieces = 0;
    let t = Instant::now();
    let err = model
        .generate(
            &chat(),
            "",
            &greedy(200),
            &mut |_| {
                pieces += 1;
                if pieces == 2 {
                    cancel.cancel();
                }
                true
            },
            &cancel,
        )
        .expect_err("cancelled");
    assert!(matches!(err, InferError::Cancelled), "{err}");
    assert_eq!(pieces, 2, "nothing is handed on after the cancel");
    assert!(t.elapsed() < Duration::from_secs(20));
}

// ---------------------------------------------------------------------------
// Against stand-ins

#[test]
fn a_server_that_never_answers_times_out_after_its_retries() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let held = Arc::clone(&accepted);
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            held.lock().unwrap().push(conn);
        }
    });
    let mut c = config(&url);
    c.read_timeout = Duration::from_millis(300);
    c.max_retries = 1;
    c.backoff_base = Duration::from_millis(50);
    let mut model = RemoteTextModel::new(c).unwrap();
    let t = Instant::now();
    let err = model
        .generate(&chat(), "", &greedy(8), &mut |_| true, &CancelToken::new())
        .expect_err("no answer");
    let took = t.elapsed();
    let msg = err.to_string();
    assert!(matches!(err, InferError::Remote { .. }), "{msg}");
    assert!(
        msg.contains("no answer within 0.3 s") && msg.contains("after 2 attempts"),
        "{msg}"
    );
    assert_eq!(accepted.lock().unwrap().len(), 2);
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn busy_answers_are_retried_with_growing_waits() {
    let up = upstream();
    let responder = Responder::start(move |n| match n {
        0 => Reply::Status(503, r#"{"error":{"message":"overloaded"}}"#),
        1 => Reply::Status(429, r#"{"error":{"message":"slow down"}}"#),
        _ => Reply::Relay(up),
    });
    let mut c = config(&responder.base_url);
    c.backoff_base = Duration::from_millis(200);
    let mut model = RemoteTextModel::new(c).unwrap();
    let g = model
        .generate(&chat(), "", &greedy(12), &mut |_| true, &CancelToken::new())
        .expect("the third attempt goes through");
    assert!(!g.text.trim().is_empty());
    let seen = responder.seen();
    assert_eq!(seen.len(), 3);
    let gap1 = seen[1].arrived - seen[0].arrived;
    let gap2 = seen[2].arrived - seen[1].arrived;
    assert!(
        gap1 >= Duration::from_millis(200) && gap1 < Duration::from_millis(600),
        "{gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_millis(400) && gap2 < Duration::from_millis(900),
        "{gap2:?}"
    );

    // A server that stays busy: the first try and three retries, then the
    // status, the server's reason and the count.
    let responder =
        Responder::start(|_| Reply::Status(503, r#"{"error":{"message":"overloaded"}}"#));
    let mut c = config(&responder.base_url);
    c.backoff_base = Duration::from_millis(10);
    let err = RemoteTextModel::new(c)
        .unwrap()
        .generate(&chat(), "", &greedy(8), &mut |_| true, &CancelToken::new())
        .expect_err("always busy");
    assert!(
        matches!(
            err,
            InferError::RemoteStatus {
                status: 503,
                attempts: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("overloaded"), "{err}");
    assert_eq!(responder.seen().len(), 4);
}

#[test]
fn a_refused_request_fails_at_once_with_the_servers_reason() {
    let responder = Responder::start(|_| {
        Reply::Status(
            404,
            r#"{"error":{"message":"The model `nope` does not exist."}}"#,
        )
    });
    let err = RemoteTextModel::new(config(&responder.base_url))
        .unwrap()
        .generate(&chat(), "", &greedy(8), &mut |_| true, &CancelToken::new())
        .expect_err("refused");
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            InferError::RemoteStatus {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("HTTP 404") && msg.contains("does not exist"),
        "{msg}"
    );
    assert_eq!(responder.seen().len(), 1, "a 4xx is not retried");
}

#[test]
fn cancelling_during_a_backoff_wait_returns_promptly() {
    let responder = Responder::start(|_| Reply::Status(503, "busy"));
    let mut c = config(&responder.base_url);
    c.backoff_base = Duration::from_secs(5);
    let mut model = RemoteTextModel::new(c).unwrap();
    let cancel = CancelToken::new();
    let canceller = {
        let cancel = cancel.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            cancel.cancel();
        })
    };
    let t = Instant::now();
    let err = model
        .generate(&chat(), "", &greedy(8), &mut |_| true, &cancel)
        .expect_err("cancelled");
    canceller.join().unwrap();
    assert!(matches!(err, InferError::Cancelled), "{err}");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

/// Two threads, each with its own clone of one model, against a server
/// that streams slowly: when and how many requests were at the server.
fn two_at_once(limit: usize) -> (Seen, Seen) {
    let pieces = vec!["one ", "two ", "three ", "four ", "five"];
    let responder =
        Responder::start(move |_| Reply::Slow(pieces.clone(), Duration::from_millis(60)));
    let mut c = config(&responder.base_url);
    c.max_concurrency = limit;
    let model = RemoteTextModel::new(c).unwrap();
    assert_eq!(model.concurrency_limit(), limit);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let mut m = model.clone();
            thread::spawn(move || {
                m.generate(&chat(), "", &greedy(8), &mut |_| true, &CancelToken::new())
                    .map(|g| g.text)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().expect("reply"), "one two three four five");
    }
    let seen = responder.seen();
    assert_eq!(seen.len(), 2);
    (seen[0], seen[1])
}

#[test]
fn the_concurrency_limit_holds_across_clones() {
    let (first, second) = two_at_once(1);
    assert!(
        second.arrived >= first.answered,
        "the second request started {:?} before the first ended",
        first.answered - second.arrived
    );
    // With room for two, the same requests overlap: the limit is what
    // kept them apart.
    let (first, second) = two_at_once(2);
    assert!(second.arrived < first.answered);
}

#[test]
fn connect_fails_clearly_when_nothing_listens() {
    let port = free_port();
    let mut c = config(&format!("http://127.0.0.1:{port}"));
    c.max_retries = 1;
    c.backoff_base = Duration::from_millis(10);
    let err = RemoteTextModel::connect(c).err().expect("nothing listens");
    let msg = err.to_string();
    assert!(matches!(err, InferError::Remote { .. }), "{msg}");
    assert!(
        msg.contains(&format!("127.0.0.1:{port}"))
            && msg.contains("cannot connect")
            && msg.contains("after 2 attempts"),
        "{msg}"
    );
}
