//! Loading secret material named by the settings (the session cookie key).

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::ExposeSecret;

use super::{Environment, Settings};

/// actix-session needs a 64-byte key for signing plus encryption.
pub const SESSION_KEY_LEN: usize = 64;
/// AES-256 master key.
pub const MASTER_KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("configuration error: `{key}` must be base64 of exactly {len} bytes")]
    Malformed { key: &'static str, len: usize },
    #[error("configuration error: `{key}` file {path}: {source}")]
    File {
        key: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("configuration error: `{key}` is required in production")]
    Missing { key: &'static str },
    #[error("the key provider could not be set up: {0}")]
    Provider(String),
}

/// Where one secret key may come from.
struct KeySource<'a> {
    /// Config key, for messages.
    name: &'static str,
    value: Option<&'a secrecy::SecretString>,
    file: Option<&'a Path>,
    /// File generated in the data dir in dev.
    dev_file: &'static str,
    len: usize,
}

/// The session key from `session.key` or `session.key_file`; in dev, when
/// neither is set, one generated on first use into `<data_dir>/session.key`
/// (mode 0600) so sessions survive restarts.
pub fn load_or_create_session_key(settings: &Settings) -> Result<Vec<u8>, KeyError> {
    load_or_create(
        settings,
        KeySource {
            name: "session.key",
            value: settings.session.key.as_ref(),
            file: settings.session.key_file.as_deref(),
            dev_file: "session.key",
            len: SESSION_KEY_LEN,
        },
    )
}

/// The current local master key, likewise (`<data_dir>/master.key` in dev).
pub fn load_or_create_master_key(settings: &Settings) -> Result<Vec<u8>, KeyError> {
    let local = &settings.keys.local;
    load_or_create(
        settings,
        KeySource {
            name: "keys.local.master_key",
            value: local.master_key.as_ref(),
            file: local.master_key_file.as_deref(),
            dev_file: "master.key",
            len: MASTER_KEY_LEN,
        },
    )
}

/// A retired master key from its file.
pub fn read_master_key_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    read_key_file(path, "keys.local.retired_key_files", MASTER_KEY_LEN)
}

/// A fresh random key, base64, for `prasaran keys generate`.
pub fn generate_key_text(len: usize) -> String {
    let mut key = vec![0u8; len];
    rand::rng().fill_bytes(&mut key);
    STANDARD.encode(&key)
}

fn load_or_create(settings: &Settings, source: KeySource<'_>) -> Result<Vec<u8>, KeyError> {
    if let Some(key) = source.value {
        return decode(key.expose_secret(), source.name, source.len);
    }
    if let Some(path) = source.file {
        return read_key_file(path, source.name, source.len);
    }
    if settings.environment == Environment::Production {
        return Err(KeyError::Missing { key: source.name });
    }
    let path = settings.data_dir.join(source.dev_file);
    if path.exists() {
        return read_key_file(&path, source.name, source.len);
    }
    create_key_file(&path, source.name, source.len)
}

fn decode(text: &str, key: &'static str, len: usize) -> Result<Vec<u8>, KeyError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| KeyError::Malformed { key, len })?;
    if bytes.len() != len {
        return Err(KeyError::Malformed { key, len });
    }
    Ok(bytes)
}

fn file_error<'a>(
    path: &'a Path,
    key: &'static str,
) -> impl FnOnce(std::io::Error) -> KeyError + 'a {
    move |source| KeyError::File {
        key,
        path: path.display().to_string(),
        source,
    }
}

fn read_key_file(path: &Path, key: &'static str, len: usize) -> Result<Vec<u8>, KeyError> {
    let text = fs::read_to_string(path).map_err(file_error(path, key))?;
    decode(&text, key, len)
}

fn create_key_file(path: &Path, name: &'static str, len: usize) -> Result<Vec<u8>, KeyError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(file_error(path, name))?;
    }
    let mut key = vec![0u8; len];
    rand::rng().fill_bytes(&mut key);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(file_error(path, name))?;
    file.write_all(STANDARD.encode(&key).as_bytes())
        .map_err(file_error(path, name))?;
    Ok(key)
}
