//! The actor system: long-lived, supervised actors that own background work.
//! They are started once under the actix System of `#[actix_web::main]`
//! (or a test's own System) and talk to the rest through messages.

pub mod janitor;
