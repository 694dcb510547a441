//! Connecting Manch over real HTTP against the sandbox: the happy path, every
//! refused callback, reconnect, disconnect, and isolation between users.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, error_code};

async fn connection_rows(app: &TestApp) -> i64 {
    app.count_rows("platform_connections").await
}

#[actix_web::test]
async fn connect_flow_ends_with_an_active_connection() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("ada@example.com").await;

    let platforms: Value = app.get("/api/v1/platforms").await.json().await.unwrap();
    assert_eq!(platforms["platforms"][0]["id"], "manch");
    assert_eq!(platforms["platforms"][0]["state"], "not_connected");
    assert_eq!(platforms["platforms"][0]["rules"]["max_chars"], 500);

    let authorize_url = app.authorize("manch", &csrf).await;
    let params: std::collections::HashMap<String, String> =
        authorize_url.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert_eq!(params["client_id"], "prasaran-dev");

    let back = app.consent(&authorize_url, "ada_on_manch", "approve").await;
    let response = app.callback(&back).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(location, "/?connected=manch&handle=ada_on_manch");

    let list: Value = app.get("/api/v1/connections").await.json().await.unwrap();
    let connection = &list["connections"][0];
    assert_eq!(connection["platform"], "manch");
    assert_eq!(connection["handle"], "ada_on_manch");
    assert_eq!(connection["status"], "active");
    assert!(connection["expires_at"].is_string());
    let text = list.to_string();
    for token in app.sandbox().issued_tokens() {
        assert!(!text.contains(&token), "a token leaked into the API");
    }

    let platforms: Value = app.get("/api/v1/platforms").await.json().await.unwrap();
    assert_eq!(platforms["platforms"][0]["state"], "active");
}

/// Every refused callback: 400 with a clear code, no token call, nothing stored.
async fn assert_refused_without_side_effects(
    app: &TestApp,
    response: reqwest::Response,
    code: &str,
) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, code);
    assert_eq!(
        app.sandbox().token_requests(),
        0,
        "the token endpoint was called"
    );
    assert_eq!(connection_rows(app).await, 0, "a connection was stored");
}

#[actix_web::test]
async fn missing_and_unknown_states_are_refused_before_any_token_call() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("states@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "someone", "approve").await;
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    let missing = app
        .get(&format!("/api/v1/oauth/manch/callback?code={code}"))
        .await;
    assert_refused_without_side_effects(&app, missing, "oauth_state_invalid").await;

    let unknown = app
        .get(&format!(
            "/api/v1/oauth/manch/callback?code={code}&state=not-a-state-we-issued"
        ))
        .await;
    assert_refused_without_side_effects(&app, unknown, "oauth_state_invalid").await;
}

#[actix_web::test]
async fn an_expired_state_is_refused() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("late@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "slowpoke", "approve").await;
    sqlx::query("UPDATE oauth_states SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = app.callback(&back).await;
    assert_refused_without_side_effects(&app, response, "oauth_state_expired").await;
}

#[actix_web::test]
async fn a_state_for_another_platform_is_refused() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("elsewhere@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "wanderer", "approve").await;
    sqlx::query("INSERT INTO platforms (id, display_name) VALUES ('other', 'Other')")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE oauth_states SET platform_id = 'other'")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = app.callback(&back).await;
    assert_refused_without_side_effects(&app, response, "oauth_state_invalid").await;
}

#[actix_web::test]
async fn another_users_state_is_refused_and_stays_usable_for_its_owner() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("owner@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "owned", "approve").await;

    let intruder = app.new_browser();
    intruder.signed_up("intruder@example.com").await;
    let response = intruder.callback(&back).await;
    assert_refused_without_side_effects(&app, response, "oauth_state_invalid").await;

    let response = app.callback(&back).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(connection_rows(&app).await, 1);
}

#[actix_web::test]
async fn a_reused_callback_is_refused_without_a_second_token_call() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("twice@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "twice", "approve").await;
    assert_eq!(app.callback(&back).await.status(), StatusCode::FOUND);
    assert_eq!(app.sandbox().token_requests(), 1);

    let again = app.callback(&back).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(again).await, "oauth_state_invalid");
    assert_eq!(app.sandbox().token_requests(), 1);
    assert_eq!(connection_rows(&app).await, 1);
}

#[actix_web::test]
async fn a_browser_gets_a_readable_page_for_a_bad_callback() {
    let app = TestApp::spawn().await;
    app.signed_up("html@example.com").await;
    let response = app
        .client
        .get(app.url("/api/v1/oauth/manch/callback?code=x&state=y"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("start connecting again"), "{page}");
}

#[actix_web::test]
async fn access_denied_returns_to_the_app_with_a_reason() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("denier@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "nope", "deny").await;
    let response = app.callback(&back).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/?connect_error=access_denied&platform=manch&message="),
        "{location}"
    );
    assert_eq!(app.sandbox().token_requests(), 0);
    assert_eq!(connection_rows(&app).await, 0);
    let page = app.get(location).await.text().await.unwrap();
    assert!(page.contains("denied"), "{page}");
}

#[actix_web::test]
async fn a_pkce_verifier_mismatch_is_refused_by_manch_and_explained() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("pkce@example.com").await;
    let authorize_url = app.authorize("manch", &csrf).await;
    let back = app.consent(&authorize_url, "pkce", "approve").await;

    // Swap the stored verifier for another, sealed properly for the same row.
    let keyring = prasaran::startup::keys::keyring(&app.settings)
        .await
        .unwrap();
    let hash: Vec<u8> = sqlx::query_scalar("SELECT state_hash FROM oauth_states")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let aad = prasaran::crypto::Aad::new("oauth_states", hex::encode(&hash), "pkce_verifier");
    let wrong = prasaran::crypto::seal(
        &keyring,
        b"a-different-verifier-that-does-not-match-43",
        &aad,
    )
    .await
    .unwrap();
    sqlx::query("UPDATE oauth_states SET pkce_verifier = $1")
        .bind(sqlx::types::Json(wrong))
        .execute(&app.pool)
        .await
        .unwrap();

    let response = app.callback(&back).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "oauth_exchange_failed");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("PKCE"),
        "{body}"
    );
    assert_eq!(app.sandbox().token_requests(), 1);
    assert_eq!(connection_rows(&app).await, 0);
}

#[actix_web::test]
async fn reconnecting_the_same_account_keeps_one_row() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("again@example.com").await;
    let first = app.connect_manch(&csrf, "same").await;
    let second = app.connect_manch(&csrf, "same").await;
    assert_eq!(first["id"], second["id"]);
    assert_ne!(first["updated_at"], second["updated_at"]);
    assert_eq!(connection_rows(&app).await, 1);

    let other = app.connect_manch(&csrf, "second_account").await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(connection_rows(&app).await, 2);
}

#[actix_web::test]
async fn disconnect_revokes_at_manch_and_wipes_the_tokens() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("leaver@example.com").await;
    let connection = app.connect_manch(&csrf, "leaver").await;
    let id = connection["id"].as_str().unwrap();
    // Issued in pairs, access first: the connection's access token.
    let access_tokens: Vec<String> = app.sandbox().issued_tokens();
    let me = |token: String| {
        let url = app.sandbox().base_url.join("v1/me").unwrap();
        async move {
            crate::helpers::http()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(access_tokens[0].clone()).await, StatusCode::OK);

    let without_csrf = app
        .client
        .delete(app.url(&format!("/api/v1/connections/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(without_csrf.status(), StatusCode::FORBIDDEN);

    let response = app
        .client
        .delete(app.url(&format!("/api/v1/connections/{id}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "revoked");

    assert_eq!(
        me(access_tokens[0].clone()).await,
        StatusCode::UNAUTHORIZED,
        "the grant is revoked at Manch"
    );
    let (access, refresh, status): (Option<Value>, Option<Value>, String) =
        sqlx::query_as("SELECT access_token, refresh_token, status FROM platform_connections")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(access.is_none() && refresh.is_none());
    assert_eq!(status, "revoked");
    let platforms: Value = app.get("/api/v1/platforms").await.json().await.unwrap();
    assert_eq!(platforms["platforms"][0]["state"], "revoked");
}

#[actix_web::test]
async fn another_user_cannot_see_or_touch_a_connection() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("mine@example.com").await;
    let connection = app.connect_manch(&csrf, "mine").await;
    let id = connection["id"].as_str().unwrap();

    let other = app.new_browser();
    let other_csrf = other.signed_up("yours@example.com").await;
    let list: Value = other.get("/api/v1/connections").await.json().await.unwrap();
    assert_eq!(list["connections"].as_array().unwrap().len(), 0);
    let response = other
        .client
        .delete(other.url(&format!("/api/v1/connections/{id}")))
        .header("X-CSRF-Token", &other_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let status: String = sqlx::query_scalar("SELECT status FROM platform_connections")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "active");
}

#[actix_web::test]
async fn unknown_platform_is_404() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("typo@example.com").await;
    let response = app
        .client
        .post(app.url("/api/v1/connections/mnach/authorize"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "unknown_platform");
}
