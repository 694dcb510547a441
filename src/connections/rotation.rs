//! `prasaran keys rotate`: re-wrap every stored data key under the keyring's
//! current provider and key. Ciphertexts stay as they are; each row is updated
//! under a row lock so a concurrent token refresh is never overwritten.

use sqlx::PgPool;

use super::{ConnectError, TokenKind};
use crate::crypto::{Aad, Keyring, SealedBlob, rewrap};
use crate::persistence::connections::{self, SealedTokens};
use crate::persistence::oauth_states::{self, StateSecret};
use crate::persistence::platform_clients::{self, ClientKey};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Blobs whose data key was re-wrapped.
    pub rewrapped: usize,
    /// Blobs already under the current key.
    pub current: usize,
}

async fn rewrap_one(
    keyring: &Keyring,
    blob: Option<SealedBlob>,
    aad: &Aad,
    report: &mut RotationReport,
) -> Result<Option<SealedBlob>, ConnectError> {
    let Some(blob) = blob else { return Ok(None) };
    match rewrap(keyring, &blob, aad).await? {
        Some(new) => {
            report.rewrapped += 1;
            Ok(Some(new))
        }
        None => {
            report.current += 1;
            Ok(Some(blob))
        }
    }
}

pub async fn rotate(pool: &PgPool, keyring: &Keyring) -> Result<RotationReport, ConnectError> {
    let mut report = RotationReport::default();
    for id in connections::ids_with_tokens(pool).await? {
        let mut tx = pool
            .begin()
            .await
            .map_err(crate::persistence::StoreError::from)?;
        let Some(sealed) = connections::lock_tokens(&mut tx, id).await? else {
            continue;
        };
        let access = rewrap_one(
            keyring,
            sealed.access_token,
            &TokenKind::Access.aad(id),
            &mut report,
        )
        .await?;
        let refresh = rewrap_one(
            keyring,
            sealed.refresh_token,
            &TokenKind::Refresh.aad(id),
            &mut report,
        )
        .await?;
        let grant_secret = rewrap_one(
            keyring,
            sealed.grant_secret,
            &TokenKind::GrantSecret.aad(id),
            &mut report,
        )
        .await?;
        connections::store_tokens(
            &mut tx,
            id,
            SealedTokens {
                access_token: access,
                refresh_token: refresh,
                grant_secret,
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(crate::persistence::StoreError::from)?;
    }
    for secret in [StateSecret::PkceVerifier, StateSecret::GrantSecret] {
        rotate_states(pool, keyring, secret, &mut report).await?;
    }
    for (platform_id, service_url, redirect_uri, blob) in platform_clients::all_sealed(pool).await?
    {
        let key = ClientKey {
            platform_id: &platform_id,
            service_url: &service_url,
            redirect_uri: &redirect_uri,
        };
        if let Some(new) = rewrap(keyring, &blob, &super::client_aad(&key)).await? {
            platform_clients::replace_sealed(pool, key, &blob, new).await?;
            report.rewrapped += 1;
        } else {
            report.current += 1;
        }
    }
    Ok(report)
}

async fn rotate_states(
    pool: &PgPool,
    keyring: &Keyring,
    secret: StateSecret,
    report: &mut RotationReport,
) -> Result<(), ConnectError> {
    for (hash, blob) in oauth_states::all_sealed(pool, secret).await? {
        let aad = Aad::new("oauth_states", hex::encode(&hash), secret.column());
        if let Some(new) = rewrap(keyring, &blob, &aad).await? {
            // Compare-and-set: a state consumed meanwhile is simply gone.
            oauth_states::replace_sealed(pool, secret, &hash, &blob, new).await?;
            report.rewrapped += 1;
        } else {
            report.current += 1;
        }
    }
    Ok(())
}
