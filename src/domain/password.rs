//! A candidate password that meets the length rules. Never printed.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

/// Length rules only (NIST SP 800-63B): no composition rules.
pub struct Password(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least 12 characters")]
    TooShort,
    #[error("password must be at most 256 characters")]
    TooLong,
    #[error("password must not be only whitespace")]
    Blank,
}

impl Password {
    pub fn parse(raw: String) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if raw.trim().is_empty() {
            return Err(PasswordError::Blank);
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// A login attempt is checked against the stored hash whatever its length,
    /// so the length rules do not leak through a different error.
    pub fn unchecked(raw: String) -> Self {
        Self(SecretString::from(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str) -> Result<(), PasswordError> {
        Password::parse(raw.to_owned()).map(|_| ())
    }

    #[test]
    fn length_rules_count_characters_not_bytes() {
        assert_eq!(check("short"), Err(PasswordError::TooShort));
        assert_eq!(check("exactly12chr"), Ok(()));
        assert_eq!(check(&"é".repeat(12)), Ok(()));
        assert_eq!(check(&"a".repeat(256)), Ok(()));
        assert_eq!(check(&"a".repeat(257)), Err(PasswordError::TooLong));
        assert_eq!(check(&" ".repeat(20)), Err(PasswordError::Blank));
    }

    #[test]
    fn debug_does_not_show_the_password() {
        let password = Password::unchecked("hunter2hunter2".into());
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
