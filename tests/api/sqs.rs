//! Queue mode `sqs` across real OS processes: `prasaran serve --role api` and
//! `--role worker` on one database and one queue of a real `moto_server`,
//! publishing to the Manch sandbox. Every test checks the sandbox's own record:
//! exactly one post per task.

use std::time::{Duration, Instant};

use prasaran::sandbox::manch::{DEFAULT_CLIENT_SECRET, SandboxServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::cloud::{Moto, Serve};
use crate::helpers::{
    Browser, TestDatabase, assert_each_task_sent_once, manch_sandbox, random_key, sandbox_calls,
    sandbox_faults, sandbox_posts,
};
use crate::stage::{Publisher, publisher};

/// moto, its queue and dead-letter queue, the Manch sandbox and one database,
/// shared by every process a test starts.
struct Stage {
    moto: Moto,
    queue: String,
    manch: SandboxServer,
    database: TestDatabase,
    pool: PgPool,
    data_dir: tempfile::TempDir,
    session_key: String,
    master_key: String,
    visibility_secs: u32,
}

impl Stage {
    async fn new(visibility_secs: u32, max_receives: u32) -> Self {
        let moto = Moto::start().await;
        let (queue, _) = moto
            .queue_with_dlq("tasks", visibility_secs, max_receives)
            .await;
        let manch = manch_sandbox(2);
        let database = TestDatabase::create().await;
        let pool = database.pool().await;
        Self {
            moto,
            queue,
            manch,
            database,
            pool,
            data_dir: tempfile::tempdir().unwrap(),
            session_key: random_key(64),
            master_key: random_key(32),
            visibility_secs,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let pairs = [
            (
                "PRASARAN__DATA_DIR",
                self.data_dir.path().display().to_string(),
            ),
            ("PRASARAN__DATABASE__URL", self.database.url.clone()),
            ("PRASARAN__SESSION__KEY", self.session_key.clone()),
            ("PRASARAN__KEYS__LOCAL__MASTER_KEY", self.master_key.clone()),
            (
                "PRASARAN__PLATFORMS__MANCH__BASE_URL",
                self.manch.base_url.to_string(),
            ),
            (
                "PRASARAN__PLATFORMS__MANCH__CLIENT_SECRET",
                DEFAULT_CLIENT_SECRET.to_owned(),
            ),
            ("PRASARAN__QUEUE__KIND", "sqs".into()),
            ("PRASARAN__QUEUE__SQS__QUEUE_URL", self.queue.clone()),
            ("PRASARAN__QUEUE__SQS__ENDPOINT_URL", self.moto.endpoint()),
            ("PRASARAN__QUEUE__SQS__WAIT_TIME_SECS", "1".into()),
            (
                "PRASARAN__QUEUE__SQS__VISIBILITY_TIMEOUT_SECS",
                self.visibility_secs.to_string(),
            ),
            ("PRASARAN__QUEUE__SQS__BUSY_RETRY_SECS", "1".into()),
            // Small messages, so the tests see several.
            ("PRASARAN__QUEUE__SQS__TASKS_PER_MESSAGE", "10".into()),
            ("PRASARAN__QUEUE__SQS__SHUTDOWN_GRACE_SECS", "5".into()),
            ("PRASARAN__ENGINE__LEASE_SECS", "3".into()),
            ("PRASARAN__ENGINE__SCHEDULER_TICK_MS", "100".into()),
            ("PRASARAN__ENGINE__STALE_DISPATCH_SECS", "3".into()),
            ("PRASARAN__ENGINE__BACKOFF_BASE_MS", "20".into()),
            ("PRASARAN__ENGINE__BACKOFF_CAP_MS", "300".into()),
            ("PRASARAN__ENGINE__MAX_ATTEMPTS", "20".into()),
            ("PRASARAN__ENGINE__RATE_LIMIT_PER_S", "1000".into()),
            ("PRASARAN__ENGINE__WORKER_ARBITERS", "1".into()),
            ("PRASARAN__SERVER__WORKERS", "1".into()),
            ("PRASARAN__LOG__LEVEL", "info".into()),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    async fn serve(&self, role: &str) -> Serve {
        self.serve_with(role, &[]).await
    }

    async fn serve_with(&self, role: &str, extra: &[(&str, &str)]) -> Serve {
        let mut env = self.env();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Serve::start(role, &env).await
    }

    async fn faults(&self, faults: Value) {
        sandbox_faults(&self.manch.base_url, faults).await;
    }

    async fn posts(&self) -> Value {
        sandbox_posts(&self.manch.base_url).await
    }

    /// Exactly one post on the platform per task, and every task succeeded.
    async fn assert_one_post_per_task(&self, tasks: usize) {
        let posts = self.posts().await;
        assert_eq!(posts["posts"].as_array().unwrap().len(), tasks, "{posts}");
        assert_each_task_sent_once(&self.manch.base_url).await;
        let succeeded: i64 =
            sqlx::query_scalar("SELECT count(*) FROM publish_tasks WHERE status = 'succeeded'")
                .fetch_one(&self.pool)
                .await
                .unwrap();
        assert_eq!(succeeded as usize, tasks);
        self.assert_queues_drained().await;
    }

    /// Every message was deleted once its work was done: the queue ends with
    /// none waiting or in flight, and none went to the dead-letter queue.
    async fn assert_queues_drained(&self) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let sqs = self.moto.sqs().await;
        let dlq = self.queue.replace("/tasks", "/tasks-dlq");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut counts = Vec::new();
            for (queue, names) in [
                (
                    &self.queue,
                    vec![
                        A::ApproximateNumberOfMessages,
                        A::ApproximateNumberOfMessagesNotVisible,
                    ],
                ),
                (&dlq, vec![A::ApproximateNumberOfMessages]),
            ] {
                let attributes = sqs
                    .get_queue_attributes()
                    .queue_url(queue)
                    .set_attribute_names(Some(names.clone()))
                    .send()
                    .await
                    .unwrap();
                let attributes = attributes.attributes().unwrap();
                for name in names {
                    let n: u64 = attributes.get(&name).unwrap().parse().unwrap();
                    counts.push((queue.rsplit('/').next().unwrap().to_owned(), name, n));
                }
            }
            if counts.iter().all(|(_, _, n)| *n == 0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "messages left behind: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Until the outbox relay has ticked for a second after `since` (it ticks
    /// every 250 ms): whatever it was going to do by then, it did.
    async fn wait_relay_ticks(&self, api: &Serve, since: chrono::DateTime<chrono::Utc>) {
        let after = since + chrono::Duration::seconds(1);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let actors: Value = crate::helpers::http()
                .get(format!("{}/health/actors", api.ops_address))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let relay = actors["actors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["kind"] == "outbox_relay")
                .cloned()
                .unwrap_or_default();
            let beat = relay["last_heartbeat"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok());
            if beat.is_some_and(|b| b > after) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the relay stopped ticking: {relay}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Waits until `jobs` jobs are `succeeded`; fails with the processes' logs.
    async fn wait_succeeded(&self, jobs: i64, limit: Duration, processes: &[&Serve]) {
        let deadline = Instant::now() + limit;
        loop {
            let done = self
                .count("SELECT count(*) FROM publish_jobs WHERE status = 'succeeded'")
                .await;
            if done == jobs {
                return;
            }
            if Instant::now() > deadline {
                let tasks: Vec<(String, i64)> =
                    sqlx::query_as("SELECT status, count(*) FROM publish_tasks GROUP BY status")
                        .fetch_all(&self.pool)
                        .await
                        .unwrap();
                let logs: Vec<String> = processes.iter().map(|p| p.log_text()).collect();
                panic!(
                    "{done} of {jobs} jobs succeeded in time; tasks {tasks:?}\n{}",
                    logs.join("\n-----\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn connected(api: &Serve, handles: &[&str]) -> Publisher {
    let browser = Browser::new(&api.address);
    publisher(&browser, "sqs@example.com", handles).await
}

/// Publishes `n` posts to every connection; returns the statuses.
async fn publish_many(api: &Serve, who: &Publisher, n: usize) -> Vec<StatusCode> {
    let client = crate::helpers::http();
    let mut statuses = Vec::new();
    for i in 0..n {
        let response = client
            .post(format!("{}/api/v1/posts", api.address))
            .bearer_auth(&who.token)
            .json(&json!({"content": format!("post {i} through the queue")}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    statuses
}

#[actix_web::test]
async fn an_api_process_and_a_worker_process_publish_through_sqs() {
    let stage = Stage::new(5, 5).await;
    let api = stage.serve("api").await;
    let worker = stage.serve("worker").await;
    let who = connected(&api, &["one", "two"]).await;

    let statuses = publish_many(&api, &who, 20).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED));
    stage
        .wait_succeeded(20, Duration::from_secs(60), &[&api, &worker])
        .await;
    stage.assert_one_post_per_task(40).await;
    // Every announcement went through the queue and was consumed there.
    assert_eq!(
        stage
            .count("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0
    );
    assert_eq!(stage.count("SELECT count(*) FROM outbox").await, 40);
    // 40 tasks in messages of up to 10 (`queue.sqs.tasks_per_message`), all consumed.
    assert!(
        worker
            .metric("prasaran_sqs_messages_total", "deleted")
            .await
            >= 4.0
    );
    assert_eq!(
        api.metric("prasaran_sqs_messages_total", "received").await,
        0.0
    );

    // A worker serves operators only; an API process runs no platform workers.
    let me = crate::helpers::http()
        .get(format!("{}/api/v1/me", worker.address))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::NOT_FOUND);
    let ready = crate::helpers::http()
        .get(format!("{}/health/ready", worker.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let actors: Value = crate::helpers::http()
        .get(format!("{}/health/actors", api.ops_address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"outbox_relay"), "{kinds:?}");
    assert!(
        !kinds.contains(&"platform_worker") && !kinds.contains(&"sqs_ingress"),
        "{kinds:?}"
    );
}

#[actix_web::test]
async fn two_worker_processes_split_the_work_without_duplicates() {
    let stage = Stage::new(5, 5).await;
    // One task per message, so each receive spreads work as finely as it can.
    let one_per_message = [("PRASARAN__QUEUE__SQS__TASKS_PER_MESSAGE", "1")];
    let first = stage.serve_with("worker", &one_per_message).await;
    let second = stage.serve_with("worker", &one_per_message).await;
    let api = stage.serve_with("api", &one_per_message).await;
    let who = connected(&api, &["a", "b", "c", "d"]).await;

    publish_many(&api, &who, 50).await;
    stage
        .wait_succeeded(50, Duration::from_secs(90), &[&api, &first, &second])
        .await;
    stage.assert_one_post_per_task(200).await;
    let by_first = first.metric("prasaran_sqs_messages_total", "deleted").await;
    let by_second = second
        .metric("prasaran_sqs_messages_total", "deleted")
        .await;
    assert!(
        by_first > 0.0 && by_second > 0.0,
        "both workers took messages: {by_first} / {by_second}"
    );
    assert!(by_first + by_second >= 200.0, "one message per task here");
}

/// From now on the sandbox makes posts but holds their answers back.
async fn stall_answers(stage: &Stage) {
    stage.faults(json!({"stall_after_create_ms": 60_000})).await;
}

/// Until `tasks` posts exist on the platform unanswered: a process killed
/// now leaves work whose fate it never heard.
async fn wait_posts_unanswered(stage: &Stage, tasks: u64, process: &Serve) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let calls = sandbox_calls(&stage.manch.base_url).await;
        if calls["creates"].as_u64().unwrap() >= tasks {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no posts made: {calls}\n{}",
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        stage
            .count("SELECT count(*) FROM publish_tasks WHERE status = 'running'")
            .await
            > 0,
        "tasks are in flight"
    );
}

/// After the kill: every task recovered was checked with the platform, which
/// found the posts the dead process made, and none was sent again.
async fn assert_recovered_by_looking_up(stage: &Stage, made_before_kill: u64) {
    let calls = sandbox_calls(&stage.manch.base_url).await;
    assert!(
        calls["lookups_found"].as_u64().unwrap() >= made_before_kill,
        "each post the dead process made was found by a look-up: {calls}"
    );
    let recovered = stage
        .count("SELECT count(*) FROM publish_task_events WHERE to_status = 'unconfirmed'")
        .await;
    assert!(
        recovered > 0,
        "the killed process's running tasks were recovered"
    );
}

#[actix_web::test]
async fn a_worker_killed_mid_flight_leaves_its_work_to_another_with_one_post_per_task() {
    let stage = Stage::new(3, 50).await;
    let api = stage.serve("api").await;
    let mut doomed = stage.serve("worker").await;
    let who = connected(&api, &["slow-a", "slow-b"]).await;
    stall_answers(&stage).await;
    publish_many(&api, &who, 8).await;
    wait_posts_unanswered(&stage, 2, &doomed).await;
    let made = sandbox_calls(&stage.manch.base_url).await["creates"]
        .as_u64()
        .unwrap();
    doomed.kill9();
    stage.faults(json!({"stall_after_create_ms": 0})).await;
    let survivor = stage.serve("worker").await;

    stage
        .wait_succeeded(8, Duration::from_secs(90), &[&api, &survivor])
        .await;
    stage.assert_one_post_per_task(16).await;
    assert_recovered_by_looking_up(&stage, made).await;
    assert!(
        survivor
            .metric("prasaran_sqs_messages_total", "received")
            .await
            >= 1.0
    );
}

#[actix_web::test]
async fn a_single_process_killed_mid_flight_and_started_again_sends_each_task_once() {
    let stage = Stage::new(3, 50).await;
    let in_process = [("PRASARAN__QUEUE__KIND", "in_process")];
    let mut doomed = stage.serve_with("all", &in_process).await;
    let who = connected(&doomed, &["crash-a", "crash-b"]).await;
    stall_answers(&stage).await;
    publish_many(&doomed, &who, 10).await;
    wait_posts_unanswered(&stage, 2, &doomed).await;
    let made = sandbox_calls(&stage.manch.base_url).await["creates"]
        .as_u64()
        .unwrap();
    doomed.kill9();
    stage.faults(json!({"stall_after_create_ms": 0})).await;
    let again = stage.serve_with("all", &in_process).await;

    stage
        .wait_succeeded(10, Duration::from_secs(90), &[&again])
        .await;
    stage.assert_one_post_per_task(20).await;
    assert_recovered_by_looking_up(&stage, made).await;
}

#[actix_web::test]
async fn sigterm_lets_a_worker_finish_or_release_its_work_and_exit_cleanly() {
    let stage = Stage::new(5, 50).await;
    let api = stage.serve("api").await;
    let mut worker = stage.serve("worker").await;
    let who = connected(&api, &["graceful"]).await;
    stage.faults(json!({"latency_ms": 1000})).await;
    publish_many(&api, &who, 12).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while stage
        .count("SELECT count(*) FROM publish_tasks WHERE status = 'running'")
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "no task started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    assert!(
        worker.terminate().await,
        "clean exit: {}",
        worker.log_text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped within the grace period"
    );
    // Nothing it held is left running under its name.
    assert_eq!(
        stage
            .count("SELECT count(*) FROM publish_tasks WHERE status = 'running'")
            .await,
        0
    );
    stage.faults(json!({"latency_ms": 0})).await;
    let next = stage.serve("worker").await;
    stage
        .wait_succeeded(12, Duration::from_secs(60), &[&api, &next])
        .await;
    stage.assert_one_post_per_task(12).await;
}

#[actix_web::test]
async fn an_sqs_outage_keeps_accepting_into_the_outbox_and_delivery_resumes() {
    let mut stage = Stage::new(5, 5).await;
    let api = stage.serve("api").await;
    let worker = stage.serve("worker").await;
    let who = connected(&api, &["outage"]).await;

    stage.moto.kill();
    let statuses = publish_many(&api, &who, 10).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "publishes are accepted while SQS is down: {statuses:?}"
    );
    stage.wait_relay_ticks(&api, chrono::Utc::now()).await;
    assert_eq!(
        stage
            .count("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        10,
        "the outbox holds every announcement"
    );
    let ready = crate::helpers::http()
        .get(format!("{}/health/ready", api.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stage.posts().await["posts"].as_array().unwrap().len(), 0);

    stage.moto.restart().await;
    let (queue, _) = stage.moto.queue_with_dlq("tasks", 5, 5).await;
    assert_eq!(queue, stage.queue, "the queue came back under its URL");
    stage
        .wait_succeeded(10, Duration::from_secs(60), &[&api, &worker])
        .await;
    stage.assert_one_post_per_task(10).await;
    assert_eq!(
        stage
            .count("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        0
    );
    api.wait_ready(Duration::from_secs(10)).await;
}

#[actix_web::test]
async fn a_malformed_message_ends_in_the_dead_letter_queue_and_the_worker_stays_healthy() {
    let stage = Stage::new(1, 2).await;
    let process = stage.serve("all").await;
    let sqs = stage.moto.sqs().await;
    for body in ["not json at all", r#"{"v":9,"task_id":"x"}"#] {
        sqs.send_message()
            .queue_url(&stage.queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let dlq = stage.queue.replace("/tasks", "/tasks-dlq");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut dead = Vec::new();
    while dead.len() < 2 {
        assert!(Instant::now() < deadline, "only {dead:?} reached the DLQ");
        let received = sqs
            .receive_message()
            .queue_url(&dlq)
            .wait_time_seconds(1)
            .visibility_timeout(600)
            .send()
            .await
            .unwrap();
        dead.extend(
            received
                .messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_owned)),
        );
    }
    dead.sort();
    assert_eq!(dead, ["not json at all", r#"{"v":9,"task_id":"x"}"#]);
    assert!(
        process
            .metric("prasaran_sqs_messages_total", "malformed")
            .await
            >= 4.0
    );

    // Still healthy, and real work still flows.
    let ready = crate::helpers::http()
        .get(format!("{}/health/ready", process.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let who = connected(&process, &["after-poison"]).await;
    publish_many(&process, &who, 3).await;
    stage
        .wait_succeeded(3, Duration::from_secs(30), &[&process])
        .await;
    stage.assert_one_post_per_task(3).await;
}

/// Waits until `sql` counts `want`; fails after 30 s.
async fn wait_count(stage: &Stage, sql: &str, want: i64, processes: &[&Serve]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = stage.count(sql).await;
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = processes.iter().map(|p| p.log_text()).collect();
            panic!("`{sql}` is {got}, not {want}\n{}", logs.join("\n-----\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_message_naming_another_connection_never_runs_the_task_through_it() {
    let stage = Stage::new(2, 5).await;
    let process = stage.serve("all").await;
    let who = connected(&process, &["owner_account", "other_account"]).await;
    // A post for the first connection only, scheduled far ahead.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let response = crate::helpers::http()
        .post(format!("{}/api/v1/posts", process.address))
        .bearer_auth(&who.token)
        .json(
            &json!({"content": "for the owner only", "connection_ids": [who.connections[0]],
                      "scheduled_at": later}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // It is due now, its own announcement not yet sent (the outbox holds it).
    let (task, job): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "UPDATE publish_tasks SET next_attempt_at = now(), held_by = 'outbox'
         RETURNING id, job_id",
    )
    .fetch_one(&stage.pool)
    .await
    .unwrap();
    let message = |connection: &str| {
        json!({"v": 1, "tasks": [{"task_id": task, "job_id": job, "connection_id": connection}]})
            .to_string()
    };
    let sqs = stage.moto.sqs().await;
    sqs.send_message()
        .queue_url(&stage.queue)
        .message_body(message(&who.connections[1]))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while process
        .metric("prasaran_sqs_messages_total", "misrouted")
        .await
        < 1.0
    {
        assert!(
            Instant::now() < deadline,
            "the forged message was not recognised\n{}",
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stage.posts().await["posts"].as_array().unwrap().len(),
        0,
        "nothing was posted through the other connection"
    );
    assert_eq!(
        stage
            .count("SELECT count(*) FROM publish_tasks WHERE status = 'queued'")
            .await,
        1
    );
    // The task's own announcement runs it, once, on its own account.
    sqs.send_message()
        .queue_url(&stage.queue)
        .message_body(message(&who.connections[0]))
        .send()
        .await
        .unwrap();
    stage
        .wait_succeeded(1, Duration::from_secs(30), &[&process])
        .await;
    let posts = stage.posts().await;
    let posts = posts["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    let owner: String = sqlx::query_scalar(
        "SELECT external_account_id FROM platform_connections WHERE id = $1::uuid",
    )
    .bind(&who.connections[0])
    .fetch_one(&stage.pool)
    .await
    .unwrap();
    assert_eq!(posts[0]["account_id"], owner);
}

#[actix_web::test]
async fn the_relay_keeps_the_backlog_in_postgres_and_the_queue_to_its_window() {
    let stage = Stage::new(5, 5).await;
    let window = [
        ("PRASARAN__QUEUE__SQS__MAX_QUEUED_MESSAGES", "3"),
        ("PRASARAN__QUEUE__SQS__TASKS_PER_MESSAGE", "1"),
    ];
    // Only an api process: nothing takes messages off the queue yet.
    let api = stage.serve_with("api", &window).await;
    let who = connected(&api, &["windowed"]).await;
    let statuses = publish_many(&api, &who, 10).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED));
    wait_count(
        &stage,
        "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL",
        3,
        &[&api],
    )
    .await;
    // It stays there: the rest waits in the outbox, not in the queue.
    stage.wait_relay_ticks(&api, chrono::Utc::now()).await;
    assert_eq!(
        stage
            .count("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            .await,
        7
    );
    let sqs = stage.moto.sqs().await;
    let depth = sqs
        .get_queue_attributes()
        .queue_url(&stage.queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let depth = depth
        .attributes()
        .unwrap()
        .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .unwrap()
        .clone();
    assert_eq!(depth, "3");
    // A worker drains the window and the relay refills it until all is done.
    let worker = stage.serve_with("worker", &window).await;
    stage
        .wait_succeeded(10, Duration::from_secs(60), &[&api, &worker])
        .await;
    stage.assert_one_post_per_task(10).await;
}

#[actix_web::test]
async fn killed_between_its_uploads_and_its_post_a_process_never_uploads_again() {
    use image::ImageFormat;
    let stage = Stage::new(3, 50).await;
    let in_process = [("PRASARAN__QUEUE__KIND", "in_process")];
    let mut doomed = stage.serve_with("all", &in_process).await;
    let who = connected(&doomed, &["album"]).await;
    let base = doomed.address.clone();
    let mut ids = Vec::new();
    for n in 0..4 {
        let png = crate::media::encoded(8 + n, 8, ImageFormat::Png);
        let media: Value = crate::helpers::http()
            .post(format!("{base}/api/v1/media"))
            .bearer_auth(&who.token)
            .body(png)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(media["id"].as_str().unwrap().to_owned());
    }
    // Uploads go through; the post hangs: the process dies between the two.
    stage.faults(json!({"post_delay_ms": 60_000})).await;
    let response = crate::helpers::http()
        .post(format!("{base}/api/v1/posts"))
        .bearer_auth(&who.token)
        .json(&json!({"content": "four in one", "media_ids": ids}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sandbox_calls(&stage.manch.base_url).await["media_uploads"] != 4 {
        assert!(
            Instant::now() < deadline,
            "uploads never finished: {}",
            doomed.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Each upload is recorded before the post is sent.
    wait_count(&stage, "SELECT count(*) FROM task_media", 4, &[&doomed]).await;
    doomed.kill9();
    stage.faults(json!({"post_delay_ms": 0})).await;
    let again = stage.serve_with("all", &in_process).await;

    stage
        .wait_succeeded(1, Duration::from_secs(90), &[&again])
        .await;
    let calls = sandbox_calls(&stage.manch.base_url).await;
    assert_eq!(calls["media_uploads"], 4, "nothing uploaded twice: {calls}");
    let posts = stage.posts().await;
    let made: Vec<&Value> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["text"] == "four in one")
        .collect();
    assert_eq!(made.len(), 1, "{posts}");
    assert_eq!(made[0]["media"].as_array().unwrap().len(), 4);
}
