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
    app.signup("replay@example.com", PASSWORD).await;
    let response = app.login("replay@example.com", PASSWORD).await;
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
    app.signup("many@example.com", PASSWORD).await;
    let body: Value = app
        .login("many@example.com", PASSWORD)
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

/// Logs `browser` in as `email`; the session's CSRF token.
async fn logged_in(browser: &crate::helpers::Browser, email: &str, password: &str) -> String {
    let response = browser.login(email, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["csrf_token"].as_str().unwrap().to_owned()
}

async fn session_list(browser: &crate::helpers::Browser) -> Vec<Value> {
    let response = browser.get("/api/v1/sessions").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["sessions"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_user_sees_their_sessions_and_ends_another_one() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("two@example.com").await;
    let laptop = app.new_browser();
    let login = laptop
        .client
        .post(laptop.url("/api/v1/auth/login"))
        .header("User-Agent", "Mozilla/5.0 (laptop) Firefox/150.0")
        .json(&serde_json::json!({"email": "two@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let stranger = app.new_browser();
    stranger.signed_up("stranger@example.com").await;

    let sessions = session_list(&app).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let mine: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(mine.len(), 1, "exactly one is the caller's");
    for session in &sessions {
        assert_eq!(session["ip"], "127.0.0.1");
        assert!(session["last_seen_at"].as_str().is_some());
    }
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["user_agent"], "Mozilla/5.0 (laptop) Firefox/150.0");
    let other_id = other["id"].as_str().unwrap();

    // Another user cannot end it, nor can a request without the CSRF token.
    let strangers = session_list(&stranger).await;
    assert_eq!(strangers.len(), 1, "only their own");
    let foreign = stranger
        .client
        .delete(stranger.url(&format!("/api/v1/sessions/{other_id}")))
        .header("X-CSRF-Token", "whatever")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let ended = app
        .client
        .delete(app.url(&format!("/api/v1/sessions/{other_id}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(laptop.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me().await.status(), StatusCode::OK);
    let again = app
        .client
        .delete(app.url(&format!("/api/v1/sessions/{other_id}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(again).await, "not_found");
}

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("change@example.com").await;
    let phone = app.new_browser();
    logged_in(&phone, "change@example.com", PASSWORD).await;
    let change = |current: &str, new: &str| {
        app.client
            .post(app.url("/api/v1/auth/password"))
            .header("X-CSRF-Token", &csrf)
            .json(&serde_json::json!({"current_password": current, "new_password": new}))
            .send()
    };

    let wrong = change("not my password at all", "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(wrong).await, "wrong_password");
    let short = change(PASSWORD, "short").await.unwrap();
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(short).await, "invalid_password");
    assert_eq!(
        phone.me().await.status(),
        StatusCode::OK,
        "nothing changed yet"
    );

    let changed = change(PASSWORD, "a brand new passphrase").await.unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        phone.me().await.status(),
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    let me = app.me().await;
    assert_eq!(me.status(), StatusCode::OK, "this one continues");
    let fresh = app.new_browser();
    assert_eq!(
        fresh.login("change@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    logged_in(&fresh, "change@example.com", "a brand new passphrase").await;
}

#[actix_web::test]
async fn logging_out_everywhere_ends_every_session() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("everywhere@example.com").await;
    let tablet = app.new_browser();
    logged_in(&tablet, "everywhere@example.com", PASSWORD).await;
    let out = app
        .client
        .post(app.url("/api/v1/auth/logout-everywhere"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(tablet.me().await.status(), StatusCode::UNAUTHORIZED);
}
