//! Entity ids as measurement stores them: the first 8 bytes of SHA-256 over the tenant's salt and the
//! id, as a signed 64-bit number. The raw id is never stored.
//!
//! Invariant: a tenant's salt is made once (the first node to need it writes it, every node reads the
//! stored one) and cached; two tenants' hashes of one id are unrelated.

use flagent_storage::{Db, StorageError};
use flagent_types::{SystemScope, TenantId, TenantScope};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The salts of the tenants this node has measured for.
#[derive(Default)]
pub(crate) struct Salts {
    known: RwLock<HashMap<TenantId, Arc<str>>>,
}

/// Which door reaches the tenant row: the request's scope, or the system's for background work.
pub(crate) enum Door<'a> {
    Scope(&'a TenantScope),
    System(&'a SystemScope, TenantId),
}

impl Door<'_> {
    fn tenant(&self) -> TenantId {
        match self {
            Door::Scope(scope) => scope.tenant_id(),
            Door::System(_, tenant) => *tenant,
        }
    }
}

impl Salts {
    /// The tenant's salt, read (or made) once per node.
    pub(crate) async fn of(&self, db: &Db, door: Door<'_>) -> Result<Arc<str>, StorageError> {
        let tenant = door.tenant();
        if let Some(salt) = self.read().get(&tenant) {
            return Ok(salt.clone());
        }
        let fresh = fresh_salt();
        let stored = match door {
            Door::Scope(scope) => db.scoped(scope).entity_salt(&fresh).await?,
            Door::System(system, tenant) => {
                db.scoped_for_system(system, tenant)
                    .entity_salt(&fresh)
                    .await?
            }
        };
        let salt: Arc<str> = stored.into();
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(tenant, salt.clone());
        Ok(salt)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<TenantId, Arc<str>>> {
        self.known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// 32 random bytes as hex.
fn fresh_salt() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of entity id `id` under `salt`.
pub fn hash_entity(salt: &str, id: &str) -> i64 {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0]);
    hasher.update(id.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_salted_and_separate_salt_from_id() {
        let a = hash_entity("salt", "user-1");
        assert_eq!(a, hash_entity("salt", "user-1"));
        assert_ne!(a, hash_entity("other", "user-1"));
        assert_ne!(a, hash_entity("salt", "user-2"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(hash_entity("ab", "c"), hash_entity("a", "bc"));
        // SHA-256("salt\0user-1"), first 8 bytes, computed independently with Python's hashlib.
        assert_eq!(a, EXPECTED_SALT_USER_1);
    }

    const EXPECTED_SALT_USER_1: i64 = 3_768_857_370_845_552_642;
}
