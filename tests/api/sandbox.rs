//! The Manch sandbox and ManchAdapter together, over real HTTP: OAuth (codes,
//! PKCE, client auth, refresh rotation), posting rules, media uploads and
//! attachments, injected faults, and how each answer maps to an AdapterError.

use std::time::Duration;

use prasaran::adapters::manch::{MAX_IMAGE_BYTES, ManchAdapter};
use prasaran::adapters::{
    AdapterError, AuthorizeRequest, CodeExchange, MediaUpload, OutgoingPost, PlatformAdapter,
    TokenSet, http_client,
};
use prasaran::sandbox::manch::{DEFAULT_CLIENT_SECRET, SandboxConfig, SandboxServer};
use prasaran::settings::HttpClientSettings;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

struct Manch {
    server: SandboxServer,
    http: reqwest::Client,
}

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A 1×1 PNG, as an encoder writes it.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x01, 0x01, 0x04, 0x00, 0xfb, 0xff,
    0x00, 0xc8, 0x1e, 0x1e, 0x02, 0xb6, 0x01, 0x05, 0x0e, 0x12, 0x4f, 0x29, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A 1×1 grey baseline JPEG (JFIF), as an encoder writes it.
const JPEG: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x02, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11,
    0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c, 0x0a, 0x10, 0x0e, 0x0d, 0x0e,
    0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a, 0x18, 0x16, 0x16, 0x18, 0x31, 0x23, 0x25, 0x1d, 0x28,
    0x3a, 0x33, 0x3d, 0x3c, 0x39, 0x33, 0x38, 0x37, 0x40, 0x48, 0x5c, 0x4e, 0x40, 0x44, 0x57, 0x45,
    0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f, 0x62, 0x67, 0x68, 0x67, 0x3e, 0x4d, 0x71, 0x79, 0x70,
    0x64, 0x78, 0x5c, 0x65, 0x67, 0x63, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
    0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03,
    0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00,
    0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32,
    0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72,
    0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35,
    0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55,
    0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
    0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2,
    0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
    0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6,
    0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xda,
    0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x2b, 0xff, 0xd9,
];

/// What an MP4 starts with (`ftyp` at bytes 4..8); the sandbox only sniffs.
fn video() -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypmp42");
    bytes.resize(4096, 0);
    bytes
}

fn upload(bytes: &[u8], mime: &str, key: &str) -> MediaUpload {
    MediaUpload {
        body: reqwest::Body::from(bytes.to_vec()),
        bytes: bytes.len() as u64,
        mime: mime.into(),
        alt_text: None,
        width: None,
        height: None,
        idempotency_key: key.into(),
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Manch {
    fn start() -> Self {
        let mut server =
            SandboxServer::bind("127.0.0.1:0".parse().unwrap(), SandboxConfig::default(), 1)
                .unwrap();
        server.spawn();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { server, http }
    }

    fn adapter_with(&self, secret: &str, timeout_ms: u32) -> ManchAdapter {
        let settings = HttpClientSettings {
            connect_timeout_ms: 1000.try_into().unwrap(),
            timeout_ms: timeout_ms.try_into().unwrap(),
        };
        ManchAdapter::new(
            self.server.base_url.clone(),
            "prasaran-dev",
            &SecretString::from(secret),
            http_client::build(&settings).unwrap(),
        )
        .unwrap()
        // Uploads as patient as other calls here, so a stall is seen.
        .with_upload_base(std::time::Duration::from_millis(u64::from(timeout_ms)))
    }

    fn adapter(&self) -> ManchAdapter {
        self.adapter_with(DEFAULT_CLIENT_SECRET, 5000)
    }

    async fn faults(&self, faults: Value) {
        let url = self.server.base_url.join("_sandbox/faults").unwrap();
        let response = self.http.post(url).json(&faults).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    async fn calls(&self) -> Value {
        crate::helpers::sandbox_calls(&self.server.base_url).await
    }

    async fn sandbox_posts(&self) -> Value {
        let url = self.server.base_url.join("_sandbox/posts").unwrap();
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `POST /v1/media` by hand, to see the sandbox's own answer.
    async fn upload_raw(
        &self,
        token: &SecretString,
        body: Vec<u8>,
        content_type: &str,
        query: &[(&str, &str)],
        key: &str,
    ) -> reqwest::Response {
        self.http
            .post(self.server.base_url.join("v1/media").unwrap())
            .query(query)
            .bearer_auth(token.expose_secret())
            .header("Content-Type", content_type)
            .header("Idempotency-Key", key)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/posts` by hand, to see the sandbox's own answer.
    async fn post_raw(&self, token: &SecretString, body: Value) -> reqwest::Response {
        self.http
            .post(self.server.base_url.join("v1/posts").unwrap())
            .bearer_auth(token.expose_secret())
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `GET /_sandbox/media/{id}`: the stored bytes of an image.
    async fn stored_media(&self, id: &str) -> reqwest::Response {
        let url = self
            .server
            .base_url
            .join(&format!("_sandbox/media/{id}"))
            .unwrap();
        self.http.get(url).send().await.unwrap()
    }

    /// Consent as `handle`; returns the code and the verifier it is bound to.
    async fn code(&self, adapter: &ManchAdapter, handle: &str) -> (String, SecretString) {
        let verifier = SecretString::from(format!(
            "verifier-{}-0123456789abcdefghijklmnop",
            uuid::Uuid::new_v4().simple()
        ));
        let redirect = Url::parse(REDIRECT).unwrap();
        let url = adapter
            .authorize_url(&AuthorizeRequest {
                service: None,
                client: None,
                state: "st",
                pkce_verifier: &verifier,
                redirect_uri: &redirect,
            })
            .unwrap();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("handle".into(), handle.into()));
        form.push(("decision".into(), "approve".into()));
        let response = self
            .http
            .post(self.server.base_url.join("oauth/authorize").unwrap())
            .form(&form)
            .send()
            .await
            .unwrap();
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        (code, verifier)
    }

    async fn tokens(&self, adapter: &ManchAdapter, handle: &str) -> TokenSet {
        let (code, verifier) = self.code(adapter, handle).await;
        adapter
            .exchange_code(&CodeExchange::new(
                &code,
                &verifier,
                &Url::parse(REDIRECT).unwrap(),
            ))
            .await
            .unwrap()
    }
}

#[actix_web::test]
async fn a_reused_refresh_token_is_refused_and_kills_the_grant() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let first = manch.tokens(&adapter, "rotator").await;
    let first_refresh = first.refresh_token.unwrap();

    let second = adapter.refresh(&first_refresh).await.unwrap();
    let second_refresh = second.refresh_token.unwrap();
    assert_ne!(
        second_refresh.expose_secret(),
        first_refresh.expose_secret(),
        "refresh tokens rotate"
    );
    let me = adapter.account(&second.access_token).await.unwrap();
    assert_eq!(me.handle, "rotator");

    let reused = adapter.refresh(&first_refresh).await;
    assert!(
        matches!(reused, Err(AdapterError::Revoked { .. })),
        "{reused:?}"
    );
    assert_eq!(
        adapter.account(&second.access_token).await.unwrap_err(),
        AdapterError::Unauthorized
    );
    assert!(matches!(
        adapter.refresh(&second_refresh).await,
        Err(AdapterError::Revoked { .. })
    ));
}

#[actix_web::test]
async fn codes_are_single_use_bound_to_pkce_and_need_client_auth() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let redirect = Url::parse(REDIRECT).unwrap();

    let (code, _) = manch.code(&adapter, "codes").await;
    let wrong_verifier = SecretString::from("x".repeat(43));
    let refused = adapter
        .exchange_code(&CodeExchange::new(&code, &wrong_verifier, &redirect))
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Revoked { reason }) if reason.contains("PKCE")),
        "{refused:?}"
    );

    let impostor = manch.adapter_with("not-the-secret", 5000);
    let (code, verifier2) = manch.code(&adapter, "codes").await;
    assert!(matches!(
        impostor
            .exchange_code(&CodeExchange::new(&code, &verifier2, &redirect))
            .await,
        Err(AdapterError::Rejected { .. })
    ));

    let tokens = adapter
        .exchange_code(&CodeExchange::new(&code, &verifier2, &redirect))
        .await
        .unwrap();
    let replay = adapter
        .exchange_code(&CodeExchange::new(&code, &verifier2, &redirect))
        .await;
    assert!(matches!(replay, Err(AdapterError::Revoked { .. })));
    assert_eq!(
        adapter.account(&tokens.access_token).await.unwrap_err(),
        AdapterError::Unauthorized,
        "replaying a code revokes what it produced"
    );
    let other_redirect = Url::parse("http://127.0.0.1:10/elsewhere").unwrap();
    let (code, verifier3) = manch.code(&adapter, "codes").await;
    assert!(
        adapter
            .exchange_code(&CodeExchange::new(&code, &verifier3, &other_redirect))
            .await
            .is_err()
    );
}

#[actix_web::test]
async fn consent_refuses_non_loopback_redirects_and_missing_pkce() {
    let manch = Manch::start();
    let base = &manch.server.base_url;
    for query in [
        "response_type=code&client_id=prasaran-dev&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghijabc&code_challenge_method=S256",
        "response_type=code&client_id=prasaran-dev&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&state=s",
        "response_type=code&client_id=someone-else&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&state=s&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghijabc&code_challenge_method=S256",
    ] {
        let response = manch
            .http
            .get(format!("{base}oauth/authorize?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[actix_web::test]
async fn posts_honour_idempotency_keys_and_count_double_publishes() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "poster").await;
    let token = &tokens.access_token;

    let first = adapter
        .publish(token, OutgoingPost::text("hello world"), "key-1")
        .await
        .unwrap();
    let again = adapter
        .publish(token, OutgoingPost::text("hello world"), "key-1")
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    assert!(first.url.ends_with(&format!("/posts/{}", first.id)));
    assert_eq!(manch.sandbox_posts().await["duplicates"], 0);

    let double = adapter
        .publish(token, OutgoingPost::text("hello world"), "key-2")
        .await
        .unwrap();
    assert_ne!(double.id, first.id);
    let posts = manch.sandbox_posts().await;
    assert_eq!(posts["duplicates"], 1);
    assert_eq!(posts["posts"].as_array().unwrap().len(), 2);
    assert_eq!(posts["posts"][0]["idempotency_key"], "key-1");

    assert_eq!(
        adapter
            .find_post(token, OutgoingPost::text(""), "key-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        first.id
    );
    assert!(
        adapter
            .find_post(token, OutgoingPost::text(""), "never-used")
            .await
            .unwrap()
            .is_none()
    );

    let page = manch
        .http
        .get(&first.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("hello world"));

    let reset = manch
        .http
        .post(manch.server.base_url.join("_sandbox/reset").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        manch.sandbox_posts().await["posts"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[actix_web::test]
async fn the_calls_record_tells_replays_look_ups_and_stalls_apart() {
    let manch = Manch::start();
    let adapter = manch.adapter_with(DEFAULT_CLIENT_SECRET, 500);
    let tokens = manch.tokens(&adapter, "recorded").await;
    let token = &tokens.access_token;

    adapter
        .publish(token, OutgoingPost::text("once"), "key-a")
        .await
        .unwrap();
    adapter
        .publish(token, OutgoingPost::text("once"), "key-a")
        .await
        .unwrap();
    adapter
        .find_post(token, OutgoingPost::text(""), "key-a")
        .await
        .unwrap();
    adapter
        .find_post(token, OutgoingPost::text(""), "key-none")
        .await
        .unwrap();
    let calls = manch.calls().await;
    assert_eq!(calls["creates"], 1, "{calls}");
    assert_eq!(calls["replays"], 1, "a repeated key is a replay: {calls}");
    assert_eq!(calls["lookups"], 2, "{calls}");
    assert_eq!(calls["lookups_found"], 1, "{calls}");
    assert_eq!(calls["code_exchanges"], 1, "{calls}");

    // Without idempotency a repeated key is a second post, counted as a double.
    manch.faults(json!({"honor_idempotency": false})).await;
    let second = adapter
        .publish(token, OutgoingPost::text("twice"), "key-b")
        .await
        .unwrap();
    let third = adapter
        .publish(token, OutgoingPost::text("twice"), "key-b")
        .await
        .unwrap();
    assert_ne!(second.id, third.id);
    let posts = manch.sandbox_posts().await;
    assert_eq!(posts["duplicates"], 1, "{posts}");
    // A look-up finds the first post under the key.
    assert_eq!(
        adapter
            .find_post(token, OutgoingPost::text(""), "key-b")
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );

    // A stalled answer: the post exists, the client hears nothing in time.
    manch.faults(json!({"stall_after_create_ms": 2000})).await;
    let lost = adapter
        .publish(token, OutgoingPost::text("stalled"), "key-c")
        .await;
    assert!(
        matches!(lost, Err(AdapterError::Unknown { .. })),
        "{lost:?}"
    );
    assert!(
        adapter
            .find_post(token, OutgoingPost::text(""), "key-c")
            .await
            .unwrap()
            .is_some()
    );
    let calls = manch.calls().await;
    assert_eq!(calls["creates"], 4, "{calls}");
    assert_eq!(calls["peak_in_flight"], 1, "{calls}");
}

#[actix_web::test]
async fn the_500_character_limit_counts_characters() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "counter").await;
    let exactly = "é".repeat(500);
    assert!(
        adapter
            .validate(&exactly, &Default::default(), None)
            .is_ok()
    );
    adapter
        .publish(&tokens.access_token, OutgoingPost::text(&exactly), "k500")
        .await
        .unwrap();
    let over = "é".repeat(501);
    assert!(matches!(
        adapter.validate(&over, &Default::default(), None),
        Err(AdapterError::Rejected { .. })
    ));
    let refused = adapter
        .publish(&tokens.access_token, OutgoingPost::text(&over), "k501")
        .await;
    assert!(
        matches!(refused, Err(AdapterError::Rejected { .. })),
        "{refused:?}"
    );
    assert!(matches!(
        adapter.validate("   ", &Default::default(), None),
        Err(AdapterError::Rejected { .. })
    ));
}

#[actix_web::test]
async fn rate_limits_answer_429_with_their_figures() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "busy").await;
    manch.faults(json!({"rate_limit_per_s": 2})).await;
    let mut outcome = Ok(());
    // Three calls inside one second: the third is limited (retry once if the second ticked over).
    for attempt in 0..2 {
        let results: Vec<_> = three_posts(&adapter, &tokens.access_token, attempt).await;
        if let Some(Err(error)) = results.into_iter().find(|r| r.is_err()) {
            outcome = Err(error);
            break;
        }
    }
    match outcome {
        Err(AdapterError::RateLimited {
            retry_after,
            limit,
            remaining,
            reset,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(1)));
            assert_eq!(limit, Some(2));
            assert_eq!(remaining, Some(0));
            assert!(reset.is_some());
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

async fn three_posts(
    adapter: &ManchAdapter,
    token: &SecretString,
    round: usize,
) -> Vec<Result<prasaran::adapters::PublishedPost, AdapterError>> {
    let mut results = Vec::new();
    for n in 0..3 {
        results.push(
            adapter
                .publish(
                    token,
                    OutgoingPost::text(&format!("post {round}-{n}")),
                    &format!("rl-{round}-{n}"),
                )
                .await,
        );
    }
    results
}

#[actix_web::test]
async fn expired_tokens_are_401_with_www_authenticate() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    manch.faults(json!({"token_ttl_s": 0})).await;
    let tokens = manch.tokens(&adapter, "expired").await;
    assert_eq!(
        adapter
            .publish(&tokens.access_token, OutgoingPost::text("late"), "k")
            .await
            .unwrap_err(),
        AdapterError::Unauthorized
    );
    let raw = manch
        .http
        .post(manch.server.base_url.join("v1/posts").unwrap())
        .bearer_auth(tokens.access_token.expose_secret())
        .json(&json!({"text": "late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        raw.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

#[actix_web::test]
async fn injected_faults_map_to_transient_and_unknown() {
    let manch = Manch::start();
    let adapter = manch.adapter_with(DEFAULT_CLIENT_SECRET, 300);
    let tokens = manch.tokens(&adapter, "faulty").await;

    manch.faults(json!({"error_rate": 1.0})).await;
    let failed = adapter
        .publish(&tokens.access_token, OutgoingPost::text("x"), "e1")
        .await;
    assert!(
        matches!(
            failed,
            Err(AdapterError::Transient {
                status: Some(503),
                ..
            })
        ),
        "{failed:?}"
    );

    manch
        .faults(json!({"error_rate": 0.0, "latency_ms": 1000}))
        .await;
    let slow = adapter
        .publish(&tokens.access_token, OutgoingPost::text("x"), "e2")
        .await;
    assert!(
        matches!(slow, Err(AdapterError::Unknown { .. })),
        "a timeout may have reached Manch: {slow:?}"
    );

    let bad = manch
        .http
        .post(manch.server.base_url.join("_sandbox/faults").unwrap())
        .json(&json!({"error_rate": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn a_refused_connection_is_transient() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let adapter = ManchAdapter::new(
        Url::parse(&format!("http://{unused}/")).unwrap(),
        "prasaran-dev",
        &SecretString::from("x"),
        reqwest::Client::new(),
    )
    .unwrap();
    let result = adapter
        .publish(&SecretString::from("t"), OutgoingPost::text("x"), "k")
        .await;
    assert!(
        matches!(result, Err(AdapterError::Transient { status: None, .. })),
        "{result:?}"
    );
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[actix_web::test]
async fn posts_carry_uploaded_media_in_order() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "photographer").await;
    let token = &tokens.access_token;

    let mut with_alt = upload(PNG, "image/png", "png-1");
    with_alt.alt_text = Some("a red dot & nothing else".into());
    let png = adapter.upload_media(token, with_alt).await.unwrap();
    let jpeg = adapter
        .upload_media(token, upload(JPEG, "image/jpeg", "jpeg-1"))
        .await
        .unwrap();
    assert!(png.ready && jpeg.ready, "images are ready at once");
    assert!(adapter.media_ready(token, &png.id).await.unwrap());

    let ids = [jpeg.id.clone(), png.id.clone()];
    let post = adapter
        .publish(
            token,
            OutgoingPost {
                text: "two pictures",
                media_ids: &ids,
                record: None,
                destination: None,
            },
            "post-1",
        )
        .await
        .unwrap();
    // With an attachment the text may be empty.
    adapter
        .publish(
            token,
            OutgoingPost {
                text: "",
                media_ids: &ids[1..],
                record: None,
                destination: None,
            },
            "post-2",
        )
        .await
        .unwrap();
    adapter
        .publish(token, OutgoingPost::text("no pictures"), "post-3")
        .await
        .unwrap();

    let posts = manch.sandbox_posts().await;
    assert_eq!(posts["duplicates"], 0, "{posts}");
    assert_eq!(posts["posts"][0]["id"], post.id.as_str());
    let media = &posts["posts"][0]["media"];
    assert_eq!(media.as_array().unwrap().len(), 2, "{posts}");
    assert_eq!(media[0]["id"], jpeg.id.as_str());
    assert_eq!(media[0]["mime"], "image/jpeg");
    assert_eq!(media[0]["bytes"], JPEG.len());
    assert_eq!(media[0]["sha256"], sha256(JPEG));
    assert_eq!(media[0]["alt_text"], Value::Null);
    assert_eq!(media[1]["id"], png.id.as_str());
    assert_eq!(media[1]["sha256"], sha256(PNG));
    assert_eq!(media[1]["alt_text"], "a red dot & nothing else");
    assert_eq!(posts["posts"][1]["text"], "");
    assert_eq!(posts["posts"][1]["media"][0]["id"], png.id.as_str());
    assert_eq!(posts["posts"][2]["media"], json!([]));

    let stored = manch.stored_media(&png.id).await;
    assert_eq!(stored.status(), StatusCode::OK);
    assert_eq!(stored.headers()["content-type"], "image/png");
    assert_eq!(stored.bytes().await.unwrap().as_ref(), PNG);

    let calls = manch.calls().await;
    assert_eq!(calls["media_uploads"], 2, "{calls}");
    assert_eq!(calls["media_replays"], 0, "{calls}");
    assert_eq!(calls["media_lookups"], 1, "{calls}");

    // Without media, empty text is still refused.
    let empty = manch.post_raw(token, json!({"text": " "})).await;
    assert_eq!(
        error_of(empty).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text".into())
    );
}

#[actix_web::test]
async fn uploads_are_sniffed_and_must_match_their_content_type() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "sniffed").await;
    let token = &tokens.access_token;

    let lying = manch
        .upload_raw(token, PNG.to_vec(), "image/jpeg", &[], "k1")
        .await;
    assert_eq!(
        error_of(lying).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_media".into())
    );
    let refused = adapter
        .upload_media(token, upload(PNG, "image/jpeg", "k2"))
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Rejected { reason }) if reason.contains("image/png")),
        "{refused:?}"
    );
    for (body, content_type) in [
        (b"plain words".to_vec(), "text/plain"),
        (b"not an image at all".to_vec(), "image/png"),
        (Vec::new(), "image/png"),
        (PNG.to_vec(), ""),
    ] {
        let response = manch.upload_raw(token, body, content_type, &[], "k3").await;
        assert_eq!(
            error_of(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_media".into()),
            "{content_type}"
        );
    }

    let long_alt = "a".repeat(1501);
    let response = manch
        .upload_raw(
            token,
            PNG.to_vec(),
            "image/png",
            &[("alt_text", &long_alt)],
            "k4",
        )
        .await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request".into())
    );

    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0x3b]);
    let mut webp = b"RIFF\x1a\0\0\0WEBPVP8L".to_vec();
    webp.resize(34, 0);
    for (body, content_type, key) in [
        (gif, "image/gif", "gif"),
        (webp, "image/webp", "webp"),
        (PNG.to_vec(), "image/png; charset=binary", "png"),
    ] {
        let alt = "é".repeat(1500);
        let response = manch
            .upload_raw(
                token,
                body.clone(),
                content_type,
                &[("alt_text", &alt)],
                key,
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{content_type}");
        let media: Value = response.json().await.unwrap();
        assert_eq!(media["type"], "image");
        assert_eq!(media["state"], "ready");
        assert_eq!(media["bytes"], body.len());
        assert_eq!(media["sha256"], sha256(&body));
        assert_eq!(media["alt_text"], alt.as_str());
    }
    let calls = manch.calls().await;
    assert_eq!(
        calls["media_uploads"], 3,
        "only accepted files are kept: {calls}"
    );
}

#[actix_web::test]
async fn posts_take_at_most_four_of_the_accounts_own_media() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "collector").await;
    let token = &tokens.access_token;

    let mut ids = Vec::new();
    for n in 0..5 {
        let media = adapter
            .upload_media(token, upload(PNG, "image/png", &format!("m{n}")))
            .await
            .unwrap();
        ids.push(media.id);
    }
    let five = adapter
        .publish(
            token,
            OutgoingPost {
                text: "five",
                media_ids: &ids,
                record: None,
                destination: None,
            },
            "five",
        )
        .await;
    assert!(
        matches!(&five, Err(AdapterError::Rejected { reason }) if reason.contains("at most 4")),
        "{five:?}"
    );
    let twice = [ids[0].clone(), ids[0].clone()];
    let repeated = adapter
        .publish(
            token,
            OutgoingPost {
                text: "twice",
                media_ids: &twice,
                record: None,
                destination: None,
            },
            "twice",
        )
        .await;
    assert!(
        matches!(repeated, Err(AdapterError::Rejected { .. })),
        "{repeated:?}"
    );
    adapter
        .publish(
            token,
            OutgoingPost {
                text: "four",
                media_ids: &ids[..4],
                record: None,
                destination: None,
            },
            "four",
        )
        .await
        .unwrap();

    let stranger = manch.tokens(&adapter, "stranger").await;
    let theirs = adapter
        .upload_media(&stranger.access_token, upload(JPEG, "image/jpeg", "m0"))
        .await
        .unwrap();
    assert_ne!(theirs.id, ids[0], "idempotency keys are per account");
    let borrowed = [theirs.id.clone()];
    let refused = adapter
        .publish(
            token,
            OutgoingPost {
                text: "not mine",
                media_ids: &borrowed,
                record: None,
                destination: None,
            },
            "borrowed",
        )
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Rejected { reason }) if reason.contains(&theirs.id)),
        "{refused:?}"
    );
    let raw = manch
        .post_raw(token, json!({"text": "x", "media_ids": ["med_unknown"]}))
        .await;
    assert_eq!(
        error_of(raw).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_media".into())
    );
    assert!(matches!(
        adapter.media_ready(token, &theirs.id).await,
        Err(AdapterError::Rejected { .. })
    ));
    let posts = manch.sandbox_posts().await;
    assert_eq!(posts["posts"].as_array().unwrap().len(), 1, "{posts}");
}

#[actix_web::test]
async fn a_repeated_upload_key_answers_the_first_medium() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "uploader").await;
    let token = &tokens.access_token;

    let first = adapter
        .upload_media(token, upload(PNG, "image/png", "u1"))
        .await
        .unwrap();
    let again = adapter
        .upload_media(token, upload(PNG, "image/png", "u1"))
        .await
        .unwrap();
    assert_eq!(first, again);
    let raw = manch
        .upload_raw(token, PNG.to_vec(), "image/png", &[], "u1")
        .await;
    assert_eq!(raw.status(), StatusCode::CREATED);
    assert_eq!(raw.headers()["idempotent-replayed"], "true");
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["id"], first.id.as_str());
    let calls = manch.calls().await;
    assert_eq!(calls["media_uploads"], 1, "{calls}");
    assert_eq!(calls["media_replays"], 2, "{calls}");
    assert_eq!(manch.sandbox_posts().await["duplicates"], 0);

    // Without idempotency a repeated key stores a second medium: a double upload.
    manch.faults(json!({"honor_idempotency": false})).await;
    let second = adapter
        .upload_media(token, upload(PNG, "image/png", "u1"))
        .await
        .unwrap();
    assert_ne!(second.id, first.id);
    let posts = manch.sandbox_posts().await;
    assert_eq!(posts["duplicates"], 1, "{posts}");
    assert_eq!(manch.calls().await["media_uploads"], 2);

    let reset = manch
        .http
        .post(manch.server.base_url.join("_sandbox/reset").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        manch.stored_media(&first.id).await.status(),
        StatusCode::NOT_FOUND,
        "a reset forgets media too"
    );
}

#[actix_web::test]
async fn a_video_is_processing_until_it_may_be_posted_alone() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "filmmaker").await;
    let token = &tokens.access_token;
    // Long enough that the checks below come before it ends, even on a busy machine.
    manch.faults(json!({"video_processing_ms": 1000})).await;

    let bytes = video();
    let video = adapter
        .upload_media(token, upload(&bytes, "video/mp4", "v1"))
        .await
        .unwrap();
    assert!(!video.ready, "{video:?}");
    assert!(!adapter.media_ready(token, &video.id).await.unwrap());
    let only = [video.id.clone()];
    let early = adapter
        .publish(
            token,
            OutgoingPost {
                text: "too soon",
                media_ids: &only,
                record: None,
                destination: None,
            },
            "early",
        )
        .await;
    assert!(
        matches!(early, Err(AdapterError::Rejected { .. })),
        "{early:?}"
    );
    let raw = manch
        .post_raw(token, json!({"text": "too soon", "media_ids": only}))
        .await;
    assert_eq!(
        error_of(raw).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "media_not_ready".into())
    );

    let mut ready = false;
    for _ in 0..100 {
        if adapter.media_ready(token, &video.id).await.unwrap() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the video never became ready");

    let png = adapter
        .upload_media(token, upload(PNG, "image/png", "p1"))
        .await
        .unwrap();
    let mixed = [video.id.clone(), png.id.clone()];
    let refused = adapter
        .publish(
            token,
            OutgoingPost {
                text: "mixed",
                media_ids: &mixed,
                record: None,
                destination: None,
            },
            "mixed",
        )
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Rejected { reason }) if reason.contains("video")),
        "{refused:?}"
    );
    adapter
        .publish(
            token,
            OutgoingPost {
                text: "",
                media_ids: &only,
                record: None,
                destination: None,
            },
            "film",
        )
        .await
        .unwrap();

    let posts = manch.sandbox_posts().await;
    let attached = &posts["posts"][0]["media"][0];
    assert_eq!(attached["id"], video.id.as_str(), "{posts}");
    assert_eq!(attached["mime"], "video/mp4");
    assert_eq!(attached["bytes"], bytes.len());
    assert_eq!(attached["sha256"], sha256(&bytes));
    assert_eq!(
        manch.stored_media(&video.id).await.status(),
        StatusCode::NOT_FOUND,
        "a video keeps no bytes"
    );
}

#[actix_web::test]
async fn an_image_over_8_mib_is_413_and_not_kept() {
    let manch = Manch::start();
    let adapter = manch.adapter();
    let tokens = manch.tokens(&adapter, "heavy").await;
    let token = &tokens.access_token;
    let limit = usize::try_from(MAX_IMAGE_BYTES).unwrap();

    let mut bytes = PNG[..8].to_vec();
    bytes.resize(limit + 1, 0);
    let refused = adapter
        .upload_media(token, upload(&bytes, "image/png", "big"))
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Rejected { reason }) if reason.contains("at most")),
        "{refused:?}"
    );
    let raw = manch
        .upload_raw(token, bytes.clone(), "image/png", &[], "big-raw")
        .await;
    assert_eq!(
        error_of(raw).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "media_too_large".into())
    );
    assert_eq!(manch.calls().await["media_uploads"], 0);

    bytes.truncate(limit);
    let fits = adapter
        .upload_media(token, upload(&bytes, "image/png", "fits"))
        .await
        .unwrap();
    let stored = manch.stored_media(&fits.id).await;
    assert_eq!(stored.bytes().await.unwrap().len(), limit);
    assert_eq!(manch.calls().await["media_uploads"], 1);
}

#[actix_web::test]
async fn injected_faults_on_uploads_map_like_posts() {
    let manch = Manch::start();
    let adapter = manch.adapter_with(DEFAULT_CLIENT_SECRET, 300);
    let tokens = manch.tokens(&adapter, "unlucky").await;
    let token = &tokens.access_token;

    manch.faults(json!({"error_rate": 1.0})).await;
    let failed = adapter
        .upload_media(token, upload(PNG, "image/png", "f1"))
        .await;
    assert!(
        matches!(
            failed,
            Err(AdapterError::Transient {
                status: Some(503),
                ..
            })
        ),
        "{failed:?}"
    );
    assert_eq!(manch.calls().await["media_uploads"], 0);

    // A stalled answer: the medium exists, the client hears nothing in time.
    manch
        .faults(json!({"error_rate": 0.0, "stall_after_create_ms": 1000}))
        .await;
    let lost = adapter
        .upload_media(token, upload(PNG, "image/png", "f2"))
        .await;
    assert!(
        matches!(lost, Err(AdapterError::Unknown { .. })),
        "{lost:?}"
    );
    assert_eq!(manch.calls().await["media_uploads"], 1);

    manch
        .faults(json!({"stall_after_create_ms": 0, "token_ttl_s": 0}))
        .await;
    let expired = manch.tokens(&adapter, "unlucky").await;
    assert_eq!(
        adapter
            .upload_media(&expired.access_token, upload(PNG, "image/png", "f3"))
            .await
            .unwrap_err(),
        AdapterError::Unauthorized
    );
    assert_eq!(
        adapter
            .media_ready(&expired.access_token, "med_any")
            .await
            .unwrap_err(),
        AdapterError::Unauthorized
    );
}

/// `scripts/serve` restarted: with `sandbox.keep_state` (dev's setting) the
/// Manch sandbox comes back with its accounts, grants and posts, so the
/// connection stays active and publishing goes on; the file it keeps holds
/// tokens only by hash.
#[actix_web::test]
async fn a_restarted_dev_app_keeps_its_sandbox_connections_and_posts() {
    let mut app = crate::helpers::TestApp::spawn_with(|s| s.sandbox.keep_state = true).await;
    let p = crate::stage::publisher(&app, "restart@example.com", &["steady"]).await;
    let first =
        crate::stage::accepted(&app, &p.token, json!({"content": "before the restart"})).await;
    let done =
        crate::stage::wait_job(&app, &p.token, &first, std::time::Duration::from_secs(15)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let tokens = app.sandbox().issued_tokens();
    assert!(!tokens.is_empty());

    app.restart().await;
    let kept = std::fs::read_to_string(app.settings.data_dir.join("sandbox/manch.json")).unwrap();
    for token in &tokens {
        assert!(
            !kept.contains(token.as_str()),
            "a usable token was written to disk"
        );
    }
    let connections = crate::stage::get_as(&app, &p.token, "/api/v1/connections").await;
    assert_eq!(
        connections["connections"][0]["status"], "active",
        "{connections}"
    );
    let second =
        crate::stage::accepted(&app, &p.token, json!({"content": "after the restart"})).await;
    let done =
        crate::stage::wait_job(&app, &p.token, &second, std::time::Duration::from_secs(15)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let posts = crate::helpers::sandbox_posts(&app.sandbox().base_url).await;
    let texts: Vec<&str> = posts["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["before the restart", "after the restart"]);
}
