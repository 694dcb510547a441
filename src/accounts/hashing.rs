//! Argon2id password hashing, always off the async executor: one hash takes
//! tens of milliseconds of CPU and 19 MiB of memory.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("password hashing task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// At most one hash per core at a time: each takes 19 MiB, and a burst of
/// signups or logins must queue rather than grow memory and threads.
fn hashing_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// A PHC string with a fresh salt and the crate defaults: argon2id, m=19456 KiB, t=2, p=1.
pub async fn hash_password(password: Password) -> Result<String, HashingError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| HashingError::Argon2(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| HashingError::Argon2(e.to_string()))
    })
    .await?
}

/// Whether `password` matches `phc`; a malformed stored hash is an error, not a mismatch.
pub async fn verify_password(password: Password, phc: Arc<str>) -> Result<bool, HashingError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| HashingError::Argon2(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| HashingError::Argon2(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}
