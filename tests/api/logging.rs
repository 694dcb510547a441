//! Secrets never reach the logs, even at the most verbose level.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestDatabase};

#[actix_web::test]
async fn passwords_cookies_and_keys_stay_out_of_debug_logs() {
    let database = TestDatabase::create().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let session_key = crate::helpers::random_key(64);
    let master_key = crate::helpers::random_key(32);
    let mut server = Command::new(env!("CARGO_BIN_EXE_prasaran"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("PRASARAN__DATABASE__URL", &database.url)
        .env("PRASARAN__SESSION__KEY", &session_key)
        .env("PRASARAN__KEYS__LOCAL__MASTER_KEY", &master_key)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(response) = client.get(format!("{base}/health/ready")).send().await {
            ready = response.status() == StatusCode::OK;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "server did not become ready");

    let credentials = json!({"email": "quiet@example.com", "password": PASSWORD});
    let signup = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let cookie = signup.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookie_value = cookie.split_once('=').unwrap().1.to_owned();
    let body: serde_json::Value = signup.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let wrong = json!({"email": "quiet@example.com", "password": "a wrong password!"});
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&wrong)
        .send()
        .await
        .unwrap();

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0");
    let mut logs = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();

    assert!(
        logs.contains("account created"),
        "the log is really captured"
    );
    for secret in [
        PASSWORD,
        "a wrong password!",
        &cookie_value,
        &session_key,
        &csrf,
    ] {
        assert!(
            !logs.contains(secret),
            "a secret leaked into the logs: {secret}"
        );
    }
}
