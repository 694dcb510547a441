//! What README.md promises and no other test held it to: `Idempotency-Key`
//! replays per user, resuming an event stream with `Last-Event-ID`,
//! `nothing_to_retry`, CSRF on every cookie-authenticated state change, and
//! readiness while the database is gone.

use std::str::FromStr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::helpers::{TestApp, error_code, http};
use crate::stage::{Stage, accepted, job, publisher, wait_job};

/// How long a job of these tests may take to become final.
const JOB_LIMIT: Duration = Duration::from_secs(20);

/// `POST /api/v1/posts` as a script does it, with an `Idempotency-Key`.
async fn publish_keyed(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    http()
        .post(app.url("/api/v1/posts"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn replayed(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("Idempotent-Replayed")
        .map(|v| v.to_str().unwrap())
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer_for_its_own_user_only() {
    let stage = Stage::new();
    let app = stage.app().await;
    let ada = publisher(&app, "ada@example.com", &["ada"]).await;
    let bob_browser = app.new_browser();
    let bob = publisher(&bob_browser, "bob@example.com", &["bob"]).await;
    let body = json!({"content": "said once"});

    let first = publish_keyed(&app, &ada.token, "post-1", &body).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert_eq!(replayed(&first), None, "a first answer is no replay");
    let first: Value = first.json().await.unwrap();
    let ada_job = first["job_id"].as_str().unwrap().to_owned();
    let ada_view = wait_job(&app, &ada.token, &ada_job, JOB_LIMIT).await;
    assert_eq!(ada_view["status"], "succeeded", "{ada_view}");

    let again = publish_keyed(&app, &ada.token, "post-1", &body).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(replayed(&again), Some("true"));
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, post and job ids alike");

    let changed = publish_keyed(
        &app,
        &ada.token,
        "post-1",
        &json!({"content": "said twice"}),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(changed).await, "idempotency_key_reused");
    assert_eq!(app.count_rows("publish_jobs").await, 1);
    assert_eq!(app.count_rows("publish_tasks").await, 1);

    // Keys are scoped per user: Bob's "post-1" is a new post of his own.
    let bobs = publish_keyed(&app, &bob.token, "post-1", &body).await;
    assert_eq!(bobs.status(), StatusCode::ACCEPTED);
    assert_eq!(replayed(&bobs), None, "another user's key is another key");
    let bobs: Value = bobs.json().await.unwrap();
    let bob_job = bobs["job_id"].as_str().unwrap().to_owned();
    assert_ne!(bob_job, ada_job);
    let bob_view = wait_job(&app, &bob.token, &bob_job, JOB_LIMIT).await;
    assert_eq!(bob_view["status"], "succeeded", "{bob_view}");
    assert_eq!(bob_view["tasks"][0]["handle"], "bob", "{bob_view}");
    assert_eq!(app.count_rows("publish_jobs").await, 2);

    // Manch saw one post per user (a task's id is the key it is sent with):
    // neither the replay nor the refused body reached the platform.
    let posts = stage.posts().await;
    let mut sent: Vec<&str> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["idempotency_key"].as_str().unwrap())
        .collect();
    let mut tasks = vec![
        ada_view["tasks"][0]["id"].as_str().unwrap(),
        bob_view["tasks"][0]["id"].as_str().unwrap(),
    ];
    sent.sort_unstable();
    tasks.sort_unstable();
    assert_eq!(sent, tasks, "{posts}");
}

/// `POST /api/v1/jobs/{id}/retry` with the user's API token.
async fn retry(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    http()
        .post(app.url(&format!("/api/v1/jobs/{id}/retry")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn events_of(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM publish_task_events WHERE job_id = $1")
        .bind(uuid::Uuid::parse_str(id).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[actix_web::test]
async fn retrying_a_job_with_no_failed_target_is_409_nothing_to_retry() {
    let stage = Stage::new();
    // One attempt: a failing call fails its target at once.
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.max_attempts = 1.try_into().unwrap();
    })
    .await;
    let p = publisher(&app, "retry@example.com", &["retry"]).await;

    // A post waiting for its time has nothing failed.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let scheduled = accepted(
        &app,
        &p.token,
        json!({"content": "in an hour", "scheduled_at": later}),
    )
    .await;
    let response = retry(&app, &p.token, &scheduled).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "nothing_to_retry");
    let view = job(&app, &p.token, &scheduled).await;
    assert_eq!(view["status"], "pending", "{view}");
    assert_eq!(view["tasks"][0]["status"], "queued", "{view}");

    // A failed target is retried (202)...
    stage.faults(json!({"error_rate": 1.0})).await;
    let id = accepted(&app, &p.token, json!({"content": "fails first"})).await;
    let view = wait_job(&app, &p.token, &id, JOB_LIMIT).await;
    assert_eq!(view["status"], "failed", "{view}");
    stage.faults(json!({"error_rate": 0.0})).await;
    let response = retry(&app, &p.token, &id).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.json::<Value>().await.unwrap()["tasks"], 1);
    let view = wait_job(&app, &p.token, &id, JOB_LIMIT).await;
    assert_eq!(view["status"], "succeeded", "{view}");

    // ...and once it succeeded, the same job has nothing left to retry.
    let events = events_of(&app, &id).await;
    let response = retry(&app, &p.token, &id).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "nothing_to_retry");
    assert_eq!(events_of(&app, &id).await, events, "no task changed");
    let after = job(&app, &p.token, &id).await;
    assert_eq!(after["status"], "succeeded", "{after}");
    assert_eq!(after["tasks"][0]["attempts"], view["tasks"][0]["attempts"]);
    assert_eq!(stage.post_count().await, 1);
}

/// One Server-Sent Event: its `id:` (transitions only), name and data.
#[derive(Debug)]
struct Event {
    id: Option<i64>,
    name: String,
    data: Value,
}

/// `GET /api/v1/jobs/{id}/events`, read event by event as it arrives.
struct EventStream {
    response: reqwest::Response,
    /// Bytes received but not yet a whole event (a chunk may end anywhere).
    buffer: Vec<u8>,
}

/// The longest silence a live stream may keep (it sends a keep-alive after 5 s).
const STREAM_SILENCE: Duration = Duration::from_secs(10);

impl EventStream {
    async fn open(app: &TestApp, token: &str, job: &str, last_event_id: Option<i64>) -> Self {
        let mut request = http()
            .get(app.url(&format!("/api/v1/jobs/{job}/events")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, skipping comments; `None` once the server ended the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let bytes: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(bytes).unwrap();
                let (mut id, mut name, mut data) = (None, None, None);
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id: ") {
                        id = Some(value.parse().unwrap());
                    } else if let Some(value) = line.strip_prefix("event: ") {
                        name = Some(value.to_owned());
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(value).unwrap());
                    }
                }
                // A block without an event is a comment (`: keep-alive`).
                if let Some(name) = name {
                    let data = data.unwrap_or_else(|| panic!("event without data: {block:?}"));
                    return Some(Event { id, name, data });
                }
            }
            let chunk = tokio::time::timeout(STREAM_SILENCE, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("the stream was silent for {STREAM_SILENCE:?}"))
                .unwrap();
            match chunk {
                Some(bytes) => self.buffer.extend_from_slice(&bytes),
                None => {
                    let rest = String::from_utf8_lossy(&self.buffer);
                    assert!(rest.trim().is_empty(), "cut off: {rest:?}");
                    return None;
                }
            }
        }
    }
}

/// The transition ids of a job, as stored.
async fn stored_transitions(app: &TestApp, job: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM publish_task_events WHERE job_id = $1 ORDER BY id")
        .bind(uuid::Uuid::parse_str(job).unwrap())
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[actix_web::test]
async fn an_event_stream_resumed_with_last_event_id_sends_only_what_came_after() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "resume@example.com", &["resume_a", "resume_b"]).await;
    // Slow calls, so the job usually still runs when the stream is resumed
    // (what happened in between must come too, as catch-up).
    stage.faults(json!({"latency_ms": 300})).await;
    let id = accepted(&app, &p.token, json!({"content": "follow me"})).await;

    // The client sees the snapshot and two transitions, then loses the connection.
    let mut first = EventStream::open(&app, &p.token, &id, None).await;
    let snapshot = first.next().await.unwrap();
    assert_eq!((snapshot.name.as_str(), snapshot.id), ("snapshot", None));
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = first.next().await.expect("the job has 6 transitions");
        assert_eq!(event.name, "transition", "{event:?}");
        let event_id = event.id.expect("a transition has an id:");
        assert_eq!(
            event.data["id"], event_id,
            "the id: line names the transition"
        );
        seen.push(event_id);
    }
    drop(first);
    let last = seen[1];

    let mut resumed = EventStream::open(&app, &p.token, &id, Some(last)).await;
    let snapshot = resumed.next().await.unwrap();
    assert_eq!(snapshot.name, "snapshot", "{snapshot:?}");
    let mut after = Vec::new();
    let end = loop {
        let event = resumed.next().await.expect("the stream ends with `end`");
        match event.name.as_str() {
            "transition" => {
                let event_id = event.id.expect("a transition has an id:");
                assert_eq!(event.data["id"], event_id);
                after.push(event_id);
            }
            "end" => break event,
            other => panic!("unexpected event {other}: {event:?}"),
        }
    };
    assert_eq!(end.data["status"], "succeeded", "{end:?}");
    assert!(resumed.next().await.is_none(), "nothing after `end`");

    assert!(!after.is_empty(), "the job went on after the reconnect");
    assert!(
        after.iter().all(|&i| i > last),
        "only later transitions after {last}: {after:?}"
    );
    // None repeated, none missing, in order: what was seen before and after
    // the reconnect is exactly every stored transition of the job.
    seen.extend(&after);
    let stored = stored_transitions(&app, &id).await;
    assert_eq!(stored.len(), 6, "two targets, three transitions each");
    assert_eq!(seen, stored);
}

/// State-changing routes that take no CSRF token: they are not authenticated
/// by a session (they start one, or carry a mailed token that is their own
/// proof) (README "API"; DESIGN §4). Every other unsafe route in the OpenAPI
/// document is checked, so a new one is checked too.
const WITHOUT_CSRF: [&str; 5] = [
    "POST /api/v1/auth/signup",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/verify-email",
    "POST /api/v1/auth/forgot-password",
    "POST /api/v1/auth/reset-password",
];

/// One operation of the served OpenAPI document, its path filled in.
struct Operation {
    /// `METHOD /templated/path`, as the document names it.
    route: String,
    method: reqwest::Method,
    url_path: String,
}

/// Every POST, PUT, PATCH and DELETE of the served document, with each path
/// parameter filled with a plausible value (a fresh UUID where the document
/// says uuid): a CSRF check must refuse before anything is looked up.
async fn unsafe_operations(app: &TestApp) -> Vec<Operation> {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let mut url_path = path.clone();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] != "path" {
                    continue;
                }
                let name = parameter["name"].as_str().unwrap();
                let value = if parameter["schema"]["format"] == "uuid" {
                    uuid::Uuid::new_v4().to_string()
                } else if name == "platform" {
                    "manch".to_owned()
                } else {
                    "plausible".to_owned()
                };
                url_path = url_path.replace(&format!("{{{name}}}"), &value);
            }
            assert!(!url_path.contains('{'), "unfilled parameter in {url_path}");
            operations.push(Operation {
                route: format!("{} {path}", method.to_uppercase()),
                method: method.to_uppercase().parse().unwrap(),
                url_path,
            });
        }
    }
    operations
}

async fn send(app: &TestApp, operation: &Operation, csrf: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .request(operation.method.clone(), app.url(&operation.url_path))
        .json(&json!({}));
    if let Some(token) = csrf {
        request = request.header("X-CSRF-Token", token);
    }
    request.send().await.unwrap()
}

#[actix_web::test]
async fn every_cookie_authenticated_state_change_needs_the_csrf_token() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("csrf@example.com").await;
    let operations = unsafe_operations(&app).await;
    let routes: Vec<&str> = operations.iter().map(|o| o.route.as_str()).collect();
    for route in WITHOUT_CSRF {
        assert!(routes.contains(&route), "{route} is no longer served");
    }
    let (exempt, mut checked): (Vec<&Operation>, Vec<&Operation>) = operations
        .iter()
        .partition(|o| WITHOUT_CSRF.contains(&o.route.as_str()));
    assert!(
        routes.contains(&"POST /api/v1/posts") && checked.len() >= 8,
        "the document lists the state-changing routes: {routes:?}"
    );

    for operation in &checked {
        for sent in [None, Some("not-the-sessions-token")] {
            let response = send(&app, operation, sent).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{} with X-CSRF-Token {sent:?}",
                operation.route
            );
            assert_eq!(
                error_code(response).await,
                "csrf_failed",
                "{}",
                operation.route
            );
        }
    }

    // The same requests with the session's token get past the check: it was
    // the token that was missing, not the session. Logging out (here, or
    // everywhere) goes last, each from a fresh login.
    checked.sort_by_key(|o| o.route.contains("/logout"));
    let mut csrf = csrf;
    for operation in &checked {
        if operation.route.contains("/logout") {
            let login = app
                .login("csrf@example.com", crate::helpers::PASSWORD)
                .await;
            assert_eq!(login.status(), StatusCode::OK);
            let body: Value = login.json().await.unwrap();
            csrf = body["csrf_token"].as_str().unwrap().to_owned();
        }
        let response = send(&app, operation, Some(&csrf)).await;
        let status = response.status();
        assert!(
            status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
            "{} with the token: {status} {}",
            operation.route,
            response.text().await.unwrap()
        );
    }
    assert_eq!(
        app.me().await.status(),
        StatusCode::UNAUTHORIZED,
        "logged out at last"
    );

    // The exceptions are exceptions indeed: without a token (and without a
    // usable body) they answer anything but `csrf_failed`.
    for operation in exempt {
        let response = send(&app, operation, None).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status != StatusCode::FORBIDDEN && !body.contains("csrf_failed"),
            "{}: {status} {body}",
            operation.route
        );
    }
}

/// Polls `path` until it answers `status`; fails the test after `limit`.
async fn wait_status(app: &TestApp, path: &str, status: StatusCode, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let response = app.get(path).await;
        let now = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if now == status {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still {now} after {limit:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A superuser connection to the app's database server, not to its database.
async fn admin_of(app: &TestApp) -> (PgConnection, String) {
    let url = app.settings.database.url.as_ref().unwrap().expose_secret();
    let options = PgConnectOptions::from_str(url).unwrap();
    let name = options.get_database().unwrap().to_owned();
    let admin = PgConnection::connect_with(&options.database("postgres"))
        .await
        .unwrap();
    (admin, name)
}

async fn allow_connections(admin: &mut PgConnection, database: &str, allow: bool) {
    // A name the test made (`prasaran_test_<hex>`), quoted all the same.
    let statement = format!("ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {allow}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *admin)
        .await
        .unwrap();
}

#[actix_web::test]
async fn readiness_is_503_while_the_database_is_unreachable_and_recovers() {
    let app = TestApp::spawn().await;
    wait_status(
        &app,
        "/health/ready",
        StatusCode::OK,
        Duration::from_secs(15),
    )
    .await;

    let (mut admin, database) = admin_of(&app).await;
    allow_connections(&mut admin, &database, false).await;
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&database)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!ended.is_empty(), "connections to the database were ended");

    let body = wait_status(
        &app,
        "/health/ready",
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(body["error"]["code"], "not_ready", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("database"),
        "the reason is the database: {body}"
    );
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), StatusCode::OK, "the process itself is alive");

    allow_connections(&mut admin, &database, true).await;
    wait_status(
        &app,
        "/health/ready",
        StatusCode::OK,
        Duration::from_secs(30),
    )
    .await;
}
