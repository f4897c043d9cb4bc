//! Validated keys of flags and variants.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest key a flag or variant may have, as in Flagr.
pub(crate) const MAX_KEY_LEN: usize = 63;

/// Why a key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key was empty.
    #[error("key must not be empty")]
    Empty,
    /// The key was longer than [`MAX_KEY_LEN`] characters.
    #[error("key must be at most {MAX_KEY_LEN} characters, got {0}")]
    TooLong(usize),
    /// The key contained a character outside `[A-Za-z0-9_\-/.:]`.
    #[error("key may only contain letters, digits, '_', '-', '/', '.' and ':', found {0:?}")]
    BadCharacter(char),
}

/// Checks a flag or variant key against `^[\w\d\-/\.:]+$` with at most 63 characters.
pub fn valid_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    let len = key.chars().count();
    if len > MAX_KEY_LEN {
        return Err(KeyError::TooLong(len));
    }
    match key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | ':')))
    {
        Some(c) => Err(KeyError::BadCharacter(c)),
        None => Ok(()),
    }
}

/// A flag key that passed [`valid_key`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct FlagKey(String);

impl FlagKey {
    /// Validates `key`.
    pub fn parse(key: impl Into<String>) -> Result<Self, KeyError> {
        let key = key.into();
        valid_key(&key)?;
        Ok(Self(key))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for FlagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FlagKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_flagr_pattern() {
        assert!(valid_key("new-checkout").is_ok());
        assert!(valid_key("team/feature.v2:beta_1").is_ok());
        assert_eq!(valid_key(""), Err(KeyError::Empty));
        assert_eq!(valid_key("a b"), Err(KeyError::BadCharacter(' ')));
        assert_eq!(valid_key(&"k".repeat(64)), Err(KeyError::TooLong(64)));
        assert!(valid_key(&"k".repeat(63)).is_ok());
    }
}
