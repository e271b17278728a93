//! The app's own settings, kept in `settings.json` in the data dir: CPU
//! threads, the remote backend (URL, model name, API token) and the
//! router's threshold. The backend and the threshold apply to the next
//! generation at once; threads apply when the app starts (the engines'
//! thread pools are sized once). The token is written to the file only
//! (mode 0600), never sent back to the page in full and never logged.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tauri::State;
use vitrine_core::router::Router;
use vitrine_core::studio::Backend;
use vitrine_infer::RemoteConfig;

use crate::error::IpcError;
use crate::state::Shell;

type CmdResult<T> = Result<T, IpcError>;

const FILE_NAME: &str = "settings.json";
/// The most threads the form accepts; more than any desktop has cores.
const MAX_THREADS: usize = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What `settings.json` holds. Every field is optional: absent means the
/// default (all cores, local models, the router's built-in threshold).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppSettings {
    pub threads: Option<usize>,
    pub remote_url: Option<String>,
    pub remote_model: Option<String>,
    pub remote_token: Option<String>,
    pub router_threshold: Option<f64>,
}

/// The token stays out of logs, as in `RemoteConfig`.
impl std::fmt::Debug for AppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSettings")
            .field("threads", &self.threads)
            .field("remote_url", &self.remote_url)
            .field("remote_model", &self.remote_model)
            .field("remote_token", &self.remote_token.as_ref().map(|_| "<set>"))
            .field("router_threshold", &self.router_threshold)
            .finish()
    }
}

impl AppSettings {
    /// Where generations go: the remote server when one is set, else the
    /// local models. The stored token wins over `VITRINE_REMOTE_API_KEY`.
    pub fn backend(&self) -> Backend {
        match (nonempty(&self.remote_url), nonempty(&self.remote_model)) {
            (Some(url), Some(model)) => {
                let mut config = RemoteConfig::new(url, model);
                config.api_key = nonempty(&self.remote_token).or_else(|| {
                    std::env::var("VITRINE_REMOTE_API_KEY")
                        .ok()
                        .filter(|k| !k.is_empty())
                });
                Backend::Remote(config)
            }
            _ => Backend::Local,
        }
    }

    /// The router with the stored threshold, else `fallback` (the
    /// environment's, as the Studio opened with).
    pub fn router(&self, fallback: Router) -> Router {
        self.router_threshold
            .and_then(|t| Router::new(t).ok())
            .unwrap_or(fallback)
    }
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn settings_path(data_root: &Path) -> PathBuf {
    data_root.join(FILE_NAME)
}

/// Read the settings; a missing file is the defaults. A file that cannot be
/// read is reported and the defaults used, so the app still opens.
pub fn load(path: &Path) -> AppSettings {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
            tracing::warn!(path = %path.display(), %err, "settings file unreadable; using defaults");
            AppSettings::default()
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => AppSettings::default(),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "cannot read the settings file; using defaults");
            AppSettings::default()
        }
    }
}

/// Write the settings whole (a temporary file renamed over the old one),
/// readable by this user only since it may hold the API token.
pub fn save(path: &Path, settings: &AppSettings) -> CmdResult<()> {
    let io_err = |e: std::io::Error| IpcError::new("io", format!("{}: {e}", path.display()));
    let bytes = serde_json::to_vec_pretty(settings)
        .map_err(|e| IpcError::new("io", format!("cannot encode the settings: {e}")))?;
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut file = opts.open(&tmp).map_err(io_err)?;
        file.write_all(&bytes).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
    }
    std::fs::rename(&tmp, path).map_err(io_err)
}

/// A setting the form got wrong: `details.field` names the form's field and
/// `details.reason` the rule, so the page shows it next to that field.
fn invalid(field: &str, reason: &str, message: impl Into<String>) -> IpcError {
    IpcError {
        code: "invalid_setting",
        message: message.into(),
        details: json!({ "field": field, "reason": reason }),
    }
}

/// The server's base URL as the remote client wants it: http(s), a host, no
/// credentials, query or fragment (the token has its own field).
pub fn validate_url(raw: &str) -> CmdResult<String> {
    let trimmed = raw.trim();
    let parsed = url::Url::parse(trimmed).map_err(|e| {
        invalid(
            "remoteUrl",
            "url_parse",
            format!("{trimmed:?} is not a URL: {e}"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(
            "remoteUrl",
            "url_scheme",
            format!("{trimmed}: only http:// and https:// servers are supported"),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(
            "remoteUrl",
            "url_parse",
            format!("{trimmed}: no host"),
        ));
    }
    if !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(invalid(
            "remoteUrl",
            "url_extra",
            format!("{trimmed}: give the server's address only (no user, query or fragment; the token has its own field)"),
        ));
    }
    Ok(trimmed.trim_end_matches('/').to_string())
}

/// What the page may change; an absent field is left as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SettingsUpdate {
    /// 0 goes back to every core.
    pub threads: Option<usize>,
    /// "" goes back to local models (and clears the model name).
    pub remote_url: Option<String>,
    pub remote_model: Option<String>,
    /// A new token; "" leaves the stored one (the field is never filled in).
    pub remote_token: Option<String>,
    pub clear_token: bool,
    pub router_threshold: Option<f64>,
}

/// The settings with `update` applied, or the first field it got wrong.
pub fn apply(mut s: AppSettings, update: SettingsUpdate) -> CmdResult<AppSettings> {
    if let Some(n) = update.threads {
        if n > MAX_THREADS {
            return Err(invalid(
                "threads",
                "threads_range",
                format!("threads must be between 1 and {MAX_THREADS} (0 for every core), got {n}"),
            ));
        }
        s.threads = (n > 0).then_some(n);
    }
    if let Some(t) = update.router_threshold {
        Router::new(t).map_err(|e| invalid("routerThreshold", "threshold_range", e.to_string()))?;
        s.router_threshold = Some(t);
    }
    if let Some(model) = update.remote_model {
        s.remote_model = Some(model.trim().to_string()).filter(|m| !m.is_empty());
    }
    if let Some(url) = update.remote_url {
        if url.trim().is_empty() {
            s.remote_url = None;
            s.remote_model = None;
        } else {
            s.remote_url = Some(validate_url(&url)?);
        }
    }
    if update.clear_token {
        s.remote_token = None;
    }
    if let Some(token) = update.remote_token.filter(|t| !t.trim().is_empty()) {
        s.remote_token = Some(token.trim().to_string());
    }
    if s.remote_url.is_some() && s.remote_model.is_none() {
        return Err(invalid(
            "remoteModel",
            "model_missing",
            "a remote server needs the name of the model it serves",
        ));
    }
    Ok(s)
}

/// What the page is shown: never the token itself.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// The stored thread count (null: every core).
    pub threads: Option<usize>,
    /// Threads generations use in this run (the setting applies on restart).
    pub threads_now: usize,
    pub cores: usize,
    pub remote_url: Option<String>,
    pub remote_model: Option<String>,
    pub token_set: bool,
    /// The token's last four characters, for long tokens only.
    pub token_hint: Option<String>,
    /// True when the token comes from `VITRINE_REMOTE_API_KEY`, not the file.
    pub token_from_env: bool,
    pub router_threshold: f64,
    pub settings_file: PathBuf,
}

fn token_hint(token: &str) -> Option<String> {
    let chars: Vec<char> = token.chars().collect();
    (chars.len() >= 16).then(|| chars[chars.len() - 4..].iter().collect())
}

pub fn view(s: &AppSettings, router: Router, file: &Path) -> SettingsView {
    let stored = nonempty(&s.remote_token);
    let env_token = std::env::var("VITRINE_REMOTE_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    SettingsView {
        threads: s.threads,
        threads_now: vitrine_infer::native::default_threads(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        remote_url: s.remote_url.clone(),
        remote_model: s.remote_model.clone(),
        token_set: stored.is_some() || env_token.is_some(),
        token_hint: stored.as_deref().and_then(token_hint),
        token_from_env: stored.is_none() && env_token.is_some(),
        router_threshold: s.router(router).threshold(),
        settings_file: file.to_path_buf(),
    }
}

#[tauri::command]
pub async fn get_settings(shell: State<'_, Shell>) -> CmdResult<SettingsView> {
    let studio = shell.studio().await?;
    let file = settings_path(studio.dirs().root());
    Ok(view(&shell.settings(), studio.router(), &file))
}

/// Validate and store an update; the backend and the router threshold
/// apply to the next generation.
#[tauri::command]
pub async fn save_settings(
    shell: State<'_, Shell>,
    update: SettingsUpdate,
) -> CmdResult<SettingsView> {
    let studio = shell.studio().await?;
    let file = settings_path(studio.dirs().root());
    let next = apply(shell.settings(), update)?;
    save(&file, &next)?;
    tracing::info!(
        threads = ?next.threads,
        remote_url = ?next.remote_url,
        remote_model = ?next.remote_model,
        token_set = next.remote_token.is_some(),
        router_threshold = ?next.router_threshold,
        "settings saved"
    );
    shell.set_settings(next.clone());
    Ok(view(&next, shell.studio().await?.router(), &file))
}

/// What a server said to `GET /v1/models`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    pub models: Vec<String>,
    /// Whether the model name asked for is among them.
    pub model_listed: bool,
    pub ms: u64,
}

/// Ask the server in the form (saved or not) which models it serves. An
/// empty `token` uses the stored one (or `VITRINE_REMOTE_API_KEY`).
#[tauri::command]
pub async fn test_remote(
    shell: State<'_, Shell>,
    url: String,
    model: String,
    token: Option<String>,
) -> CmdResult<ConnectionReport> {
    let base = validate_url(&url)?;
    let key = token
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| nonempty(&shell.settings().remote_token))
        .or_else(|| {
            std::env::var("VITRINE_REMOTE_API_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        });
    tokio::task::spawn_blocking(move || list_models(&base, model.trim(), key.as_deref()))
        .await
        .map_err(|e| IpcError::new("task", e.to_string()))?
}

/// `GET <base>/v1/models` (a base ending in `/v1` is accepted).
pub fn list_models(base: &str, model: &str, key: Option<&str>) -> CmdResult<ConnectionReport> {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/v1").unwrap_or(base);
    let url = format!("{base}/v1/models");
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout(CONNECT_TIMEOUT * 2)
        .build();
    let mut req = agent.get(&url);
    if let Some(key) = key {
        req = req.set("Authorization", &format!("Bearer {key}"));
    }
    let started = Instant::now();
    let response = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(status, _)) => {
            let reason = if matches!(status, 401 | 403) {
                "the server refused the token"
            } else {
                "the server answered with an error"
            };
            return Err(IpcError {
                code: "remote_status",
                message: format!("{url}: HTTP {status}: {reason}"),
                details: json!({ "status": status, "url": url }),
            });
        }
        Err(ureq::Error::Transport(t)) => {
            return Err(IpcError {
                code: "remote_unreachable",
                message: format!("{url}: {t}"),
                details: json!({ "url": url }),
            })
        }
    };
    let not_a_list = |e: String| IpcError {
        code: "remote_status",
        message: format!("{url}: not an OpenAI-style model list: {e}"),
        details: json!({ "url": url }),
    };
    let text = response
        .into_string()
        .map_err(|e| not_a_list(e.to_string()))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| not_a_list(e.to_string()))?;
    let models: Vec<String> = body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    Ok(ConnectionReport {
        model_listed: models.iter().any(|m| m == model),
        models,
        ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead as _, BufReader, Write as _};

    fn update() -> SettingsUpdate {
        SettingsUpdate::default()
    }

    #[test]
    fn bad_urls_name_the_field_and_the_rule() {
        for (raw, reason) in [
            ("not a url", "url_parse"),
            ("ftp://host:21", "url_scheme"),
            ("file:///etc/passwd", "url_scheme"),
            ("http://user:pw@host:8000", "url_extra"),
            ("http://host:8000/?key=1", "url_extra"),
        ] {
            let err = validate_url(raw).expect_err(raw);
            assert_eq!(err.code, "invalid_setting", "{raw}");
            assert_eq!(err.details["field"], "remoteUrl", "{raw}");
            assert_eq!(err.details["reason"], reason, "{raw}");
        }
        assert_eq!(
            validate_url(" http://127.0.0.1:8080/v1/ ").ok().as_deref(),
            Some("http://127.0.0.1:8080/v1")
        );
    }

    #[test]
    fn updates_validate_and_keep_what_they_do_not_name() {
        let s = apply(
            AppSettings::default(),
            SettingsUpdate {
                threads: Some(2),
                remote_url: Some("http://127.0.0.1:8000".into()),
                remote_model: Some("qwen".into()),
                remote_token: Some("sk-secret-token-123456".into()),
                router_threshold: Some(0.4),
                ..update()
            },
        )
        .expect("valid");
        assert_eq!(s.threads, Some(2));
        assert_eq!(s.router_threshold, Some(0.4));
        let Backend::Remote(config) = s.backend() else {
            panic!("expected a remote backend")
        };
        assert_eq!(config.api_key.as_deref(), Some("sk-secret-token-123456"));
        assert_eq!(s.router(Router::default()).threshold(), 0.4);

        // An empty token field keeps the stored token.
        let kept = apply(
            s.clone(),
            SettingsUpdate {
                remote_token: Some(String::new()),
                threads: Some(0),
                ..update()
            },
        )
        .expect("valid");
        assert_eq!(kept.remote_token, s.remote_token);
        assert_eq!(kept.threads, None);

        let err = apply(
            s.clone(),
            SettingsUpdate {
                router_threshold: Some(1.5),
                ..update()
            },
        )
        .expect_err("out of range");
        assert_eq!(err.details["field"], "routerThreshold");
        let err = apply(
            AppSettings::default(),
            SettingsUpdate {
                remote_url: Some("http://host".into()),
                ..update()
            },
        )
        .expect_err("no model");
        assert_eq!(err.details["field"], "remoteModel");
        let err = apply(
            s.clone(),
            SettingsUpdate {
                threads: Some(100_000),
                ..update()
            },
        )
        .expect_err("too many");
        assert_eq!(err.details["field"], "threads");

        // Clearing the URL goes back to local models.
        let local = apply(
            s,
            SettingsUpdate {
                remote_url: Some(" ".into()),
                clear_token: true,
                ..update()
            },
        )
        .expect("valid");
        assert!(matches!(local.backend(), Backend::Local));
        assert_eq!(local.remote_token, None);
    }

    #[test]
    fn the_token_never_reaches_the_page_or_the_log() {
        let s = AppSettings {
            remote_url: Some("http://h".into()),
            remote_model: Some("m".into()),
            remote_token: Some("sk-very-secret-abcd".into()),
            ..AppSettings::default()
        };
        assert!(!format!("{s:?}").contains("secret"));
        let v = view(&s, Router::default(), Path::new("/x/settings.json"));
        let json = serde_json::to_string(&v).expect("serialises");
        assert!(!json.contains("secret"), "{json}");
        assert_eq!(v.token_hint.as_deref(), Some("abcd"));
        assert!(v.token_set);
        // Short tokens get no hint: four characters would be most of them.
        assert_eq!(token_hint("short-token"), None);
    }

    #[test]
    fn settings_round_trip_through_a_private_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = settings_path(dir.path());
        assert_eq!(load(&path), AppSettings::default());
        let s = AppSettings {
            threads: Some(3),
            router_threshold: Some(0.7),
            remote_token: Some("tok".into()),
            ..AppSettings::default()
        };
        save(&path, &s).expect("saved");
        assert_eq!(load(&path), s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "settings readable by others: {mode:o}");
        }
        std::fs::write(&path, b"{ not json").expect("write");
        assert_eq!(load(&path), AppSettings::default());
    }

    /// A one-request HTTP server on a free port answering `status` and
    /// `body`; returns its base URL and the request head it received.
    fn serve_once(status: u16, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut out = stream;
            let _ = write!(
                out,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            head
        });
        (format!("http://{addr}"), handle)
    }

    #[test]
    fn test_connection_lists_the_served_models_with_the_token() {
        let (base, server) = serve_once(
            200,
            r#"{"object":"list","data":[{"id":"qwen2.5-7b"},{"id":"other"}]}"#,
        );
        let report =
            list_models(&format!("{base}/v1"), "qwen2.5-7b", Some("sk-1")).expect("listed");
        assert_eq!(report.models, ["qwen2.5-7b", "other"]);
        assert!(report.model_listed);
        let head = server.join().expect("server");
        assert!(head.starts_with("GET /v1/models "), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("authorization: bearer sk-1"),
            "{head}"
        );

        let (base, server) = serve_once(401, r#"{"error":"bad key"}"#);
        let err = list_models(&base, "m", Some("wrong")).expect_err("refused");
        assert_eq!(err.code, "remote_status");
        assert_eq!(err.details["status"], 401);
        server.join().expect("server");

        // A port nobody listens on: the listener is dropped before the call.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let err = list_models(&format!("http://127.0.0.1:{port}"), "m", None).expect_err("down");
        assert_eq!(err.code, "remote_unreachable");
    }
}
