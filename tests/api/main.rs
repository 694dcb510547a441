//! HTTP-level tests of the whole application against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod cli;
mod connections;
mod embedded_database;
mod errors;
mod helpers;
mod logging;
mod openapi;
mod publishing;
mod sandbox;
mod sessions;
mod tokens_at_rest;
