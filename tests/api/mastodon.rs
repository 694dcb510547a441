//! The Mastodon adapter against the Mastodon sandbox over real HTTP: several
//! instances (one sandbox each, on its own port and domain), one app per
//! instance, OAuth with and without PKCE, the instance's own limits, media,
//! a revoked grant.

use std::time::Duration;

use prasaran::sandbox::mastodon::{MastodonConfig, MastodonSandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, error_code};
use crate::stage::{accepted, publish, wait_job};

/// One Mastodon instance, on a free loopback port.
fn instance() -> MastodonSandbox {
    let mut sandbox =
        MastodonSandbox::bind("127.0.0.1:0".parse().unwrap(), MastodonConfig::default(), 2)
            .unwrap();
    sandbox.spawn();
    sandbox
}

/// An app offering Mastodon, taking instances on plain http (the sandboxes).
async fn app_with_mastodon() -> TestApp {
    TestApp::spawn_with(|s| {
        s.platforms.mastodon.enabled = true;
        s.platforms.mastodon.allow_http_instances = true;
    })
    .await
}

async fn control(instance: &MastodonSandbox, path: &str, body: Option<Value>) -> Value {
    let url = instance.base_url.join(path).unwrap();
    let client = crate::helpers::http();
    let response = match body {
        Some(body) => client.post(url).json(&body).send().await.unwrap(),
        None => client.get(url).send().await.unwrap(),
    };
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn faults(instance: &MastodonSandbox, faults: Value) {
    control(instance, "_sandbox/faults", Some(faults)).await;
}

async fn statuses(instance: &MastodonSandbox) -> Vec<Value> {
    control(instance, "_sandbox/posts", None).await["posts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn calls(instance: &MastodonSandbox) -> Value {
    control(instance, "_sandbox/calls", None).await
}

/// `POST …/mastodon/authorize` naming `server`; the instance's consent URL.
async fn authorize(browser: &Browser, csrf: &str, server: &str) -> reqwest::Response {
    browser
        .client
        .post(browser.url("/api/v1/connections/mastodon/authorize"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "server": server }))
        .send()
        .await
        .unwrap()
}

/// Connects `username` at `instance` through its consent page; answers the
/// connection as the API lists it.
async fn connect(
    browser: &Browser,
    csrf: &str,
    instance: &MastodonSandbox,
    username: &str,
) -> Value {
    let response = authorize(browser, csrf, instance.base_url.as_str()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let url = url::Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    let back = browser.consent(&url, username, "approve").await;
    let response = browser.callback(&back).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/?connected=mastodon"), "{location}");
    let handle = format!("{username}@{}", instance.domain);
    let list: Value = browser
        .get("/api/v1/connections")
        .await
        .json()
        .await
        .unwrap();
    list["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["handle"] == handle.as_str() && c["status"] == "active")
        .cloned()
        .unwrap_or_else(|| panic!("{handle} is connected: {list}"))
}

#[actix_web::test]
async fn one_publish_lands_once_on_each_of_four_accounts_on_two_instances() {
    let (first, second) = (instance(), instance());
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("fedi@example.com").await;
    for sandbox in [&first, &second] {
        for username in ["ana", "ben"] {
            let connection = connect(&app, &csrf, sandbox, username).await;
            assert_eq!(connection["service_url"], sandbox.base_url.as_str());
        }
    }
    // Connecting again reuses the instance's app.
    connect(&app, &csrf, &first, "ana").await;
    for sandbox in [&first, &second] {
        assert_eq!(
            calls(sandbox).await["app_registrations"],
            1,
            "one app per instance"
        );
    }

    let token = app.api_token(&csrf).await;
    let text = "Hello, fediverse 👋🏽 https://example.com/a/very/long/path/that/counts/as/23";
    let id = accepted(&app, &token, json!({ "content": text })).await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["tasks"].as_array().unwrap().len(), 4);
    for sandbox in [&first, &second] {
        let posted = statuses(sandbox).await;
        assert_eq!(posted.len(), 2, "{posted:?}");
        for status in &posted {
            assert_eq!(status["text"], text);
            assert_eq!(status["idempotency_key"].as_str().map(str::len), Some(36));
        }
    }
}

#[actix_web::test]
async fn an_instance_without_pkce_connects_with_state_alone() {
    let old = instance();
    faults(&old, json!({ "pkce": false })).await;
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("old@example.com").await;
    let response = authorize(&app, &csrf, old.base_url.as_str()).await;
    let body: Value = response.json().await.unwrap();
    let url = body["authorize_url"].as_str().unwrap();
    assert!(url.contains("state="), "{url}");
    assert!(!url.contains("code_challenge"), "{url}");
    connect(&app, &csrf, &old, "cai").await;

    let current = instance();
    let response = authorize(&app, &csrf, current.base_url.as_str()).await;
    let body: Value = response.json().await.unwrap();
    assert!(
        body["authorize_url"]
            .as_str()
            .unwrap()
            .contains("code_challenge_method=S256")
    );
}

#[actix_web::test]
async fn naming_no_instance_or_a_bad_one_is_a_422_that_says_what_to_type() {
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("who@example.com").await;
    let response = app
        .client
        .post(app.url("/api/v1/connections/mastodon/authorize"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "server_required");
    let response = authorize(&app, &csrf, "not an instance").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "invalid_server");
    assert_eq!(app.count_rows("platform_clients").await, 0);
}

#[actix_web::test]
async fn the_instances_limit_applies_at_accept_with_links_counted_as_23() {
    let small = instance();
    faults(&small, json!({ "max_characters": 60 })).await;
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("small@example.com").await;
    let connection = connect(&app, &csrf, &small, "dee").await;
    assert_eq!(connection["rules"]["max_chars"], 60, "{connection}");
    let token = app.api_token(&csrf).await;

    // 36 characters and a long link counted as 23: 59, it fits.
    let link = format!("https://example.com/{}", "x".repeat(120));
    let fits = format!("{} {link}", "a".repeat(35));
    let id = accepted(&app, &token, json!({ "content": fits })).await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");

    let over = format!("{} {link}", "a".repeat(37));
    let response = publish(&app, &token, json!({ "content": over })).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_rejected");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Mastodon") && message.contains("60"),
        "{message}"
    );
    assert_eq!(statuses(&small).await.len(), 1);
}

#[actix_web::test]
async fn a_revoked_grant_fails_the_task_asking_to_reconnect() {
    let sandbox = instance();
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("gone@example.com").await;
    connect(&app, &csrf, &sandbox, "eve").await;
    let token = app.api_token(&csrf).await;
    // Eve removes Prasaran from her account's authorized apps.
    control(
        &sandbox,
        "_sandbox/revoke",
        Some(json!({ "username": "eve" })),
    )
    .await;

    let id = accepted(&app, &token, json!({ "content": "after the revocation" })).await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "failed", "{view}");
    let error = view["tasks"][0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("reconnect"), "{error}");
    let list: Value = app.get("/api/v1/connections").await.json().await.unwrap();
    assert_eq!(list["connections"][0]["status"], "needs_reauth");
    assert!(statuses(&sandbox).await.is_empty());
}

#[actix_web::test]
async fn four_images_with_alt_text_and_a_video_that_processes_are_posted() {
    let sandbox = instance();
    faults(&sandbox, json!({ "video_processing_ms": 3000 })).await;
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("pics@example.com").await;
    connect(&app, &csrf, &sandbox, "fay").await;
    let token = app.api_token(&csrf).await;

    let mut images = Vec::new();
    for n in 0..4 {
        let bytes = crate::media::encoded(40 + n, 30, image::ImageFormat::Png);
        let alt = format!("picture {}", n + 1);
        images.push(crate::media::uploaded_with_alt(&app, &token, bytes, &alt).await);
    }
    let id = accepted(
        &app,
        &token,
        json!({ "content": "four pictures", "media_ids": images }),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");

    let video = crate::media::uploaded(&app, &token, crate::media::mp4(2)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    let id = accepted(
        &app,
        &token,
        json!({ "content": "a video", "media_ids": [video] }),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "posted only once the instance had processed the video"
    );

    let posted = statuses(&sandbox).await;
    assert_eq!(posted.len(), 2, "{posted:?}");
    let pictures = posted
        .iter()
        .find(|s| s["text"] == "four pictures")
        .unwrap();
    let media = pictures["media"].as_array().unwrap();
    assert_eq!(media.len(), 4);
    for (n, m) in media.iter().enumerate() {
        assert_eq!(m["description"], format!("picture {}", n + 1), "{m}");
    }
    let filmed = posted.iter().find(|s| s["text"] == "a video").unwrap();
    assert_eq!(filmed["media"][0]["type"], "video", "{filmed}");
    assert_eq!(
        calls(&sandbox).await["media_uploads"],
        5,
        "each uploaded once"
    );
}

#[actix_web::test]
async fn killed_after_the_status_exists_but_before_its_outcome_a_restart_leaves_one_status() {
    let sandbox = instance();
    let database = crate::helpers::TestDatabase::create().await;
    let pool = database.pool().await;
    let data_dir = tempfile::tempdir().unwrap();
    let env = crate::stage::process_env(
        &database,
        data_dir.path(),
        &[
            ("PRASARAN__PLATFORMS__MASTODON__ENABLED", "true"),
            (
                "PRASARAN__PLATFORMS__MASTODON__ALLOW_HTTP_INSTANCES",
                "true",
            ),
        ],
    );
    let mut doomed = crate::cloud::Serve::start("all", &env).await;
    let browser = Browser::new(&doomed.address);
    let csrf = browser.signed_up("crash@example.com").await;
    connect(&browser, &csrf, &sandbox, "gil").await;
    let token = browser.api_token(&csrf).await;

    // The instance creates each status, then never answers.
    faults(&sandbox, json!({ "stall_after_create_ms": 600_000 })).await;
    for n in 0..2 {
        let response = crate::helpers::http()
            .post(format!("{}/api/v1/posts", doomed.address))
            .bearer_auth(&token)
            .json(&json!({ "content": format!("crash test {n}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while statuses(&sandbox).await.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            doomed.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    doomed.kill9();
    // And it has forgotten the keys (Redis keeps them an hour, and only once
    // the status exists): only Prasaran's own look-up can prevent a second
    // status now.
    faults(
        &sandbox,
        json!({ "stall_after_create_ms": 0, "honor_idempotency": false }),
    )
    .await;

    let again = crate::cloud::Serve::start("all", &env).await;
    crate::stage::wait_tasks_succeeded(&pool, 2, Duration::from_secs(90), || again.log_text())
        .await;
    let posted = statuses(&sandbox).await;
    assert_eq!(posted.len(), 2, "one status per task: {posted:?}");
    // Each task was matched to the status its lost attempt made.
    let recorded: Vec<String> =
        sqlx::query_scalar("SELECT external_post_id FROM publish_tasks ORDER BY external_post_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut made: Vec<String> = posted
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    made.sort();
    assert_eq!(recorded, made);
    assert!(calls(&sandbox).await["lookups"].as_u64().unwrap() >= 2);
}

#[actix_web::test]
async fn a_429_with_an_iso_8601_reset_is_waited_out_and_every_status_lands_once() {
    let sandbox = instance();
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("busy@example.com").await;
    connect(&app, &csrf, &sandbox, "hal").await;
    let token = app.api_token(&csrf).await;
    // Four calls per token per 5-second window (Mastodon: 300 per 5 minutes).
    faults(
        &sandbox,
        json!({ "rate_limit_per_5min": 4, "api_period_secs": 5 }),
    )
    .await;

    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(accepted(&app, &token, json!({ "content": format!("busy {n}") })).await);
    }
    for id in &ids {
        let view = wait_job(&app, &token, id, Duration::from_secs(60)).await;
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    let posted = statuses(&sandbox).await;
    assert_eq!(posted.len(), 8, "each once: {posted:?}");
    let limited = calls(&sandbox).await["rate_limited"].as_u64().unwrap();
    // Refused at least once, and then waited for the reset instead of
    // knocking again (a worker that ignored it would be refused dozens of times).
    assert!((1..=4).contains(&limited), "{limited} answers were 429");
}

#[actix_web::test]
async fn outside_dev_an_instance_on_a_private_address_is_refused_before_any_call() {
    let app = TestApp::spawn_with(|s| {
        s.platforms.mastodon.enabled = true;
        s.platforms.mastodon.allow_http_instances = false;
    })
    .await;
    let csrf = app.signed_up("probe@example.com").await;
    let sandbox = instance();
    let port = sandbox.base_url.port().unwrap();
    for server in [
        format!("https://127.0.0.1:{port}"),
        "https://169.254.169.254".to_owned(),
        "https://10.0.0.7".to_owned(),
        format!("http://127.0.0.1:{port}"),
    ] {
        let response = authorize(&app, &csrf, &server).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{server}"
        );
        assert_eq!(error_code(response).await, "invalid_server", "{server}");
    }
    assert_eq!(calls(&sandbox).await["app_registrations"], 0);
    assert_eq!(app.count_rows("platform_clients").await, 0);
}

#[actix_web::test]
async fn visibility_content_warning_and_language_go_with_the_status_and_the_warning_counts() {
    let sandbox = instance();
    faults(&sandbox, json!({ "max_characters": 40 })).await;
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("cw@example.com").await;
    connect(&app, &csrf, &sandbox, "ivy").await;
    let token = app.api_token(&csrf).await;

    let options =
        json!({"visibility": "unlisted", "content_warning": "spoilers", "language": "de"});
    let id = accepted(
        &app,
        &token,
        json!({ "content": "Das Ende ist überraschend", "options": options }),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let posted = statuses(&sandbox).await;
    assert_eq!(posted[0]["visibility"], "unlisted");
    assert_eq!(posted[0]["spoiler_text"], "spoilers");
    assert_eq!(posted[0]["language"], "de");

    // 25 characters of text fit in 40, but not with a 20-character warning.
    let response = publish(
        &app,
        &token,
        json!({ "content": "x".repeat(25), "options": {"content_warning": "w".repeat(20)} }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_rejected");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("content warning"),
        "{body}"
    );
    let response = publish(
        &app,
        &token,
        json!({ "content": "hello", "options": {"language": "english"} }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "invalid_options");
    assert_eq!(statuses(&sandbox).await.len(), 1);
}

#[actix_web::test]
async fn an_instances_limits_are_read_again_after_a_day() {
    let sandbox = instance();
    let app = app_with_mastodon().await;
    let csrf = app.signed_up("daily@example.com").await;
    let connection = connect(&app, &csrf, &sandbox, "jon").await;
    assert_eq!(connection["rules"]["max_chars"], 500);
    let token = app.api_token(&csrf).await;

    // The instance raised its limit, and what Prasaran read is two days old.
    faults(&sandbox, json!({ "max_characters": 1000 })).await;
    sqlx::query("UPDATE platform_connections SET limits_read_at = now() - interval '2 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    let id = accepted(&app, &token, json!({ "content": "wakes the worker" })).await;
    wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list: Value = app.get("/api/v1/connections").await.json().await.unwrap();
        if list["connections"][0]["rules"]["max_chars"] == 1000 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let long = "y".repeat(800);
    let id = accepted(&app, &token, json!({ "content": long })).await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
}
