//! What the Mastodon sandbox keeps across restarts of a dev server (see
//! `sandbox::kept`): registered apps (their secrets by hash), accounts,
//! tokens (by hash) and statuses — what an instance keeps in its database —
//! so an account connected in dev stays connected. Media, authorization codes,
//! idempotency keys ("Redis"), rate counters and faults start afresh.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::{Account, App, State, Status, Token};

#[derive(Serialize, Deserialize)]
struct SavedApp {
    id: String,
    name: String,
    website: Option<String>,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    client_id: String,
    secret_hash: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct SavedToken {
    /// The token's SHA-256 (the state's own key).
    key: String,
    id: u64,
    client_id: String,
    account_id: Option<String>,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    revoked: bool,
}

#[derive(Serialize, Deserialize)]
pub struct Saved {
    apps: Vec<SavedApp>,
    accounts: Vec<Account>,
    tokens: Vec<SavedToken>,
    statuses: Vec<Status>,
    last_id: u64,
    next_app: u64,
    next_token: u64,
}

impl State {
    pub fn saved(&self) -> Saved {
        let mut accounts: Vec<Account> = self.accounts.values().cloned().collect();
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        let mut tokens: Vec<SavedToken> = self
            .tokens
            .iter()
            .map(|(key, t)| SavedToken {
                key: key.clone(),
                id: t.id,
                client_id: t.client_id.clone(),
                account_id: t.account_id.clone(),
                scopes: t.scopes.clone(),
                created_at: t.created_at,
                revoked: t.revoked,
            })
            .collect();
        tokens.sort_by_key(|t| t.id);
        Saved {
            apps: self
                .apps
                .iter()
                .map(|a| SavedApp {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    website: a.website.clone(),
                    redirect_uris: a.redirect_uris.clone(),
                    scopes: a.scopes.clone(),
                    client_id: a.client_id.clone(),
                    secret_hash: a.secret_hash.clone(),
                    created_at: a.created_at,
                })
                .collect(),
            accounts,
            tokens,
            statuses: self.statuses.clone(),
            last_id: self.last_id,
            next_app: self.next_app,
            next_token: self.next_token,
        }
    }

    /// `saved` over a fresh state with these faults.
    pub fn restored(saved: Saved, faults: super::state::Faults) -> Self {
        let mut state = State::new(faults);
        state.apps = saved
            .apps
            .into_iter()
            .map(|a| App {
                id: a.id,
                name: a.name,
                website: a.website,
                redirect_uris: a.redirect_uris,
                scopes: a.scopes,
                client_id: a.client_id,
                client_secret: String::new(),
                secret_hash: a.secret_hash,
                created_at: a.created_at,
            })
            .collect();
        state.accounts = saved
            .accounts
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        state.tokens = saved
            .tokens
            .into_iter()
            .map(|t| {
                let token = Token {
                    id: t.id,
                    token: String::new(),
                    client_id: t.client_id,
                    account_id: t.account_id,
                    scopes: t.scopes,
                    created_at: t.created_at,
                    revoked: t.revoked,
                };
                (t.key, token)
            })
            .collect();
        state.statuses = saved.statuses;
        state.last_id = saved.last_id;
        state.next_app = saved.next_app;
        state.next_token = saved.next_token;
        state
    }
}

impl crate::sandbox::kept::KeptState for super::Mastodon {
    type Saved = Saved;

    fn snapshot(&self) -> Saved {
        self.lock().saved()
    }
}
