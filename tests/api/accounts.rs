//! Signup, login, logout and /me as a browser uses them.

use prasaran::domain::Email;
use prasaran::persistence::users;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, error_code};

#[actix_web::test]
async fn signup_me_logout_me() {
    let app = TestApp::spawn().await;

    let response = app.signup("  Ada@Example.com ", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(
        !response.headers().contains_key("set-cookie"),
        "signup logs nobody in"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "verification_sent");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("ada@example.com")
    );
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);

    let response = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["user"]["email_verified"], false);
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert!(csrf.len() >= 40);

    let me = app.me().await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["id"], body["user"]["id"]);
    assert_eq!(me["csrf_token"], csrf.as_str());

    let logout = app.logout(Some(&csrf)).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    let me = app.me().await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "unauthenticated");
}

#[actix_web::test]
async fn signup_with_a_taken_address_in_any_case_answers_as_a_new_one_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let new = app.signup("grace@example.com", PASSWORD).await;
    assert_eq!(new.status(), StatusCode::ACCEPTED);
    let new: Value = new.json().await.unwrap();
    let hash_before = users::password_hash(&app.pool, &Email::parse("grace@example.com").unwrap())
        .await
        .unwrap();

    let again = app
        .new_browser()
        .signup("GRACE@Example.COM", "another long passphrase 9")
        .await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again, new,
        "a stranger cannot tell the address has an account"
    );
    assert_eq!(app.count_rows("users").await, 1);
    let hash_after = users::password_hash(&app.pool, &Email::parse("grace@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(hash_before, hash_after, "the account is untouched");
    let refused = app
        .login("grace@example.com", "another long passphrase 9")
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.signed_up("linus@example.com").await;

    let wrong = app
        .login("linus@example.com", "not the right password")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.bytes().await.unwrap();
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.bytes().await.unwrap();
    assert_eq!(wrong, unknown);
    let body: Value = serde_json::from_slice(&wrong).unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
}

#[actix_web::test]
async fn login_with_the_right_password_works_and_rotates_the_session() {
    let app = TestApp::spawn().await;
    let first_csrf = app.signed_up("ken@example.com").await;
    let first_cookie: Vec<String> =
        sqlx::query_scalar("SELECT encode(key_hash, 'hex') FROM sessions")
            .fetch_all(&app.pool)
            .await
            .unwrap();

    let response = app.login("KEN@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ken@example.com");
    assert_ne!(body["csrf_token"], first_csrf.as_str());

    let sessions: Vec<String> = sqlx::query_scalar("SELECT encode(key_hash, 'hex') FROM sessions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1, "the old session is deleted on renew");
    assert_ne!(sessions, first_cookie, "login issues a new session id");
    assert_eq!(app.me().await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn stored_hash_is_argon2id_with_the_stated_parameters() {
    let app = TestApp::spawn().await;
    app.signed_up("hash@example.com").await;
    let email = Email::parse("hash@example.com").unwrap();
    let hash = users::password_hash(&app.pool, &email)
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[actix_web::test]
async fn bad_email_and_password_are_422_with_their_own_codes() {
    let app = TestApp::spawn().await;
    let cases = [
        ("not-an-email", PASSWORD, "invalid_email"),
        ("", PASSWORD, "invalid_email"),
        ("ok@example.com", "short", "invalid_password"),
        ("ok@example.com", "              ", "invalid_password"),
        ("ok@example.com", &"x".repeat(257), "invalid_password"),
    ];
    for (email, password, code) in cases {
        let response = app.signup(email, password).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email:?}"
        );
        assert_eq!(error_code(response).await, code, "{email:?} {password:?}");
    }
    assert_eq!(app.count_rows("users").await, 0);
}

#[actix_web::test]
async fn common_or_guessable_passwords_are_refused_saying_why() {
    let app = TestApp::spawn().await;
    for weak in ["password1234", "qwertyuiop123", "grace@example.com1"] {
        let response = app.signup("grace@example.com", weak).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{weak}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_password");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("too easy to guess"), "{weak}: {message}");
    }
    assert_eq!(app.count_rows("users").await, 0);
    // A change of password is held to the same rule.
    let csrf = app.signed_up("grace@example.com").await;
    let change = app
        .client
        .post(app.url("/api/v1/auth/password"))
        .header("X-CSRF-Token", &csrf)
        .json(&serde_json::json!({"current_password": PASSWORD, "new_password": "password1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(change).await, "invalid_password");
}

#[actix_web::test]
async fn login_rate_limit_trips_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.login_per_account_per_minute = 3.try_into().unwrap();
    })
    .await;
    for _ in 0..3 {
        let response = app.login("victim@example.com", "wrong password here").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app.login("victim@example.com", "wrong password here").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(limited).await, "rate_limited");

    // Another account from the same IP is still allowed (the per-IP limit is higher).
    let other = app
        .login("someone-else@example.com", "wrong password here")
        .await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn login_rate_limit_per_ip_spans_accounts() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.login_per_ip_per_minute = 2.try_into().unwrap();
    })
    .await;
    assert_eq!(
        app.login("a@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("b@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let limited = app.login("c@example.com", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
}

#[actix_web::test]
async fn signup_rate_limit_per_ip() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.signup_per_ip_per_hour = 2.try_into().unwrap();
    })
    .await;
    for n in 0..2 {
        let response = app
            .new_browser()
            .signup(&format!("u{n}@example.com"), PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let limited = app.signup("u3@example.com", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after > 60,
        "an hourly limit waits more than a minute: {retry_after}"
    );
}

async fn login_from(app: &TestApp, forwarded_for: &str, password: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&serde_json::json!({"email": "owner@example.com", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[actix_web::test]
async fn a_stranger_guessing_cannot_lock_the_owner_out() {
    // The app sits behind a proxy on loopback, which says who the client is.
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.login_per_account_per_minute = 3.try_into().unwrap();
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.signed_up("owner@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(login_from(&app, "198.51.100.66", "guessing the password").await);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        login_from(&app, "203.0.113.10", PASSWORD).await,
        StatusCode::OK,
        "the owner, elsewhere, still gets in"
    );
}

#[actix_web::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_changes_nothing() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.login_per_ip_per_minute = 2.try_into().unwrap();
    })
    .await;
    let statuses = [
        login_from(&app, "198.51.100.1", "wrong password one").await,
        login_from(&app, "198.51.100.2", "wrong password two").await,
        login_from(&app, "198.51.100.3", "wrong password three").await,
    ];
    assert_eq!(
        statuses[2],
        StatusCode::TOO_MANY_REQUESTS,
        "a client cannot pick fresh addresses: {statuses:?}"
    );
}
