//! Password hashing with argon2id and the password policy.
//!
//! Invariant: a password is stored only as an argon2id PHC string; checking an unknown email spends the
//! same work as checking a known one, so response time does not reveal which emails have accounts.
//! Invariant: argon2 runs on tokio's blocking pool (`spawn_blocking`), never on the async workers, so a
//! burst of sign-ins does not stall the requests (evaluations) those workers serve.

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

/// Runs `work` on the blocking pool.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuthError::Unexpected(anyhow::anyhow!("password hashing task failed: {e}")))
}

/// Hashes `password` with argon2id and a random salt, as a PHC string, on the blocking pool.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    off_the_workers(move || hash_blocking(&password)).await?
}

/// Whether `password` matches the stored PHC string `hash` (a malformed hash matches nothing), checked
/// on the blocking pool; a failed task matches nothing.
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    off_the_workers(move || verify_blocking(&password, &hash))
        .await
        .unwrap_or(false)
}

/// Spends the work of one verification, for a login whose email has no password to check.
pub async fn verify_nothing(password: &str) {
    let password = password.to_owned();
    let _ = off_the_workers(move || {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let dummy = DUMMY.get_or_init(|| hash_blocking("not a real password").unwrap_or_default());
        verify_blocking(&password, dummy)
    })
    .await;
}

fn hash_blocking(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Unexpected(anyhow::anyhow!("hashing a password failed: {e}")))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").await.unwrap();
        let b = hash_password("correct horse battery").await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &a).await);
        assert!(!verify_password("correct horse batterY", &a).await);
        assert!(!verify_password("anything", "not a phc string").await);
    }

    /// On a single-threaded runtime, a task hashing inline would hold the only thread until it is done;
    /// on the blocking pool, the runtime keeps running other tasks meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_and_verifying_leave_the_async_worker_free() {
        let hash = hash_password("correct horse battery").await.unwrap();
        let hashing = tokio::spawn(async { hash_password("another long password").await });
        let verifying = tokio::spawn(async move { verify_password("wrong one here", &hash).await });
        let mut turns = 0u64;
        while !(hashing.is_finished() && verifying.is_finished()) {
            turns += 1;
            tokio::task::yield_now().await;
        }
        assert!(
            turns > 100,
            "the worker ran only {turns} turns while hashing"
        );
        assert!(hashing.await.unwrap().is_ok());
        assert!(!verifying.await.unwrap());
    }

    #[test]
    fn policy_names_the_problem() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("          ").is_err());
        assert!(check_password_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password_policy("long enough password").is_ok());
    }
}
