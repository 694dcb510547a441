//! Argon2id password hashing, always off the async executor: one hash takes
//! tens of milliseconds of CPU and 19 MiB of memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::{Semaphore, SemaphorePermit};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("password hashing task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// So many hashes are waiting that one more would only wait longer than
    /// its client: refused at once (503 with Retry-After) instead.
    #[error("too many password checks are waiting; try again in a moment")]
    Busy,
}

/// Hashes that may wait per core before more are refused: at ~50 ms each,
/// the last one waits under two seconds.
const QUEUE_PER_CORE: usize = 32;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Hashes running or waiting.
static QUEUED: AtomicUsize = AtomicUsize::new(0);

/// A place in the hashing queue; leaving it (done, refused or abandoned by a
/// client that went away) frees it.
struct Place;

impl Drop for Place {
    fn drop(&mut self) {
        QUEUED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits for a hashing slot, or refuses at once when the queue is full.
async fn slot() -> Result<(Place, SemaphorePermit<'static>), HashingError> {
    let before = QUEUED.fetch_add(1, Ordering::SeqCst);
    let place = Place;
    if before >= cores() * (QUEUE_PER_CORE + 1) {
        return Err(HashingError::Busy);
    }
    let permit = hashing_slots()
        .acquire()
        .await
        .map_err(|e| HashingError::Argon2(e.to_string()))?;
    Ok((place, permit))
}

/// At most one hash per core at a time: each takes 19 MiB, and a burst of
/// signups or logins must queue rather than grow memory and threads.
fn hashing_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(cores()))
}

/// A PHC string with a fresh salt and the crate defaults: argon2id, m=19456 KiB, t=2, p=1.
pub async fn hash_password(password: Password) -> Result<String, HashingError> {
    let _slot = slot().await?;
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
    let _slot = slot().await?;
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| HashingError::Argon2(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_the_queued_still_finish() {
        let capacity = cores() * (QUEUE_PER_CORE + 1);
        let burst = capacity + 20;
        let tasks: Vec<_> = (0..burst)
            .map(|n| {
                tokio::spawn(hash_password(Password::unchecked(format!(
                    "burst password number {n}"
                ))))
            })
            .collect();
        let mut hashed = 0;
        let mut busy = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => hashed += 1,
                Err(HashingError::Busy) => busy += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(busy >= 20, "{busy} of {burst} refused");
        assert!(hashed >= cores(), "{hashed} hashed");
        assert_eq!(QUEUED.load(Ordering::SeqCst), 0, "every place was left");
        // Once the burst is over, hashing works again.
        hash_password(Password::unchecked("after the burst".into()))
            .await
            .unwrap();
    }
}
