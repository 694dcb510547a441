//! The Matrix adapter against the genuine Synapse homeserver: rooms as
//! targets beside Manch, access tokens that expire every ten seconds through
//! a minute of publishing, the homeserver's message rate, a crash between a
//! send and its outcome, reconnecting to the same device, an image with alt
//! text. A recording proxy between Prasaran and Synapse counts and times
//! the calls the server cannot be asked about.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, error_code};
use crate::stage::{accepted, publish, wait_job};
use crate::synapse::{Session, Synapse, SynapseOptions};
use crate::wiretap::Wiretap;

const PASSWORD: &str = "correct horse battery";

/// An app offering Matrix on plain-http loopback homeservers (the test's Synapse).
async fn app_with_matrix() -> TestApp {
    TestApp::spawn_with(|s| {
        s.platforms.matrix.enabled = true;
        s.platforms.matrix.allow_http_homeservers = true;
        // Refresh a little before a ten-second token runs out, not a minute.
        s.engine.refresh_before_expiry_secs = 2.try_into().unwrap();
    })
    .await
}

/// `alice` on the server with the rooms named, created by a login of her own
/// (another device than Prasaran's); that session and the room ids.
async fn member_with_rooms(synapse: &Synapse, rooms: &[&str]) -> (Session, Vec<String>) {
    synapse.register("alice", PASSWORD).await;
    let own = synapse.login("alice", PASSWORD, None).await;
    let mut ids = Vec::new();
    for name in rooms {
        ids.push(synapse.create_room(&own.access_token, name).await);
    }
    (own, ids)
}

async fn sign_in(browser: &Browser, csrf: &str, server: &str, password: &str) -> reqwest::Response {
    browser
        .client
        .post(browser.url("/api/v1/connections/matrix/sign-in"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"identifier": "@alice:localhost", "password": password, "server": server}))
        .send()
        .await
        .unwrap()
}

async fn connected(browser: &Browser, csrf: &str, server: &str) -> Value {
    let response = sign_in(browser, csrf, server, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn pick(
    browser: &Browser,
    csrf: &str,
    connection: &Value,
    rooms: &[&str],
) -> reqwest::Response {
    browser
        .client
        .put(browser.url(&format!(
            "/api/v1/connections/{}/destinations",
            connection["id"].as_str().unwrap()
        )))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "selected": rooms }))
        .send()
        .await
        .unwrap()
}

/// The room's messages as the test's own session reads them (refreshing it
/// when the homeserver's short token lifetime has passed).
async fn room_messages(synapse: &Synapse, own: &mut Session, room: &str) -> Vec<Value> {
    if synapse.whoami(&own.access_token).await.is_err() {
        let fresh = synapse
            .refresh(own.refresh_token.as_deref().unwrap())
            .await
            .unwrap();
        own.access_token = fresh["access_token"].as_str().unwrap().to_owned();
        own.refresh_token = fresh["refresh_token"].as_str().map(str::to_owned);
    }
    synapse.messages(&own.access_token, room).await
}

fn bodies(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["content"]["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn one_publish_lands_once_on_manch_and_in_each_of_two_picked_rooms() {
    let synapse = Synapse::start(SynapseOptions::default()).await;
    let (mut own, rooms) =
        member_with_rooms(&synapse, &["Announcements", "Releases", "Random"]).await;
    let app = app_with_matrix().await;
    let csrf = app.signed_up("rooms@example.com").await;
    app.connect_manch(&csrf, "manch_rooms").await;
    let connection = connected(&app, &csrf, &synapse.url).await;
    assert_eq!(connection["handle"], "@alice:localhost");
    let names: Vec<&str> = connection["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Announcements", "Random", "Releases"]);
    let token = app.api_token(&csrf).await;

    // Nothing picked yet: refused with what to do, nothing stored.
    let refused = publish(&app, &token, json!({"content": "too early"})).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(refused).await, "no_destination");
    let unknown = pick(&app, &csrf, &connection, &["!nope:localhost"]).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(unknown).await, "invalid_destination");
    let picked = pick(&app, &csrf, &connection, &[&rooms[0], &rooms[1]]).await;
    assert_eq!(picked.status(), StatusCode::OK);
    let picked: Value = picked.json().await.unwrap();
    let selected: Vec<&str> = picked["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["selected"] == true)
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(selected, ["Announcements", "Releases"]);

    let text = "Release notes: https://example.com/notes?a=1&b=2 <3";
    let id = accepted(&app, &token, json!({ "content": text })).await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let tasks = view["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3, "Manch and two rooms: {view}");
    let mut rooms_named: Vec<&str> = tasks
        .iter()
        .filter_map(|t| t["destination_name"].as_str())
        .collect();
    rooms_named.sort();
    assert_eq!(rooms_named, ["Announcements", "Releases"]);

    for room in &rooms[..2] {
        let messages = room_messages(&synapse, &mut own, room).await;
        assert_eq!(bodies(&messages), [text], "one message in {room}");
        let content = &messages[0]["content"];
        assert_eq!(content["msgtype"], "m.text");
        assert_eq!(content["format"], "org.matrix.custom.html");
        let html = content["formatted_body"].as_str().unwrap();
        assert!(
            html.contains(r#"<a href="https://example.com/notes?a=1&amp;b=2">"#),
            "{html}"
        );
        assert!(html.ends_with("&lt;3"), "{html}");
        let task = tasks
            .iter()
            .find(|t| t["destination"] == room.as_str())
            .unwrap();
        assert_eq!(task["external_post_id"], messages[0]["event_id"]);
    }
    assert!(
        room_messages(&synapse, &mut own, &rooms[2])
            .await
            .is_empty()
    );
    let manch = crate::helpers::sandbox_posts(&app.sandbox().base_url).await;
    assert_eq!(manch["posts"].as_array().unwrap().len(), 1);

    // A wrong password is the user's to fix, and says so.
    let wrong = sign_in(&app, &csrf, &synapse.url, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let body: Value = wrong.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Matrix ID or password"),
        "{body}"
    );
}

#[actix_web::test]
async fn ten_second_tokens_are_refreshed_one_at_a_time_through_a_minute_of_publishing() {
    let synapse = Synapse::start(SynapseOptions {
        token_lifetime: Some("10s"),
        message_rate: None,
    })
    .await;
    let (mut own, rooms) = member_with_rooms(&synapse, &["Stream"]).await;
    let tap = Wiretap::start(&synapse.url).await;
    let app = app_with_matrix().await;
    let csrf = app.signed_up("stream@example.com").await;
    let connection = connected(&app, &csrf, &tap.url).await;
    assert_eq!(
        connection["destinations"][0]["selected"], true,
        "the only room is picked"
    );
    let token = app.api_token(&csrf).await;

    // Two posts a second for a minute, each waited for by nobody.
    let started = Instant::now();
    let mut ids = Vec::new();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(60) {
        for _ in 0..2 {
            ids.push(accepted(&app, &token, json!({ "content": format!("stream {n}") })).await);
            n += 1;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    for id in &ids {
        let view = wait_job(&app, &token, id, Duration::from_secs(60)).await;
        assert_eq!(view["status"], "succeeded", "{view}");
    }

    let messages = room_messages(&synapse, &mut own, &rooms[0]).await;
    let mut seen = bodies(&messages);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), ids.len(), "every post once");
    assert_eq!(messages.len(), ids.len(), "and no post twice");

    let refreshes = tap.calls("/_matrix/client/v3/refresh");
    let refused_tokens = tap
        .calls("/send/m.room.message/")
        .iter()
        .filter(|c| c.status == 401)
        .count();
    println!(
        "matrix refresh: {} posts in 60 s, {} refreshes, {} sends refused as expired (10 s tokens)",
        ids.len(),
        refreshes.len(),
        refused_tokens
    );
    assert!(
        refreshes.len() >= 5,
        "a minute of 10 s tokens: {}",
        refreshes.len()
    );
    assert!(
        refreshes.iter().all(|c| c.status == 200),
        "no refresh refused (a reused refresh token is a 403): {:?}",
        refreshes.iter().map(|c| c.status).collect::<Vec<_>>()
    );
    for pair in refreshes.windows(2) {
        assert!(
            pair[1].arrived >= pair[0].answered,
            "two refreshes of one connection overlapped"
        );
    }
    assert!(
        refreshes.len() <= 20,
        "refreshed ahead of expiry, not per post: {}",
        refreshes.len()
    );
}

#[actix_web::test]
async fn a_burst_beyond_the_message_rate_waits_as_told_and_every_message_lands_once() {
    let synapse = Synapse::start(SynapseOptions {
        token_lifetime: None,
        message_rate: Some((0.5, 3)),
    })
    .await;
    let (mut own, rooms) = member_with_rooms(&synapse, &["Burst"]).await;
    let tap = Wiretap::start(&synapse.url).await;
    let app = app_with_matrix().await;
    let csrf = app.signed_up("burst@example.com").await;
    connected(&app, &csrf, &tap.url).await;
    let token = app.api_token(&csrf).await;

    let started = Instant::now();
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(accepted(&app, &token, json!({ "content": format!("burst {n}") })).await);
    }
    for id in &ids {
        let view = wait_job(&app, &token, id, Duration::from_secs(90)).await;
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    let took = started.elapsed();
    let messages = room_messages(&synapse, &mut own, &rooms[0]).await;
    let mut seen = bodies(&messages);
    seen.sort();
    assert_eq!(
        seen,
        (0..8).map(|n| format!("burst {n}")).collect::<Vec<_>>(),
        "each once"
    );
    let sends = tap.calls("/send/m.room.message/");
    let limited = sends.iter().filter(|c| c.status == 429).count();
    println!(
        "matrix rate limit: 8 posts at 0.5/s (burst 3): {} sends, {limited} answered 429, all landed in {:.1} s",
        sends.len(),
        took.as_secs_f64()
    );
    assert!(limited >= 1, "the burst went beyond rc_message");
    // The first burst meets the limit with every concurrent call (3 of 8 get
    // through: 5 refusals); after that the worker sends one per wait Synapse
    // named, refused again only when a paced call arrives a little early (a
    // loaded machine: 9 seen). Knocking again with all its calls, as it did
    // before it paced, was 21 refusals.
    assert!(limited <= 12, "{limited} answers were 429");
    // 5 beyond the burst at one per two seconds.
    assert!(took >= Duration::from_secs(8), "{took:?}");
}

#[actix_web::test]
async fn killed_between_the_send_and_its_outcome_a_restart_leaves_one_message() {
    let synapse = Synapse::start(SynapseOptions::default()).await;
    let (mut own, rooms) = member_with_rooms(&synapse, &["Crash"]).await;
    let tap = Wiretap::start(&synapse.url).await;
    let database = crate::helpers::TestDatabase::create().await;
    let pool = database.pool().await;
    let data_dir = tempfile::tempdir().unwrap();
    let env = crate::stage::process_env(
        &database,
        data_dir.path(),
        &[
            ("PRASARAN__PLATFORMS__MATRIX__ENABLED", "true"),
            (
                "PRASARAN__PLATFORMS__MATRIX__ALLOW_HTTP_HOMESERVERS",
                "true",
            ),
        ],
    );
    let mut doomed = crate::cloud::Serve::start("all", &env).await;
    let browser = Browser::new(&doomed.address);
    let csrf = browser.signed_up("crash@example.com").await;
    connected(&browser, &csrf, &tap.url).await;
    let token = browser.api_token(&csrf).await;

    // Synapse stores each message; Prasaran never hears back.
    tap.hold_answers("/send/m.room.message/");
    for n in 0..2 {
        let response = crate::helpers::http()
            .post(format!("{}/api/v1/posts", doomed.address))
            .bearer_auth(&token)
            .json(&json!({ "content": format!("crash test {n}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while room_messages(&synapse, &mut own, &rooms[0]).await.len() < 2 {
        assert!(Instant::now() < deadline, "{}", doomed.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    doomed.kill9();
    tap.release();

    let again = crate::cloud::Serve::start("all", &env).await;
    crate::stage::wait_tasks_succeeded(&pool, 2, Duration::from_secs(90), || again.log_text())
        .await;
    let messages = room_messages(&synapse, &mut own, &rooms[0]).await;
    assert_eq!(
        messages.len(),
        2,
        "one message per task: {:?}",
        bodies(&messages)
    );
    let mut recorded: Vec<String> =
        sqlx::query_scalar("SELECT external_post_id FROM publish_tasks")
            .fetch_all(&pool)
            .await
            .unwrap();
    recorded.sort();
    let mut made: Vec<String> = messages
        .iter()
        .map(|m| m["event_id"].as_str().unwrap().to_owned())
        .collect();
    made.sort();
    assert_eq!(
        recorded, made,
        "each task found the message its lost attempt made"
    );
}

#[actix_web::test]
async fn reconnecting_keeps_the_device_and_the_rooms_picked_and_disconnecting_logs_it_out() {
    let synapse = Synapse::start(SynapseOptions::default()).await;
    let (own, rooms) = member_with_rooms(&synapse, &["One", "Two"]).await;
    let app = app_with_matrix().await;
    let csrf = app.signed_up("again@example.com").await;
    let first = connected(&app, &csrf, &synapse.url).await;
    assert_eq!(
        pick(&app, &csrf, &first, &[&rooms[1]]).await.status(),
        StatusCode::OK
    );
    let devices = |names: Vec<String>| names.iter().filter(|n| *n == "Prasaran").count();
    assert_eq!(devices(synapse.device_names(&own.access_token).await), 1);

    let second = connected(&app, &csrf, &synapse.url).await;
    assert_eq!(second["id"], first["id"], "the same connection");
    assert_eq!(
        devices(synapse.device_names(&own.access_token).await),
        1,
        "logged in to the same device, not a new one"
    );
    let picked: Vec<&str> = second["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["selected"] == true)
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(picked, ["Two"]);

    let gone = app
        .client
        .delete(app.url(&format!(
            "/api/v1/connections/{}",
            second["id"].as_str().unwrap()
        )))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    assert_eq!(
        devices(synapse.device_names(&own.access_token).await),
        0,
        "the device was logged out"
    );
}

#[actix_web::test]
async fn an_image_goes_with_its_alt_text_before_the_text() {
    let synapse = Synapse::start(SynapseOptions::default()).await;
    let (mut own, rooms) = member_with_rooms(&synapse, &["Pictures"]).await;
    let app = app_with_matrix().await;
    let csrf = app.signed_up("pictures@example.com").await;
    connected(&app, &csrf, &synapse.url).await;
    let token = app.api_token(&csrf).await;
    let bytes = crate::media::encoded(64, 48, image::ImageFormat::Png);
    let image = crate::media::uploaded_with_alt(&app, &token, bytes, "a test pattern").await;

    let id = accepted(
        &app,
        &token,
        json!({ "content": "with a picture", "media_ids": [image] }),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let messages = room_messages(&synapse, &mut own, &rooms[0]).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    let picture = &messages[0]["content"];
    assert_eq!(picture["msgtype"], "m.image", "{picture}");
    assert_eq!(picture["body"], "a test pattern");
    assert!(
        picture["url"]
            .as_str()
            .unwrap()
            .starts_with("mxc://localhost/")
    );
    assert_eq!(picture["info"]["mimetype"], "image/png");
    assert_eq!(picture["info"]["w"], 64);
    assert_eq!(picture["info"]["h"], 48);
    assert!(picture["info"]["size"].as_u64().unwrap() > 0);
    assert_eq!(messages[1]["content"]["body"], "with a picture");
}

#[actix_web::test]
async fn logged_out_everywhere_at_the_homeserver_the_connection_needs_reauth() {
    let synapse = Synapse::start(SynapseOptions {
        token_lifetime: Some("10s"),
        message_rate: None,
    })
    .await;
    let (own, _) = member_with_rooms(&synapse, &["Gone"]).await;
    let app = app_with_matrix().await;
    let csrf = app.signed_up("gone@example.com").await;
    connected(&app, &csrf, &synapse.url).await;
    let token = app.api_token(&csrf).await;
    // Every device, Prasaran's too: its tokens, refresh token included, are dead.
    synapse.log_out_everywhere(&own.access_token).await;

    let id = accepted(&app, &token, json!({ "content": "into the void" })).await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "failed", "{view}");
    let why = view["tasks"][0]["last_error"].as_str().unwrap();
    assert!(why.contains("reconnect"), "{why}");
    let list: Value = app.get("/api/v1/connections").await.json().await.unwrap();
    assert_eq!(list["connections"][0]["status"], "needs_reauth");
}
