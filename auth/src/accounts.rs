//! Local accounts: registration, sign-in with lockout, email verification, password reset, and the
//! one-time tokens and mail those need.
//!
//! Invariant: one-time tokens are stored as SHA-256 only and are consumed by a conditional update, so
//! a token works once even when presented twice at the same moment. Mail is written to the outbox
//! table; a relay in the composition root delivers it (SMTP, or the log in development).
//! Lockout: after [`FREE_FAILURES`] consecutive failed logins an account refuses logins for 30 s,
//! doubling with each further failure up to an hour; a successful login resets the count.

use crate::error::invalid;
use crate::now_millis;
use crate::password::{check_password_policy, hash_password, verify_nothing, verify_password};
use crate::sessions::{IssuedToken, Sessions};
use crate::{AuthError, hash_key};
use flagent_storage::Db;
use flagent_storage::entities::{user, user_token};
use flagent_types::{Origin, SystemScope, TenantId, UserId};
use std::sync::Arc;
use std::time::Duration;

/// A user account as stored.
pub use flagent_storage::entities::user::Model as User;

/// Failed logins allowed before the account is locked.
pub const FREE_FAILURES: i64 = 5;
/// The first lockout; each further failure doubles it.
const FIRST_LOCKOUT_SECS: i64 = 30;
/// The longest lockout.
const MAX_LOCKOUT_SECS: i64 = 3600;

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Proving an email address (and activating a signed-up tenant).
    VerifyEmail,
    /// Choosing a new password.
    ResetPassword,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }

    fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::VerifyEmail => Duration::from_secs(48 * 3600),
            TokenPurpose::ResetPassword => Duration::from_secs(3600),
        }
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Email address (case-insensitive; stored lower-case).
    pub email: &'a str,
    /// Display name; the email's local part when empty.
    pub name: &'a str,
    /// Password; `None` for accounts that will sign in otherwise (SSO) or set one later.
    pub password: Option<&'a str>,
    /// Whether the email address is already proven (an accepted invitation mailed to it).
    pub verified: bool,
}

/// A verified email address.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The user.
    pub user: user::Model,
    /// The tenant whose signup the verification completes, if any.
    pub tenant_id: Option<i64>,
}

/// Account use cases.
pub struct Accounts {
    db: Db,
    system: SystemScope,
    sessions: Arc<Sessions>,
    public_url: String,
}

/// Normalises and checks an email address: trimmed, lower-case, `local@domain.tld`, at most 320 bytes.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    let bad = || invalid("email", format!("{email:?} is not an email address"));
    if email.len() > 320 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let domain_ok = !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@')
        && (domain.contains('.') || domain == "localhost");
    if local.is_empty() || !domain_ok {
        return Err(bad());
    }
    Ok(email)
}

/// The domain of a normalised email address.
pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or(email)
}

impl Accounts {
    /// Account use cases; links in mail point at `public_url`.
    pub fn new(db: Db, system: SystemScope, sessions: Arc<Sessions>, public_url: String) -> Self {
        Self {
            db,
            system,
            sessions,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The sessions this service starts.
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.sessions
    }

    /// The base of links in mail.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The user with `id`.
    pub async fn user(&self, id: UserId) -> Result<Option<user::Model>, AuthError> {
        Ok(self.db.system(&self.system).user(id.0).await?)
    }

    /// The user with this email address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<user::Model>, AuthError> {
        let Ok(email) = normalize_email(email) else {
            return Ok(None);
        };
        Ok(self.db.system(&self.system).user_by_email(&email).await?)
    }

    /// Creates an account; an email already registered is a conflict.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, new: NewUser<'_>) -> Result<user::Model, AuthError> {
        let email = normalize_email(new.email)?;
        let name = match new.name.trim() {
            "" => email.split('@').next().unwrap_or_default().to_owned(),
            name if name.chars().count() > 200 => {
                return Err(invalid("name", "a name has at most 200 characters"));
            }
            name => name.to_owned(),
        };
        let password_hash = match new.password {
            Some(password) => {
                check_password_policy(password)?;
                Some(hash_password(password).await?)
            }
            None => None,
        };
        let system = self.db.system(&self.system);
        if system.user_by_email(&email).await?.is_some() {
            return Err(AuthError::Conflict(format!(
                "an account with email {email} already exists"
            )));
        }
        let now = now_millis();
        let inserted = system
            .insert_user(user::Model {
                id: 0,
                email: email.clone(),
                name,
                password_hash,
                email_verified_at: new.verified.then_some(now),
                failed_logins: 0,
                locked_until: None,
                sessions_valid_after: 0,
                platform_admin: false,
                created_at: now,
                updated_at: now,
            })
            .await;
        match inserted {
            Ok(user) => Ok(user),
            // Two registrations raced; the unique index kept one.
            Err(_) if system.user_by_email(&email).await?.is_some() => Err(AuthError::Conflict(
                format!("an account with email {email} already exists"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes `user` an operator of the hosted service (bootstrap only).
    pub async fn make_platform_admin(&self, mut user: user::Model) -> Result<(), AuthError> {
        user.platform_admin = true;
        user.updated_at = now_millis();
        Ok(self.db.system(&self.system).update_user(user).await?)
    }

    /// Signs in with email and password and starts a session.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<(user::Model, IssuedToken), AuthError> {
        let system = self.db.system(&self.system);
        let user = match normalize_email(email) {
            Ok(email) => system.user_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(mut user) = user else {
            verify_nothing(password).await;
            return Err(AuthError::InvalidCredentials);
        };
        let now = now_millis();
        if let Some(until) = user.locked_until.filter(|u| *u > now) {
            return Err(AuthError::Locked {
                retry_after_secs: ((until - now) as u64).div_ceil(1000),
            });
        }
        let matches = match &user.password_hash {
            Some(hash) => verify_password(password, hash).await,
            None => {
                verify_nothing(password).await;
                false
            }
        };
        if !matches {
            user.failed_logins += 1;
            if user.failed_logins >= FREE_FAILURES {
                let doublings = (user.failed_logins - FREE_FAILURES).min(20) as u32;
                let secs = (FIRST_LOCKOUT_SECS << doublings).min(MAX_LOCKOUT_SECS);
                user.locked_until = Some(now + secs * 1000);
                tracing::warn!(
                    user_id = user.id,
                    secs,
                    "account locked after failed logins"
                );
            }
            user.updated_at = now;
            system.update_user(user).await?;
            return Err(AuthError::InvalidCredentials);
        }
        if user.email_verified_at.is_none() {
            return Err(AuthError::EmailNotVerified);
        }
        if user.failed_logins != 0 || user.locked_until.is_some() {
            user.failed_logins = 0;
            user.locked_until = None;
            user.updated_at = now;
            system.update_user(user.clone()).await?;
        }
        if let Some(refusal) = self.sso_only(user.id).await? {
            return Err(refusal);
        }
        let token = self.sessions.start(&user, origin).await?;
        Ok((user, token))
    }

    /// Mails `user` a link that proves their address; `tenant` is the tenant the proof activates.
    pub async fn send_verification(
        &self,
        user: &user::Model,
        tenant: Option<i64>,
    ) -> Result<(), AuthError> {
        let token = self
            .issue_token(user.id, TokenPurpose::VerifyEmail, tenant)
            .await?;
        let link = format!("{}/verify-email?token={token}", self.public_url);
        let body = format!(
            "Welcome to Flagent.\n\nConfirm your email address by opening this link (valid for 48 hours):\n\n{link}\n\nor send the token to POST /api/v1/auth/verify-email:\n\n{token}\n"
        );
        self.send_mail(&user.email, "Confirm your email address", &body)
            .await
    }

    /// Proves the address of the token's user.
    #[tracing::instrument(skip_all)]
    pub async fn verify_email(&self, token: &str) -> Result<Verified, AuthError> {
        let redeemed = self.redeem_token(token, TokenPurpose::VerifyEmail).await?;
        let system = self.db.system(&self.system);
        let mut user = system
            .user(redeemed.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if user.email_verified_at.is_none() {
            let now = now_millis();
            user.email_verified_at = Some(now);
            user.updated_at = now;
            system.update_user(user.clone()).await?;
        }
        Ok(Verified {
            user,
            tenant_id: redeemed.tenant_id,
        })
    }

    /// Mails a password reset link if an account has this email; says nothing either way.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str) -> Result<(), AuthError> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(());
        };
        // The answer is the same either way; the mail says where to sign in instead.
        if let Some(AuthError::SsoEnforced(reason)) = self.sso_only(user.id).await? {
            let body = format!(
                "Someone asked to reset the password of your Flagent account.\n\n{reason}.\nNo password is needed there, so none was reset.\n"
            );
            return self
                .send_mail(&user.email, "Sign in with single sign-on", &body)
                .await;
        }
        let token = self
            .issue_token(user.id, TokenPurpose::ResetPassword, None)
            .await?;
        let link = format!("{}/reset-password?token={token}", self.public_url);
        let body = format!(
            "Someone asked to reset the password of your Flagent account.\n\nChoose a new password here (valid for one hour):\n\n{link}\n\nor send the token with the new password to POST /api/v1/auth/password/reset:\n\n{token}\n\nIf it was not you, ignore this message.\n"
        );
        self.send_mail(&user.email, "Reset your password", &body)
            .await
    }

    /// Sets a new password with a reset token; every session of the user ends and the lockout clears.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), AuthError> {
        check_password_policy(password)?;
        let hash = hash_password(password).await?;
        let redeemed = self
            .redeem_token(token, TokenPurpose::ResetPassword)
            .await?;
        // A link mailed before single sign-on was enforced sets no password afterwards.
        if let Some(refusal) = self.sso_only(redeemed.user_id).await? {
            return Err(refusal);
        }
        let system = self.db.system(&self.system);
        let mut user = system
            .user(redeemed.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let now = now_millis();
        user.password_hash = Some(hash);
        user.failed_logins = 0;
        user.locked_until = None;
        user.sessions_valid_after = now;
        // Receiving the reset mail proves the address.
        user.email_verified_at = user.email_verified_at.or(Some(now));
        user.updated_at = now;
        system.update_user(user).await?;
        self.sessions
            .end_all_of_user(UserId(redeemed.user_id))
            .await
    }

    /// Sets the password of an account that has none yet (an invited user), verifying its address.
    pub async fn set_initial_password(
        &self,
        mut user: user::Model,
        password: &str,
    ) -> Result<user::Model, AuthError> {
        check_password_policy(password)?;
        let now = now_millis();
        user.password_hash = Some(hash_password(password).await?);
        user.email_verified_at = user.email_verified_at.or(Some(now));
        user.updated_at = now;
        self.db
            .system(&self.system)
            .update_user(user.clone())
            .await?;
        Ok(user)
    }

    /// Queues a mail message.
    pub async fn send_mail(&self, to: &str, subject: &str, body: &str) -> Result<(), AuthError> {
        self.db
            .system(&self.system)
            .enqueue_mail(to, subject, body, now_millis())
            .await?;
        Ok(())
    }

    async fn issue_token(
        &self,
        user: i64,
        purpose: TokenPurpose,
        tenant: Option<i64>,
    ) -> Result<String, AuthError> {
        let token = crate::keys::random_base62();
        let now = now_millis();
        self.db
            .system(&self.system)
            .insert_user_token(user_token::Model {
                id: 0,
                user_id: user,
                purpose: purpose.as_str().to_owned(),
                token_hash: hash_key(&token),
                tenant_id: tenant,
                created_at: now,
                expires_at: now + purpose.lifetime().as_millis() as i64,
                used_at: None,
            })
            .await?;
        Ok(token)
    }

    async fn redeem_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<user_token::Model, AuthError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 128 {
            return Err(AuthError::InvalidToken);
        }
        let system = self.db.system(&self.system);
        let row = system
            .user_token_by_hash(&hash_key(token))
            .await?
            .filter(|t| t.purpose == purpose.as_str())
            .ok_or(AuthError::InvalidToken)?;
        let now = now_millis();
        if row.used_at.is_some() || row.expires_at <= now {
            return Err(AuthError::InvalidToken);
        }
        if !system.consume_user_token(row.id, now).await? {
            return Err(AuthError::InvalidToken);
        }
        Ok(row)
    }
}

impl Accounts {
    /// The refusal of a password sign-in or reset by `user` when every tenant they belong to enforces
    /// single sign-on without an exception for them, naming those tenants and their enabled identity
    /// providers; `None` when some tenant still takes their password (or they belong to none).
    async fn sso_only(&self, user: i64) -> Result<Option<AuthError>, AuthError> {
        let system = self.db.system(&self.system);
        let memberships = system.memberships_of_user(user).await?;
        let takes_password = |m: &flagent_storage::UserMembership| {
            !m.tenant.sso_enforced || break_glass(&m.tenant).contains(&user)
        };
        if memberships.is_empty() || memberships.iter().any(takes_password) {
            return Ok(None);
        }
        let mut places = Vec::with_capacity(memberships.len());
        for m in &memberships {
            let providers: Vec<String> = self
                .db
                .scoped_for_system(&self.system, TenantId(m.tenant.id))
                .sso_providers()
                .await?
                .into_iter()
                .filter(|p| p.enabled)
                .map(|p| p.name)
                .collect();
            places.push(if providers.is_empty() {
                m.tenant.name.clone()
            } else {
                format!("{} (through {})", m.tenant.name, providers.join(" or "))
            });
        }
        Ok(Some(AuthError::SsoEnforced(format!(
            "{} {} single sign-on: sign in with your identity provider instead of a password",
            places.join(", "),
            if places.len() == 1 {
                "requires"
            } else {
                "require"
            }
        ))))
    }
}

/// The members of `tenant` who keep password sign-in while it enforces single sign-on.
pub fn break_glass(tenant: &flagent_storage::entities::tenant::Model) -> Vec<i64> {
    serde_json::from_str(&tenant.sso_break_glass).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(normalize_email("root@localhost").unwrap(), "root@localhost");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "ada@.com",
            "ada@x..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(email_domain("ada@example.com"), "example.com");
    }
}
