//! Key management checks its caller's permission itself, and an issued key authenticates to a scope
//! whose grant is exactly the key's scopes in its bound environment.

use flagent_auth::rbac::Policy;
use flagent_auth::sessions::{SessionLifetimes, Sessions};
use flagent_auth::{
    AuthError, Authenticator, Credentials, KeyRequest, Need, create_api_key, list_api_keys,
};
use flagent_testkit::{TwoTenants, system};
use flagent_types::{Grant, Permissions, Scope, ScopeSet, perm};
use std::sync::Arc;
use std::time::Duration;

async fn authenticator(fixture: &TwoTenants) -> Authenticator {
    let lifetimes = SessionLifetimes {
        token: Duration::from_secs(600),
        session: Duration::from_secs(3600),
    };
    let secret = [7u8; 32];
    let sessions = Sessions::new(
        fixture.db.clone(),
        system("test sessions"),
        &secret,
        lifetimes,
    );
    let policy = Policy::new(&[], &[]).await.expect("an empty policy");
    Authenticator::new(
        fixture.db.clone(),
        system("test key lookup"),
        Duration::from_secs(30),
        Arc::new(sessions),
        Arc::new(policy),
    )
}

fn request(scopes: &[&str], environment: Option<&str>) -> KeyRequest {
    KeyRequest {
        name: "deploy".to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        environment: environment.map(str::to_owned),
        expires_at: None,
    }
}

#[tokio::test]
async fn only_a_caller_with_keys_manage_issues_or_lists_keys() {
    let fixture = TwoTenants::new().await;
    let a = fixture.a;
    let auth = authenticator(&fixture).await;
    let editor = a.member(
        Permissions::of::<perm::Read>().with::<perm::WriteFlags>(),
        a.development,
    );
    let refused = create_api_key(&auth, &editor, request(&["read"], None)).await;
    assert!(
        matches!(refused, Err(AuthError::Forbidden(_))),
        "{refused:?}"
    );
    assert!(matches!(
        list_api_keys(&auth, &editor).await,
        Err(AuthError::Forbidden(_))
    ));
    assert!(list_api_keys(&auth, &a.owner()).await.unwrap().is_empty());

    let write_key = a.key(ScopeSet::of(&[Scope::Write]), None, a.development);
    assert!(matches!(
        create_api_key(&auth, &write_key, request(&["read"], None)).await,
        Err(AuthError::Forbidden(_))
    ));
    // A key bound to development may issue keys for development only.
    let bound_admin = a.key(
        ScopeSet::of(&[Scope::Admin]),
        Some(a.development),
        a.development,
    );
    assert!(matches!(
        create_api_key(&auth, &bound_admin, request(&["read"], Some("production"))).await,
        Err(AuthError::Forbidden(_))
    ));
    create_api_key(&auth, &bound_admin, request(&["read"], Some("development")))
        .await
        .expect("a key for its own environment");
}

#[tokio::test]
async fn an_issued_key_holds_its_scopes_in_its_environment_only() {
    let fixture = TwoTenants::new().await;
    let a = fixture.a;
    let auth = authenticator(&fixture).await;
    let issued = create_api_key(&auth, &a.owner(), request(&["write"], Some("development")))
        .await
        .unwrap();
    let credentials = |environment| Credentials {
        key: Some(issued.plaintext.as_str()),
        environment,
        ..Credentials::default()
    };
    let scope = auth
        .authenticate(credentials(None), Need::of::<perm::Write>())
        .await
        .expect("the key writes in its environment")
        .scope;
    assert_eq!(scope.environment_id(), a.development);
    assert!(matches!(
        scope.grant(),
        Grant::Key { bound: Some(env), .. } if *env == a.development
    ));
    assert!(scope.require::<perm::Toggle>().is_ok());
    assert!(scope.require::<perm::ManageKeys>().is_err());
    assert!(
        scope
            .in_environment(a.production)
            .require::<perm::Read>()
            .is_err()
    );
    let elsewhere = auth
        .authenticate(credentials(Some("production")), Need::of::<perm::Read>())
        .await;
    assert!(matches!(elsewhere, Err(AuthError::EnvironmentForbidden(_))));
    let stronger = auth
        .authenticate(credentials(None), Need::of::<perm::ManageProjects>())
        .await;
    assert!(matches!(stronger, Err(AuthError::Forbidden(_))));
}
