//! Starting the engine's actors in the current actix System, as the
//! process's role asks: an API process accepts and relays; a worker process
//! runs platform workers, the scheduler and (in sqs mode) the queue ingress.

use std::sync::Arc;
use std::time::Duration;

use actix::{Arbiter, Supervisor};
use sqlx::PgPool;

use super::dispatcher::Dispatcher;
use super::engine::{Engine, EngineContext};
use super::health::HealthBoard;
use super::metrics::EngineMetrics;
use super::outbox_relay::OutboxRelay;
use super::scheduler::Scheduler;
use super::sqs_ingress::SqsIngress;
use crate::adapters::Registry;
use crate::crypto::Keyring;
use crate::persistence::media_store::MediaStore;
use crate::persistence::outbox::Handoff;
use crate::queue::TaskQueue;
use crate::settings::{EngineSettings, Role, SqsSettings};

/// What the engine of this process is asked to do.
pub struct EngineSetup {
    pub settings: EngineSettings,
    pub role: Role,
    /// The task queue and its settings when `queue.kind = "sqs"`.
    pub queue: Option<(TaskQueue, SqsSettings)>,
    /// Where attachments' files are read from.
    pub media: Arc<dyn MediaStore>,
    /// The longest a platform call may take (`http_client.timeout_ms`).
    pub call_timeout: Duration,
}

impl EngineSetup {
    /// One process doing everything through its own mailboxes.
    pub fn in_process(settings: EngineSettings, media: Arc<dyn MediaStore>) -> Self {
        Self {
            settings,
            role: Role::All,
            queue: None,
            media,
            call_timeout: Duration::from_secs(10),
        }
    }
}

pub fn start_engine(
    pool: PgPool,
    registry: Registry,
    keyring: Keyring,
    setup: EngineSetup,
) -> Engine {
    let EngineSetup {
        settings,
        call_timeout,
        role,
        queue,
        media,
    } = setup;
    let owner = format!(
        "{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let handoff = if queue.is_some() {
        Handoff::Outbox
    } else {
        Handoff::InProcess
    };
    let journal = super::journal::Journal::start(pool.clone(), owner.clone());
    let lease = Duration::from_secs(u64::from(settings.lease_secs.get()));
    let claims = super::journal::ClaimQueue::start(pool.clone(), owner.clone(), lease);
    let job_statuses = super::journal::JobStatusQueue::start(pool.clone());
    // In-process, a process that runs tasks holds what it accepts; an api-only
    // process leaves them to the schedulers of the worker processes.
    // In sqs mode the outbox holds them until the relay sent them.
    let holder = match handoff {
        Handoff::InProcess => role.runs_tasks().then(|| owner.clone()),
        Handoff::Outbox => Some(crate::persistence::outbox::OUTBOX_HOLDER.to_owned()),
    };
    let accepts = super::journal::AcceptQueue::start(pool.clone(), handoff, holder.clone());
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
        handoff,
        queue: queue.as_ref().map(|(q, _)| q.clone()),
        holder,
        media,
        call_timeout,
    });
    let cores = match (role.runs_tasks(), context.settings.worker_arbiters) {
        // An API process only keeps coordinators (cancel, retry); no platform workers.
        (false, _) => 0,
        (true, 0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        (true, n) => n,
    };
    // The arbiters live as long as the process: their handles keep them running.
    let arbiters: Vec<_> = (0..cores).map(|_| Arbiter::new().handle()).collect();
    let dispatcher_ctx = context.clone();
    let dispatcher = Supervisor::start(move |_| Dispatcher::new(dispatcher_ctx, arbiters));
    let scheduler = role.runs_tasks().then(|| {
        let scheduler_ctx = context.clone();
        let scheduler_dispatcher = dispatcher.clone();
        Supervisor::start(move |_| Scheduler::new(scheduler_ctx, scheduler_dispatcher))
    });
    let relay = queue.as_ref().map(|(task_queue, sqs)| {
        let relay_ctx = context.clone();
        let task_queue = task_queue.clone();
        let per_message = sqs.tasks_per_message.get() as usize;
        let window = sqs.max_queued_messages.get() as usize;
        Supervisor::start(move |_| OutboxRelay::new(relay_ctx, task_queue, per_message, window))
    });
    let shutdown_grace = queue.as_ref().map_or(Duration::ZERO, |(_, s)| {
        Duration::from_secs(u64::from(s.shutdown_grace_secs))
    });
    let ingress = match (&queue, role.runs_tasks()) {
        (Some((task_queue, sqs)), true) => {
            let ingress_ctx = context.clone();
            let task_queue = task_queue.clone();
            let sqs = sqs.clone();
            let ingress_dispatcher = dispatcher.clone();
            Some(Supervisor::start(move |_| {
                SqsIngress::new(ingress_ctx, task_queue, ingress_dispatcher, sqs)
            }))
        }
        _ => None,
    };
    let live = super::live_feed::LiveFeed::start(
        context.pool.clone(),
        context.settings.max_streams_per_user.get() as usize,
    );
    Engine {
        live,
        context,
        dispatcher,
        scheduler,
        relay,
        ingress,
        role,
        shutdown_grace,
        call_timeout,
    }
}
