//! Identity provider management: create, list, read, update and delete the providers of the caller's
//! tenant (`sso:manage`).
//!
//! Invariant: every function needs `sso:manage` and acts inside the caller's tenant; another tenant's
//! provider is [`SsoError::NotFound`], exactly like a missing one.
//! Invariant: creating or enabling a provider needs a plan that includes single sign-on; updating,
//! disabling and deleting do not, so a tenant that moved to a smaller plan can still switch SSO off.
//! Invariant: a provider is saved whole or not at all, with its audit event in the same transaction.

use super::error::invalid;
use super::rules::RoleRule;
use super::saml::{self, MetadataSource, SamlSettings};
use super::{Sso, SsoError, secret_context};
use crate::now_millis;
use flagent_storage::entities::sso_provider;
use flagent_storage::{NewAuditEvent, TenantTx};
use flagent_types::{AuditAction, BuiltInRole, Feature, TenantScope, perm};
use openidconnect::url::Url;
use serde::{Deserialize, Serialize};

/// Longest provider name, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Most mapping rules one provider has.
const MAX_RULES: usize = 50;
/// Longest claim name or value in a mapping rule, in characters.
const MAX_RULE_TEXT: usize = 500;
/// Longest client id or secret, in bytes.
const MAX_CREDENTIAL_BYTES: usize = 2048;
/// Most OIDC scopes asked for.
const MAX_SCOPES: usize = 20;

/// The scopes asked for when a provider names none.
pub const DEFAULT_OIDC_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// The protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect.
    Oidc,
    /// SAML 2.0.
    Saml,
}

impl ProviderKind {
    /// The kind's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Oidc => "oidc",
            ProviderKind::Saml => "saml",
        }
    }

    fn parse(text: &str) -> Option<ProviderKind> {
        match text {
            "oidc" => Some(ProviderKind::Oidc),
            "saml" => Some(ProviderKind::Saml),
            _ => None,
        }
    }
}

/// An OIDC provider's public settings (its client secret is kept apart, sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcSettings {
    /// The issuer, exactly as the provider's tokens name it (`https://acme.okta.com`).
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The scopes asked for; always includes `openid`.
    pub scopes: Vec<String>,
    /// Whether claims are also read from the userinfo endpoint (they then override the ID token's).
    pub use_userinfo: bool,
}

/// A provider's protocol settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect.
    Oidc(OidcSettings),
    /// SAML 2.0.
    Saml(SamlSettings),
}

impl Protocol {
    /// The protocol's kind.
    pub fn kind(&self) -> ProviderKind {
        match self {
            Protocol::Oidc(_) => ProviderKind::Oidc,
            Protocol::Saml(_) => ProviderKind::Saml,
        }
    }
}

/// A provider to save, as the caller sent it; every field is validated.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    /// Display name (1 to 200 characters), shown on the sign-in page.
    pub name: String,
    /// Whether members may sign in through it.
    pub enabled: bool,
    /// The role of people it creates when no rule matches (not `owner`).
    pub default_role: String,
    /// Mapping rules, tried in order (none grants `owner`).
    pub role_rules: Vec<RoleRule>,
    /// Whether members' roles are set again from the rules on every sign-in.
    pub resync_roles: bool,
    /// The protocol and its settings. For SAML, `certificates` may be PEM or base64 DER, and
    /// `spCertificate` is ignored (the server makes the SP key).
    pub protocol: Protocol,
    /// SAML: IdP metadata to read the IdP's entity id, SSO URL and certificates from, in place of the
    /// settings' own.
    pub saml_metadata: Option<MetadataSource>,
    /// The OIDC client secret: required on create; on update, `None` keeps the stored one.
    pub secret: Option<String>,
}

/// A provider as its tenant sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Whether members may sign in through it.
    pub enabled: bool,
    /// The role of people it creates when no rule matches.
    pub default_role: String,
    /// Mapping rules, in order.
    pub role_rules: Vec<RoleRule>,
    /// Whether roles are set again on every sign-in.
    pub resync_roles: bool,
    /// The protocol and its settings.
    #[serde(skip)]
    pub protocol: Protocol,
    /// Whether a secret is stored.
    pub secret_set: bool,
    /// Where a sign-in through it starts.
    pub start_url: String,
    /// The OIDC redirect URI to register at the identity provider.
    pub redirect_url: String,
    /// SAML: the values to configure at the identity provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp: Option<SpValues>,
    /// Creation time, in milliseconds since the epoch.
    pub created_at: i64,
    /// Last change, in milliseconds since the epoch.
    pub updated_at: i64,
}

/// A SAML provider's service-provider values, to enter at the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpValues {
    /// The SP entity id (the audience of every assertion).
    pub entity_id: String,
    /// The assertion consumer service URL (HTTP-POST).
    pub acs_url: String,
    /// Where the SP metadata document is served.
    pub metadata_url: String,
}

/// What the audit log keeps of a provider: its view with the protocol settings, and whether this change
/// replaced the secret (never the secret).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Audited<'a> {
    #[serde(flatten)]
    provider: &'a Provider,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    oidc: Option<&'a OidcSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saml: Option<&'a SamlSettings>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    secret_replaced: bool,
}

/// A request's fields once validated.
struct Checked {
    name: String,
    config: String,
    role_rules: String,
    secret: SecretChange,
}

/// What saving a provider does to its sealed secret.
enum SecretChange {
    /// Keeps the stored one (sealed again if an older key sealed it).
    Keep,
    /// Replaces it with this sealed one.
    Replace(String),
    /// Removes it (a SAML provider that no longer signs its requests).
    Clear,
}

impl Sso {
    /// The providers of the caller's tenant, oldest first.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn list_providers(&self, scope: &TenantScope) -> Result<Vec<Provider>, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let rows = self.db.scoped(scope).sso_providers().await?;
        rows.iter().map(|row| self.view(row)).collect()
    }

    /// Provider `id` of the caller's tenant.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), provider_id = id))]
    pub async fn read_provider(&self, scope: &TenantScope, id: i64) -> Result<Provider, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let row = self
            .db
            .scoped(scope)
            .get::<sso_provider::Model>(id)
            .await?
            .ok_or(SsoError::NotFound(id))?;
        self.view(&row)
    }

    /// Creates a provider in the caller's tenant.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn create_provider(
        &self,
        scope: &TenantScope,
        request: ProviderRequest,
    ) -> Result<Provider, SsoError> {
        scope.require::<perm::ManageSso>()?;
        if matches!(request.protocol, Protocol::Oidc(_)) && request.secret.is_none() {
            return Err(invalid("clientSecret", "a client secret is required"));
        }
        let now = now_millis();
        let tx = self.db.scoped(scope).begin().await?;
        tx.tenant_plan().await?.require(Feature::Sso)?;
        let checked = self.check(&tx, scope, &request, None).await?;
        let row = tx
            .insert_row(sso_provider::New {
                name: checked.name,
                kind: request.protocol.kind().as_str().to_owned(),
                enabled: request.enabled,
                config: checked.config,
                secret: match checked.secret {
                    SecretChange::Replace(sealed) => Some(sealed),
                    SecretChange::Keep | SecretChange::Clear => None,
                },
                default_role: request.default_role,
                role_rules: checked.role_rules,
                resync_roles: request.resync_roles,
                created_at: now,
                updated_at: now,
            })
            .await?;
        let provider = self.view(&row)?;
        let after = audited(&provider, true);
        audit(
            &tx,
            scope,
            AuditAction::SsoProviderCreate,
            provider.id,
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(provider_id = provider.id, kind = %row.kind, "identity provider created");
        Ok(provider)
    }

    /// Replaces provider `id`'s settings; the stored secret is kept unless a new one is sent. Disabling
    /// it ends the sessions started through it.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), provider_id = id))]
    pub async fn update_provider(
        &self,
        scope: &TenantScope,
        id: i64,
        request: ProviderRequest,
    ) -> Result<Provider, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let before_row = tx
            .get::<sso_provider::Model>(id)
            .await?
            .ok_or(SsoError::NotFound(id))?;
        let kind = request.protocol.kind().as_str();
        if before_row.kind != kind {
            return Err(invalid(
                "kind",
                format!(
                    "a provider's kind cannot change (it is {}); create a new provider",
                    before_row.kind
                ),
            ));
        }
        if request.enabled && !before_row.enabled {
            tx.tenant_plan().await?.require(Feature::Sso)?;
        }
        let checked = self.check(&tx, scope, &request, Some(&before_row)).await?;
        let secret_replaced = matches!(checked.secret, SecretChange::Replace(_));
        let context = secret_context(scope.tenant_id());
        let secret = match (checked.secret, before_row.secret.clone()) {
            (SecretChange::Replace(sealed), _) => Some(sealed),
            (SecretChange::Clear, _) => None,
            // A secret sealed with an older key is sealed again with the current one.
            (SecretChange::Keep, Some(old)) if !self.secrets.is_current(&old) => Some(
                self.secrets
                    .seal(&self.secrets.open(&old, &context)?, &context)?,
            ),
            (SecretChange::Keep, old) => old,
        };
        let after_row = sso_provider::Model {
            name: checked.name,
            enabled: request.enabled,
            config: checked.config,
            secret,
            default_role: request.default_role,
            role_rules: checked.role_rules,
            resync_roles: request.resync_roles,
            updated_at: now_millis(),
            ..before_row.clone()
        };
        tx.update_row(after_row.clone()).await?;
        let (before, after) = (self.view(&before_row)?, self.view(&after_row)?);
        audit(
            &tx,
            scope,
            AuditAction::SsoProviderUpdate,
            id,
            Some(audited(&before, false)),
            Some(audited(&after, secret_replaced)),
        )
        .await?;
        tx.commit().await?;
        self.oidc.forget(id);
        if before.enabled && !after.enabled {
            self.end_sessions_of(id).await?;
        }
        tracing::info!(
            provider_id = id,
            enabled = after.enabled,
            "identity provider updated"
        );
        Ok(after)
    }

    /// Deletes provider `id`: its links to users and its sign-ins in flight go with it, and the sessions
    /// started through it end. The users it created stay members.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), provider_id = id))]
    pub async fn delete_provider(&self, scope: &TenantScope, id: i64) -> Result<(), SsoError> {
        scope.require::<perm::ManageSso>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row = tx
            .get::<sso_provider::Model>(id)
            .await?
            .ok_or(SsoError::NotFound(id))?;
        let before = self.view(&row)?;
        tx.delete_sso_provider(id).await?;
        audit(
            &tx,
            scope,
            AuditAction::SsoProviderDelete,
            id,
            Some(audited(&before, false)),
            None,
        )
        .await?;
        tx.commit().await?;
        self.oidc.forget(id);
        self.end_sessions_of(id).await?;
        tracing::info!(provider_id = id, "identity provider deleted");
        Ok(())
    }

    /// Ends every session started through provider `id`, on this node at once.
    async fn end_sessions_of(&self, id: i64) -> Result<(), SsoError> {
        self.accounts
            .sessions()
            .end_all_through_provider(id)
            .await?;
        Ok(())
    }

    /// Validates `request` in the caller's tenant (replacing provider `before`, if any) and seals its
    /// secret.
    async fn check(
        &self,
        tx: &TenantTx,
        scope: &TenantScope,
        request: &ProviderRequest,
        before: Option<&sso_provider::Model>,
    ) -> Result<Checked, SsoError> {
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid("name", "the name has 1 to 200 characters"));
        }
        check_role(tx, "defaultRole", &request.default_role).await?;
        if request.role_rules.len() > MAX_RULES {
            return Err(invalid(
                "roleRules",
                "a provider has at most 50 mapping rules",
            ));
        }
        for rule in &request.role_rules {
            let text_ok = |t: &str| !t.trim().is_empty() && t.chars().count() <= MAX_RULE_TEXT;
            if !text_ok(&rule.claim) || !text_ok(&rule.value) {
                return Err(invalid(
                    "roleRules",
                    "each rule names a claim and a value of 1 to 500 characters",
                ));
            }
            check_role(tx, "roleRules", &rule.role).await?;
        }
        let context = secret_context(scope.tenant_id());
        let (config, secret) = match &request.protocol {
            Protocol::Oidc(oidc) => {
                let secret = match &request.secret {
                    None => SecretChange::Keep,
                    Some(secret) => {
                        if secret.is_empty() || secret.len() > MAX_CREDENTIAL_BYTES {
                            return Err(invalid(
                                "clientSecret",
                                "the client secret has 1 to 2048 bytes",
                            ));
                        }
                        SecretChange::Replace(self.secrets.seal(secret, &context)?)
                    }
                };
                (check_oidc(oidc)?, secret)
            }
            Protocol::Saml(settings) => {
                let previous = match before.map(|row| self.view(row)) {
                    Some(Ok(Provider {
                        protocol: Protocol::Saml(previous),
                        ..
                    })) => before.and_then(|row| row.secret.as_ref()).map(|_| previous),
                    Some(Err(e)) => return Err(e),
                    _ => None,
                };
                let mut stored = self
                    .read_saml_settings(settings, request.saml_metadata.as_ref())
                    .await?;
                let secret = if !stored.sign_requests {
                    stored.sp_certificate = None;
                    SecretChange::Clear
                } else if let Some(certificate) = previous.and_then(|p| p.sp_certificate) {
                    stored.sp_certificate = Some(certificate);
                    SecretChange::Keep
                } else {
                    let (key, certificate) = saml::generate_sp_key()?;
                    stored.sp_certificate = Some(certificate);
                    SecretChange::Replace(self.secrets.seal(&key, &context)?)
                };
                let config =
                    serde_json::to_string(&stored).map_err(|e| SsoError::Unexpected(e.into()))?;
                (config, secret)
            }
        };
        Ok(Checked {
            name: name.to_owned(),
            config,
            role_rules: serde_json::to_string(&request.role_rules)
                .map_err(|e| SsoError::Unexpected(e.into()))?,
            secret,
        })
    }

    /// The view of a stored provider.
    pub(super) fn view(&self, row: &sso_provider::Model) -> Result<Provider, SsoError> {
        let corrupt = |what: &str, e: String| {
            SsoError::Unexpected(anyhow::anyhow!(
                "identity provider {}: stored {what} does not parse: {e}",
                row.id
            ))
        };
        let settings = |e: serde_json::Error| corrupt("settings", e.to_string());
        let protocol = match ProviderKind::parse(&row.kind) {
            Some(ProviderKind::Oidc) => {
                Protocol::Oidc(serde_json::from_str(&row.config).map_err(settings)?)
            }
            Some(ProviderKind::Saml) => {
                Protocol::Saml(serde_json::from_str(&row.config).map_err(settings)?)
            }
            None => return Err(corrupt("kind", row.kind.clone())),
        };
        let sp = match &protocol {
            Protocol::Saml(saml) => Some(SpValues {
                entity_id: self.sp_entity_id(row.id, saml),
                acs_url: self.saml_acs_url(row.id),
                metadata_url: self.saml_metadata_url(row.id),
            }),
            Protocol::Oidc(_) => None,
        };
        Ok(Provider {
            id: row.id,
            name: row.name.clone(),
            enabled: row.enabled,
            default_role: row.default_role.clone(),
            role_rules: serde_json::from_str(&row.role_rules)
                .map_err(|e| corrupt("rules", e.to_string()))?,
            resync_roles: row.resync_roles,
            protocol,
            secret_set: row.secret.is_some(),
            start_url: self.start_url(row.id),
            redirect_url: self.oidc_redirect_url(row.id),
            sp,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Sso {
    /// The SAML settings to store for `settings`: the IdP's values read from `metadata` when given
    /// (fetched when it is a URL), certificates as base64 DER, every value checked.
    async fn read_saml_settings(
        &self,
        settings: &SamlSettings,
        metadata: Option<&MetadataSource>,
    ) -> Result<SamlSettings, SsoError> {
        let mut stored = SamlSettings {
            idp_entity_id: settings.idp_entity_id.trim().to_owned(),
            sso_url: settings.sso_url.trim().to_owned(),
            certificates: settings
                .certificates
                .iter()
                .map(|c| saml::parse_certificate(c))
                .collect::<Result<_, _>>()?,
            metadata_url: None,
            sp_entity_id: settings
                .sp_entity_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            sign_requests: settings.sign_requests,
            sp_certificate: None,
            allow_idp_initiated: settings.allow_idp_initiated,
            email_attribute: settings.email_attribute.clone(),
            name_attribute: settings.name_attribute.clone(),
        };
        let xml = match metadata {
            None => None,
            Some(MetadataSource::Xml(xml)) => Some(xml.clone()),
            Some(MetadataSource::Url(url)) => {
                saml::check_url("metadataURL", url)?;
                stored.metadata_url = Some(url.clone());
                Some(
                    self.oidc
                        .fetch_text(url, saml::MAX_METADATA_BYTES)
                        .await
                        .map_err(|e| {
                            invalid(
                                "metadataURL",
                                format!("the IdP metadata could not be read: {e}"),
                            )
                        })?,
                )
            }
        };
        if let Some(xml) = xml {
            let read = saml::parse_metadata(&xml)?;
            stored.idp_entity_id = read.entity_id;
            stored.sso_url = read.sso_url;
            stored.certificates = read.certificates;
        }
        saml::check_settings(&stored)?;
        Ok(stored)
    }
}

/// Refuses `owner` and roles the tenant does not have.
async fn check_role(tx: &TenantTx, field: &'static str, role: &str) -> Result<(), SsoError> {
    if role == BuiltInRole::Owner.as_str() {
        return Err(invalid(field, "single sign-on never grants the owner role"));
    }
    let built_in = BuiltInRole::parse(role).is_ok();
    if built_in || tx.role_by_key(role).await?.is_some() {
        Ok(())
    } else {
        Err(invalid(field, format!("role {role:?} does not exist")))
    }
}

/// Checks OIDC settings and returns them as stored.
fn check_oidc(oidc: &OidcSettings) -> Result<String, SsoError> {
    check_issuer(&oidc.issuer)?;
    let client_id = oidc.client_id.trim();
    if client_id.is_empty() || client_id.len() > MAX_CREDENTIAL_BYTES {
        return Err(invalid("clientId", "the client id has 1 to 2048 bytes"));
    }
    let mut scopes: Vec<String> = if oidc.scopes.is_empty() {
        DEFAULT_OIDC_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        oidc.scopes.clone()
    };
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".to_owned());
    }
    scopes.dedup();
    let token_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    if scopes.len() > MAX_SCOPES || !scopes.iter().all(|s| token_ok(s)) {
        return Err(invalid(
            "scopes",
            "at most 20 scopes, each printable ASCII without spaces, quotes or backslashes",
        ));
    }
    let stored = OidcSettings {
        issuer: oidc.issuer.clone(),
        client_id: client_id.to_owned(),
        scopes,
        use_userinfo: oidc.use_userinfo,
    };
    serde_json::to_string(&stored).map_err(|e| SsoError::Unexpected(e.into()))
}

/// An issuer is an absolute `https` URL without query or fragment (`http` only on a loopback host).
fn check_issuer(issuer: &str) -> Result<(), SsoError> {
    let bad = |why: &str| invalid("issuer", format!("the issuer {why}"));
    let url = Url::parse(issuer).map_err(|_| bad("is not an absolute URL"))?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad("has no query, fragment or user name"));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad("uses https")),
    }
}

fn audited(provider: &Provider, secret_replaced: bool) -> Audited<'_> {
    Audited {
        provider,
        kind: provider.protocol.kind().as_str(),
        oidc: match &provider.protocol {
            Protocol::Oidc(oidc) => Some(oidc),
            Protocol::Saml(_) => None,
        },
        saml: match &provider.protocol {
            Protocol::Saml(saml) => Some(saml),
            Protocol::Oidc(_) => None,
        },
        secret_replaced,
    }
}

async fn audit(
    tx: &TenantTx,
    scope: &TenantScope,
    action: AuditAction,
    id: i64,
    before: Option<Audited<'_>>,
    after: Option<Audited<'_>>,
) -> Result<(), SsoError> {
    let json = |v: Option<Audited<'_>>| {
        v.map_or_else(|| Ok("null".to_owned()), |v| serde_json::to_string(&v))
            .map_err(|e| SsoError::Unexpected(e.into()))
    };
    let event = NewAuditEvent::by(
        scope,
        action,
        ("sso_provider", &id.to_string()),
        "",
        json(before)?,
        json(after)?,
    );
    tx.append_audit(event).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_urls_or_loopback_http() {
        for good in [
            "https://acme.okta.com",
            "https://login.microsoftonline.com/tid/v2.0",
            "http://127.0.0.1:9000",
            "http://localhost:8080/realms/acme",
        ] {
            assert!(check_issuer(good).is_ok(), "{good}");
        }
        for bad in [
            "acme.okta.com",
            "http://acme.okta.com",
            "https://acme.okta.com/?x=1",
            "https://acme.okta.com/#f",
            "https://user@acme.okta.com",
            "ftp://acme.okta.com",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn openid_is_always_asked_for() {
        let oidc = OidcSettings {
            issuer: "https://idp.example".into(),
            client_id: " app ".into(),
            scopes: vec!["email".into(), "groups".into()],
            use_userinfo: false,
        };
        let stored: OidcSettings = serde_json::from_str(&check_oidc(&oidc).unwrap()).unwrap();
        assert_eq!(stored.scopes, ["openid", "email", "groups"]);
        assert_eq!(stored.client_id, "app");
        let spaced = OidcSettings {
            scopes: vec!["openid email".into()],
            ..oidc
        };
        assert!(check_oidc(&spaced).is_err());
    }
}
