//! The engine's promises under races forced by a scripted platform
//! (`scripted.rs`): one refresh for many simultaneous 401s, in one process and
//! across two; a refresh before expiry; a refresh answer without a refresh
//! token keeps the old one; an answer lost after sending is checked, not
//! resent; an outcome that comes back after the lease moved on is not written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::scripted::{Platform, Script};
use crate::stage::{Publisher, Stage, accepted, job, publisher, wait_all, wait_job};

const LIMIT: Duration = Duration::from_secs(30);

/// An app whose Manch publishing goes to `platform`; connecting still goes
/// through the sandbox.
async fn app_on(stage: &Stage, platform: &Arc<Platform>) -> TestApp {
    TestApp::spawn_adapted(
        |s| {
            stage.configure(s);
            s.engine.worker_concurrency = 32.try_into().unwrap();
        },
        platform.adapt(),
    )
    .await
}

async fn publish_n(app: &TestApp, p: &Publisher, n: usize, label: &str) -> Vec<String> {
    join_all((0..n).map(|i| accepted(app, &p.token, json!({"content": format!("{label} {i}")}))))
        .await
}

fn all_succeeded(views: &[Value]) {
    for view in views {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
}

/// Makes the stored access token of `connection` expire within the refresh margin.
async fn expire_soon(app: &TestApp, connection: &str) {
    let changed = sqlx::query(
        "UPDATE platform_connections SET expires_at = now() + interval '5 seconds' WHERE id = $1::uuid",
    )
    .bind(connection)
    .execute(&app.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(changed, 1);
}

async fn stored_tokens(app: &TestApp, connection: &str) -> (Value, Value) {
    sqlx::query_as(
        "SELECT access_token, refresh_token FROM platform_connections WHERE id = $1::uuid",
    )
    .bind(connection)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[actix_web::test]
async fn twenty_simultaneous_401s_make_one_refresh() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        refuse_unrefreshed: true,
        gather: 20,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "racing@example.com", &["racing"]).await;

    let ids = publish_n(&app, &p, 20, "racing").await;
    all_succeeded(&wait_all(&app, &p.token, &ids, LIMIT).await);

    let record = platform.record();
    assert!(
        record.peak_open >= 20,
        "the twenty calls were open at once: {record:?}"
    );
    assert_eq!(record.unauthorized, 20, "{record:?}");
    assert_eq!(
        record.refreshes.len(),
        1,
        "one refresh for twenty 401s: {record:?}"
    );
    assert_eq!(record.posts.len(), 20);
    assert!(record.sent_twice.is_empty(), "{record:?}");
}

#[actix_web::test]
async fn two_instances_meeting_401s_at_once_refresh_once() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        refuse_unrefreshed: true,
        gather: 2,
        ..Script::default()
    });
    let first = app_on(&stage, &platform).await;
    let second = first.spawn_beside(|_| {}).await;
    let p = publisher(&first, "two@example.com", &["two"]).await;

    // Each instance runs what it accepted: one call each, both refused together.
    let (a, b) = tokio::join!(
        accepted(&first, &p.token, json!({"content": "from the first"})),
        accepted(&second, &p.token, json!({"content": "from the second"})),
    );
    all_succeeded(&[
        wait_job(&first, &p.token, &a, LIMIT).await,
        wait_job(&second, &p.token, &b, LIMIT).await,
    ]);

    let record = platform.record();
    assert_eq!(record.peak_open, 2, "{record:?}");
    assert_eq!(record.unauthorized, 2, "{record:?}");
    assert_eq!(
        record.refreshes.len(),
        1,
        "the row lock lets one process refresh: {record:?}"
    );
}

#[actix_web::test]
async fn a_token_about_to_expire_is_refreshed_before_it_is_used() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        refuse_unrefreshed: true,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "early@example.com", &["early"]).await;
    expire_soon(&app, &p.connections[0]).await;

    let id = accepted(&app, &p.token, json!({"content": "fresh token please"})).await;
    all_succeeded(&[wait_job(&app, &p.token, &id, LIMIT).await]);

    let record = platform.record();
    assert_eq!(record.refreshes.len(), 1, "{record:?}");
    assert_eq!(
        record.unauthorized, 0,
        "the expiring token was never sent: {record:?}"
    );
}

#[actix_web::test]
async fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        omit_refresh_token: true,
        // Inside the refresh margin at once: the next use refreshes again.
        refreshed_ttl: chrono::Duration::seconds(1),
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "keep@example.com", &["keep"]).await;
    let connection = &p.connections[0];
    expire_soon(&app, connection).await;
    let (access_before, refresh_before) = stored_tokens(&app, connection).await;

    for n in 0..2 {
        let id = accepted(&app, &p.token, json!({"content": format!("keep {n}")})).await;
        all_succeeded(&[wait_job(&app, &p.token, &id, LIMIT).await]);
    }

    let (access_after, refresh_after) = stored_tokens(&app, connection).await;
    assert_ne!(
        access_after, access_before,
        "the new access token is stored"
    );
    assert_eq!(
        refresh_after, refresh_before,
        "the stored refresh token is untouched"
    );
    let record = platform.record();
    assert_eq!(record.refreshes.len(), 2, "{record:?}");
    assert_eq!(
        record.refreshes[0], record.refreshes[1],
        "the second refresh used the kept token"
    );
    assert!(!record.refreshes[0].is_empty());
}

#[actix_web::test]
async fn an_answer_lost_after_sending_is_looked_up_not_sent_again() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        lose_answers: 1,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "lost@example.com", &["lost"]).await;

    let id = accepted(&app, &p.token, json!({"content": "did it land?"})).await;
    let view = wait_job(&app, &p.token, &id, LIMIT).await;
    all_succeeded(std::slice::from_ref(&view));

    let record = platform.record();
    let task_id = view["tasks"][0]["id"].as_str().unwrap();
    assert_eq!(record.publishes, [task_id], "sent once: {record:?}");
    assert_eq!(
        record.lookups,
        [task_id],
        "checked with the platform: {record:?}"
    );
    assert!(record.sent_twice.is_empty(), "{record:?}");
    assert_eq!(
        view["tasks"][0]["external_post_id"],
        record.posts[task_id].id.as_str()
    );
}

#[actix_web::test]
async fn an_outcome_after_the_lease_moved_on_is_not_written_over_the_new_owner() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        hold: true,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "lease@example.com", &["lease"]).await;

    let id = accepted(&app, &p.token, json!({"content": "slow call"})).await;
    platform
        .wait_until("the call is open", LIMIT, |r| r.held == 1)
        .await;
    // Meanwhile the lease ran out and another process claimed the task.
    let moved: Vec<uuid::Uuid> = sqlx::query_scalar(
        "UPDATE publish_tasks SET claimed_by = 'another-process',
                lease_expires_at = now() + interval '1 hour'
         WHERE status = 'running' RETURNING id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(moved.len(), 1);
    platform.release(1);
    platform
        .wait_until("the call returned", LIMIT, |r| r.finished == 1)
        .await;
    wait_worker_idle_since(&app, chrono::Utc::now()).await;

    let (status, owner): (String, Option<String>) =
        sqlx::query_as("SELECT status, claimed_by FROM publish_tasks WHERE id = $1")
            .bind(moved[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(status, "running", "the new owner's claim stands");
    assert_eq!(owner.as_deref(), Some("another-process"));
    let view = job(&app, &p.token, &id).await;
    assert_eq!(view["tasks"][0]["status"], "running", "{view}");
}

/// Until a heartbeat after `since` reports the worker with no call in flight:
/// the call's outcome, if any, has been written (a call frees its slot only then).
async fn wait_worker_idle_since(app: &TestApp, since: chrono::DateTime<chrono::Utc>) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let actors: Value = app.ops_get("/health/actors").await.json().await.unwrap();
        let idle = actors["actors"].as_array().unwrap().iter().any(|a| {
            a["kind"] == "platform_worker"
                && a["state"] != "running"
                && a["last_heartbeat"]
                    .as_str()
                    .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                    .is_some_and(|t| t > since)
        });
        if idle {
            return;
        }
        assert!(Instant::now() < deadline, "worker still busy: {actors}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_key_and_record_planned_at_accept_are_what_every_attempt_sends() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        plan_keys: true,
        lose_answers: 1,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "planned@example.com", &["planned"]).await;

    let id = accepted(&app, &p.token, json!({"content": "planned once"})).await;
    all_succeeded(&[wait_job(&app, &p.token, &id, LIMIT).await]);

    let stored: (Option<String>, Option<Value>) =
        sqlx::query_as("SELECT platform_key, platform_record FROM publish_tasks")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let record = platform.record();
    assert_eq!(record.planned, ["planned-1"]);
    assert_eq!(
        stored.0.as_deref(),
        Some("planned-1"),
        "stored with the task"
    );
    // The first attempt's answer was lost: the check used the planned key,
    // found the post, and nothing was sent again.
    assert_eq!(record.publishes, ["planned-1"], "{record:?}");
    assert_eq!(record.lookups, ["planned-1"], "{record:?}");
    assert_eq!(
        record.records,
        [Some(
            json!({"text": "planned once", "createdAt": "2026-12-01T00:00:00Z"})
        )]
    );
    assert_eq!(stored.1, record.records[0]);
}

#[actix_web::test]
async fn a_credentials_platform_connects_with_a_password_used_once_and_never_stored() {
    const PASSWORD: &str = "app-pass-word-1234";
    let stage = Stage::new();
    let platform = Platform::new(Script {
        credentials: Some(PASSWORD.into()),
        refuse_unrefreshed: true,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let csrf = app.signed_up("creds@example.com").await;
    let platforms: Value = app.get("/api/v1/platforms").await.json().await.unwrap();
    assert_eq!(platforms["platforms"][0]["connect"], "credentials");

    let sign_in = |password: &'static str| {
        app.client
            .post(app.url("/api/v1/connections/manch/sign-in"))
            .header("X-CSRF-Token", &csrf)
            .json(&json!({"identifier": "ada.test", "password": password}))
            .send()
    };
    let refused = sign_in("wrong").await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        crate::helpers::error_code(refused).await,
        "oauth_exchange_failed"
    );
    let connected = sign_in(PASSWORD).await.unwrap();
    assert_eq!(connected.status(), reqwest::StatusCode::CREATED);
    let connection: Value = connected.json().await.unwrap();
    assert_eq!(connection["handle"], "ada.test");
    assert_eq!(connection["status"], "active");

    // The password is nowhere in the database; the tokens are sealed.
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(row_to_json(c)::text, '') FROM platform_connections c",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!dump.contains(PASSWORD));
    assert!(
        !dump.contains("scripted-access-signin"),
        "tokens are sealed"
    );

    // And publishing works with the tokens it yielded.
    let token = app.api_token(&csrf).await;
    let id = accepted(&app, &token, json!({"content": "signed in"})).await;
    all_succeeded(&[wait_job(&app, &token, &id, LIMIT).await]);
    let record = platform.record();
    assert_eq!(record.sign_ins, ["ada.test", "ada.test"]);
    assert_eq!(
        record.unauthorized, 0,
        "the signed-in token was used: {record:?}"
    );
}

#[actix_web::test]
async fn a_redirect_platform_refuses_credentials_saying_how_to_connect() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("redirect@example.com").await;
    let response = app
        .client
        .post(app.url("/api/v1/connections/manch/sign-in"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"identifier": "ada", "password": "whatever-it-is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "connect_with_redirect");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/authorize")
    );
}

/// Disconnecting while a refresh is in flight waits for it and revokes the
/// refresh token it brought; revoking the one read before would leave the
/// new grant alive at the platform.
#[actix_web::test]
async fn a_disconnect_during_a_refresh_revokes_the_grant_the_refresh_made() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        refuse_unrefreshed: true,
        refresh_delay: Duration::from_millis(1500),
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "leaving@example.com", &["leaving"]).await;
    // The publish meets a 401 and starts the (slow) refresh.
    let id = accepted(&app, &p.token, json!({"content": "refreshing"})).await;
    let deadline = Instant::now() + LIMIT;
    while platform.record().unauthorized == 0 {
        assert!(Instant::now() < deadline, "no 401 was met");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(platform.record().refreshes.len() <= 1);
    let disconnected = app.disconnect(&p.browser_csrf, &p.connections[0]).await;
    assert_eq!(disconnected.status(), reqwest::StatusCode::OK);
    let body: Value = disconnected.json().await.unwrap();
    assert_eq!(body["status"], "revoked");
    assert_eq!(body["platform_revocation"], "revoked");
    {
        let record = platform.record();
        assert_eq!(record.refreshes.len(), 1, "{record:?}");
        assert_eq!(
            record.revoked,
            vec!["scripted-refresh-1".to_owned()],
            "the refresh token the refresh brought is the one revoked: {record:?}"
        );
    }
    let view = wait_job(&app, &p.token, &id, LIMIT).await;
    assert_ne!(view["status"], "pending", "{view}");
}

/// A platform that cannot be reached is asked three times; the tokens are
/// wiped anyway and the answer says what the user should do.
#[actix_web::test]
async fn a_failed_revocation_is_retried_and_said() {
    let stage = Stage::new();
    let platform = Platform::new(Script {
        refuse_revocations: true,
        ..Script::default()
    });
    let app = app_on(&stage, &platform).await;
    let p = publisher(&app, "unreachable@example.com", &["unreachable"]).await;
    let disconnected = app.disconnect(&p.browser_csrf, &p.connections[0]).await;
    assert_eq!(disconnected.status(), reqwest::StatusCode::OK);
    let body: Value = disconnected.json().await.unwrap();
    assert_eq!(body["status"], "revoked");
    assert_eq!(body["platform_revocation"], "failed");
    assert!(
        body["message"].as_str().unwrap().contains("settings"),
        "{body}"
    );
    assert_eq!(platform.record().revoked.len(), 3, "asked three times");
    let tokens: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT refresh_token FROM platform_connections WHERE id = $1::uuid")
            .bind(&p.connections[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(tokens.is_none(), "tokens wiped anyway");
}
