//! The S3 media store against a real S3 API (moto_server): objects written
//! once under their content address, streamed back and deleted; a missing
//! bucket stopping start-up; and the app in S3 mode taking an upload and
//! publishing it with nothing kept on the local disk.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use prasaran::media::MediaStore;
use prasaran::media::store::StoreError;
use prasaran::persistence::media_store_s3::S3Store;
use prasaran::settings::{MediaS3Settings, MediaStoreKind, SettingsError};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::cloud::Moto;
use crate::helpers::{TestApp, TestDatabase, test_settings};
use crate::media::{GPS_MARKER, contains, jpeg_with_gps, uploaded};
use crate::stage::{Stage, publisher, wait_job};

/// Creates `name` in moto and the settings that use it.
async fn bucket(moto: &Moto, name: &str) -> MediaS3Settings {
    moto.s3()
        .await
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap();
    MediaS3Settings {
        bucket: Some(name.into()),
        endpoint_url: Some(moto.endpoint().parse().unwrap()),
        region: "us-east-1".into(),
        prefix: "media/".into(),
    }
}

/// Every key in the bucket, sorted.
async fn keys(moto: &Moto, bucket: &str) -> Vec<String> {
    let listed = moto
        .s3()
        .await
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

async fn object_bytes(moto: &Moto, bucket: &str, key: &str) -> Vec<u8> {
    let object = moto
        .s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    object.body.collect().await.unwrap().to_vec()
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key_of(sha: &str) -> String {
    format!("media/{}/{}", &sha[..2], &sha[2..])
}

/// Everything `open` streams, and in how many pieces.
async fn read_all(store: &S3Store, sha: &str) -> (u64, Vec<u8>, usize) {
    let mut object = store.open(sha).await.unwrap();
    let mut bytes = Vec::new();
    let mut pieces = 0;
    while let Some(chunk) = object.body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
        pieces += 1;
    }
    (object.len, bytes, pieces)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[actix_web::test]
async fn the_s3_store_keeps_each_object_once_streams_it_back_and_deletes_it() {
    let moto = Moto::start().await;
    let settings = bucket(&moto, "media-store").await;
    let scratch = tempfile::tempdir().unwrap();
    let store = S3Store::connect(&settings, &scratch.path().join("scratch"))
        .await
        .unwrap();
    assert_eq!(
        store.scratch_dir(),
        scratch.path().join("scratch").as_path()
    );
    assert!(store.scratch_dir().is_dir());

    // A 6 MB file, handed over as an upload is: from the scratch directory.
    let video: Vec<u8> = (0..6_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let sha = sha_hex(&video);
    let upload = store.scratch_dir().join("one.upload");
    write(&upload, &video);
    store.put_file(&sha, &upload).await.unwrap();
    assert!(!upload.exists(), "the local file is consumed");
    assert_eq!(keys(&moto, "media-store").await, vec![key_of(&sha)]);
    let head = moto
        .s3()
        .await
        .head_object()
        .bucket("media-store")
        .key(key_of(&sha))
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(video.len() as i64));

    let (len, streamed, pieces) = read_all(&store, &sha).await;
    assert_eq!(len, video.len() as u64);
    assert!(streamed == video, "open streams back the same bytes");
    assert!(pieces > 1, "streamed in pieces, not as one buffer");

    // The same address again: nothing is written (other bytes under it would
    // show), and the local file is still consumed.
    let again = store.scratch_dir().join("two.upload");
    write(&again, b"not what the address says");
    store.put_file(&sha, &again).await.unwrap();
    assert!(!again.exists());
    let (len, streamed, _) = read_all(&store, &sha).await;
    assert_eq!(len, video.len() as u64);
    assert!(streamed == video, "the object is unchanged");

    // Bytes in memory (a re-encoded image) go the same way.
    let clean = b"a small re-encoded image".to_vec();
    let clean_sha = sha_hex(&clean);
    store.put_bytes(&clean_sha, clean.clone()).await.unwrap();
    store
        .put_bytes(&clean_sha, b"other bytes".to_vec())
        .await
        .unwrap();
    assert_eq!(read_all(&store, &clean_sha).await.1, clean);
    let mut both = vec![key_of(&sha), key_of(&clean_sha)];
    both.sort();
    assert_eq!(keys(&moto, "media-store").await, both);

    store.delete(&sha).await.unwrap();
    assert_eq!(keys(&moto, "media-store").await, vec![key_of(&clean_sha)]);
    store.delete(&sha).await.unwrap();
    assert!(matches!(store.open(&sha).await, Err(StoreError::Missing)));
    let nowhere = sha_hex(b"never stored");
    assert!(matches!(
        store.open(&nowhere).await,
        Err(StoreError::Missing)
    ));
    store.delete(&nowhere).await.unwrap();
}

#[actix_web::test]
async fn s3_mode_without_a_usable_bucket_stops_start_up_naming_the_key() {
    let mut settings = test_settings();
    settings.media.store = MediaStoreKind::S3;
    let missing = prasaran::settings::check_mode_requirements(&settings).unwrap_err();
    assert!(
        matches!(
            missing,
            SettingsError::Missing {
                key: "media.s3.bucket",
                ..
            }
        ),
        "{missing}"
    );

    // Named, but not there: the start-up check asks the bucket.
    let moto = Moto::start().await;
    let mut s3 = bucket(&moto, "some-other-bucket").await;
    s3.bucket = Some("no-such-bucket".into());
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    settings.database.url = Some(SecretString::from(database.url.clone()));
    settings.data_dir = data_dir.path().to_owned();
    settings.media.s3 = s3;
    let error = match prasaran::startup::Application::build(settings).await {
        Ok(_) => panic!("started without its bucket"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("no-such-bucket"), "{error}");
    assert!(error.contains("media.s3.bucket"), "{error}");
}

#[actix_web::test]
async fn in_s3_mode_an_upload_is_published_from_the_bucket_and_nothing_stays_on_disk() {
    let moto = Moto::start().await;
    let s3 = bucket(&moto, "prasaran-media").await;
    let data_dir = tempfile::tempdir().unwrap();
    let stage = Stage::new();
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.data_dir = data_dir.path().to_owned();
        s.media.store = MediaStoreKind::S3;
        s.media.s3 = s3.clone();
    })
    .await;
    let p = publisher(&app, "s3-media@example.com", &["bucketed"]).await;
    let jpeg = jpeg_with_gps(30, 20);
    let media = uploaded(&app, &p.token, jpeg.clone()).await;
    let id = media["id"].as_str().unwrap();

    let response = crate::stage::publish(
        &app,
        &p.token,
        json!({"content": "a picture from the bucket", "media_ids": [id]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let job: Value = response.json().await.unwrap();
    let view = wait_job(
        &app,
        &p.token,
        job["job_id"].as_str().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(view["status"], "succeeded", "{view}");

    // Both objects are in the bucket: the upload as sent and its clean copy.
    let (original, clean): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT sha256, clean_sha256 FROM media")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (original, clean) = (hex::encode(original), hex::encode(clean));
    assert_eq!(original, sha_hex(&jpeg));
    let in_bucket = keys(&moto, "prasaran-media").await;
    for sha in [&original, &clean] {
        assert!(in_bucket.contains(&key_of(sha)), "{sha}: {in_bucket:?}");
    }

    // Nothing on the local disk: no objects, no upload left in scratch.
    let local = data_dir.path().join(&app.settings.media.dir);
    assert!(!local.join("objects").exists(), "no local object store");
    let left: Vec<_> = std::fs::read_dir(local.join("scratch")).unwrap().collect();
    assert!(left.is_empty(), "uploads were handed over: {left:?}");

    // The platform got the clean copy, read from the bucket.
    let posts = stage.posts().await;
    let attached = posts["posts"][0]["media"].as_array().unwrap();
    assert_eq!(attached.len(), 1, "{posts}");
    assert_eq!(attached[0]["mime"], "image/jpeg");
    let sent = crate::helpers::http()
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
    assert!(!contains(&sent, GPS_MARKER), "GPS reached the platform");
    assert!(
        sent.as_ref() == object_bytes(&moto, "prasaran-media", &key_of(&clean)).await,
        "what the platform got is the clean object"
    );

    // And the API serves the upload as it was sent, from the bucket too.
    let content = crate::helpers::http()
        .get(app.url(&format!("/api/v1/media/{id}/content")))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), StatusCode::OK);
    assert!(content.bytes().await.unwrap().as_ref() == jpeg.as_slice());
}
