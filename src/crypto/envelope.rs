//! Sealing and opening values: the stored blob format.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{CryptoError, Keyring};

const FORMAT_VERSION: u8 = 1;

/// Associated data: what row and field a blob belongs to. Opening a blob with
/// another row's AAD fails, so blobs cannot be swapped between rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(String);

impl Aad {
    /// e.g. `Aad::new("platform_connections", id, "access_token")`.
    pub fn new(table: &str, row: impl std::fmt::Display, field: &str) -> Self {
        Self(format!("prasaran:{table}:{row}:{field}"))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A sealed value as stored (JSON in a `jsonb` column). Base64 fields keep the
/// row readable by operators; nothing in it is secret without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBlob {
    /// Format version, for future changes of this layout.
    pub v: u8,
    /// Key provider that wrapped the data key (`local`, `kms`).
    pub provider: String,
    /// Which of the provider's keys wrapped it.
    pub key_id: String,
    /// The wrapped data key, base64.
    pub wrapped_key: String,
    /// AES-GCM nonce, base64.
    pub nonce: String,
    /// Ciphertext with tag, base64.
    pub ciphertext: String,
}

/// Encrypts `plaintext` under a fresh data key from the keyring's current provider.
pub async fn seal(
    keyring: &Keyring,
    plaintext: &[u8],
    aad: &Aad,
) -> Result<SealedBlob, CryptoError> {
    let provider = keyring.current();
    let (data_key, wrapped) = provider.generate_data_key(aad.as_bytes()).await?;
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let cipher = Aes256Gcm::new(data_key.as_ref().into());
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Provider("encryption failed".into()))?;
    Ok(SealedBlob {
        v: FORMAT_VERSION,
        provider: provider.name().to_owned(),
        key_id: provider.current_key_id(),
        wrapped_key: STANDARD.encode(wrapped),
        nonce: STANDARD.encode(nonce),
        ciphertext: STANDARD.encode(ciphertext),
    })
}

/// Decrypts a blob sealed for `aad`. The plaintext is wiped when dropped.
pub async fn open(
    keyring: &Keyring,
    blob: &SealedBlob,
    aad: &Aad,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if blob.v != FORMAT_VERSION {
        return Err(CryptoError::Version(blob.v));
    }
    let data_key = unwrap_key(keyring, blob, aad).await?;
    let nonce: [u8; 12] = decode(&blob.nonce)?
        .try_into()
        .map_err(|_| CryptoError::Integrity)?;
    let cipher = Aes256Gcm::new(data_key.as_ref().into());
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &decode(&blob.ciphertext)?,
                aad: aad.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Integrity)
}

/// The same blob with its data key wrapped by the keyring's current provider and
/// key; the ciphertext is untouched. `None` when it already is.
pub async fn rewrap(
    keyring: &Keyring,
    blob: &SealedBlob,
    aad: &Aad,
) -> Result<Option<SealedBlob>, CryptoError> {
    let current = keyring.current();
    if blob.provider == current.name() && blob.key_id == current.current_key_id() {
        return Ok(None);
    }
    let data_key = unwrap_key(keyring, blob, aad).await?;
    let wrapped = current.wrap(&data_key, aad.as_bytes()).await?;
    Ok(Some(SealedBlob {
        provider: current.name().to_owned(),
        key_id: current.current_key_id(),
        wrapped_key: STANDARD.encode(wrapped),
        ..blob.clone()
    }))
}

async fn unwrap_key(
    keyring: &Keyring,
    blob: &SealedBlob,
    aad: &Aad,
) -> Result<super::DataKey, CryptoError> {
    let provider = keyring
        .provider(&blob.provider)
        .ok_or_else(|| CryptoError::UnknownKey {
            provider: blob.provider.clone(),
            key_id: blob.key_id.clone(),
        })?;
    provider
        .unwrap(&blob.key_id, &decode(&blob.wrapped_key)?, aad.as_bytes())
        .await
}

fn decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    STANDARD.decode(text).map_err(|_| CryptoError::Integrity)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::crypto::{LocalKey, LocalKeyProvider};

    fn keyring(seed: u8) -> Keyring {
        Keyring::new(Arc::new(LocalKeyProvider::new(
            LocalKey::from_bytes(&[seed; 32]),
            vec![],
        )))
    }

    #[tokio::test]
    async fn round_trip_with_fresh_keys_and_nonces() {
        let keys = keyring(1);
        let aad = Aad::new("t", 1, "f");
        let a = seal(&keys, b"secret", &aad).await.unwrap();
        let b = seal(&keys, b"secret", &aad).await.unwrap();
        assert_ne!(a.wrapped_key, b.wrapped_key, "a fresh data key per write");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(open(&keys, &a, &aad).await.unwrap().as_slice(), b"secret");
        assert_eq!(a.v, 1);
        assert_eq!(a.provider, "local");
    }

    #[tokio::test]
    async fn wrong_aad_key_or_version_fails() {
        let keys = keyring(1);
        let aad = Aad::new("t", 1, "f");
        let blob = seal(&keys, b"secret", &aad).await.unwrap();
        assert!(matches!(
            open(&keys, &blob, &Aad::new("t", 2, "f")).await,
            Err(CryptoError::Integrity)
        ));
        assert!(matches!(
            open(&keyring(2), &blob, &aad).await,
            Err(CryptoError::UnknownKey { .. })
        ));
        let future = SealedBlob { v: 9, ..blob };
        assert!(matches!(
            open(&keys, &future, &aad).await,
            Err(CryptoError::Version(9))
        ));
    }
}
