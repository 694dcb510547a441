//! HTTP-level tests of the whole application against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod bluesky;
mod claims;
mod cli;
mod cloud;
mod connections;
mod embedded_database;
mod engine_races;
mod engine_scale;
mod errors;
mod helpers;
mod kms;
mod logging;
mod media;
mod media_s3;
mod openapi;
mod pds;
mod publishing;
mod sandbox;
mod scripted;
mod sessions;
mod sqs;
mod stage;
mod tokens_at_rest;
mod web_app;
