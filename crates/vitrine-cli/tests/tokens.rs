//! `vitrine tokens` end to end: tokens made, listed and revoked through
//! the binary, then presented to a real `vitrine serve` on loopback, which
//! must know who they act as and refuse the revoked one.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{as_merchant, json, ok, run, stderr};

fn cli(data: &Path) -> Command {
    as_merchant(data)
}

struct Serve(Child, String);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path) -> Serve {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = cli(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vitrine serve");
    let s = Serve(child, format!("http://127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{}/health", s.1)).call().is_err() {
        assert!(Instant::now() < deadline, "vitrine serve did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    s
}

/// `/api/me` as this token: Ok(profile) or Err(status).
fn me(s: &Serve, token: &str) -> Result<String, u16> {
    match ureq::get(&format!("{}/api/me", s.1))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => {
            let v: serde_json::Value = r.into_json().expect("JSON");
            Ok(v["profile"].as_str().unwrap_or_default().to_string())
        }
        Err(ureq::Error::Status(code, _)) => Err(code),
        Err(e) => panic!("request failed: {e}"),
    }
}

#[test]
fn tokens_are_made_listed_used_and_revoked() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();

    let made = json(&run(cli(d).args([
        "tokens", "create", "--role", "reviewer", "--name", "rita", "--json",
    ])));
    let rita = made["token"].as_str().expect("token").to_string();
    assert!(rita.starts_with("vtr_") && rita.len() > 40, "{made}");
    assert_eq!(made["info"]["profile"], "rita");
    assert_eq!(made["info"]["role"], "reviewer");
    let rita_id = made["info"]["id"].as_i64().expect("id");

    // Plain output: the token alone on stdout, the note on stderr.
    let o = run(cli(d).args(["tokens", "create", "--role", "author"]));
    let author = ok(&o).trim().to_string();
    assert!(author.starts_with("vtr_"), "{author}");
    assert!(stderr(&o).contains("shown once"), "{}", stderr(&o));

    // The list shows prefixes, never a whole token; nor does the database.
    let listed = ok(&run(cli(d).args(["tokens", "list"])));
    assert!(
        listed.contains("rita") && listed.contains("api-author"),
        "{listed}"
    );
    assert!(
        !listed.contains(&rita) && !listed.contains(&author),
        "{listed}"
    );
    let db = std::fs::read(d.join("vitrine.db")).expect("the database file");
    for t in [&rita, &author] {
        assert!(
            !db.windows(t.len()).any(|w| w == t.as_bytes()),
            "a token is stored in clear"
        );
    }

    // Only admins make or revoke tokens; bad roles and ids are refused.
    let o = run(cli(d).args(["--as", "rita", "tokens", "create", "--role", "admin"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("admin"), "{}", stderr(&o));
    let o = run(cli(d).args(["tokens", "create", "--role", "boss"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("boss"), "{}", stderr(&o));
    let o = run(cli(d).args(["tokens", "revoke", "999"]));
    assert!(!o.status.success());
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    // The server knows who each token is, until it is revoked.
    let s = serve(d);
    assert_eq!(me(&s, &rita), Ok("rita".to_string()));
    assert_eq!(me(&s, &author), Ok("api-author".to_string()));
    assert_eq!(me(&s, "vtr_not-a-token"), Err(401));
    ok(&run(cli(d).args([
        "tokens",
        "revoke",
        &rita_id.to_string(),
    ])));
    assert_eq!(me(&s, &rita), Err(401));
    assert_eq!(me(&s, &author), Ok("api-author".to_string()));

    let all = json(&run(cli(d).args(["tokens", "list", "--json"])));
    let rows = all.as_array().expect("a list");
    let row = rows
        .iter()
        .find(|t| t["id"] == rita_id)
        .expect("rita's token");
    assert!(row["revoked_at"].is_string(), "{row}");
    let row = rows
        .iter()
        .find(|t| t["profile"] == "api-author")
        .expect("author's token");
    assert!(
        row["revoked_at"].is_null() && row["last_used_at"].is_string(),
        "{row}"
    );
}
