//! The shared engine test setup: a Manch sandbox that outlives app restarts,
//! engine settings that keep tests fast, a user with connections and an API
//! token, and the publish-and-wait steps every engine test uses.

use std::time::{Duration, Instant};

use prasaran::sandbox::manch::{DEFAULT_CLIENT_SECRET, SandboxServer};
use prasaran::settings::Settings;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{
    Browser, TestApp, assert_each_task_sent_once, manch_sandbox, sandbox_calls, sandbox_faults,
    sandbox_posts,
};

/// A sandbox that outlives app restarts, and engine settings that keep tests fast.
pub(crate) struct Stage {
    pub(crate) manch: SandboxServer,
}

impl Stage {
    pub(crate) fn new() -> Self {
        Self {
            manch: manch_sandbox(2),
        }
    }

    pub(crate) fn configure(&self, s: &mut Settings) {
        s.platforms.manch.base_url = Some(self.manch.base_url.clone());
        s.platforms.manch.client_secret = Some(SecretString::from(DEFAULT_CLIENT_SECRET));
        s.engine.max_attempts = 10.try_into().unwrap();
        s.engine.backoff_base_ms = 20.try_into().unwrap();
        s.engine.backoff_cap_ms = 300.try_into().unwrap();
        s.engine.lease_secs = 2.try_into().unwrap();
        s.engine.scheduler_tick_ms = 100.try_into().unwrap();
        s.engine.stale_dispatch_secs = 2.try_into().unwrap();
        s.engine.rate_limit_per_s = 1000.try_into().unwrap();
        s.engine.panic_marker = Some("PANIC-IN-ADAPTER".into());
    }

    pub(crate) async fn app(&self) -> TestApp {
        TestApp::spawn_with(|s| self.configure(s)).await
    }

    pub(crate) async fn faults(&self, faults: Value) {
        sandbox_faults(&self.manch.base_url, faults).await;
    }

    pub(crate) async fn posts(&self) -> Value {
        sandbox_posts(&self.manch.base_url).await
    }

    /// What the platform saw of the calls (`GET /_sandbox/calls`).
    pub(crate) async fn calls(&self) -> Value {
        sandbox_calls(&self.manch.base_url).await
    }

    /// No post twice, no task sent twice.
    pub(crate) async fn assert_each_task_sent_once(&self) {
        assert_each_task_sent_once(&self.manch.base_url).await;
    }

    pub(crate) async fn post_count(&self) -> usize {
        self.posts().await["posts"].as_array().unwrap().len()
    }

    pub(crate) fn token_requests(&self) -> u64 {
        self.manch.sandbox.lock().token_requests
    }
}

/// A signed-up user with `n` Manch accounts connected and an API token.
pub(crate) struct Publisher {
    pub(crate) token: String,
    pub(crate) connections: Vec<String>,
    pub(crate) browser_csrf: String,
}

pub(crate) async fn publisher(browser: &Browser, email: &str, handles: &[&str]) -> Publisher {
    let csrf = browser.signed_up(email).await;
    let mut connections = Vec::new();
    for handle in handles {
        let c = browser.connect_manch(&csrf, handle).await;
        connections.push(c["id"].as_str().unwrap().to_owned());
    }
    Publisher {
        token: browser.api_token(&csrf).await,
        connections,
        browser_csrf: csrf,
    }
}

pub(crate) async fn publish(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    crate::helpers::http()
        .post(app.url("/api/v1/posts"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn accepted(app: &TestApp, token: &str, body: Value) -> String {
    let response = publish(app, token, body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    body["job_id"].as_str().unwrap().to_owned()
}

pub(crate) async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    get_as(app, token, &format!("/api/v1/jobs/{id}")).await
}

/// `GET path` with an API token, its JSON body.
pub(crate) async fn get_as(app: &TestApp, token: &str, path: &str) -> Value {
    crate::helpers::http()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const TERMINAL: [&str; 5] = [
    "succeeded",
    "partially_failed",
    "failed",
    "cancelled",
    "missed",
];

/// Polls until the job is final; fails the test after `limit`.
pub(crate) async fn wait_job(app: &TestApp, token: &str, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let view = job(app, token, id).await;
        if TERMINAL.contains(&view["status"].as_str().unwrap_or_default()) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} not final in time: {view}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn wait_all(
    app: &TestApp,
    token: &str,
    ids: &[String],
    limit: Duration,
) -> Vec<Value> {
    let mut views = Vec::new();
    for id in ids {
        views.push(wait_job(app, token, id, limit).await);
    }
    views
}

/// A `prasaran serve` process of the test's own on `database`: the
/// in-process queue, short leases and backoff, plus `extra` settings.
pub(crate) fn process_env(
    database: &crate::helpers::TestDatabase,
    data_dir: &std::path::Path,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PRASARAN__DATA_DIR", data_dir.display().to_string()),
        ("PRASARAN__DATABASE__URL", database.url.clone()),
        ("PRASARAN__SESSION__KEY", crate::helpers::random_key(64)),
        (
            "PRASARAN__KEYS__LOCAL__MASTER_KEY",
            crate::helpers::random_key(32),
        ),
        ("PRASARAN__QUEUE__KIND", "in_process".into()),
        ("PRASARAN__ENGINE__LEASE_SECS", "3".into()),
        ("PRASARAN__ENGINE__STALE_DISPATCH_SECS", "3".into()),
        ("PRASARAN__ENGINE__SCHEDULER_TICK_MS", "100".into()),
        ("PRASARAN__ENGINE__BACKOFF_BASE_MS", "20".into()),
        ("PRASARAN__ENGINE__BACKOFF_CAP_MS", "300".into()),
        ("PRASARAN__SERVER__WORKERS", "1".into()),
        ("PRASARAN__LOG__LEVEL", "info".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

/// Waits until `n` tasks have succeeded; on time out, shows `log`.
pub(crate) async fn wait_tasks_succeeded(
    pool: &sqlx::PgPool,
    n: i64,
    limit: Duration,
    log: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT count(*) FROM publish_tasks WHERE status = 'succeeded'")
                .fetch_one(pool)
                .await
                .unwrap();
        if done == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {n} succeeded:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
