//! Claimed email domains: a tenant claims `acme.com`, proves it with a DNS TXT record, and from then on
//! the sign-in page sends `@acme.com` to its providers and a first sign-in may link an existing
//! `@acme.com` account.
//!
//! Invariant: a domain counts as the tenant's only once its TXT record
//! (`_flagent-challenge.<domain>` = `flagent-verification=<token>`) was read from DNS, and at
//! most one tenant holds a domain verified (a unique column).
//! Invariant: discovery answers the same shape whether or not the domain belongs to anyone, and names
//! only enabled providers of a tenant whose plan includes single sign-on.

use super::error::invalid;
use super::{Sso, SsoError};
use crate::now_millis;
use flagent_storage::NewAuditEvent;
use flagent_storage::entities::sso_domain;
use flagent_types::{AuditAction, Feature, TenantId, TenantScope, perm};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use serde::Serialize;
use std::net::SocketAddr;

/// The label the TXT record is put under.
pub const TXT_LABEL: &str = "_flagent-challenge";
/// What the TXT record's value starts with.
pub const TXT_PREFIX: &str = "flagent-verification=";
/// Most domains one tenant claims.
const MAX_DOMAINS: usize = 50;

/// A claimed domain as its tenant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    /// Row id.
    pub id: i64,
    /// The domain, lower case.
    pub domain: String,
    /// When its TXT record was read, in milliseconds since the epoch.
    pub verified_at: Option<i64>,
    /// The name the TXT record goes under.
    pub txt_name: String,
    /// The value the TXT record holds.
    pub txt_value: String,
    /// When it was claimed, in milliseconds since the epoch.
    pub created_at: i64,
}

/// A provider the sign-in page offers for an email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offered {
    /// Provider id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// `oidc` or `saml`.
    pub kind: &'static str,
    /// Where the sign-in starts.
    pub start_url: String,
}

/// Reads TXT records: the system's resolver, or a configured server.
pub(crate) struct Dns(TokioResolver);

impl Dns {
    pub(crate) fn new(server: Option<SocketAddr>) -> Result<Self, SsoError> {
        let fail = |e: hickory_resolver::net::NetError| {
            SsoError::Unexpected(anyhow::anyhow!("DNS resolver: {e}"))
        };
        let mut builder = match server {
            Some(address) => {
                let mut name_server = NameServerConfig::udp_and_tcp(address.ip());
                for connection in &mut name_server.connections {
                    connection.port = address.port();
                }
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![name_server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(fail)?,
        };
        // A record just added must be seen by the next check.
        builder.options_mut().cache_size = 0;
        Ok(Dns(builder.build().map_err(fail)?))
    }

    /// The TXT values under `name` (each record's strings joined); none when it has none.
    async fn txt(&self, name: &str) -> Vec<String> {
        let Ok(lookup) = self.0.txt_lookup(format!("{name}.")).await else {
            return Vec::new();
        };
        lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                hickory_resolver::proto::rr::RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect()
    }
}

impl Sso {
    /// The caller tenant's claimed domains, in the order claimed.
    pub async fn list_domains(&self, scope: &TenantScope) -> Result<Vec<Domain>, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let rows = self.db.scoped(scope).sso_domains().await?;
        Ok(rows.iter().map(view).collect())
    }

    /// Claims `domain` for the caller's tenant; it counts once verified.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn claim_domain(
        &self,
        scope: &TenantScope,
        domain: &str,
    ) -> Result<Domain, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let domain = parse_domain(domain)?;
        let tx = self.db.scoped(scope).begin().await?;
        tx.tenant_plan().await?.require(Feature::Sso)?;
        let claimed = tx.sso_domains().await?;
        if claimed.iter().any(|d| d.domain == domain) {
            return Err(SsoError::DomainTaken(format!(
                "{domain} is already claimed by this organisation"
            )));
        }
        if claimed.len() >= MAX_DOMAINS {
            return Err(invalid(
                "domain",
                "an organisation claims at most 50 domains",
            ));
        }
        let row = tx
            .insert_row(sso_domain::New {
                domain,
                token: crate::random_token(),
                created_at: now_millis(),
            })
            .await?;
        let claimed = view(&row);
        audit(
            &tx,
            scope,
            AuditAction::SsoDomainClaim,
            &claimed,
            None,
            Some(&claimed),
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Reads domain `id`'s TXT record and, when it holds the token, marks the domain verified.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), domain_id = id))]
    pub async fn verify_domain(&self, scope: &TenantScope, id: i64) -> Result<Domain, SsoError> {
        scope.require::<perm::ManageSso>()?;
        let db = self.db.scoped(scope);
        let row = db
            .get::<sso_domain::Model>(id)
            .await?
            .ok_or(SsoError::DomainNotFound(id))?;
        if row.verified_at.is_some() {
            return Ok(view(&row));
        }
        let before = view(&row);
        let found = self.dns.txt(&before.txt_name).await;
        if !found.iter().any(|value| value.trim() == before.txt_value) {
            return Err(SsoError::DomainUnverified(format!(
                "no TXT record {} with the value {} was found; DNS changes can take a while to appear",
                before.txt_name, before.txt_value
            )));
        }
        let tx = db.begin().await?;
        let verified = sso_domain::Model {
            verified_at: Some(now_millis()),
            verified_domain: Some(row.domain.clone()),
            ..row.clone()
        };
        match tx.update_row(verified.clone()).await {
            Ok(()) => {}
            Err(flagent_storage::StorageError::Duplicate(_)) => {
                return Err(SsoError::DomainTaken(format!(
                    "another organisation has verified {}",
                    row.domain
                )));
            }
            Err(other) => return Err(other.into()),
        }
        let after = view(&verified);
        audit(
            &tx,
            scope,
            AuditAction::SsoDomainVerify,
            &after,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(domain = %row.domain, "email domain verified");
        Ok(after)
    }

    /// Removes domain `id` from the caller's tenant.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), domain_id = id))]
    pub async fn remove_domain(&self, scope: &TenantScope, id: i64) -> Result<(), SsoError> {
        scope.require::<perm::ManageSso>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row = tx
            .get::<sso_domain::Model>(id)
            .await?
            .ok_or(SsoError::DomainNotFound(id))?;
        tx.delete_sso_domain(id).await?;
        let before = view(&row);
        audit(
            &tx,
            scope,
            AuditAction::SsoDomainRemove,
            &before,
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The providers the sign-in page offers for `email`: the enabled providers of the tenant that
    /// verified its domain, if its plan includes single sign-on; else none.
    pub async fn discover(&self, email: &str) -> Result<Vec<Offered>, SsoError> {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .unwrap_or_default();
        let system = self.db.system(&self.system);
        let owner = system.verified_sso_domain(&domain).await?;
        // The same queries run whether or not the domain is anyone's.
        let tenant = TenantId(owner.as_ref().map_or(0, |d| d.tenant_id));
        let tdb = self.db.scoped_for_system(&self.system, tenant);
        let providers = tdb.sso_providers().await?;
        if owner.is_none() || tdb.tenant_plan().await?.require(Feature::Sso).is_err() {
            return Ok(Vec::new());
        }
        providers
            .iter()
            .filter(|row| row.enabled)
            .map(|row| {
                let provider = self.view(row)?;
                Ok(Offered {
                    id: provider.id,
                    name: provider.name,
                    kind: provider.protocol.kind().as_str(),
                    start_url: provider.start_url,
                })
            })
            .collect()
    }

    /// Whether `domain` is one of the tenant's verified email domains.
    pub(super) async fn domain_verified(
        &self,
        tenant: &flagent_storage::TenantDb,
        domain: &str,
    ) -> Result<bool, SsoError> {
        Ok(tenant
            .sso_domains()
            .await?
            .iter()
            .any(|d| d.verified_at.is_some() && d.domain == domain))
    }
}

/// A domain as typed: lower case, no trailing dot, two or more labels of letters, digits and inner
/// hyphens, at most 253 characters.
fn parse_domain(text: &str) -> Result<String, SsoError> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| label_ok(l))
        && !labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(domain)
    } else {
        Err(invalid("domain", "a domain such as acme.com"))
    }
}

fn view(row: &sso_domain::Model) -> Domain {
    Domain {
        id: row.id,
        domain: row.domain.clone(),
        verified_at: row.verified_at,
        txt_name: format!("{TXT_LABEL}.{}", row.domain),
        txt_value: format!("{TXT_PREFIX}{}", row.token),
        created_at: row.created_at,
    }
}

async fn audit(
    tx: &flagent_storage::TenantTx,
    scope: &TenantScope,
    action: AuditAction,
    domain: &Domain,
    before: Option<&Domain>,
    after: Option<&Domain>,
) -> Result<(), SsoError> {
    let json =
        |d: Option<&Domain>| serde_json::to_string(&d).map_err(|e| SsoError::Unexpected(e.into()));
    tx.append_audit(NewAuditEvent::by(
        scope,
        action,
        ("sso_domain", &domain.id.to_string()),
        "",
        json(before)?,
        json(after)?,
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_host_names_of_two_labels_or_more() {
        assert_eq!(parse_domain(" Acme.COM. ").unwrap(), "acme.com");
        assert_eq!(
            parse_domain("eu.acme-corp.co.uk").unwrap(),
            "eu.acme-corp.co.uk"
        );
        for bad in [
            "acme",
            "",
            "-acme.com",
            "acme-.com",
            "acme..com",
            "a b.com",
            "10.0.0.1",
            "@acme.com",
        ] {
            assert!(parse_domain(bad).is_err(), "{bad:?}");
        }
    }
}
