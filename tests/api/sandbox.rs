//! The Manch sandbox and ManchAdapter together, over real HTTP: OAuth (codes,
//! PKCE, client auth, refresh rotation), posting rules, injected faults, and
//! how each answer maps to an AdapterError.

use std::time::Duration;

use prasaran::adapters::manch::ManchAdapter;
use prasaran::adapters::{
    AdapterError, AuthorizeRequest, OutgoingPost, PlatformAdapter, TokenSet, http_client,
};
use prasaran::sandbox::manch::{DEFAULT_CLIENT_SECRET, SandboxConfig, SandboxServer};
use prasaran::settings::HttpClientSettings;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

struct Manch {
    server: SandboxServer,
    http: reqwest::Client,
}

const REDIRECT: &str = "http://127.0.0.1:9/callback";

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

    /// Consent as `handle`; returns the code and the verifier it is bound to.
    async fn code(&self, adapter: &ManchAdapter, handle: &str) -> (String, SecretString) {
        let verifier = SecretString::from(format!(
            "verifier-{}-0123456789abcdefghijklmnop",
            uuid::Uuid::new_v4().simple()
        ));
        let redirect = Url::parse(REDIRECT).unwrap();
        let url = adapter
            .authorize_url(&AuthorizeRequest {
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
            .exchange_code(&code, &verifier, &Url::parse(REDIRECT).unwrap())
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
        .exchange_code(&code, &wrong_verifier, &redirect)
        .await;
    assert!(
        matches!(&refused, Err(AdapterError::Revoked { reason }) if reason.contains("PKCE")),
        "{refused:?}"
    );

    let impostor = manch.adapter_with("not-the-secret", 5000);
    let (code, verifier2) = manch.code(&adapter, "codes").await;
    assert!(matches!(
        impostor.exchange_code(&code, &verifier2, &redirect).await,
        Err(AdapterError::Rejected { .. })
    ));

    let tokens = adapter
        .exchange_code(&code, &verifier2, &redirect)
        .await
        .unwrap();
    let replay = adapter.exchange_code(&code, &verifier2, &redirect).await;
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
            .exchange_code(&code, &verifier3, &other_redirect)
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
        adapter.find_post(token, "key-1").await.unwrap().unwrap().id,
        first.id
    );
    assert!(
        adapter
            .find_post(token, "never-used")
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
    adapter.find_post(token, "key-a").await.unwrap();
    adapter.find_post(token, "key-none").await.unwrap();
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
        adapter.find_post(token, "key-b").await.unwrap().unwrap().id,
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
    assert!(adapter.find_post(token, "key-c").await.unwrap().is_some());
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
    assert!(adapter.validate(&exactly).is_ok());
    adapter
        .publish(&tokens.access_token, OutgoingPost::text(&exactly), "k500")
        .await
        .unwrap();
    let over = "é".repeat(501);
    assert!(matches!(
        adapter.validate(&over),
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
        adapter.validate("   "),
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
