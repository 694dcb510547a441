//! Media: uploads streamed to storage while they are hashed and counted, typed
//! from their bytes, checked (and images re-encoded without metadata) off the
//! event loop, recorded per user. The HTTP handlers only parse and answer;
//! the platform workers read what they send from here.

pub mod inspect;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;

use crate::domain::{
    AltText, AltTextError, MediaId, MediaKind, SNIFF_LEN, SniffedType, UserId, sniff,
};
use crate::persistence::media::{self as rows, Deleted, MediaRow, NewMedia};
pub use crate::persistence::media_store::{self as store, LocalStore, MediaStore, Object};
use crate::settings::MediaSettings;
pub use inspect::InspectError;

/// Media as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaView {
    pub id: uuid::Uuid,
    pub kind: MediaKind,
    /// Sniffed from the bytes.
    pub mime: String,
    pub bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// A video's codec, e.g. `h264`.
    pub codec: Option<String>,
    /// Of the file as uploaded, hex.
    pub sha256: String,
    pub alt_text: String,
    pub created_at: DateTime<Utc>,
    /// A small JPEG for previews (images and GIFs; none for video).
    pub thumbnail_url: Option<String>,
}

impl From<MediaRow> for MediaView {
    fn from(row: MediaRow) -> Self {
        Self {
            id: row.id.0,
            kind: row.kind(),
            mime: row.mime,
            bytes: u64::try_from(row.bytes).unwrap_or_default(),
            width: row.width.and_then(|v| u32::try_from(v).ok()),
            height: row.height.and_then(|v| u32::try_from(v).ok()),
            duration_ms: row.duration_ms.and_then(|v| u64::try_from(v).ok()),
            sha256: hex::encode(row.sha256),
            codec: row.codec,
            thumbnail_url: row
                .thumb_sha256
                .as_ref()
                .map(|_| format!("/api/v1/media/{}/thumbnail", row.id)),
            alt_text: row.alt_text,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the upload is empty")]
    Empty,
    #[error(
        "the file is not a JPEG, PNG, GIF, WebP or MP4 image or video (the type is read from the bytes, not the name)"
    )]
    UnknownType,
    #[error("{kind} uploads are limited to {limit} bytes")]
    TooLarge { kind: &'static str, limit: u64 },
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error(transparent)]
    AltText(#[from] AltTextError),
    #[error("no such media")]
    NotFound,
    #[error("videos have no thumbnail; show the video's first frame in the browser instead")]
    NoThumbnail,
    #[error(
        "a post that has not finished publishing uses this media; delete it once the post is done"
    )]
    InUse,
    #[error("the upload broke off: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Storage(#[from] store::StoreError),
    #[error(transparent)]
    Store(#[from] crate::persistence::StoreError),
    #[error("media storage failed: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Clone)]
pub struct MediaLibrary {
    pool: PgPool,
    store: Arc<dyn MediaStore>,
    settings: Arc<MediaSettings>,
}

/// An upload in progress: removed unless it was taken into the store.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl MediaLibrary {
    pub fn new(pool: PgPool, store: Arc<dyn MediaStore>, settings: MediaSettings) -> Self {
        Self {
            pool,
            store,
            settings: Arc::new(settings),
        }
    }

    pub fn store(&self) -> Arc<dyn MediaStore> {
        self.store.clone()
    }

    fn limit(&self, kind: MediaKind) -> (&'static str, u64) {
        match kind {
            MediaKind::Video => ("video", self.settings.max_video_bytes),
            MediaKind::Image | MediaKind::Gif => ("image", self.settings.max_image_bytes),
        }
    }

    /// Streams `body` to storage (never held whole in memory), then checks it.
    pub async fn upload<E: std::fmt::Display>(
        &self,
        user: UserId,
        mut body: impl Stream<Item = Result<Bytes, E>> + Unpin,
        alt_text: Option<&str>,
    ) -> Result<MediaView, MediaError> {
        let alt = AltText::parse(alt_text.unwrap_or_default())?;
        let scratch = Scratch(
            self.store
                .scratch_dir()
                .join(format!("{}.upload", uuid::Uuid::new_v4().simple())),
        );
        let mut file = tokio::fs::File::create(&scratch.0).await?;
        let mut hasher = Sha256::new();
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
        let mut sniffed: Option<SniffedType> = None;
        let mut received: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| MediaError::Interrupted(e.to_string()))?;
            if sniffed.is_none() {
                let want = SNIFF_LEN.saturating_sub(head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..want]);
                if head.len() >= SNIFF_LEN {
                    sniffed = Some(sniff(&head).ok_or(MediaError::UnknownType)?);
                }
            }
            received += chunk.len() as u64;
            // Before the type is known the larger (video) limit applies.
            let (kind, limit) = match sniffed {
                Some(t) => self.limit(t.kind),
                None => self.limit(MediaKind::Video),
            };
            if received > limit {
                return Err(MediaError::TooLarge { kind, limit });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        drop(file);
        if received == 0 {
            return Err(MediaError::Empty);
        }
        let sniffed = match sniffed {
            Some(t) => t,
            None => sniff(&head).ok_or(MediaError::UnknownType)?,
        };
        let sha256 = hasher.finalize().to_vec();
        let path = scratch.0.clone();
        let max_pixels = self.settings.max_image_pixels;
        let inspected =
            tokio::task::spawn_blocking(move || inspect::inspect(&path, sniffed, max_pixels))
                .await
                .map_err(|e| MediaError::Io(std::io::Error::other(e.to_string())))??;
        let (clean_sha256, clean_bytes) = match inspected.clean {
            Some(clean) => {
                let sha = Sha256::digest(&clean).to_vec();
                let len = clean.len() as u64;
                self.store.put_bytes(&hex::encode(&sha), clean).await?;
                (sha, len)
            }
            None => (sha256.clone(), received),
        };
        let thumb_sha256 = match inspected.thumbnail {
            Some(thumb) => {
                let sha = Sha256::digest(&thumb).to_vec();
                self.store.put_bytes(&hex::encode(&sha), thumb).await?;
                Some(sha)
            }
            None => None,
        };
        self.store
            .put_file(&hex::encode(&sha256), &scratch.0)
            .await?;
        let row = rows::insert(
            &self.pool,
            &NewMedia {
                id: MediaId::new(),
                user,
                kind: sniffed.kind,
                mime: sniffed.mime,
                bytes: received,
                width: inspected.width,
                height: inspected.height,
                duration_ms: inspected.duration_ms,
                sha256: &sha256,
                clean_sha256: &clean_sha256,
                clean_bytes,
                alt_text: alt.as_str(),
                thumb_sha256: thumb_sha256.as_deref(),
                codec: inspected.codec.as_deref(),
            },
        )
        .await?;
        tracing::info!(media_id = %row.id, kind = sniffed.kind.as_str(), bytes = received, "media uploaded");
        Ok(row.into())
    }

    pub async fn get(&self, user: UserId, id: MediaId) -> Result<MediaView, MediaError> {
        rows::find(&self.pool, user, id)
            .await?
            .map(MediaView::from)
            .ok_or(MediaError::NotFound)
    }

    /// The bytes as uploaded, with their type.
    pub async fn content(&self, user: UserId, id: MediaId) -> Result<(String, Object), MediaError> {
        let row = rows::find(&self.pool, user, id)
            .await?
            .ok_or(MediaError::NotFound)?;
        let object = self.store.open(&hex::encode(&row.sha256)).await?;
        Ok((row.mime, object))
    }

    /// The thumbnail (a JPEG), for images and GIFs.
    pub async fn thumbnail(&self, user: UserId, id: MediaId) -> Result<Object, MediaError> {
        let row = rows::find(&self.pool, user, id)
            .await?
            .ok_or(MediaError::NotFound)?;
        let sha = row.thumb_sha256.ok_or(MediaError::NoThumbnail)?;
        Ok(self.store.open(&hex::encode(sha)).await?)
    }

    pub async fn set_alt_text(
        &self,
        user: UserId,
        id: MediaId,
        alt_text: &str,
    ) -> Result<MediaView, MediaError> {
        let alt = AltText::parse(alt_text)?;
        rows::set_alt_text(&self.pool, user, id, alt.as_str())
            .await?
            .map(MediaView::from)
            .ok_or(MediaError::NotFound)
    }

    pub async fn delete(&self, user: UserId, id: MediaId) -> Result<(), MediaError> {
        match rows::delete(&self.pool, user, id).await? {
            Deleted::NotFound => Err(MediaError::NotFound),
            Deleted::InUse => Err(MediaError::InUse),
            Deleted::Gone { unused_objects } => {
                for object in unused_objects {
                    if let Err(error) = self.store.delete(&hex::encode(object)).await {
                        tracing::warn!(error = %error, "removing an unused media object failed");
                    }
                }
                Ok(())
            }
        }
    }

    /// The user's media with these ids, in the order asked; `Err` names an
    /// id that is not the user's (or does not exist).
    pub async fn owned_in_order(
        &self,
        user: UserId,
        ids: &[MediaId],
    ) -> Result<Result<Vec<MediaRow>, MediaId>, MediaError> {
        let found = rows::owned(&self.pool, user, ids).await?;
        let mut ordered = Vec::with_capacity(ids.len());
        for id in ids {
            match found.iter().find(|row| row.id == *id) {
                Some(row) => ordered.push(row.clone()),
                None => return Ok(Err(*id)),
            }
        }
        Ok(Ok(ordered))
    }
}
