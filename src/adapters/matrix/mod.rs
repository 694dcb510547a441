//! Matrix rooms, on any homeserver. Connecting is a password login (there is
//! no OAuth without Matrix Authentication Service): the user names their
//! Matrix ID (`@alice:example.org`) and, optionally, the homeserver; the
//! homeserver is found with `.well-known/matrix/client`. The password is sent
//! once and dropped. The login asks for a refresh token; refresh tokens
//! rotate and the old one dies once the new access token is used, so the
//! engine's single-flight refresh is what keeps a connection alive.
//!
//! One account posts to the rooms the user picks among those it has joined:
//! every room is its own task. A post is sent with
//! `PUT …/send/m.room.message/{txnId}` where the transaction id is the task's
//! key: the homeserver answers a repeated id from the same device with the
//! first event, which is why the grant keeps the device and a reconnect logs
//! in to it again. Attachments go first, one event each (`{key}-1`, …), and
//! the text last, so the text's presence means the whole post landed; an
//! unknown outcome is checked by reading the room for the text's transaction
//! id, which the homeserver shows to the device that sent it.

mod html;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use super::{
    Account, AdapterError, AuthorizeRequest, Binding, CodeExchange, ConnectKind, ContentRules,
    Credentials, Destination, MediaRules, MediaUpload, OutgoingPost, PlatformAdapter, PostOptions,
    PublishedPost, SignedIn, TextUnit, TokenSet, UploadedMedia,
};
use wire::{classify, send};

/// The spec's limit on a whole event; the text goes twice (plain and HTML).
const MAX_EVENT_BYTES: usize = 65_536;
/// Room for the event's envelope (ids, signatures, hashes) the server adds.
const ENVELOPE_BYTES: usize = 2_048;
/// Matrix has no short limit; a message's text is bounded by the event size.
pub const MAX_TEXT_BYTES: usize = 30_000;
/// Synapse's default `max_upload_size`; a smaller one answers 413.
const UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
const MAX_MEDIA: usize = 4;
/// Most rooms listed for the picker.
const MAX_ROOMS: usize = 100;
/// How many of the account's own messages an unknown outcome is looked for in.
const LOOK_UP_PAGES: usize = 5;
const LOOK_UP_PAGE: &str = "100";
/// Discovery and the version check are small calls.
const DISCOVERY_TIME: Duration = Duration::from_secs(10);

fn rejected(reason: impl Into<String>) -> AdapterError {
    AdapterError::Rejected {
        reason: reason.into(),
    }
}

fn unreadable(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::Unknown {
        reason: format!("unreadable {what} from the homeserver: {e}"),
    }
}

/// Longest room or display name kept, in characters.
const MAX_NAME_CHARS: usize = 100;

/// A name the homeserver gave (a room's, the account's), as it is stored and
/// shown: no control characters, and not longer than a name needs to be,
/// whatever the server sent.
fn for_people(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `@localpart:server.name` → the server name.
fn server_name(mxid: &str) -> Option<&str> {
    let rest = mxid.strip_prefix('@')?;
    let (local, server) = rest.split_once(':')?;
    (!local.is_empty() && !server.is_empty() && !mxid.chars().any(char::is_whitespace))
        .then_some(server)
}

#[derive(Clone)]
pub struct MatrixAdapter {
    http: reqwest::Client,
    /// Homeservers on plain http or loopback are taken only when set (tests, a local Synapse).
    allow_http: bool,
    /// For one connection: its homeserver, account and device.
    grant: Option<Arc<wire::Grant>>,
}

impl MatrixAdapter {
    pub fn new(http: reqwest::Client, allow_http: bool) -> Self {
        Self {
            http,
            allow_http,
            grant: None,
        }
    }

    fn grant(&self) -> Result<&wire::Grant, AdapterError> {
        self.grant
            .as_deref()
            .ok_or_else(|| rejected("this Matrix connection has no homeserver; reconnect it"))
    }

    /// `path` under the homeserver, each of `segments` escaped as one path segment.
    fn url(base: &Url, path: &str, segments: &[&str]) -> Result<Url, AdapterError> {
        let mut url = base
            .join(path)
            .map_err(|e| rejected(format!("bad homeserver URL: {e}")))?;
        if !segments.is_empty() {
            let mut parts = url
                .path_segments_mut()
                .map_err(|_| rejected("bad homeserver URL"))?;
            parts.pop_if_empty();
            for segment in segments {
                parts.push(segment);
            }
        }
        Ok(url)
    }

    fn api(&self, path: &str, segments: &[&str]) -> Result<Url, AdapterError> {
        Self::url(&self.grant()?.homeserver, path, segments)
    }

    /// A typed homeserver address (`matrix.org`, `https://matrix.example.org/`)
    /// or, when none was typed, the server name of the Matrix ID, as a URL.
    fn server_url(&self, typed: &str) -> Result<Url, AdapterError> {
        let typed = typed.trim().trim_end_matches('/');
        let with_scheme = if typed.contains("://") {
            typed.to_owned()
        } else {
            format!("https://{typed}")
        };
        let mut url = Url::parse(&with_scheme)
            .map_err(|_| rejected(format!("`{typed}` is not a homeserver address")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => {
                return Err(rejected(format!(
                    "homeservers are reached over https, not {other}"
                )));
            }
        }
        if url.host_str().is_none() {
            return Err(rejected(format!("`{typed}` is not a homeserver address")));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url.set_query(None);
        url.set_fragment(None);
        Ok(url)
    }

    /// Only public addresses, unless told otherwise (tests, a local Synapse):
    /// a sign-in must not make Prasaran call services inside its own network.
    async fn check_address(&self, url: &Url) -> Result<(), AdapterError> {
        let host = url
            .host_str()
            .ok_or_else(|| rejected("a homeserver address needs a host"))?;
        let port = url.port_or_known_default().unwrap_or(443);
        super::address::public_address(host, port, !self.allow_http)
            .await
            .map(|_| ())
            .map_err(|why| rejected(format!("{why}; name a public Matrix homeserver")))
    }

    /// The client API base of the homeserver: `.well-known/matrix/client` at
    /// the named server if it has one, else the server itself; then checked
    /// to speak the client-server API.
    async fn discover(&self, mxid: &str, typed: Option<&str>) -> Result<Url, AdapterError> {
        let named = match typed.filter(|t| !t.trim().is_empty()) {
            Some(typed) => self.server_url(typed)?,
            None => self.server_url(server_name(mxid).unwrap_or_default())?,
        };
        self.check_address(&named).await?;
        let mut base = named.clone();
        let well_known = Self::url(&named, ".well-known/matrix/client", &[])?;
        if let Ok(response) = self
            .http
            .get(well_known)
            .timeout(DISCOVERY_TIME)
            .send()
            .await
            && response.status().is_success()
            && let Ok(found) = response.json::<wire::WellKnown>().await
            && let Some(homeserver) = found.homeserver
        {
            base = self.server_url(&homeserver.base_url)?;
            self.check_address(&base).await?;
        }
        let versions = Self::url(&base, "_matrix/client/versions", &[])?;
        let answer = send(self.http.get(versions).timeout(DISCOVERY_TIME)).await;
        match answer {
            Ok(response) if response.status().is_success() => Ok(base),
            _ => Err(rejected(format!(
                "{base} does not answer as a Matrix homeserver; check the homeserver address"
            ))),
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        base: &Url,
        token: &SecretString,
        path: &str,
        segments: &[&str],
        what: &str,
    ) -> Result<T, AdapterError> {
        let url = Self::url(base, path, segments)?;
        let response = send(self.http.get(url).bearer_auth(token.expose_secret())).await?;
        classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable(what, e))
    }

    /// The joined rooms with their names, for the picker.
    async fn rooms(
        &self,
        base: &Url,
        token: &SecretString,
    ) -> Result<Vec<Destination>, AdapterError> {
        let joined: wire::JoinedRooms = self
            .get_json(base, token, "_matrix/client/v3/joined_rooms", &[], "rooms")
            .await?;
        let mut rooms = Vec::new();
        for id in joined.joined_rooms.into_iter().take(MAX_ROOMS) {
            let name = self.room_name(base, token, &id).await;
            rooms.push(Destination::new(id, name));
        }
        rooms.sort_by_key(|room| room.name.to_lowercase());
        Ok(rooms)
    }

    /// The room's name, else its alias, else its id.
    async fn room_name(&self, base: &Url, token: &SecretString, room: &str) -> String {
        for (event, field) in [("m.room.name", "name"), ("m.room.canonical_alias", "alias")] {
            let state: Result<Value, _> = self
                .get_json(
                    base,
                    token,
                    "_matrix/client/v3/rooms/",
                    &[room, "state", event, ""],
                    "room state",
                )
                .await;
            if let Ok(state) = state
                && let Some(name) = state[field].as_str().map(for_people)
                && !name.is_empty()
            {
                return name;
            }
        }
        room.to_owned()
    }

    /// Sends one event; the same transaction id from this device answers the first event.
    async fn put_event(
        &self,
        token: &SecretString,
        room: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, AdapterError> {
        let url = self.api(
            "_matrix/client/v3/rooms/",
            &[room, "send", "m.room.message", txn],
        )?;
        let response = send(
            self.http
                .put(url)
                .bearer_auth(token.expose_secret())
                .json(content),
        )
        .await?;
        let sent: wire::Sent = classify(response)
            .await
            .map_err(|e| match e {
                AdapterError::Rejected { reason } if reason.contains("M_FORBIDDEN") => rejected(
                    format!("the account cannot post in room {room} any more ({reason}); pick another room"),
                ),
                other => other,
            })?
            .json()
            .await
            .map_err(|e| unreadable("sent event", e))?;
        Ok(sent.event_id)
    }

    fn token_set(
        &self,
        access: String,
        refresh: Option<String>,
        expires_in_ms: Option<u64>,
    ) -> TokenSet {
        TokenSet {
            access_token: SecretString::from(access),
            refresh_token: refresh.map(SecretString::from),
            expires_at: expires_in_ms
                .and_then(|ms| chrono::Duration::try_milliseconds(i64::try_from(ms).ok()?))
                .map(|lifetime| Utc::now() + lifetime),
            scopes: Vec::new(),
            service: self.grant.as_ref().map(|g| g.homeserver.clone()),
        }
    }

    async fn logout(&self, access: &SecretString) -> Result<(), AdapterError> {
        let response = send(
            self.http
                .post(self.api("_matrix/client/v3/logout", &[])?)
                .bearer_auth(access.expose_secret())
                .json(&json!({})),
        )
        .await?;
        classify(response).await.map(|_| ())
    }
}

/// A text message: the text as written and its HTML form with links.
fn text_message(text: &str) -> Value {
    json!({
        "msgtype": "m.text",
        "body": text,
        "format": "org.matrix.custom.html",
        "formatted_body": html::formatted(text),
    })
}

/// An image or video event for an uploaded attachment; its alt text is the
/// `body`, which is what screen readers and text-only clients show.
fn media_message(attachment: &wire::Attachment, n: usize) -> Value {
    let video = attachment.mimetype.starts_with("video/");
    let extension = attachment.mimetype.rsplit('/').next().unwrap_or("bin");
    let filename = format!("{}-{n}.{extension}", if video { "video" } else { "image" });
    let mut info = json!({"mimetype": attachment.mimetype, "size": attachment.size});
    if let (Some(w), Some(h)) = (attachment.w, attachment.h) {
        info["w"] = json!(w);
        info["h"] = json!(h);
    }
    json!({
        "msgtype": if video { "m.video" } else { "m.image" },
        "body": attachment.alt.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| filename.clone()),
        "filename": filename,
        "url": attachment.url,
        "info": info,
    })
}

/// Where a person opens an event.
fn event_link(room: &str, event: &str) -> String {
    let escape = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!("https://matrix.to/#/{}/{}", escape(room), escape(event))
}

#[async_trait]
impl PlatformAdapter for MatrixAdapter {
    fn id(&self) -> &'static str {
        "matrix"
    }

    fn display_name(&self) -> &'static str {
        "Matrix"
    }

    fn rules(&self) -> ContentRules {
        ContentRules {
            max_chars: MAX_TEXT_BYTES,
            unit: TextUnit::Characters,
            max_bytes: Some(MAX_TEXT_BYTES),
            url_weight: None,
            media: MediaRules {
                max_count: MAX_MEDIA,
                max_image_bytes: UPLOAD_BYTES,
                max_video_bytes: UPLOAD_BYTES,
                types: [
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    "video/mp4",
                ]
                .map(String::from)
                .to_vec(),
                video_alone: false,
                alt_text_required: false,
                max_video_duration_ms: None,
                max_pixels: None,
                video_codecs: Vec::new(),
            },
        }
    }

    fn validate(
        &self,
        content: &str,
        _options: &PostOptions,
        _limits: Option<&Value>,
    ) -> Result<(), AdapterError> {
        if content.trim().is_empty() {
            return Err(rejected("Matrix messages cannot be empty"));
        }
        self.rules()
            .check_length(content)
            .map_err(|why| rejected(format!("Matrix {why}")))?;
        // The HTML form can be several times the text (every `<` is `&lt;`).
        let event =
            serde_json::to_vec(&text_message(content)).map_err(|e| rejected(e.to_string()))?;
        if event.len() + ENVELOPE_BYTES > MAX_EVENT_BYTES {
            return Err(rejected(format!(
                "Matrix messages are at most {} KiB with their HTML form (this one is {} KiB); shorten it",
                MAX_EVENT_BYTES / 1024,
                (event.len() + ENVELOPE_BYTES).div_ceil(1024)
            )));
        }
        Ok(())
    }

    fn connect_kinds(&self) -> Vec<ConnectKind> {
        vec![ConnectKind::Credentials]
    }

    fn has_destinations(&self) -> bool {
        true
    }

    fn sign_in_names_server(&self) -> bool {
        true
    }

    fn bind(&self, binding: &Binding<'_>) -> Option<Arc<dyn PlatformAdapter>> {
        let grant: wire::Grant =
            serde_json::from_str(binding.grant_secret?.expose_secret()).ok()?;
        Some(Arc::new(Self {
            grant: Some(Arc::new(grant)),
            ..self.clone()
        }))
    }

    async fn sign_in(&self, credentials: &Credentials<'_>) -> Result<SignedIn, AdapterError> {
        let mxid = credentials.identifier.trim();
        if server_name(mxid).is_none() {
            return Err(rejected(format!(
                "`{mxid}` is not a Matrix ID; write it as @name:server.org"
            )));
        }
        let homeserver = self.discover(mxid, credentials.server).await?;
        // The same account connected before: log in to its device again, so
        // transaction ids it sent still answer their first event.
        let previous: Option<wire::Grant> = credentials
            .previous
            .and_then(|secret| serde_json::from_str(secret.expose_secret()).ok())
            .filter(|g: &wire::Grant| g.user_id == mxid);
        let mut body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": mxid},
            "password": credentials.password.expose_secret(),
            "refresh_token": true,
            "initial_device_display_name": "Prasaran",
        });
        if let Some(previous) = &previous {
            body["device_id"] = json!(previous.device_id);
        }
        let response = send(
            self.http
                .post(Self::url(&homeserver, "_matrix/client/v3/login", &[])?)
                .json(&body),
        )
        .await?;
        let login: wire::Login = classify(response)
            .await
            .map_err(|e| match e {
                AdapterError::Unauthorized | AdapterError::Rejected { .. } => {
                    rejected("the homeserver refused the Matrix ID or password")
                }
                other => other,
            })?
            .json()
            .await
            .map_err(|e| unreadable("login", e))?;
        let bound = Self {
            grant: Some(Arc::new(wire::Grant {
                homeserver: homeserver.clone(),
                user_id: login.user_id.clone(),
                device_id: login.device_id.clone(),
            })),
            ..self.clone()
        };
        let tokens = bound.token_set(login.access_token, login.refresh_token, login.expires_in_ms);
        let destinations = bound.rooms(&homeserver, &tokens.access_token).await?;
        let account = bound.account(&tokens.access_token).await?;
        let grant = serde_json::to_string(bound.grant()?).map_err(|e| rejected(e.to_string()))?;
        Ok(SignedIn {
            tokens,
            account,
            grant_secret: Some(SecretString::from(grant)),
            destinations,
        })
    }

    fn authorize_url(&self, _: &AuthorizeRequest<'_>) -> Result<Url, AdapterError> {
        Err(rejected(
            "Matrix connects with your Matrix ID and password; use Sign in",
        ))
    }

    async fn exchange_code(&self, _: &CodeExchange<'_>) -> Result<TokenSet, AdapterError> {
        Err(rejected(
            "Matrix connects with your Matrix ID and password; use Sign in",
        ))
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AdapterError> {
        let response = send(
            self.http
                .post(self.api("_matrix/client/v3/refresh", &[])?)
                .json(&json!({"refresh_token": refresh_token.expose_secret()})),
        )
        .await?;
        let refreshed: wire::Refreshed = classify(response)
            .await
            .map_err(|e| match e {
                // An unknown, expired or already rotated refresh token: the session is gone.
                AdapterError::Unauthorized | AdapterError::Rejected { .. } => {
                    AdapterError::Revoked {
                        reason: "the homeserver ended the session".into(),
                    }
                }
                other => other,
            })?
            .json()
            .await
            .map_err(|e| unreadable("refresh", e))?;
        Ok(self.token_set(
            refreshed.access_token,
            refreshed.refresh_token,
            refreshed.expires_in_ms,
        ))
    }

    async fn account(&self, access_token: &SecretString) -> Result<Account, AdapterError> {
        let grant = self.grant()?;
        let me: wire::WhoAmI = self
            .get_json(
                &grant.homeserver,
                access_token,
                "_matrix/client/v3/account/whoami",
                &[],
                "account",
            )
            .await?;
        if me
            .device_id
            .as_deref()
            .is_some_and(|d| d != grant.device_id)
        {
            return Err(rejected("the homeserver answered for another device"));
        }
        let profile: Option<Value> = self
            .get_json(
                &grant.homeserver,
                access_token,
                "_matrix/client/v3/profile/",
                &[&me.user_id, "displayname"],
                "profile",
            )
            .await
            .ok();
        let display_name = profile
            .as_ref()
            .and_then(|p| p["displayname"].as_str())
            .map(for_people)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| me.user_id.clone());
        Ok(Account {
            id: me.user_id.clone(),
            handle: me.user_id,
            display_name,
            service: Some(grant.homeserver.clone()),
        })
    }

    async fn publish(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<PublishedPost, AdapterError> {
        let room = post
            .destination
            .ok_or_else(|| rejected("no Matrix room was chosen for this post"))?;
        for (n, id) in post.media_ids.iter().enumerate() {
            let attachment: wire::Attachment = serde_json::from_str(id)
                .map_err(|e| rejected(format!("unreadable attachment record: {e}")))?;
            let txn = format!("{idempotency_key}-{}", n + 1);
            self.put_event(access_token, room, &txn, &media_message(&attachment, n + 1))
                .await?;
        }
        let event = self
            .put_event(
                access_token,
                room,
                idempotency_key,
                &text_message(post.text),
            )
            .await?;
        Ok(PublishedPost {
            url: event_link(room, &event),
            id: event,
        })
    }

    async fn find_post(
        &self,
        access_token: &SecretString,
        post: OutgoingPost<'_>,
        idempotency_key: &str,
    ) -> Result<Option<PublishedPost>, AdapterError> {
        let Some(room) = post.destination else {
            return Ok(None);
        };
        let grant = self.grant()?;
        let filter = json!({"senders": [grant.user_id], "types": ["m.room.message"]}).to_string();
        let mut from: Option<String> = None;
        for _ in 0..LOOK_UP_PAGES {
            let mut url = self.api("_matrix/client/v3/rooms/", &[room, "messages"])?;
            url.query_pairs_mut()
                .append_pair("dir", "b")
                .append_pair("limit", LOOK_UP_PAGE)
                .append_pair("filter", &filter);
            if let Some(from) = &from {
                url.query_pairs_mut().append_pair("from", from);
            }
            let response =
                send(self.http.get(url).bearer_auth(access_token.expose_secret())).await?;
            let page: wire::Messages = classify(response)
                .await?
                .json()
                .await
                .map_err(|e| unreadable("messages", e))?;
            if let Some(event) = page.chunk.iter().find(|e| {
                e.sender == grant.user_id
                    && e.unsigned.transaction_id.as_deref() == Some(idempotency_key)
            }) {
                return Ok(Some(PublishedPost {
                    url: event_link(room, &event.event_id),
                    id: event.event_id.clone(),
                }));
            }
            match page.end {
                Some(end) if !page.chunk.is_empty() => from = Some(end),
                _ => break,
            }
        }
        Ok(None)
    }

    async fn upload_media(
        &self,
        access_token: &SecretString,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, AdapterError> {
        let time_allowed = upload.time_allowed(Duration::from_secs(30));
        let mut url = self.api("_matrix/media/v3/upload", &[])?;
        let extension = upload.mime.rsplit('/').next().unwrap_or("bin").to_owned();
        url.query_pairs_mut()
            .append_pair("filename", &format!("attachment.{extension}"));
        let response = send(
            self.http
                .post(url)
                .bearer_auth(access_token.expose_secret())
                .header(reqwest::header::CONTENT_TYPE, upload.mime.as_str())
                .header(reqwest::header::CONTENT_LENGTH, upload.bytes)
                .timeout(time_allowed)
                .body(upload.body),
        )
        .await?;
        let uploaded: wire::Uploaded = classify(response)
            .await?
            .json()
            .await
            .map_err(|e| unreadable("upload", e))?;
        let attachment = wire::Attachment {
            url: uploaded.content_uri,
            mimetype: upload.mime,
            size: upload.bytes,
            w: upload.width,
            h: upload.height,
            alt: upload.alt_text,
        };
        Ok(UploadedMedia {
            id: serde_json::to_string(&attachment).map_err(|e| rejected(e.to_string()))?,
            ready: true,
        })
    }

    async fn media_ready(&self, _: &SecretString, _: &str) -> Result<bool, AdapterError> {
        // Uploads are stored as sent; nothing is processed later.
        Ok(true)
    }

    /// Logs the device out. Disconnecting hands over the refresh token when
    /// there is one, which cannot log out by itself: it is exchanged first.
    async fn revoke(&self, token: &SecretString) -> Result<(), AdapterError> {
        match self.refresh(token).await {
            Ok(tokens) => self.logout(&tokens.access_token).await,
            Err(_) => self.logout(token).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_homeserver_are_cut_to_size_without_control_characters() {
        assert_eq!(for_people("  Release\u{0}notes\n "), "Releasenotes");
        assert_eq!(
            for_people(&"क्षि".repeat(1000)).chars().count(),
            MAX_NAME_CHARS
        );
        assert_eq!(for_people("\u{7}\u{1b}"), "");
    }

    #[test]
    fn a_matrix_id_names_its_server() {
        assert_eq!(server_name("@alice:example.org"), Some("example.org"));
        assert_eq!(server_name("@alice:localhost:8448"), Some("localhost:8448"));
        assert_eq!(server_name("alice:example.org"), None);
        assert_eq!(server_name("@alice"), None);
        assert_eq!(server_name("@:example.org"), None);
        assert_eq!(server_name("@al ice:example.org"), None);
    }

    #[test]
    fn homeserver_addresses_are_https_unless_allowed() {
        let strict = MatrixAdapter::new(reqwest::Client::new(), false);
        assert_eq!(
            strict.server_url("matrix.org").unwrap().as_str(),
            "https://matrix.org/"
        );
        assert!(strict.server_url("http://127.0.0.1:8008").is_err());
        let loose = MatrixAdapter::new(reqwest::Client::new(), true);
        assert_eq!(
            loose.server_url("http://127.0.0.1:8008").unwrap().as_str(),
            "http://127.0.0.1:8008/"
        );
    }

    #[test]
    fn a_room_id_is_one_escaped_path_segment() {
        let base = Url::parse("https://hs.example/").unwrap();
        let url = MatrixAdapter::url(
            &base,
            "_matrix/client/v3/rooms/",
            &["!abc/def:example.org", "send", "m.room.message", "t1"],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://hs.example/_matrix/client/v3/rooms/!abc%2Fdef:example.org/send/m.room.message/t1"
        );
    }

    #[test]
    fn a_message_too_large_with_its_html_is_refused_with_its_size() {
        let adapter = MatrixAdapter::new(reqwest::Client::new(), false);
        assert!(
            adapter
                .validate(&"a".repeat(20_000), &PostOptions::default(), None)
                .is_ok()
        );
        let why = adapter
            .validate(&"<".repeat(20_000), &PostOptions::default(), None)
            .unwrap_err()
            .to_string();
        assert!(why.contains("KiB"), "{why}");
    }

    #[test]
    fn alt_text_is_the_body_of_an_image() {
        let attachment = wire::Attachment {
            url: "mxc://hs/1".into(),
            mimetype: "image/png".into(),
            size: 3,
            w: Some(1),
            h: Some(1),
            alt: Some("a cat".into()),
        };
        let event = media_message(&attachment, 1);
        assert_eq!(event["msgtype"], "m.image");
        assert_eq!(event["body"], "a cat");
        assert_eq!(event["info"]["w"], 1);
        let bare = media_message(
            &wire::Attachment {
                alt: None,
                ..attachment
            },
            2,
        );
        assert_eq!(bare["body"], "image-2.png");
    }
}
