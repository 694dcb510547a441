//! The engine under load and over time: workers that retire really go, a
//! platform cannot panic a worker with its Retry-After, one user's burst does
//! not hold back another's post, a full backlog is refused with a time to come
//! back, and tasks a live process holds are never handed out twice.

use std::time::{Duration, Instant};

use prasaran::persistence::outbox::Handoff;
use prasaran::persistence::tasks;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::stage::{Stage, accepted, job, publish, publisher, wait_all, wait_job};

async fn workers(app: &TestApp) -> Vec<Value> {
    let actors: Value = app.ops_get("/health/actors").await.json().await.unwrap();
    actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "platform_worker")
        .cloned()
        .collect()
}

#[actix_web::test]
async fn an_idle_worker_retires_for_good_and_is_not_reported_as_restarted() {
    let stage = Stage::new();
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.idle_stop_secs = 1.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "idle@example.com", &["idle_a", "idle_b"]).await;
    let id = accepted(&app, &p.token, json!({"content": "before the nap"})).await;
    wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(workers(&app).await.len(), 2, "one worker per connection");

    // Idle for a second, asked to go, gone: not restarted by a supervisor.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !workers(&app).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "retired workers still listed: {:?}",
            workers(&app).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Stays gone (a supervisor restart would bring it back within a heartbeat).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let listed = workers(&app).await;
    assert!(
        listed.iter().all(|w| w["restarts"] == 0),
        "no worker restarted: {listed:?}"
    );

    // Work brings fresh workers, with a clean record.
    let id = accepted(&app, &p.token, json!({"content": "after the nap"})).await;
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    for worker in workers(&app).await {
        assert_eq!(worker["restarts"], 0, "{worker}");
        assert!(worker["last_error"].is_null(), "{worker}");
    }
    assert_eq!(stage.post_count().await, 4);
}

#[actix_web::test]
async fn an_absurd_retry_after_is_clamped_and_panics_nothing() {
    let stage = Stage::new();
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.idle_stop_secs = 1.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "slowdown@example.com", &["slowdown"]).await;
    stage
        .faults(json!({"rate_limit_per_s": 1, "retry_after_s": u64::MAX}))
        .await;
    let first = accepted(&app, &p.token, json!({"content": "first"})).await;
    let second = accepted(&app, &p.token, json!({"content": "second"})).await;
    let views = [
        wait_job(&app, &p.token, &first, Duration::from_secs(5)).await,
        // The second meets the 429: it waits (clamped), it does not crash anything.
        job(&app, &p.token, &second).await,
    ];
    let throttled: Vec<&Value> = views
        .iter()
        .flat_map(|v| v["tasks"].as_array().unwrap())
        .filter(|t| t["last_error_kind"] == "rate_limited")
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut throttled_task = throttled.first().map(|t| (*t).clone());
    while throttled_task.is_none() {
        assert!(Instant::now() < deadline, "no task met the 429");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let view = job(&app, &p.token, &second).await;
        throttled_task = view["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["last_error_kind"] == "rate_limited")
            .cloned();
    }
    let task = throttled_task.unwrap();
    assert_eq!(task["status"], "retry_scheduled", "{task}");
    let next: chrono::DateTime<chrono::Utc> =
        task["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = next - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::minutes(10) && wait <= chrono::Duration::minutes(16),
        "the wait is clamped to 15 minutes, not ignored and not forever: {wait}"
    );
    // The worker and the app are alive and well; the worker waits for its retry
    // instead of retiring (which would drop the retry's timer).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let listed = workers(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["restarts"], 0, "{listed:?}");
    assert_eq!(listed[0]["state"], "backing_off", "{listed:?}");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
}

#[actix_web::test]
async fn one_users_burst_does_not_hold_back_another_users_post() {
    let stage = Stage::new();
    let app = stage.app().await;
    let noisy = publisher(&app, "noisy@example.com", &["noisy"]).await;
    let quiet = publisher(&app, "quiet@example.com", &["quiet"]).await;
    // 250 ms a call, 8 calls at a time per connection: the burst needs ~6 s.
    stage.faults(json!({"latency_ms": 250})).await;
    let mut burst = Vec::new();
    for chunk in (0..200).collect::<Vec<_>>().chunks(25) {
        let sends = chunk
            .iter()
            .map(|n| accepted(&app, &noisy.token, json!({"content": format!("burst {n}")})));
        burst.extend(futures_util::future::join_all(sends).await);
    }
    let sent = Instant::now();
    let id = accepted(&app, &quiet.token, json!({"content": "just one"})).await;
    let view = wait_job(&app, &quiet.token, &id, Duration::from_secs(10)).await;
    let took = sent.elapsed();
    assert_eq!(view["status"], "succeeded", "{view}");
    // A queue shared in arrival order would make it wait for the whole burst.
    let unfinished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM publish_tasks t JOIN publish_jobs j ON j.id = t.job_id
         JOIN users u ON u.id = j.user_id
         WHERE u.email = 'noisy@example.com' AND t.completed_at IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        unfinished > 50,
        "the quiet post finished in {took:?}, before most of the burst ({unfinished} left)"
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    wait_all(&app, &noisy.token, &burst, Duration::from_secs(60)).await;
    assert_eq!(stage.post_count().await, 201);
    stage.assert_each_task_sent_once().await;
}

#[actix_web::test]
async fn a_full_backlog_is_429_with_retry_after_and_spares_other_users() {
    let stage = Stage::new();
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.max_user_backlog = 6.try_into().unwrap();
    })
    .await;
    let heavy = publisher(&app, "heavy@example.com", &["heavy_a", "heavy_b"]).await;
    let light = publisher(&app, "light@example.com", &["light"]).await;
    // Calls take 2 s: what is accepted stays in the backlog for the test.
    stage.faults(json!({"latency_ms": 2000})).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(accepted(&app, &heavy.token, json!({"content": format!("heavy {n}")})).await);
    }
    // 6 tasks wait: a 4th publish (2 more) does not fit.
    let refused = publish(&app, &heavy.token, json!({"content": "one too many"})).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "2");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "backlog_full", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("6 tasks waiting"),
        "{body}"
    );
    // A scheduled post is not backlog; another user is not affected.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    accepted(
        &app,
        &heavy.token,
        json!({"content": "tomorrow's", "scheduled_at": later}),
    )
    .await;
    accepted(&app, &light.token, json!({"content": "unaffected"})).await;
    // Once the backlog drains, the user publishes again.
    wait_all(&app, &heavy.token, &ids, Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = publish(&app, &heavy.token, json!({"content": "room again"})).await;
        if again.status() == StatusCode::ACCEPTED {
            break;
        }
        let status = again.status();
        let code = error_code(again).await;
        assert_eq!(code, "backlog_full", "{status}");
        assert!(
            Instant::now() < deadline,
            "still refused after the backlog drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn tasks_a_live_process_holds_are_never_handed_out_again_but_a_gone_ones_are() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "held@example.com", &["held"]).await;
    // Slow calls and a long backlog (40 × 1 s over 8 slots: ~5 s), older than
    // the stale period (2 s here).
    stage.faults(json!({"latency_ms": 1000})).await;
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(accepted(&app, &p.token, json!({"content": format!("held {n}")})).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let picked = tasks::pick_due(
        &app.pool,
        Duration::from_secs(1),
        1000,
        Handoff::InProcess,
        Some("another-process"),
    )
    .await
    .unwrap();
    assert!(
        picked.is_empty(),
        "{} tasks held by a live process were handed out again",
        picked.len()
    );
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM publish_tasks WHERE status = 'queued' AND held_by IS NOT NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(waiting > 0, "the backlog is still waiting");

    // The holder falls silent: its waiting tasks go to whoever asks next.
    sqlx::query("UPDATE engine_processes SET heartbeat_at = now() - interval '1 hour'")
        .execute(&app.pool)
        .await
        .unwrap();
    let released = tasks::release_dead_holders(&app.pool, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(released > 0, "the silent process's tasks were released");
    // The process is alive after all: it finishes everything exactly once.
    stage.faults(json!({"latency_ms": 0})).await;
    let views = wait_all(&app, &p.token, &ids, Duration::from_secs(30)).await;
    for view in &views {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    assert_eq!(stage.post_count().await, 40);
    stage.assert_each_task_sent_once().await;
}

/// Reads a stream until `until` appears (or fails after 15 s); the events seen.
async fn read_until(response: reqwest::Response, until: &str) -> Vec<(String, Value)> {
    let mut response = response;
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !text.contains(&format!("event: {until}\n")) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no `{until}` within 15 s; got:\n{text}"))
            .unwrap();
        match chunk {
            Some(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            None => panic!("the stream ended before `{until}`:\n{text}"),
        }
    }
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let name = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_default()
                .to_owned();
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("null");
            (name, serde_json::from_str(data).unwrap())
        })
        .collect()
}

fn later() -> String {
    (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339()
}

#[actix_web::test]
async fn a_live_stream_wakes_on_change_and_ends_when_its_token_is_revoked() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "stream@example.com", &["stream"]).await;
    // Scheduled a month ahead: nothing happens until the user acts.
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "next month", "scheduled_at": later()}),
    )
    .await;
    let client = crate::helpers::http();
    let open = || {
        client
            .get(app.url(&format!("/api/v1/jobs/{id}/events")))
            .bearer_auth(&p.token)
            .send()
    };
    let stream = open().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    // Cancelling is a change: the stream hears it and ends with the job.
    let cancel = client
        .post(app.url(&format!("/api/v1/jobs/{id}/cancel")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    let events = read_until(stream, "end").await;
    let transitions: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "transition")
        .map(|(_, v)| v["to"].as_str().unwrap())
        .collect();
    assert!(transitions.contains(&"cancelled"), "{events:?}");
    assert_eq!(events.last().unwrap().1["status"], "cancelled");

    // A stream of a waiting post ends when the token that opened it is revoked.
    let waiting = accepted(
        &app,
        &p.token,
        json!({"content": "still waiting", "scheduled_at": later()}),
    )
    .await;
    let stream = client
        .get(app.url(&format!("/api/v1/jobs/{waiting}/events")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    let tokens: Value = app.get("/api/v1/tokens").await.json().await.unwrap();
    let token_id = tokens["tokens"][0]["id"].as_str().unwrap().to_owned();
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{token_id}")))
        .header("X-CSRF-Token", &p.browser_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let events = read_until(stream, "closed").await;
    assert_eq!(events.last().unwrap().0, "closed", "{events:?}");
}

#[actix_web::test]
async fn a_live_stream_ends_at_logout_and_each_user_has_a_stream_limit() {
    let stage = Stage::new();
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.max_streams_per_user = 2.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "limits@example.com", &["limits"]).await;
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "later", "scheduled_at": later()}),
    )
    .await;
    let path = format!("/api/v1/jobs/{id}/events");
    // Two streams over the browser's session, the third is refused.
    let first = app.get(&path).await;
    let second = app.get(&path).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let third = app.get(&path).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(third).await, "too_many_streams");
    // Closing one makes room (noticed at the latest by the next keep-alive).
    drop(second);
    let closed = Instant::now();
    let again = loop {
        let response = app.get(&path).await;
        if response.status() == StatusCode::OK {
            break response;
        }
        assert!(
            closed.elapsed() < Duration::from_secs(12),
            "the closed stream still counts"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Logging out ends the session's streams.
    let out = app.logout(Some(&p.browser_csrf)).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let events = read_until(first, "closed").await;
    assert_eq!(events.last().unwrap().0, "closed");
    read_until(again, "closed").await;
}

#[actix_web::test]
async fn a_task_its_live_holder_lost_is_handed_out_again_once_overdue() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "stranded@example.com", &["stranded"]).await;
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "lost in a mailbox", "scheduled_at": later()}),
    )
    .await;
    // Held by this (live) process but in no mailbox, and due long ago.
    let owner: String = sqlx::query_scalar("SELECT owner FROM engine_processes")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE publish_tasks SET held_by = $1, next_attempt_at = now() - interval '10 minutes'",
    )
    .bind(&owner)
    .execute(&app.pool)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stage.post_count().await, 0, "nothing runs it by itself");
    let released = tasks::release_overdue(&app.pool, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(released, 1);
    let view = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(stage.post_count().await, 1);
}
