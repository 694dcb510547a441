//! The Bluesky adapter against the genuine PDS (`pds.rs`): connecting with an
//! app password, posting with a TID planned at accept, Bluesky's grapheme
//! limit at accept.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::pds::Pds;
use crate::stage::{accepted, publish, wait_job};

/// An app with Bluesky pointed at `pds`, a signed-up user with an API token,
/// and `handle` connected with an app password. Answers (token, connection id).
async fn connected(app: &TestApp, pds: &Pds, handle: &str) -> (String, String) {
    let account = pds.create_account(handle, "account-password-123").await;
    let app_password = pds.app_password(&account, "prasaran").await;
    let csrf = app
        .signed_up(&format!("{}@example.com", handle.replace('.', "-")))
        .await;
    let response = app
        .client
        .post(app.url("/api/v1/connections/bluesky/sign-in"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"identifier": handle, "password": app_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let connection: Value = response.json().await.unwrap();
    assert_eq!(connection["handle"], handle);
    (
        app.api_token(&csrf).await,
        connection["id"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn a_post_lands_once_on_the_genuine_pds_under_the_key_planned_at_accept() {
    let pds = Pds::start(false).await;
    let app = TestApp::spawn_with(|s| {
        s.platforms.bluesky.service_url = Some(pds.url.parse().unwrap());
    })
    .await;
    let (token, connection) = connected(&app, &pds, "alice.test").await;

    // The session's access token is about to expire: it is refreshed at the
    // PDS (refreshSession, which rotates the refresh token) before the post,
    // never replaced by a new login.
    let sealed = || async {
        sqlx::query_scalar::<_, Value>("SELECT refresh_token FROM platform_connections")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = sealed().await;
    sqlx::query("UPDATE platform_connections SET expires_at = now() + interval '5 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();

    let text = "Hello 👋🏽 from Prasaran — नमस्ते";
    let id = accepted(
        &app,
        &token,
        json!({"content": text, "connection_ids": [connection]}),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_ne!(
        sealed().await,
        before,
        "the rotated refresh token is stored"
    );

    let records = pds.list_records("alice.test").await;
    assert_eq!(records.len(), 1, "one post: {records:?}");
    assert_eq!(records[0].value.text, text);
    let key: String = sqlx::query_scalar("SELECT platform_key FROM publish_tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        records[0].rkey(),
        key,
        "written under the TID planned at accept"
    );
    assert_eq!(
        view["tasks"][0]["external_post_id"],
        records[0].uri.as_str()
    );

    // Over 300 graphemes (each 👍🏽 is one, though four UTF-16 units): refused
    // at accept, naming Bluesky.
    let long = "👍🏽".repeat(301);
    let response = publish(
        &app,
        &token,
        json!({"content": long, "connection_ids": [connection]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_rejected");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Bluesky") && message.contains("300"),
        "{message}"
    );
    let exactly = "👍🏽".repeat(300);
    let response = publish(
        &app,
        &token,
        json!({"content": exactly, "connection_ids": [connection]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "300 graphemes fit");
}

#[actix_web::test]
async fn a_wrong_app_password_is_refused_and_nothing_is_stored() {
    let pds = Pds::start(false).await;
    let app = TestApp::spawn_with(|s| {
        s.platforms.bluesky.service_url = Some(pds.url.parse().unwrap());
    })
    .await;
    pds.create_account("bob.test", "account-password-123").await;
    let csrf = app.signed_up("bob@example.com").await;
    let response = app
        .client
        .post(app.url("/api/v1/connections/bluesky/sign-in"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"identifier": "bob.test", "password": "aaaa-bbbb-cccc-dddd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "oauth_exchange_failed");
    assert_eq!(app.count_rows("platform_connections").await, 0);
}
