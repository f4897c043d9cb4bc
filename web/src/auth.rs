//! The `Auth<P>` extractor: authenticates the caller and checks the coarse permission `P` the route
//! declares in its signature.

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use flagent_auth::Credentials;
use flagent_types::{Origin, Permission, TenantScope};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

/// An authenticated caller allowed to do what `P` guards.
pub struct Auth<P: Permission> {
    scope: TenantScope,
    _permission: PhantomData<P>,
}

impl<P: Permission> Auth<P> {
    /// The caller's scope.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
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
fn requested_environment(req: &HttpRequest) -> Option<String> {
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

impl<P: Permission> FromRequest for Auth<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = presented_key(req);
        let environment = requested_environment(req);
        let origin = Origin {
            ip: req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            user_agent: req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(512).collect())
                .unwrap_or_default(),
        };
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::new(ErrorCode::Internal, "application state missing"))?;
            let credentials = Credentials {
                key: key.as_deref(),
                environment: environment.as_deref(),
            };
            let scope = state
                .auth
                .authenticate(credentials)
                .await?
                .with_origin(origin);
            tracing::Span::current().record("tenant_id", scope.tenant_id().0);
            if !scope.allows(P::SCOPE) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "this API key lacks the {:?} scope this route needs",
                        P::SCOPE.as_str()
                    ),
                ));
            }
            Ok(Auth {
                scope,
                _permission: PhantomData,
            })
        })
    }
}
