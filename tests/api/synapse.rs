//! Matrix Synapse, the reference homeserver, run by the tests so the Matrix
//! adapter meets the genuine server: `scripts/synapse-venv` installs it into
//! `target/synapse-venv`; [`Synapse::start`] generates a configuration in a
//! temporary directory (SQLite, no federation, loopback only, a free port),
//! overrides the token lifetime and message rate it is asked for, and kills
//! the server when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

fn venv() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/synapse-venv");
    assert!(
        path.join(".installed").exists(),
        "Matrix Synapse is not installed: run scripts/synapse-venv (scripts/test does)"
    );
    path
}

/// How the homeserver is configured beyond its defaults.
#[derive(Debug, Clone, Default)]
pub struct SynapseOptions {
    /// `refreshable_access_token_lifetime`, e.g. `10s`.
    pub token_lifetime: Option<&'static str>,
    /// `rc_message`: `(per_second, burst_count)`.
    pub message_rate: Option<(f64, u32)>,
}

/// A login's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub access_token: String,
    pub device_id: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in_ms: Option<u64>,
}

/// A refused call: its status, body and headers.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

pub struct Synapse {
    pub url: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Synapse {
    pub async fn start(options: SynapseOptions) -> Self {
        let venv = venv();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("homeserver.yaml");
        let generated = Command::new(venv.join("bin/python"))
            .args(["-m", "synapse.app.homeserver", "--server-name", "localhost"])
            .arg("--config-path")
            .arg(&config)
            .args(["--generate-config", "--report-stats=no"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(generated.status.success(), "{generated:?}");
        let port = crate::cloud::free_port();
        let mut overrides = format!(
            "listeners:\n  - port: {port}\n    bind_addresses: ['127.0.0.1']\n    type: http\n    tls: false\n    x_forwarded: false\n    resources:\n      - names: [client]\n        compress: false\ntrusted_key_servers: []\nsuppress_key_server_warning: true\n\
             rc_login:\n  address: {{per_second: 100, burst_count: 100}}\n  account: {{per_second: 100, burst_count: 100}}\n  failed_attempts: {{per_second: 100, burst_count: 100}}\n"
        );
        if let Some(lifetime) = options.token_lifetime {
            overrides.push_str(&format!("refreshable_access_token_lifetime: {lifetime}\n"));
        }
        match options.message_rate {
            Some((per_second, burst)) => overrides.push_str(&format!(
                "rc_message:\n  per_second: {per_second}\n  burst_count: {burst}\n"
            )),
            None => overrides.push_str("rc_message:\n  per_second: 1000\n  burst_count: 1000\n"),
        }
        let overrides_path = dir.path().join("overrides.yaml");
        std::fs::write(&overrides_path, overrides).unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(venv.join("bin/python"))
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&config)
            .arg("-c")
            .arg(&overrides_path)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let synapse = Self {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = crate::helpers::http()
                .get(format!("{}/_matrix/client/versions", synapse.url))
                .send()
                .await
                && response.status().is_success()
            {
                return synapse;
            }
            assert!(
                Instant::now() < deadline,
                "Synapse did not start:\n{}",
                synapse.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A user, registered with the server's shared secret as an operator would.
    pub async fn register(&self, user: &str, password: &str) {
        let output = tokio::process::Command::new(venv().join("bin/register_new_matrix_user"))
            .arg("-c")
            .arg(self.dir.path().join("homeserver.yaml"))
            .args(["-u", user, "-p", password, "--no-admin", &self.url])
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<Value, Refused> {
        let mut request = crate::helpers::http().request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(Refused {
                status,
                body,
                headers,
            })
        }
    }

    /// A password login asking for a refresh token; `device` keeps a device.
    pub async fn login(&self, user: &str, password: &str, device: Option<&str>) -> Session {
        let mut body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "refresh_token": true,
        });
        if let Some(device) = device {
            body["device_id"] = json!(device);
        }
        let answer = self
            .call(
                reqwest::Method::POST,
                "/_matrix/client/v3/login",
                None,
                Some(body),
            )
            .await
            .unwrap_or_else(|e| panic!("login {user}: {e:?}"));
        serde_json::from_value(answer).unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Value, Refused> {
        self.call(
            reqwest::Method::POST,
            "/_matrix/client/v3/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await
    }

    pub async fn whoami(&self, token: &str) -> Result<Value, Refused> {
        self.call(
            reqwest::Method::GET,
            "/_matrix/client/v3/account/whoami",
            Some(token),
            None,
        )
        .await
    }

    pub async fn create_room(&self, token: &str, name: &str) -> String {
        let answer = self
            .call(
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                Some(token),
                Some(json!({"name": name, "preset": "private_chat"})),
            )
            .await
            .unwrap();
        answer["room_id"].as_str().unwrap().to_owned()
    }

    /// `PUT …/send/m.room.message/{txn}`; the event id.
    pub async fn send(
        &self,
        token: &str,
        room: &str,
        txn: &str,
        text: &str,
    ) -> Result<String, Refused> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}",
            urlencoding(room)
        );
        self.call(
            reqwest::Method::PUT,
            &path,
            Some(token),
            Some(json!({"msgtype": "m.text", "body": text})),
        )
        .await
        .map(|answer| answer["event_id"].as_str().unwrap().to_owned())
    }

    /// The room's text messages, oldest first.
    pub async fn messages(&self, token: &str, room: &str) -> Vec<Value> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/messages?dir=b&limit=1000",
            urlencoding(room)
        );
        let answer = self
            .call(reqwest::Method::GET, &path, Some(token), None)
            .await
            .unwrap();
        let mut messages: Vec<Value> = answer["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "m.room.message")
            .cloned()
            .collect();
        messages.reverse();
        messages
    }
}

impl Synapse {
    /// `POST /logout/all`: every device of the user signed out.
    pub async fn log_out_everywhere(&self, token: &str) {
        self.call(
            reqwest::Method::POST,
            "/_matrix/client/v3/logout/all",
            Some(token),
            Some(json!({})),
        )
        .await
        .unwrap();
    }

    /// The user's devices (`GET /devices`), by display name.
    pub async fn device_names(&self, token: &str) -> Vec<String> {
        let answer = self
            .call(
                reqwest::Method::GET,
                "/_matrix/client/v3/devices",
                Some(token),
                None,
            )
            .await
            .unwrap();
        answer["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["display_name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl Drop for Synapse {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[actix_web::test]
async fn the_genuine_synapse_runs_here_with_what_the_adapter_will_rely_on() {
    let synapse = Synapse::start(SynapseOptions {
        token_lifetime: Some("10s"),
        message_rate: Some((0.5, 3)),
    })
    .await;
    synapse.register("alice", "alice-password-1").await;
    let first = synapse.login("alice", "alice-password-1", None).await;
    assert_eq!(first.user_id, "@alice:localhost");
    assert!(first.expires_in_ms.unwrap() <= 10_000, "{first:?}");
    let room = synapse
        .create_room(&first.access_token, "Announcements")
        .await;

    // The same transaction id on the same device is the same message.
    let sent = synapse
        .send(&first.access_token, &room, "task-1", "hello")
        .await
        .unwrap();
    let again = synapse
        .send(&first.access_token, &room, "task-1", "hello")
        .await
        .unwrap();
    assert_eq!(sent, again);

    // A refresh rotates both tokens. The old refresh token keeps working only
    // until the new tokens are used; after that it is refused.
    let old_refresh = first.refresh_token.clone().unwrap();
    let rotated = synapse.refresh(&old_refresh).await.unwrap();
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated["refresh_token"].as_str().unwrap(), old_refresh);
    synapse.whoami(&new_access).await.unwrap();
    let reused = synapse.refresh(&old_refresh).await.unwrap_err();
    assert_eq!(reused.status, StatusCode::FORBIDDEN, "{reused:?}");
    assert_eq!(reused.body["errcode"], "M_FORBIDDEN");
    // Still the same device: the transaction id still answers the first message.
    let after_refresh = synapse
        .send(&new_access, &room, "task-1", "hello")
        .await
        .unwrap();
    assert_eq!(after_refresh, sent);

    // A new login is a new device, and the same transaction id a new message;
    // logging in with the stored device keeps it.
    let other_device = synapse.login("alice", "alice-password-1", None).await;
    let duplicate = synapse
        .send(&other_device.access_token, &room, "task-1", "hello")
        .await
        .unwrap();
    assert_ne!(duplicate, sent);
    let same_device = synapse
        .login("alice", "alice-password-1", Some(&first.device_id))
        .await;
    assert_eq!(same_device.device_id, first.device_id);
    let kept = synapse
        .send(&same_device.access_token, &room, "task-1", "hello")
        .await
        .unwrap();
    assert_eq!(kept, sent);

    // A burst beyond rc_message: 429 M_LIMIT_EXCEEDED with retry_after_ms.
    let mut limited = None;
    for n in 0..6 {
        if let Err(refused) = synapse
            .send(
                &same_device.access_token,
                &room,
                &format!("burst-{n}"),
                "burst",
            )
            .await
        {
            limited = Some(refused);
            break;
        }
    }
    let limited = limited.expect("a 429 within the burst");
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["errcode"], "M_LIMIT_EXCEEDED");
    assert!(
        limited.body["retry_after_ms"].as_u64().unwrap() > 0,
        "{limited:?}"
    );
    assert!(limited.headers.get("retry-after").is_some());
    assert!(limited.headers.get("x-ratelimit-limit").is_none());

    // After the lifetime, the access token is refused as a soft logout.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let expired = synapse.whoami(&same_device.access_token).await.unwrap_err();
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED, "{expired:?}");
    assert_eq!(expired.body["errcode"], "M_UNKNOWN_TOKEN");
    assert_eq!(expired.body["soft_logout"], true);
    let fresh = synapse
        .refresh(same_device.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    let hellos = synapse
        .messages(fresh["access_token"].as_str().unwrap(), &room)
        .await
        .into_iter()
        .filter(|m| m["content"]["body"] == "hello")
        .count();
    assert_eq!(hellos, 2, "one per device");
}
