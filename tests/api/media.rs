//! Media uploads against the real app: typed from the bytes, measured,
//! re-encoded without metadata, limits and bombs refused with codes, other
//! users' media invisible. Files are made here, in the test.

use image::{DynamicImage, ImageFormat};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

pub(crate) fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 40) as u8, (y * 40) as u8, 128])
    }));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PNG that does not compress: random pixels, about 3 bytes each.
fn noise_png(width: u32, height: u32) -> Vec<u8> {
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

async fn api_token(app: &crate::helpers::Browser, email: &str) -> String {
    let csrf = app.signed_up(email).await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/tokens"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"name": "media"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["token"].as_str().unwrap().to_owned()
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
