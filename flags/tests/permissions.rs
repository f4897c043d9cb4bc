//! The flag use cases check their caller's permission themselves: called directly, without the HTTP
//! layer, a scope that lacks the permission is refused with `Denied` and nothing changes, per-environment
//! permissions hold only in the environment they were granted in, and a job acts with exactly its
//! grants, under its own name.

mod common;

use common::new_flag;
use flagent_flags::{EvalCache, FlagFilter, Flags, FlagsError, SegmentInput};
use flagent_testkit::{Tenant, TwoTenants};
use flagent_types::{FlagId, Grant, Permissions, Principal, Scope, ScopeSet, TenantScope, perm};
use std::sync::Arc;

fn segment() -> SegmentInput {
    SegmentInput {
        description: "everyone".to_owned(),
        rollout_percent: 100,
    }
}

async fn setup() -> (TwoTenants, Flags) {
    let fixture = TwoTenants::new().await;
    let flags = Flags::new(fixture.db.clone(), Arc::new(EvalCache::new()));
    (fixture, flags)
}

async fn live_keys(flags: &Flags, tenant: &Tenant) -> Vec<String> {
    let flags = flags
        .list_flags(&tenant.owner(), &FlagFilter::default())
        .await
        .expect("list flags");
    flags.into_iter().map(|f| f.key).collect()
}

fn denied<T: std::fmt::Debug>(result: Result<T, FlagsError>) -> flagent_types::Denied {
    match result {
        Err(FlagsError::Denied(denied)) => denied,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reader_cannot_create_change_or_delete_a_flag() {
    let (fixture, flags) = setup().await;
    let a = fixture.a;
    let flag = flags
        .create_flag(&a.owner(), new_flag("checkout"))
        .await
        .unwrap();
    let reader = a.member(Permissions::of::<perm::Read>(), a.development);

    let refused = denied(flags.create_flag(&reader, new_flag("other")).await);
    assert_eq!(refused.permission, "flags:write");
    denied(
        flags
            .set_enabled(&reader, FlagId(flag.id), true, None)
            .await,
    );
    denied(
        flags
            .create_segment(&reader, FlagId(flag.id), segment())
            .await,
    );
    denied(flags.delete_flag(&reader, FlagId(flag.id)).await);

    assert_eq!(live_keys(&flags, &a).await, vec!["checkout".to_owned()]);
    let unchanged = flags
        .flag(&reader, FlagId(flag.id))
        .await
        .expect("a reader reads");
    assert_eq!(unchanged, flag);
}

#[tokio::test]
async fn a_permission_limited_to_development_does_not_reach_production() {
    let (fixture, flags) = setup().await;
    let a = fixture.a;
    let flag = flags
        .create_flag(&a.owner(), new_flag("search"))
        .await
        .unwrap();
    let developer = a.member(
        Permissions::of::<perm::Read>()
            .with::<perm::Write>()
            .with::<perm::Toggle>(),
        a.development,
    );

    flags
        .create_segment(&developer, FlagId(flag.id), segment())
        .await
        .expect("writing in development");
    let production = developer.in_environment(a.production);
    let refused = denied(
        flags
            .create_segment(&production, FlagId(flag.id), segment())
            .await,
    );
    assert_eq!(refused.environment, Some(a.production.0));
    denied(
        flags
            .set_enabled(&production, FlagId(flag.id), true, None)
            .await,
    );
    // Copying into production is checked in production, whoever asks.
    denied(
        flags
            .copy_between_environments(&developer, FlagId(flag.id), "development", "production")
            .await,
    );
    // Shared configuration needs flags:write in every environment.
    denied(
        flags
            .update_flag(&developer, FlagId(flag.id), Default::default(), None)
            .await,
    );

    let owner_in_production = a.owner().in_environment(a.production);
    let in_production = flags
        .flag(&owner_in_production, FlagId(flag.id))
        .await
        .unwrap();
    assert_eq!(in_production.segments.len(), flag.segments.len());
    assert!(!in_production.enabled);
}

#[tokio::test]
async fn a_key_bound_to_an_environment_is_refused_elsewhere() {
    let (fixture, flags) = setup().await;
    let a = fixture.a;
    let flag = flags
        .create_flag(&a.owner(), new_flag("banner"))
        .await
        .unwrap();
    let key = a.key(
        ScopeSet::of(&[Scope::Write]),
        Some(a.development),
        a.development,
    );
    flags
        .set_enabled(&key, FlagId(flag.id), true, None)
        .await
        .expect("in its environment");
    denied(
        flags
            .set_enabled(
                &key.in_environment(a.production),
                FlagId(flag.id),
                true,
                None,
            )
            .await,
    );
    denied(
        flags
            .flag(&key.in_environment(a.production), FlagId(flag.id))
            .await,
    );
    let evaluate_only = a.key(ScopeSet::of(&[Scope::Evaluate]), None, a.development);
    denied(flags.flag(&evaluate_only, FlagId(flag.id)).await);
}

#[tokio::test]
async fn a_job_acts_with_exactly_its_grants_and_under_its_own_name() {
    let (fixture, flags) = setup().await;
    let a = fixture.a;
    let flag = flags
        .create_flag(&a.owner(), new_flag("rollout"))
        .await
        .unwrap();
    let system = flagent_testkit::system("test: a release advances");
    let release = flagent_auth::act_as_system(
        &system,
        "release:7",
        flagent_auth::Place {
            tenant: a.tenant,
            project: a.project,
            environment: a.production,
        },
        Permissions::of::<perm::Toggle>(),
    );
    assert!(matches!(release.grant(), Grant::System { .. }));
    assert!(matches!(release.principal(), Principal::System { name } if name == "release:7"));

    let enabled = flags
        .set_enabled(&release, FlagId(flag.id), true, None)
        .await
        .expect("a release may toggle");
    assert!(enabled.enabled);
    assert_eq!(enabled.updated_by, "system:release:7");
    denied(
        flags
            .create_segment(&release, FlagId(flag.id), segment())
            .await,
    );
    denied(flags.create_flag(&release, new_flag("more")).await);
    assert_eq!(live_keys(&flags, &a).await, vec!["rollout".to_owned()]);
}

#[tokio::test]
async fn another_tenants_scope_finds_nothing_even_with_every_permission() {
    let (fixture, flags) = setup().await;
    let (a, b) = (fixture.a, fixture.b);
    let flag = flags
        .create_flag(&a.owner(), new_flag("private"))
        .await
        .unwrap();
    let intruder: TenantScope = b.owner();
    assert!(matches!(
        flags.flag(&intruder, FlagId(flag.id)).await,
        Err(FlagsError::NotFound(_))
    ));
    assert!(matches!(
        flags
            .set_enabled(&intruder, FlagId(flag.id), true, None)
            .await,
        Err(FlagsError::NotFound(_))
    ));
    assert!(live_keys(&flags, &b).await.is_empty());
    assert!(
        !flags
            .flag(&a.owner(), FlagId(flag.id))
            .await
            .unwrap()
            .enabled
    );
}
