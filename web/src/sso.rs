//! Single sign-on routes: identity provider management (`/api/v1/sso/providers…`, `sso:manage`) and
//! the browser's sign-in through a provider (`/sso/{providerID}/start`, `/sso/oidc/{providerID}/callback`).
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
    OidcReturn, OidcSettings, Protocol, Provider, ProviderRequest, RoleRule, RuleOp, SsoError,
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
        );
}

/// An identity provider to create, or the whole of one to replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ProviderBody {
    /// Display name (1 to 200 characters), shown on the sign-in page.
    #[serde(default)]
    name: String,
    /// `oidc`.
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
    /// `oidc`.
    kind: &'static str,
    enabled: bool,
    default_role: String,
    role_rules: Vec<RuleBody>,
    resync_roles: bool,
    /// OIDC settings (for `kind: oidc`).
    oidc: Option<OidcView>,
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

fn time(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<Provider> for ProviderView {
    fn from(p: Provider) -> Self {
        let Protocol::Oidc(oidc) = p.protocol;
        ProviderView {
            id: p.id,
            name: p.name,
            kind: "oidc",
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
            oidc: Some(OidcView {
                issuer: oidc.issuer,
                client_id: oidc.client_id,
                scopes: oidc.scopes,
                use_userinfo: oidc.use_userinfo,
                client_secret_set: p.secret_set,
            }),
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
        let (protocol, secret) = match (body.kind.as_str(), body.oidc) {
            ("oidc", Some(oidc)) => (
                Protocol::Oidc(OidcSettings {
                    issuer: oidc.issuer,
                    client_id: oidc.client_id,
                    scopes: oidc.scopes,
                    use_userinfo: oidc.use_userinfo,
                }),
                oidc.client_secret,
            ),
            ("oidc", None) => {
                return Err(ApiError::invalid(
                    "oidc",
                    "an oidc provider needs oidc settings",
                ));
            }
            _ => return Err(ApiError::invalid("kind", "kind is oidc")),
        };
        Ok(ProviderRequest {
            name: body.name,
            enabled: body.enabled,
            default_role: body.default_role,
            role_rules,
            resync_roles: body.resync_roles,
            protocol,
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
        Ok(started) => {
            let cookie = Cookie::build(BROWSER_COOKIE, started.browser)
                .path("/sso/")
                .http_only(true)
                .secure(state.session_cookies.secure)
                .same_site(SameSite::Lax)
                .max_age(CookieDuration::minutes(10))
                .finish();
            redirect(&started.redirect).cookie(cookie).finish()
        }
        Err(error) => refused(*id, &error),
    }
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
    let mut spent = Cookie::build(BROWSER_COOKIE, "").path("/sso/").finish();
    spent.make_removal();
    match finished {
        Ok(signed_in) => {
            let [session, csrf] = session_cookies(state.session_cookies.secure, &signed_in.token);
            redirect(&signed_in.next)
                .cookie(session)
                .cookie(csrf)
                .cookie(spent)
                .finish()
        }
        Err(error) => {
            let mut answer = refused(*id, &error);
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
