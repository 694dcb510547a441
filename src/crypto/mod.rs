//! Secrets at rest: envelope encryption of platform tokens and OAuth verifiers.
//!
//! Every write draws a fresh 256-bit data key, encrypts with AES-256-GCM under a
//! fresh nonce and associated data that binds the blob to its row, and stores the
//! data key wrapped by a [`KeyProvider`]. The blob records its format version,
//! provider and key id, so keys rotate (and a KMS provider can join) without a
//! data migration.

mod envelope;
mod key_provider;
mod kms;
mod local_key;

pub use envelope::{Aad, SealedBlob, open, rewrap, seal};
pub use key_provider::{DataKey, KeyProvider, Keyring};
pub use kms::KmsKeyProvider;
pub use local_key::{LocalKey, LocalKeyProvider};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Authentication failed: wrong key, wrong associated data, or a tampered blob.
    #[error("a sealed value could not be opened (wrong key, wrong row, or tampered)")]
    Integrity,
    #[error("no key provider `{provider}` with key `{key_id}` is configured")]
    UnknownKey { provider: String, key_id: String },
    #[error("unsupported sealed-value format version {0}")]
    Version(u8),
    #[error("key provider failed: {0}")]
    Provider(String),
}
