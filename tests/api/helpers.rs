//! `TestApp`: the real Application on port 0 against a fresh database of its
//! own, with methods that read like what a user does.
//!
//! The databases live in one PostgreSQL cluster per checkout: the server named
//! by `PRASARAN_TEST_DATABASE_URL` if set, otherwise an embedded cluster under
//! `target/tmp/prasaran-test-pg` that the first test process starts and the
//! others attach to (the test script stops it when the run ends).

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use prasaran::adapters::Registry;
use prasaran::persistence::embedded::{ClusterConfig, EmbeddedCluster};
use prasaran::persistence::{drop_database, ensure_database};
use prasaran::sandbox::manch::{Sandbox, SandboxConfig, SandboxServer};
use prasaran::settings::{self, Environment, Settings};
use prasaran::startup::Application;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

pub const PASSWORD: &str = "correct horse battery staple";

/// Where per-test databases are created: admin connection + URL template.
struct TestServer {
    admin: PgConnectOptions,
    /// Builds the URL of database `name` on this server.
    url_for: Box<dyn Fn(&str) -> String + Send + Sync>,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

fn test_server() -> &'static TestServer {
    SERVER.get_or_init(|| match std::env::var("PRASARAN_TEST_DATABASE_URL") {
        Ok(url) => {
            let admin =
                PgConnectOptions::from_str(&url).expect("PRASARAN_TEST_DATABASE_URL is not a URL");
            let (base, query) = match url.split_once('?') {
                Some((base, query)) => (base.to_owned(), format!("?{query}")),
                None => (url.clone(), String::new()),
            };
            let (server, _) = base.rsplit_once('/').expect("URL has no database part");
            let server = server.to_owned();
            TestServer {
                admin,
                url_for: Box::new(move |name| format!("{server}/{name}{query}")),
            }
        }
        Err(_) => {
            let config = ClusterConfig {
                data_dir: std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join("prasaran-test-pg"),
                bin_dir: None,
                os_user: "postgres".into(),
                start_timeout: Duration::from_secs(60),
                listen: None,
            };
            let cluster =
                EmbeddedCluster::start(&config).expect("starting the test PostgreSQL cluster");
            let admin = cluster.connect_options("postgres");
            TestServer {
                admin,
                url_for: Box::new(move |name| cluster.url(name)),
            }
        }
    })
}

pub fn test_settings() -> Settings {
    let mut settings = settings::load(Environment::Dev).expect("dev settings load");
    settings.server.bind = "127.0.0.1:0".parse().expect("address");
    settings.server.ops_bind = "127.0.0.1:0".parse().expect("address");
    settings.server.workers = 2;
    settings.session.key = Some(SecretString::from(random_key(64)));
    settings.keys.local.master_key = Some(SecretString::from(random_key(32)));
    settings.log.level = "warn".into();
    // Whether web/dist happens to be built must not change what the tests see.
    settings.server.web_dir = "/nonexistent/prasaran-web-dist".into();
    // Each app keeps its mail outbox and media apart from every other's.
    settings.data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("prasaran-test-data")
        .join(uuid::Uuid::new_v4().simple().to_string());
    // Most tests connect platforms right after signup; tests/api/mail.rs
    // covers verification with this rule on.
    settings.accounts.verified_email_to_connect = false;
    // Load-shaped tests publish thousands; tests/api/quotas.rs sets its own.
    settings.quotas.publishes_per_hour = 1_000_000;
    settings.quotas.publishes_per_day = 1_000_000;
    settings.quotas.pending_scheduled = 1_000_000;
    // Mastodon's tests start their own instances (tests/api/mastodon.rs).
    settings.platforms.mastodon.enabled = false;
    settings.sandbox.mastodon_bind = None;
    // Dev's fixed sandbox port and kept state are for one developer's
    // restarts; tests run many apps at once (tests/api/sandbox.rs covers both).
    settings.sandbox.bind = "127.0.0.1:0".parse().expect("address");
    settings.sandbox.keep_state = false;
    settings
}

fn unchanged() -> Adapt {
    std::sync::Arc::new(|registry| registry)
}

pub fn random_key(len: usize) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A fresh database on the test server, dropped when this value is.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    /// False for a second handle on another test's database.
    owned: bool,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let server = tokio::task::spawn_blocking(test_server)
            .await
            .expect("test server");
        let name = format!("prasaran_test_{}", uuid::Uuid::new_v4().simple());
        ensure_database(&server.admin, &name)
            .await
            .expect("creating test database");
        let url = (server.url_for)(&name);
        Self {
            name,
            url,
            owned: true,
        }
    }

    /// Another handle on the same database, which does not drop it.
    pub fn borrow(other: &TestDatabase) -> Self {
        Self {
            name: other.name.clone(),
            url: other.url.clone(),
            owned: false,
        }
    }

    pub async fn pool(&self) -> PgPool {
        PgPool::connect_with(test_server().admin.clone().database(&self.name))
            .await
            .expect("test pool")
    }

    /// Makes the database go away as a crash would (every connection cut,
    /// new ones refused), or come back; other tests' databases are untouched.
    pub async fn set_reachable(&self, reachable: bool) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect_with(&test_server().admin)
            .await
            .expect("admin connection");
        let allow = if reachable { "true" } else { "false" };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS {allow}",
            self.name
        )))
        .execute(&mut admin)
        .await
        .expect("alter database");
        if !reachable {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&self.name)
            .execute(&mut admin)
            .await
            .expect("terminate connections");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let admin = test_server().admin.clone();
        let name = self.name.clone();
        // Drop may run inside the test's runtime; do the async cleanup on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(drop_database(&admin, &name))
        });
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

pub struct TestApp {
    browser: Browser,
    pub pool: PgPool,
    pub settings: Settings,
    /// Held for its Drop: the database goes when the app does.
    _database: TestDatabase,
    handle: Option<ServerHandle>,
    running: Option<actix_web::rt::task::JoinHandle<anyhow::Result<()>>>,
    /// The Manch sandbox the app started beside itself (dev mode).
    pub manch: Option<SandboxHandle>,
    /// The operator listener's address (`/metrics`, `/health/actors`).
    pub ops_address: String,
    /// What the platform adapters are passed through at every start.
    adapt: Adapt,
}

/// Wraps the app's adapters (a scripted platform in place of a real one).
pub type Adapt = std::sync::Arc<dyn Fn(Registry) -> Registry + Send + Sync>;

/// What a test can see of the app's Manch sandbox.
#[derive(Clone)]
pub struct SandboxHandle {
    pub base_url: url::Url,
    pub sandbox: actix_web::web::Data<Sandbox>,
}

impl SandboxHandle {
    pub fn token_requests(&self) -> u64 {
        self.sandbox.lock().token_requests
    }

    /// Every access and refresh token the sandbox ever issued.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.sandbox.lock().issued_tokens()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the app with settings adjusted by `tweak`, on a fresh database.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on(TestDatabase::create().await, tweak, unchanged()).await
    }

    /// Starts the app with its adapters passed through `adapt`.
    pub async fn spawn_adapted(tweak: impl FnOnce(&mut Settings), adapt: Adapt) -> Self {
        Self::spawn_on(TestDatabase::create().await, tweak, adapt).await
    }

    /// A second app on this app's database (another "process").
    pub async fn spawn_beside(&self, tweak: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::borrow(&self._database);
        let settings = self.settings.clone();
        Self::spawn_on(
            database,
            move |s| {
                *s = settings;
                tweak(s);
            },
            self.adapt.clone(),
        )
        .await
    }

    async fn spawn_on(
        database: TestDatabase,
        tweak: impl FnOnce(&mut Settings),
        adapt: Adapt,
    ) -> Self {
        let mut settings = test_settings();
        settings.database.url = Some(SecretString::from(database.url.clone()));
        tweak(&mut settings);
        prasaran::telemetry::init(&settings.log);
        let pool = database.pool().await;
        let mut app = Self {
            browser: Browser::new(""),
            pool,
            settings,
            _database: database,
            handle: None,
            running: None,
            manch: None,
            ops_address: String::new(),
            adapt,
        };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let adapt = self.adapt.clone();
        let application = Application::build_with(self.settings.clone(), move |r| adapt(r))
            .await
            .expect("app builds");
        self.browser.address = format!("http://127.0.0.1:{}", application.port());
        self.ops_address = format!("http://127.0.0.1:{}", application.ops_port());
        if let Some(sandbox) = application.sandbox() {
            distrust_idempotency(&sandbox.sandbox);
        }
        self.manch = application.sandbox().map(|s| SandboxHandle {
            base_url: s.base_url.clone(),
            sandbox: s.sandbox.clone(),
        });
        self.handle = Some(application.handle());
        self.running = Some(actix_web::rt::spawn(application.run_until_stopped()));
    }

    /// Stops the server gracefully and waits until it has shut down.
    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(true).await;
        }
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// Stops and starts the app again on the same database and settings; the
    /// browser keeps its cookies.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// See [`TestDatabase::set_reachable`].
    pub async fn set_database_reachable(&self, reachable: bool) {
        self._database.set_reachable(reachable).await;
    }

    /// Rows in `table` (a fixed name from the test, never user input).
    pub async fn count_rows(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    pub fn sandbox(&self) -> &SandboxHandle {
        self.manch
            .as_ref()
            .expect("dev mode starts a Manch sandbox")
    }

    /// GET on the operator listener.
    pub async fn ops_get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.ops_address))
            .send()
            .await
            .expect("request")
    }

    /// A second browser: same server, its own cookie jar.
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.browser.address)
    }
}

impl std::ops::Deref for TestApp {
    type Target = Browser;

    /// The app's own browser, so tests read `app.signup(…)`.
    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// A user agent with its own cookie jar, doing what a user does.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(address: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address: address.to_owned(),
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/signup",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// The token of the newest `page` link (`verify-email`, `reset-password`)
    /// mailed to `email`, read from the development outbox page (mail goes
    /// out after the request is answered, so this waits for it).
    pub async fn mailed_token(&self, email: &str, page: &str) -> String {
        let pattern = regex::Regex::new(&format!(r"/{page}\?token=([A-Za-z0-9_-]+)")).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let html = self
                .get("/dev/outbox")
                .await
                .text()
                .await
                .expect("outbox page");
            let found = html
                .split("<article>")
                .skip(1)
                .filter(|article| article.contains(email))
                .find_map(|article| pattern.captures(article).map(|c| c[1].to_owned()));
            if let Some(token) = found {
                return token;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {page} mail to {email} in the outbox: {html}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs up, logs in and returns the CSRF token of the new session.
    pub async fn signed_up(&self, email: &str) -> String {
        let response = self.signup(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["csrf_token"].as_str().expect("csrf token").to_owned()
    }

    pub async fn logout(&self, csrf: Option<&str>) -> Response {
        let mut request = self.client.post(self.url("/api/v1/auth/logout"));
        if let Some(token) = csrf {
            request = request.header("X-CSRF-Token", token);
        }
        request.send().await.expect("request")
    }

    /// `POST /api/v1/connections/{platform}/authorize`; the consent URL.
    pub async fn authorize(&self, platform: &str, csrf: &str) -> url::Url {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/connections/{platform}/authorize")))
            .header("X-CSRF-Token", csrf)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        url::Url::parse(body["authorize_url"].as_str().expect("authorize_url")).expect("url")
    }

    /// Opens the consent page and presses a button; returns where Manch redirects.
    pub async fn consent(
        &self,
        authorize_url: &url::Url,
        handle: &str,
        decision: &str,
    ) -> url::Url {
        let page = self
            .client
            .get(authorize_url.clone())
            .send()
            .await
            .expect("consent page");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.expect("html").contains("Approve"));
        let mut form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
        form.push(("handle".into(), handle.into()));
        form.push(("decision".into(), decision.into()));
        let action = authorize_url.join("/oauth/authorize").expect("url");
        let response = self
            .client
            .post(action)
            .form(&form)
            .send()
            .await
            .expect("decision");
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"].to_str().expect("location");
        url::Url::parse(location).expect("redirect url")
    }

    /// Follows Manch's redirect to Prasaran's callback (without following further).
    pub async fn callback(&self, url: &url::Url) -> Response {
        self.client.get(url.clone()).send().await.expect("callback")
    }

    /// The whole connect flow; returns the new connection as the API lists it.
    pub async fn connect_manch(&self, csrf: &str, handle: &str) -> Value {
        let authorize_url = self.authorize("manch", csrf).await;
        let back = self.consent(&authorize_url, handle, "approve").await;
        let response = self.callback(&back).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        assert!(location.starts_with("/?connected=manch"), "{location}");
        let list: Value = self
            .get("/api/v1/connections")
            .await
            .json()
            .await
            .expect("json");
        list["connections"]
            .as_array()
            .expect("array")
            .iter()
            .find(|c| c["handle"] == handle && c["status"] == "active")
            .cloned()
            .expect("the new connection is listed")
    }

    /// Connects a credentials platform (Bluesky: handle + app password);
    /// answers the new connection.
    pub async fn sign_in_to(
        &self,
        platform: &str,
        csrf: &str,
        identifier: &str,
        password: &str,
    ) -> Value {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/connections/{platform}/sign-in")))
            .header("X-CSRF-Token", csrf)
            .json(&json!({"identifier": identifier, "password": password}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::CREATED);
        let connection: Value = response.json().await.expect("json");
        assert_eq!(connection["handle"], identifier);
        connection
    }

    /// `DELETE /api/v1/connections/{id}` with this session.
    pub async fn disconnect(&self, csrf: &str, id: &str) -> Response {
        self.client
            .delete(self.url(&format!("/api/v1/connections/{id}")))
            .header("X-CSRF-Token", csrf)
            .send()
            .await
            .expect("request")
    }

    /// A new personal API token of this browser's user (`POST /api/v1/tokens`).
    pub async fn api_token(&self, csrf: &str) -> String {
        let created = self
            .client
            .post(self.url("/api/v1/tokens"))
            .header("X-CSRF-Token", csrf)
            .json(&json!({"name": "tests"}))
            .send()
            .await
            .expect("request");
        assert_eq!(created.status(), StatusCode::CREATED);
        let body: Value = created.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn me(&self) -> Response {
        self.get("/api/v1/me").await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

/// No test request may hang the run: a server that stops answering fails the
/// test that asked, with the request in the message.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for one-off requests, bounded like the browsers.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

/// Tests run against a sandbox that does not honour idempotency keys: a task
/// sent twice then makes a second post (counted in `duplicates`), so only the
/// engine's own care keeps posts single.
pub fn distrust_idempotency(sandbox: &Sandbox) {
    sandbox.lock().faults.honor_idempotency = false;
}

/// A Manch sandbox of the test's own on a free loopback port, serving in the
/// background, idempotency off ([`distrust_idempotency`]).
pub fn manch_sandbox(workers: usize) -> SandboxServer {
    let mut manch = SandboxServer::bind(
        "127.0.0.1:0".parse().expect("address"),
        SandboxConfig::default(),
        workers,
    )
    .expect("binding the sandbox");
    manch.spawn();
    distrust_idempotency(&manch.sandbox);
    manch
}

/// `POST /_sandbox/faults` on a Manch sandbox.
pub async fn sandbox_faults(base_url: &url::Url, faults: Value) {
    let url = base_url.join("_sandbox/faults").expect("url");
    let response = http().post(url).json(&faults).send().await.expect("faults");
    assert_eq!(response.status(), StatusCode::OK);
}

/// The sandbox's own record: `{"posts": [...], "duplicates": N}`.
pub async fn sandbox_posts(base_url: &url::Url) -> Value {
    sandbox_get(base_url, "_sandbox/posts").await
}

/// The sandbox's record of calls (`GET /_sandbox/calls`).
pub async fn sandbox_calls(base_url: &url::Url) -> Value {
    sandbox_get(base_url, "_sandbox/calls").await
}

async fn sandbox_get(base_url: &url::Url, path: &str) -> Value {
    let url = base_url.join(path).expect("url");
    http()
        .get(url)
        .send()
        .await
        .expect(path)
        .json()
        .await
        .expect("json")
}

/// The platform saw each task once: no post twice (by text or key), and no
/// call repeating a key (which a sandbox honouring keys would hide).
pub async fn assert_each_task_sent_once(base_url: &url::Url) {
    let posts = sandbox_posts(base_url).await;
    let calls = sandbox_calls(base_url).await;
    assert_eq!(posts["duplicates"], 0, "double publishes: {calls}");
    assert_eq!(calls["replays"], 0, "a task was sent twice: {calls}");
}

/// The JSON error code of a response.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.expect("error body is JSON");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}
