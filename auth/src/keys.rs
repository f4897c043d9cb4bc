//! API key format, hashing and creation.
//!
//! A key is `flg_<kind>_<43 base62 characters>` (256 bits of randomness). Only its SHA-256 is stored;
//! the plaintext is returned once, at creation.

use crate::AuthError;
use flagent_storage::entities::api_key;
use flagent_storage::{Connection, Scoped};
use flagent_types::{Scope, ScopeSet};
use sha2::{Digest, Sha256};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Characters of the key kept for display and logs.
const PREFIX_LEN: usize = 14;

/// The hex SHA-256 of a key, as stored.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("{digest:x}")
}

/// A key to create.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Display name.
    pub name: String,
    /// Granted scopes (at least one).
    pub scopes: ScopeSet,
    /// The project the key belongs to.
    pub project_id: i64,
    /// The environment it is bound to; `None` for every environment of the project.
    pub environment_id: Option<i64>,
    /// Expiry, in milliseconds since the epoch.
    pub expires_at: Option<i64>,
    /// A chosen plaintext (scripted installs); generated when absent.
    pub plaintext: Option<String>,
}

/// A created key: the plaintext, shown once, and its stored row.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The full key; it cannot be recovered later.
    pub plaintext: String,
    /// The stored row (hash only).
    pub row: api_key::Model,
}

fn kind(scopes: ScopeSet) -> &'static str {
    if scopes.contains(Scope::Scim) {
        "scim"
    } else if scopes.contains(Scope::Admin)
        || scopes.contains(Scope::Write)
        || scopes.contains(Scope::Read)
    {
        "mgmt"
    } else if scopes.contains(Scope::Evaluate) {
        "eval"
    } else {
        "client"
    }
}

/// 43 random base62 characters (256 bits), for keys and one-time tokens.
pub(crate) fn random_base62() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..43)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

fn generate(scopes: ScopeSet) -> String {
    format!("flg_{}_{}", kind(scopes), random_base62())
}

/// Checks a chosen plaintext key.
fn check_plaintext(key: &str) -> Result<(), AuthError> {
    let ok = key.starts_with("flg_")
        && key.len() >= 24
        && key.len() <= 128
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidKeySpec(
            "a chosen key must start with \"flg_\", be 24 to 128 characters, and use only letters, digits and '_'"
                .to_owned(),
        ))
    }
}

/// Creates a key in `db`'s tenant (over the pool or inside a transaction) and returns its plaintext once.
pub async fn create_key(
    db: &Scoped<impl Connection>,
    new: NewKey,
    now: i64,
) -> Result<CreatedKey, AuthError> {
    if new.scopes == ScopeSet::default() {
        return Err(AuthError::InvalidKeySpec(
            "a key needs at least one scope".to_owned(),
        ));
    }
    let plaintext = match new.plaintext {
        Some(p) => {
            check_plaintext(&p)?;
            p
        }
        None => generate(new.scopes),
    };
    let row = db
        .insert_row(api_key::New {
            project_id: new.project_id,
            environment_id: new.environment_id,
            name: new.name,
            prefix: plaintext.chars().take(PREFIX_LEN).collect(),
            key_hash: hash_key(&plaintext),
            scopes: new.scopes.to_csv(),
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
            last_used_at: None,
        })
        .await?;
    Ok(CreatedKey { plaintext, row })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_kind_and_entropy() {
        let a = generate(ScopeSet::of(&[Scope::Evaluate]));
        let b = generate(ScopeSet::of(&[Scope::Evaluate]));
        assert!(a.starts_with("flg_eval_") && a.len() == "flg_eval_".len() + 43);
        assert_ne!(a, b);
        assert!(generate(ScopeSet::of(&[Scope::Admin])).starts_with("flg_mgmt_"));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn chosen_plaintext_is_checked() {
        assert!(check_plaintext("flg_mgmt_0123456789abcdefghij").is_ok());
        assert!(check_plaintext("short").is_err());
        assert!(check_plaintext("flg_with-dash-0123456789abcdef").is_err());
    }
}
