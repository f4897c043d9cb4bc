//! Secrets kept in the database (identity providers' client secrets and private keys, and later Slack
//! tokens, webhook and Stripe secrets), sealed with XChaCha20-Poly1305 under the server's secret keys.
//!
//! Invariant: a sealed value names the key it was sealed with (`v1.<key id>.<base64 nonce ‖ ciphertext>`)
//! and is bound to where it is kept (the associated data, such as `tenant:7:sso_provider`), so a value
//! copied to another tenant's row does not open. Keys rotate by putting a new key first in
//! `auth.secret_keys`: new values are sealed with it, older ones still open with the key they name, and
//! [`SecretBox::is_current`] tells which to seal again. A sealed value is never logged, and its plain
//! text never leaves the process except towards the service it is for.

use crate::AuthError;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

/// The version prefix of a sealed value.
const VERSION: &str = "v1";
/// Bytes of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;

/// The server's secret keys, the first one current.
#[derive(Clone)]
pub struct SecretBox {
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("SecretBox").field("keys", &ids).finish()
    }
}

/// Why a secret key or a sealed value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// A configured key is not `<id>:<base64 of 32 bytes>`.
    #[error("secret key {0}: {1}")]
    BadKey(usize, String),
    /// No key is configured.
    #[error("no secret key is configured")]
    NoKey,
    /// The value names a key that is not configured (removed too early from `auth.secret_keys`).
    #[error("sealed with secret key {0:?}, which is not configured")]
    UnknownKey(String),
    /// The value is too long to seal.
    #[error("the value is too long to seal")]
    TooLong,
    /// The value is not a sealed value, or was altered, or belongs elsewhere.
    #[error("the sealed value does not open")]
    Corrupt,
}

impl From<SecretError> for AuthError {
    fn from(e: SecretError) -> Self {
        AuthError::Unexpected(anyhow::anyhow!(e))
    }
}

impl SecretBox {
    /// Keys from their configured form, `<id>:<base64 of 32 random bytes>`, the first one current.
    pub fn from_config<S: AsRef<str>>(keys: &[S]) -> Result<SecretBox, SecretError> {
        let mut parsed = Vec::with_capacity(keys.len());
        for (index, text) in keys.iter().enumerate() {
            let bad = |why: &str| SecretError::BadKey(index, why.to_owned());
            let (id, encoded) = text
                .as_ref()
                .split_once(':')
                .ok_or_else(|| bad("expected <id>:<base64 key>"))?;
            let id_ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !id_ok {
                return Err(bad("the id has 1 to 32 letters, digits, '-' or '_'"));
            }
            if parsed.iter().any(|(other, _)| other == id) {
                return Err(bad("the id is used twice"));
            }
            let bytes = STANDARD
                .decode(encoded.trim())
                .map_err(|_| bad("the key is not base64"))?;
            if bytes.len() != 32 {
                return Err(bad("the key must be 32 bytes"));
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| bad("the key must be 32 bytes"))?;
            parsed.push((id.to_owned(), cipher));
        }
        if parsed.is_empty() {
            return Err(SecretError::NoKey);
        }
        Ok(SecretBox { keys: parsed })
    }

    /// A new random key in its configured form, named `id`.
    pub fn generate_key(id: &str) -> String {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        format!("{id}:{}", STANDARD.encode(key))
    }

    /// Seals `plain` for the place `context` names.
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, SecretError> {
        let (id, cipher) = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption fails only for messages longer than the cipher's limit (256 GiB).
        let sealed = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| SecretError::TooLong)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}.{id}.{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Opens a value sealed for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SecretError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretError::Corrupt);
        };
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SecretError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Corrupt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        // `split_at` made it exactly NONCE_LEN bytes.
        let nonce: &XNonce = nonce.into();
        let plain = cipher
            .decrypt(nonce, payload)
            .map_err(|_| SecretError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Corrupt)
    }

    /// Whether `sealed` was sealed with the current key (else it should be sealed again).
    pub fn is_current(&self, sealed: &str) -> bool {
        let mut parts = sealed.splitn(3, '.');
        parts.next() == Some(VERSION) && parts.next() == Some(self.keys[0].0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> String {
        SecretBox::generate_key(id)
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let secrets = SecretBox::from_config(&[key("k1")]).unwrap();
        let sealed = secrets
            .seal("client-secret-123", "tenant:1:sso_provider")
            .unwrap();
        assert!(sealed.starts_with("v1.k1."), "{sealed}");
        assert!(!sealed.contains("client-secret-123"));
        assert_ne!(
            sealed,
            secrets
                .seal("client-secret-123", "tenant:1:sso_provider")
                .unwrap()
        );
        assert_eq!(
            secrets.open(&sealed, "tenant:1:sso_provider").unwrap(),
            "client-secret-123"
        );
        assert_eq!(
            secrets.open(&sealed, "tenant:2:sso_provider"),
            Err(SecretError::Corrupt),
            "bound to its tenant"
        );
        let other = SecretBox::from_config(&[key("k1")]).unwrap();
        assert_eq!(
            other.open(&sealed, "tenant:1:sso_provider"),
            Err(SecretError::Corrupt),
            "a different key under the same id"
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            secrets.open(&tampered, "tenant:1:sso_provider"),
            Err(SecretError::Corrupt)
        );
        assert_eq!(secrets.open("plain text", "x"), Err(SecretError::Corrupt));
    }

    #[test]
    fn a_new_first_key_seals_while_old_keys_still_open() {
        let (old, new) = (key("2025"), key("2026"));
        let before = SecretBox::from_config(std::slice::from_ref(&old)).unwrap();
        let sealed = before.seal("s3cret", "c").unwrap();
        let rotated = SecretBox::from_config(&[new, old]).unwrap();
        assert_eq!(rotated.open(&sealed, "c").unwrap(), "s3cret");
        assert!(!rotated.is_current(&sealed));
        let again = rotated.seal("s3cret", "c").unwrap();
        assert!(again.starts_with("v1.2026."));
        assert!(rotated.is_current(&again));
        let dropped = SecretBox::from_config(&[key("2027")]).unwrap();
        assert_eq!(
            dropped.open(&sealed, "c"),
            Err(SecretError::UnknownKey("2025".to_owned()))
        );
    }

    #[test]
    fn bad_key_configuration_is_refused_with_its_position() {
        assert_eq!(
            SecretBox::from_config::<&str>(&[]).unwrap_err(),
            SecretError::NoKey
        );
        for bad in [
            "nocolon",
            ":AAAA",
            "k1:not base64!",
            "k1:AAAA",
            "bad id:AAAA",
        ] {
            assert!(
                matches!(
                    SecretBox::from_config(&[bad]),
                    Err(SecretError::BadKey(0, _))
                ),
                "{bad}"
            );
        }
        let k = key("same");
        assert!(matches!(
            SecretBox::from_config(&[k.clone(), k]),
            Err(SecretError::BadKey(1, _))
        ));
        let debug = format!("{:?}", SecretBox::from_config(&[key("shown")]).unwrap());
        assert_eq!(debug, r#"SecretBox { keys: ["shown"] }"#);
    }
}
