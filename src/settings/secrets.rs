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

#[derive(Debug, thiserror::Error)]
pub enum SessionKeyError {
    #[error("configuration error: `session.key` must be base64 of exactly 64 bytes")]
    Malformed,
    #[error("configuration error: `session.key_file` {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "configuration error: `session.key` is required in production (set PRASARAN__SESSION__KEY)"
    )]
    Missing,
}

/// The session key from `session.key` or `session.key_file`; in dev, when
/// neither is set, one generated on first use into `<data_dir>/session.key`
/// (mode 0600) so sessions survive restarts.
pub fn load_or_create_session_key(settings: &Settings) -> Result<Vec<u8>, SessionKeyError> {
    if let Some(key) = &settings.session.key {
        return decode(key.expose_secret());
    }
    if let Some(path) = &settings.session.key_file {
        return read_key_file(path);
    }
    if settings.environment == Environment::Production {
        return Err(SessionKeyError::Missing);
    }
    let path = settings.data_dir.join("session.key");
    if path.exists() {
        return read_key_file(&path);
    }
    create_key_file(&path)
}

fn decode(text: &str) -> Result<Vec<u8>, SessionKeyError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| SessionKeyError::Malformed)?;
    if bytes.len() != SESSION_KEY_LEN {
        return Err(SessionKeyError::Malformed);
    }
    Ok(bytes)
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> SessionKeyError + '_ {
    move |source| SessionKeyError::File {
        path: path.display().to_string(),
        source,
    }
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, SessionKeyError> {
    let text = fs::read_to_string(path).map_err(file_error(path))?;
    decode(&text)
}

fn create_key_file(path: &Path) -> Result<Vec<u8>, SessionKeyError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(file_error(path))?;
    }
    let mut key = vec![0u8; SESSION_KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(file_error(path))?;
    file.write_all(STANDARD.encode(&key).as_bytes())
        .map_err(file_error(path))?;
    Ok(key)
}
