//! Revision polling across nodes on one database: an incremental pass loads what another node changed
//! and reads only the environments whose change marker moved, archiving is picked up by it, and the
//! periodic full pass catches what no marker shows (a deleted tenant, a change without a marker).

mod common;

use common::new_flag;
use flagent_flags::{EvalCache, FULL_PASS_EVERY, Flags, Revised};
use flagent_storage::entities::environment;
use flagent_testkit::{Tenant, TwoTenants, system};
use flagent_types::{EnvironmentId, SystemScope, TenantId};
use std::sync::Arc;

fn node(fixture: &TwoTenants) -> Flags {
    Flags::new(fixture.db.clone(), Arc::new(EvalCache::new()))
}

fn poller() -> SystemScope {
    system("revision polling test")
}

fn loaded_keys(loaded: &[Revised]) -> Vec<(TenantId, EnvironmentId)> {
    let mut keys: Vec<_> = loaded.iter().map(|r| (r.tenant, r.environment)).collect();
    keys.sort();
    keys
}

fn environments(tenant: &Tenant) -> Vec<(TenantId, EnvironmentId)> {
    let mut keys = vec![
        (tenant.tenant, tenant.development),
        (tenant.tenant, tenant.production),
    ];
    keys.sort();
    keys
}

/// Runs passes until the next one is a full pass.
async fn until_full_pass(flags: &Flags, passes_done: u64) {
    for _ in passes_done % FULL_PASS_EVERY..FULL_PASS_EVERY {
        flags.sync(&poller()).await.expect("incremental pass");
    }
}

/// Writes `env` of `tenant` with `change` applied, through the storage API.
async fn rewrite(
    fixture: &TwoTenants,
    tenant: &Tenant,
    env: EnvironmentId,
    change: impl FnOnce(environment::Model) -> environment::Model,
) {
    let tdb = fixture.db.scoped(&tenant.owner());
    let row: environment::Model = tdb.get(env.0).await.unwrap().expect("the environment");
    tdb.update_row(change(row)).await.unwrap();
}

#[tokio::test]
async fn a_change_on_one_node_is_loaded_by_the_others_incremental_pass() {
    let fixture = TwoTenants::new().await;
    let (a, b) = (node(&fixture), node(&fixture));
    let first = b.sync(&poller()).await.unwrap();
    let mut everything = environments(&fixture.a);
    everything.extend(environments(&fixture.b));
    everything.sort();
    assert_eq!(loaded_keys(&first), everything, "the first pass is full");

    a.create_flag(&fixture.a.owner(), new_flag("checkout"))
        .await
        .unwrap();
    let loaded = b.sync(&poller()).await.unwrap();
    assert_eq!(loaded_keys(&loaded), environments(&fixture.a));
    for r in &loaded {
        let held = b.cache().snapshot(r.tenant, r.environment).unwrap();
        assert_eq!(held.revision(), r.revision);
        let mine = a.cache().snapshot(r.tenant, r.environment).unwrap();
        assert_eq!(held.revision(), mine.revision());
    }
    assert!(b.sync(&poller()).await.unwrap().is_empty(), "nothing newer");
}

#[tokio::test]
async fn the_light_query_returns_only_environments_whose_marker_moved() {
    let fixture = TwoTenants::new().await;
    let flags = node(&fixture);
    let since = chrono::Utc::now().timestamp_millis() - 1;
    let marks = async |since| fixture_marks(&fixture, since).await;
    assert!(
        marks(since).await.is_empty(),
        "the fixture's markers are old"
    );
    flags
        .create_flag(&fixture.a.owner(), new_flag("search"))
        .await
        .unwrap();
    assert_eq!(marks(since).await, environments(&fixture.a));
    assert_eq!(marks(0).await.len(), 4, "every environment has a marker");
}

async fn fixture_marks(fixture: &TwoTenants, since: i64) -> Vec<(TenantId, EnvironmentId)> {
    let system = poller();
    let marks = fixture.db.system(&system);
    let marks = marks.environments_revised_since(since).await.unwrap();
    let mut keys: Vec<_> = marks
        .iter()
        .map(|m| (TenantId(m.tenant_id), EnvironmentId(m.id)))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_change_without_a_marker_waits_for_the_full_pass() {
    let fixture = TwoTenants::new().await;
    let flags = node(&fixture);
    flags.sync(&poller()).await.unwrap();
    let b = fixture.b;
    let tdb = fixture.db.scoped(&b.owner());
    let revision = tdb.bump_revision(b.production.0).await.unwrap();
    rewrite(&fixture, &b, b.production, |row| environment::Model {
        revised_at: 1,
        ..row
    })
    .await;

    assert!(flags.sync(&poller()).await.unwrap().is_empty());
    until_full_pass(&flags, 2).await;
    let loaded = flags.sync(&poller()).await.unwrap();
    assert_eq!(loaded_keys(&loaded), vec![(b.tenant, b.production)]);
    assert_eq!(loaded[0].revision, revision as u64);
}

#[tokio::test]
async fn archiving_is_picked_up_by_the_incremental_pass() {
    let fixture = TwoTenants::new().await;
    let flags = node(&fixture);
    flags.sync(&poller()).await.unwrap();
    let a = fixture.a;
    let now = chrono::Utc::now().timestamp_millis();
    rewrite(&fixture, &a, a.production, |row| environment::Model {
        archived_at: Some(now),
        revised_at: now,
        ..row
    })
    .await;

    assert!(flags.sync(&poller()).await.unwrap().is_empty());
    assert!(flags.cache().snapshot(a.tenant, a.production).is_none());
    assert!(flags.cache().snapshot(a.tenant, a.development).is_some());
    assert_eq!(flags.cache().revisions().len(), 3);
}

#[tokio::test]
async fn a_deleted_tenants_environments_are_dropped_by_the_full_pass() {
    let fixture = TwoTenants::new().await;
    let flags = node(&fixture);
    flags.sync(&poller()).await.unwrap();
    let system = poller();
    let b = fixture.b;
    assert!(
        fixture
            .db
            .system(&system)
            .delete_tenant(b.tenant.0)
            .await
            .unwrap()
    );

    flags.sync(&poller()).await.unwrap();
    assert!(
        flags.cache().snapshot(b.tenant, b.production).is_some(),
        "no marker shows it"
    );
    until_full_pass(&flags, 2).await;
    flags.sync(&poller()).await.unwrap();
    let mut held: Vec<_> = flags.cache().revisions().into_keys().collect();
    held.sort();
    assert_eq!(held, environments(&fixture.a));
}
