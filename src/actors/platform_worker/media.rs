//! A task's attachments reach its platform before its post does: each one is
//! uploaded once, its platform id recorded on the task before anything else
//! happens, so a retry (or a look-up after an unknown outcome) reuses it
//! instead of uploading again. A video is posted only once the platform has
//! finished processing it.

use std::time::{Duration, Instant};

use secrecy::SecretString;

use super::super::engine::EngineContext;
use crate::adapters::{AdapterError, MediaUpload, PlatformAdapter};
use crate::domain::TaskId;
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
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.platform_media_id {
            Some(id) => id,
            None => {
                let object = ctx
                    .media
                    .open(&hex::encode(&item.clean_sha256))
                    .await
                    .map_err(|e| AdapterError::Rejected {
                        reason: format!("attachment {} cannot be read: {e}", item.position + 1),
                    })?;
                let uploaded = adapter
                    .upload_media(
                        access,
                        MediaUpload {
                            body: reqwest::Body::wrap_stream(object.body),
                            bytes: object.len,
                            mime: item.mime.clone(),
                            alt_text: (!item.alt_text.is_empty()).then(|| item.alt_text.clone()),
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
