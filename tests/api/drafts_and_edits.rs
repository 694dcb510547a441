//! Drafts, editing and rescheduling waiting posts, per-target text, and the
//! listing by time the calendar reads — each checked against what the Manch
//! sandbox was actually sent.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, http};
use crate::stage::{Stage, accepted, get_as, job, publish, publisher, wait_job};

fn at(from_now: chrono::Duration) -> String {
    (chrono::Utc::now() + from_now).to_rfc3339()
}

async fn send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = http().request(method, app.url(path)).bearer_auth(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    send(app, token, reqwest::Method::PATCH, path, Some(body)).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> reqwest::Response {
    send(app, token, reqwest::Method::POST, path, body).await
}

/// The texts the sandbox received, sorted.
async fn sent_texts(stage: &Stage) -> Vec<String> {
    let posts = stage.posts().await;
    let mut texts: Vec<String> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect();
    texts.sort();
    texts
}

#[actix_web::test]
async fn an_edited_scheduled_post_goes_out_once_with_its_new_text_targets_and_time() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "edit@example.com", &["kept", "dropped"]).await;
    let id = accepted(
        &app,
        &p.token,
        json!({"content": "first thought", "scheduled_at": at(chrono::Duration::hours(1))}),
    )
    .await;
    let before = job(&app, &p.token, &id).await;
    assert_eq!(before["editable"], true, "{before}");
    let post_id = before["post_id"].as_str().unwrap().to_owned();
    let kept_task = before["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["connection_id"] == p.connections[0].as_str())
        .unwrap()["id"]
        .clone();

    let edited = patch(
        &app,
        &p.token,
        &format!("/api/v1/posts/{post_id}"),
        json!({"content": "second thought", "connection_ids": [p.connections[0]],
               "scheduled_at": at(chrono::Duration::seconds(2)), "time_zone": "Europe/Berlin"}),
    )
    .await;
    assert_eq!(edited.status(), StatusCode::OK, "{:?}", edited.text().await);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["content"], "second thought");
    assert_eq!(edited["time_zone"], "Europe/Berlin");
    let tasks = edited["tasks"].as_array().unwrap();
    assert_eq!(
        tasks.len(),
        1,
        "the dropped target's task is gone: {edited}"
    );
    assert_eq!(
        tasks[0]["id"], kept_task,
        "a kept target keeps its task (and key)"
    );

    let done = wait_job(&app, &p.token, &id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(sent_texts(&stage).await, ["second thought"]);
    stage.assert_each_task_sent_once().await;
    let history: Vec<String> = done["tasks"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str().map(str::to_owned))
        .collect();
    assert!(
        history.iter().any(|d| d == "edited"),
        "the edit is in the history: {history:?}"
    );

    // Once it has gone out, it stays as it went.
    let late = patch(
        &app,
        &p.token,
        &format!("/api/v1/posts/{post_id}"),
        json!({"content": "third"}),
    )
    .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(late).await, "not_editable");
}

#[actix_web::test]
async fn a_post_whose_target_has_started_is_refused_naming_the_target() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "started@example.com", &["busy"]).await;
    // Every call fails for now: the task has started and waits for its retry.
    stage.faults(json!({"error_rate": 1.0})).await;
    let id = accepted(&app, &p.token, json!({"content": "on its way"})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let post_id = loop {
        let view = job(&app, &p.token, &id).await;
        if view["tasks"][0]["attempts"].as_i64().unwrap_or(0) > 0 {
            assert_eq!(view["editable"], false, "{view}");
            break view["post_id"].as_str().unwrap().to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never attempted: {view}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let refused = patch(
        &app,
        &p.token,
        &format!("/api/v1/posts/{post_id}"),
        json!({"content": "changed"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "already_started", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Manch") && message.contains("busy"),
        "{message}"
    );
    stage.faults(json!({"error_rate": 0.0})).await;
    let done = wait_job(&app, &p.token, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        sent_texts(&stage).await,
        ["on its way"],
        "the refused edit changed nothing"
    );
}

#[actix_web::test]
async fn a_variation_goes_to_its_own_target_and_is_checked_against_the_targets() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "vary@example.com", &["plain", "special"]).await;
    let stranger = uuid::Uuid::new_v4();
    let refused = publish(
        &app,
        &p.token,
        json!({"content": "x", "variations": [{"connection_id": stranger, "content": "y"}]}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(refused).await, "invalid_variations");
    for shape in [
        json!({"content": "x", "options": []}),
        json!({"content": "x", "variations": [[stranger, "y"]]}),
    ] {
        let response = publish(&app, &p.token, shape.clone()).await;
        assert!(
            response.status().is_client_error(),
            "{shape} was taken: {}",
            response.status()
        );
    }

    let id = accepted(
        &app,
        &p.token,
        json!({"content": "for everyone",
               "variations": [{"connection_id": p.connections[1], "content": "just for special"}]}),
    )
    .await;
    let done = wait_job(&app, &p.token, &id, Duration::from_secs(15)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        sent_texts(&stage).await,
        ["for everyone", "just for special"]
    );
    assert_eq!(done["variations"][0]["content"], "just for special");
    let special = done["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["connection_id"] == p.connections[1].as_str())
        .unwrap();
    assert_eq!(special["content"], "just for special");
}

#[actix_web::test]
async fn a_draft_is_saved_changed_listed_and_published_once() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "drafts@example.com", &["drafty"]).await;
    for not_an_object in [json!([null, null]), json!(["text"])] {
        let refused = post(
            &app,
            &p.token,
            "/api/v1/drafts",
            Some(not_an_object.clone()),
        )
        .await;
        assert!(
            refused.status().is_client_error(),
            "{not_an_object} was taken"
        );
        let refused = publish(&app, &p.token, not_an_object.clone()).await;
        assert!(
            refused.status().is_client_error(),
            "{not_an_object} was published"
        );
    }
    let created = post(&app, &p.token, "/api/v1/drafts", Some(json!({}))).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let draft: Value = created.json().await.unwrap();
    assert_eq!(draft["status"], "draft");
    let path = format!("/api/v1/drafts/{}", draft["id"].as_str().unwrap());

    // An empty draft cannot go out, and says so.
    let empty = post(&app, &p.token, &format!("{path}/publish"), None).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(empty).await, "invalid_content");
    let bad = patch(
        &app,
        &p.token,
        &path,
        json!({"connection_ids": [uuid::Uuid::new_v4()]}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(bad).await, "invalid_targets");

    let changed = patch(
        &app,
        &p.token,
        &path,
        json!({"content": "written later", "connection_ids": [p.connections[0]]}),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let listed = get_as(&app, &p.token, "/api/v1/drafts").await;
    assert_eq!(listed["drafts"].as_array().unwrap().len(), 1);
    assert_eq!(listed["drafts"][0]["content"], "written later");
    assert_eq!(stage.post_count().await, 0, "a draft is never sent");

    // Another user sees nothing of it.
    let other = publisher(&app.new_browser(), "other@example.com", &[]).await;
    let hidden = send(&app, &other.token, reqwest::Method::GET, &path, None).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    let published = post(&app, &p.token, &format!("{path}/publish"), None).await;
    assert_eq!(published.status(), StatusCode::ACCEPTED);
    let job_id = published.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = wait_job(&app, &p.token, &job_id, Duration::from_secs(15)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(sent_texts(&stage).await, ["written later"]);
    // The draft now names what it became, leaves the list, cannot change, and
    // a second publish answers the first.
    let kept = get_as(&app, &p.token, &path).await;
    assert_eq!(kept["status"], "published");
    assert_eq!(kept["published_job_id"], job_id.as_str());
    assert_eq!(
        get_as(&app, &p.token, "/api/v1/drafts").await["drafts"],
        json!([])
    );
    let late = patch(&app, &p.token, &path, json!({"content": "too late"})).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(late).await, "not_editable");
    let again = post(&app, &p.token, &format!("{path}/publish"), None).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(
        again.json::<Value>().await.unwrap()["job_id"],
        job_id.as_str()
    );

    // Post again: a draft with the same text and targets, which publishes anew.
    let again = post(
        &app,
        &p.token,
        &format!(
            "/api/v1/posts/{}/duplicate",
            done["post_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let copy: Value = again.json().await.unwrap();
    assert_eq!(copy["content"], "written later");
    assert_eq!(copy["connection_ids"], json!([p.connections[0]]));
    let copy_path = format!("/api/v1/drafts/{}", copy["id"].as_str().unwrap());
    let deleted = send(&app, &p.token, reqwest::Method::DELETE, &copy_path, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get_as(&app, &p.token, "/api/v1/drafts").await["drafts"],
        json!([])
    );
    assert_eq!(stage.post_count().await, 1);
}

#[actix_web::test]
async fn posts_are_listed_by_time_status_platform_and_text() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "calendar@example.com", &["dated"]).await;
    let now = chrono::Utc::now();
    let beta = accepted(
        &app,
        &p.token,
        json!({"content": "Beta later", "scheduled_at": at(chrono::Duration::hours(2))}),
    )
    .await;
    let alpha = accepted(
        &app,
        &p.token,
        json!({"content": "alpha soon", "scheduled_at": at(chrono::Duration::hours(1))}),
    )
    .await;
    let gamma = accepted(&app, &p.token, json!({"content": "gamma now"})).await;
    wait_job(&app, &p.token, &gamma, Duration::from_secs(15)).await;

    let ids = |page: &Value| -> Vec<String> {
        page["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let from = urlencoding(&(now + chrono::Duration::minutes(30)).to_rfc3339());
    let upcoming = get_as(
        &app,
        &p.token,
        &format!("/api/v1/posts?order=time&from={from}"),
    )
    .await;
    assert_eq!(
        ids(&upcoming),
        [alpha.as_str(), beta.as_str()],
        "earliest first: {upcoming}"
    );
    // One at a time, the cursor walks the same order.
    let first = get_as(
        &app,
        &p.token,
        &format!("/api/v1/posts?order=time&from={from}&limit=1"),
    )
    .await;
    assert_eq!(ids(&first), [alpha.as_str()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get_as(
        &app,
        &p.token,
        &format!("/api/v1/posts?order=time&from={from}&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&second), [beta.as_str()]);

    assert_eq!(
        ids(&get_as(&app, &p.token, "/api/v1/posts?q=BETA").await),
        [beta.as_str()]
    );
    assert_eq!(
        ids(&get_as(&app, &p.token, "/api/v1/posts?q=%25").await),
        Vec::<String>::new(),
        "% is literal"
    );
    assert_eq!(
        ids(&get_as(&app, &p.token, "/api/v1/posts?status=succeeded").await),
        [gamma.as_str()]
    );
    assert_eq!(
        ids(&get_as(&app, &p.token, "/api/v1/posts?platform=manch").await).len(),
        3
    );
    assert_eq!(
        ids(&get_as(&app, &p.token, "/api/v1/posts?platform=bluesky").await).len(),
        0
    );
    let to = urlencoding(&(now + chrono::Duration::minutes(30)).to_rfc3339());
    assert_eq!(
        ids(&get_as(&app, &p.token, &format!("/api/v1/posts?to={to}")).await),
        [gamma.as_str()]
    );
    for wrong in ["status=done", "order=oldest", "from=yesterday", "q=%00"] {
        let response = send(
            &app,
            &p.token,
            reqwest::Method::GET,
            &format!("/api/v1/posts?{wrong}"),
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{wrong}");
        assert_eq!(error_code(response).await, "invalid_query");
    }
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn a_draft_changed_with_a_bad_zone_is_refused_and_kept() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "zone@example.com", &[]).await;
    let created = post(
        &app,
        &p.token,
        "/api/v1/drafts",
        Some(json!({"content": "lhB{%7_8", "connection_ids": null})),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = patch(
        &app,
        &p.token,
        &format!("/api/v1/drafts/{id}"),
        json!({"variations": null, "media_ids": [], "options": null, "content": "Hello from Prasaran",
               "time_zone": "\u{f0}\u{81}", "scheduled_at": null, "connection_ids": null}),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(changed).await, "invalid_time_zone");
}
