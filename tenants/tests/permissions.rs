//! The tenant use cases check their caller's permission themselves: called directly, without the HTTP
//! layer, a scope that lacks the permission is refused with `Denied` and nothing changes, and what the
//! permitted caller changed is in the audit log under its name.

use flagent_tenants::TenantsError;
use flagent_tenants::audit::{AuditFilter, AuditLog};
use flagent_tenants::projects::{EnvironmentsChanged, NewEnvironment, Projects};
use flagent_testkit::TwoTenants;
use flagent_types::{Permissions, TenantScope, perm};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// No caches to refresh in these tests.
struct Nothing;

impl EnvironmentsChanged for Nothing {
    fn environments_changed<'a>(
        &'a self,
        _: &'a TenantScope,
        _: i64,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
        Box::pin(async {})
    }
}

fn staging() -> NewEnvironment {
    NewEnvironment {
        key: "staging".to_owned(),
        name: "Staging".to_owned(),
        color: None,
    }
}

fn is_denied<T: std::fmt::Debug>(result: Result<T, TenantsError>) -> bool {
    matches!(result, Err(TenantsError::Denied(_)))
}

async fn environment_keys(projects: &Projects, scope: &TenantScope) -> Vec<String> {
    let project = projects.get_project(scope, "default").await.unwrap();
    project.environments.into_iter().map(|e| e.key).collect()
}

#[tokio::test]
async fn environments_are_managed_only_with_projects_manage() {
    let fixture = TwoTenants::new().await;
    let a = fixture.a;
    let projects = Projects::new(fixture.db.clone(), Arc::new(Nothing));
    let reader = a.member(Permissions::of::<perm::Read>(), a.development);
    let editor = a.member(
        Permissions::of::<perm::Read>().with::<perm::WriteFlags>(),
        a.development,
    );
    for caller in [&reader, &editor] {
        assert!(is_denied(
            projects
                .create_environment(caller, "default", staging())
                .await
        ));
        assert!(is_denied(
            projects
                .archive_environment(caller, "default", "development")
                .await
        ));
    }
    assert_eq!(
        environment_keys(&projects, &reader).await,
        ["development", "production"]
    );
    let manager = a.member(
        Permissions::of::<perm::Read>().with::<perm::ManageProjects>(),
        a.development,
    );
    projects
        .create_environment(&manager, "default", staging())
        .await
        .expect("a project manager adds an environment");
    assert_eq!(
        environment_keys(&projects, &reader).await,
        ["development", "production", "staging"]
    );
}

#[tokio::test]
async fn listing_needs_read_but_every_member_sees_where_to_work() {
    let fixture = TwoTenants::new().await;
    let a = fixture.a;
    let projects = Projects::new(fixture.db.clone(), Arc::new(Nothing));
    let key_keeper = a.member(Permissions::of::<perm::ManageKeys>(), a.development);
    assert!(is_denied(projects.list_projects(&key_keeper).await));
    assert!(is_denied(
        projects.get_project(&key_keeper, "default").await
    ));
    let navigation = projects.navigation(&key_keeper).await.unwrap();
    assert_eq!(navigation.len(), 1);
    assert_eq!(navigation[0].environments.len(), 2);
}

#[tokio::test]
async fn the_audit_log_is_read_only_with_audit_read() {
    let fixture = TwoTenants::new().await;
    let (a, b) = (fixture.a, fixture.b);
    let projects = Projects::new(fixture.db.clone(), Arc::new(Nothing));
    projects
        .create_environment(&a.owner(), "default", staging())
        .await
        .unwrap();
    let audit = AuditLog::new(fixture.db.clone());
    let reader = a.member(Permissions::of::<perm::Read>(), a.development);
    assert!(is_denied(audit.list(&reader, AuditFilter::default()).await));
    assert!(is_denied(audit.verify(&reader).await));
    assert!(is_denied(audit.all(&reader).await));

    let auditor = a.member(Permissions::of::<perm::ReadAudit>(), a.development);
    let events = audit.all(&auditor).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].action, "environment.create");
    assert_eq!(events[0].actor, "user:member@example.com");
    // Tenant B's auditor sees none of tenant A's events.
    let other = b.member(Permissions::of::<perm::ReadAudit>(), b.development);
    assert!(audit.all(&other).await.unwrap().is_empty());
}
