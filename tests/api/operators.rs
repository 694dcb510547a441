//! What operators watch stays off the public listener: `/metrics` and
//! `/health/actors` answer on `server.ops_bind`, or with the operator token.

use reqwest::StatusCode;
use secrecy::SecretString;

use crate::helpers::{TestApp, error_code};

const OPS_TOKEN: &str = "an-operator-token-of-forty-characters-xx";

#[actix_web::test]
async fn metrics_and_actors_are_served_on_the_operator_listener_only() {
    let app = TestApp::spawn().await;
    for path in ["/metrics", "/health/actors"] {
        let public = app.get(path).await;
        assert_eq!(public.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(public).await, "not_found");
        let guessed = app
            .client
            .get(app.url(path))
            .bearer_auth(OPS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(
            guessed.status(),
            StatusCode::NOT_FOUND,
            "no token is configured"
        );
        assert_eq!(app.ops_get(path).await.status(), StatusCode::OK, "{path}");
    }
    let metrics = app.ops_get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("prasaran_actors"), "{metrics}");
    // Load balancers still probe the public listener.
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);
    assert_eq!(app.ops_get("/health/ready").await.status(), StatusCode::OK);
    // And the operator listener serves nothing else.
    assert_eq!(
        app.ops_get("/api/v1/me").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn the_operator_token_opens_them_on_the_public_listener() {
    let app =
        TestApp::spawn_with(|s| s.server.ops_token = Some(SecretString::from(OPS_TOKEN))).await;
    let with = |token: &str| {
        app.client
            .get(app.url("/health/actors"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(with(OPS_TOKEN).await.unwrap().status(), StatusCode::OK);
    let wrong = with("an-operator-token-of-forty-characters-xy")
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_short_operator_token_is_refused_at_start() {
    let mut settings = crate::helpers::test_settings();
    settings.server.ops_token = Some(SecretString::from("short"));
    let error = prasaran::settings::check_mode_requirements(&settings).expect_err("refused");
    assert!(error.to_string().contains("server.ops_token"), "{error}");
}
