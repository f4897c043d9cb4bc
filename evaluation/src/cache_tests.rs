//! Tests of the evaluation cache: the change feed, reloads, forgetting, removal, and writers of
//! different environments proceeding independently.

use crate::{EnvUpdate, EvalCache, FEED_LENGTH, Since};
use flagent_eval::{FlagConfig, Snapshot};
use flagent_types::{EnvironmentId, TenantId};
use std::sync::Arc;

const T: TenantId = TenantId(1);
const E: EnvironmentId = EnvironmentId(2);

fn flag(id: i64, enabled: bool) -> FlagConfig {
    serde_json::from_value(serde_json::json!({
        "id": id, "key": format!("f{id}"), "salt": format!("f{id}"), "enabled": enabled
    }))
    .expect("a minimal flag configuration")
}

fn update(revision: u64, upserts: Vec<FlagConfig>, removed: Vec<i64>) -> EnvUpdate {
    EnvUpdate {
        environment: E,
        revision,
        upserts,
        removed,
    }
}

fn ids(since: &Since) -> (Vec<i64>, Vec<i64>) {
    match since {
        Since::Changes {
            updated, deleted, ..
        } => (
            updated.iter().map(|f| f.id).collect(),
            deleted.iter().map(|(id, _)| *id).collect(),
        ),
        other => panic!("expected changes, got {other:?}"),
    }
}

#[tokio::test]
async fn changes_since_merges_the_log_and_later_state_wins() {
    let cache = EvalCache::new();
    cache
        .writer(T, E)
        .await
        .replace(Snapshot::build(1, vec![flag(1, true), flag(2, true)]));
    let mut rx = cache.subscribe(T, E);
    assert_eq!(*rx.borrow_and_update(), 1);
    let w = cache.writers(T, [E]).await;
    w.apply(vec![update(2, vec![flag(1, false)], vec![])]);
    w.apply(vec![update(3, vec![], vec![2])]);
    w.apply(vec![update(4, vec![flag(3, true)], vec![1])]);
    assert!(rx.has_changed().expect("the feed is open"));
    assert_eq!(*rx.borrow_and_update(), 4);

    assert!(matches!(cache.changes_since(T, E, 4), Since::Current));
    assert_eq!(ids(&cache.changes_since(T, E, 1)), (vec![3], vec![1, 2]));
    assert_eq!(ids(&cache.changes_since(T, E, 3)), (vec![3], vec![1]));
    // A revision the log never held (between, ahead, or another history) needs a snapshot.
    assert!(matches!(cache.changes_since(T, E, 0), Since::Snapshot(_)));
    assert!(matches!(cache.changes_since(T, E, 9), Since::Snapshot(_)));
    assert!(matches!(
        cache.changes_since(T, EnvironmentId(99), 1),
        Since::Gone
    ));
}

#[tokio::test]
async fn a_reload_records_only_the_flags_that_differ() {
    let cache = EvalCache::new();
    let w = cache.writer(T, E).await;
    w.replace(Snapshot::build(5, vec![flag(1, true), flag(2, true)]));
    w.replace(Snapshot::build(7, vec![flag(1, true), flag(3, false)]));
    assert_eq!(ids(&cache.changes_since(T, E, 5)), (vec![3], vec![2]));
    let Since::Changes { deleted, .. } = cache.changes_since(T, E, 5) else {
        unreachable!()
    };
    assert_eq!(deleted, vec![(2, "f2".to_owned())]);
}

#[tokio::test]
async fn the_log_forgets_beyond_its_length_and_removal_closes_the_feed() {
    let cache = EvalCache::new();
    cache
        .writer(T, E)
        .await
        .replace(Snapshot::build(0, vec![flag(1, true)]));
    let w = cache.writers(T, [E]).await;
    for r in 1..=(FEED_LENGTH as u64 + 1) {
        w.apply(vec![update(r, vec![flag(1, r % 2 == 0)], vec![])]);
    }
    drop(w);
    assert!(matches!(cache.changes_since(T, E, 0), Since::Snapshot(_)));
    assert_eq!(ids(&cache.changes_since(T, E, 1)), (vec![1], vec![]));
    let mut rx = cache.subscribe(T, E);
    cache.writer(T, E).await.remove();
    assert!(rx.changed().await.is_err(), "the channel closes");
    assert!(matches!(cache.changes_since(T, E, 1), Since::Gone));
    assert_eq!(cache.environments(), 0);
}

#[tokio::test]
async fn an_update_for_an_environment_not_loaded_is_returned_as_missing() {
    let cache = EvalCache::new();
    let w = cache.writers(T, [E]).await;
    assert_eq!(w.apply(vec![update(3, vec![flag(1, true)], vec![])]), [E]);
    drop(w);
    assert!(cache.snapshot(T, E).is_none(), "no partial snapshot");
    assert_eq!(cache.environments(), 0);
    assert!(cache.revisions().is_empty());
}

#[tokio::test]
async fn a_subscriber_before_the_first_load_follows_the_environment() {
    let cache = EvalCache::new();
    let mut rx = cache.subscribe(T, E);
    let w = cache.writer(T, E).await;
    w.replace(Snapshot::build(1, vec![flag(1, true)]));
    drop(w);
    let w = cache.writers(T, [E]).await;
    w.apply(vec![update(2, vec![flag(1, false)], vec![])]);
    assert!(rx.has_changed().expect("the feed is open"));
    assert_eq!(*rx.borrow_and_update(), 2);
}

/// A writer held across a commit that has not finished in one environment does not delay writers of
/// other environments (of the same tenant or another); a second writer of the held environment waits
/// until the commit finishes and the first writer has applied it.
#[tokio::test(start_paused = true)]
async fn writers_of_different_environments_do_not_wait_for_each_other() {
    let cache = Arc::new(EvalCache::new());
    let other = EnvironmentId(3);
    for environment in [E, other] {
        let w = cache.writer(T, environment).await;
        w.replace(Snapshot::build(1, vec![flag(1, true)]));
    }
    let (commit, committed) = tokio::sync::oneshot::channel::<()>();
    let (locked, is_locked) = tokio::sync::oneshot::channel::<()>();
    let pending = tokio::spawn({
        let cache = cache.clone();
        async move {
            let w = cache.writers(T, [E]).await;
            let _ = locked.send(());
            // The commit: the writer is held until it finishes.
            let _ = committed.await;
            w.apply(vec![update(2, vec![flag(1, false)], vec![])])
        }
    });
    is_locked
        .await
        .expect("the first writer holds its environment");

    let patience = std::time::Duration::from_secs(5);
    let same_tenant = tokio::time::timeout(patience, cache.writers(T, [other]))
        .await
        .expect("another environment's writer is not blocked");
    let applied = same_tenant.apply(vec![EnvUpdate {
        environment: other,
        ..update(7, vec![], vec![1])
    }]);
    assert!(applied.is_empty());
    drop(same_tenant);
    let other_tenant = tokio::time::timeout(patience, cache.writer(TenantId(9), E))
        .await
        .expect("another tenant's writer is not blocked");
    other_tenant.replace(Snapshot::build(4, vec![flag(2, true)]));
    drop(other_tenant);
    assert_eq!(cache.snapshot(T, other).map(|s| s.revision()), Some(7));
    assert_eq!(
        cache.snapshot(TenantId(9), E).map(|s| s.revision()),
        Some(4)
    );

    let blocked = tokio::time::timeout(patience, cache.writer(T, E)).await;
    assert!(blocked.is_err(), "the held environment's writer waits");
    assert_eq!(cache.snapshot(T, E).map(|s| s.revision()), Some(1));
    commit.send(()).expect("the commit is pending");
    let missing = pending.await.expect("the pending writer finishes");
    assert!(missing.is_empty());
    let after = cache.writer(T, E).await;
    assert_eq!(after.revision(), Some(2), "applied in commit order");
}
