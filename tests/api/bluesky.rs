//! The Bluesky adapter against the genuine PDS (`pds.rs`): connecting with an
//! app password, posting with a TID planned at accept, Bluesky's grapheme
//! limit at accept.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cloud::Serve;
use crate::helpers::{Browser, TestApp, error_code, sandbox_posts};
use crate::media::{encoded, noise_png, uploaded_with_alt};
use crate::pds::{Account, Pds};
use crate::stage::{accepted, publish, wait_all, wait_job};
use crate::wiretap::Wiretap;

/// A new account on `pds` with an app password, connected by `browser`'s
/// user; answers the account and the connection's id.
async fn connect(browser: &Browser, csrf: &str, pds: &Pds, handle: &str) -> (Account, String) {
    let account = pds.create_account(handle, "account-password-123").await;
    let app_password = pds.app_password(&account, "prasaran").await;
    let connection = browser
        .sign_in_to("bluesky", csrf, handle, &app_password)
        .await;
    (account, connection["id"].as_str().unwrap().to_owned())
}

/// The (only) connection's refresh token as stored: sealed, so it changes
/// when the token is rotated.
async fn sealed_refresh_token(pool: &sqlx::PgPool) -> Value {
    sqlx::query_scalar("SELECT refresh_token FROM platform_connections")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// An app with Bluesky at `pds`, finding each account's PDS through the
/// test's PLC directory (as it would through plc.directory).
async fn app_with_bluesky(pds: &Pds) -> TestApp {
    let (service, plc) = (pds.url.clone(), pds.plc_url.clone());
    TestApp::spawn_with(move |s| {
        s.platforms.bluesky.service_url = Some(service.parse().unwrap());
        s.platforms.bluesky.plc_url = Some(plc.parse().unwrap());
    })
    .await
}

/// An app whose every Bluesky call goes through `tap` (no PLC look-up, so
/// the PDS behind the tap is every account's PDS).
async fn app_behind(tap: &Wiretap) -> TestApp {
    let service = tap.url.clone();
    TestApp::spawn_with(move |s| {
        s.platforms.bluesky.service_url = Some(service.parse().unwrap());
        s.platforms.bluesky.plc_url = None;
    })
    .await
}

/// A signed-up user with an API token and `handle` connected to Bluesky.
/// Answers (token, connection id).
async fn connected(app: &TestApp, pds: &Pds, handle: &str) -> (String, String) {
    let csrf = app
        .signed_up(&format!("{}@example.com", handle.replace('.', "-")))
        .await;
    let (_, connection) = connect(app, &csrf, pds, handle).await;
    (app.api_token(&csrf).await, connection)
}

#[actix_web::test]
async fn a_post_lands_once_on_the_genuine_pds_under_the_key_planned_at_accept() {
    let pds = Pds::start(false).await;
    let app = app_with_bluesky(&pds).await;
    let (token, connection) = connected(&app, &pds, "alice.test").await;

    // The session's access token is about to expire: it is refreshed at the
    // PDS (refreshSession, which rotates the refresh token) before the post,
    // never replaced by a new login.
    let before = sealed_refresh_token(&app.pool).await;
    sqlx::query("UPDATE platform_connections SET expires_at = now() + interval '5 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();

    let text = "Hello 👋🏽 from Prasaran — नमस्ते";
    let id = accepted(
        &app,
        &token,
        json!({"content": text, "connection_ids": [connection]}),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_ne!(
        sealed_refresh_token(&app.pool).await,
        before,
        "the rotated refresh token is stored"
    );

    let records = pds.list_records("alice.test").await;
    assert_eq!(records.len(), 1, "one post: {records:?}");
    assert_eq!(records[0].value.text, text);
    let key: String = sqlx::query_scalar("SELECT platform_key FROM publish_tasks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        records[0].rkey(),
        key,
        "written under the TID planned at accept"
    );
    assert_eq!(
        view["tasks"][0]["external_post_id"],
        records[0].uri.as_str()
    );

    // Over 300 graphemes (each 👍🏽 is one, though four UTF-16 units): refused
    // at accept, naming Bluesky.
    let long = "👍🏽".repeat(301);
    let response = publish(
        &app,
        &token,
        json!({"content": long, "connection_ids": [connection]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_rejected");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Bluesky") && message.contains("300"),
        "{message}"
    );
    let exactly = "👍🏽".repeat(300);
    let response = publish(
        &app,
        &token,
        json!({"content": exactly, "connection_ids": [connection]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "300 graphemes fit");
}

#[actix_web::test]
async fn a_wrong_app_password_is_refused_and_nothing_is_stored() {
    let pds = Pds::start(false).await;
    let app = app_with_bluesky(&pds).await;
    pds.create_account("bob.test", "account-password-123").await;
    let csrf = app.signed_up("bob@example.com").await;
    let response = app
        .client
        .post(app.url("/api/v1/connections/bluesky/sign-in"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"identifier": "bob.test", "password": "aaaa-bbbb-cccc-dddd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "oauth_exchange_failed");
    assert_eq!(app.count_rows("platform_connections").await, 0);
}

/// The bytes of `text` a facet covers.
fn covered<'a>(text: &'a str, facet: &Value) -> &'a str {
    let index = &facet["index"];
    let start = index["byteStart"].as_u64().unwrap() as usize;
    let end = index["byteEnd"].as_u64().unwrap() as usize;
    &text[start..end]
}

#[actix_web::test]
async fn links_mentions_and_tags_become_facets_and_four_images_go_with_alt_text() {
    let pds = Pds::start(false).await;
    let app = app_with_bluesky(&pds).await;
    let (token, connection) = connected(&app, &pds, "alice.test").await;
    let bob = pds.create_account("bob.test", "account-password-123").await;

    // Three small images and one of about 3 MB, over Bluesky's 1,000,000 bytes.
    let big = noise_png(1000, 1000);
    assert!(big.len() > 1_000_000);
    let mut media = Vec::new();
    for (n, bytes) in [
        encoded(40, 30, image::ImageFormat::Png),
        encoded(30, 40, image::ImageFormat::Jpeg),
        big,
        encoded(50, 50, image::ImageFormat::Png),
    ]
    .into_iter()
    .enumerate()
    {
        let alt = format!("picture {}", n + 1);
        media.push(uploaded_with_alt(&app, &token, bytes, &alt).await);
    }

    let text = "नमस्ते 👋🏽 @bob.test and @nobody.test, read https://example.com/a?b=1. #हिंदी #rust!";
    let id = accepted(
        &app,
        &token,
        json!({"content": text, "connection_ids": [connection], "media_ids": media,
               "options": {"language": "hi"}}),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "succeeded", "{view}");

    let records = pds.list_records("alice.test").await;
    assert_eq!(records.len(), 1);
    // Read raw, as any Bluesky client reads it.
    let raw: Value = pds
        .query(
            "com.atproto.repo.getRecord",
            None,
            &[
                ("repo", "alice.test"),
                ("collection", crate::pds::POST),
                ("rkey", records[0].rkey()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(raw["value"]["langs"], json!(["hi"]));
    let facets = raw["value"]["facets"].as_array().expect("facets");
    let seen: Vec<(&str, &Value)> = facets
        .iter()
        .map(|f| (covered(text, f), &f["features"][0]))
        .collect();
    // @nobody.test does not resolve at the PDS: it stays text, as in Bluesky's app.
    assert_eq!(seen.len(), 4, "{facets:#?}");
    assert_eq!(seen[0].0, "@bob.test");
    assert_eq!(seen[0].1["$type"], "app.bsky.richtext.facet#mention");
    assert_eq!(seen[0].1["did"], bob.did.as_str());
    assert_eq!(seen[1].0, "https://example.com/a?b=1");
    assert_eq!(seen[1].1["uri"], "https://example.com/a?b=1");
    assert_eq!(seen[2].0, "#हिंदी");
    assert_eq!(seen[2].1["tag"], "हिंदी");
    assert_eq!(seen[3].0, "#rust");
    assert_eq!(seen[3].1["tag"], "rust");

    let embed = &raw["value"]["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.images");
    let images = embed["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    for (n, image) in images.iter().enumerate() {
        assert_eq!(image["alt"], format!("picture {}", n + 1));
    }
    assert_eq!(images[0]["aspectRatio"], json!({"width": 40, "height": 30}));
    assert_eq!(images[1]["aspectRatio"], json!({"width": 30, "height": 40}));
    // The big one went as a JPEG copy under the limit, and the PDS holds exactly that.
    let blob = &images[2]["image"];
    assert_eq!(blob["mimeType"], "image/jpeg");
    let size = blob["size"].as_u64().unwrap();
    assert!(size <= 1_000_000, "{size}");
    let cid = blob["ref"]["$link"].as_str().unwrap();
    let did = records[0].uri.split('/').nth(2).unwrap();
    let stored = pds.get_blob(did, cid).await.expect("the blob");
    assert_eq!(stored.len() as u64, size);
    assert!(image::load_from_memory(&stored).is_ok(), "a real image");
}

#[actix_web::test]
async fn one_publish_lands_once_on_manch_and_once_on_each_of_two_bluesky_accounts() {
    let pds = Pds::start(false).await;
    let app = app_with_bluesky(&pds).await;
    let csrf = app.signed_up("both@example.com").await;
    app.connect_manch(&csrf, "both").await;
    connect(&app, &csrf, &pds, "carol.test").await;
    connect(&app, &csrf, &pds, "dave.test").await;
    let token = app.api_token(&csrf).await;

    // No connection ids: every active connection.
    let id = accepted(
        &app,
        &token,
        json!({"content": "everywhere at once #launch"}),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["tasks"].as_array().unwrap().len(), 3);
    for handle in ["carol.test", "dave.test"] {
        let records = pds.list_records(handle).await;
        assert_eq!(records.len(), 1, "{handle}: {records:?}");
        assert_eq!(records[0].value.text, "everywhere at once #launch");
    }
    let manch = app.manch.as_ref().expect("the dev sandbox");
    assert_eq!(
        sandbox_posts(&manch.base_url).await["posts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn twenty_racing_tasks_with_an_expired_session_refresh_it_once_at_the_pds() {
    let pds = Pds::start(false).await;
    let tap = Wiretap::start(&pds.url).await;
    let app = app_behind(&tap).await;
    let (token, _) = connected(&app, &pds, "erin.test").await;
    // The stored session has run out (as after two idle hours).
    sqlx::query("UPDATE platform_connections SET expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();

    let ids = futures_util::future::join_all((0..20).map(|n| {
        let (app, token) = (&app, &token);
        async move { accepted(app, token, json!({"content": format!("racing {n}")})).await }
    }))
    .await;
    for view in wait_all(&app, &token, &ids, Duration::from_secs(60)).await {
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    assert_eq!(pds.list_records("erin.test").await.len(), 20);
    assert_eq!(
        tap.count("com.atproto.server.refreshSession"),
        1,
        "one refresh for all twenty"
    );
    assert_eq!(
        tap.count("com.atproto.server.createSession"),
        1,
        "never a second login"
    );
    assert_eq!(tap.count("com.atproto.repo.putRecord"), 20);
}

#[actix_web::test]
async fn an_expired_access_token_is_read_as_refresh_not_as_a_rejected_post() {
    let pds = Pds::start(false).await;
    let account = pds.create_account("fay.test", "account-password-123").await;
    let adapter = prasaran::adapters::bluesky::BlueskyAdapter::new(
        pds.url.parse().unwrap(),
        reqwest::Client::new(),
    );
    use prasaran::adapters::{AdapterError, OutgoingPost, PlatformAdapter};
    let expired = secrecy::SecretString::from(pds.expired(&account.access_jwt));
    let outcome = adapter
        .publish(&expired, OutgoingPost::text("hello"), &crate::pds::tid())
        .await;
    assert!(
        matches!(outcome, Err(AdapterError::Unauthorized)),
        "{outcome:?}"
    );
    let garbage = secrecy::SecretString::from("not-a-token".to_owned());
    let outcome = adapter
        .find_post(&garbage, OutgoingPost::text("hello"), &crate::pds::tid())
        .await;
    assert!(
        matches!(outcome, Err(AdapterError::Unauthorized)),
        "{outcome:?}"
    );
    assert!(pds.list_records("fay.test").await.is_empty());
}

#[actix_web::test]
async fn disconnecting_ends_the_session_at_the_pds() {
    let pds = Pds::start(false).await;
    let tap = Wiretap::start(&pds.url).await;
    let app = app_behind(&tap).await;
    let csrf = app.signed_up("gus@example.com").await;
    let (_, connection) = connect(&app, &csrf, &pds, "gus.test").await;

    let response = app
        .client
        .delete(app.url(&format!("/api/v1/connections/{connection}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let deleted = tap.calls("com.atproto.server.deleteSession");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0].status, 200);
    // The refresh token Prasaran held no longer works at the PDS.
    let held = deleted[0].bearer.clone().expect("the refresh token");
    let refused = pds
        .refresh_session(&held)
        .await
        .expect_err("a deleted session");
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
}

#[actix_web::test]
async fn killed_between_put_record_and_its_outcome_a_restart_leaves_one_record_per_task() {
    let pds = Pds::start(false).await;
    let tap = Wiretap::start(&pds.url).await;
    let database = crate::helpers::TestDatabase::create().await;
    let pool = database.pool().await;
    let data_dir = tempfile::tempdir().unwrap();
    let env = crate::stage::process_env(
        &database,
        data_dir.path(),
        &[(
            "PRASARAN__PLATFORMS__BLUESKY__SERVICE_URL",
            tap.url.as_str(),
        )],
    );
    let mut doomed = Serve::start("all", &env).await;
    let browser = Browser::new(&doomed.address);
    let csrf = browser.signed_up("hal@example.com").await;
    connect(&browser, &csrf, &pds, "hal.test").await;
    let token = browser.api_token(&csrf).await;

    // The PDS writes each record; Prasaran never hears that it did.
    tap.hold_answers("com.atproto.repo.putRecord");
    for n in 0..3 {
        let response = crate::helpers::http()
            .post(format!("{}/api/v1/posts", doomed.address))
            .bearer_auth(&token)
            .json(&json!({"content": format!("crash test {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while tap.count("com.atproto.repo.putRecord") < 3 {
        assert!(Instant::now() < deadline, "{}", doomed.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        pds.list_records("hal.test").await.len(),
        3,
        "written, unanswered"
    );
    doomed.kill9();
    tap.release();

    let again = Serve::start("all", &env).await;
    crate::stage::wait_tasks_succeeded(&pool, 3, Duration::from_secs(90), || again.log_text())
        .await;
    assert_eq!(
        pds.list_records("hal.test").await.len(),
        3,
        "one record per task"
    );
    // Each task whose outcome was lost was looked up (getRecord) and found,
    // not written again.
    assert!(tap.count("com.atproto.repo.getRecord") >= 3);
    assert_eq!(tap.count("com.atproto.repo.putRecord"), 3);
}

/// A web page on loopback with Open Graph tags; answers its URL.
fn article_page() -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let server = HttpServer::new(|| {
        App::new().route(
            "/article",
            web::get().to(|| async {
                HttpResponse::Ok().content_type("text/html").body(
                    r#"<html><head><title>Fallback</title>
                    <meta property="og:title" content="Why one post &amp; many networks">
                    <meta property="og:description" content="A short read."></head></html>"#,
                )
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    format!("http://127.0.0.1:{port}/article")
}

#[actix_web::test]
async fn a_post_with_one_link_carries_the_pages_card() {
    let pds = Pds::start(false).await;
    let (service, plc) = (pds.url.clone(), pds.plc_url.clone());
    let app = TestApp::spawn_with(move |s| {
        s.platforms.bluesky.service_url = Some(service.parse().unwrap());
        s.platforms.bluesky.plc_url = Some(plc.parse().unwrap());
        // The page is on loopback, which production settings refuse to read.
        s.platforms.bluesky.link_cards = prasaran::settings::LinkCards::AnyAddress;
    })
    .await;
    let (token, connection) = connected(&app, &pds, "ivy.test").await;
    let page = article_page();

    let text = format!("worth reading: {page}");
    let id = accepted(
        &app,
        &token,
        json!({"content": text, "connection_ids": [connection]}),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let records = pds.list_records("ivy.test").await;
    let embed = records[0].value.embed.as_ref().expect("an embed");
    assert_eq!(embed["$type"], "app.bsky.embed.external");
    assert_eq!(embed["external"]["uri"], page.as_str());
    assert_eq!(embed["external"]["title"], "Why one post & many networks");
    assert_eq!(embed["external"]["description"], "A short read.");

    // With the default setting, a page on loopback is never read: no card.
    let app = app_with_bluesky(&pds).await;
    let (token, connection) = connected(&app, &pds, "jay.test").await;
    let id = accepted(
        &app,
        &token,
        json!({"content": text, "connection_ids": [connection]}),
    )
    .await;
    wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    let records = pds.list_records("jay.test").await;
    assert!(
        records[0].value.embed.is_none(),
        "{:?}",
        records[0].value.embed
    );
}

#[actix_web::test]
async fn each_connection_talks_to_the_pds_its_account_lives_on() {
    // The configured service stands for Bluesky's entryway: it resolves the
    // handle, and the PLC directory names the account's own PDS, which is
    // where the session, the posts and the disconnect then go.
    let pds = Pds::start(false).await;
    let entryway = Wiretap::start(&pds.url).await;
    let (service, plc) = (entryway.url.clone(), pds.plc_url.clone());
    let app = TestApp::spawn_with(move |s| {
        s.platforms.bluesky.service_url = Some(service.parse().unwrap());
        s.platforms.bluesky.plc_url = Some(plc.parse().unwrap());
    })
    .await;
    let (token, connection) = connected(&app, &pds, "kim.test").await;

    let stored: Option<String> = sqlx::query_scalar("SELECT service_url FROM platform_connections")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let home = stored.expect("the account's PDS is stored with the connection");
    assert_ne!(home, entryway.url);
    let port = url::Url::parse(&pds.url).unwrap().port();
    assert_eq!(url::Url::parse(&home).unwrap().port(), port, "{home}");
    assert_eq!(entryway.count("com.atproto.identity.resolveHandle"), 1);

    let id = accepted(
        &app,
        &token,
        json!({"content": "from my own PDS", "connection_ids": [connection]}),
    )
    .await;
    let view = wait_job(&app, &token, &id, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(pds.list_records("kim.test").await.len(), 1);
    for call in ["createSession", "putRecord", "getSession"] {
        assert_eq!(entryway.count(call), 0, "{call} went to the account's PDS");
    }
}

#[actix_web::test]
async fn signing_in_at_bluesky_connects_with_tokens_bound_to_a_key_that_publish_and_refresh() {
    let pds = Pds::start(false).await;
    let mut app = app_with_bluesky(&pds).await;
    pds.create_account("olga.test", "account-password-123")
        .await;
    let csrf = app.signed_up("olga@example.com").await;

    // The platform list offers Bluesky's sign-in first, app passwords second.
    let platforms: Value = app.get("/api/v1/platforms").await.json().await.unwrap();
    let bluesky = platforms["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "bluesky")
        .unwrap()
        .clone();
    assert_eq!(bluesky["connect_with"], json!(["redirect", "credentials"]));

    // A pushed authorization request: the browser only carries its reference,
    // to the PDS's own page (on the issuer's origin, `localhost`).
    let authorize_url = app.authorize("bluesky", &csrf).await;
    assert_eq!(authorize_url.host_str(), Some("localhost"));
    assert_eq!(authorize_url.path(), "/oauth/authorize");
    let query: std::collections::HashMap<_, _> = authorize_url.query_pairs().into_owned().collect();
    assert!(query["request_uri"].starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(query["client_id"].starts_with("http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1"));
    assert!(
        !authorize_url.as_str().contains("code_challenge"),
        "pushed, not in the URL"
    );

    let back = crate::pds::consent_in_chromium(
        &authorize_url,
        "olga.test",
        "account-password-123",
        "approve",
    )
    .await;
    let params: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert!(params["iss"].starts_with("http://localhost:"));
    let response = app.callback(&back).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/?connected=bluesky"), "{location}");

    // Stored: the account, its PDS, and a sealed key (never the key itself).
    let (handle, service, key): (String, Option<String>, Option<Value>) =
        sqlx::query_as("SELECT handle, service_url, grant_secret FROM platform_connections")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(handle, "olga.test");
    assert!(service.unwrap().starts_with("http://localhost:"));
    let key = key.expect("the DPoP key is kept, sealed");
    assert!(!key.to_string().contains("BEGIN") && !key.to_string().contains("client_id"));

    let token = app.api_token(&csrf).await;
    let first = accepted(
        &app,
        &token,
        json!({"content": "signed in with Bluesky's own page"}),
    )
    .await;
    let view = wait_job(&app, &token, &first, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");

    // The access token runs out: the refresh grant (same key) gets new tokens,
    // and the next post goes out with them.
    let before = sealed_refresh_token(&app.pool).await;
    sqlx::query("UPDATE platform_connections SET expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    // A fresh worker: the live one keeps its token in memory.
    app.restart().await;
    let second = accepted(&app, &token, json!({"content": "after a refresh"})).await;
    let view = wait_job(&app, &token, &second, Duration::from_secs(30)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let texts: Vec<String> = pds
        .list_records("olga.test")
        .await
        .into_iter()
        .map(|r| r.value.text)
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.contains(&"after a refresh".to_owned()));
    assert_ne!(
        sealed_refresh_token(&app.pool).await,
        before,
        "the rotated refresh token is stored"
    );

    // Disconnecting revokes the grant at Bluesky: the refresh token Prasaran
    // held (opened here with the app's own keyring) no longer works there,
    // even signed with the right key.
    use prasaran::adapters::{AdapterError, Binding, PlatformAdapter};
    use prasaran::connections::{TokenKind, open_token};
    let (id, service): (uuid::Uuid, String) =
        sqlx::query_as("SELECT id, service_url FROM platform_connections")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let id = prasaran::domain::ConnectionId(id);
    let sealed = prasaran::persistence::connections::sealed_tokens(&app.pool, id)
        .await
        .unwrap()
        .unwrap();
    let keyring = prasaran::startup::keys::keyring(&app.settings)
        .await
        .unwrap();
    let refresh = open_token(
        &keyring,
        id,
        TokenKind::Refresh,
        &sealed.refresh_token.unwrap(),
    )
    .await
    .unwrap();
    let key = open_token(
        &keyring,
        id,
        TokenKind::GrantSecret,
        &sealed.grant_secret.unwrap(),
    )
    .await
    .unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/connections/{}", id.0)))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let service = url::Url::parse(&service).unwrap();
    let held =
        prasaran::adapters::bluesky::BlueskyAdapter::new(service.clone(), reqwest::Client::new())
            .bind(&Binding {
                service: Some(&service),
                grant_secret: Some(&key),
            })
            .unwrap();
    let refused = held.refresh(&refresh).await;
    assert!(
        matches!(refused, Err(AdapterError::Revoked { .. })),
        "{refused:?}"
    );
}

#[actix_web::test]
async fn denying_at_bluesky_connects_nothing_and_the_app_says_so() {
    let pds = Pds::start(false).await;
    let app = app_with_bluesky(&pds).await;
    pds.create_account("pia.test", "account-password-123").await;
    let csrf = app.signed_up("pia@example.com").await;
    let authorize_url = app.authorize("bluesky", &csrf).await;
    let back =
        crate::pds::consent_in_chromium(&authorize_url, "pia.test", "account-password-123", "deny")
            .await;
    let params: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(params["error"], "access_denied");
    let response = app.callback(&back).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("connect_error="), "{location}");
    assert_eq!(app.count_rows("platform_connections").await, 0);
}
