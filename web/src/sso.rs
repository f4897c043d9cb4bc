//! Single sign-on routes: identity provider management (`/api/v1/sso/providers…`, `sso:manage`) and
//! the browser's sign-in through a provider (`/sso/{providerID}/start`, `/sso/oidc/{providerID}/callback`,
//! `/sso/saml/{providerID}/acs`), with each SAML provider's SP metadata (`/sso/saml/{providerID}/metadata`).
//!
//! Invariant: no view carries a provider's secret; a request may set it, never read it.
//! Invariant: the browser routes never answer JSON errors: a refused sign-in ends on the sign-in page
//! with the error's code and a support code that is also in the log, and what exactly failed is in the
//! tenant's audit log, not in the browser.

use crate::account::session_cookies;
use crate::auth::{Auth, origin};
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web::{self, Data, Json, Path, Query, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use flagent_auth::sso::{
    Finished, MetadataSource, OidcReturn, OidcSettings, Protocol, Provider, ProviderRequest,
    RoleRule, RuleOp, SamlPost, SamlSettings, SsoError, StartedSignIn,
};

use flagent_types::perm;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The cookie binding a sign-in in flight to the browser that started it.
const BROWSER_COOKIE: &str = "flagent_sso";

/// Registers the provider management routes under the `/api/v1` scope.
pub(crate) fn configure_sso_api(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/sso/providers")
            .route(web::get().to(list_providers))
            .route(web::post().to(create_provider)),
    )
    .service(
        web::resource("/sso/providers/{providerID}")
            .route(web::get().to(get_provider))
            .route(web::put().to(put_provider))
            .route(web::delete().to(delete_provider)),
    )
    .service(web::resource("/sso/providers/{providerID}/test").route(web::post().to(test_sign_in)))
    .service(
        web::resource("/sso/domains")
            .route(web::get().to(list_domains))
            .route(web::post().to(claim_domain)),
    )
    .service(web::resource("/sso/domains/{domainID}").route(web::delete().to(remove_domain)))
    .service(web::resource("/sso/domains/{domainID}/verify").route(web::post().to(verify_domain)))
    .service(
        web::resource("/sso/enforcement")
            .route(web::get().to(get_enforcement))
            .route(web::put().to(put_enforcement)),
    )
    .service(web::resource("/sso/discover").route(web::post().to(discover)));
}

/// Registers the browser's sign-in routes at the root.
pub(crate) fn configure_sso_browser(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/sso/{providerID}/start").route(web::get().to(start_sign_in)))
        .service(
            web::resource("/sso/oidc/{providerID}/callback").route(web::get().to(oidc_callback)),
        )
        .service(
            web::resource("/sso/saml/{providerID}/metadata").route(web::get().to(saml_metadata)),
        )
        .service(web::resource("/sso/saml/{providerID}/acs").route(web::post().to(saml_acs)));
}

/// An identity provider to create, or the whole of one to replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ProviderBody {
    /// Display name (1 to 200 characters), shown on the sign-in page.
    #[serde(default)]
    name: String,
    /// `oidc` or `saml`.
    #[serde(default)]
    kind: String,
    /// Whether members may sign in through it (default true).
    #[serde(default = "yes")]
    enabled: bool,
    /// The role of people it creates when no rule matches (default `viewer`; never `owner`).
    #[serde(default = "viewer")]
    default_role: String,
    /// Mapping rules, tried in order; the first match sets the role.
    #[serde(default)]
    role_rules: Vec<RuleBody>,
    /// Whether members' roles are set again from the rules on every sign-in (owners are never changed).
    #[serde(default)]
    resync_roles: bool,
    /// OIDC settings (for `kind: oidc`).
    #[serde(default)]
    oidc: Option<OidcBody>,
    /// SAML settings (for `kind: saml`).
    #[serde(default)]
    saml: Option<SamlBody>,
}

/// SAML settings as sent: the IdP's values from its metadata (`metadataXML` or `metadataURL`), or
/// entered one by one (`idpEntityID`, `ssoURL`, `certificates`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SamlBody {
    /// The IdP's metadata document; its entity id, HTTP-Redirect SSO URL and signing certificates
    /// replace the three fields below.
    #[serde(default, rename = "metadataXML")]
    metadata_xml: Option<String>,
    /// Where to fetch the IdP's metadata from (`https`), read when the provider is saved.
    #[serde(default, rename = "metadataURL")]
    metadata_url: Option<String>,
    /// The IdP's entity id (the `Issuer` of its assertions).
    #[serde(default, rename = "idpEntityID")]
    idp_entity_id: String,
    /// The IdP's single sign-on URL (HTTP-Redirect binding).
    #[serde(default, rename = "ssoURL")]
    sso_url: String,
    /// The IdP's signing certificates, PEM or base64 DER; a signature by any of them is accepted, so a
    /// rollover lists the old and the new one.
    #[serde(default)]
    certificates: Vec<String>,
    /// The SP entity id the IdP knows this provider by (default: the SP metadata URL).
    #[serde(default, rename = "spEntityID")]
    sp_entity_id: Option<String>,
    /// Whether AuthnRequests are signed (the SP key is generated and its certificate published in the
    /// SP metadata).
    #[serde(default)]
    sign_requests: bool,
    /// Whether sign-ins started at the IdP (with no AuthnRequest) are accepted (default false).
    #[serde(default)]
    allow_idp_initiated: bool,
    /// The attribute holding the email address (default: `email`, `mail`, the usual claim URIs, or an
    /// email NameID).
    #[serde(default)]
    email_attribute: Option<String>,
    /// The attribute holding the display name (default: `name`, `displayName` or the usual URIs).
    #[serde(default)]
    name_attribute: Option<String>,
}

fn yes() -> bool {
    true
}

fn viewer() -> String {
    "viewer".to_owned()
}

/// OIDC settings as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OidcBody {
    /// The issuer exactly as its tokens name it (`https://acme.okta.com`); discovery is read below it.
    #[serde(default)]
    issuer: String,
    /// The client id registered at the provider.
    #[serde(default)]
    client_id: String,
    /// The client secret: required on create; when absent on update, the stored one is kept. Never
    /// returned.
    #[serde(default)]
    client_secret: Option<String>,
    /// Scopes to ask for (default `openid email profile`; `openid` is always added).
    #[serde(default)]
    scopes: Vec<String>,
    /// Whether claims are also read from the userinfo endpoint.
    #[serde(default)]
    use_userinfo: bool,
}

/// A mapping rule: when `claim` (or one of its values) `equals` or `contains` `value`, grant `role`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RuleBody {
    /// An OIDC claim or SAML attribute name (`groups`).
    claim: String,
    /// `equals` or `contains`.
    op: String,
    /// The value compared with.
    value: String,
    /// The role granted (never `owner`).
    role: String,
}

/// An identity provider, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderView {
    id: i64,
    name: String,
    /// `oidc` or `saml`.
    kind: &'static str,
    enabled: bool,
    default_role: String,
    role_rules: Vec<RuleBody>,
    resync_roles: bool,
    /// OIDC settings (for `kind: oidc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    oidc: Option<OidcView>,
    /// SAML settings (for `kind: saml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    saml: Option<SamlView>,
    /// SAML: the values to enter at the identity provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    sp: Option<SpView>,
    /// Where a sign-in through this provider starts.
    #[serde(rename = "startURL")]
    start_url: String,
    /// The redirect URI to register at the identity provider.
    #[serde(rename = "redirectURL")]
    redirect_url: String,
    created_at: String,
    updated_at: String,
}

/// OIDC settings as shown: the client secret only as whether one is stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OidcView {
    issuer: String,
    client_id: String,
    scopes: Vec<String>,
    use_userinfo: bool,
    /// Whether a client secret is stored.
    client_secret_set: bool,
}

/// SAML settings as shown (the SP key only as its certificate).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SamlView {
    #[serde(rename = "idpEntityID")]
    idp_entity_id: String,
    #[serde(rename = "ssoURL")]
    sso_url: String,
    /// Base64 DER.
    certificates: Vec<String>,
    /// Where the IdP metadata was read from, if from a URL.
    #[serde(rename = "metadataURL")]
    metadata_url: Option<String>,
    /// The SP entity id set for this provider, or null for the default (the SP metadata URL).
    #[serde(rename = "spEntityID")]
    sp_entity_id: Option<String>,
    sign_requests: bool,
    allow_idp_initiated: bool,
    email_attribute: Option<String>,
    name_attribute: Option<String>,
}

/// A SAML provider's service-provider values.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SpView {
    /// The SP entity id: the audience of every assertion.
    #[serde(rename = "entityID")]
    entity_id: String,
    /// The assertion consumer service URL (HTTP-POST binding).
    #[serde(rename = "acsURL")]
    acs_url: String,
    /// The SP metadata document.
    #[serde(rename = "metadataURL")]
    metadata_url: String,
    /// The certificate AuthnRequests are signed with (base64 DER), when they are.
    #[serde(rename = "signingCertificate")]
    signing_certificate: Option<String>,
}

fn time(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<Provider> for ProviderView {
    fn from(p: Provider) -> Self {
        let kind = p.protocol.kind().as_str();
        let (oidc, saml, sp) = match p.protocol {
            Protocol::Oidc(oidc) => (
                Some(OidcView {
                    issuer: oidc.issuer,
                    client_id: oidc.client_id,
                    scopes: oidc.scopes,
                    use_userinfo: oidc.use_userinfo,
                    client_secret_set: p.secret_set,
                }),
                None,
                None,
            ),
            Protocol::Saml(saml) => {
                let sp = p.sp.map(|sp| SpView {
                    entity_id: sp.entity_id,
                    acs_url: sp.acs_url,
                    metadata_url: sp.metadata_url,
                    signing_certificate: saml.sp_certificate.clone(),
                });
                let view = SamlView {
                    idp_entity_id: saml.idp_entity_id,
                    sso_url: saml.sso_url,
                    certificates: saml.certificates,
                    metadata_url: saml.metadata_url,
                    sp_entity_id: saml.sp_entity_id,
                    sign_requests: saml.sign_requests,
                    allow_idp_initiated: saml.allow_idp_initiated,
                    email_attribute: saml.email_attribute,
                    name_attribute: saml.name_attribute,
                };
                (None, Some(view), sp)
            }
        };
        ProviderView {
            id: p.id,
            name: p.name,
            kind,
            enabled: p.enabled,
            default_role: p.default_role,
            role_rules: p
                .role_rules
                .into_iter()
                .map(|r| RuleBody {
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
            oidc,
            saml,
            sp,
            start_url: p.start_url,
            redirect_url: p.redirect_url,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
        }
    }
}

impl TryFrom<ProviderBody> for ProviderRequest {
    type Error = ApiError;

    fn try_from(body: ProviderBody) -> Result<Self, ApiError> {
        let role_rules = body
            .role_rules
            .into_iter()
            .map(|r| {
                let op = match r.op.as_str() {
                    "equals" => RuleOp::Equals,
                    "contains" => RuleOp::Contains,
                    _ => {
                        return Err(ApiError::invalid(
                            "roleRules",
                            "a rule's op is equals or contains",
                        ));
                    }
                };
                Ok(RoleRule {
                    claim: r.claim,
                    op,
                    value: r.value,
                    role: r.role,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (protocol, secret, saml_metadata) = match (body.kind.as_str(), body.oidc, body.saml) {
            ("oidc", Some(oidc), None) => (
                Protocol::Oidc(OidcSettings {
                    issuer: oidc.issuer,
                    client_id: oidc.client_id,
                    scopes: oidc.scopes,
                    use_userinfo: oidc.use_userinfo,
                }),
                oidc.client_secret,
                None,
            ),
            ("saml", None, Some(saml)) => {
                let metadata = match (saml.metadata_xml, saml.metadata_url) {
                    (Some(_), Some(_)) => {
                        return Err(ApiError::invalid(
                            "saml",
                            "send metadataXML or metadataURL, not both",
                        ));
                    }
                    (Some(xml), None) => Some(MetadataSource::Xml(xml)),
                    (None, Some(url)) => Some(MetadataSource::Url(url)),
                    (None, None) => None,
                };
                let settings = SamlSettings {
                    idp_entity_id: saml.idp_entity_id,
                    sso_url: saml.sso_url,
                    certificates: saml.certificates,
                    metadata_url: None,
                    sp_entity_id: saml.sp_entity_id,
                    sign_requests: saml.sign_requests,
                    sp_certificate: None,
                    allow_idp_initiated: saml.allow_idp_initiated,
                    email_attribute: saml.email_attribute,
                    name_attribute: saml.name_attribute,
                };
                (Protocol::Saml(settings), None, metadata)
            }
            ("oidc", _, _) => {
                return Err(ApiError::invalid(
                    "oidc",
                    "an oidc provider has oidc settings and no saml settings",
                ));
            }
            ("saml", _, _) => {
                return Err(ApiError::invalid(
                    "saml",
                    "a saml provider has saml settings and no oidc settings",
                ));
            }
            _ => return Err(ApiError::invalid("kind", "kind is oidc or saml")),
        };
        Ok(ProviderRequest {
            name: body.name,
            enabled: body.enabled,
            default_role: body.default_role,
            role_rules,
            resync_roles: body.resync_roles,
            protocol,
            saml_metadata,
            secret,
        })
    }
}

/// Lists the tenant's identity providers, oldest first.
#[utoipa::path(get, path = "/api/v1/sso/providers", tag = "sso",
    responses((status = 200, body = Vec<ProviderView>)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn list_providers(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
) -> Result<Json<Vec<ProviderView>>, ApiError> {
    let providers = state.sso.list_providers(auth.scope()).await?;
    Ok(Json(
        providers.into_iter().map(ProviderView::from).collect(),
    ))
}

/// Connects an identity provider (the `enterprise` and `self-hosted` plans); its client secret is
/// sealed at rest and never shown again.
#[utoipa::path(post, path = "/api/v1/sso/providers", tag = "sso", request_body = ProviderBody,
    responses((status = 201, body = ProviderView), (status = 402, description = "the plan has no single sign-on")),
    security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn create_provider(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    body: Body<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    let request = ProviderRequest::try_from(body.checked()?)?;
    let provider = state.sso.create_provider(auth.scope(), request).await?;
    Ok(HttpResponse::Created().json(ProviderView::from(provider)))
}

/// Reads one identity provider.
#[utoipa::path(get, path = "/api/v1/sso/providers/{providerID}", tag = "sso", params(("providerID" = i64, Path)),
    responses((status = 200, body = ProviderView)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn get_provider(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<Json<ProviderView>, ApiError> {
    let provider = state.sso.read_provider(auth.scope(), *id).await?;
    Ok(Json(provider.into()))
}

/// Replaces an identity provider's settings (the secret is kept unless a new one is sent). Disabling it
/// ends the sessions started through it.
#[utoipa::path(put, path = "/api/v1/sso/providers/{providerID}", tag = "sso", params(("providerID" = i64, Path)),
    request_body = ProviderBody, responses((status = 200, body = ProviderView)),
    security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn put_provider(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<ProviderBody>,
) -> Result<Json<ProviderView>, ApiError> {
    let request = ProviderRequest::try_from(body.checked()?)?;
    let provider = state
        .sso
        .update_provider(auth.scope(), *id, request)
        .await?;
    Ok(Json(provider.into()))
}

/// Deletes an identity provider: the sessions started through it end; the people it created stay
/// members.
#[utoipa::path(delete, path = "/api/v1/sso/providers/{providerID}", tag = "sso", params(("providerID" = i64, Path)),
    responses((status = 204)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn delete_provider(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.sso.delete_provider(auth.scope(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /sso/domains`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DomainBody {
    /// The email domain (`acme.com`).
    #[serde(default)]
    domain: String,
}

/// A claimed email domain and the DNS TXT record that proves it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DomainView {
    id: i64,
    domain: String,
    verified: bool,
    verified_at: Option<String>,
    /// The name to put the TXT record under.
    txt_name: String,
    /// The TXT record's value.
    txt_value: String,
    created_at: String,
}

impl From<flagent_auth::sso::Domain> for DomainView {
    fn from(d: flagent_auth::sso::Domain) -> Self {
        DomainView {
            id: d.id,
            domain: d.domain,
            verified: d.verified_at.is_some(),
            verified_at: d.verified_at.map(time),
            txt_name: d.txt_name,
            txt_value: d.txt_value,
            created_at: time(d.created_at),
        }
    }
}

/// Lists the tenant's claimed email domains.
#[utoipa::path(get, path = "/api/v1/sso/domains", tag = "sso",
    responses((status = 200, body = Vec<DomainView>)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn list_domains(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
) -> Result<Json<Vec<DomainView>>, ApiError> {
    let domains = state.sso.list_domains(auth.scope()).await?;
    Ok(Json(domains.into_iter().map(DomainView::from).collect()))
}

/// Claims an email domain; it counts once its TXT record is verified.
#[utoipa::path(post, path = "/api/v1/sso/domains", tag = "sso", request_body = DomainBody,
    responses((status = 201, body = DomainView)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn claim_domain(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    body: Body<DomainBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.checked()?;
    let domain = state.sso.claim_domain(auth.scope(), &body.domain).await?;
    Ok(HttpResponse::Created().json(DomainView::from(domain)))
}

/// Reads the domain's TXT record from DNS and, when it holds the token, marks the domain verified.
#[utoipa::path(post, path = "/api/v1/sso/domains/{domainID}/verify", tag = "sso", params(("domainID" = i64, Path)),
    responses((status = 200, body = DomainView), (status = 400, description = "`sso_domain_unverified`: the record was not found"),
        (status = 409, description = "`sso_domain_taken`: another organisation verified it")),
    security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn verify_domain(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<Json<DomainView>, ApiError> {
    Ok(Json(
        state.sso.verify_domain(auth.scope(), *id).await?.into(),
    ))
}

/// Removes a claimed domain.
#[utoipa::path(delete, path = "/api/v1/sso/domains/{domainID}", tag = "sso", params(("domainID" = i64, Path)),
    responses((status = 204)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn remove_domain(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.sso.remove_domain(auth.scope(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /sso/enforcement`, and its answer.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EnforcementBody {
    /// Whether members must sign in through the tenant's identity providers.
    enforced: bool,
    /// The user ids who keep password sign-in (at most 20 members).
    #[serde(default, rename = "breakGlass")]
    break_glass: Vec<i64>,
}

/// Whether the tenant enforces single sign-on, and who keeps their password.
#[utoipa::path(get, path = "/api/v1/sso/enforcement", tag = "sso",
    responses((status = 200, body = EnforcementBody)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn get_enforcement(
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
) -> Result<Json<EnforcementBody>, ApiError> {
    let e = state.sso.enforcement(auth.scope()).await?;
    Ok(Json(EnforcementBody {
        enforced: e.enforced,
        break_glass: e.break_glass,
    }))
}

/// Switches password sign-in off (or on) for the tenant's members, except those named; owners only.
/// Sessions not signed in through the tenant's providers are refused in it at once.
#[utoipa::path(put, path = "/api/v1/sso/enforcement", tag = "sso", request_body = EnforcementBody,
    responses((status = 200, body = EnforcementBody)), security(("api_key" = ["admin"]), ("session" = ["tenant:manage"])))]
pub(crate) async fn put_enforcement(
    auth: Auth<perm::ManageTenant>,
    state: Data<AppState>,
    body: Body<EnforcementBody>,
) -> Result<Json<EnforcementBody>, ApiError> {
    let body = body.checked()?;
    let e = state
        .sso
        .set_enforcement(auth.scope(), body.enforced, body.break_glass)
        .await?;
    state.auth.tenant_changed(auth.scope().tenant_id());
    Ok(Json(EnforcementBody {
        enforced: e.enforced,
        break_glass: e.break_glass,
    }))
}

/// `POST /sso/discover`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiscoverBody {
    /// The email address typed on the sign-in page.
    #[serde(default)]
    email: String,
}

/// The identity providers the sign-in page offers for an email address.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Discovered {
    providers: Vec<OfferedView>,
}

/// One provider to sign in through.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfferedView {
    id: i64,
    name: String,
    /// `oidc` or `saml`.
    kind: &'static str,
    /// Where the sign-in starts.
    #[serde(rename = "startURL")]
    start_url: String,
}

/// The identity providers of the organisation that verified the email's domain; none otherwise (the
/// same answer for an unknown domain and one without single sign-on).
#[utoipa::path(post, path = "/api/v1/sso/discover", tag = "sso", request_body = DiscoverBody,
    responses((status = 200, body = Discovered)))]
pub(crate) async fn discover(
    state: Data<AppState>,
    body: Body<DiscoverBody>,
) -> Result<Json<Discovered>, ApiError> {
    let body = body.checked()?;
    let offered = state.sso.discover(&body.email).await?;
    Ok(Json(Discovered {
        providers: offered
            .into_iter()
            .map(|o| OfferedView {
                id: o.id,
                name: o.name,
                kind: o.kind,
                start_url: o.start_url,
            })
            .collect(),
    }))
}

/// `GET /sso/{providerID}/start`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct StartQuery {
    /// Where to go after signing in: a path under `/ui`.
    next: Option<String>,
}

/// Starts a sign-in through an identity provider: redirects the browser to it.
#[utoipa::path(get, path = "/sso/{providerID}/start", tag = "sso", params(("providerID" = i64, Path), StartQuery),
    responses((status = 303, description = "to the identity provider, or to the sign-in page with `sso_error`")))]
pub(crate) async fn start_sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    id: Path<i64>,
    query: Query<StartQuery>,
) -> HttpResponse {
    let browser = req.cookie(BROWSER_COOKIE);
    let started = state
        .sso
        .start_sign_in(
            *id,
            query.next.as_deref(),
            browser.as_ref().map(|c| c.value()),
        )
        .await;
    match started {
        Ok(started) => redirect(&started.redirect)
            .cookie(browser_cookie(&state, &started))
            .finish(),
        Err(error) => refused(*id, &error),
    }
}

/// The cookie that binds a sign-in in flight to this browser.
fn browser_cookie(state: &AppState, started: &StartedSignIn) -> Cookie<'static> {
    let secure = state.session_cookies.secure;
    // A SAML IdP comes back with a cross-site POST, which carries only a SameSite=None cookie;
    // browsers keep such a cookie only when it is Secure (over plain http, the IdP must share the
    // site for the sign-in to finish).
    let same_site = if started.cross_site_post && secure {
        SameSite::None
    } else {
        SameSite::Lax
    };
    Cookie::build(BROWSER_COOKIE, started.browser.clone())
        .path("/sso/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .max_age(CookieDuration::minutes(10))
        .finish()
}

/// Where a test sign-in goes: the identity provider's URL, to open in a new tab.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TestSignIn {
    /// The identity provider's URL.
    url: String,
}

/// Starts a test sign-in through a provider, enabled or not: open `url` in a new tab of the same
/// browser (the answer sets the sign-in's cookie); it runs at the identity provider like any sign-in
/// and ends on a page that shows the subject, email and every claim or attribute received, without
/// signing anyone in or creating anyone.
#[utoipa::path(post, path = "/api/v1/sso/providers/{providerID}/test", tag = "sso", params(("providerID" = i64, Path)),
    responses((status = 200, body = TestSignIn)), security(("api_key" = ["admin"]), ("session" = ["sso:manage"])))]
pub(crate) async fn test_sign_in(
    req: HttpRequest,
    auth: Auth<perm::ManageSso>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let browser = req.cookie(BROWSER_COOKIE);
    let started = state
        .sso
        .start_test_sign_in(auth.scope(), *id, browser.as_ref().map(|c| c.value()))
        .await?;
    Ok(HttpResponse::Ok()
        .cookie(browser_cookie(&state, &started))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(TestSignIn {
            url: started.redirect,
        }))
}

/// What an identity provider sends back to the OIDC redirect URI.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The state the sign-in started with.
    state: Option<String>,
    /// The issuer of the answer (RFC 9207).
    iss: Option<String>,
    /// Why the provider did not sign the person in.
    error: Option<String>,
}

/// The OIDC redirect URI: checks the answer, signs the person in and redirects to where the sign-in
/// was going.
#[utoipa::path(get, path = "/sso/oidc/{providerID}/callback", tag = "sso", params(("providerID" = i64, Path), CallbackQuery),
    responses((status = 303, description = "signed in, to `next`; or to the sign-in page with `sso_error`")))]
pub(crate) async fn oidc_callback(
    req: HttpRequest,
    state: Data<AppState>,
    id: Path<i64>,
    query: Query<CallbackQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let answer = OidcReturn {
        code: query.code,
        state: query.state,
        iss: query.iss,
        error: query.error,
    };
    let browser = req.cookie(BROWSER_COOKIE);
    let finished = state
        .sso
        .finish_oidc(
            *id,
            answer,
            browser.as_ref().map(|c| c.value()),
            &origin(&req),
        )
        .await;
    finished_sign_in(&state, *id, finished)
}

/// SAML service-provider metadata of one provider, to configure the identity provider from.
#[utoipa::path(get, path = "/sso/saml/{providerID}/metadata", tag = "sso", params(("providerID" = i64, Path)),
    responses((status = 200, description = "the SP metadata (`application/samlmetadata+xml`)", content_type = "application/samlmetadata+xml", body = String),
        (status = 404, description = "no SAML provider has this id")))]
pub(crate) async fn saml_metadata(
    state: Data<AppState>,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    match state.sso.saml_metadata(*id).await {
        Ok(xml) => Ok(HttpResponse::Ok()
            .content_type("application/samlmetadata+xml; charset=utf-8")
            .body(xml)),
        Err(SsoError::NotConfigured) => Err(SsoError::NotFound(*id).into()),
        Err(other) => Err(other.into()),
    }
}

/// What an identity provider posts to the assertion consumer service (HTTP-POST binding).
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct AcsForm {
    /// The base64 `samlp:Response`.
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    /// The sign-in it answers, or (IdP-initiated) where to go.
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// The SAML assertion consumer service: checks the response, signs the person in and redirects to
/// where the sign-in was going.
#[utoipa::path(post, path = "/sso/saml/{providerID}/acs", tag = "sso", params(("providerID" = i64, Path)),
    request_body(content = AcsForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "signed in, to `next`; or to the sign-in page with `sso_error`")))]
pub(crate) async fn saml_acs(
    req: HttpRequest,
    state: Data<AppState>,
    id: Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    let form: AcsForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => AcsForm {
            saml_response: None,
            relay_state: None,
        },
    };
    let finished = match form.saml_response {
        Some(response) => {
            let browser = req.cookie(BROWSER_COOKIE);
            state
                .sso
                .finish_saml(
                    *id,
                    SamlPost {
                        response,
                        relay_state: form.relay_state,
                    },
                    browser.as_ref().map(|c| c.value()),
                    &origin(&req),
                )
                .await
        }
        None => Err(SsoError::InvalidAssertion(
            "the post has no SAMLResponse".into(),
        )),
    };
    finished_sign_in(&state, *id, finished)
}

/// The end of a sign-in in the browser: the session's cookies and a redirect to `next`, or the
/// sign-in page with the refusal; the sign-in's cookie is spent either way.
fn finished_sign_in(
    state: &AppState,
    provider: i64,
    finished: Result<Finished, SsoError>,
) -> HttpResponse {
    let mut spent = Cookie::build(BROWSER_COOKIE, "").path("/sso/").finish();
    spent.make_removal();
    match finished {
        Ok(Finished::Tested(tested)) => {
            let mut page = crate::ui::sso_test_page(tested);
            let _ = page.add_cookie(&spent);
            page
        }
        Ok(Finished::SignedIn(signed_in)) => {
            let [session, csrf] = session_cookies(state.session_cookies.secure, &signed_in.token);
            redirect(&signed_in.next)
                .cookie(session)
                .cookie(csrf)
                .cookie(spent)
                .finish()
        }
        Err(error) => {
            let mut answer = refused(provider, &error);
            let _ = answer.add_cookie(&spent);
            answer
        }
    }
}

/// A `303 See Other` to `location`, never cached.
fn redirect(location: &str) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::SeeOther();
    builder
        .insert_header((header::LOCATION, location))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]));
    builder
}

/// The sign-in page with the refusal's code and a support code, which the log line carries too.
fn refused(provider: i64, error: &SsoError) -> HttpResponse {
    let support: String = flagent_auth::random_token().chars().take(12).collect();
    match error {
        SsoError::Unexpected(_) | SsoError::Unavailable(_) => {
            tracing::error!(provider_id = provider, support, error = %error, "SSO sign-in failed");
        }
        _ => tracing::warn!(
            provider_id = provider,
            support,
            code = error.code(),
            reason = %error.audit_reason(),
            "SSO sign-in refused"
        ),
    }
    redirect(&format!(
        "/ui/login?sso_error={}&support={support}",
        error.code()
    ))
    .finish()
}
