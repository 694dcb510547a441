//! A sandbox standing in for a platform across restarts of a dev server:
//! what it would keep in its database (accounts, grants, tokens by hash,
//! posts) is written to a file in the data directory within a second of a
//! change and at shutdown, and read back at start. Each sandbox says what that
//! is with [`KeptState`].

use std::path::{Path, PathBuf};

use actix_web::web;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How often kept state is written (when it changed).
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

pub trait KeptState: Send + Sync + 'static {
    type Saved: Serialize + DeserializeOwned;

    /// A copy of what is kept, taken under the sandbox's lock.
    fn snapshot(&self) -> Self::Saved;
}

/// What was saved at `path`, if anything could be read (a file that cannot
/// is reported and set aside, never fatal: it only held sandbox data).
pub fn load<S: DeserializeOwned>(path: &Path) -> Option<S> {
    let text = std::fs::read(path).ok()?;
    match serde_json::from_slice(&text) {
        Ok(saved) => Some(saved),
        Err(error) => {
            tracing::warn!(path = %path.display(), error = %error, "a sandbox's saved state cannot be read; starting afresh");
            None
        }
    }
}

/// Saves `sandbox` to `path` whenever it changed, until the process ends.
pub async fn keep_saving<K: KeptState>(sandbox: web::Data<K>, path: PathBuf) {
    let mut last = Vec::new();
    let mut tick = tokio::time::interval(SAVE_EVERY);
    loop {
        tick.tick().await;
        save_if_changed(sandbox.get_ref(), &path, &mut last).await;
    }
}

/// Writes the state unless it is what `last` holds.
pub async fn save_if_changed<K: KeptState>(sandbox: &K, path: &Path, last: &mut Vec<u8>) {
    // Copied under the lock, serialised and written outside it.
    let Ok(bytes) = serde_json::to_vec(&sandbox.snapshot()) else {
        return;
    };
    if bytes == *last {
        return;
    }
    match write(path, &bytes).await {
        Ok(()) => *last = bytes,
        Err(error) => {
            tracing::warn!(path = %path.display(), error = %error, "saving a sandbox's state failed")
        }
    }
}

/// Whole or not at all: a crash mid-write leaves the previous file.
async fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = path.with_extension("json.partial");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}
