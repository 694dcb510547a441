//! Quotas per account: visible at /me, and 429 `quota_exceeded` naming the
//! quota (with Retry-After where waiting helps) once one is used up.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::stage::{publish, publisher};

async fn quota_app() -> TestApp {
    TestApp::spawn_with(|s| {
        s.quotas.publishes_per_hour = 3;
        s.quotas.publishes_per_day = 100;
        s.quotas.pending_scheduled = 1;
        s.quotas.connections = 1;
        s.quotas.api_tokens = 2;
        s.quotas.authorizations_per_hour = 3;
        s.quotas.media_bytes = 1_000;
    })
    .await
}

async fn refusal(response: reqwest::Response) -> (Option<u64>, String) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    (
        retry_after,
        body["error"]["message"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn publishing_past_the_hourly_quota_waits_for_the_oldest_post_to_age_out() {
    let app = quota_app().await;
    let p = publisher(&app, "busy@example.com", &["busy"]).await;
    for n in 0..3 {
        let response = publish(&app, &p.token, json!({"content": format!("post {n}")})).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let (retry_after, message) =
        refusal(publish(&app, &p.token, json!({"content": "one too many"})).await).await;
    let retry_after = retry_after.expect("waiting helps");
    assert!((3000..=3600).contains(&retry_after), "{retry_after}");
    assert!(message.contains("publishes_per_hour"), "{message}");
    assert_eq!(
        app.count_rows("posts").await,
        3,
        "nothing stored for the refused one"
    );

    let me: Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me["quotas"]["publishes_per_hour"],
        json!({"used": 3, "limit": 3})
    );
    assert_eq!(me["quotas"]["connections"], json!({"used": 1, "limit": 1}));
    assert_eq!(me["quotas"]["api_tokens"]["used"], 1);
}

#[actix_web::test]
async fn scheduled_posts_connections_tokens_and_media_each_have_a_quota() {
    let app = quota_app().await;
    let p = publisher(&app, "many@example.com", &["many"]).await;
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let first = publish(
        &app,
        &p.token,
        json!({"content": "later", "scheduled_at": later}),
    )
    .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let (retry_after, message) = refusal(
        publish(
            &app,
            &p.token,
            json!({"content": "later too", "scheduled_at": later}),
        )
        .await,
    )
    .await;
    assert_eq!(retry_after, None, "waiting does not help");
    assert!(message.contains("pending_scheduled"), "{message}");

    // One connection is the quota: a second is refused before the platform is asked.
    let second = app
        .client
        .post(app.url("/api/v1/connections/manch/authorize"))
        .header("X-CSRF-Token", &p.browser_csrf)
        .send()
        .await
        .unwrap();
    let (_, message) = refusal(second).await;
    assert!(message.contains("`connections`"), "{message}");
    assert!(message.contains("disconnect"), "{message}");

    // The publisher made one token; two are allowed.
    app.api_token(&p.browser_csrf).await;
    let third = app
        .client
        .post(app.url("/api/v1/tokens"))
        .header("X-CSRF-Token", &p.browser_csrf)
        .json(&json!({"name": "third"}))
        .send()
        .await
        .unwrap();
    let (_, message) = refusal(third).await;
    assert!(message.contains("api_tokens"), "{message}");

    let big = app
        .client
        .post(app.url("/api/v1/media"))
        .bearer_auth(&p.token)
        .body(vec![0u8; 2_000])
        .send()
        .await
        .unwrap();
    let (_, message) = refusal(big).await;
    assert!(message.contains("media_bytes"), "{message}");
    assert_eq!(app.count_rows("media").await, 0);
}

#[actix_web::test]
async fn starting_to_connect_too_often_is_refused_with_a_time_to_wait() {
    let app = TestApp::spawn_with(|s| s.quotas.authorizations_per_hour = 2).await;
    let csrf = app.signed_up("restless@example.com").await;
    for _ in 0..2 {
        app.authorize("manch", &csrf).await;
    }
    let third = app
        .client
        .post(app.url("/api/v1/connections/manch/authorize"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    let (retry_after, message) = refusal(third).await;
    assert!(retry_after.unwrap() > 3000, "{retry_after:?}");
    assert!(message.contains("authorizations_per_hour"), "{message}");
    let me: Value = app.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me["quotas"]["authorizations_per_hour"],
        json!({"used": 2, "limit": 2})
    );
}
