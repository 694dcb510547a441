//! Who wraps data keys, and the set of providers a process can unwrap with.

use std::sync::Arc;

use async_trait::async_trait;
use rand::RngCore;
use zeroize::Zeroizing;

use super::CryptoError;

/// A plaintext AES-256 data key, wiped from memory when dropped.
pub type DataKey = Zeroizing<[u8; 32]>;

/// Wraps and unwraps data keys. `aad` is the blob's associated data: providers
/// that can bind it (AES-GCM, KMS encryption context) must.
#[async_trait]
pub trait KeyProvider: Send + Sync {
    /// Stable name recorded in every blob (`local`, later `kms`).
    fn name(&self) -> &'static str;

    /// Id of the key new data keys are wrapped under.
    fn current_key_id(&self) -> String;

    async fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>, CryptoError>;

    async fn unwrap(
        &self,
        key_id: &str,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, CryptoError>;

    /// A fresh data key and its wrapped form. KMS overrides this with GenerateDataKey.
    async fn generate_data_key(&self, aad: &[u8]) -> Result<(DataKey, Vec<u8>), CryptoError> {
        let mut key: DataKey = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut());
        let wrapped = self.wrap(&key, aad).await?;
        Ok((key, wrapped))
    }
}

/// The provider new blobs are sealed with, plus every provider old blobs may name.
#[derive(Clone)]
pub struct Keyring {
    current: Arc<dyn KeyProvider>,
    others: Vec<Arc<dyn KeyProvider>>,
}

impl Keyring {
    pub fn new(current: Arc<dyn KeyProvider>) -> Self {
        Self {
            current,
            others: Vec::new(),
        }
    }

    /// Adds a provider that can still open old blobs (e.g. the local key after moving to KMS).
    pub fn with_fallback(mut self, provider: Arc<dyn KeyProvider>) -> Self {
        self.others.push(provider);
        self
    }

    pub fn current(&self) -> &dyn KeyProvider {
        self.current.as_ref()
    }

    pub fn provider(&self, name: &str) -> Option<&dyn KeyProvider> {
        std::iter::once(&self.current)
            .chain(self.others.iter())
            .find(|p| p.name() == name)
            .map(|p| p.as_ref())
    }
}
