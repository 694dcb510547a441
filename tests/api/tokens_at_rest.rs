//! Tokens are sealed per row and field, never stored in plain text, and
//! survive key rotation.

use std::sync::Arc;

use prasaran::connections::rotation::rotate;
use prasaran::connections::{TokenKind, open_token};
use prasaran::crypto::{CryptoError, Keyring, LocalKey, LocalKeyProvider, SealedBlob};
use prasaran::domain::ConnectionId;
use prasaran::persistence::connections::sealed_tokens;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::helpers::{TestApp, random_key};

fn id_of(connection: &Value) -> ConnectionId {
    ConnectionId(connection["id"].as_str().unwrap().parse().unwrap())
}

async fn blobs(app: &TestApp, id: ConnectionId) -> (SealedBlob, SealedBlob) {
    let tokens = sealed_tokens(&app.pool, id).await.unwrap().unwrap();
    (tokens.access_token.unwrap(), tokens.refresh_token.unwrap())
}

#[actix_web::test]
async fn the_raw_row_holds_no_plaintext_token() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("raw@example.com").await;
    let connection = app.connect_manch(&csrf, "raw").await;
    let id = id_of(&connection);

    let raw: String = sqlx::query_scalar("SELECT row_to_json(c)::text FROM platform_connections c")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let issued = app.sandbox().issued_tokens();
    assert_eq!(issued.len(), 2);
    for token in &issued {
        assert!(!raw.contains(token.as_str()), "plaintext token in the row");
    }

    // And the sealed values really are those tokens.
    let keyring = prasaran::startup::keys::keyring(&app.settings)
        .await
        .unwrap();
    let (access, refresh) = blobs(&app, id).await;
    assert_eq!(access.provider, "local");
    let access = open_token(&keyring, id, TokenKind::Access, &access)
        .await
        .unwrap();
    let refresh = open_token(&keyring, id, TokenKind::Refresh, &refresh)
        .await
        .unwrap();
    assert!(issued.contains(&access.expose_secret().to_owned()));
    assert!(issued.contains(&refresh.expose_secret().to_owned()));
}

#[actix_web::test]
async fn a_blob_moved_to_another_row_or_field_does_not_open() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("swap@example.com").await;
    let first = id_of(&app.connect_manch(&csrf, "first").await);
    let second = id_of(&app.connect_manch(&csrf, "second").await);
    let keyring = prasaran::startup::keys::keyring(&app.settings)
        .await
        .unwrap();
    let (first_access, _) = blobs(&app, first).await;

    assert!(
        open_token(&keyring, first, TokenKind::Access, &first_access)
            .await
            .is_ok()
    );
    let moved = open_token(&keyring, second, TokenKind::Access, &first_access).await;
    assert!(matches!(moved, Err(CryptoError::Integrity)), "{moved:?}");
    let other_field = open_token(&keyring, first, TokenKind::Refresh, &first_access).await;
    assert!(matches!(other_field, Err(CryptoError::Integrity)));

    let mut tampered = first_access.clone();
    {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let mut bytes = engine.decode(&tampered.ciphertext).unwrap();
        bytes[0] ^= 0x01;
        tampered.ciphertext = engine.encode(bytes);
    }
    assert!(
        open_token(&keyring, first, TokenKind::Access, &tampered)
            .await
            .is_err()
    );
}

fn key_from(text: &str) -> LocalKey {
    use base64::Engine;
    let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap();
    LocalKey::from_bytes(&bytes)
}

#[actix_web::test]
async fn rotation_rewraps_every_data_key_and_everything_still_opens() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("rotate@example.com").await;
    let a = id_of(&app.connect_manch(&csrf, "rot_a").await);
    let b = id_of(&app.connect_manch(&csrf, "rot_b").await);
    let old_keyring = prasaran::startup::keys::keyring(&app.settings)
        .await
        .unwrap();
    let (before_access, _) = blobs(&app, a).await;
    let plain_before = open_token(&old_keyring, a, TokenKind::Access, &before_access)
        .await
        .unwrap();

    // A new current key, the old one retired.
    let old_text = app
        .settings
        .keys
        .local
        .master_key
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    let new_text = random_key(32);
    let old_id = key_from(&old_text).id().to_owned();
    let new_id = key_from(&new_text).id().to_owned();
    let rotated = Keyring::new(Arc::new(LocalKeyProvider::new(
        key_from(&new_text),
        vec![key_from(&old_text)],
    )));

    let report = rotate(&app.pool, &rotated).await.unwrap();
    assert_eq!(report.rewrapped, 4, "two tokens on each of two connections");
    let again = rotate(&app.pool, &rotated).await.unwrap();
    assert_eq!(
        (again.rewrapped, again.current),
        (0, 4),
        "a second run has nothing to do"
    );

    let only_new = Keyring::new(Arc::new(LocalKeyProvider::new(key_from(&new_text), vec![])));
    for id in [a, b] {
        let (access, refresh) = blobs(&app, id).await;
        for blob in [&access, &refresh] {
            assert_eq!(blob.key_id, new_id);
            assert_ne!(blob.key_id, old_id);
        }
        open_token(&only_new, id, TokenKind::Access, &access)
            .await
            .unwrap();
        open_token(&only_new, id, TokenKind::Refresh, &refresh)
            .await
            .unwrap();
        let without_new = open_token(&old_keyring, id, TokenKind::Access, &access).await;
        assert!(matches!(without_new, Err(CryptoError::UnknownKey { .. })));
    }
    let (after_access, _) = blobs(&app, a).await;
    assert_eq!(
        after_access.ciphertext, before_access.ciphertext,
        "only the data key is re-wrapped"
    );
    let plain_after = open_token(&only_new, a, TokenKind::Access, &after_access)
        .await
        .unwrap();
    assert_eq!(plain_after.expose_secret(), plain_before.expose_secret());
    let _: SecretString = plain_after;
}

#[actix_web::test]
async fn keys_rotate_command_reports_what_it_did() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("cli-rotate@example.com").await;
    app.connect_manch(&csrf, "cli").await;
    let dir = tempfile::tempdir().unwrap();
    let old_file = dir.path().join("old.key");
    std::fs::write(
        &old_file,
        app.settings
            .keys
            .local
            .master_key
            .as_ref()
            .unwrap()
            .expose_secret(),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_prasaran"))
        .args(["keys", "rotate"])
        .env(
            "PRASARAN__DATABASE__URL",
            app.settings.database.url.as_ref().unwrap().expose_secret(),
        )
        .env("PRASARAN__KEYS__LOCAL__MASTER_KEY", random_key(32))
        .env(
            "PRASARAN__KEYS__LOCAL__RETIRED_KEY_FILES",
            format!("[\"{}\"]", old_file.display()),
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("re-wrapped 2 data keys"), "{stdout}");
}
