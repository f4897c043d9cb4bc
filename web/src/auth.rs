//! The `Auth<P>` extractor: authenticates the caller and checks the coarse permission `P` the route
//! declares in its signature.

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use flagent_auth::sessions::Claims;
use flagent_auth::{AuthError, Credentials, Need};
use flagent_types::{Origin, Permission, TenantScope, UserId};
use std::future::Future;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::pin::Pin;

/// An authenticated caller allowed to do what `P` guards.
pub struct Auth<P: Permission> {
    scope: TenantScope,
    presented: Presented,
    _permission: PhantomData<P>,
}

impl<P: Permission> Auth<P> {
    /// The caller's scope.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// Whether the credentials of this request would still be accepted for `P`, for long-lived
    /// responses (streams): a key revoked, a tenant suspended, a session ended or a role taken away
    /// since are refused. While the database is unreachable the caller keeps the benefit of the doubt.
    pub(crate) async fn still_allowed(&self, state: &AppState) -> bool {
        match state
            .auth
            .authenticate(self.presented.credentials(), Need::of::<P>())
            .await
        {
            Ok(_) | Err(AuthError::Unavailable(_) | AuthError::Unexpected(_)) => true,
            Err(_) => false,
        }
    }
}

/// The API key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`.
pub(crate) fn presented_key(req: &HttpRequest) -> Option<String> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(auth) = header("authorization") {
        let mut parts = auth.splitn(2, ' ');
        if let (Some(kind), Some(token)) = (parts.next(), parts.next())
            && kind.eq_ignore_ascii_case("bearer")
        {
            return Some(token.trim().to_owned());
        }
    }
    header("x-api-key").map(str::to_owned)
}

/// The environment a request asks for: `X-Environment` or `?environment=`.
pub(crate) fn requested_environment(req: &HttpRequest) -> Option<String> {
    if let Some(env) = req
        .headers()
        .get("x-environment")
        .and_then(|v| v.to_str().ok())
    {
        return Some(env.trim().to_owned());
    }
    web::Query::<EnvironmentQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().environment)
}

#[derive(serde::Deserialize)]
struct EnvironmentQuery {
    environment: Option<String>,
}

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "flagent_session";

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The client's address: the connection's, or, when that is a trusted reverse proxy, the nearest
/// address in `X-Forwarded-For` that is not one of the trusted proxies.
pub(crate) fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let trusted: &[IpAddr] = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.trusted_proxies.as_slice())
        .unwrap_or_default();
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .map(|hop| hop.parse::<IpAddr>())
        .find(|hop| !matches!(hop, Ok(ip) if trusted.contains(ip)))
        .and_then(Result::ok)
        .unwrap_or(peer)
        .to_string()
}

/// Where the request came from, for the audit log.
pub(crate) fn origin(req: &HttpRequest) -> Origin {
    Origin {
        ip: client_ip(req),
        user_agent: header(req, "user-agent")
            .map(|ua| ua.chars().take(512).collect())
            .unwrap_or_default(),
    }
}

/// Everything a request presents to authenticate, owned so it can move into the future.
struct Presented {
    key: Option<String>,
    cookie: Option<String>,
    csrf: Option<String>,
    changes_data: bool,
    tenant: Option<String>,
    project: Option<String>,
    environment: Option<String>,
}

impl Presented {
    fn of(req: &HttpRequest) -> Self {
        let owned = |name: &str| header(req, name).map(str::to_owned);
        Presented {
            key: presented_key(req),
            cookie: req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()),
            csrf: owned("x-csrf-token"),
            changes_data: !req.method().is_safe(),
            tenant: owned("x-tenant-id"),
            project: owned("x-project"),
            environment: requested_environment(req),
        }
    }

    fn credentials(&self) -> Credentials<'_> {
        Credentials {
            key: self.key.as_deref(),
            session_cookie: self.cookie.as_deref(),
            csrf: self.csrf.as_deref(),
            changes_data: self.changes_data,
            tenant: self.tenant.as_deref(),
            project: self.project.as_deref(),
            environment: self.environment.as_deref(),
        }
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "application state missing"))
}

impl<P: Permission> FromRequest for Auth<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let presented = Presented::of(req);
        let origin = origin(req);
        Box::pin(async move {
            let state = state?;
            let authenticated = state
                .auth
                .authenticate(presented.credentials(), Need::of::<P>())
                .await?;
            let scope = authenticated.scope.with_origin(origin);
            tracing::Span::current().record("tenant_id", scope.tenant_id().0);
            Ok(Auth {
                scope,
                presented,
                _permission: PhantomData,
            })
        })
    }
}

/// Checks that the caller of `req` may also do what `P` guards in `environment` of the same project,
/// for routes that change an environment other than the request's (copying a flag into `to`): a key
/// bound to another environment, or a role limited to other environments, is refused.
pub(crate) async fn authorize_in_environment<P: Permission>(
    req: &HttpRequest,
    environment: &str,
) -> Result<TenantScope, ApiError> {
    let state = app_state(req)?;
    let mut presented = Presented::of(req);
    presented.environment = Some(environment.to_owned());
    let authenticated = state
        .auth
        .authenticate(presented.credentials(), Need::of::<P>())
        .await?;
    Ok(authenticated.scope.with_origin(origin(req)))
}

/// A signed-in user, whatever tenant they are in: for their own account's routes.
pub struct SignedIn {
    /// The session's claims.
    pub claims: Claims,
    /// The user the session is of.
    user: UserId,
    /// Where the request came from.
    pub origin: Origin,
}

impl SignedIn {
    /// The user's id.
    pub fn user_id(&self) -> UserId {
        self.user
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let presented = Presented::of(req);
        let origin = origin(req);
        Box::pin(async move {
            let state = state?;
            let claims = state.auth.session(&presented.credentials()).await?;
            let user = claims.user_id()?;
            Ok(SignedIn {
                claims,
                user,
                origin,
            })
        })
    }
}

/// A signed-in operator of the hosted service (`platform_admin`).
pub struct PlatformAdmin(pub SignedIn);

impl FromRequest for PlatformAdmin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let signed_in = SignedIn::from_request(req, payload);
        Box::pin(async move {
            let state = state?;
            let signed_in = signed_in.await?;
            let user = state.accounts.user(signed_in.user_id()).await?;
            if !user.is_some_and(|u| u.platform_admin) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "only operators of this service may use the platform API",
                ));
            }
            Ok(PlatformAdmin(signed_in))
        })
    }
}
