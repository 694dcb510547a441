//! The Scheduler: at start-up it recovers what a stopped process left behind
//! (expired leases → `unconfirmed`; scheduled posts too late → `missed`), then
//! on a short tick hands out due tasks nobody holds: scheduled posts whose time
//! came, tasks of processes that died. Tasks a live process holds in its
//! mailboxes are never handed out again, so a long backlog costs nothing here.
//! The query only reads the partial index of unheld pending tasks.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::dispatcher::{Dispatcher, JobsChanged, TasksDue};
use super::engine::EngineContext;
use crate::persistence::outbox::{self, Handoff};
use crate::persistence::{publishing, tasks};

/// Tasks handed out per tick at most.
const BATCH: i64 = 2000;
/// How often running leases are checked for expiry (and this process says it lives).
const LEASE_SWEEP: Duration = Duration::from_secs(5);
/// A process silent this long is gone: the tasks it held are handed out again.
const PROCESS_SILENCE: Duration = Duration::from_secs(30);
/// A held task due this long ago and still not run is handed out again (its
/// holder lost it); checked every `OVERDUE_EVERY` lease sweeps.
const OVERDUE: Duration = Duration::from_secs(300);
const OVERDUE_EVERY: u32 = 12;

pub struct Scheduler {
    ctx: Arc<EngineContext>,
    dispatcher: Addr<Dispatcher>,
    busy: bool,
    shut_down: bool,
    /// Lease sweeps since the last look for overdue held tasks.
    sweeps: u32,
}

/// The process is stopping: hand out nothing more.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

impl Handler<Shutdown> for Scheduler {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) {
        self.shut_down = true;
    }
}

impl Scheduler {
    pub fn new(ctx: Arc<EngineContext>, dispatcher: Addr<Dispatcher>) -> Self {
        Self {
            ctx,
            dispatcher,
            busy: false,
            shut_down: false,
            sweeps: 0,
        }
    }

    fn recover(&mut self, ctx: &mut Context<Self>) {
        let engine = self.ctx.clone();
        let dispatcher = self.dispatcher.clone();
        let grace = Duration::from_secs(u64::from(engine.settings.missed_grace_secs.get()));
        ctx.wait(
            async move {
                tasks::heartbeat(&engine.pool, &engine.owner).await?;
                let orphans = tasks::release_orphans(&engine.pool, PROCESS_SILENCE).await?;
                if orphans > 0 {
                    tracing::info!(tasks = orphans, "released waiting tasks of processes that are gone");
                }
                let recovered = tasks::recover_expired_leases(&engine.pool).await?;
                let missed = tasks::mark_missed(&engine.pool, grace).await?;
                if recovered > 0 {
                    tracing::info!(tasks = recovered, "recovered tasks left running by a stopped process");
                }
                if !missed.is_empty() {
                    tracing::info!(jobs = missed.len(), "scheduled posts missed while no engine ran");
                    dispatcher.do_send(JobsChanged { jobs: missed });
                }
                Ok::<_, crate::persistence::StoreError>(())
            }
            .into_actor(self)
            .map(|result, act, _| {
                if let Err(error) = result {
                    tracing::warn!(error = %error, "start-up recovery failed; retrying on the next sweep");
                    act.ctx.health.error("scheduler", "scheduler", error.to_string());
                }
            }),
        );
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.shut_down {
            return;
        }
        self.ctx.health.beat("scheduler", "scheduler", "running", 0);
        if self.busy {
            return;
        }
        self.busy = true;
        let engine = self.ctx.clone();
        let dispatcher = self.dispatcher.clone();
        let stale = Duration::from_secs(u64::from(engine.settings.stale_dispatch_secs.get()));
        ctx.spawn(
            async move {
                let due = tasks::pick_due(
                    &engine.pool,
                    stale,
                    BATCH,
                    engine.handoff,
                    engine.holder.as_deref(),
                )
                .await?;
                // In sqs mode they went into the outbox; the relay sends them.
                if !due.is_empty() && engine.handoff == Handoff::InProcess {
                    dispatcher.do_send(TasksDue {
                        tasks: due
                            .into_iter()
                            .map(|t| (t.id, t.job_id, t.connection_id))
                            .collect(),
                    });
                }
                Ok::<_, crate::persistence::StoreError>(())
            }
            .into_actor(self)
            .map(|result, act, _| {
                act.busy = false;
                if let Err(error) = result {
                    tracing::warn!(error = %error, "looking for due tasks failed");
                    act.ctx
                        .health
                        .error("scheduler", "scheduler", error.to_string());
                }
            }),
        );
    }
}

impl Actor for Scheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.ctx
            .health
            .beat("scheduler", "scheduler", "recovering", 0);
        self.recover(ctx);
        let tick = Duration::from_millis(u64::from(self.ctx.settings.scheduler_tick_ms.get()));
        ctx.run_interval(tick, |act, ctx| act.tick(ctx));
        ctx.run_interval(LEASE_SWEEP, |act, ctx| {
            let engine = act.ctx.clone();
            act.sweeps += 1;
            let look_for_overdue = act.sweeps.is_multiple_of(OVERDUE_EVERY);
            ctx.spawn(
                async move {
                    if look_for_overdue {
                        match tasks::release_overdue(&engine.pool, OVERDUE).await {
                            Ok(0) => {}
                            Ok(n) => tracing::warn!(
                                tasks = n,
                                "tasks held by a live process were overdue; handed out again"
                            ),
                            Err(error) => {
                                tracing::warn!(error = %error, "looking for overdue tasks failed")
                            }
                        }
                    }
                    if let Err(error) = tasks::heartbeat(&engine.pool, &engine.owner).await {
                        tracing::warn!(error = %error, "recording this process's heartbeat failed");
                    }
                    match tasks::release_dead_holders(&engine.pool, PROCESS_SILENCE).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            tasks = n,
                            "a process went silent; released the tasks it held"
                        ),
                        Err(error) => {
                            tracing::warn!(error = %error, "looking for silent processes failed")
                        }
                    }
                    match tasks::recover_expired_leases(&engine.pool).await {
                        Ok(n) => engine.metrics.transitioned("unconfirmed", n),
                        Err(error) => tracing::warn!(error = %error, "lease sweep failed"),
                    }
                    if let Err(error) = publishing::delete_old_idempotency_keys(&engine.pool).await
                    {
                        tracing::warn!(error = %error, "idempotency key sweep failed");
                    }
                    if engine.handoff == Handoff::Outbox
                        && let Err(error) = outbox::purge_sent(&engine.pool).await
                    {
                        tracing::warn!(error = %error, "outbox sweep failed");
                    }
                }
                .into_actor(act),
            );
        });
    }
}

impl Supervised for Scheduler {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.busy = false;
        self.ctx.health.restarted("scheduler", "scheduler", None);
    }
}
