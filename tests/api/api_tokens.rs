//! API tokens: scopes, expiry, who may mint them, and what a flood of made-up
//! tokens costs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_code};

async fn create(app: &TestApp, csrf: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/tokens"))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn token_of(response: reqwest::Response) -> (String, Value) {
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    (body["token"].as_str().unwrap().to_owned(), body)
}

async fn get_with(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_token_does_what_its_scopes_allow_and_nothing_else() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("scopes@example.com").await;

    let (reader, body) = token_of(
        create(
            &app,
            &csrf,
            json!({"name": "reader", "scopes": ["posts:read"]}),
        )
        .await,
    )
    .await;
    assert_eq!(body["scopes"], json!(["posts:read"]));
    assert_eq!(
        get_with(&app, &reader, "/api/v1/posts").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get_with(&app, &reader, "/api/v1/me").await.status(),
        StatusCode::OK
    );
    let publish = app
        .client
        .post(app.url("/api/v1/posts"))
        .bearer_auth(&reader)
        .json(&json!({"content": "not allowed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(publish.status(), StatusCode::FORBIDDEN);
    let body: Value = publish.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("posts:write")
    );
    assert_eq!(app.count_rows("posts").await, 0);
    let connections = get_with(&app, &reader, "/api/v1/connections").await;
    assert_eq!(error_code(connections).await, "insufficient_scope");

    // What changes the account itself needs a session, whatever the scopes.
    let (all, _) = token_of(create(
        &app,
        &csrf,
        json!({"name": "all", "scopes": ["posts:write", "posts:read", "connections", "tokens"]}),
    ).await).await;
    let sessions = get_with(&app, &all, "/api/v1/sessions").await;
    assert_eq!(sessions.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(sessions).await, "session_required");
    let change = app
        .client
        .post(app.url("/api/v1/auth/password"))
        .bearer_auth(&all)
        .json(&json!({"current_password": PASSWORD, "new_password": "a different long passphrase 42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(change).await, "session_required");
}

#[actix_web::test]
async fn only_a_token_with_the_tokens_scope_mints_tokens_and_never_wider_ones() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("mint@example.com").await;
    let (plain, body) = token_of(create(&app, &csrf, json!({"name": "default"})).await).await;
    assert_eq!(
        body["scopes"],
        json!(["posts:write", "posts:read", "connections"]),
        "the default leaves out `tokens`"
    );
    let minted = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&plain)
        .json(&json!({"name": "child"}))
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(minted).await, "insufficient_scope");

    let (minter, _) = token_of(
        create(
            &app,
            &csrf,
            json!({"name": "minter", "scopes": ["tokens", "posts:read"]}),
        )
        .await,
    )
    .await;
    let wider = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&minter)
        .json(&json!({"name": "wider", "scopes": ["posts:write"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(wider.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(wider).await, "insufficient_scope");
    let narrower = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&minter)
        .json(&json!({"name": "narrower", "scopes": ["posts:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(narrower.status(), StatusCode::CREATED);
    let list: Value = app.get("/api/v1/tokens").await.json().await.unwrap();
    assert_eq!(list["tokens"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn tokens_expire_when_they_say_and_never_only_when_asked() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("expiry@example.com").await;
    let (short, body) =
        token_of(create(&app, &csrf, json!({"name": "short", "expires_in_days": 1})).await).await;
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["expires_at"].clone()).unwrap();
    let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
    assert!((expires - in_a_day).num_seconds().abs() < 60, "{expires}");
    let (_, default) = token_of(create(&app, &csrf, json!({"name": "default"})).await).await;
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(default["expires_at"].clone()).unwrap();
    assert_eq!(
        (expires - chrono::Utc::now()).num_days(),
        89,
        "90 days by default"
    );
    let (_, forever) =
        token_of(create(&app, &csrf, json!({"name": "forever", "no_expiry": true})).await).await;
    assert!(forever["expires_at"].is_null());
    assert!(
        forever["warning"]
            .as_str()
            .unwrap()
            .contains("never expires")
    );
    for bad in [
        json!({"name": "x", "expires_in_days": 0}),
        json!({"name": "x", "expires_in_days": 366}),
        json!({"name": "x", "expires_in_days": 5, "no_expiry": true}),
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["admin"]}),
    ] {
        let response = create(&app, &csrf, bad.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(error_code(response).await, "invalid_body", "{bad}");
    }

    // Its time comes (moved here rather than waited for; before its first
    // use, so no process holds it in memory).
    sqlx::query(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let expired = get_with(&app, &short, "/api/v1/posts").await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let list: Value = app.get("/api/v1/tokens").await.json().await.unwrap();
    let listed = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "short")
        .unwrap();
    assert_eq!(listed["expired"], true, "the list says so");
}

#[actix_web::test]
async fn a_session_older_than_ten_minutes_gives_the_password_again_to_mint() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("sudo@example.com").await;
    // The login happened eleven minutes ago.
    let eleven_minutes_ago = (chrono::Utc::now() - chrono::Duration::minutes(11)).timestamp();
    sqlx::query(
        "UPDATE sessions SET state = jsonb_set(state, '{authenticated_at}', to_jsonb($1::text))",
    )
    .bind(eleven_minutes_ago.to_string())
    .execute(&app.pool)
    .await
    .unwrap();

    let without = create(&app, &csrf, json!({"name": "late"})).await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(without).await, "reauthentication_required");
    let wrong = create(
        &app,
        &csrf,
        json!({"name": "late", "password": "not my password at all"}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(wrong).await, "wrong_password");
    assert_eq!(app.count_rows("api_tokens").await, 0);
    let right = create(&app, &csrf, json!({"name": "late", "password": PASSWORD})).await;
    assert_eq!(right.status(), StatusCode::CREATED);
    // Giving it restarts the ten minutes.
    let next = create(&app, &csrf, json!({"name": "next"})).await;
    assert_eq!(next.status(), StatusCode::CREATED);
}

#[actix_web::test]
async fn an_unknown_token_is_remembered_so_a_flood_costs_no_query_each() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("flood@example.com").await;
    let made_up = "prs_made-up-token-that-nobody-was-given";
    let first = get_with(&app, made_up, "/api/v1/posts").await;
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    // Were it looked up again, the row slipped in behind the cache's back
    // would now let it in; remembered as unknown, it is refused from memory.
    app.api_token(&csrf).await;
    let hash = prasaran::http::tokens::token_hash(made_up);
    sqlx::query("UPDATE api_tokens SET token_hash = $1")
        .bind(hash)
        .execute(&app.pool)
        .await
        .unwrap();
    for _ in 0..50 {
        let again = get_with(&app, made_up, "/api/v1/posts").await;
        assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    }
}
