//! Stand-ins for real platforms, run as real HTTP servers: in dev beside the
//! app (so a person can connect something real), in tests and in benchmarks.
//! Nothing here is used to talk to a real platform; that is `adapters/`.

pub mod kept;
pub mod manch;
pub mod mastodon;
