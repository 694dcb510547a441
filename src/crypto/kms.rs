//! AWS KMS as the key provider: `GenerateDataKey` (AES_256) and `Decrypt`,
//! both bound to the blob's associated data through the encryption context, so
//! a wrapped key copied to another row cannot be unwrapped there. Unwrapped
//! keys are kept briefly in memory to spare KMS a call per token read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CryptoError;
use super::key_provider::{DataKey, KeyProvider};
use crate::aws::{describe, sdk_config};
use crate::settings::KmsSettings;

/// The encryption-context entry that carries the blob's associated data.
const CONTEXT_KEY: &str = "prasaran:aad";
/// Unwrapped keys remembered at most (oldest are dropped first).
const CACHE_LIMIT: usize = 10_000;

pub struct KmsKeyProvider {
    client: Client,
    key_id: String,
    ttl: Duration,
    cache: Mutex<HashMap<[u8; 32], (Instant, DataKey)>>,
}

fn context(aad: &[u8]) -> HashMap<String, String> {
    use base64::Engine;
    // Readable in KMS audit logs when the associated data is text (it is: table:row:field).
    let value = match std::str::from_utf8(aad) {
        Ok(text) => text.to_owned(),
        Err(_) => base64::engine::general_purpose::STANDARD.encode(aad),
    };
    HashMap::from([(CONTEXT_KEY.to_owned(), value)])
}

fn provider_error<E: std::error::Error>(error: E) -> CryptoError {
    CryptoError::Provider(format!("KMS: {}", describe(&error)))
}

fn data_key(bytes: &[u8]) -> Result<DataKey, CryptoError> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| {
        CryptoError::Provider("KMS returned a data key that is not 32 bytes".into())
    })?;
    Ok(Zeroizing::new(array))
}

impl KmsKeyProvider {
    pub async fn connect(settings: &KmsSettings) -> Result<Self, CryptoError> {
        let key_id = settings
            .key_id
            .clone()
            .ok_or_else(|| CryptoError::Provider("keys.kms.key_id is not set".into()))?;
        let config = sdk_config(
            &settings.region,
            settings.endpoint_url.as_ref(),
            Duration::from_secs(10),
        )
        .await;
        Ok(Self {
            client: Client::new(&config),
            key_id,
            ttl: Duration::from_secs(u64::from(settings.data_key_cache_secs)),
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cache_key(wrapped: &[u8], aad: &[u8]) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update((wrapped.len() as u64).to_be_bytes());
        hash.update(wrapped);
        hash.update(aad);
        hash.finalize().into()
    }

    fn cached(&self, slot: &[u8; 32]) -> Option<DataKey> {
        let cache = self.cache.lock().ok()?;
        let (at, key) = cache.get(slot)?;
        (at.elapsed() < self.ttl).then(|| key.clone())
    }

    fn remember(&self, slot: [u8; 32], key: &DataKey) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                let ttl = self.ttl;
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
            }
            cache.insert(slot, (Instant::now(), key.clone()));
        }
    }
}

#[async_trait]
impl KeyProvider for KmsKeyProvider {
    fn name(&self) -> &'static str {
        "kms"
    }

    fn current_key_id(&self) -> String {
        self.key_id.clone()
    }

    async fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let answer = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(key.to_vec()))
            .set_encryption_context(Some(context(aad)))
            .send()
            .await
            .map_err(provider_error)?;
        answer
            .ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| CryptoError::Provider("KMS Encrypt returned no ciphertext".into()))
    }

    async fn unwrap(
        &self,
        key_id: &str,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, CryptoError> {
        let slot = Self::cache_key(wrapped, aad);
        if let Some(key) = self.cached(&slot) {
            return Ok(key);
        }
        // A symmetric KMS ciphertext names its own key; naming the key recorded
        // with it too makes KMS refuse a ciphertext made under any other key
        // (AWS's advice). The context must match the one it was made with.
        let answer = self
            .client
            .decrypt()
            .key_id(key_id)
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .set_encryption_context(Some(context(aad)))
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(e) if e.is_invalid_ciphertext_exception() => CryptoError::Integrity,
                _ => provider_error(error),
            })?;
        let plaintext = answer
            .plaintext()
            .ok_or_else(|| CryptoError::Provider("KMS Decrypt returned no plaintext".into()))?;
        let key = data_key(plaintext.as_ref())?;
        self.remember(slot, &key);
        Ok(key)
    }

    async fn generate_data_key(&self, aad: &[u8]) -> Result<(DataKey, Vec<u8>), CryptoError> {
        let answer = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context(aad)))
            .send()
            .await
            .map_err(provider_error)?;
        let key = data_key(
            answer
                .plaintext()
                .ok_or_else(|| CryptoError::Provider("KMS returned no plaintext key".into()))?
                .as_ref(),
        )?;
        let wrapped = answer
            .ciphertext_blob()
            .ok_or_else(|| CryptoError::Provider("KMS returned no wrapped key".into()))?
            .as_ref()
            .to_vec();
        Ok((key, wrapped))
    }
}
