//! Media uploads against the real app: typed from the bytes, measured,
//! re-encoded without metadata, limits and bombs refused with codes, other
//! users' media invisible. Files are made here, in the test.

use image::{DynamicImage, ImageFormat};
use reqwest::StatusCode;
use serde_json::{Value, json};

use std::time::Duration;

use crate::helpers::{TestApp, error_code};
use crate::stage::{Stage, publisher, wait_job};

pub(crate) fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 40) as u8, (y * 40) as u8, 128])
    }));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PNG that does not compress: random pixels, about 3 bytes each.
pub(crate) fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |_, _| {
        image::Rgb(rand::random::<[u8; 3]>())
    }));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG whose header claims `width × height` (a decompression bomb's
/// header: nothing may be decoded before the size is checked).
pub(crate) fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(1, 1, ImageFormat::Png);
    // Signature (8), IHDR length (4), "IHDR" (4), width, height at 16..24.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A JPEG carrying EXIF: orientation 6 (rotate 90°) and a GPS latitude "N 12°".
pub(crate) fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let jpeg = encoded(width, height, ImageFormat::Jpeg);
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0: two entries, then the next-IFD offset (0).
    let gps_ifd_offset: u32 = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0x8825u16.to_le_bytes()); // GPSInfo IFD pointer
    tiff.extend_from_slice(&4u16.to_le_bytes()); // LONG
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&gps_ifd_offset.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD: GPSLatitudeRef = "N", and a marker string we can search for.
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&0x0001u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes()); // ASCII
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    let marker_offset = gps_ifd_offset + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&0x001Bu16.to_le_bytes()); // GPSProcessingMethod
    tiff.extend_from_slice(&7u16.to_le_bytes()); // UNDEFINED
    tiff.extend_from_slice(&(GPS_MARKER.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&marker_offset.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(GPS_MARKER);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Bytes only the GPS block of [`jpeg_with_gps`] holds.
pub(crate) const GPS_MARKER: &[u8] = b"GPS-SECRET-LOCATION";

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    crate::helpers::http()
        .post(app.url("/api/v1/media"))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn uploaded(app: &TestApp, token: &str, bytes: Vec<u8>) -> Value {
    let response = upload(app, token, bytes, "application/octet-stream").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Uploads `bytes` and gives it `alt` text; answers the media id.
pub(crate) async fn uploaded_with_alt(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    alt: &str,
) -> String {
    let id = uploaded(app, token, bytes).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = crate::helpers::http()
        .patch(app.url(&format!("/api/v1/media/{id}")))
        .bearer_auth(token)
        .json(&serde_json::json!({ "alt_text": alt }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    id
}

async fn api_token(app: &crate::helpers::Browser, email: &str) -> String {
    let csrf = app.signed_up(email).await;
    app.api_token(&csrf).await
}

#[actix_web::test]
async fn an_image_is_typed_from_its_bytes_measured_and_kept_as_uploaded() {
    let app = TestApp::spawn().await;
    let token = api_token(&app, "media@example.com").await;
    let png = encoded(3, 2, ImageFormat::Png);

    // A PNG sent as a JPEG (a `.jpg` name): the bytes decide.
    let response = upload(&app, &token, png.clone(), "image/jpeg").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let media: Value = response.json().await.unwrap();
    assert_eq!(media["kind"], "image");
    assert_eq!(media["mime"], "image/png");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(media["bytes"], png.len());
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&png))
    };
    assert_eq!(media["sha256"], sha);
    let id = media["id"].as_str().unwrap();

    let content = crate::helpers::http()
        .get(app.url(&format!("/api/v1/media/{id}/content")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(content.headers()["content-type"], "image/png");
    assert_eq!(content.bytes().await.unwrap().as_ref(), png.as_slice());

    // A thumbnail for previews: a JPEG, no larger than the image.
    let thumbnail_url = media["thumbnail_url"].as_str().unwrap();
    assert_eq!(thumbnail_url, format!("/api/v1/media/{id}/thumbnail"));
    let thumb = crate::helpers::http()
        .get(app.url(thumbnail_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (3, 2));

    let described = crate::helpers::http()
        .patch(app.url(&format!("/api/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"alt_text": "a tiny gradient"}))
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), StatusCode::OK);
    let got: Value = crate::helpers::http()
        .get(app.url(&format!("/api/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["alt_text"], "a tiny gradient");

    // Another user sees nothing of it.
    let other = api_token(&app.new_browser(), "other@example.com").await;
    for path in [
        format!("/api/v1/media/{id}"),
        format!("/api/v1/media/{id}/content"),
    ] {
        let response = crate::helpers::http()
            .get(app.url(&path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let deleted = crate::helpers::http()
        .delete(app.url(&format!("/api/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count_rows("media").await, 0);
}

#[actix_web::test]
async fn exif_orientation_is_applied_and_the_location_is_not_kept_in_what_is_published() {
    let app = TestApp::spawn().await;
    let token = api_token(&app, "gps@example.com").await;
    let jpeg = jpeg_with_gps(30, 20);
    assert!(contains(&jpeg, GPS_MARKER));
    let media = uploaded(&app, &token, jpeg).await;
    assert_eq!(media["mime"], "image/jpeg");
    // Orientation 6: a 30 × 20 sensor image is shown 20 wide, 30 high.
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(20), Some(30))
    );
    let (clean_sha, original_sha): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT clean_sha256, sha256 FROM media")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_ne!(clean_sha, original_sha, "a clean copy was made");
    let dir = app
        .settings
        .data_dir
        .join(&app.settings.media.dir)
        .join("objects");
    let hex = hex::encode(clean_sha);
    let clean = std::fs::read(dir.join(&hex[..2]).join(&hex[2..])).unwrap();
    assert!(
        !contains(&clean, GPS_MARKER),
        "no GPS in what platforms get"
    );
    assert!(!contains(&clean, b"Exif"), "no EXIF at all");
}

#[actix_web::test]
async fn bad_files_get_422s_with_codes_and_nothing_is_kept() {
    let app = TestApp::spawn_with(|s| s.media.max_image_bytes = 50_000).await;
    let token = api_token(&app, "bad@example.com").await;
    let jpeg = encoded(64, 64, ImageFormat::Jpeg);
    let truncated = jpeg[..jpeg.len() / 2].to_vec();
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            png_claiming(20_000, 20_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        ),
        (truncated, StatusCode::UNPROCESSABLE_ENTITY, "invalid_media"),
        (
            b"%PDF-1.7 not an image at all".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_media",
        ),
        (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "empty_upload"),
        (
            noise_png(200, 200),
            StatusCode::PAYLOAD_TOO_LARGE,
            "media_too_large",
        ),
    ];
    for (bytes, status, code) in cases {
        let response = upload(&app, &token, bytes, "image/png").await;
        assert_eq!(response.status(), status, "{code}");
        assert_eq!(error_code(response).await, code);
    }
    assert_eq!(app.count_rows("media").await, 0);
    let scratch = app
        .settings
        .data_dir
        .join(&app.settings.media.dir)
        .join("scratch");
    assert_eq!(
        std::fs::read_dir(scratch).unwrap().count(),
        0,
        "no upload left behind"
    );
}

/// Publishes `media` (by id) with text to every connection of `p`.
async fn publish_with_media(
    app: &TestApp,
    token: &str,
    text: &str,
    media: &[&Value],
) -> reqwest::Response {
    let ids: Vec<&str> = media.iter().map(|m| m["id"].as_str().unwrap()).collect();
    crate::stage::publish(app, token, json!({"content": text, "media_ids": ids})).await
}

#[actix_web::test]
async fn a_post_with_four_images_lands_on_each_connection_with_each_image_uploaded_once() {
    let stage = Stage::new();
    // Five calls per attempt (four uploads and the post) at 50% errors: each
    // attempt gets further (uploads are kept), but needs room for ~10 failures.
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.engine.max_attempts = 60.try_into().unwrap();
    })
    .await;
    let p = publisher(
        &app,
        "album@example.com",
        &["album_a", "album_b", "album_c"],
    )
    .await;
    let gps = uploaded(&app, &p.token, jpeg_with_gps(30, 20)).await;
    let mut media = vec![gps];
    for n in 1..4 {
        media.push(uploaded(&app, &p.token, encoded(10 + n, 10, ImageFormat::Png)).await);
    }
    // Half the platform's calls fail: uploads and posts are retried, never repeated.
    stage.faults(json!({"error_rate": 0.5})).await;
    let refs: Vec<&Value> = media.iter().collect();
    let response = publish_with_media(&app, &p.token, "four pictures", &refs).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id: Value = response.json().await.unwrap();
    let view = wait_job(
        &app,
        &p.token,
        id["job_id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(view["status"], "succeeded", "{view}");

    let posts = stage.posts().await;
    let posts = posts["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 3, "one post per connection");
    let calls = stage.calls().await;
    assert_eq!(
        calls["media_uploads"], 12,
        "4 images × 3 connections, each once: {calls}"
    );
    assert_eq!(calls["media_replays"], 0, "{calls}");
    for post in posts {
        let attached = post["media"].as_array().unwrap();
        assert_eq!(attached.len(), 4, "{post}");
        // In order: the GPS photo first, then the PNGs by width.
        assert_eq!(attached[0]["mime"], "image/jpeg");
        for (n, m) in attached.iter().enumerate().skip(1) {
            assert_eq!(m["mime"], "image/png", "{n}");
        }
        // What the platform got carries no location.
        let bytes = crate::helpers::http()
            .get(
                stage
                    .manch
                    .base_url
                    .join(&format!(
                        "_sandbox/media/{}",
                        attached[0]["id"].as_str().unwrap()
                    ))
                    .unwrap(),
            )
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert!(!contains(&bytes, GPS_MARKER), "GPS reached the platform");
        assert!(!contains(&bytes, b"Exif"));
    }
    stage.assert_each_task_sent_once().await;

    // Used by a finished post: deletable; the record of the post keeps working.
    let first = media[0]["id"].as_str().unwrap();
    let deleted = crate::helpers::http()
        .delete(app.url(&format!("/api/v1/media/{first}")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn media_breaking_a_platforms_rules_is_refused_at_accept_naming_platform_and_rule() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "rules@example.com", &["rules"]).await;
    let mut media = Vec::new();
    for n in 0..5 {
        media.push(uploaded(&app, &p.token, encoded(5 + n, 5, ImageFormat::Png)).await);
    }
    let refs: Vec<&Value> = media.iter().collect();
    let response = publish_with_media(&app, &p.token, "five", &refs).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "media_rejected");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Manch") && message.contains("at most 4"),
        "{message}"
    );

    // Someone else's media, or one that does not exist: invalid_media.
    let other = publisher(&app.new_browser(), "thief@example.com", &["thief"]).await;
    let response = publish_with_media(&app, &other.token, "not mine", &refs[..1]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "invalid_media");

    // While a pending post uses it, media cannot be deleted.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let ids = [media[0]["id"].as_str().unwrap()];
    let scheduled = crate::stage::publish(
        &app,
        &p.token,
        json!({"content": "later", "media_ids": ids, "scheduled_at": later}),
    )
    .await;
    assert_eq!(scheduled.status(), StatusCode::ACCEPTED);
    let refused = crate::helpers::http()
        .delete(app.url(&format!("/api/v1/media/{}", ids[0])))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(refused).await, "media_in_use");
    assert_eq!(stage.calls().await["media_uploads"], 0, "nothing was sent");
}

/// A one-second 320 × 240 H.264 MP4 made with Debian's ffmpeg.
pub(crate) fn mp4(seconds: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={seconds}:size=320x240:rate=10"))
        .args(["-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("ffmpeg runs (scripts/test installs it)");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

#[actix_web::test]
async fn a_video_is_measured_passed_through_and_posted_once_processed() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "video@example.com", &["video"]).await;
    stage.faults(json!({"video_processing_ms": 1500})).await;
    let clip = mp4(1);
    let video = uploaded(&app, &p.token, clip.clone()).await;
    assert_eq!(video["kind"], "video");
    assert_eq!(video["mime"], "video/mp4");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert!(video["thumbnail_url"].is_null(), "no thumbnail for a video");
    assert_eq!(video["codec"], "h264", "{video}");
    let duration = video["duration_ms"].as_u64().unwrap();
    assert!((900..=1200).contains(&duration), "{duration}");

    // A video and an image together break Manch's rule, said at accept.
    let image = uploaded(&app, &p.token, encoded(8, 8, ImageFormat::Png)).await;
    let response = publish_with_media(&app, &p.token, "both", &[&video, &image]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "media_rejected");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only attachment")
    );

    let response = publish_with_media(&app, &p.token, "a clip", &[&video]).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id: Value = response.json().await.unwrap();
    let view = wait_job(
        &app,
        &p.token,
        id["job_id"].as_str().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let posts = stage.posts().await;
    let attached = &posts["posts"][0]["media"];
    assert_eq!(attached.as_array().unwrap().len(), 1, "{posts}");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&clip))
    };
    assert_eq!(
        attached[0]["sha256"], sha,
        "the video is passed through unchanged"
    );
    let calls = stage.calls().await;
    assert_eq!(calls["media_uploads"], 1, "{calls}");
    assert!(
        calls["media_lookups"].as_u64().unwrap() >= 1,
        "it waited for processing: {calls}"
    );
}

#[actix_web::test]
async fn uploads_no_post_used_expire_with_their_files() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "tidy@example.com", &["tidy"]).await;
    let unused = uploaded(&app, &p.token, encoded(6, 6, ImageFormat::Png)).await;
    let used = uploaded(&app, &p.token, encoded(7, 7, ImageFormat::Png)).await;
    let response = publish_with_media(&app, &p.token, "keep this one", &[&used]).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let root = app.settings.data_dir.join(&app.settings.media.dir);
    let objects = |sha: &str| root.join("objects").join(&sha[..2]).join(&sha[2..]);
    let unused_file = objects(unused["sha256"].as_str().unwrap());
    assert!(unused_file.exists());

    let store = prasaran::media::LocalStore::open(&root).unwrap();
    let removed =
        prasaran::actors::janitor::sweep_unattached_media(&app.pool, &store, Duration::ZERO)
            .await
            .unwrap();
    assert!(removed >= 1, "the unused upload's files went");
    assert!(!unused_file.exists());
    assert!(
        objects(used["sha256"].as_str().unwrap()).exists(),
        "an attached upload stays"
    );
    let left: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM media")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].to_string(), used["id"].as_str().unwrap());
}

#[actix_web::test]
async fn a_multipart_form_uploads_the_file_field_with_its_alt_text() {
    let app = TestApp::spawn().await;
    let token = api_token(&app, "form@example.com").await;
    let png = encoded(4, 3, ImageFormat::Png);
    let form = reqwest::multipart::Form::new()
        .text("alt_text", "a form upload")
        .text("ignored", "anything")
        .part(
            "file",
            reqwest::multipart::Part::bytes(png.clone()).file_name("photo.jpg"),
        );
    let response = crate::helpers::http()
        .post(app.url("/api/v1/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let media: Value = response.json().await.unwrap();
    assert_eq!(media["mime"], "image/png", "named .jpg, typed by its bytes");
    assert_eq!(media["alt_text"], "a form upload");
    assert_eq!(media["bytes"], png.len());

    let empty = reqwest::multipart::Form::new().text("alt_text", "no file");
    let response = crate::helpers::http()
        .post(app.url("/api/v1/media"))
        .bearer_auth(&token)
        .multipart(empty)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "invalid_body");
}

#[actix_web::test]
async fn an_image_over_a_platforms_byte_limit_goes_as_a_copy_that_fits_made_once() {
    let stage = Stage::new();
    let app = stage.app().await;
    let p = publisher(&app, "big@example.com", &["big_a", "big_b"]).await;
    // Noise does not compress: about 8.6 MB as PNG, over Manch's 8 MiB.
    let big = noise_png(1800, 1600);
    assert!(big.len() > 8 * 1024 * 1024, "{}", big.len());
    let media = uploaded(&app, &p.token, big).await;
    let response = publish_with_media(&app, &p.token, "a big one", &[&media]).await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "resized, not refused"
    );
    let id: Value = response.json().await.unwrap();
    let view = wait_job(
        &app,
        &p.token,
        id["job_id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let posts = stage.posts().await;
    for post in posts["posts"].as_array().unwrap() {
        let attached = &post["media"][0];
        assert_eq!(attached["mime"], "image/jpeg", "{post}");
        assert!(attached["bytes"].as_u64().unwrap() <= 8 * 1024 * 1024);
    }
    // One copy for both connections, kept for the next post.
    assert_eq!(app.count_rows("media_variants").await, 1);
}
