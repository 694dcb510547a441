//! A scripted platform for engine tests. It wraps the real Manch adapter for
//! connecting (OAuth against the sandbox) and scripts what publishing, looking
//! up and refreshing answer, so the races and failures the engine guards
//! against happen on purpose, every run, instead of by luck: twenty 401s at
//! the same moment, an answer lost after the post was made, a call still
//! running when its lease moved to another process.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use prasaran::adapters::{
    Account, AdapterError, AuthorizeRequest, CodeExchange, ConnectKind, ContentRules, Credentials,
    MediaUpload, OutgoingPost, PlatformAdapter, PostOptions, PublishPlan, PublishedPost, Registry,
    SignedIn, TokenSet, UploadedMedia,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Notify, Semaphore};
use url::Url;

use crate::helpers::Adapt;

/// How the platform behaves; tests change it between steps.
#[derive(Debug, Clone)]
pub struct Script {
    /// Publishes with a token no scripted refresh issued are refused (401).
    pub refuse_unrefreshed: bool,
    /// Publishes wait (up to ten seconds) until this many are open at once,
    /// across every app sharing the platform; then all answer together.
    pub gather: usize,
    /// The next this-many publishes make their post, then answer "unknown"
    /// (as a timeout after sending would).
    pub lose_answers: usize,
    /// Publishes wait for [`Platform::release`].
    pub hold: bool,
    /// Refresh answers carry no new refresh token.
    pub omit_refresh_token: bool,
    /// Lifetime of access tokens a refresh issues.
    pub refreshed_ttl: chrono::Duration,
    /// Plan each task's key and record at accept (as Bluesky's TID + record).
    pub plan_keys: bool,
    /// Connect with an identifier and password (as Bluesky's app passwords);
    /// this password is the right one.
    pub credentials: Option<String>,
    /// Each refresh takes this long (a slow token endpoint).
    pub refresh_delay: Duration,
    /// Revocations fail (the platform cannot be reached).
    pub refuse_revocations: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            refuse_unrefreshed: false,
            gather: 0,
            lose_answers: 0,
            hold: false,
            omit_refresh_token: false,
            refreshed_ttl: chrono::Duration::hours(1),
            plan_keys: false,
            credentials: None,
            refresh_delay: Duration::ZERO,
            refuse_revocations: false,
        }
    }
}

/// What the platform saw.
#[derive(Debug, Default)]
pub struct Record {
    /// Posts by idempotency key.
    pub posts: HashMap<String, PublishedPost>,
    /// Keys of publishes that made a post while one with the key existed.
    pub sent_twice: Vec<String>,
    /// Every publish call, by key.
    pub publishes: Vec<String>,
    /// The planned record each publish call carried.
    pub records: Vec<Option<serde_json::Value>>,
    /// Keys planned at accept.
    pub planned: Vec<String>,
    /// Identifiers of sign-ins.
    pub sign_ins: Vec<String>,
    pub unauthorized: usize,
    /// Keys looked up.
    pub lookups: Vec<String>,
    /// The refresh token of every refresh call, in order.
    pub refreshes: Vec<String>,
    /// Every token a revocation was asked for, in order.
    pub revoked: Vec<String>,
    /// Access tokens the scripted refreshes issued.
    refreshed: HashSet<String>,
    /// Publishes open now, the most open at once, and held ones waiting.
    open: usize,
    pub peak_open: usize,
    pub held: usize,
    /// Publishes that returned.
    pub finished: usize,
    gathered: bool,
}

pub struct Platform {
    script: Mutex<Script>,
    record: Mutex<Record>,
    changed: Notify,
    releases: Semaphore,
}

impl Platform {
    pub fn new(script: Script) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script),
            record: Mutex::default(),
            changed: Notify::new(),
            releases: Semaphore::new(0),
        })
    }

    pub fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current(&self) -> Script {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lets `n` held publishes go on.
    pub fn release(&self, n: usize) {
        self.releases.add_permits(n);
    }

    /// The app's Manch adapter, wrapped: connect through the sandbox, publish here.
    pub fn adapt(self: &Arc<Self>) -> Adapt {
        let platform = self.clone();
        Arc::new(move |registry: Registry| {
            let inner = registry
                .get("manch")
                .cloned()
                .expect("the registry has Manch");
            registry.with(Arc::new(Scripted {
                inner,
                platform: platform.clone(),
            }))
        })
    }

    /// Polls `condition` on the record until it holds; fails after `limit`.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        condition: impl Fn(&Record) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        while !condition(&self.record()) {
            assert!(
                Instant::now() < deadline,
                "{what}: not seen in {limit:?}; the platform saw {:?}",
                self.record()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn gather(&self, group: usize) {
        {
            let mut record = self.record();
            record.open += 1;
            record.peak_open = record.peak_open.max(record.open);
            if record.open >= group {
                record.gathered = true;
            }
        }
        self.changed.notify_waiters();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.changed.notified();
            if group == 0 || self.record().gathered {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    async fn publish(
        &self,
        token: &str,
        key: &str,
        sent: Option<&serde_json::Value>,
    ) -> Result<PublishedPost, AdapterError> {
        let planned_record = sent.cloned();
        let script = self.current();
        self.gather(script.gather).await;
        if script.hold {
            self.record().held += 1;
            self.releases
                .acquire()
                .await
                .expect("the semaphore is never closed")
                .forget();
        }
        let mut record = self.record();
        record.open = record.open.saturating_sub(1);
        record.finished += 1;
        record.publishes.push(key.to_owned());
        record.records.push(planned_record);
        if script.refuse_unrefreshed && !record.refreshed.contains(token) {
            record.unauthorized += 1;
            return Err(AdapterError::Unauthorized);
        }
        if record.posts.contains_key(key) {
            record.sent_twice.push(key.to_owned());
        }
        let post = PublishedPost {
            id: format!("scripted-{}", record.posts.len() + 1),
            url: format!("https://scripted.test/{key}"),
        };
        record.posts.insert(key.to_owned(), post.clone());
        drop(record);
        let mut script = self.script.lock().unwrap_or_else(|e| e.into_inner());
        if script.lose_answers > 0 {
            script.lose_answers -= 1;
            return Err(AdapterError::Unknown {
                reason: "scripted: the answer was lost after the post was made".into(),
            });
        }
        Ok(post)
    }

    fn refresh(&self, refresh_token: &SecretString) -> TokenSet {
        let script = self.current();
        let mut record = self.record();
        record
            .refreshes
            .push(refresh_token.expose_secret().to_owned());
        let n = record.refreshes.len();
        let access = format!("scripted-access-{n}");
        record.refreshed.insert(access.clone());
        TokenSet {
            access_token: SecretString::from(access),
            refresh_token: (!script.omit_refresh_token)
                .then(|| SecretString::from(format!("scripted-refresh-{n}"))),
            expires_at: Some(Utc::now() + script.refreshed_ttl),
            scopes: vec!["posts:write".into()],
            service: None,
        }
    }
}

struct Scripted {
    inner: Arc<dyn PlatformAdapter>,
    platform: Arc<Platform>,
}

#[async_trait]
impl PlatformAdapter for Scripted {
    fn id(&self) -> &'static str {
        self.inner.id()
    }

    fn display_name(&self) -> &'static str {
        self.inner.display_name()
    }

    fn rules(&self) -> ContentRules {
        self.inner.rules()
    }

    fn validate(
        &self,
        content: &str,
        options: &PostOptions,
        limits: Option<&serde_json::Value>,
    ) -> Result<(), AdapterError> {
        self.inner.validate(content, options, limits)
    }

    fn connect_kinds(&self) -> Vec<ConnectKind> {
        if self.platform.current().credentials.is_some() {
            vec![ConnectKind::Credentials]
        } else {
            self.inner.connect_kinds()
        }
    }

    async fn sign_in(&self, credentials: &Credentials<'_>) -> Result<SignedIn, AdapterError> {
        let Some(right) = self.platform.current().credentials else {
            return self.inner.sign_in(credentials).await;
        };
        let (identifier, password) = (credentials.identifier, credentials.password);
        let mut record = self.platform.record();
        record.sign_ins.push(identifier.to_owned());
        if password.expose_secret() != right {
            return Err(AdapterError::Rejected {
                reason: "invalid identifier or password".into(),
            });
        }
        let access = format!("scripted-access-signin-{}", record.sign_ins.len());
        record.refreshed.insert(access.clone());
        Ok(SignedIn {
            tokens: TokenSet {
                access_token: SecretString::from(access),
                refresh_token: Some(SecretString::from("scripted-refresh-signin")),
                expires_at: Some(Utc::now() + chrono::Duration::hours(2)),
                scopes: vec!["posts:write".into()],
                service: None,
            },
            account: Account {
                id: format!("did:plc:{identifier}"),
                handle: identifier.to_owned(),
                display_name: format!("{identifier} (scripted)"),
                service: None,
            },
            grant_secret: None,
            destinations: Vec::new(),
        })
    }

    async fn plan(&self, content: &str, options: &PostOptions) -> PublishPlan {
        if !self.platform.current().plan_keys {
            return self.inner.plan(content, options).await;
        }
        let mut record = self.platform.record();
        let key = format!("planned-{}", record.planned.len() + 1);
        record.planned.push(key.clone());
        PublishPlan {
            key: Some(key),
            record: Some(serde_json::json!({"text": content, "createdAt": "2026-12-01T00:00:00Z"})),
        }
    }

    fn authorize_url(&self, request: &AuthorizeRequest<'_>) -> Result<Url, AdapterError> {
        self.inner.authorize_url(request)
    }

    async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<TokenSet, AdapterError> {
        self.inner.exchange_code(exchange).await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError> {
        tokio::time::sleep(self.platform.current().refresh_delay).await;
        Ok(self.platform.refresh(refresh_token))
    }

    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError> {
        self.inner.account(access_token).await
    }

    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<PublishedPost, AdapterError> {
        self.platform
            .publish(access_token.expose_secret(), idempotency_key, post.record)
            .await
    }

    async fn upload_media(
        &self,
        access_token: &SecretString,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError> {
        self.inner.upload_media(access_token, upload).await
    }

    async fn media_ready(
        &self,
        access_token: &SecretString,
        media_id: &str,
    ) -> Result<bool, AdapterError> {
        self.inner.media_ready(access_token, media_id).await
    }

    async fn find_post(
        &self,
        _access_token: &SecretString,
        _post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<Option<PublishedPost>, AdapterError> {
        let mut record = self.platform.record();
        record.lookups.push(idempotency_key.to_owned());
        Ok(record.posts.get(idempotency_key).cloned())
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), AdapterError> {
        self.platform
            .record()
            .revoked
            .push(token.expose_secret().to_owned());
        if self.platform.current().refuse_revocations {
            return Err(AdapterError::Transient {
                reason: "the platform cannot be reached".into(),
                status: None,
            });
        }
        if token.expose_secret().starts_with("scripted-") {
            // Issued here, unknown to the sandbox behind.
            return Ok(());
        }
        self.inner.revoke(token).await
    }
}
