//! The single sign-on pages (`/ui/t/{tenant}/sso`, `/ui/t/{tenant}/sso/providers/{id}`): the
//! tenant's identity providers, claimed domains and enforcement, read through the same service as
//! `GET /api/v1/sso/…` with the same permission (`sso:manage`). Their forms submit to the JSON API
//! (`/api/v1/sso/providers…`, `/api/v1/sso/domains…`, `PUT /api/v1/sso/enforcement`); the enforcement
//! form is shown only to viewers whose role grants `tenant:manage`, which that route needs.
//!
//! Invariant: no view carries a provider's secret (the service's `Provider` has none).

use super::page::{PageQuery, Refusal, Viewer, html};
use super::settings::{allows, key_rows};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use flagent_auth::Need;
use flagent_auth::sso::{Protocol, Provider, RuleOp, SsoError};
use flagent_types::{Permission, Principal, Scope, TenantScope, perm};
use flagent_ui::{
    DomainRow, IdentityProvider, MemberChoice, Moment, OidcFields, ProviderForm, ProviderSettings,
    Provisioning, RoleOption, RuleRow, SamlFields, SpFields, SsoPage, SsoProviderPage,
};
use serde::Deserialize;

fn refuse(error: SsoError) -> Refusal {
    Refusal::from_api(ApiError::from(error))
}

/// `/ui/t/{tenant}/sso`: the providers, the form for a new one, the domains and the enforcement.
pub(super) async fn sso(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let need = Need::of::<perm::ManageSso>();
    let viewer =
        Viewer::needing(&req, &state, &tenant, &query, "sso", "Single sign-on", need).await?;
    let scope = &viewer.scope;
    let providers = state.sso.list_providers(scope).await.map_err(refuse)?;
    let now = Utc::now();
    let domains = state
        .sso
        .list_domains(scope)
        .await
        .map_err(refuse)?
        .into_iter()
        .map(|d| DomainRow {
            id: d.id,
            domain: d.domain,
            txt_name: d.txt_name,
            txt_value: d.txt_value,
            verified_at: d.verified_at.map(|at| Moment::from_millis(at, now)),
        })
        .collect();
    let enforcement = state.sso.enforcement(scope).await.map_err(refuse)?;
    let members = members(&state, scope, &enforcement.break_glass).await?;
    let roles = grantable_roles(&state, scope).await?;
    let can_enforce = allows(&state, &viewer, perm::ManageTenant::NAME).await;
    let provisioning = if allows(&state, &viewer, perm::ManageKeys::NAME).await {
        let mut tokens = key_rows(&state, scope).await?;
        tokens.retain(|k| k.scopes.iter().any(|s| s == Scope::Scim.as_str()));
        Some(Provisioning {
            base_url: state.sso.scim_base(),
            tokens,
        })
    } else {
        None
    };
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &SsoPage {
            shell: viewer.shell,
            providers: providers.into_iter().map(identity_provider).collect(),
            form: ProviderForm::new_provider(),
            roles,
            domains,
            enforced: enforcement.enforced,
            members,
            break_glass: enforcement.break_glass,
            can_enforce,
            provisioning,
        },
        Some(&nonce),
    ))
}

/// The provider page's query: the frame's, and whether the provider was just created.
#[derive(Deserialize)]
pub(super) struct ProviderQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    saved: Option<String>,
}

/// `/ui/t/{tenant}/sso/providers/{id}`: one provider, the values to give its identity provider, and
/// its edit form.
pub(super) async fn provider(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<ProviderQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let query = query.into_inner();
    let need = Need::of::<perm::ManageSso>();
    let viewer = Viewer::needing(
        &req,
        &state,
        &tenant,
        &query.page,
        "sso",
        "Identity provider",
        need,
    )
    .await?;
    let found = state.sso.read_provider(&viewer.scope, id).await;
    let provider = identity_provider(found.map_err(refuse)?);
    let roles = grantable_roles(&state, &viewer.scope).await?;
    let mut shell = viewer.shell;
    shell.title = provider.name.clone();
    let nonce = shell.nonce.clone();
    Ok(html(
        &SsoProviderPage {
            shell,
            form: ProviderForm::editing(&provider),
            provider,
            roles,
            saved: query.saved.is_some(),
        },
        Some(&nonce),
    ))
}

/// The members to pick from for password sign-in, when the viewer may list members
/// (`members:manage`); `None` otherwise.
async fn members(
    state: &AppState,
    scope: &TenantScope,
    break_glass: &[i64],
) -> Result<Option<Vec<MemberChoice>>, Refusal> {
    if !scope.permits::<perm::ManageMembers>() {
        return Ok(None);
    }
    let members = state
        .members
        .list_members(scope)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let me = match scope.principal() {
        Principal::User { id, .. } => Some(id.0),
        Principal::ApiKey { .. } | Principal::System { .. } => None,
    };
    Ok(Some(
        members
            .into_iter()
            .map(|m| MemberChoice {
                chosen: break_glass.contains(&m.user_id),
                is_viewer: Some(m.user_id) == me,
                user_id: m.user_id,
                email: m.email,
                name: m.name,
            })
            .collect(),
    ))
}

/// The roles a provider may grant: every role of the tenant but `owner`; the built-in ones alone when
/// the viewer may not list roles.
async fn grantable_roles(
    state: &AppState,
    scope: &TenantScope,
) -> Result<Vec<RoleOption>, Refusal> {
    let roles: Vec<RoleOption> =
        if scope.permits::<perm::ManageMembers>() || scope.permits::<perm::Read>() {
            state
                .members
                .list_roles(scope)
                .await
                .map_err(|e| Refusal::from_api(e.into()))?
                .into_iter()
                .map(|r| RoleOption {
                    key: r.key,
                    name: r.name,
                    built_in: r.built_in,
                })
                .collect()
        } else {
            flagent_auth::rbac::BUILT_IN_ROLES
                .iter()
                .map(|key| RoleOption {
                    key: (*key).to_owned(),
                    name: (*key).to_owned(),
                    built_in: true,
                })
                .collect()
        };
    Ok(roles.into_iter().filter(|r| r.key != "owner").collect())
}

/// The view of a provider.
fn identity_provider(p: Provider) -> IdentityProvider {
    let (settings, sp) = match p.protocol {
        Protocol::Oidc(o) => (
            ProviderSettings::Oidc(OidcFields {
                issuer: o.issuer,
                client_id: o.client_id,
                scopes: o.scopes,
                use_userinfo: o.use_userinfo,
                secret_set: p.secret_set,
            }),
            None,
        ),
        Protocol::Saml(s) => {
            let sp = p.sp.map(|sp| SpFields {
                entity_id: sp.entity_id,
                acs_url: sp.acs_url,
                metadata_url: sp.metadata_url,
                signing_certificate: s.sp_certificate.clone(),
            });
            let fields = SamlFields {
                idp_entity_id: s.idp_entity_id,
                sso_url: s.sso_url,
                certificates: s.certificates,
                metadata_url: s.metadata_url,
                sp_entity_id: s.sp_entity_id,
                sign_requests: s.sign_requests,
                allow_idp_initiated: s.allow_idp_initiated,
                email_attribute: s.email_attribute,
                name_attribute: s.name_attribute,
            };
            (ProviderSettings::Saml(fields), sp)
        }
    };
    IdentityProvider {
        id: p.id,
        name: p.name,
        enabled: p.enabled,
        default_role: p.default_role,
        rules: p
            .role_rules
            .into_iter()
            .map(|r| RuleRow {
                claim: r.claim,
                op: match r.op {
                    RuleOp::Equals => "equals",
                    RuleOp::Contains => "contains",
                }
                .to_owned(),
                value: r.value,
                role: r.role,
            })
            .collect(),
        resync_roles: p.resync_roles,
        settings,
        start_url: p.start_url,
        redirect_url: p.redirect_url,
        sp,
    }
}
