//! A task's attachments reach its platform before its post does: each one is
//! uploaded once, its platform id recorded on the task before anything else
//! happens, so a retry (or a look-up after an unknown outcome) reuses it
//! instead of uploading again. An image over the platform's byte limit goes
//! as a smaller JPEG made once and kept. A video is posted only once the
//! platform has finished processing it.

use std::time::{Duration, Instant};

use secrecy::SecretString;

use super::super::engine::EngineContext;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::adapters::{AdapterError, MediaUpload, PlatformAdapter};
use crate::domain::{MediaKind, TaskId};
use crate::media::inspect;
use crate::persistence::media as rows;

/// How long a video may process at the platform before the attempt gives up
/// (and retries later).
const PROCESSING_LIMIT: Duration = Duration::from_secs(120);

fn transient(reason: impl std::fmt::Display) -> AdapterError {
    AdapterError::Transient {
        reason: reason.to_string(),
        status: None,
    }
}

/// The platform's ids of the task's attachments, in order, uploading the ones
/// it does not have yet.
pub async fn prepare(
    ctx: &EngineContext,
    adapter: &dyn PlatformAdapter,
    access: &SecretString,
    task: TaskId,
) -> Result<Vec<String>, AdapterError> {
    let items = rows::for_task(&ctx.pool, task).await.map_err(transient)?;
    let limit = adapter.rules().media.max_image_bytes;
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.platform_media_id {
            Some(id) => id,
            None => {
                let (sha, mime) = if item.kind == MediaKind::Image.as_str()
                    && u64::try_from(item.clean_bytes).unwrap_or(u64::MAX) > limit
                {
                    let variant = fitted(ctx, &item, limit, adapter.display_name()).await?;
                    (variant.sha256, variant.mime)
                } else {
                    (item.clean_sha256.clone(), item.mime.clone())
                };
                let object = ctx.media.open(&hex::encode(&sha)).await.map_err(|e| {
                    AdapterError::Rejected {
                        reason: format!("attachment {} cannot be read: {e}", item.position + 1),
                    }
                })?;
                let uploaded = adapter
                    .upload_media(
                        access,
                        MediaUpload {
                            body: reqwest::Body::wrap_stream(object.body),
                            bytes: object.len,
                            mime,
                            alt_text: (!item.alt_text.is_empty()).then(|| item.alt_text.clone()),
                            width: item.width.and_then(|w| u32::try_from(w).ok()),
                            height: item.height.and_then(|h| u32::try_from(h).ok()),
                            // The same attachment of the same task: the platform can answer the first upload.
                            idempotency_key: format!("{task}-m{}", item.position),
                        },
                    )
                    .await?;
                rows::record_upload(&ctx.pool, task, item.position, &uploaded.id)
                    .await
                    .map_err(transient)?;
                uploaded.id
            }
        };
        if item.mime.starts_with("video/") {
            wait_until_processed(adapter, access, &id).await?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// The platform's ids of the task's attachments recorded so far, in order.
pub async fn recorded(ctx: &EngineContext, task: TaskId) -> Result<Vec<String>, AdapterError> {
    let items = rows::for_task(&ctx.pool, task).await.map_err(transient)?;
    Ok(items
        .into_iter()
        .filter_map(|item| item.platform_media_id)
        .collect())
}

/// A copy of the image that fits the platform's byte limit: made once (off
/// the event loop), kept, and reused by every later post to such a platform.
async fn fitted(
    ctx: &EngineContext,
    item: &rows::TaskMedia,
    limit: u64,
    platform: &str,
) -> Result<rows::Variant, AdapterError> {
    if let Some(variant) = rows::variant(&ctx.pool, item.media_id, limit)
        .await
        .map_err(transient)?
    {
        return Ok(variant);
    }
    let mut object = ctx
        .media
        .open(&hex::encode(&item.clean_sha256))
        .await
        .map_err(transient)?;
    let mut bytes = Vec::with_capacity(usize::try_from(object.len).unwrap_or_default());
    while let Some(chunk) = object.body.next().await {
        bytes.extend_from_slice(&chunk.map_err(transient)?);
    }
    let fitted = tokio::task::spawn_blocking(move || inspect::fit(&bytes, limit))
        .await
        .map_err(transient)?
        .map_err(transient)?
        .ok_or_else(|| AdapterError::Rejected {
            reason: format!(
                "attachment {} cannot be made small enough for {platform} ({limit} bytes)",
                item.position + 1
            ),
        })?;
    let variant = rows::Variant {
        sha256: Sha256::digest(&fitted).to_vec(),
        bytes: i64::try_from(fitted.len()).unwrap_or(i64::MAX),
        mime: "image/jpeg".into(),
    };
    ctx.media
        .put_bytes(&hex::encode(&variant.sha256), fitted)
        .await
        .map_err(transient)?;
    rows::save_variant(&ctx.pool, item.media_id, limit, &variant)
        .await
        .map_err(transient)?;
    tracing::info!(media_id = %item.media_id, bytes = variant.bytes, limit, "made a copy that fits the platform");
    Ok(variant)
}

async fn wait_until_processed(
    adapter: &dyn PlatformAdapter,
    access: &SecretString,
    id: &str,
) -> Result<(), AdapterError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(100);
    while !adapter.media_ready(access, id).await? {
        if started.elapsed() > PROCESSING_LIMIT {
            return Err(transient(format!(
                "the platform is still processing video {id}; trying again later"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
    Ok(())
}
