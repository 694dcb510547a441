//! Each user's backlog of tasks waiting to run. What this process accepted is
//! added to the last count from Postgres; that sum only over-estimates (tasks
//! finish meanwhile), so Postgres is asked again — at most once a second per
//! user — only once the sum passes half the limit. A user far below the limit
//! costs no query at all, however many users publish. A publish that would
//! take the user past the limit is refused with a time to come back, so one
//! user's burst cannot grow everyone's completion latency without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::domain::{ConnectionId, UserId};
use crate::persistence::{StoreError, publishing};

/// How long a count is trusted before it is read again.
const RECOUNT: Duration = Duration::from_secs(1);
/// What a refused publisher is told to wait: long enough for a few thousand
/// tasks to drain, short enough to keep a steady publisher busy.
pub const RETRY_AFTER_SECS: u64 = 2;

/// A publish that would not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    pub waiting: i64,
    pub limit: u32,
}

pub struct Backlog {
    limit: u32,
    /// Per user: tasks counted, plus those this process accepted since; when counted.
    counts: Mutex<HashMap<UserId, (i64, Instant)>>,
}

impl Backlog {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (i64, Instant)>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves room for `adding` tasks of `user` (whose connections are
    /// `connections`), or says how full the backlog is.
    pub async fn admit(
        &self,
        pool: &PgPool,
        user: UserId,
        connections: &[ConnectionId],
        adding: usize,
    ) -> Result<Result<(), Full>, StoreError> {
        let adding_now = adding as i64;
        let half = i64::from(self.limit / 2);
        let known = self
            .lock()
            .get(&user)
            .filter(|(n, at)| n + adding_now <= half || at.elapsed() < RECOUNT)
            .map(|(n, _)| *n);
        let waiting = match known {
            Some(n) => n,
            None => {
                let n = publishing::backlog_of(pool, connections).await?;
                let mut counts = self.lock();
                if counts.len() > 10_000 {
                    counts.retain(|_, (_, at)| at.elapsed() < RECOUNT);
                }
                counts.insert(user, (n, Instant::now()));
                n
            }
        };
        let adding = adding as i64;
        if waiting + adding > i64::from(self.limit) {
            return Ok(Err(Full {
                waiting,
                limit: self.limit,
            }));
        }
        if let Some((n, _)) = self.lock().get_mut(&user) {
            *n += adding;
        }
        Ok(Ok(()))
    }
}
