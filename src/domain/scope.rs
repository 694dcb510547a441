//! What an API token may do. A cookie session may do everything.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Scope {
    /// Publish, schedule, retry and cancel posts; upload and change media.
    #[serde(rename = "posts:write")]
    PostsWrite,
    /// Read posts, jobs, their events and media.
    #[serde(rename = "posts:read")]
    PostsRead,
    /// Connect, list and disconnect platform accounts.
    #[serde(rename = "connections")]
    Connections,
    /// Create, list and revoke API tokens.
    #[serde(rename = "tokens")]
    Tokens,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::PostsWrite,
        Scope::PostsRead,
        Scope::Connections,
        Scope::Tokens,
    ];

    /// What a new token gets when its creator names no scopes: everything
    /// but making more tokens.
    pub const DEFAULT: [Scope; 3] = [Scope::PostsWrite, Scope::PostsRead, Scope::Connections];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PostsWrite => "posts:write",
            Scope::PostsRead => "posts:read",
            Scope::Connections => "connections",
            Scope::Tokens => "tokens",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, small enough to copy with every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn all() -> Self {
        Self::from_iter(Scope::ALL)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Every scope of `self` is also in `other`.
    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sets_hold_what_was_put_in() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
        let default = Scopes::from_iter(Scope::DEFAULT);
        assert!(!default.contains(Scope::Tokens));
        assert!(default.is_subset_of(Scopes::all()));
        assert!(!Scopes::all().is_subset_of(default));
        assert_eq!(default.iter().count(), 3);
    }
}
