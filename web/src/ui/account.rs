//! The signed-out pages: signup, the mailed links (confirming an email address, accepting an
//! invitation, resetting a password) and asking for a reset link. Each is one form posting to the account API.

use super::page::{Refusal, html};
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use flagent_ui::{NoticePage, SignupPage, TokenPage, asset_version};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `/ui/signup`, when signup is open.
pub(super) async fn signup(state: Data<AppState>) -> Result<HttpResponse, Refusal> {
    if !state.signup.enabled {
        return Err(Refusal::problem(
            404,
            "Signup is closed",
            "This server does not take new organisations. Ask an administrator for an invitation.",
        ));
    }
    Ok(html(
        &SignupPage {
            assets: asset_version(),
        },
        None,
    ))
}

/// After a signup: where the confirmation link went.
pub(super) async fn signup_sent() -> HttpResponse {
    html(
        &NoticePage {
            heading: "Check your email",
            message: "We sent a link to confirm your email address. Open it within 48 hours to \
                      activate your organisation.",
            assets: asset_version(),
        },
        None,
    )
}

/// `/verify-email?token=…`, the link mailed at signup.
pub(super) async fn verify_email(query: Query<TokenQuery>) -> HttpResponse {
    html(
        &TokenPage {
            heading: "Confirm your email address",
            intro: "Confirming activates your organisation; then sign in.",
            api: "/api/v1/auth/verify-email",
            next: "/ui/login?verified=1",
            token: query.into_inner().token,
            asks_email: false,
            asks_name: false,
            asks_password: false,
            action: "Confirm email address",
            assets: asset_version(),
        },
        None,
    )
}

/// `/ui/forgot-password`: asks for a reset link.
pub(super) async fn forgot_password() -> HttpResponse {
    html(
        &TokenPage {
            heading: "Reset your password",
            intro: "Enter your email address and we send you a link to choose a new password.",
            api: "/api/v1/auth/password/forgot",
            next: "/ui/forgot-password/sent",
            token: String::new(),
            asks_email: true,
            asks_name: false,
            asks_password: false,
            action: "Send the link",
            assets: asset_version(),
        },
        None,
    )
}

/// After asking for a reset link.
pub(super) async fn reset_sent() -> HttpResponse {
    html(
        &NoticePage {
            heading: "Check your email",
            message: "If an account has this address, a link to choose a new password is on its \
                      way.",
            assets: asset_version(),
        },
        None,
    )
}

/// `/accept-invitation?token=…`, the link an invitation mails: joining the tenant, with a name and
/// a password for a new account (an existing account's password is checked instead).
pub(super) async fn accept_invitation(query: Query<TokenQuery>) -> HttpResponse {
    html(
        &TokenPage {
            heading: "Accept the invitation",
            intro: "Choose your name and a password (at least 10 characters); if you already \
                    have an account, enter its password.",
            api: "/api/v1/invitations/accept",
            next: "/ui/login",
            token: query.into_inner().token,
            asks_email: false,
            asks_name: true,
            asks_password: true,
            action: "Join",
            assets: asset_version(),
        },
        None,
    )
}

/// `/reset-password?token=…`, the mailed reset link.
pub(super) async fn reset_password(query: Query<TokenQuery>) -> HttpResponse {
    html(
        &TokenPage {
            heading: "Choose a new password",
            intro: "At least 10 characters. Your other sessions end when it changes.",
            api: "/api/v1/auth/password/reset",
            next: "/ui/login?reset=1",
            token: query.into_inner().token,
            asks_email: false,
            asks_name: false,
            asks_password: true,
            action: "Change password",
            assets: asset_version(),
        },
        None,
    )
}
