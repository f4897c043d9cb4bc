//! First start: the default tenant, project and environments, a management key and an evaluation key,
//! and the owner account (an operator of the server), printed once.

use anyhow::Context;
use flagent_auth::accounts::{Accounts, NewUser};
use flagent_auth::{NewKey, create_key};
use flagent_config::BootstrapSettings;
use flagent_storage::Db;
use flagent_storage::entities::membership;
use flagent_types::{Scope, ScopeSet, SystemScope};
use secrecy::ExposeSecret;

/// The keys a first start created (their plaintext exists only here and on the console).
#[derive(Debug, Clone)]
pub struct BootstrapKeys {
    /// Admin key for the whole default project.
    pub management: String,
    /// Evaluation key for the production environment.
    pub evaluation: String,
    /// The owner account's email.
    pub owner_email: String,
    /// The owner account's password, when it was generated (not configured).
    pub owner_password: Option<String>,
}

/// Runs the bootstrap if the database has no tenant; prints the keys it creates.
pub(crate) async fn run(
    db: &Db,
    system: &SystemScope,
    settings: &BootstrapSettings,
    accounts: &Accounts,
) -> anyhow::Result<Option<BootstrapKeys>> {
    let Some(outcome) = flagent_tenants::bootstrap(db, system)
        .await
        .context("bootstrap the default tenant")?
    else {
        return Ok(None);
    };
    let tdb = db.scoped_for_system(system, outcome.tenant);
    let now = chrono_now();
    let production = outcome
        .environments
        .iter()
        .find(|e| e.key == "production")
        .map(|e| e.id);
    let management = create_key(
        &tdb,
        NewKey {
            name: "bootstrap management key".to_owned(),
            scopes: ScopeSet::of(&[Scope::Admin]),
            project_id: outcome.project_id,
            environment_id: None,
            expires_at: None,
            plaintext: settings
                .management_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
        },
        now,
    )
    .await
    .context("create the management key")?;
    let evaluation = create_key(
        &tdb,
        NewKey {
            name: "bootstrap evaluation key (production)".to_owned(),
            scopes: ScopeSet::of(&[Scope::Evaluate]),
            project_id: outcome.project_id,
            environment_id: production,
            expires_at: None,
            plaintext: settings
                .evaluation_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
        },
        now,
    )
    .await
    .context("create the evaluation key")?;
    let generated = settings
        .admin_password
        .is_none()
        .then(flagent_auth::random_token);
    let password = settings
        .admin_password
        .as_ref()
        .map(|p| p.expose_secret().to_owned())
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let owner = accounts
        .register(NewUser {
            email: &settings.admin_email,
            name: "Owner",
            password: Some(&password),
            verified: true,
        })
        .await
        .context("create the owner account (bootstrap.admin_email, FLAGENT_ADMIN_PASSWORD)")?;
    tdb.insert_row(membership::New {
        user_id: owner.id,
        role: "owner".to_owned(),
        created_at: now,
    })
    .await
    .context("make the owner account the default tenant's owner")?;
    let owner_email = owner.email.clone();
    accounts
        .make_platform_admin(owner)
        .await
        .context("make the owner account an operator")?;
    tracing::info!(
        management_prefix = %management.row.prefix,
        evaluation_prefix = %evaluation.row.prefix,
        "created the default tenant, project, environments and API keys"
    );
    Ok(Some(BootstrapKeys {
        management: management.plaintext,
        evaluation: evaluation.plaintext,
        owner_email,
        owner_password: generated,
    }))
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
