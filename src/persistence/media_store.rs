//! Where media objects (the files, not their rows) live, behind one trait: content-addressed by the
//! SHA-256 of their bytes, so the same file uploaded twice is stored once.
//! [`LocalStore`] keeps them under the data dir (the embedded default).

use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such media object")]
    Missing,
    #[error("media storage failed: {0}")]
    Io(#[from] std::io::Error),
}

/// An object's bytes, streamed.
pub struct Object {
    pub len: u64,
    pub body: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// A local directory for uploads in progress (they are hashed while they
    /// arrive, so their address is known only at the end).
    fn scratch_dir(&self) -> &Path;
    /// Takes a finished file in under its address (nothing to do when the
    /// object is there already); the file is consumed.
    async fn put_file(&self, sha256: &str, file: &Path) -> Result<(), StoreError>;
    async fn put_bytes(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), StoreError>;
    async fn open(&self, sha256: &str) -> Result<Object, StoreError>;
    async fn delete(&self, sha256: &str) -> Result<(), StoreError>;
}

/// Objects as files: `<root>/objects/ab/cdef…`, uploads in progress in `<root>/scratch`.
pub struct LocalStore {
    objects: PathBuf,
    scratch: PathBuf,
}

impl LocalStore {
    pub fn open(root: &Path) -> std::io::Result<Self> {
        let objects = root.join("objects");
        let scratch = root.join("scratch");
        std::fs::create_dir_all(&objects)?;
        std::fs::create_dir_all(&scratch)?;
        Ok(Self { objects, scratch })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        let (prefix, rest) = sha256.split_at(2.min(sha256.len()));
        self.objects.join(prefix).join(rest)
    }
}

#[async_trait]
impl MediaStore for LocalStore {
    fn scratch_dir(&self) -> &Path {
        &self.scratch
    }

    async fn put_file(&self, sha256: &str, file: &Path) -> Result<(), StoreError> {
        let target = self.path(sha256);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(file).await?;
            return Ok(());
        }
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        // Same file system: a rename is atomic, so a reader never sees half an object.
        tokio::fs::rename(file, &target).await?;
        Ok(())
    }

    async fn put_bytes(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let target = self.path(sha256);
        if tokio::fs::try_exists(&target).await? {
            return Ok(());
        }
        let partial = self
            .scratch
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&partial, bytes).await?;
        self.put_file(sha256, &partial).await
    }

    async fn open(&self, sha256: &str) -> Result<Object, StoreError> {
        let file = match tokio::fs::File::open(self.path(sha256)).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::Missing),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata().await?.len();
        Ok(Object {
            len,
            body: Box::pin(tokio_util::io::ReaderStream::new(file)),
        })
    }

    async fn delete(&self, sha256: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(sha256)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
