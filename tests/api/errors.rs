//! Bad input of every kind gets a 4xx JSON error with a code, never a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_code};

async fn raw_post(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn text_plain_body_is_415() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "a@example.com", "password": PASSWORD}).to_string();
    let response = raw_post(&app, "/api/v1/auth/signup", "text/plain", body.into_bytes()).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(response).await, "unsupported_media_type");
}

#[actix_web::test]
async fn one_mebibyte_body_is_413() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(1024 * 1024);
    let body = json!({"email": "a@example.com", "password": padding}).to_string();
    let response = raw_post(
        &app,
        "/api/v1/auth/signup",
        "application/json",
        body.into_bytes(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let response = raw_post(
        &app,
        "/api/v1/auth/login",
        "application/json",
        b"{\"email\": ".to_vec(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "malformed_json");
}

#[actix_web::test]
async fn missing_fields_and_wrong_types_are_422() {
    let app = TestApp::spawn().await;
    for body in [
        json!({"email": "a@example.com"}),
        json!({"email": 5, "password": PASSWORD}),
        json!([1, 2]),
    ] {
        let response = app.post_json("/api/v1/auth/signup", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(error_code(response).await, "invalid_body");
    }
}

#[actix_web::test]
async fn unknown_route_and_wrong_method_are_json_errors() {
    let app = TestApp::spawn().await;
    let missing = app.get("/api/v1/nothing-here").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(missing).await, "not_found");

    let wrong_method = app.get("/api/v1/auth/login").await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers()["allow"], "POST");
    assert_eq!(error_code(wrong_method).await, "method_not_allowed");
    let put = app
        .client
        .put(app.url("/api/v1/tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.headers()["allow"], "POST, GET", "every method it takes");
}

#[actix_web::test]
async fn error_body_shape_is_pinned() {
    let app = TestApp::spawn().await;
    let response = app.login("nobody@example.com", PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": "invalid_credentials", "message": "invalid email or password"}})
    );
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/api/v1/me", "/no/such/page"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
        assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
        assert!(headers.contains_key("x-request-id"));
        // Dev settings serve plain HTTP, so no HSTS.
        assert!(!headers.contains_key("strict-transport-security"));
    }
}

#[actix_web::test]
async fn secure_cookie_and_hsts_when_configured_for_https() {
    let app = TestApp::spawn_with(|s| s.session.cookie_secure = true).await;
    app.signup("secure@example.com", PASSWORD).await;
    let response = app.login("secure@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(response.headers().contains_key("strict-transport-security"));
}

#[actix_web::test]
async fn health_endpoints_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);

    // A database that lost a migration is not ready, and says what to do.
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prasaran migrate")
    );
}

#[actix_web::test]
async fn a_nul_or_control_character_in_a_token_name_is_422_not_500() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("nul@example.com").await;
    for name in ["nul \u{0} inside", "bell \u{7}"] {
        let response = app
            .client
            .post(app.url("/api/v1/tokens"))
            .header("X-CSRF-Token", &csrf)
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        assert_eq!(error_code(response).await, "invalid_body");
    }
    let list: serde_json::Value = app.get("/api/v1/tokens").await.json().await.unwrap();
    assert_eq!(
        list["tokens"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}

#[actix_web::test]
async fn unknown_fields_are_refused_by_name_and_nothing_is_stored() {
    let stage = crate::stage::Stage::new();
    let app = stage.app().await;
    let p = crate::stage::publisher(&app, "fields@example.com", &["fields"]).await;
    // `draft` is not a field: publishing at once would be the wrong guess.
    for body in [
        json!({"content": "not yet", "draft": true}),
        json!({"content": "not yet", "scheduledAt": "2030-01-01T00:00:00Z"}),
    ] {
        let response = crate::stage::publish(&app, &p.token, body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "invalid_body");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("unknown field"), "{message}");
    }
    assert_eq!(app.count_rows("posts").await, 0);

    let signup = app
        .post_json(
            "/api/v1/auth/signup",
            &json!({"email": "new@example.com", "password": PASSWORD, "role": "admin"}),
        )
        .await;
    assert_eq!(signup.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(signup).await, "invalid_body");
    assert_eq!(
        app.count_rows("users WHERE email = 'new@example.com'")
            .await,
        0
    );

    // The document says so too.
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    // Two schemas of one name would overwrite each other in the document.
    let schemas = &document["components"]["schemas"];
    assert!(schemas["SessionView"]["properties"]["csrf_token"].is_object());
    assert!(schemas["OpenSession"]["properties"]["user_agent"].is_object());
    for schema in ["PublishRequest", "Credentials", "NewToken"] {
        assert_eq!(
            document["components"]["schemas"][schema]["additionalProperties"], false,
            "{schema}"
        );
    }
}

#[actix_web::test]
async fn while_the_database_is_gone_every_request_is_a_503_with_a_code_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("outage@example.com").await;
    let token = app.api_token(&csrf).await;

    app.set_database_reachable(false).await;
    // A cookie request (the session store fails first), a bearer request, a write.
    let cookie = app.me().await;
    let bearer = crate::helpers::http()
        .get(app.url("/api/v1/posts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let write = crate::helpers::http()
        .post(app.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!({"content": "during the outage"}))
        .send()
        .await
        .unwrap();
    let login = app.login("outage@example.com", PASSWORD).await;
    for response in [cookie, bearer, write, login] {
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            response.url()
        );
        assert_eq!(response.headers()["retry-after"], "5");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    }
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    app.set_database_reachable(true).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while app.me().await.status() != StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the app came back by itself"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(app.count_rows("users").await, 1, "nothing lost");
}

#[actix_web::test]
async fn an_address_whose_id_is_not_a_uuid_says_so_in_words() {
    let app = TestApp::spawn().await;
    app.signed_up("paths@example.com").await;
    for (path, what) in [
        ("/api/v1/jobs/not-a-uuid", "no such job"),
        ("/api/v1/media/42/content", "no such media"),
        ("/api/v1/jobs/x/events", "no such job"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(what), "{path}: {message}");
        assert!(message.contains("UUID"), "{path}: {message}");
        assert!(!message.contains("deserialize"), "{path}: {message}");
    }
}

/// Serde would read a JSON array as a struct's fields in order; every body
/// the API documents as an object refuses one.
#[actix_web::test]
async fn a_body_that_is_an_array_is_refused_where_an_object_is_documented() {
    let app = TestApp::spawn().await;
    app.signed_up("arrays@example.com").await;
    for (path, body) in [
        (
            "/api/v1/auth/login",
            json!(["arrays@example.com", PASSWORD]),
        ),
        (
            "/api/v1/auth/signup",
            json!(["other@example.com", PASSWORD]),
        ),
        (
            "/api/v1/auth/forgot-password",
            json!(["arrays@example.com"]),
        ),
    ] {
        let response = app.post_json(path, &body).await;
        assert!(
            response.status().is_client_error(),
            "{path} took {body}: {}",
            response.status()
        );
        assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
}
