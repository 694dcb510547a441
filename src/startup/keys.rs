//! Building the keyring that seals secrets at rest, from the settings.

use std::sync::Arc;

use crate::crypto::{Keyring, KmsKeyProvider, LocalKey, LocalKeyProvider};
use crate::settings::{
    Environment, KeyError, KeyProviderKind, MASTER_KEY_LEN, Settings, load_or_create_master_key,
    read_master_key_file,
};

fn local_key(bytes: &[u8]) -> Result<LocalKey, KeyError> {
    let array: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::Malformed {
        key: "keys.local.master_key",
        len: MASTER_KEY_LEN,
    })?;
    Ok(LocalKey::from_bytes(&array))
}

/// The keyring of the configured provider. Under KMS the local master key, when
/// there is one (always in dev), stays as a fallback so blobs sealed before the
/// move open until `prasaran keys rotate` has moved them.
pub async fn keyring(settings: &Settings) -> Result<Keyring, KeyError> {
    match settings.keys.provider {
        KeyProviderKind::Local => Ok(Keyring::new(local_provider(settings)?)),
        KeyProviderKind::Kms => {
            let kms = KmsKeyProvider::connect(&settings.keys.kms)
                .await
                .map_err(|e| KeyError::Provider(e.to_string()))?;
            let keyring = Keyring::new(Arc::new(kms));
            let local = &settings.keys.local;
            let has_local = settings.environment != Environment::Production
                || local.master_key.is_some()
                || local.master_key_file.is_some();
            Ok(if has_local {
                keyring.with_fallback(local_provider(settings)?)
            } else {
                keyring
            })
        }
    }
}

fn local_provider(settings: &Settings) -> Result<Arc<LocalKeyProvider>, KeyError> {
    let current = local_key(&load_or_create_master_key(settings)?)?;
    let retired = settings
        .keys
        .local
        .retired_key_files
        .iter()
        .map(|path| local_key(&read_master_key_file(path)?))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(LocalKeyProvider::new(current, retired)))
}
