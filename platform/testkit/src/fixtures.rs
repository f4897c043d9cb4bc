//! Two tenants to test services against: each with a `default` project holding `development` and
//! `production`, on a migrated [`TestDb`], and the scopes their callers would hold.
//!
//! Invariant: the fixture only writes what a real tenant creation writes (tenant row, project,
//! environments), so a service under test sees exactly the state it would in production.

use crate::TestDb;
use flagent_migrations::{Migrator, MigratorTrait};
use flagent_storage::Db;
use flagent_storage::entities::{environment, project, tenant};
use flagent_types::{
    EnvironmentId, Grant, Permissions, Principal, ProjectId, ScopeSet, SystemScope, TenantId,
    TenantScope, perm,
};

/// A migrated test database with tenants A and B.
pub struct TwoTenants {
    /// The database, as the server would connect to it.
    pub db: Db,
    /// Tenant A.
    pub a: Tenant,
    /// Tenant B.
    pub b: Tenant,
    _database: TestDb,
}

/// One tenant of the fixture.
#[derive(Debug, Clone, Copy)]
pub struct Tenant {
    /// The tenant.
    pub tenant: TenantId,
    /// Its `default` project.
    pub project: ProjectId,
    /// The project's `development` environment.
    pub development: EnvironmentId,
    /// The project's `production` environment.
    pub production: EnvironmentId,
}

/// The system scope of test fixtures.
pub fn system(reason: &'static str) -> SystemScope {
    #[allow(clippy::disallowed_methods)]
    SystemScope::assume_system(reason)
}

/// Every permission a route can declare.
pub fn every_permission() -> Permissions {
    (0..perm::ALL.len() as u8).fold(Permissions::NONE, Permissions::with_index)
}

impl TwoTenants {
    /// A fresh database on the backend `DATABASE_URL` names, migrated, with tenants `a` and `b`.
    pub async fn new() -> TwoTenants {
        let database = TestDb::new().await;
        let connections = if database.url().starts_with("sqlite") {
            1
        } else {
            4
        };
        let db = Db::connect(database.url(), connections)
            .await
            .expect("connect to the test database");
        Migrator::up(db.migration_connection(), None)
            .await
            .expect("migrate the test database");
        let a = Tenant::create(&db, "tenant-a").await;
        let b = Tenant::create(&db, "tenant-b").await;
        TwoTenants {
            db,
            a,
            b,
            _database: database,
        }
    }
}

impl Tenant {
    async fn create(db: &Db, key: &str) -> Tenant {
        let system = system("test fixture: create a tenant");
        let row = db
            .system(&system)
            .insert_tenant(tenant::Model {
                id: 0,
                key: key.to_owned(),
                name: key.to_owned(),
                status: "active".to_owned(),
                plan: "self-hosted".to_owned(),
                created_at: 0,
                audit_seq: 0,
                audit_head: String::new(),
                sso_enforced: false,
                sso_break_glass: "[]".to_owned(),
                entity_salt: None,
            })
            .await
            .expect("insert the tenant");
        let tdb = db.scoped_for_system(&system, TenantId(row.id));
        let project = tdb
            .insert_row(project::New {
                key: "default".to_owned(),
                name: "Default".to_owned(),
                created_at: 0,
            })
            .await
            .expect("insert the project");
        let mut environments = Vec::new();
        for (order, key) in ["development", "production"].into_iter().enumerate() {
            let env = tdb
                .insert_row(environment::New {
                    project_id: project.id,
                    key: key.to_owned(),
                    name: key.to_owned(),
                    sort_order: order as i64,
                    color: "#000000".to_owned(),
                    revision: 0,
                    created_at: 0,
                    archived_at: None,
                    revised_at: 0,
                })
                .await
                .expect("insert an environment");
            environments.push(EnvironmentId(env.id));
        }
        Tenant {
            tenant: TenantId(row.id),
            project: ProjectId(project.id),
            development: environments[0],
            production: environments[1],
        }
    }

    /// A member (user 1, `member@example.com`) working in `environment` whose role grants
    /// `permissions` there.
    pub fn member(&self, permissions: Permissions, environment: EnvironmentId) -> TenantScope {
        self.mint(
            environment,
            Principal::User {
                id: flagent_types::UserId(1),
                email: "member@example.com".to_owned(),
            },
            Grant::Member {
                permissions,
                environment,
            },
        )
    }

    /// A member holding every permission, working in `development`.
    pub fn owner(&self) -> TenantScope {
        self.member(every_permission(), self.development)
    }

    /// An API key with `scopes`, bound to `bound` if given, working in `environment`.
    pub fn key(
        &self,
        scopes: ScopeSet,
        bound: Option<EnvironmentId>,
        environment: EnvironmentId,
    ) -> TenantScope {
        self.mint(
            environment,
            Principal::ApiKey {
                id: 1,
                name: "test".to_owned(),
                prefix: "flg_test".to_owned(),
            },
            Grant::Key { scopes, bound },
        )
    }

    fn mint(&self, environment: EnvironmentId, principal: Principal, grant: Grant) -> TenantScope {
        // Test fixtures stand in for authentication.
        #[allow(clippy::disallowed_methods)]
        TenantScope::assume_authenticated(self.tenant, self.project, environment, principal, grant)
    }
}
