//! Building the keyring that seals secrets at rest, from the settings.

use std::sync::Arc;

use crate::crypto::{Keyring, LocalKey, LocalKeyProvider};
use crate::settings::{
    KeyError, KeyProviderKind, MASTER_KEY_LEN, Settings, load_or_create_master_key,
    read_master_key_file,
};

fn local_key(bytes: &[u8]) -> Result<LocalKey, KeyError> {
    let array: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::Malformed {
        key: "keys.local.master_key",
        len: MASTER_KEY_LEN,
    })?;
    Ok(LocalKey::from_bytes(&array))
}

pub fn keyring(settings: &Settings) -> Result<Keyring, KeyError> {
    let current = local_key(&load_or_create_master_key(settings)?)?;
    let retired = settings
        .keys
        .local
        .retired_key_files
        .iter()
        .map(|path| local_key(&read_master_key_file(path)?))
        .collect::<Result<Vec<_>, _>>()?;
    let local = Arc::new(LocalKeyProvider::new(current, retired));
    Ok(match settings.keys.provider {
        KeyProviderKind::Local => Keyring::new(local),
    })
}
