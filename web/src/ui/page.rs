//! What every page needs: the viewer (session, tenant, project, environment, role), the frame it
//! shows, the answer's security headers, and the refusals (sign in first; not found; not allowed).

use crate::auth::SESSION_COOKIE;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use flagent_auth::{Credentials, Need};
use flagent_types::{Permission, Principal, TenantScope, perm};
use flagent_ui::{EnvironmentLink, ProblemPage, ProjectLink, Shell, TenantLink, asset_version};
use rand::Rng;
use serde::Deserialize;
use std::fmt;

/// The pages the frame links to beyond Flags and the Debug Console (the metric definitions and the
/// crash groups, then the Settings pages), each with the permission that opens it (as its API's read
/// needs).
const SETTINGS: [(&str, &str); 8] = [
    ("metrics", perm::Read::NAME),
    ("crashes", perm::Read::NAME),
    ("keys", perm::ManageKeys::NAME),
    ("members", perm::ManageMembers::NAME),
    ("roles", perm::Read::NAME),
    ("sso", perm::ManageSso::NAME),
    ("audit", perm::ReadAudit::NAME),
    ("usage", perm::Read::NAME),
];

/// The project and environment a page is asked for (`?project=&env=`); the tenant's first of each
/// when absent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    env: Option<String>,
}

/// A signed-in member looking at a page of one tenant, with the frame to show around it.
pub(crate) struct Viewer {
    /// What the viewer may read, as for an API read.
    pub(crate) scope: TenantScope,
    /// The frame.
    pub(crate) shell: Shell,
}

impl Viewer {
    /// Authenticates the session cookie for a read in `tenant` and builds the frame.
    pub(crate) async fn of(
        req: &HttpRequest,
        state: &AppState,
        tenant: &str,
        query: &PageQuery,
        section: &'static str,
        title: &str,
    ) -> Result<Viewer, Refusal> {
        let need = Need::of::<perm::Read>();
        Viewer::needing(req, state, tenant, query, section, title, need).await
    }

    /// Like [`Viewer::of`], for a page that reads what `need` guards (the API's permission for the
    /// same read): a viewer whose role lacks it is refused with a 403 page.
    pub(crate) async fn needing(
        req: &HttpRequest,
        state: &AppState,
        tenant: &str,
        query: &PageQuery,
        section: &'static str,
        title: &str,
        need: Need,
    ) -> Result<Viewer, Refusal> {
        let cookie = session_cookie(req)?;
        let credentials = Credentials {
            session_cookie: Some(&cookie),
            tenant: Some(tenant),
            project: query.project.as_deref(),
            environment: query.env.as_deref(),
            ..Credentials::default()
        };
        let authenticated = state
            .auth
            .authenticate(credentials, need)
            .await
            .map_err(|e| Refusal::from_api(ApiError::from(e)).or_sign_in(req))?;
        let scope = authenticated.scope;
        let Principal::User { id: user, email } = scope.principal().clone() else {
            return Err(Refusal::problem(
                403,
                "Not for API keys",
                "Sign in to use the UI.",
            ));
        };
        let memberships = state
            .members
            .memberships_of_user(user)
            .await
            .map_err(|e| Refusal::from_api(e.into()))?;
        let projects = state
            .projects
            .navigation(&scope)
            .await
            .map_err(|e| Refusal::from_api(e.into()))?;
        let project = projects
            .iter()
            .find(|p| p.id == scope.project_id().0)
            .ok_or_else(|| {
                Refusal::problem(404, "No such project", "The project was not found.")
            })?;
        let environment = project
            .environments
            .iter()
            .find(|e| e.id == scope.environment_id().0)
            .ok_or_else(|| {
                Refusal::problem(404, "No such environment", "The environment was not found.")
            })?;
        let policy = state.auth.policy();
        let tenant_id = scope.tenant_id();
        let here = Some(environment.key.as_str());
        let can_write = policy
            .allows(user, tenant_id, perm::Write::NAME, here)
            .await;
        let can_toggle = policy
            .allows(user, tenant_id, perm::Toggle::NAME, here)
            .await;
        let can_write_flags = policy
            .allows(user, tenant_id, perm::WriteFlags::NAME, None)
            .await;
        let mut settings = Vec::new();
        for (page, permission) in SETTINGS {
            if policy
                .allows(user, scope.tenant_id(), permission, None)
                .await
            {
                settings.push(page);
            }
        }
        let current = memberships
            .iter()
            .find(|m| m.tenant.id == scope.tenant_id().0);
        let shell = Shell {
            title: title.to_owned(),
            section,
            user_email: email,
            tenant: current.map_or_else(|| tenant.to_owned(), |m| m.tenant.key.clone()),
            tenant_name: current.map_or_else(|| tenant.to_owned(), |m| m.tenant.name.clone()),
            tenants: memberships
                .iter()
                .map(|m| TenantLink {
                    key: m.tenant.key.clone(),
                    name: m.tenant.name.clone(),
                })
                .collect(),
            projects: projects
                .iter()
                .map(|p| ProjectLink {
                    key: p.key.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            project: project.key.clone(),
            environments: project
                .environments
                .iter()
                .map(|e| EnvironmentLink {
                    id: e.id,
                    key: e.key.clone(),
                    name: e.name.clone(),
                    color: e.color.clone(),
                })
                .collect(),
            environment: environment.key.clone(),
            can_write,
            can_toggle,
            can_write_flags,
            settings,
            nonce: nonce(),
            assets: asset_version(),
        };
        Ok(Viewer { scope, shell })
    }
}

/// The keys of the tenants the signed-in user belongs to, oldest membership first, for pages outside
/// any tenant.
pub(crate) async fn tenants_of_viewer(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Vec<String>, Refusal> {
    let cookie = session_cookie(req)?;
    let credentials = Credentials {
        session_cookie: Some(&cookie),
        ..Credentials::default()
    };
    let claims = state
        .auth
        .session(&credentials)
        .await
        .map_err(|e| Refusal::from_api(ApiError::from(e)).or_sign_in(req))?;
    let user = claims
        .user_id()
        .map_err(|e| Refusal::from_api(ApiError::from(e)).or_sign_in(req))?;
    let memberships = state
        .members
        .memberships_of_user(user)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    Ok(memberships.into_iter().map(|m| m.tenant.key).collect())
}

fn session_cookie(req: &HttpRequest) -> Result<String, Refusal> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Refusal::SignIn(next_of(req)))
}

fn next_of(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or("/ui", |p| p.as_str())
        .to_owned()
}

/// 128 random bits, hex, for one response's CSP nonce.
fn nonce() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Content-Security-Policy of every page: nothing but this server's scripts, styles and images,
/// the one `<style>` element with the response's nonce, and requests back to this server.
fn content_security_policy(nonce: Option<&str>) -> String {
    let styles = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}'"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src {styles}; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// A rendered page with the headers every page carries.
pub(crate) fn html(page: &impl Template, nonce: Option<&str>) -> HttpResponse {
    with_status(StatusCode::OK, page, nonce)
}

fn with_status(status: StatusCode, page: &impl Template, nonce: Option<&str>) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "render a page");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("the page could not be rendered");
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(nonce),
        ))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"))
        .body(body)
}

/// Why a page is not shown: the viewer must sign in first (sent to the sign-in page, then back), or
/// a problem page with the status and the reason.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not signed in, or the session ended: the path to come back to.
    SignIn(String),
    /// Anything else.
    Problem {
        status: u16,
        heading: String,
        message: String,
    },
}

impl Refusal {
    pub(crate) fn problem(status: u16, heading: &str, message: &str) -> Refusal {
        Refusal::Problem {
            status,
            heading: heading.to_owned(),
            message: message.to_owned(),
        }
    }

    /// The API's refusal, as a page: same status and message.
    pub(crate) fn from_api(error: ApiError) -> Refusal {
        let status = error.status_code();
        let heading = match status.as_u16() {
            401 => "Sign in again",
            403 => "Not allowed",
            404 => "Not found",
            503 => "Temporarily unavailable",
            s if s >= 500 => "Something went wrong",
            _ => "Cannot show this page",
        };
        let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            "The server could not show this page. Try again in a moment.".to_owned()
        } else {
            error.message().to_owned()
        };
        Refusal::Problem {
            status: status.as_u16(),
            heading: heading.to_owned(),
            message,
        }
    }

    /// A 401 becomes a trip to the sign-in page.
    fn or_sign_in(self, req: &HttpRequest) -> Refusal {
        match self {
            Refusal::Problem { status: 401, .. } => Refusal::SignIn(next_of(req)),
            other => other,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SignIn(next) => write!(f, "sign in first, then go to {next}"),
            Refusal::Problem {
                status, message, ..
            } => write!(f, "{status}: {message}"),
        }
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::SignIn(_) => StatusCode::SEE_OTHER,
            Refusal::Problem { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        match self {
            Refusal::SignIn(next) => {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/ui/login?{query}")))
                    .finish()
            }
            Refusal::Problem {
                heading, message, ..
            } => with_status(
                self.status_code(),
                &ProblemPage {
                    shell: None,
                    status: self.status_code().as_u16(),
                    heading: heading.clone(),
                    message: message.clone(),
                    assets: asset_version(),
                },
                None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_script_and_only_the_nonced_style() {
        let csp = content_security_policy(Some("abc"));
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.contains("style-src 'self' 'nonce-abc';"));
        assert!(!csp.contains("unsafe"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
