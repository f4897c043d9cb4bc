//! Single sign-on: a tenant's identity providers (OIDC and SAML 2.0), the sign-ins through them, and
//! the people they provision.
//!
//! Invariant: a provider's secret (an OIDC client secret, a SAML signing key) is sealed by
//! [`SecretBox`] for its tenant before it is written, and no view, log line or audit event carries it.
//! Invariant: a session started through a provider records it, and disabling or deleting the provider
//! ends those sessions.

mod domains;
mod enforcement;
mod error;
mod oidc;
mod providers;
pub mod rules;
mod saml;
pub mod scim;
mod signin;

pub use domains::{Domain, Offered, TXT_LABEL, TXT_PREFIX};
pub use enforcement::Enforcement;
pub use error::SsoError;
pub use providers::{
    DEFAULT_OIDC_SCOPES, OidcSettings, Protocol, Provider, ProviderKind, ProviderRequest, SpValues,
};
pub use rules::{RoleRule, RuleOp};
pub use saml::{MetadataSource, SamlSettings};
pub use scim::{ScimError, ScimQuery};
pub use signin::{Finished, OidcReturn, SamlPost, SignedIn, StartedSignIn, Tested, safe_next};

use crate::accounts::Accounts;
use crate::rbac::Policy;
use crate::secrets::SecretBox;
use flagent_storage::Db;
use flagent_types::SystemScope;
use std::sync::Arc;

/// Identity providers and sign-ins through them.
pub struct Sso {
    db: Db,
    system: SystemScope,
    secrets: SecretBox,
    accounts: Arc<Accounts>,
    policy: Arc<Policy>,
    oidc: oidc::OidcClientCache,
    dns: domains::Dns,
    /// The address browsers reach this server at, without a trailing `/` (redirect and ACS URLs).
    public_url: String,
}

impl Sso {
    /// SSO over `db`, sealing secrets with `secrets`; `public_url` is where browsers reach this server;
    /// domains are verified through `dns_server`, or the system's resolver.
    pub fn new(
        db: Db,
        system: SystemScope,
        secrets: SecretBox,
        accounts: Arc<Accounts>,
        policy: Arc<Policy>,
        public_url: &str,
        dns_server: Option<std::net::SocketAddr>,
    ) -> Result<Self, SsoError> {
        Ok(Sso {
            db,
            system,
            secrets,
            accounts,
            policy,
            oidc: oidc::OidcClientCache::new()?,
            dns: domains::Dns::new(dns_server)?,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Forgets the sign-ins that went to an identity provider and never came back, and the used SAML
    /// assertions that could no longer be accepted anyway; returns how many rows went.
    pub async fn delete_expired_sign_ins(&self) -> Result<u64, SsoError> {
        let system = self.db.system(&self.system);
        let now = crate::now_millis();
        Ok(system.delete_expired_sso_logins(now).await?
            + system.delete_expired_sso_assertions(now).await?)
    }

    /// Where a sign-in through provider `id` starts (`/sso/<id>/start`).
    pub fn start_url(&self, id: i64) -> String {
        format!("{}/sso/{id}/start", self.public_url)
    }

    /// The OIDC redirect URI of provider `id`, to register at the identity provider.
    pub fn oidc_redirect_url(&self, id: i64) -> String {
        format!("{}/sso/oidc/{id}/callback", self.public_url)
    }

    /// The SAML assertion consumer service URL of provider `id`.
    pub fn saml_acs_url(&self, id: i64) -> String {
        format!("{}/sso/saml/{id}/acs", self.public_url)
    }

    /// Where provider `id`'s SAML SP metadata is served; also its SP entity id unless one is set.
    pub fn saml_metadata_url(&self, id: i64) -> String {
        format!("{}/sso/saml/{id}/metadata", self.public_url)
    }

    /// The SP entity id of SAML provider `id`.
    fn sp_entity_id(&self, id: i64, settings: &SamlSettings) -> String {
        settings
            .sp_entity_id
            .clone()
            .unwrap_or_else(|| self.saml_metadata_url(id))
    }
}

/// The context a provider's secret is sealed for: its tenant's providers.
fn secret_context(tenant: flagent_types::TenantId) -> String {
    format!("tenant:{}:sso_provider", tenant.0)
}
