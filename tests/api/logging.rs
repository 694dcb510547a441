//! Secrets never reach the logs, even at the most verbose level: passwords,
//! cookies, CSRF tokens, keys, mailed link tokens, OAuth codes, states, API
//! tokens and platform tokens, through verifying the address, connecting,
//! publishing and refreshing a token.

use std::time::Duration;

use prasaran::sandbox::manch::DEFAULT_CLIENT_SECRET;
use reqwest::StatusCode;
use serde_json::Value;

use crate::cloud::Serve;
use crate::helpers::{Browser, PASSWORD, TestDatabase, manch_sandbox, random_key};

#[actix_web::test]
async fn secrets_stay_out_of_trace_logs() {
    let database = TestDatabase::create().await;
    let manch = manch_sandbox(1);
    let session_key = random_key(64);
    let master_key = random_key(32);
    let env: Vec<(String, String)> = [
        ("PRASARAN__DATABASE__URL", database.url.clone()),
        ("PRASARAN__SESSION__KEY", session_key.clone()),
        ("PRASARAN__KEYS__LOCAL__MASTER_KEY", master_key.clone()),
        (
            "PRASARAN__PLATFORMS__MANCH__BASE_URL",
            manch.base_url.to_string(),
        ),
        (
            "PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET",
            DEFAULT_CLIENT_SECRET.to_owned(),
        ),
        ("RUST_LOG", "trace".to_owned()),
        (
            "PRASARAN__ACCOUNTS__VERIFIED_EMAIL_TO_CONNECT",
            "true".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut server = Serve::start("all", &env).await;
    let browser = Browser::new(&server.address);

    let signup = browser.signup("quiet@example.com", PASSWORD).await;
    assert_eq!(signup.status(), StatusCode::ACCEPTED);
    assert!(
        !signup.headers().contains_key("set-cookie"),
        "signup logs nobody in"
    );
    let login = browser.login("quiet@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let login_cookie_value = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Connecting waits for a verified address (the dev default).
    let verification = browser
        .mailed_token("quiet@example.com", "verify-email")
        .await;
    let verified = browser
        .post_json(
            "/api/v1/auth/verify-email",
            &serde_json::json!({"token": verification}),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    // A second login starts a new session: its cookie is the one sent from now on.
    let relogin = browser.login("quiet@example.com", PASSWORD).await;
    assert_eq!(relogin.status(), StatusCode::OK);
    let cookie_value = relogin.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    assert_ne!(login_cookie_value, cookie_value);
    browser
        .login("quiet@example.com", "a wrong password!")
        .await;
    let login_csrf = browser.me().await.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The whole connect flow, then a disconnect (which uses the refresh token).
    let authorize_url = browser.authorize("manch", &login_csrf).await;
    let back = browser.consent(&authorize_url, "quiet", "approve").await;
    let query: std::collections::HashMap<String, String> =
        back.query_pairs().into_owned().collect();
    assert_eq!(browser.callback(&back).await.status(), StatusCode::FOUND);
    assert_eq!(manch.sandbox.lock().issued_tokens().len(), 2);
    let list: Value = browser
        .get("/api/v1/connections")
        .await
        .json()
        .await
        .unwrap();
    let id = list["connections"][0]["id"].as_str().unwrap().to_owned();

    // A script's API token publishes; then every access token expires behind
    // Prasaran's back, so the next publish is refused (401), refreshes the
    // token and publishes again.
    let created = browser
        .client
        .post(browser.url("/api/v1/tokens"))
        .header("X-CSRF-Token", &login_csrf)
        .json(&serde_json::json!({"name": "logged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let api_token = created.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let first_job = publish_and_wait(&browser, &api_token, "quiet, then published").await;
    for token in manch.sandbox.lock().access.values_mut() {
        token.expires = std::time::Instant::now();
    }
    let refreshed_job = publish_and_wait(&browser, &api_token, "published after a refresh").await;
    let issued = manch.sandbox.lock().issued_tokens();
    assert_eq!(issued.len(), 4, "the refresh issued a new pair");
    assert_eq!(manch.sandbox.lock().posts.len(), 2);
    let gone = browser
        .client
        .delete(browser.url(&format!("/api/v1/connections/{id}")))
        .header("X-CSRF-Token", &login_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);

    assert!(server.terminate().await, "graceful shutdown exits 0");
    let logs = server.log_text();

    assert!(
        logs.contains("account created"),
        "the log is really captured"
    );
    assert!(logs.contains("platform account connected"));
    assert!(logs.contains("publish accepted"));
    assert!(logs.contains("access token refreshed"));
    for job in [&first_job, &refreshed_job] {
        assert!(
            logs.contains(job.as_str()),
            "the publish of job {job} is logged"
        );
    }
    let mut secrets = vec![
        PASSWORD.to_owned(),
        "a wrong password!".to_owned(),
        cookie_value,
        login_cookie_value,
        session_key,
        master_key,
        csrf,
        login_csrf,
        query["code"].clone(),
        query["state"].clone(),
        verification,
        DEFAULT_CLIENT_SECRET.to_owned(),
        api_token,
    ];
    secrets.extend(issued);
    for secret in secrets {
        assert!(
            !logs.contains(&secret),
            "a secret leaked into the logs: {secret}"
        );
    }
}

/// Publishes with the API token and polls the job until it succeeded; its id.
async fn publish_and_wait(browser: &Browser, token: &str, content: &str) -> String {
    let accepted = browser
        .client
        .post(browser.url("/api/v1/posts"))
        .bearer_auth(token)
        .json(&serde_json::json!({"content": content}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let id = accepted.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let view: Value = browser
            .client
            .get(browser.url(&format!("/api/v1/jobs/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match view["status"].as_str().unwrap() {
            "succeeded" => return id,
            "pending" | "running" => {}
            other => panic!("job {id} ended {other}: {view}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} not done in time: {view}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
