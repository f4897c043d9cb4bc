//! Account routes (`/api/v1/signup`, `/api/v1/auth/…`, `/api/v1/invitations/accept`): signing up,
//! proving an email address, signing in and out, refreshing the session token, the caller's own
//! account, password reset and accepting an invitation.
//!
//! Invariant: a session token travels in the `flagent_session` cookie (HttpOnly, SameSite=Lax, Secure
//! unless configured off) for the browser, and in the response body for scripts (`Authorization: Bearer`).
//! A cookie-authenticated request that changes data must echo the session's CSRF value (`X-CSRF-Token`,
//! also readable from the `flagent_csrf` cookie). Signup and password-reset requests are rate-limited per
//! client IP address, and signups also per email domain.

use crate::auth::{SESSION_COOKIE, SignedIn, client_ip, origin};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Body;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::web::{self, Data, Json, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use flagent_auth::accounts::{User, email_domain, normalize_email};
use flagent_auth::sessions::IssuedToken;
use flagent_tenants::signup::SignupRequest;
use flagent_types::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The cookie holding the session's CSRF value, readable by the page's script.
pub(crate) const CSRF_COOKIE: &str = "flagent_csrf";

/// Registers the account routes under the `/api/v1` scope.
pub(crate) fn configure_account(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/signup").route(web::post().to(signup)))
        .service(web::resource("/auth/verify-email").route(web::post().to(verify_email)))
        .service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/auth/me").route(web::get().to(me)))
        .service(web::resource("/auth/password/forgot").route(web::post().to(forgot_password)))
        .service(web::resource("/auth/password/reset").route(web::post().to(reset_password)))
        .service(web::resource("/invitations/accept").route(web::post().to(accept_invitation)));
}

/// `POST /signup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SignupBody {
    /// The owner's email address.
    #[serde(default)]
    email: String,
    /// The owner's password (at least 10 characters).
    #[serde(default)]
    password: String,
    /// The owner's name.
    #[serde(default)]
    name: String,
    /// The organisation's name.
    #[serde(default)]
    organization: String,
}

/// The answer to a signup.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignupView {
    /// The new tenant's id.
    tenant_id: i64,
    /// Its key.
    tenant_key: String,
    /// `pending` until the emailed link is used.
    status: &'static str,
    /// What to do next.
    message: &'static str,
}

/// A one-time token from a mailed link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct TokenBody {
    /// The token.
    #[serde(default)]
    token: String,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LoginBody {
    /// Email address.
    #[serde(default)]
    email: String,
    /// Password.
    #[serde(default)]
    password: String,
}

/// `POST /auth/password/forgot`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ForgotBody {
    /// The account's email address.
    #[serde(default)]
    email: String,
}

/// `POST /auth/password/reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ResetBody {
    /// The token from the mailed link.
    #[serde(default)]
    token: String,
    /// The new password.
    #[serde(default)]
    password: String,
}

/// `POST /invitations/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AcceptBody {
    /// The token from the mailed link.
    #[serde(default)]
    token: String,
    /// A password for the new account (needed when the invited address has none yet).
    password: Option<String>,
    /// A display name for the new account.
    #[serde(default)]
    name: String,
}

/// A user as shown to themselves.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserView {
    id: i64,
    email: String,
    name: String,
    email_verified: bool,
    platform_admin: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            email_verified: u.email_verified_at.is_some(),
            platform_admin: u.platform_admin,
        }
    }
}

/// A tenant the user belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MembershipView {
    /// The tenant's id (send it as `X-Tenant-ID`).
    id: i64,
    key: String,
    name: String,
    /// `active`, `pending` or `suspended`.
    status: String,
    /// The user's role there.
    role: String,
}

/// A signed-in session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionView {
    /// The session token: `Authorization: Bearer <token>` (also set as the session cookie).
    token: String,
    /// The value cookie-authenticated requests that change data send as `X-CSRF-Token`.
    csrf_token: String,
    /// When the token expires (RFC 3339); refresh before.
    expires_at: String,
    user: UserView,
    /// The tenants the user belongs to.
    tenants: Vec<MembershipView>,
}

/// The caller's own account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MeView {
    user: UserView,
    tenants: Vec<MembershipView>,
}

fn rate_limited(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        format!("too many {what} from here; try again later"),
    )
    .retry_after(60)
}

async fn memberships(state: &AppState, user: UserId) -> Result<Vec<MembershipView>, ApiError> {
    let memberships = state.members.memberships_of_user(user).await?;
    Ok(memberships
        .into_iter()
        .map(|m| MembershipView {
            id: m.tenant.id,
            key: m.tenant.key,
            name: m.tenant.name,
            status: m.tenant.status,
            role: m.membership.role,
        })
        .collect())
}

fn time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The cookies of a session: its token (HttpOnly) and its CSRF value (readable by the page's script).
pub(crate) fn session_cookies(secure: bool, issued: &IssuedToken) -> [Cookie<'static>; 2] {
    let max_age =
        CookieDuration::seconds((issued.claims.exp - chrono::Utc::now().timestamp()).max(0));
    let session = Cookie::build(SESSION_COOKIE, issued.token.clone())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish();
    let csrf = Cookie::build(CSRF_COOKIE, issued.claims.csrf.clone())
        .path("/")
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish();
    [session, csrf]
}

/// The session's cookies and body.
async fn session_reply(
    state: &AppState,
    user: &User,
    issued: IssuedToken,
) -> Result<HttpResponse, ApiError> {
    let [session, csrf] = session_cookies(state.session_cookies.secure, &issued);
    let body = SessionView {
        token: issued.token,
        csrf_token: issued.claims.csrf.clone(),
        expires_at: time(issued.claims.exp),
        user: user.into(),
        tenants: memberships(state, UserId(user.id)).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .cookie(session)
        .cookie(csrf)
        .json(body))
}

/// Signs up an organisation: a pending tenant on the free plan, its owner and default project. The
/// owner gets a verification link by mail; using it activates the tenant.
#[utoipa::path(post, path = "/api/v1/signup", tag = "account", request_body = SignupBody,
    responses((status = 201, body = SignupView), (status = 429, description = "rate limited")))]
pub(crate) async fn signup(
    req: HttpRequest,
    state: Data<AppState>,
    body: Body<SignupBody>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    if !state.signup.enabled {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "signup is turned off on this server; ask an administrator for an invitation",
        ));
    }
    let email = normalize_email(&body.email)?;
    if state.signup.by_ip.check(&client_ip(&req)).is_err() {
        return Err(rate_limited("signups"));
    }
    if state.signup.by_domain.check(email_domain(&email)).is_err() {
        return Err(rate_limited("signups for this email domain"));
    }
    let signed_up = state
        .signups
        .sign_up(SignupRequest {
            email: &email,
            password: &body.password,
            name: &body.name,
            organization: &body.organization,
        })
        .await?;
    Ok(HttpResponse::Created().json(SignupView {
        tenant_id: signed_up.tenant_id,
        tenant_key: signed_up.tenant_key,
        status: "pending",
        message: "check your email for the link that activates your organisation",
    }))
}

/// Proves an email address with the mailed token; a signup's tenant becomes active.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "account", request_body = TokenBody,
    responses((status = 204)))]
pub(crate) async fn verify_email(
    state: Data<AppState>,
    body: Body<TokenBody>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    state.signups.verify(&body.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs in with email and password: sets the session cookie and returns the token for scripts.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "account", request_body = LoginBody,
    responses((status = 200, body = SessionView), (status = 401), (status = 429, description = "locked after failed logins")))]
pub(crate) async fn login(
    req: HttpRequest,
    state: Data<AppState>,
    body: Body<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    let (user, issued) = state
        .accounts
        .login(&body.email, &body.password, &origin(&req))
        .await?;
    session_reply(&state, &user, issued).await
}

/// Ends the session: its tokens stop working, and the cookies are cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "account",
    responses((status = 204)), security(("session" = [])))]
pub(crate) async fn logout(
    signed_in: SignedIn,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.accounts.sessions().end(signed_in.claims.sid).await?;
    let mut session = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    session.make_removal();
    let mut csrf = Cookie::build(CSRF_COOKIE, "").path("/").finish();
    csrf.make_removal();
    Ok(HttpResponse::NoContent()
        .cookie(session)
        .cookie(csrf)
        .finish())
}

/// Issues a fresh token for the session (new expiry and CSRF value).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "account",
    responses((status = 200, body = SessionView)), security(("session" = [])))]
pub(crate) async fn refresh(
    signed_in: SignedIn,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.accounts.sessions().refresh(&signed_in.claims).await?;
    let user = state
        .accounts
        .user(signed_in.user_id())
        .await?
        .ok_or_else(|| ApiError::from(flagent_auth::AuthError::InvalidSession))?;
    session_reply(&state, &user, issued).await
}

/// The caller's account and the tenants they belong to.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "account",
    responses((status = 200, body = MeView)), security(("session" = [])))]
pub(crate) async fn me(
    signed_in: SignedIn,
    state: Data<AppState>,
) -> Result<Json<MeView>, ApiError> {
    let user = state
        .accounts
        .user(signed_in.user_id())
        .await?
        .ok_or_else(|| ApiError::from(flagent_auth::AuthError::InvalidSession))?;
    Ok(Json(MeView {
        user: (&user).into(),
        tenants: memberships(&state, UserId(user.id)).await?,
    }))
}

/// Mails a password reset link if the address has an account; answers the same either way.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "account", request_body = ForgotBody,
    responses((status = 202)))]
pub(crate) async fn forgot_password(
    req: HttpRequest,
    state: Data<AppState>,
    body: Body<ForgotBody>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    if state.signup.by_ip.check(&client_ip(&req)).is_err() {
        return Err(rate_limited("password reset requests"));
    }
    state.accounts.request_password_reset(&body.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Sets a new password with the mailed token; every session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "account", request_body = ResetBody,
    responses((status = 204)))]
pub(crate) async fn reset_password(
    state: Data<AppState>,
    body: Body<ResetBody>,
) -> Result<HttpResponse, ApiError> {
    let body = Json(body.checked()?);
    state
        .accounts
        .reset_password(&body.token, &body.password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accepts an invitation: joins the tenant, creating the account if the address has none.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "account", request_body = AcceptBody,
    responses((status = 200, body = MeView)))]
pub(crate) async fn accept_invitation(
    req: HttpRequest,
    state: Data<AppState>,
    body: Body<AcceptBody>,
) -> Result<Json<MeView>, ApiError> {
    let body = Json(body.checked()?);
    let accepted = state
        .members
        .accept_invitation(
            &body.token,
            body.password.as_deref(),
            &body.name,
            &origin(&req),
        )
        .await?;
    Ok(Json(MeView {
        user: (&accepted.user).into(),
        tenants: memberships(&state, UserId(accepted.user.id)).await?,
    }))
}
