//! Every live actor's self-reported health, for `GET /health/actors`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActorHealth {
    /// `dispatcher`, `scheduler`, `platform_worker`, `job_coordinator`, `janitor`.
    pub kind: &'static str,
    pub id: String,
    /// `running`, `idle`, `backing_off`, `restarting`.
    pub state: String,
    /// Work queued in the actor that it has not started yet.
    pub mailbox_depth: usize,
    pub restarts: u32,
    pub last_error: Option<String>,
    pub last_heartbeat: DateTime<Utc>,
}

/// A shared board actors write to and the health endpoint reads.
#[derive(Clone, Default)]
pub struct HealthBoard {
    entries: Arc<Mutex<HashMap<(&'static str, String), ActorHealth>>>,
}

impl HealthBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(&'static str, String), ActorHealth>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a heartbeat with the actor's current state.
    pub fn beat(&self, kind: &'static str, id: &str, state: &str, mailbox_depth: usize) {
        let mut entries = self.lock();
        let entry = entries
            .entry((kind, id.to_owned()))
            .or_insert_with(|| ActorHealth {
                kind,
                id: id.to_owned(),
                state: String::new(),
                mailbox_depth: 0,
                restarts: 0,
                last_error: None,
                last_heartbeat: Utc::now(),
            });
        entry.state = state.to_owned();
        entry.mailbox_depth = mailbox_depth;
        entry.last_heartbeat = Utc::now();
    }

    pub fn restarted(&self, kind: &'static str, id: &str, error: Option<String>) {
        self.beat(kind, id, "restarting", 0);
        if let Some(entry) = self.lock().get_mut(&(kind, id.to_owned())) {
            entry.restarts += 1;
            if error.is_some() {
                entry.last_error = error;
            }
        }
    }

    pub fn error(&self, kind: &'static str, id: &str, error: String) {
        if let Some(entry) = self.lock().get_mut(&(kind, id.to_owned())) {
            entry.last_error = Some(error);
        }
    }

    pub fn gone(&self, kind: &'static str, id: &str) {
        self.lock().remove(&(kind, id.to_owned()));
    }

    pub fn snapshot(&self) -> Vec<ActorHealth> {
        let mut all: Vec<ActorHealth> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        all
    }

    /// Whether `kind` has heart-beaten within `within` (readiness).
    pub fn fresh(&self, kind: &'static str, within: Duration) -> bool {
        let limit = Utc::now() - chrono::Duration::from_std(within).unwrap_or_default();
        self.lock()
            .values()
            .any(|e| e.kind == kind && e.last_heartbeat >= limit)
    }

    pub fn count_by_kind(&self) -> HashMap<&'static str, (usize, usize)> {
        let mut counts: HashMap<&'static str, (usize, usize)> = HashMap::new();
        for entry in self.lock().values() {
            let c = counts.entry(entry.kind).or_default();
            c.0 += 1;
            c.1 += entry.mailbox_depth;
        }
        counts
    }
}
