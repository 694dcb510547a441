//! The actor system: long-lived actors that own background work. They are
//! started once under the actix System of `#[actix_web::main]` (or a test's
//! own System) and talk to the rest through messages; the rest of the program
//! reaches them only through [`engine::Engine`]'s methods. The long-lived ones
//! run under an actix supervisor; workers and coordinators, which stop when
//! their work is done, are started on demand instead.
//!
//! The publishing engine: a [`dispatcher::Dispatcher`] routes tasks to one
//! [`platform_worker::PlatformWorker`] per connection (spread over one arbiter
//! per core) and outcomes to one [`job_coordinator::JobCoordinator`] per job;
//! the [`scheduler::Scheduler`] recovers and hands out due work nobody holds;
//! the [`live_feed::LiveFeed`] turns PostgreSQL's change notifications into
//! live job status. Postgres holds the truth; mailboxes are only a cache of work.
//!
//! With `queue.kind = "sqs"` tasks travel between processes: the
//! [`outbox_relay::OutboxRelay`] sends the outbox to SQS and the
//! [`sqs_ingress::SqsIngress`] of each worker process receives them.

pub mod dispatcher;
pub mod engine;
pub mod health;
pub mod janitor;
pub mod job_coordinator;
pub mod journal;
pub mod live_feed;
pub mod metrics;
pub mod outbox_relay;
pub mod platform_worker;
pub mod scheduler;
pub mod sqs_ingress;
mod start;
pub mod targets;

pub use start::{EngineSetup, start_engine};
