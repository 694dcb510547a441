//! Mail that accounts send: verification and password-reset links, through
//! the development outbox and through a real SMTP server (aiosmtpd).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cloud::free_port;
use crate::helpers::{PASSWORD, TestApp, error_code};

const NEW_PASSWORD: &str = "a different long passphrase 42";

/// A bodiless state-changing request of the app's browser session.
async fn post_empty(app: &TestApp, path: &str, csrf: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("X-CSRF-Token", csrf)
        .send()
        .await
        .unwrap()
}

async fn verified_rule_app() -> TestApp {
    TestApp::spawn_with(|s| s.accounts.verified_email_to_connect = true).await
}

#[actix_web::test]
async fn an_address_is_verified_by_its_mailed_link_once_and_only_then_connects() {
    let app = verified_rule_app().await;
    let csrf = app.signed_up("vera@example.com").await;

    let refused = post_empty(&app, "/api/v1/connections/manch/authorize", &csrf).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "email_unverified");
    assert!(body["error"]["message"].as_str().unwrap().contains("link"));

    let token = app.mailed_token("vera@example.com", "verify-email").await;
    // Anyone holding the link may use it: it is the mailbox that is proven.
    let verified = app
        .new_browser()
        .post_json("/api/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["email_verified"], true);
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM account_links")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes(), "only a hash of the token is kept");

    let again = app
        .post_json("/api/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(again).await, "invalid_link");

    app.authorize("manch", &csrf).await;
    let resend = post_empty(&app, "/api/v1/auth/resend-verification", &csrf).await;
    assert_eq!(resend.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(resend).await, "already_verified");
}

#[actix_web::test]
async fn a_resent_link_replaces_the_first_and_an_expired_one_is_refused() {
    let app = verified_rule_app().await;
    let csrf = app.signed_up("resend@example.com").await;
    let first = app.mailed_token("resend@example.com", "verify-email").await;
    let resend = post_empty(&app, "/api/v1/auth/resend-verification", &csrf).await;
    assert_eq!(resend.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(15);
    let second = loop {
        let token = app.mailed_token("resend@example.com", "verify-email").await;
        if token != first {
            break token;
        }
        assert!(Instant::now() < deadline, "no second link was mailed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let old = app
        .post_json("/api/v1/auth/verify-email", &json!({"token": first}))
        .await;
    assert_eq!(error_code(old).await, "invalid_link", "the first link died");

    sqlx::query("UPDATE account_links SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let expired = app
        .post_json("/api/v1/auth/verify-email", &json!({"token": second}))
        .await;
    assert_eq!(expired.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(expired).await, "invalid_link");
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["user"]["email_verified"], false);
}

#[actix_web::test]
async fn signing_up_with_a_taken_address_mails_its_owner_no_link() {
    let app = TestApp::spawn().await;
    app.signed_up("owner@example.com").await;
    app.mailed_token("owner@example.com", "verify-email").await;
    let again = app
        .new_browser()
        .signup("owner@example.com", NEW_PASSWORD)
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = app.get("/dev/outbox").await.text().await.unwrap();
        if page.contains("Someone tried to sign up with your address") {
            let newest = page.split("<article>").nth(1).unwrap();
            assert!(newest.contains("owner@example.com"));
            assert!(!newest.contains("token="), "no link that proves anything");
            assert!(newest.contains("/forgot-password"));
            break;
        }
        assert!(Instant::now() < deadline, "no mail to the owner: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_password_reset_ends_every_session_and_token_and_works_once() {
    let app = TestApp::spawn().await;
    let csrf = app.signed_up("reset@example.com").await;
    let api_token = app.api_token(&csrf).await;
    let laptop = app.new_browser();
    assert_eq!(
        laptop.login("reset@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );

    // Unknown addresses get the same answer and no mail.
    let stranger = app
        .post_json(
            "/api/v1/auth/forgot-password",
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(stranger.status(), StatusCode::ACCEPTED);
    let stranger: Value = stranger.json().await.unwrap();
    let known = app
        .post_json(
            "/api/v1/auth/forgot-password",
            &json!({"email": "Reset@Example.com"}),
        )
        .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    let known: Value = known.json().await.unwrap();
    assert_eq!(known["status"], stranger["status"]);
    let token = app
        .mailed_token("reset@example.com", "reset-password")
        .await;
    let page = app.get("/dev/outbox").await.text().await.unwrap();
    assert!(!page.contains("nobody@example.com"));

    let weak = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({"token": token, "password": "password1234"}),
        )
        .await;
    assert_eq!(error_code(weak).await, "invalid_password");
    let reset = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);

    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.me().await.status(), StatusCode::UNAUTHORIZED);
    let with_token = app
        .client
        .get(app.url("/api/v1/posts"))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("reset@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let login = app.login("reset@example.com", NEW_PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    assert_eq!(
        login["user"]["email_verified"], true,
        "the mail reached its owner"
    );

    let reuse = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({"token": token, "password": "yet another long passphrase 7"}),
        )
        .await;
    assert_eq!(reuse.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(reuse).await, "invalid_link");
    assert_eq!(
        app.login("reset@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn an_expired_reset_link_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up("late@example.com").await;
    app.post_json(
        "/api/v1/auth/forgot-password",
        &json!({"email": "late@example.com"}),
    )
    .await;
    let token = app.mailed_token("late@example.com", "reset-password").await;
    sqlx::query("UPDATE account_links SET expires_at = now() - interval '1 second' WHERE purpose = 'reset_password'")
        .execute(&app.pool)
        .await
        .unwrap();
    let late = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(error_code(late).await, "invalid_link");
    assert_eq!(
        app.me().await.status(),
        StatusCode::OK,
        "the session lives on"
    );
    assert_eq!(
        app.login("late@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// aiosmtpd keeping what it receives in a maildir.
struct SmtpServer {
    port: u16,
    maildir: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    async fn start() -> Self {
        let binary =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv/bin/aiosmtpd");
        assert!(
            binary.exists(),
            "aiosmtpd is missing: run scripts/test (scripts/moto-venv installs it)"
        );
        let maildir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(binary)
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // Python's Maildir makes the folder with its cur/new/tmp only
            // when it does not exist yet.
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            port,
            maildir,
            child,
        }
    }

    /// Every message received so far, as raw RFC 5322 text.
    fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail").join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect()
    }

    async fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} messages arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The link of `page` in a raw message (plain text, possibly
/// quoted-printable: soft line breaks are undone first).
fn link_token(message: &str, page: &str) -> Option<String> {
    let unfolded = message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let pattern = regex::Regex::new(&format!(r"/{page}\?token=([A-Za-z0-9_-]+)")).unwrap();
    pattern.captures(&unfolded).map(|c| c[1].to_owned())
}

#[actix_web::test]
async fn mail_goes_through_a_real_smtp_server_and_its_links_work() {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = TestApp::spawn_with(move |s| {
        s.mail.transport = prasaran::settings::MailTransport::Smtp;
        s.mail.smtp.host = Some("127.0.0.1".into());
        s.mail.smtp.port = port;
        s.mail.smtp.security = prasaran::settings::SmtpSecurity::None;
        s.mail.from = "Prasaran Test <robot@prasaran.test>".into();
        s.accounts.verified_email_to_connect = true;
    })
    .await;
    assert_eq!(
        app.get("/dev/outbox").await.status(),
        StatusCode::NOT_FOUND,
        "no outbox page when mail is really sent"
    );

    let csrf = app.signed_up("smtp@example.com").await;
    let messages = smtp.wait_for(1).await;
    let message = &messages[0];
    assert!(message.contains("To: smtp@example.com"), "{message}");
    assert!(
        message.contains("From: \"Prasaran Test\" <robot@prasaran.test>")
            || message.contains("From: Prasaran Test <robot@prasaran.test>"),
        "{message}"
    );
    assert!(
        message.contains("Subject: Verify your email address for Prasaran"),
        "{message}"
    );
    let token = link_token(message, "verify-email").expect("a verification link");
    let verified = app
        .post_json("/api/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    app.authorize("manch", &csrf).await;

    app.post_json(
        "/api/v1/auth/forgot-password",
        &json!({"email": "smtp@example.com"}),
    )
    .await;
    let messages = smtp.wait_for(2).await;
    let reset = messages
        .iter()
        .find_map(|m| link_token(m, "reset-password"))
        .expect("a reset link");
    let done = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({"token": reset, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn plain_text_smtp_to_a_remote_relay_is_refused_at_start() {
    let mut settings = crate::helpers::test_settings();
    settings.mail.transport = prasaran::settings::MailTransport::Smtp;
    settings.mail.smtp.host = Some("mail.example.com".into());
    settings.mail.smtp.security = prasaran::settings::SmtpSecurity::None;
    let error = prasaran::mail::from_settings(&settings.mail, Path::new("/nonexistent"))
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(message.contains("clear text"), "{message}");
    assert!(message.contains("starttls"), "{message}");
}
