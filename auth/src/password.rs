//! Password hashing with argon2id and the password policy.
//!
//! Invariant: a password is stored only as an argon2id PHC string; checking an unknown email spends the
//! same work as checking a known one, so response time does not reveal which emails have accounts.

use crate::AuthError;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most bytes a password may have (argon2 accepts more, but nobody types more).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Checks `password` against the policy.
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    let reason = if password.chars().count() < MIN_PASSWORD_CHARS {
        format!("a password needs at least {MIN_PASSWORD_CHARS} characters")
    } else if password.len() > MAX_PASSWORD_BYTES {
        format!("a password has at most {MAX_PASSWORD_BYTES} bytes")
    } else if password.trim().is_empty() {
        "a password cannot be only spaces".to_owned()
    } else {
        return Ok(());
    };
    Err(AuthError::InvalidInput {
        field: "password",
        reason,
    })
}

/// Hashes `password` with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Unexpected(anyhow::anyhow!("hashing a password failed: {e}")))
}

/// Whether `password` matches the stored PHC string `hash` (a malformed hash matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Spends the work of one verification, for a login whose email has no password to check.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn policy_names_the_problem() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("          ").is_err());
        assert!(check_password_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password_policy("long enough password").is_ok());
    }
}
