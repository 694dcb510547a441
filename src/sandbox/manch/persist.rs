//! What the Manch sandbox keeps across restarts of a dev server (see
//! `sandbox::kept`): accounts, grants, tokens (by hash) and posts, so
//! connections stay active and published posts stay visible. Media, codes,
//! rate windows and faults start afresh.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::state::{AccessToken, Account, Grant, Post, RefreshToken, State};

#[derive(Serialize, Deserialize)]
struct SavedGrant {
    id: u64,
    account_id: String,
    scope: String,
    revoked: bool,
}

#[derive(Serialize, Deserialize)]
struct SavedToken {
    /// The token's SHA-256 (the state's own key).
    key: String,
    grant: u64,
    /// Access tokens: seconds left when saved.
    expires_in_s: Option<u64>,
    /// Refresh tokens: already exchanged.
    spent: bool,
}

/// What survives a restart.
#[derive(Serialize, Deserialize)]
pub struct Saved {
    accounts: Vec<Account>,
    grants: Vec<SavedGrant>,
    next_grant: u64,
    access: Vec<SavedToken>,
    refresh: Vec<SavedToken>,
    posts: Vec<Post>,
}

impl State {
    pub fn saved(&self) -> Saved {
        let now = Instant::now();
        let mut grants: Vec<SavedGrant> = self
            .grants
            .iter()
            .map(|(id, g)| SavedGrant {
                id: *id,
                account_id: g.account_id.clone(),
                scope: g.scope.clone(),
                revoked: g.revoked,
            })
            .collect();
        grants.sort_by_key(|g| g.id);
        let mut access: Vec<SavedToken> = self
            .access
            .iter()
            .filter(|(_, t)| t.expires > now)
            .map(|(key, t)| SavedToken {
                key: key.clone(),
                grant: t.grant,
                expires_in_s: Some(t.expires.duration_since(now).as_secs()),
                spent: false,
            })
            .collect();
        access.sort_by(|a, b| a.key.cmp(&b.key));
        let mut refresh: Vec<SavedToken> = self
            .refresh
            .iter()
            .map(|(key, t)| SavedToken {
                key: key.clone(),
                grant: t.grant,
                expires_in_s: None,
                spent: t.spent,
            })
            .collect();
        refresh.sort_by(|a, b| a.key.cmp(&b.key));
        let mut accounts: Vec<Account> = self.accounts.values().cloned().collect();
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        Saved {
            accounts,
            grants,
            next_grant: self.next_grant,
            access,
            refresh,
            posts: self.posts.clone(),
        }
    }

    pub fn restored(saved: Saved) -> Self {
        let mut state = State::default();
        let now = Instant::now();
        state.accounts = saved
            .accounts
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        for g in saved.grants {
            state.grants.insert(
                g.id,
                Grant {
                    account_id: g.account_id,
                    scope: g.scope,
                    revoked: g.revoked,
                },
            );
        }
        state.next_grant = saved.next_grant;
        for t in saved.access {
            let left = Duration::from_secs(t.expires_in_s.unwrap_or_default());
            state.access.insert(
                t.key,
                AccessToken {
                    grant: t.grant,
                    expires: now + left,
                },
            );
        }
        for t in saved.refresh {
            state.refresh.insert(
                t.key,
                RefreshToken {
                    grant: t.grant,
                    spent: t.spent,
                },
            );
        }
        for (index, post) in saved.posts.iter().enumerate() {
            let hashes = post.media.iter().map(|m| m.sha256.clone()).collect();
            *state
                .by_content
                .entry((post.account_id.clone(), post.text.clone(), hashes))
                .or_insert(0) += 1;
            if let Some(key) = &post.idempotency_key {
                state
                    .by_key
                    .entry((post.account_id.clone(), key.clone()))
                    .or_insert(index);
            }
        }
        state.posts = saved.posts;
        state
    }
}

impl crate::sandbox::kept::KeptState for super::Sandbox {
    type Saved = Saved;

    fn snapshot(&self) -> Saved {
        self.lock().saved()
    }
}
