//! Unit tests of the authenticator's caches: targeted invalidation keeps the last good entry while the
//! database cannot be reached, and every map that grows with input stays within its bound.

use super::keys::{Entry, NEGATIVE_CAPACITY, REVOKED_CAPACITY};
use super::users::{TENANT_CAPACITY, TenantEntry};
use super::{AuthEvent, Authenticator};
use crate::rbac::Policy;
use crate::sessions::{SessionLifetimes, Sessions};
use crate::{AuthError, hash_key};
use flagent_storage::Db;
use flagent_storage::entities::{api_key, tenant};
use flagent_types::{SystemScope, TenantId};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// An authenticator whose database cannot be reached (nothing listens on port 1): every read fails
/// with `Unavailable`, as during an outage.
async fn unreachable(ttl: Duration) -> Authenticator {
    let db = Db::connect_lazy("postgres://nobody@127.0.0.1:1/none", 1)
        .await
        .unwrap();
    #[allow(clippy::disallowed_methods)]
    let system = || SystemScope::assume_system("tests");
    let lifetimes = SessionLifetimes {
        token: Duration::from_secs(60),
        session: Duration::from_secs(600),
    };
    let sessions = Arc::new(Sessions::new(db.clone(), system(), b"secret", lifetimes));
    let policy = Arc::new(Policy::new(&[], &[]).await.unwrap());
    Authenticator::new(db, system(), ttl, sessions, policy)
}

/// Key `n` of `tenant`, as the plaintext a client presents and the cache entry it resolves to.
fn key(n: i64, tenant: i64) -> (String, Arc<Entry>) {
    let plain = format!("flg_eval_{n:0>43}");
    let row = api_key::Model {
        id: n,
        tenant_id: tenant,
        project_id: tenant,
        environment_id: None,
        name: format!("key {n}"),
        prefix: plain[..12].to_owned(),
        key_hash: hash_key(&plain),
        scopes: "evaluate".to_owned(),
        created_at: 0,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
    };
    let environments = vec![("production".to_owned(), tenant * 10)];
    (plain, Arc::new(Entry::new(row, true, environments)))
}

fn unavailable(result: Result<flagent_types::TenantScope, AuthError>) -> bool {
    matches!(result, Err(AuthError::Unavailable(_)))
}

#[tokio::test]
async fn keys_marked_stale_by_a_tenant_change_keep_serving_while_the_database_is_down() {
    let auth = unreachable(Duration::from_secs(3600)).await;
    let (a1, a1_entry) = key(1, 1);
    let (a2, a2_entry) = key(2, 1);
    let (b1, b1_entry) = key(3, 2);
    for entry in [a1_entry, a2_entry, b1_entry] {
        auth.cache_key(entry).unwrap();
    }
    auth.tenant_changed(TenantId(1));
    auth.apply(&AuthEvent::TenantChanged { tenant: 2 });
    auth.apply(&AuthEvent::Everything);
    for (plain, tenant) in [(&a1, 1), (&a2, 1), (&b1, 2)] {
        let scope = auth.authenticate_key(plain, None).await.unwrap();
        assert_eq!(scope.tenant_id(), TenantId(tenant));
    }
    let (never_seen, _) = key(4, 1);
    assert!(unavailable(auth.authenticate_key(&never_seen, None).await));
}

#[tokio::test]
async fn a_revoked_key_is_refused_even_while_the_database_is_down_and_a_raced_lookup_cannot_cache_it()
 {
    let auth = unreachable(Duration::from_secs(3600)).await;
    let (plain, entry) = key(1, 1);
    auth.cache_key(entry.clone()).unwrap();
    auth.forget_revoked_key(1);
    // A lookup that read the row before the revocation tries to cache it afterwards.
    auth.cache_key(entry).unwrap();
    assert!(auth.positive.read().unwrap().is_empty());
    assert!(unavailable(auth.authenticate_key(&plain, None).await));
}

#[tokio::test]
async fn revocations_are_kept_for_one_cache_period_and_at_most_their_capacity() {
    let auth = unreachable(Duration::from_secs(3600)).await;
    for id in 0..(REVOKED_CAPACITY as i64 + 50) {
        auth.forget_revoked_key(id);
    }
    {
        let revoked = auth.revoked.read().unwrap();
        assert_eq!(revoked.len(), REVOKED_CAPACITY);
        assert!(revoked.contains_key(&(REVOKED_CAPACITY as i64 + 49)));
        assert!(!revoked.contains_key(&0), "the oldest leaves first");
    }

    let auth = unreachable(Duration::ZERO).await;
    for id in 0..10 {
        auth.forget_revoked_key(id);
    }
    assert_eq!(auth.revoked.read().unwrap().len(), 1, "older ones expired");
}

#[tokio::test]
async fn the_negative_cache_stays_within_its_capacity() {
    let auth = unreachable(Duration::from_secs(3600)).await;
    for n in 0..(NEGATIVE_CAPACITY + 10) {
        auth.remember_missing(&format!("hash-{n}"));
        assert!(auth.negative.read().unwrap().len() <= NEGATIVE_CAPACITY);
    }
    let negative = auth.negative.read().unwrap();
    assert!(negative.contains_key(&format!("hash-{}", NEGATIVE_CAPACITY + 9)));
}

fn tenant_entry(id: i64, fetched: Instant) -> Arc<TenantEntry> {
    Arc::new(TenantEntry {
        tenant: tenant::Model {
            id,
            key: format!("t{id}"),
            name: format!("Tenant {id}"),
            status: "active".to_owned(),
            plan: "free".to_owned(),
            created_at: 0,
            audit_seq: 0,
            audit_head: String::new(),
            sso_enforced: false,
            sso_break_glass: "[]".to_owned(),
            entity_salt: None,
        },
        projects: Vec::new(),
        fetched,
        stale: AtomicBool::new(false),
    })
}

#[tokio::test]
async fn the_tenant_cache_stays_within_its_capacity_dropping_the_oldest() {
    let auth = unreachable(Duration::from_secs(3600)).await;
    let start = Instant::now();
    for id in 0..(TENANT_CAPACITY as i64 + 20) {
        auth.cache_tenant(
            id,
            tenant_entry(id, start + Duration::from_millis(id as u64)),
        );
    }
    let tenants = auth.tenants.read().unwrap();
    assert_eq!(tenants.len(), TENANT_CAPACITY);
    assert!(!tenants.contains_key(&0) && !tenants.contains_key(&19));
    assert!(tenants.contains_key(&20) && tenants.contains_key(&(TENANT_CAPACITY as i64 + 19)));
}

#[test]
fn an_unknown_event_kind_reads_as_everything_and_known_kinds_round_trip() {
    let unknown: AuthEvent = serde_json::from_str(r#"{"kind":"project_moved","id":3}"#).unwrap();
    assert_eq!(unknown, AuthEvent::Everything);
    for event in [
        AuthEvent::KeyRevoked { id: 7 },
        AuthEvent::TenantChanged { tenant: 9 },
        AuthEvent::Everything,
    ] {
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<AuthEvent>(&text).unwrap(), event);
    }
    let older: AuthEvent = serde_json::from_str(r#"{"kind":"everything"}"#).unwrap();
    assert_eq!(older, AuthEvent::Everything);
}
