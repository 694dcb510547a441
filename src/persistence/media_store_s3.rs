//! Media objects in an S3 bucket (`media.store = "s3"`), for when several
//! processes share the work: an upload taken by an api process is read by
//! whichever worker posts it. Keys are `<prefix>ab/cdef…`, the same
//! content address [`LocalStore`](super::media_store::LocalStore) uses, so an
//! object is written once however often it is uploaded. Bodies stream both
//! ways: a 512 MB video is never held in memory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::primitives::ByteStream;

use super::media_store::{MediaStore, Object, StoreError};
use crate::aws::{describe, sdk_config};
use crate::settings::MediaS3Settings;

/// Bounds every call but an upload's (which gets more: see [`upload_timeout`]).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the bucket cannot be used at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("`media.s3.bucket` is not set")]
    NoBucket,
    #[error(
        "media bucket `{bucket}` does not exist or is not ours to use (`media.s3.bucket`): {cause}"
    )]
    Bucket { bucket: String, cause: String },
    #[error("preparing the media scratch directory {dir}: {cause}")]
    Scratch { dir: PathBuf, cause: std::io::Error },
}

pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    /// Uploads in progress stay local: they are hashed while they arrive, so
    /// their key is known only once the last byte is in.
    scratch: PathBuf,
}

fn failed<E: std::error::Error>(what: &str, key: &str, error: &E) -> StoreError {
    StoreError::Io(std::io::Error::other(format!(
        "S3 {what} {key}: {}",
        describe(error)
    )))
}

/// A whole PutObject, retries included: 30 s, and a second per MB on top
/// (the adapters' uploads are bounded the same way).
fn upload_timeout(bytes: u64) -> Duration {
    CALL_TIMEOUT + Duration::from_secs(bytes / 1_000_000)
}

impl S3Store {
    /// A client for the configured bucket, checked with HeadBucket so a wrong
    /// name or endpoint stops start-up instead of the first upload.
    pub async fn connect(settings: &MediaS3Settings, scratch: &Path) -> Result<Self, ConnectError> {
        let bucket = settings
            .bucket
            .clone()
            .filter(|b| !b.is_empty())
            .ok_or(ConnectError::NoBucket)?;
        std::fs::create_dir_all(scratch).map_err(|cause| ConnectError::Scratch {
            dir: scratch.to_owned(),
            cause,
        })?;
        let shared = sdk_config(
            &settings.region,
            settings.endpoint_url.as_ref(),
            CALL_TIMEOUT,
        )
        .await;
        // Stand-ins answer on one host, not on `<bucket>.<host>`.
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.endpoint_url.is_some())
            .build();
        let client = Client::from_conf(config);
        client
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .map_err(|error| ConnectError::Bucket {
                bucket: bucket.clone(),
                cause: describe(&error),
            })?;
        Ok(Self {
            client,
            bucket,
            prefix: settings.prefix.clone(),
            scratch: scratch.to_owned(),
        })
    }

    /// The object key of a SHA-256 (hex).
    pub fn key(&self, sha256: &str) -> String {
        let (head, rest) = sha256.split_at(2.min(sha256.len()));
        format!("{}{head}/{rest}", self.prefix)
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(error) => Err(failed("HeadObject", key, &error)),
        }
    }

    async fn put(&self, key: &str, body: ByteStream, len: u64) -> Result<(), StoreError> {
        let timeout = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_timeout(upload_timeout(len))
            .build();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(i64::try_from(len).unwrap_or(i64::MAX))
            .body(body)
            .customize()
            .config_override(aws_sdk_s3::config::Builder::new().timeout_config(timeout))
            .send()
            .await
            .map_err(|error| failed("PutObject", key, &error))?;
        Ok(())
    }
}

#[async_trait]
impl MediaStore for S3Store {
    fn scratch_dir(&self) -> &Path {
        &self.scratch
    }

    #[tracing::instrument(skip_all, fields(sha256 = %sha256))]
    async fn put_file(&self, sha256: &str, file: &Path) -> Result<(), StoreError> {
        let key = self.key(sha256);
        if !self.exists(&key).await? {
            let len = tokio::fs::metadata(file).await?.len();
            // Read from the file as it is sent (and re-read on a retry).
            let body = ByteStream::from_path(file)
                .await
                .map_err(|error| failed("reading the upload for", &key, &error))?;
            self.put(&key, body, len).await?;
        }
        tokio::fs::remove_file(file).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(sha256 = %sha256))]
    async fn put_bytes(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let key = self.key(sha256);
        if self.exists(&key).await? {
            return Ok(());
        }
        let len = bytes.len() as u64;
        self.put(&key, ByteStream::from(bytes), len).await
    }

    #[tracing::instrument(skip_all, fields(sha256 = %sha256))]
    async fn open(&self, sha256: &str) -> Result<Object, StoreError> {
        let key = self.key(sha256);
        let answer = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(answer) => answer,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Err(StoreError::Missing);
            }
            Err(error) => return Err(failed("GetObject", &key, &error)),
        };
        let len = answer
            .content_length()
            .and_then(|len| u64::try_from(len).ok())
            .ok_or_else(|| {
                StoreError::Io(std::io::Error::other(format!(
                    "S3 GetObject {key}: the answer has no Content-Length"
                )))
            })?;
        let reader = answer.body.into_async_read();
        Ok(Object {
            len,
            body: Box::pin(tokio_util::io::ReaderStream::new(reader)),
        })
    }

    #[tracing::instrument(skip_all, fields(sha256 = %sha256))]
    async fn delete(&self, sha256: &str) -> Result<(), StoreError> {
        let key = self.key(sha256);
        // S3 answers a missing key like a deleted one.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|error| failed("DeleteObject", &key, &error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_gets_a_second_per_megabyte_beyond_the_call_timeout() {
        assert_eq!(upload_timeout(0), CALL_TIMEOUT);
        assert_eq!(upload_timeout(512_000_000), Duration::from_secs(30 + 512));
    }
}
