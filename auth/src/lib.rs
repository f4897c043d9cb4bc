//! Authentication: API keys (format, hashing, creation, management) and the cached lookup that turns a
//! presented key into a [`TenantScope`](flagent_types::TenantScope).
//!
//! Architecture Invariant: this crate holds the only production calls to
//! `TenantScope::assume_authenticated`: whoever holds a scope was authenticated here, or is a job this
//! crate granted named permissions to ([`act_as_system`]).
//! Key lookups are cached (positive and negative), so evaluation costs no database round trip and a
//! flood of invalid keys never reaches the database; a cached key keeps working while the database is down.

pub mod accounts;
mod error;
mod keys;
mod lookup;
mod manage;
pub mod password;
mod principals;
pub mod rbac;
pub mod secrets;
pub mod sessions;
pub mod sso;

pub use error::AuthError;
pub use keys::{CreatedKey, NewKey, create_key, hash_key};
pub use lookup::{AuthEvent, Authenticated, Authenticator, Credentials, KeyRecord, Need};
pub use manage::{
    ApiKey, IssuedKey, KeyRequest, create_api_key, list_api_keys, read_api_key, revoke_api_key,
    rotate_api_key,
};
pub use principals::{Place, act_as_system};

/// A fresh one-time token: 43 random base62 characters (256 bits).
pub fn random_token() -> String {
    keys::random_base62()
}

/// Milliseconds since the Unix epoch, as timestamps are stored.
pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
