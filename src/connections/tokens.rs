//! Sealing and opening one connection's tokens: the associated data names the
//! row and the token kind, so a blob copied to another row or field won't open.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{Aad, CryptoError, Keyring, SealedBlob, open, seal};
use crate::domain::ConnectionId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    /// What the grant needs besides its tokens (e.g. a DPoP key), opaque here.
    GrantSecret,
}

impl TokenKind {
    pub fn field(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
            TokenKind::GrantSecret => "grant_secret",
        }
    }

    pub fn aad(self, id: ConnectionId) -> Aad {
        Aad::new("platform_connections", id, self.field())
    }
}

pub async fn seal_token(
    keyring: &Keyring,
    id: ConnectionId,
    kind: TokenKind,
    token: &SecretString,
) -> Result<SealedBlob, CryptoError> {
    seal(keyring, token.expose_secret().as_bytes(), &kind.aad(id)).await
}

/// The plaintext lives in a `SecretString` (zeroized on drop) from here on.
pub async fn open_token(
    keyring: &Keyring,
    id: ConnectionId,
    kind: TokenKind,
    blob: &SealedBlob,
) -> Result<SecretString, CryptoError> {
    let plain = open(keyring, blob, &kind.aad(id)).await?;
    let text = std::str::from_utf8(&plain).map_err(|_| CryptoError::Integrity)?;
    Ok(SecretString::from(text.to_owned()))
}
