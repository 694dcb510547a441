//! The KMS key provider against a real KMS API (moto_server): data keys bound
//! to their row by the encryption context, rotation from the local key, and
//! the engine publishing and refreshing with tokens sealed by KMS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prasaran::connections::rotation::rotate;
use prasaran::connections::{TokenKind, open_token};
use prasaran::crypto::{Aad, CryptoError, KeyProvider, Keyring, KmsKeyProvider, open, seal};
use prasaran::domain::ConnectionId;
use prasaran::persistence::connections::sealed_tokens;
use prasaran::sandbox::manch::token_key;
use prasaran::settings::{KeyProviderKind, KmsSettings};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::cloud::Moto;
use crate::helpers::TestApp;
use crate::stage::{Stage, accepted, job, publisher, wait_job};

async fn kms_settings(moto: &Moto) -> KmsSettings {
    KmsSettings {
        key_id: Some(moto.create_key().await),
        endpoint_url: Some(moto.endpoint().parse().unwrap()),
        region: "us-east-1".into(),
        data_key_cache_secs: 300,
    }
}

#[actix_web::test]
async fn a_kms_sealed_value_opens_in_its_row_only() {
    let moto = Moto::start().await;
    let settings = kms_settings(&moto).await;
    let kms = KmsKeyProvider::connect(&settings).await.unwrap();
    let keyring = Keyring::new(Arc::new(kms));
    let row = Aad::new("platform_connections", "row-1", "access_token");
    let blob = seal(&keyring, b"a platform token", &row).await.unwrap();
    assert_eq!(blob.provider, "kms");
    assert_eq!(Some(blob.key_id.clone()), settings.key_id);
    assert_eq!(
        open(&keyring, &blob, &row).await.unwrap().as_slice(),
        b"a platform token"
    );

    let other_row = Aad::new("platform_connections", "row-2", "access_token");
    assert!(matches!(
        open(&keyring, &blob, &other_row).await,
        Err(CryptoError::Integrity)
    ));

    // KMS itself refuses the wrapped key under another row's context (a fresh
    // provider, so no cached key can answer).
    use base64::Engine;
    let wrapped = base64::engine::general_purpose::STANDARD
        .decode(&blob.wrapped_key)
        .unwrap();
    let fresh = KmsKeyProvider::connect(&settings).await.unwrap();
    assert!(matches!(
        fresh
            .unwrap(&blob.key_id, &wrapped, other_row.as_bytes())
            .await,
        Err(CryptoError::Integrity)
    ));
    let key = fresh
        .unwrap(&blob.key_id, &wrapped, row.as_bytes())
        .await
        .unwrap();
    assert_eq!(key.len(), 32);
}

#[actix_web::test]
async fn rotation_moves_local_key_blobs_to_kms() {
    let moto = Moto::start().await;
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("to-kms@example.com").await;
    let connection = app.connect_manch(&csrf, "to-kms").await;
    let id = ConnectionId(connection["id"].as_str().unwrap().parse().unwrap());
    let before = sealed_tokens(&app.pool, id).await.unwrap().unwrap();
    assert_eq!(before.access_token.as_ref().unwrap().provider, "local");

    // The configured provider is now KMS; the local key stays as a fallback.
    let mut settings = app.settings.clone();
    settings.keys.provider = KeyProviderKind::Kms;
    settings.keys.kms = kms_settings(&moto).await;
    let keyring = prasaran::startup::keys::keyring(&settings).await.unwrap();
    let report = rotate(&app.pool, &keyring).await.unwrap();
    assert_eq!(report.rewrapped, 2);

    // Every blob now names KMS and opens with KMS alone.
    let after = sealed_tokens(&app.pool, id).await.unwrap().unwrap();
    let kms_only = Keyring::new(Arc::new(
        KmsKeyProvider::connect(&settings.keys.kms).await.unwrap(),
    ));
    let issued = app.sandbox().issued_tokens();
    for (kind, blob) in [
        (TokenKind::Access, after.access_token.unwrap()),
        (TokenKind::Refresh, after.refresh_token.unwrap()),
    ] {
        assert_eq!(blob.provider, "kms");
        let token = open_token(&kms_only, id, kind, &blob).await.unwrap();
        assert!(issued.contains(&token.expose_secret().to_owned()));
    }
    assert_eq!(rotate(&app.pool, &keyring).await.unwrap().rewrapped, 0);
}

/// The connection's stored tokens, opened with KMS alone (no local fallback):
/// `(access, refresh)`. Both blobs must name KMS and its key.
async fn tokens_opened_by_kms(
    app: &TestApp,
    kms_only: &Keyring,
    kms: &KmsSettings,
    id: ConnectionId,
) -> (String, String) {
    let sealed = sealed_tokens(&app.pool, id).await.unwrap().unwrap();
    let mut opened = Vec::new();
    for (kind, blob) in [
        (TokenKind::Access, sealed.access_token.unwrap()),
        (TokenKind::Refresh, sealed.refresh_token.unwrap()),
    ] {
        assert_eq!(blob.provider, "kms");
        assert_eq!(Some(&blob.key_id), kms.key_id.as_ref());
        let token = open_token(kms_only, id, kind, &blob).await.unwrap();
        opened.push(token.expose_secret().to_owned());
    }
    let refresh = opened.pop().unwrap();
    (opened.pop().unwrap(), refresh)
}

#[actix_web::test]
async fn in_kms_mode_the_engine_publishes_and_seals_a_refreshed_token_with_kms() {
    let moto = Moto::start().await;
    let stage = Stage::new();
    let kms = kms_settings(&moto).await;
    let app = TestApp::spawn_with(|s| {
        stage.configure(s);
        s.keys.provider = KeyProviderKind::Kms;
        s.keys.kms = kms.clone();
    })
    .await;
    let p = publisher(&app, "kms-engine@example.com", &["sealed"]).await;
    let id = ConnectionId(p.connections[0].parse().unwrap());
    let kms_only = Keyring::new(Arc::new(KmsKeyProvider::connect(&kms).await.unwrap()));
    let (access, refresh) = tokens_opened_by_kms(&app, &kms_only, &kms, id).await;

    // The engine opens the token through KMS and publishes with it.
    let first = accepted(&app, &p.token, json!({"content": "sealed by KMS"})).await;
    let view = wait_job(&app, &p.token, &first, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["tasks"][0]["attempts"], 1, "{view}");

    // Every access token expires behind Prasaran's back: the next call is
    // refused, the worker refreshes, and the new pair is sealed with KMS.
    let token_requests = stage.manch.sandbox.lock().token_requests;
    for token in stage.manch.sandbox.lock().access.values_mut() {
        token.expires = Instant::now();
    }
    let second = accepted(&app, &p.token, json!({"content": "after a refresh"})).await;
    let view = wait_job(&app, &p.token, &second, Duration::from_secs(20)).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(
        stage.manch.sandbox.lock().token_requests - token_requests,
        1,
        "one refresh"
    );
    let (new_access, new_refresh) = tokens_opened_by_kms(&app, &kms_only, &kms, id).await;
    assert_ne!(new_access, access);
    assert_ne!(new_refresh, refresh, "Manch rotates refresh tokens");
    {
        let state = stage.manch.sandbox.lock();
        let live = &state.access[&token_key(&new_access)];
        assert!(
            live.expires > Instant::now(),
            "the stored token is the live one"
        );
        assert!(!state.refresh[&token_key(&new_refresh)].spent);
    }

    // Each post landed once, sent under its task's id.
    let posts = stage.posts().await;
    let keys: Vec<&str> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["idempotency_key"].as_str().unwrap())
        .collect();
    let mut tasks = Vec::new();
    for job_id in [&first, &second] {
        let view = job(&app, &p.token, job_id).await;
        tasks.push(view["tasks"][0]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys, tasks, "{posts}");
}
