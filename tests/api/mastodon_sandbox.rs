//! The Mastodon sandbox over real HTTP, as a client meets it: app
//! registration, OAuth with and without PKCE, consent, tokens, accounts,
//! instance limits, the character count, media (images with alt text,
//! video 202 → 206 → 200), idempotency keys (replay and the concurrent
//! window), rate limits with an ISO 8601 reset, and revocation.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prasaran::sandbox::mastodon::{MastodonConfig, MastodonSandbox};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x01, 0x01, 0x04, 0x00, 0xfb, 0xff,
    0x00, 0xc8, 0x1e, 0x1e, 0x02, 0xb6, 0x01, 0x05, 0x0e, 0x12, 0x4f, 0x29, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// What an MP4 starts with; the sandbox only sniffs.
fn video() -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypmp42");
    bytes.resize(4096, 0);
    bytes
}

/// The same PNG with `n` trailing bytes, so each upload is distinct content.
fn png(n: usize) -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.extend(std::iter::repeat_n(0u8, n));
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct App {
    client_id: String,
    client_secret: String,
}

struct Instance {
    server: MastodonSandbox,
    http: reqwest::Client,
}

impl Instance {
    fn start() -> Self {
        Self::with(MastodonConfig::default())
    }

    fn with(config: MastodonConfig) -> Self {
        let mut server = MastodonSandbox::bind("127.0.0.1:0".parse().unwrap(), config, 1).unwrap();
        server.spawn();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { server, http }
    }

    fn url(&self, path: &str) -> Url {
        self.server.base_url.join(path).unwrap()
    }

    async fn faults(&self, faults: Value) {
        let response = self
            .http
            .post(self.url("/_sandbox/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{faults}");
    }

    async fn sandbox(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn calls(&self) -> Value {
        self.sandbox("/_sandbox/calls").await
    }

    async fn posts(&self) -> Value {
        self.sandbox("/_sandbox/posts").await
    }

    async fn register(&self, scopes: &str) -> App {
        let response = self
            .http
            .post(self.url("/api/v1/apps"))
            .form(&[
                ("client_name", "Prasaran tests"),
                ("redirect_uris", REDIRECT),
                ("scopes", scopes),
                ("website", "https://prasaran.example"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        App {
            client_id: body["client_id"].as_str().unwrap().to_owned(),
            client_secret: body["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    fn authorize_url(&self, app: &App, scope: &str, challenge: Option<&str>) -> Url {
        let mut url = self.url("/oauth/authorize");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &app.client_id)
                .append_pair("redirect_uri", REDIRECT)
                .append_pair("scope", scope)
                .append_pair("state", "st-1");
            if let Some(challenge) = challenge {
                q.append_pair("code_challenge", challenge)
                    .append_pair("code_challenge_method", "S256");
            }
        }
        url
    }

    /// As `Browser::consent` drives a consent page: GET it, then POST the
    /// authorize parameters with `handle` and `decision` to /oauth/authorize.
    async fn consent(&self, authorize_url: &Url, handle: &str, decision: &str) -> Url {
        let page = self.http.get(authorize_url.clone()).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Approve") && html.contains("name=\"handle\""),
            "{html}"
        );
        let mut form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
        form.push(("handle".into(), handle.into()));
        form.push(("decision".into(), decision.into()));
        let response = self
            .http
            .post(authorize_url.join("/oauth/authorize").unwrap())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
    }

    async fn exchange(&self, app: &App, code: &str, verifier: Option<&str>) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        self.http
            .post(self.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// The whole PKCE flow for `username`; the access token.
    async fn user_token(&self, app: &App, username: &str, scope: &str) -> String {
        let verifier = format!("verifier-{username}-0123456789abcdefghijklmnopqrstuvwxyz");
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let back = self
            .consent(
                &self.authorize_url(app, scope, Some(&challenge)),
                username,
                "approve",
            )
            .await;
        let code = query(&back, "code").unwrap();
        let response = self.exchange(app, &code, Some(&verifier)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn post_status(&self, token: &str, body: Value, key: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/api/v1/statuses"))
            .bearer_auth(token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    async fn upload(
        &self,
        token: &str,
        bytes: Vec<u8>,
        mime: &str,
        description: Option<&str>,
    ) -> reqwest::Response {
        let name = if mime.starts_with("video/") {
            "clip.mp4"
        } else {
            "picture.png"
        };
        let mut form = Form::new().part(
            "file",
            Part::bytes(bytes).file_name(name).mime_str(mime).unwrap(),
        );
        if let Some(description) = description {
            form = form.text("description", description.to_owned());
        }
        self.http
            .post(self.url("/api/v2/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// A user with an app and a `read write` token.
    async fn user(&self, username: &str) -> (App, String) {
        let app = self.register("read write").await;
        let token = self.user_token(&app, username, "read write").await;
        (app, token)
    }
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[actix_web::test]
async fn apps_register_from_forms_and_json_and_are_counted() {
    let instance = Instance::start();
    let form = instance
        .http
        .post(instance.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Form app"),
            (
                "redirect_uris",
                "https://a.example/cb\nhttps://a.example/cb2",
            ),
            ("scopes", "read write:statuses write:media"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.headers().contains_key("x-ratelimit-remaining"));
    let form = json(form).await;
    assert_eq!(form["name"], "Form app");
    assert_eq!(
        form["scopes"],
        json!(["read", "write:statuses", "write:media"])
    );
    assert_eq!(
        form["redirect_uris"],
        json!(["https://a.example/cb", "https://a.example/cb2"])
    );
    assert_eq!(
        form["redirect_uri"],
        "https://a.example/cb\nhttps://a.example/cb2"
    );
    assert_eq!(form["client_secret_expires_at"], 0);
    assert_eq!(form["client_id"].as_str().unwrap().len(), 43);
    assert!(form["id"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(form["website"].is_null());

    let body = json(
        instance
            .http
            .post(instance.url("/api/v1/apps"))
            .json(&json!({
                "client_name": "JSON app",
                "redirect_uris": [REDIRECT, "urn:ietf:wg:oauth:2.0:oob"],
                "website": "https://app.example",
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["scopes"], json!(["read"]), "scopes default to read");
    assert_eq!(
        body["redirect_uris"],
        json!([REDIRECT, "urn:ietf:wg:oauth:2.0:oob"])
    );
    assert_eq!(body["website"], "https://app.example");

    let refused = instance
        .http
        .post(instance.url("/api/v1/apps"))
        .form(&[("redirect_uris", "not a uri"), ("scopes", "read nonsense")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json(refused).await,
        json!({"error": "Validation failed: Name can't be blank, Redirect URI must be an absolute URI., Scopes doesn't match configured on the server."})
    );

    assert_eq!(instance.calls().await["app_registrations"], 2);
    let apps = instance.sandbox("/_sandbox/apps").await;
    assert_eq!(apps.as_array().unwrap().len(), 2);
    assert!(apps[0].get("client_secret").is_none());
}

#[actix_web::test]
async fn the_pkce_code_flow_gives_a_bearer_token_that_never_expires() {
    let instance = Instance::start();
    let metadata = json(
        instance
            .http
            .get(instance.url("/.well-known/oauth-authorization-server"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "client_credentials"])
    );
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["app_registration_endpoint"],
        instance.url("/api/v1/apps").as_str()
    );
    assert_eq!(
        metadata["token_endpoint"],
        instance.url("/oauth/token").as_str()
    );
    assert_eq!(
        metadata["revocation_endpoint"],
        instance.url("/oauth/revoke").as_str()
    );
    assert!(
        metadata["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("write:statuses"))
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );

    let app = instance.register("read write").await;
    let verifier = "a-verifier-that-is-long-enough-0123456789abcdef";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let back = instance
        .consent(
            &instance.authorize_url(&app, "read write", Some(&challenge)),
            "alice",
            "approve",
        )
        .await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    let code = query(&back, "code").unwrap();

    for wrong in [None, Some("not-the-verifier-0123456789abcdefghijklmnop")] {
        let refused = instance.exchange(&app, &code, wrong).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json(refused).await["error"], "invalid_grant");
    }
    let ok = instance.exchange(&app, &code, Some(verifier)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let tokens = json(ok).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "read write");
    assert!(tokens["created_at"].as_i64().unwrap() > 1_700_000_000);
    assert!(
        tokens.get("refresh_token").is_none() && tokens.get("expires_in").is_none(),
        "{tokens}"
    );
    let token = tokens["access_token"].as_str().unwrap();

    let replay = instance.exchange(&app, &code, Some(verifier)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(replay).await["error"], "invalid_grant");

    let bad_client = instance
        .http
        .post(instance.url("/oauth/token"))
        .basic_auth(&app.client_id, Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_client.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(bad_client).await["error"], "invalid_client");

    let me = instance
        .get(token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let me = json(me).await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["acct"], "alice");
    assert!(
        me["id"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit())
    );
    let domain = &instance.server.domain;
    assert_eq!(me["url"], format!("https://{domain}/@alice"));
    assert_eq!(me["source"]["privacy"], "public");

    // Doorkeeper's reuse_access_token: the same user, app and scopes get the same token.
    assert_eq!(
        instance.user_token(&app, "alice", "read write").await,
        token
    );
    let calls = instance.calls().await;
    assert_eq!(calls["token_exchanges"], 2);
    assert_eq!(calls["token_errors"], 4);
}

#[actix_web::test]
async fn without_pkce_the_instance_answers_as_one_older_than_4_3() {
    let instance = Instance::start();
    instance.faults(json!({"pkce": false})).await;
    let metadata = instance
        .http
        .get(instance.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), StatusCode::NOT_FOUND);

    let app = instance.register("read write").await;
    let back = instance
        .consent(
            &instance.authorize_url(&app, "read", Some("ignored-challenge")),
            "bob",
            "approve",
        )
        .await;
    let code = query(&back, "code").unwrap();
    let ok = instance.exchange(&app, &code, None).await;
    assert_eq!(ok.status(), StatusCode::OK, "the challenge was ignored");

    // With PKCE on, a challenge without its verifier is refused.
    instance.faults(json!({"pkce": true})).await;
    let back = instance
        .consent(
            &instance.authorize_url(&app, "read", Some("some-challenge")),
            "bob",
            "approve",
        )
        .await;
    let refused = instance
        .exchange(&app, &query(&back, "code").unwrap(), None)
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn consent_can_be_denied_and_requests_are_checked() {
    let instance = Instance::start();
    let app = instance.register("read write:statuses").await;
    let back = instance
        .consent(&instance.authorize_url(&app, "read", None), "carol", "deny")
        .await;
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    assert!(query(&back, "code").is_none());

    // Scopes beyond the app's: back to the client with invalid_scope.
    let too_wide = instance
        .http
        .get(instance.authorize_url(&app, "read write", None))
        .send()
        .await
        .unwrap();
    assert_eq!(too_wide.status(), StatusCode::FOUND);
    let location = Url::parse(too_wide.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(query(&location, "error").as_deref(), Some("invalid_scope"));

    // A redirect URI the app did not register: an error page, no redirect.
    let mut foreign = instance.authorize_url(&app, "read", None);
    let pairs: Vec<(String, String)> = foreign
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "redirect_uri" {
                "https://evil.example/cb".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    foreign.query_pairs_mut().clear().extend_pairs(pairs);
    let page = instance.http.get(foreign).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);

    let unknown = instance
        .http
        .get(instance.authorize_url(
            &App {
                client_id: "nope".into(),
                client_secret: String::new(),
            },
            "read",
            None,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let calls = instance.calls().await;
    assert_eq!(
        (calls["denials"].as_u64(), calls["approvals"].as_u64()),
        (Some(1), Some(0))
    );
}

#[actix_web::test]
async fn an_app_token_is_not_a_user() {
    let instance = Instance::start();
    let app = instance.register("read write").await;
    let response = instance
        .http
        .post(instance.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = instance
        .get(&token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(me.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json(me).await["error"],
        "This method requires an authenticated user"
    );

    let read_only = instance.user_token(&app, "dave", "read").await;
    let refused = instance
        .post_status(&read_only, json!({"status": "hi"}), None)
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(refused).await["error"],
        "This action is outside the authorized scopes"
    );
    let nobody = instance
        .post_status("not-a-token", json!({"status": "hi"}), None)
        .await;
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(nobody).await["error"], "The access token is invalid");
}

/// Dev's `sandbox.keep_state`: a restarted instance knows its apps (their
/// secrets by hash), accounts, tokens (by hash) and statuses again, so an
/// account connected before the restart still posts; the kept file holds no
/// working secret.
#[actix_web::test]
async fn kept_state_brings_apps_accounts_tokens_and_statuses_back() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mastodon-kept")
        .join(uuid::Uuid::new_v4().simple().to_string())
        .join("mastodon.json");
    let config = || MastodonConfig {
        domain: Some("kept.example".into()),
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let first = Instance::with(config());
    let (app, token) = first.user("keeper").await;
    let posted = first
        .post_status(&token, json!({"status": "kept across restarts"}), None)
        .await;
    assert_eq!(posted.status(), StatusCode::OK);
    first.server.save().await;
    first.server.stop().await;
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(!kept.contains(&token) && !kept.contains(&app.client_secret));

    let second = Instance::with(config());
    let me = second
        .get(&token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let me = json(me).await;
    assert_eq!(me["username"], "keeper");
    let statuses = json(
        second
            .get(
                &token,
                &format!("/api/v1/accounts/{}/statuses", me["id"].as_str().unwrap()),
            )
            .await,
    )
    .await;
    assert_eq!(
        statuses[0]["content"], "<p>kept across restarts</p>",
        "{statuses}"
    );
    let again = second
        .post_status(&token, json!({"status": "and after"}), None)
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let app_token = second
        .http
        .post(second.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        app_token.status(),
        StatusCode::OK,
        "the app's secret still works"
    );
    let wrong = second
        .http
        .post(second.url("/oauth/token"))
        .basic_auth(&app.client_id, Some("not-the-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn two_sandboxes_are_two_instances_with_their_own_domains() {
    let one = Instance::with(MastodonConfig {
        domain: Some("one.example".into()),
        ..Default::default()
    });
    let two = Instance::start();
    assert_ne!(one.server.domain, two.server.domain);
    let (_, token_one) = one.user("erin").await;
    let (_, token_two) = two.user("erin").await;
    let me_one = json(
        one.get(&token_one, "/api/v1/accounts/verify_credentials")
            .await,
    )
    .await;
    let me_two = json(
        two.get(&token_two, "/api/v1/accounts/verify_credentials")
            .await,
    )
    .await;
    assert_eq!(me_one["url"], "https://one.example/@erin");
    assert_eq!(
        me_two["url"],
        format!("https://{}/@erin", two.server.domain)
    );
    let elsewhere = two
        .get(&token_one, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::UNAUTHORIZED,
        "a token is one instance's"
    );
    let instance = json(
        one.http
            .get(one.url("/api/v2/instance"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(instance["domain"], "one.example");
    assert_eq!(one.calls().await["app_registrations"], 1);
    assert_eq!(two.calls().await["app_registrations"], 1);
}

#[actix_web::test]
async fn the_instance_reports_its_limits() {
    let instance = Instance::start();
    let body = json(
        instance
            .http
            .get(instance.url("/api/v2/instance"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let config = &body["configuration"];
    assert_eq!(
        config["statuses"],
        json!({"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23})
    );
    assert_eq!(config["media_attachments"]["image_size_limit"], 16_777_216);
    assert_eq!(config["media_attachments"]["video_size_limit"], 103_809_024);
    assert_eq!(
        config["media_attachments"]["image_matrix_limit"],
        33_177_600
    );
    assert_eq!(config["media_attachments"]["video_matrix_limit"], 8_294_400);
    assert_eq!(config["media_attachments"]["video_frame_rate_limit"], 120);
    assert!(
        config["media_attachments"]["supported_mime_types"]
            .as_array()
            .unwrap()
            .contains(&json!("video/mp4"))
    );
    assert_eq!(config["accounts"]["max_pinned_statuses"], 5);

    instance.faults(json!({"max_characters": 1000})).await;
    let body = json(
        instance
            .http
            .get(instance.url("/api/v2/instance"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["configuration"]["statuses"]["max_characters"], 1000);
    let configured = Instance::with(MastodonConfig {
        faults: prasaran::sandbox::mastodon::Faults {
            max_characters: 42,
            ..Default::default()
        },
        ..Default::default()
    });
    let body = json(
        configured
            .http
            .get(configured.url("/api/v2/instance"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["configuration"]["statuses"]["max_characters"], 42);
}

#[actix_web::test]
async fn every_url_counts_23_characters_at_the_limit() {
    let instance = Instance::start();
    let (_, token) = instance.user("frank").await;
    let url = format!("https://example.com/{}", "p".repeat(100));
    // 476 + 1 space + 23 for the URL = 500 exactly.
    let at_limit = format!("{} {url}", "a".repeat(476));
    assert!(at_limit.chars().count() > 500);
    let ok = instance
        .post_status(&token, json!({"status": at_limit}), None)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let status = json(ok).await;
    let content = status["content"].as_str().unwrap();
    assert!(
        content.starts_with("<p>aaa") && content.ends_with("</a></p>"),
        "{content}"
    );
    assert!(content.contains(&format!("href=\"{url}\"")), "{content}");

    let over = format!("a{at_limit}");
    let refused = instance
        .post_status(&token, json!({"status": over}), None)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json(refused).await,
        json!({"error": "Validation failed: Text character limit of 500 exceeded"})
    );

    // A remote mention counts only its @username; a grapheme cluster is one.
    let mention = format!("@gina@far.away.example {}", "é".repeat(493));
    assert_eq!(
        instance
            .post_status(&token, json!({"status": mention}), None)
            .await
            .status(),
        StatusCode::OK
    );
    let composed = "e\u{301}".repeat(500);
    assert_eq!(
        instance
            .post_status(&token, json!({"status": composed}), None)
            .await
            .status(),
        StatusCode::OK
    );
    // The content warning counts too.
    let refused = instance
        .post_status(
            &token,
            json!({"status": "b".repeat(490), "spoiler_text": "c".repeat(11)}),
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let blank = instance
        .post_status(&token, json!({"status": "  "}), None)
        .await;
    assert_eq!(
        json(blank).await["error"],
        "Validation failed: Text can't be blank"
    );

    // Escaped, paragraphed, with its entity shape.
    let status = json(
        instance
            .post_status(
                &token,
                json!({"status": "<b>hi</b> & bye\n\nsecond", "visibility": "unlisted", "language": "de", "spoiler_text": "cw"}),
                None,
            )
            .await,
    )
    .await;
    assert_eq!(
        status["content"],
        "<p>&lt;b&gt;hi&lt;/b&gt; &amp; bye</p><p>second</p>"
    );
    assert_eq!(status["visibility"], "unlisted");
    assert_eq!(status["language"], "de");
    assert_eq!(
        status["sensitive"], true,
        "a content warning makes it sensitive"
    );
    let id = status["id"].as_str().unwrap();
    let domain = &instance.server.domain;
    assert_eq!(status["url"], format!("https://{domain}/@frank/{id}"));
    assert_eq!(
        status["uri"],
        format!("https://{domain}/users/frank/statuses/{id}")
    );
    assert_eq!(status["account"]["username"], "frank");
    assert_eq!(status["application"]["name"], "Prasaran tests");
    assert!(status["created_at"].as_str().unwrap().ends_with('Z'));
    instance.faults(json!({"max_characters": 10})).await;
    let refused = instance
        .post_status(&token, json!({"status": "x".repeat(11)}), None)
        .await;
    assert_eq!(
        json(refused).await["error"],
        "Validation failed: Text character limit of 10 exceeded"
    );
}

#[actix_web::test]
async fn four_images_with_their_alt_text_reach_the_post() {
    let instance = Instance::start();
    let (_, token) = instance.user("hana").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let response = instance
            .upload(&token, png(n), "image/png", Some(&format!("picture {n}")))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "images are processed at once"
        );
        let media = json(response).await;
        assert_eq!(media["type"], "image");
        assert_eq!(media["description"], format!("picture {n}"));
        assert_eq!(media["meta"]["original"]["width"], 1);
        assert!(media["url"].is_string() && media["remote_url"].is_null());
        assert_eq!(media["blurhash"].as_str().unwrap().len(), 6);
        ids.push(media["id"].as_str().unwrap().to_owned());
    }
    let five = instance
        .post_status(&token, json!({"status": "five", "media_ids": ids}), None)
        .await;
    assert_eq!(five.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(five).await["error"], "Cannot attach more than 4 files");

    let updated = instance
        .http
        .put(instance.url(&format!("/api/v1/media/{}", ids[1])))
        .bearer_auth(&token)
        .form(&[
            ("description", "a better description"),
            ("focus", "0.5,-0.25"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let updated = json(updated).await;
    assert_eq!(updated["description"], "a better description");
    assert_eq!(updated["meta"]["focus"], json!({"x": 0.5, "y": -0.25}));

    // Form encoding, media_ids[] as Rails reads it.
    let mut form = vec![("status".to_owned(), "four pictures".to_owned())];
    form.extend(
        ids[..4]
            .iter()
            .map(|id| ("media_ids[]".to_owned(), id.clone())),
    );
    let posted = instance
        .http
        .post(instance.url("/api/v1/statuses"))
        .bearer_auth(&token)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let status = json(posted).await;
    let attached: Vec<&str> = status["media_attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        attached,
        ids[..4].iter().map(String::as_str).collect::<Vec<_>>()
    );

    let again = instance
        .post_status(
            &token,
            json!({"status": "again", "media_ids": [ids[0]]}),
            None,
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "media belong to one status"
    );

    let posts = instance.posts().await;
    let media = posts["posts"][0]["media"].as_array().unwrap().clone();
    assert_eq!(media.len(), 4);
    assert_eq!(media[1]["description"], "a better description");
    assert_eq!(media[2]["sha256"], sha256(&png(2)));
    assert_eq!(media[2]["mime"], "image/png");
    assert_eq!(media[2]["bytes"], png(2).len());
    let file = instance
        .http
        .get(status["media_attachments"][3]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().as_ref(), png(3).as_slice());
    assert_eq!(instance.calls().await["media_uploads"], 5);

    // Not an image: 422; over the size limit: 422.
    let junk = instance
        .upload(&token, b"just text".to_vec(), "image/png", None)
        .await;
    assert_eq!(junk.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json(junk).await["error"],
        "Validation failed: File content type is invalid, File is invalid"
    );
    instance.faults(json!({"image_size_limit": 70})).await;
    let big = instance.upload(&token, png(10), "image/png", None).await;
    assert_eq!(big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json(big).await["error"],
        "Validation failed: File file size must be less than 70 Bytes"
    );
}

#[actix_web::test]
async fn a_video_is_accepted_then_processed() {
    let instance = Instance::start();
    let (_, token) = instance.user("ivan").await;
    instance.faults(json!({"video_processing_ms": 600})).await;
    let uploaded = instance
        .upload(&token, video(), "video/mp4", Some("a clip"))
        .await;
    assert_eq!(uploaded.status(), StatusCode::ACCEPTED);
    let media = json(uploaded).await;
    assert_eq!(media["type"], "video");
    assert!(
        media["url"].is_null() && media["preview_url"].is_string(),
        "{media}"
    );
    let id = media["id"].as_str().unwrap().to_owned();

    let pending = instance.get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(pending.status(), StatusCode::PARTIAL_CONTENT);
    let early = instance
        .post_status(&token, json!({"status": "clip", "media_ids": [id]}), None)
        .await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json(early).await["error"],
        "Cannot attach files that have not finished processing. Try again in a moment!"
    );
    let picture = json(instance.upload(&token, png(0), "image/png", None).await).await;
    let mixed = instance
        .post_status(
            &token,
            json!({"status": "mixed", "media_ids": [id, picture["id"]]}),
            None,
        )
        .await;
    assert_eq!(
        json(mixed).await["error"],
        "Cannot attach a video to a post that already contains images"
    );

    tokio::time::sleep(Duration::from_millis(700)).await;
    let done = instance.get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(json(done).await["url"].as_str().unwrap().ends_with(".mp4"));
    let posted = instance
        .post_status(&token, json!({"status": "clip", "media_ids": [id]}), None)
        .await;
    assert_eq!(posted.status(), StatusCode::OK);
    let others = Instance::start();
    let (_, stranger) = others.user("ivan").await;
    assert_eq!(
        others
            .get(&stranger, &format!("/api/v1/media/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn an_idempotency_key_replays_but_not_across_the_create_window() {
    let instance = Instance::start();
    let (_, token) = instance.user("june").await;
    let first = json(
        instance
            .post_status(&token, json!({"status": "once"}), Some("key-1"))
            .await,
    )
    .await;
    let again = instance
        .post_status(&token, json!({"status": "once"}), Some("key-1"))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(json(again).await["id"], first["id"]);
    let calls = instance.calls().await;
    assert_eq!(
        (
            calls["statuses_created"].as_u64(),
            calls["idempotent_replays"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // 4.3–4.5: the key is stored only after the status exists; two requests
    // inside that window both create one.
    instance.faults(json!({"create_delay_ms": 400})).await;
    let (a, b) = tokio::join!(
        instance.post_status(&token, json!({"status": "raced"}), Some("key-2")),
        instance.post_status(&token, json!({"status": "raced"}), Some("key-2")),
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    assert_ne!(json(a).await["id"], json(b).await["id"]);
    let posts = instance.posts().await;
    assert_eq!(posts["duplicates"], 1, "{posts}");
    assert_eq!(posts["posts"][2]["idempotency_key"], "key-2");
    assert!(instance.calls().await["peak_in_flight"].as_u64().unwrap() >= 2);

    // With the lock of mastodon/mastodon#37879 the second waits for nothing: 503.
    instance.faults(json!({"idempotency": "locked"})).await;
    let (a, b) = tokio::join!(
        instance.post_status(&token, json!({"status": "locked"}), Some("key-3")),
        instance.post_status(&token, json!({"status": "locked"}), Some("key-3")),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE]);
    let loser = if a.status() == StatusCode::OK { b } else { a };
    assert_eq!(
        json(loser).await["error"],
        "There was a temporary problem serving your request, please try again"
    );
    let replay = instance
        .post_status(&token, json!({"status": "locked"}), Some("key-3"))
        .await;
    assert_eq!(replay.status(), StatusCode::OK);
    instance
        .faults(json!({"idempotency": "locked_replay_500", "create_delay_ms": 0}))
        .await;
    let broken = instance
        .post_status(&token, json!({"status": "locked"}), Some("key-3"))
        .await;
    assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);

    // Keys are per account, and ignored altogether when idempotency is off.
    instance
        .faults(json!({"idempotency": "unlocked", "honor_idempotency": false}))
        .await;
    let ignored = json(
        instance
            .post_status(&token, json!({"status": "once more"}), Some("key-1"))
            .await,
    )
    .await;
    assert_ne!(ignored["id"], first["id"]);
    assert_eq!(instance.posts().await["posts"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn a_stalled_answer_still_leaves_its_status() {
    let instance = Instance::start();
    let (_, token) = instance.user("kim").await;
    instance
        .faults(json!({"stall_after_create_ms": 1500}))
        .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let lost = impatient
        .post(instance.url("/api/v1/statuses"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "stalled")
        .json(&json!({"status": "did it post?"}))
        .send()
        .await;
    assert!(lost.is_err(), "the client gave up");
    let posts = instance.posts().await;
    assert_eq!(posts["posts"].as_array().unwrap().len(), 1);
    assert_eq!(posts["posts"][0]["text"], "did it post?");
    // The key is stored: a retry is answered with the same status.
    tokio::time::sleep(Duration::from_millis(100)).await;
    instance.faults(json!({"stall_after_create_ms": 0})).await;
    let retry = json(
        instance
            .post_status(&token, json!({"status": "did it post?"}), Some("stalled"))
            .await,
    )
    .await;
    assert_eq!(retry["id"], posts["posts"][0]["id"]);
}

fn reset_header(response: &reqwest::Response) -> chrono::DateTime<chrono::FixedOffset> {
    let reset = response.headers()["x-ratelimit-reset"].to_str().unwrap();
    let shape = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$").unwrap();
    assert!(shape.is_match(reset), "{reset}");
    chrono::DateTime::parse_from_rfc3339(reset).unwrap()
}

#[actix_web::test]
async fn rate_limits_answer_429_with_an_iso_8601_reset() {
    let instance = Instance::start();
    let (_, token) = instance.user("lena").await;
    instance.faults(json!({"rate_limit_per_5min": 3})).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = instance
            .get(&token, "/api/v1/accounts/verify_credentials")
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        let reset = reset_header(&response);
        let ahead = reset
            .signed_duration_since(chrono::Utc::now())
            .num_seconds();
        assert!((0..=300).contains(&ahead), "{ahead}");
        assert_eq!(
            reset.timestamp() % 300,
            0,
            "windows end on a multiple of the period"
        );
        remaining.push(
            response.headers()["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = instance
        .get(&token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    reset_header(&limited);
    assert_eq!(json(limited).await, json!({"error": "Too many requests"}));
    assert_eq!(instance.calls().await["rate_limited"], 1);

    // Media uploads have their own, smaller budget.
    let (_, other) = instance.user("milo").await;
    instance
        .faults(json!({"rate_limit_per_5min": 300, "media_rate_limit_per_30min": 2}))
        .await;
    for _ in 0..2 {
        assert_eq!(
            instance
                .upload(&other, png(0), "image/png", None)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let third = instance.upload(&other, png(0), "image/png", None).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.headers()["x-ratelimit-limit"], "2");
    assert_eq!(reset_header(&third).timestamp() % 1800, 0);
    assert_eq!(
        instance
            .get(&other, "/api/v1/accounts/verify_credentials")
            .await
            .status(),
        StatusCode::OK
    );

    // The statuses family (300 per 3 hours) sets the headers of a new status.
    instance.faults(json!({"statuses_per_3h": 1})).await;
    let first = instance
        .post_status(&other, json!({"status": "one"}), None)
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["x-ratelimit-limit"], "1");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "0");
    let second = instance
        .post_status(&other, json!({"status": "two"}), None)
        .await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(second).await["error"], "Too many requests");
}

#[actix_web::test]
async fn a_revoked_token_is_refused_everywhere() {
    let instance = Instance::start();
    let (app, token) = instance.user("nina").await;
    let other_app = instance.register("read write").await;
    let forbidden = instance
        .http
        .post(instance.url("/oauth/revoke"))
        .form(&[
            ("token", token.as_str()),
            ("client_id", &other_app.client_id),
            ("client_secret", &other_app.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(forbidden).await["error"], "unauthorized_client");
    assert_eq!(
        instance
            .get(&token, "/api/v1/accounts/verify_credentials")
            .await
            .status(),
        StatusCode::OK
    );

    let revoked = instance
        .http
        .post(instance.url("/oauth/revoke"))
        .form(&[
            ("token", token.as_str()),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(json(revoked).await, json!({}));
    for path in ["/api/v1/accounts/verify_credentials", "/api/v1/media/1"] {
        let refused = instance.get(&token, path).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            refused.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
        assert_eq!(
            json(refused).await,
            json!({"error": "The access token was revoked"})
        );
    }
    let refused = instance
        .post_status(&token, json!({"status": "after"}), None)
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // The user removes the app in their settings: every token of theirs dies.
    let fresh = instance.user_token(&other_app, "nina", "read write").await;
    let removed = json(
        instance
            .http
            .post(instance.url("/_sandbox/revoke"))
            .json(&json!({"username": "nina"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(removed["revoked"], 1);
    assert_eq!(
        instance
            .get(&fresh, "/api/v1/accounts/verify_credentials")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let calls = instance.calls().await;
    assert_eq!(calls["revocations"], 2);
    assert!(calls["unauthorized"].as_u64().unwrap() >= 4);
}

#[actix_web::test]
async fn statuses_can_be_read_deleted_and_paged() {
    let instance = Instance::start();
    let (_, token) = instance.user("olga").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let visibility = if n == 4 { "private" } else { "public" };
        let status = json(
            instance
                .post_status(
                    &token,
                    json!({"status": format!("number {n}"), "visibility": visibility}),
                    None,
                )
                .await,
        )
        .await;
        ids.push(status["id"].as_str().unwrap().to_owned());
    }
    let account = json(
        instance
            .get(&token, "/api/v1/accounts/verify_credentials")
            .await,
    )
    .await;
    let account_id = account["id"].as_str().unwrap();
    assert_eq!(account["statuses_count"], 5);
    let path = format!("/api/v1/accounts/{account_id}/statuses?limit=2");
    let page = instance.get(&token, &path).await;
    let link = page.headers()["link"].to_str().unwrap().to_owned();
    let got: Vec<String> = json(page)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, [ids[4].clone(), ids[3].clone()], "newest first");
    assert!(
        link.contains(&format!("max_id={}>; rel=\"next\"", ids[3])),
        "{link}"
    );
    assert!(
        link.contains(&format!("min_id={}>; rel=\"prev\"", ids[4])),
        "{link}"
    );
    let next = link
        .split(';')
        .next()
        .unwrap()
        .trim_matches(|c| c == '<' || c == '>');
    let page: Value = instance
        .http
        .get(next)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page[0]["id"], ids[2].as_str());

    // Anonymous readers see public statuses only.
    let anonymous: Value = instance
        .http
        .get(instance.url(&format!("/api/v1/accounts/{account_id}/statuses")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous.as_array().unwrap().len(), 4);
    let capped: Value = instance
        .get(
            &token,
            &format!("/api/v1/accounts/{account_id}/statuses?limit=100"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(capped.as_array().unwrap().len(), 5);
    assert_eq!(instance.calls().await["lookups"], 4);

    let shown = instance
        .get(&token, &format!("/api/v1/statuses/{}", ids[0]))
        .await;
    assert_eq!(shown.status(), StatusCode::OK);
    let deleted = instance
        .http
        .delete(instance.url(&format!("/api/v1/statuses/{}", ids[0])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(json(deleted).await["text"], "number 0");
    let gone = instance
        .get(&token, &format!("/api/v1/statuses/{}", ids[0]))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(gone).await, json!({"error": "Record not found"}));
    let unknown = instance.get(&token, "/api/v1/accounts/1/statuses").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let reply = instance
        .post_status(
            &token,
            json!({"status": "re", "in_reply_to_id": ids[0]}),
            None,
        )
        .await;
    assert_eq!(reply.status(), StatusCode::NOT_FOUND);

    instance
        .http
        .post(instance.url("/_sandbox/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(instance.posts().await["posts"], json!([]));
    assert_eq!(
        instance
            .get(&token, "/api/v1/accounts/verify_credentials")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A GET from a plain (non-async) test.
fn blocking_get(url: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

#[test]
fn the_command_line_runs_a_mastodon_sandbox() {
    use std::io::{BufRead, BufReader};
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_prasaran"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PRASARAN") {
            command.env_remove(key);
        }
    }
    let mut child = command
        .args([
            "sandbox",
            "mastodon",
            "--bind",
            "127.0.0.1:0",
            "--domain",
            "cli.example",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Log lines share stdout: find the one naming the address.
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take(20)
        .find(|l| l.contains("listening on"))
        .unwrap_or_default();
    let url = line
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_owned();
    let body = (!url.is_empty()).then(|| blocking_get(&format!("{url}api/v2/instance")));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.contains("cli.example"), "{line}");
    assert_eq!(body.unwrap()["domain"], "cli.example");
}
