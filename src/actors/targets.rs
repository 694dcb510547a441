//! Each user's active connections, remembered briefly so a script publishing
//! many posts does not cost a query per post. Connecting and disconnecting in
//! this process forget the user's entry at once; a change made through another
//! process is seen within `TTL` — a post accepted in
//! that window for a connection that just went away fails or is cancelled with
//! a message, never posted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::domain::ConnectionId;
use crate::domain::UserId;
use crate::persistence::StoreError;
use crate::persistence::connections;

/// As long as API tokens are cached: a user publishing steadily costs one
/// look-up per ten seconds, however many users there are.
const TTL: Duration = Duration::from_secs(10);

type Targets = Vec<(ConnectionId, String)>;

#[derive(Default)]
pub struct TargetCache {
    entries: Mutex<HashMap<UserId, (Targets, Instant)>>,
}

impl TargetCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (Targets, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user's active connections and their platforms.
    pub async fn active(&self, pool: &PgPool, user: UserId) -> Result<Targets, StoreError> {
        if let Some((targets, at)) = self.lock().get(&user)
            && at.elapsed() < TTL
        {
            return Ok(targets.clone());
        }
        let targets = connections::active_for_user(pool, user).await?;
        let mut entries = self.lock();
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < TTL);
        }
        entries.insert(user, (targets.clone(), Instant::now()));
        Ok(targets)
    }

    pub fn forget(&self, user: UserId) {
        self.lock().remove(&user);
    }

    /// A connection stopped being usable (its grant was found revoked).
    pub fn forget_connection(&self, connection: ConnectionId) {
        self.lock()
            .retain(|_, (targets, _)| !targets.iter().any(|(c, _)| *c == connection));
    }
}
