//! The local master-key provider: data keys wrapped with AES-256-GCM under a
//! 256-bit master key read from a file or the environment.
//!
//! Rotation: make a new key current and list the old one as retired; `prasaran
//! keys rotate` re-wraps every data key under the current one, after which the
//! retired key can be dropped.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use async_trait::async_trait;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{CryptoError, DataKey, KeyProvider};

const NONCE_LEN: usize = 12;

/// One master key and its id (a digest prefix, so the id reveals nothing).
pub struct LocalKey {
    id: String,
    cipher: Aes256Gcm,
}

impl LocalKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        Self {
            id: format!("local-{}", hex::encode(&digest[..8])),
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

pub struct LocalKeyProvider {
    current: LocalKey,
    retired: Vec<LocalKey>,
}

impl LocalKeyProvider {
    pub fn new(current: LocalKey, retired: Vec<LocalKey>) -> Self {
        Self { current, retired }
    }

    fn key(&self, id: &str) -> Option<&LocalKey> {
        std::iter::once(&self.current)
            .chain(self.retired.iter())
            .find(|k| k.id == id)
    }
}

#[async_trait]
impl KeyProvider for LocalKeyProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    fn current_key_id(&self) -> String {
        self.current.id.clone()
    }

    async fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: key.as_ref(),
                    aad,
                },
            )
            .map_err(|_| CryptoError::Provider("wrapping a data key failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    async fn unwrap(
        &self,
        key_id: &str,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, CryptoError> {
        let key = self.key(key_id).ok_or_else(|| CryptoError::UnknownKey {
            provider: self.name().into(),
            key_id: key_id.into(),
        })?;
        if wrapped.len() < NONCE_LEN {
            return Err(CryptoError::Integrity);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Integrity)?;
        let plain = Zeroizing::new(
            key.cipher
                .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad })
                .map_err(|_| CryptoError::Integrity)?,
        );
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Integrity)?;
        Ok(Zeroizing::new(bytes))
    }
}
