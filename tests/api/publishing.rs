//! The publishing engine end to end, against the Manch sandbox over real HTTP.
//! Every test checks the sandbox's own record of what was posted.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::stage::{Stage, accepted, get_as, job, publish, publisher, wait_all, wait_job};

/// A `scheduled_at` far enough ahead that nothing runs during the test.
fn in_an_hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}

#[actix_web::test]
async fn one_post_to_three_connections_lands_once_on_each() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "three@example.com", &["one", "two", "three"]).await;

    let id = accepted(&app, &p.token, json!({"content": "hello, three accounts"})).await;
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let tasks = view["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    for task in tasks {
        assert_eq!(task["status"], "succeeded");
        assert_eq!(task["attempts"], 1);
        assert!(task["external_url"].as_str().unwrap().contains("/posts/"));
    }
    let posts = stage.posts().await;
    assert_eq!(posts["posts"].as_array().unwrap().len(), 3);
    stage.assert_each_task_sent_once().await;
    let keys: Vec<&str> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["idempotency_key"].as_str().unwrap())
        .collect();
    for task in tasks {
        assert!(
            keys.contains(&task["id"].as_str().unwrap()),
            "the task id is the idempotency key"
        );
    }
}

#[actix_web::test]
async fn a_429_storm_slows_down_and_completes() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "storm@example.com", &["stormy"]).await;
    stage
        .faults(json!({"rate_limit_per_s": 2, "retry_after_s": 2}))
        .await;

    let started = Instant::now();
    let ids = futures_util::future::join_all(
        (0..8).map(|n| accepted(&app, &p.token, json!({"content": format!("storm {n}")}))),
    )
    .await;
    let views = wait_all(&app, &p.token, &ids, Duration::from_secs(30)).await;
    let elapsed = started.elapsed();
    // The sandbox saw the waits kept: after a 429, calls came only once its
    // Retry-After had passed, apart from calls already on their way when it
    // was sent (at most the worker's concurrency, 8).
    let calls = stage.calls().await;
    assert!(calls["rate_limited"].as_u64().unwrap() > 0, "{calls}");
    assert!(
        calls["early_calls"].as_u64().unwrap() <= 8,
        "calls came before the Retry-After had passed: {calls}"
    );
    for view in &views {
        assert_eq!(view["status"], "succeeded", "{view}");
        assert!(
            view["tasks"][0]["attempts"].as_i64().unwrap() <= 2,
            "429s do not burn attempts: {view}"
        );
    }
    // 8 posts at 2/s, waiting 2 s per 429: the worker waited, not hammered.
    assert!(elapsed >= Duration::from_millis(2500), "{elapsed:?}");
    assert_eq!(stage.post_count().await, 8);
    stage.assert_each_task_sent_once().await;
}

#[actix_web::test]
async fn half_the_calls_failing_completes_through_retries_without_duplicates() {
    let stage = Stage::new();
    // With 10 attempts, 1 task in 1,000 would fail every try at a 50% error rate;
    // 30 attempts make that one in a billion.
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.max_attempts = 30.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "flaky@example.com", &["flaky_a", "flaky_b"]).await;
    stage.faults(json!({"error_rate": 0.5})).await;

    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(accepted(&app, &p.token, json!({"content": format!("flaky {n}")})).await);
    }
    let views = wait_all(&app, &p.token, &ids, Duration::from_secs(60)).await;
    let retried = views
        .iter()
        .flat_map(|v| v["tasks"].as_array().unwrap().clone())
        .filter(|t| t["attempts"].as_i64().unwrap() > 1)
        .count();
    for view in &views {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    assert!(
        retried > 0,
        "with a 50% error rate some tasks must have retried"
    );
    assert_eq!(stage.post_count().await, 40);
    stage.assert_each_task_sent_once().await;
}

#[actix_web::test]
async fn an_expired_token_is_refreshed_exactly_once_for_twenty_racing_tasks() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "expiry@example.com", &["expiring"]).await;
    let before = stage.token_requests();
    {
        // Every issued access token expires now, unbeknown to Prasaran.
        let mut state = stage.manch.sandbox.lock();
        for token in state.access.values_mut() {
            token.expires = Instant::now();
        }
    }
    // Every call takes a while, so the twenty sent together meet the 401 together.
    stage.faults(json!({"latency_ms": 200})).await;
    let ids = futures_util::future::join_all(
        (0..20).map(|n| accepted(&app, &p.token, json!({"content": format!("racing {n}")}))),
    )
    .await;
    let views = wait_all(&app, &p.token, &ids, Duration::from_secs(30)).await;
    for view in &views {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    assert_eq!(stage.token_requests() - before, 1, "exactly one refresh");
    let calls = stage.calls().await;
    assert_eq!(calls["refreshes"], 1, "{calls}");
    assert!(
        calls["unauthorized"].as_u64().unwrap() >= 2,
        "several calls met the expired token: {calls}"
    );
    let all_live = stage
        .manch
        .sandbox
        .lock()
        .grants
        .values()
        .all(|g| !g.revoked);
    assert!(all_live, "no refresh token was ever reused");
    assert_eq!(stage.post_count().await, 20);
}

#[actix_web::test]
async fn a_timeout_after_sending_is_checked_with_the_platform_and_not_sent_again() {
    let stage = Stage::new();
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.http_client.timeout_ms = 500.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "timeout@example.com", &["timeout"]).await;
    // The post is made; its answer comes long after the client gave up.
    stage.faults(json!({"stall_after_create_ms": 2000})).await;

    let id = accepted(&app, &p.token, json!({"content": "sent into the void"})).await;
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let calls = stage.calls().await;
    assert_eq!(calls["creates"], 1, "sent once: {calls}");
    assert_eq!(
        calls["lookups_found"], 1,
        "then found by a look-up: {calls}"
    );
    let posts = stage.posts().await;
    assert_eq!(
        view["tasks"][0]["external_post_id"], posts["posts"][0]["id"],
        "the task points at the post the platform made"
    );
    stage.assert_each_task_sent_once().await;
    // The job page's history says so, step by step.
    let history = view["tasks"][0]["history"].as_array().unwrap();
    let steps: Vec<&str> = history
        .iter()
        .map(|h| h["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["queued", "running", "unconfirmed", "running", "succeeded"],
        "{history:?}"
    );
    assert_eq!(history[2]["outcome"], "unknown");
    assert_eq!(history[4]["outcome"], "verified");
    let listed = get_as(&app, &p.token, "/api/v1/posts").await;
    assert!(
        listed["posts"][0]["tasks"][0].get("history").is_none(),
        "lists stay light"
    );
}

#[actix_web::test]
async fn a_rejected_post_fails_at_once_with_the_platforms_reason() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "rejected@example.com", &["strict"]).await;
    let later = in_an_hour();
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "fine for now", "scheduled_at": later}),
    )
    .await;
    // The content changes behind the validator's back; only Manch can refuse it now.
    sqlx::query("UPDATE posts SET content = repeat('x', 600)")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE publish_tasks SET next_attempt_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();

    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "failed");
    let task = &view["tasks"][0];
    assert_eq!(task["attempts"], 1, "no retry for a permanent refusal");
    assert_eq!(task["last_error_kind"], "rejected");
    assert!(
        task["last_error"].as_str().unwrap().contains("500"),
        "{task}"
    );
    assert_eq!(stage.post_count().await, 0);
}

#[actix_web::test]
async fn a_revoked_grant_marks_the_connection_and_fails_its_tasks() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "revoked@example.com", &["gone"]).await;
    {
        let mut state = stage.manch.sandbox.lock();
        let grants: Vec<u64> = state.grants.keys().copied().collect();
        for grant in grants {
            state.revoke_grant(grant);
        }
    }
    let id = accepted(&app, &p.token, json!({"content": "into the void"})).await;
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "failed");
    assert!(
        view["tasks"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("reconnect"),
        "{view}"
    );
    let list: Value = app.get("/api/v1/connections").await.json().await.unwrap();
    assert_eq!(list["connections"][0]["status"], "needs_reauth");
    let platforms: Value = app.get("/api/v1/platforms").await.json().await.unwrap();
    assert_eq!(platforms["platforms"][0]["state"], "needs_reauth");
    let again = publish(&app, &p.token, json!({"content": "no targets left"})).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(again).await, "no_targets");
}

#[actix_web::test]
async fn stopped_mid_flight_and_started_again_every_task_lands_once() {
    let stage = Stage::new();
    let mut app = stage.app().await;
    let p = publisher(&app, "crash@example.com", &["crash_a", "crash_b"]).await;
    stage.faults(json!({"latency_ms": 1000})).await;
    let mut ids = Vec::new();
    for n in 0..100 {
        ids.push(accepted(&app, &p.token, json!({"content": format!("in flight {n}")})).await);
    }
    // Stop only once calls are out: the restart must recover them.
    let deadline = Instant::now() + Duration::from_secs(15);
    while app
        .count_rows("publish_tasks WHERE status = 'running'")
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "no task started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.restart().await;
    stage.faults(json!({"latency_ms": 0})).await;

    let views = wait_all(&app, &p.token, &ids, Duration::from_secs(60)).await;
    for view in &views {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    let posts = stage.posts().await;
    assert_eq!(
        posts["posts"].as_array().unwrap().len(),
        200,
        "one post per task"
    );
    stage.assert_each_task_sent_once().await;
    // Calls were out when it stopped: their tasks were released, then checked
    // with the platform (the calls had landed) instead of sent again.
    let released = app
        .count_rows("publish_task_events WHERE to_status = 'unconfirmed'")
        .await;
    assert!(released > 0, "the stop caught calls in flight");
    let calls = stage.calls().await;
    assert!(calls["lookups_found"].as_i64().unwrap() > 0, "{calls}");
    app.stop().await;
}

#[actix_web::test]
async fn a_panic_in_a_platform_call_restarts_the_worker_and_the_task_completes() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "panic@example.com", &["panicky"]).await;
    let id = accepted(&app, &p.token, json!({"content": "PANIC-IN-ADAPTER once"})).await;
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(stage.post_count().await, 1);
    let actors: Value = app.ops_get("/health/actors").await.json().await.unwrap();
    let worker = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "platform_worker")
        .cloned()
        .expect("the worker is alive again");
    assert!(worker["restarts"].as_u64().unwrap() >= 1, "{worker}");
    assert!(worker["last_error"].as_str().unwrap().contains("panicked"));
}

#[actix_web::test]
async fn two_instances_on_one_database_share_the_work_without_duplicates() {
    let stage = Stage::new();
    let first = stage.app().await;
    let p = publisher(&first, "shared@example.com", &["shared_a", "shared_b"]).await;
    let second = first.spawn_beside(|_| {}).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        let app = if n % 2 == 0 { &first } else { &second };
        ids.push(accepted(app, &p.token, json!({"content": format!("shared {n}")})).await);
    }
    wait_all(&first, &p.token, &ids, Duration::from_secs(30)).await;
    let posts = stage.posts().await;
    assert_eq!(posts["posts"].as_array().unwrap().len(), 60);
    stage.assert_each_task_sent_once().await;
    let owners: Vec<Option<String>> =
        sqlx::query_scalar("SELECT DISTINCT claimed_by FROM publish_tasks")
            .fetch_all(&first.pool)
            .await
            .unwrap();
    assert_eq!(owners, vec![None], "no task is left claimed");
}

#[actix_web::test]
async fn two_instances_racing_for_the_same_due_posts_send_each_once() {
    let stage = Stage::new();
    let mut accepting = stage.app().await;
    let p = publisher(&accepting, "due@example.com", &["due_a", "due_b"]).await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let ids = futures_util::future::join_all((0..40).map(|n| {
        accepted(
            &accepting,
            &p.token,
            json!({"content": format!("due {n}"), "scheduled_at": at}),
        )
    }))
    .await;
    let first = accepting.spawn_beside(|_| {}).await;
    let second = accepting.spawn_beside(|_| {}).await;
    // The instance that accepted them goes away (a deploy) and lets go of
    // them: the two others' schedulers both reach for the same rows when due.
    accepting.stop().await;
    let held: i64 = first
        .count_rows("publish_tasks WHERE held_by IS NOT NULL")
        .await;
    assert_eq!(held, 0, "the stopped instance let go of its tasks");

    let views = wait_all(&first, &p.token, &ids, Duration::from_secs(30)).await;
    for view in &views {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    assert_eq!(stage.post_count().await, 80);
    stage.assert_each_task_sent_once().await;
    drop(second);
}

#[actix_web::test]
async fn twenty_concurrent_identical_requests_make_one_job() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "idem@example.com", &["idem"]).await;
    let body = json!({"content": "only once"});
    let requests = (0..20).map(|_| {
        crate::helpers::http()
            .post(app.url("/api/v1/posts"))
            .bearer_auth(&p.token)
            .header("Idempotency-Key", "the-same-key")
            .json(&body)
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut jobs = std::collections::HashSet::new();
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.unwrap();
        jobs.insert(body["job_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(jobs.len(), 1);
    assert_eq!(app.count_rows("publish_jobs").await, 1);

    let other = crate::helpers::http()
        .post(app.url("/api/v1/posts"))
        .bearer_auth(&p.token)
        .header("Idempotency-Key", "the-same-key")
        .json(&json!({"content": "something else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(other).await, "idempotency_key_reused");
    let id = jobs.into_iter().next().unwrap();
    wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(stage.post_count().await, 1);
}

#[actix_web::test]
async fn server_sent_events_deliver_every_transition_in_order() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "sse@example.com", &["sse_a", "sse_b"]).await;
    stage.faults(json!({"latency_ms": 100})).await;
    let id = accepted(&app, &p.token, json!({"content": "watch me"})).await;
    let response = crate::helpers::http()
        .get(app.url(&format!("/api/v1/jobs/{id}/events")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = tokio::time::timeout(Duration::from_secs(20), response.text())
        .await
        .expect("the stream ends")
        .unwrap();
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let name = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap()
                .to_owned();
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            (name, serde_json::from_str(data).unwrap())
        })
        .collect();
    assert_eq!(events.first().unwrap().0, "snapshot");
    assert_eq!(events.last().unwrap().0, "end");
    assert_eq!(events.last().unwrap().1["status"], "succeeded");
    let transitions: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "transition")
        .map(|(_, v)| v)
        .collect();
    let ids: Vec<i64> = transitions
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM publish_task_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(transitions.len() as i64, stored, "every transition");
    for task in job(&app, &p.token, &id).await["tasks"].as_array().unwrap() {
        let path: Vec<&str> = transitions
            .iter()
            .filter(|t| t["task_id"] == task["id"])
            .map(|t| t["to"].as_str().unwrap())
            .collect();
        assert_eq!(path, ["queued", "running", "succeeded"]);
    }
}

#[actix_web::test]
async fn a_scheduled_post_reaches_the_platform_at_its_time_not_before() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "schedule@example.com", &["punctual"]).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let local = at.with_timezone(&chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap());
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "on time", "scheduled_at": local.to_rfc3339(), "time_zone": "Asia/Kolkata"}),
    )
    .await;
    assert_eq!(job(&app, &p.token, &id).await["status"], "pending");
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "succeeded");
    assert_eq!(view["time_zone"], "Asia/Kolkata");
    // Measured where it matters: when the platform made the post.
    let posts = stage.posts().await;
    let made: chrono::DateTime<chrono::Utc> = posts["posts"][0]["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let late = made - at;
    assert!(late >= chrono::Duration::zero(), "not early: {late}");
    // The scheduler ticks every 100 ms here; three seconds leave room for a
    // loaded machine while still failing a scheduler that waits for a sweep.
    assert!(late < chrono::Duration::seconds(3), "on time: {late}");
}

#[actix_web::test]
async fn a_post_cancelled_two_seconds_before_its_time_never_reaches_the_platform() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "cancel@example.com", &["cancelled"]).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "never mind", "scheduled_at": at.to_rfc3339()}),
    )
    .await;
    let cancel = crate::helpers::http()
        .post(app.url(&format!("/api/v1/jobs/{id}/cancel")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK, "{:?}", cancel.text().await);
    // A control post due just after proves the engine was running meanwhile.
    let control = accepted(
        &app,
        &p.token,
        json!({"content": "still on", "scheduled_at": (at + chrono::Duration::seconds(1)).to_rfc3339()}),
    )
    .await;
    let done = wait_job(&app, &p.token, &control, Duration::from_secs(15)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(job(&app, &p.token, &id).await["status"], "cancelled");
    let posts = stage.posts().await;
    let texts: Vec<&str> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["still on"], "the cancelled post never fired");
    assert_eq!(stage.calls().await["creates"], 1);
}

#[actix_web::test]
async fn bad_publish_requests_are_422_with_their_codes() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "bad@example.com", &["valid"]).await;
    let cases = [
        (json!({"content": "   "}), "invalid_content"),
        // PostgreSQL text cannot hold NUL: refused, not a 500 (found by schemathesis).
        (json!({"content": "nul \u{0} inside"}), "invalid_content"),
        (json!({"content": "x".repeat(501)}), "content_rejected"),
        (
            json!({"content": "hi", "scheduled_at": "2026-12-01 09:00"}),
            "invalid_scheduled_at",
        ),
        (
            json!({"content": "hi", "scheduled_at": "2026-12-01T09:00:00"}),
            "invalid_scheduled_at",
        ),
        (
            json!({"content": "hi", "time_zone": "Mars/Olympus"}),
            "invalid_time_zone",
        ),
        (
            json!({"content": "hi", "connection_ids": [uuid::Uuid::new_v4()]}),
            "invalid_targets",
        ),
    ];
    for (body, code) in cases {
        let response = publish(&app, &p.token, body.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let message: Value = response.json().await.unwrap();
        assert_eq!(message["error"]["code"], code, "{body}");
        if code == "content_rejected" {
            assert!(
                message["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Manch")
            );
        }
    }
    assert_eq!(app.count_rows("publish_jobs").await, 0);

    let lonely = app.new_browser();
    lonely.signed_up("lonely@example.com").await;
    let csrf = lonely.me().await.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = lonely
        .client
        .post(lonely.url("/api/v1/posts"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"content": "to nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "no_targets");
    let _ = p.connections;
}

#[actix_web::test]
async fn jobs_of_other_users_are_404_and_tokens_can_be_revoked() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "owner@example.com", &["own"]).await;
    let id = accepted(&app, &p.token, json!({"content": "mine"})).await;
    let other_browser = app.new_browser();
    let other = publisher(&other_browser, "other@example.com", &[]).await;
    for path in [
        format!("/api/v1/jobs/{id}"),
        format!("/api/v1/jobs/{id}/events"),
    ] {
        let response = crate::helpers::http()
            .get(app.url(&path))
            .bearer_auth(&other.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let retry = crate::helpers::http()
        .post(app.url(&format!("/api/v1/jobs/{id}/retry")))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::NOT_FOUND);

    let tokens: Value = app.get("/api/v1/tokens").await.json().await.unwrap();
    let token_id = tokens["tokens"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        !tokens.to_string().contains(&p.token),
        "a token is shown only once"
    );
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{token_id}")))
        .header("X-CSRF-Token", &p.browser_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = publish(&app, &p.token, json!({"content": "after revoke"})).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(refused).await, "invalid_token");
}

#[actix_web::test]
async fn a_failed_target_can_be_retried_and_a_scheduled_one_cancelled() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "steer@example.com", &["steer"]).await;
    stage.faults(json!({"error_rate": 1.0})).await;
    let id = accepted(&app, &p.token, json!({"content": "will fail first"})).await;
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "failed");
    assert_eq!(view["tasks"][0]["attempts"], 10);
    assert!(
        view["tasks"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("gave up after 10 attempts")
    );

    stage.faults(json!({"error_rate": 0.0})).await;
    let retry = crate::helpers::http()
        .post(app.url(&format!("/api/v1/jobs/{id}/retry")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::ACCEPTED);
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(stage.post_count().await, 1);

    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let scheduled = accepted(
        &app,
        &p.token,
        json!({"content": "not after all", "scheduled_at": later}),
    )
    .await;
    let cancel = crate::helpers::http()
        .post(app.url(&format!("/api/v1/jobs/{scheduled}/cancel")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    let view = wait_job(&app, &p.token, &scheduled, Duration::from_secs(10)).await;
    assert_eq!(view["status"], "cancelled");

    let history = get_as(&app, &p.token, "/api/v1/posts?limit=1").await;
    assert_eq!(
        history["posts"][0]["job_id"],
        scheduled.as_str(),
        "newest first"
    );
    let cursor = history["next_cursor"].as_str().unwrap();
    let page: Value = crate::helpers::http()
        .get(app.url(&format!("/api/v1/posts?limit=1&cursor={cursor}")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["posts"][0]["job_id"], id.as_str());
    assert!(page["next_cursor"].is_null());
}

#[actix_web::test]
async fn disconnecting_cancels_pending_tasks() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "unplug@example.com", &["unplug"]).await;
    let later = in_an_hour();
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "pending", "scheduled_at": later}),
    )
    .await;
    let response = app.disconnect(&p.browser_csrf, &p.connections[0]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(10)).await;
    assert_eq!(view["status"], "cancelled");
    assert!(
        view["tasks"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("disconnected")
    );
}

#[actix_web::test]
async fn metrics_and_actor_health_describe_the_engine() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "ops@example.com", &["ops"]).await;
    let id = accepted(&app, &p.token, json!({"content": "measured"})).await;
    wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    let metrics = app.ops_get("/metrics").await.text().await.unwrap();
    for name in [
        "prasaran_task_transitions_total{to=\"queued\"} 1",
        "prasaran_task_transitions_total{to=\"running\"} 1",
        "prasaran_task_transitions_total{to=\"succeeded\"} 1",
        "prasaran_accept_latency_seconds_count 1",
        "prasaran_publish_latency_seconds_count 1",
        "prasaran_platform_call_seconds_count{outcome=\"ok\",platform=\"manch\"} 1",
        "prasaran_actors{kind=\"dispatcher\"} 1",
        "prasaran_actors{kind=\"scheduler\"} 1",
    ] {
        assert!(metrics.contains(name), "missing {name} in\n{metrics}");
    }
    let actors: Value = app.ops_get("/health/actors").await.json().await.unwrap();
    let kinds: Vec<&str> = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"dispatcher")
            && kinds.contains(&"scheduler")
            && kinds.contains(&"platform_worker"),
        "{kinds:?}"
    );
}

#[actix_web::test]
async fn a_scheduled_post_whose_time_passed_while_stopped_is_missed_not_published() {
    let stage = Stage::new();
    let mut app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.missed_grace_secs = 60.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "missed@example.com", &["sleepy"]).await;
    let later = in_an_hour();
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "too late", "scheduled_at": later}),
    )
    .await;
    let soon = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let on_time = accepted(
        &app,
        &p.token,
        json!({"content": "still on time", "scheduled_at": soon}),
    )
    .await;

    app.stop().await;
    // While nothing ran, one post's time passed long ago, the other's just now.
    sqlx::query(
        "UPDATE posts p SET scheduled_at = now() - interval '2 hours' FROM publish_jobs j
         WHERE j.post_id = p.id AND j.id = $1",
    )
    .bind(uuid::Uuid::parse_str(&id).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE publish_tasks SET next_attempt_at = CASE WHEN job_id = $1 THEN now() - interval '2 hours'
                                                         ELSE now() - interval '5 seconds' END",
    )
    .bind(uuid::Uuid::parse_str(&id).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    app.restart().await;

    let missed = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(missed["status"], "missed", "{missed}");
    assert!(
        missed["tasks"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("scheduled time passed")
    );
    let published = wait_job(&app, &p.token, &on_time, Duration::from_secs(15)).await;
    assert_eq!(
        published["status"], "succeeded",
        "within the grace period it still goes out"
    );
    let posts = stage.posts().await;
    let texts: Vec<&str> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["still on time"]);
}
