//! Prasaran: people connect their social platforms once, write a post once,
//! and Prasaran publishes it to every connected platform.
//!
//! # Layout
//!
//! - [`cli`] — the command line (`serve`, `migrate`); `main.rs` only dispatches.
//! - [`settings`] — typed configuration from `config/*.toml` and `PRASARAN__*` variables.
//! - [`startup`] — builds the [`startup::Application`] that the binary and the tests run.
//! - [`http`] — actix-web handlers, the route table, errors, sessions, the OpenAPI document.
//! - [`actors`] — supervised actix actors that own background work.
//! - [`accounts`] — signup and login rules, password hashing off the event loop.
//! - [`connections`] — connecting platform accounts (OAuth2 + PKCE), key rotation.
//! - [`publishing`] — accepting a publish: targets, content rules, backlog, idempotency.
//! - [`quotas`] — what one account may publish, schedule, connect, mint and store.
//! - [`crypto`] — envelope encryption of secrets at rest.
//! - [`mail`] — outgoing mail: SMTP, or the development outbox.
//! - [`domain`] — validated values (`Email`, `Password`, `UserId`).
//! - [`adapters`] — platform code (Manch first); nothing platform-specific lives elsewhere.
//! - [`persistence`] — all SQL, the migrations, and the embedded PostgreSQL cluster.
//! - [`queue`] — the SQS task queue between API and worker processes (`queue.kind = "sqs"`).
//! - [`aws`] — the AWS SDK configuration SQS and KMS share.
//! - [`sandbox`] — stand-in platform servers (the Manch sandbox) for dev, tests, benchmarks.
//!
//! Dependencies point one way: http → services (accounts, connections,
//! publishing) → actors → adapters and persistence; `domain` is shared by all.

pub mod accounts;
pub mod actors;
pub mod adapters;
pub mod aws;
pub mod cli;
pub mod connections;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod mail;
pub mod media;
pub mod persistence;
pub mod publishing;
pub mod queue;
pub mod quotas;
pub mod sandbox;
pub mod settings;
pub mod startup;
pub mod telemetry;
