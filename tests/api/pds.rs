//! Bluesky's own PDS (npm `@atproto/pds`), the genuine server, run by the tests
//! so the Bluesky adapter meets the real thing: `scripts/pds/server.mjs` starts
//! it beside an in-memory PLC directory, both on loopback, with the Node 22
//! and packages that `scripts/bluesky-pds` installs into `target/bluesky-pds`.
//!
//! [`Pds`] starts one per test on free ports and kills it when dropped; its
//! methods make accounts and read back what was posted. Handles end in
//! `.test`; DIDs are `did:plc:…` registered in the private PLC directory.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The collection of Bluesky posts.
pub const POST: &str = "app.bsky.feed.post";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn node_binary() -> PathBuf {
    let path = repo_root().join("target/bluesky-pds/node/bin/node");
    assert!(
        path.exists() && repo_root().join("target/bluesky-pds/.installed").exists(),
        "Bluesky's PDS is not installed: run scripts/bluesky-pds (scripts/test does), which puts Node 22 and @atproto/pds into target/bluesky-pds"
    );
    path
}

/// An account's session, as `createAccount`, `createSession` and
/// `refreshSession` answer it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub did: String,
    pub handle: String,
    /// Lives 2 hours.
    pub access_jwt: String,
    /// Lives 90 days; `refreshSession` takes it and answers a new pair.
    pub refresh_jwt: String,
}

/// An XRPC call the server refused: its status and body (`error`, `message`).
#[derive(Debug)]
pub struct XrpcError {
    pub status: StatusCode,
    pub error: String,
    pub message: Option<String>,
    pub headers: HeaderMap,
}

/// A post record read back from the repository.
#[derive(Debug, Clone, Deserialize)]
pub struct PostRecord {
    /// `at://DID/app.bsky.feed.post/RKEY`
    pub uri: String,
    pub cid: String,
    pub value: Post,
}

impl PostRecord {
    pub fn rkey(&self) -> &str {
        self.uri.rsplit('/').next().unwrap_or_default()
    }
}

/// The parts of an `app.bsky.feed.post` the adapter writes; its embed
/// (images, with their blobs and alt text) is kept as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub text: String,
    pub created_at: String,
    #[serde(default)]
    pub langs: Vec<String>,
    pub embed: Option<Value>,
}

/// A PDS and its PLC directory in one Node process, killed (SIGKILL) when
/// dropped unless stopped.
pub struct Pds {
    /// `http://127.0.0.1:PORT`, where the XRPC API answers.
    pub url: String,
    pub plc_url: String,
    /// For `admin:PASSWORD` Basic auth on `com.atproto.admin.*`.
    pub admin_password: String,
    /// Everything the process printed: its ready line, then pino's JSON logs.
    pub log: PathBuf,
    /// The key the PDS signs its session tokens with (HS256), chosen here so
    /// a test can make one of its tokens expire without waiting 2 hours.
    jwt_secret: String,
    child: Option<Child>,
    /// Held open: the server stops when it closes (`--exit-with-stdin`), so a
    /// test process that dies without dropping us leaves nothing behind.
    stdin: Option<ChildStdin>,
    /// The PDS's SQLite files and blobs.
    _data_dir: tempfile::TempDir,
}

impl Pds {
    /// Starts a PDS on free loopback ports, with the server's real rate
    /// limits (answering 429) when `rate_limits`, and waits until it serves.
    pub async fn start(rate_limits: bool) -> Self {
        let node = node_binary();
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let data_dir = tempfile::Builder::new()
            .prefix("bluesky-pds-")
            .tempdir_in(&tmp)
            .expect("a data directory for the PDS");
        let log = tmp.join(format!("pds-{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).expect("the PDS log file");
        let jwt_secret = hex::encode(rand::random::<[u8; 32]>());
        let mut command = Command::new(node);
        for (key, _) in std::env::vars() {
            if key.starts_with("PDS_") || key.starts_with("LOG_") {
                command.env_remove(key);
            }
        }
        command
            .current_dir(repo_root())
            .arg("scripts/pds/server.mjs")
            .args(["--port", "0", "--plc-port", "0", "--exit-with-stdin"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .env("PDS_JWT_SECRET", &jwt_secret)
            .stdin(Stdio::piped())
            .stdout(file.try_clone().expect("the PDS log file"))
            .stderr(file);
        if rate_limits {
            command.arg("--rate-limits");
        }
        let mut child = command.spawn().expect("starting scripts/pds/server.mjs");
        let stdin = child.stdin.take();
        let mut pds = Self {
            url: String::new(),
            plc_url: String::new(),
            admin_password: String::new(),
            log,
            jwt_secret,
            child: Some(child),
            stdin,
            _data_dir: data_dir,
        };
        let ready = pds.wait_ready(Duration::from_secs(60)).await;
        pds.url = ready["pds"].as_str().expect("pds URL").to_owned();
        pds.plc_url = ready["plc"].as_str().expect("plc URL").to_owned();
        pds.admin_password = ready["admin_password"]
            .as_str()
            .expect("admin password")
            .to_owned();
        pds
    }

    /// The line `{"pds": …, "plc": …, "admin_password": …}` the server prints
    /// once both servers listen.
    async fn wait_ready(&mut self, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(ready) = self.ready_line() {
                return ready;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "the PDS exited ({status}) before it was ready; its log ends:\n{}",
                    self.log_tail(40)
                );
            }
            assert!(
                Instant::now() < deadline,
                "the PDS was not ready within {limit:?}; its log ends:\n{}",
                self.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn ready_line(&self) -> Option<Value> {
        let file = std::fs::File::open(&self.log).ok()?;
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
            .find(|value| value.get("pds").is_some())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGTERM and wait; true when the server stopped cleanly (status 0).
    pub async fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.stdin.take();
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// POSTs an XRPC procedure (`/xrpc/METHOD`) with a JSON body (some take
    /// none and refuse one), as the holder of `token` when given.
    pub async fn procedure(
        &self,
        method: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, XrpcError> {
        let mut request = crate::helpers::http().post(format!("{}/xrpc/{method}", self.url));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        xrpc_answer(request.send().await.expect("the PDS answers")).await
    }

    /// GETs an XRPC query (`/xrpc/METHOD?…`), as the holder of `token` when given.
    pub async fn query(
        &self,
        method: &str,
        token: Option<&str>,
        params: &[(&str, &str)],
    ) -> Result<Value, XrpcError> {
        let mut request = crate::helpers::http()
            .get(format!("{}/xrpc/{method}", self.url))
            .query(params);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        xrpc_answer(request.send().await.expect("the PDS answers")).await
    }

    /// A new account (no invite code needed). `handle` gets `.test` appended
    /// when it has no domain; the server wants at least 3 characters before it.
    pub async fn create_account(&self, handle: &str, password: &str) -> Account {
        let handle = if handle.contains('.') {
            handle.to_owned()
        } else {
            format!("{handle}.test")
        };
        let local = handle.split('.').next().unwrap_or("user");
        let body = json!({
            "handle": handle,
            "password": password,
            "email": format!("{local}@example.com"),
        });
        let answer = self
            .procedure("com.atproto.server.createAccount", None, Some(&body))
            .await
            .unwrap_or_else(|e| panic!("createAccount {handle}: {e:?}"));
        serde_json::from_value(answer).expect("createAccount's answer")
    }

    /// An app password for `account` (what a user gives Prasaran instead of
    /// their own): `xxxx-xxxx-xxxx-xxxx`. Names are unique per account.
    pub async fn app_password(&self, account: &Account, name: &str) -> String {
        let answer = self
            .procedure(
                "com.atproto.server.createAppPassword",
                Some(&account.access_jwt),
                Some(&json!({ "name": name })),
            )
            .await
            .unwrap_or_else(|e| panic!("createAppPassword {name}: {e:?}"));
        answer["password"]
            .as_str()
            .expect("an app password")
            .to_owned()
    }

    /// `createSession`: `identifier` is a handle or DID, `password` the
    /// account's own or an app password.
    pub async fn create_session(
        &self,
        identifier: &str,
        password: &str,
    ) -> Result<Account, XrpcError> {
        let body = json!({ "identifier": identifier, "password": password });
        let answer = self
            .procedure("com.atproto.server.createSession", None, Some(&body))
            .await?;
        Ok(serde_json::from_value(answer).expect("createSession's answer"))
    }

    /// `refreshSession` with a refresh token: a new access and refresh token.
    pub async fn refresh_session(&self, refresh_jwt: &str) -> Result<Account, XrpcError> {
        let answer = self
            .procedure("com.atproto.server.refreshSession", Some(refresh_jwt), None)
            .await?;
        Ok(serde_json::from_value(answer).expect("refreshSession's answer"))
    }

    /// The post `rkey` in `repo` (a DID or handle); `None` when there is none.
    pub async fn get_record(&self, repo: &str, rkey: &str) -> Option<PostRecord> {
        let params = [("repo", repo), ("collection", POST), ("rkey", rkey)];
        match self
            .query("com.atproto.repo.getRecord", None, &params)
            .await
        {
            Ok(answer) => Some(serde_json::from_value(answer).expect("a post record")),
            Err(e) if e.error == "RecordNotFound" => None,
            Err(e) => panic!("getRecord {repo} {rkey}: {e:?}"),
        }
    }

    /// Every post in `repo` (a DID or handle), newest record key first.
    pub async fn list_records(&self, repo: &str) -> Vec<PostRecord> {
        let mut records = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut params = vec![("repo", repo), ("collection", POST), ("limit", "100")];
            if !cursor.is_empty() {
                params.push(("cursor", cursor.as_str()));
            }
            let answer = self
                .query("com.atproto.repo.listRecords", None, &params)
                .await
                .unwrap_or_else(|e| panic!("listRecords {repo}: {e:?}"));
            let page: Vec<PostRecord> =
                serde_json::from_value(answer["records"].clone()).expect("post records");
            if page.is_empty() {
                return records;
            }
            records.extend(page);
            match answer["cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return records,
            }
        }
    }

    /// The bytes of blob `cid` in `did`'s repository (`com.atproto.sync.getBlob`).
    pub async fn get_blob(&self, did: &str, cid: &str) -> Option<Vec<u8>> {
        let response = crate::helpers::http()
            .get(format!("{}/xrpc/com.atproto.sync.getBlob", self.url))
            .query(&[("did", did), ("cid", cid)])
            .send()
            .await
            .expect("the PDS answers");
        if !response.status().is_success() {
            return None;
        }
        Some(response.bytes().await.expect("the blob").to_vec())
    }

    /// The same session token, expired an hour ago and signed as the server
    /// signs its own: what a client holds after 2 hours idle.
    pub fn expired(&self, jwt: &str) -> String {
        let header = jwt.split('.').next().unwrap_or_default();
        let mut claims = claims(jwt);
        let now = chrono::Utc::now().timestamp();
        claims["iat"] = json!(now - 3 * 3600);
        claims["exp"] = json!(now - 3600);
        let signed = format!(
            "{header}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims"))
        );
        let signature = hmac_sha256(self.jwt_secret.as_bytes(), signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

impl Drop for Pds {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The claims of a session token (`sub`, `scope`, `iat`, `exp`, …), unchecked.
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_else(|_| panic!("not a JWT: {jwt}"));
    serde_json::from_slice(&json).expect("JWT claims")
}

async fn xrpc_answer(response: reqwest::Response) -> Result<Value, XrpcError> {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    Err(XrpcError {
        status,
        error: body["error"].as_str().unwrap_or_default().to_owned(),
        message: body["message"].as_str().map(str::to_owned),
        headers,
    })
}

/// HMAC-SHA256 (RFC 2104), the signature of the PDS's HS256 tokens.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// A record key in the TID form posts need: 13 base32-sortable characters
/// from microseconds since the epoch and a clock id.
pub fn tid() -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let micros = chrono::Utc::now().timestamp_micros() as u64;
    let value = (micros << 10) | u64::from(rand::random::<u16>() & 0x3ff);
    (0..13)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[actix_web::test]
async fn the_genuine_pds_runs_here() {
    let mut pds = Pds::start(false).await;
    let health = crate::helpers::http()
        .get(format!("{}/xrpc/_health", pds.url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(health["version"].is_string(), "{health}");

    // An account, then a session made with an app password, as a user would
    // give one to Prasaran.
    let account = pds.create_account("alice", "a long own password").await;
    assert_eq!(account.handle, "alice.test");
    assert!(account.did.starts_with("did:plc:"), "{}", account.did);
    let app_password = pds.app_password(&account, "prasaran").await;
    assert_eq!(app_password.len(), 19, "{app_password}");
    let session = pds
        .create_session("alice.test", &app_password)
        .await
        .unwrap();
    assert_eq!(session.did, account.did);
    let lifetime = |jwt: &str| {
        let claims = claims(jwt);
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
    };
    assert_eq!(lifetime(&session.access_jwt), 2 * 3600);
    assert_eq!(lifetime(&session.refresh_jwt), 90 * 24 * 3600);
    assert_eq!(claims(&session.access_jwt)["scope"], "com.atproto.appPass");
    let wrong = pds
        .create_session("alice.test", "not-the-pass-word")
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.status, wrong.error.as_str()),
        (StatusCode::UNAUTHORIZED, "AuthenticationRequired"),
        "{wrong:?}"
    );

    // The same record under the same explicit TID key, twice: the second
    // write changes nothing (same CID, and no commit in the answer).
    let rkey = tid();
    let post = json!({
        "$type": POST,
        "text": "Hello from Prasaran",
        "createdAt": "2026-12-01T12:00:00.000Z",
        "langs": ["en"],
    });
    let put = json!({
        "repo": session.did,
        "collection": POST,
        "rkey": rkey,
        "record": post,
    });
    // The same record under the same key, twice: the second is a no-op.
    let put_record = || {
        pds.procedure(
            "com.atproto.repo.putRecord",
            Some(&session.access_jwt),
            Some(&put),
        )
    };
    let first = put_record().await.unwrap();
    let second = put_record().await.unwrap();
    let uri = format!("at://{}/{POST}/{rkey}", session.did);
    assert_eq!(first["uri"], json!(uri));
    assert_eq!(second["cid"], first["cid"], "{first} {second}");
    assert!(first["commit"].is_object(), "{first}");
    assert!(second.get("commit").is_none(), "{second}");

    let record = pds.get_record(&session.did, &rkey).await.unwrap();
    assert_eq!(record.uri, uri);
    assert_eq!(record.rkey(), rkey);
    assert_eq!(json!(record.cid), first["cid"]);
    assert_eq!(record.value.text, "Hello from Prasaran");
    assert_eq!(record.value.created_at, "2026-12-01T12:00:00.000Z");
    assert_eq!(record.value.langs, ["en"]);
    assert!(pds.get_record(&session.did, &tid()).await.is_none());
    let listed = pds.list_records("alice.test").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].cid, record.cid);

    // A key that is not a TID is refused.
    let mut bad_key = put.clone();
    bad_key["rkey"] = json!("not-a-tid");
    let refused = pds
        .procedure(
            "com.atproto.repo.putRecord",
            Some(&session.access_jwt),
            Some(&bad_key),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status, refused.error.as_str()),
        (StatusCode::BAD_REQUEST, "InvalidRequest"),
        "{refused:?}"
    );

    // Tokens the server did not sign, none at all, and its own expired.
    let get_session = |token: Option<String>| {
        let pds = &pds;
        async move {
            pds.query("com.atproto.server.getSession", token.as_deref(), &[])
                .await
        }
    };
    let answer = get_session(Some(session.access_jwt.clone())).await.unwrap();
    assert_eq!(answer["did"], json!(session.did));
    let invalid = get_session(Some("not.a-real.token".into()))
        .await
        .unwrap_err();
    assert_eq!(
        (invalid.status, invalid.error.as_str()),
        (StatusCode::BAD_REQUEST, "InvalidToken"),
        "{invalid:?}"
    );
    assert_eq!(
        invalid.message.as_deref(),
        Some("Token could not be verified")
    );
    let missing = get_session(None).await.unwrap_err();
    assert_eq!(
        (missing.status, missing.error.as_str()),
        (StatusCode::UNAUTHORIZED, "AuthMissing"),
        "{missing:?}"
    );
    let expired = get_session(Some(pds.expired(&session.access_jwt)))
        .await
        .unwrap_err();
    assert_eq!(
        (expired.status, expired.error.as_str()),
        (StatusCode::BAD_REQUEST, "ExpiredToken"),
        "{expired:?}"
    );
    assert_eq!(expired.message.as_deref(), Some("Token has expired"));
    // An access token is no refresh token.
    let wrong_kind = pds.refresh_session(&session.access_jwt).await.unwrap_err();
    assert_eq!(
        (wrong_kind.status, wrong_kind.error.as_str()),
        (StatusCode::BAD_REQUEST, "InvalidToken"),
        "{wrong_kind:?}"
    );

    // Refreshing: a new pair, whose access token works.
    let refreshed = pds.refresh_session(&session.refresh_jwt).await.unwrap();
    assert_eq!(refreshed.did, session.did);
    assert_ne!(refreshed.refresh_jwt, session.refresh_jwt);
    let answer = get_session(Some(refreshed.access_jwt.clone()))
        .await
        .unwrap();
    assert_eq!(answer["handle"], "alice.test");
    let expired_refresh = pds
        .refresh_session(&pds.expired(&refreshed.refresh_jwt))
        .await
        .unwrap_err();
    assert_eq!(
        (expired_refresh.status, expired_refresh.error.as_str()),
        (StatusCode::BAD_REQUEST, "ExpiredToken"),
        "{expired_refresh:?}"
    );

    // With the refreshed token: an image uploaded, a post that shows it with
    // its alt text, and both read back.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(4, 3, image::Rgb([200, 40, 90]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let uploaded = crate::helpers::http()
        .post(format!("{}/xrpc/com.atproto.repo.uploadBlob", pds.url))
        .bearer_auth(&refreshed.access_jwt)
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::OK);
    let blob = uploaded.json::<Value>().await.unwrap()["blob"].clone();
    assert_eq!(blob["mimeType"], "image/png", "{blob}");
    assert_eq!(blob["size"], json!(png.len()), "{blob}");
    let with_image = tid();
    let put = json!({
        "repo": refreshed.did,
        "collection": POST,
        "rkey": with_image,
        "record": {
            "$type": POST,
            "text": "A picture",
            "createdAt": "2026-12-01T12:01:00.000Z",
            "embed": {
                "$type": "app.bsky.embed.images",
                "images": [{ "image": blob, "alt": "a small pink rectangle" }],
            },
        },
    });
    pds.procedure(
        "com.atproto.repo.putRecord",
        Some(&refreshed.access_jwt),
        Some(&put),
    )
    .await
    .unwrap();
    let record = pds.get_record(&refreshed.did, &with_image).await.unwrap();
    let embed = record.value.embed.unwrap();
    assert_eq!(embed["images"][0]["alt"], "a small pink rectangle");
    let cid = embed["images"][0]["image"]["ref"]["$link"]
        .as_str()
        .unwrap();
    assert_eq!(pds.get_blob(&refreshed.did, cid).await.unwrap(), png);
    let listed = pds.list_records(&refreshed.did).await;
    let keys: Vec<&str> = listed.iter().map(PostRecord::rkey).collect();
    assert_eq!(keys, [with_image.as_str(), rkey.as_str()]);

    assert!(pds.stop().await, "the PDS did not stop cleanly on SIGTERM");
}

/// With its rate limits on, the PDS answers 429 with `RateLimit-*` headers
/// and `Retry-After`: `createSession` allows 30 attempts per identifier in
/// 5 minutes.
#[actix_web::test]
async fn its_rate_limits_answer_429() {
    let pds = Pds::start(true).await;
    let attempts = (0..31).map(|_| pds.create_session("nobody.test", "wrong password"));
    let answers = futures_util::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = answers
        .iter()
        .map(|a| {
            a.as_ref()
                .map(|_| StatusCode::OK)
                .unwrap_or_else(|e| e.status)
        })
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        30,
        "{statuses:?}"
    );
    let limited = pds
        .create_session("nobody.test", "wrong password")
        .await
        .unwrap_err();
    assert_eq!(
        (limited.status, limited.error.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "RateLimitExceeded"),
        "{limited:?}"
    );
    let header = |name: &str| {
        limited
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("ratelimit-limit"), "30");
    assert_eq!(header("ratelimit-remaining"), "0");
    assert_eq!(header("ratelimit-policy"), "30;w=300");
    let retry_after: u64 = header("retry-after").parse().unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");

    // Counted per identifier: someone else may still try.
    let other = pds
        .create_session("somebody.test", "wrong password")
        .await
        .unwrap_err();
    assert_eq!(other.status, StatusCode::UNAUTHORIZED, "{other:?}");
}

/// Signs in as `handle` and answers the consent screen (`approve` or `deny`)
/// at the PDS's own OAuth pages in Chromium (`scripts/pds/consent.mjs`);
/// returns where the PDS sent the browser back.
pub async fn consent_in_chromium(
    authorize_url: &url::Url,
    handle: &str,
    password: &str,
    decision: &str,
) -> url::Url {
    let output = tokio::process::Command::new("node")
        .arg(repo_root().join("scripts/pds/consent.mjs"))
        .args([authorize_url.as_str(), handle, password, decision])
        .output()
        .await
        .expect("node runs scripts/pds/consent.mjs");
    assert!(
        output.status.success(),
        "consent in Chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let landed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    url::Url::parse(&landed).unwrap_or_else(|_| panic!("not a URL: {landed}"))
}
