//! Server-side sessions: CSRF, revocation, restart, expiry.

use prasaran::domain::UserId;
use prasaran::persistence::sessions;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, error_code};

/// `name=value` of the session cookie in a response.
fn session_cookie(response: &reqwest::Response) -> String {
    let header = response.headers()["set-cookie"].to_str().unwrap();
    header.split(';').next().unwrap().to_owned()
}

#[actix_web::test]
async fn state_change_without_csrf_header_is_forbidden() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("csrf@example.com").await;

    let missing = app.logout(None).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(missing).await, "csrf_failed");
    let wrong = app.logout(Some("not-the-token")).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // The session survived both refusals.
    assert_eq!(app.me().await.status(), StatusCode::OK);

    assert_eq!(
        app.logout(Some(&csrf)).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn logout_without_a_session_is_401() {
    let app = TestApp::spawn().await;
    let response = app.logout(Some("anything")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, "unauthenticated");
}

#[actix_web::test]
async fn replaying_a_logged_out_cookie_is_refused() {
    let app = TestApp::spawn().await;
    let response = app.signup("replay@example.com", PASSWORD).await;
    let cookie = session_cookie(&response);
    let body: Value = response.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap();

    let attacker = crate::helpers::http();
    let before = attacker
        .get(app.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), StatusCode::OK);

    assert_eq!(
        app.logout(Some(csrf)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.count_rows("sessions").await,
        0,
        "logout deletes the server-side session"
    );

    let after = attacker
        .get(app.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_session_survives_an_app_restart() {
    let mut app = TestApp::spawn().await;
    let csrf = app.signed_up("durable@example.com").await;
    app.restart().await;

    let me = app.me().await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["email"], "durable@example.com");
    assert_eq!(me["csrf_token"], csrf.as_str());
    app.stop().await;
}

#[actix_web::test]
async fn the_session_row_holds_a_key_hash_and_the_user() {
    let app = TestApp::spawn().await;
    app.signed_up("hashed@example.com").await;
    let (hash_len, user_id): (i32, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT octet_length(key_hash), user_id FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        hash_len, 32,
        "only the SHA-256 of the session key is stored"
    );
    assert!(
        user_id.is_some(),
        "user_id column is filled from the session state"
    );
}

#[actix_web::test]
async fn idle_and_absolute_expiry_are_enforced_by_the_server() {
    let app = TestApp::spawn().await;
    app.signed_up("expiry@example.com").await;
    assert_eq!(app.me().await.status(), StatusCode::OK);

    // Idle timeout passed: the cookie is still valid, the server says no.
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);

    let browser = app.new_browser();
    let login = browser.login("expiry@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    // Absolute lifetime passed: activity cannot extend past it.
    sqlx::query("UPDATE sessions SET absolute_expires_at = now() - interval '1 second' WHERE expires_at > now()")
        .execute(&app.pool)
        .await
        .unwrap();
    let me = browser.me().await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn activity_pushes_the_idle_expiry_but_not_past_the_absolute_one() {
    let app = TestApp::spawn().await;
    app.signed_up("active@example.com").await;
    sqlx::query("UPDATE sessions SET expires_at = now() + interval '1 minute', absolute_expires_at = now() + interval '5 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.me().await.status(), StatusCode::OK);
    let (idle, absolute): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT expires_at, absolute_expires_at FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        idle, absolute,
        "a 12 h idle extension is capped by the absolute expiry"
    );
}

#[actix_web::test]
async fn all_sessions_of_a_user_can_be_ended() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .signup("many@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let user: UserId = serde_json::from_value(body["user"]["id"].clone()).unwrap();
    let laptop = app.new_browser();
    let login = laptop.login("many@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(sessions::count_for_user(&app.pool, user).await.unwrap(), 2);

    assert_eq!(
        sessions::delete_all_for_user(&app.pool, user)
            .await
            .unwrap(),
        2
    );
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    let me = laptop.me().await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}
