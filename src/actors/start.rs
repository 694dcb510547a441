//! Starting the engine's actors in the current actix System.

use std::sync::Arc;

use actix::{Arbiter, Supervisor};
use sqlx::PgPool;

use super::dispatcher::Dispatcher;
use super::engine::{Engine, EngineContext};
use super::health::HealthBoard;
use super::metrics::EngineMetrics;
use super::scheduler::Scheduler;
use crate::adapters::Registry;
use crate::crypto::Keyring;
use crate::settings::EngineSettings;

/// Starts the dispatcher (with one worker arbiter per core) and the scheduler.
pub fn start_engine(
    pool: PgPool,
    registry: Registry,
    keyring: Keyring,
    settings: EngineSettings,
) -> Engine {
    let owner = format!(
        "{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let journal = super::journal::Journal::start(pool.clone(), owner.clone());
    let lease = std::time::Duration::from_secs(u64::from(settings.lease_secs.get()));
    let claims = super::journal::ClaimQueue::start(pool.clone(), owner.clone(), lease);
    let job_statuses = super::journal::JobStatusQueue::start(pool.clone());
    let accepts = super::journal::AcceptQueue::start(pool.clone());
    let context = Arc::new(EngineContext {
        targets: super::targets::TargetCache::default(),
        accepts,
        journal,
        claims,
        job_statuses,
        pool,
        registry,
        keyring,
        settings,
        owner,
        health: HealthBoard::default(),
        metrics: EngineMetrics::default(),
    });
    let cores = match context.settings.worker_arbiters {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // The arbiters live as long as the process: their handles keep them running.
    let arbiters: Vec<_> = (0..cores).map(|_| Arbiter::new().handle()).collect();
    let dispatcher_ctx = context.clone();
    let dispatcher = Supervisor::start(move |_| Dispatcher::new(dispatcher_ctx, arbiters));
    let scheduler_ctx = context.clone();
    let scheduler_dispatcher = dispatcher.clone();
    let scheduler = Supervisor::start(move |_| Scheduler::new(scheduler_ctx, scheduler_dispatcher));
    Engine {
        context,
        dispatcher,
        scheduler,
    }
}
