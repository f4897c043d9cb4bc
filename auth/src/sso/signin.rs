//! Signing in through a provider: starting in the browser, coming back from the identity provider,
//! linking or creating the person, their membership and role, and the session.
//!
//! Invariant: a sign-in in flight is bound to the browser that started it: its state is stored with the
//! hash of a random value kept in that browser's cookie, so a state carried to another browser (login
//! CSRF, a leaked callback URL) is refused and spent. Each state finishes at most once, within 10
//! minutes.
//! Invariant: a first sign-in links an existing account only when the provider asserts a verified email
//! in a domain the tenant verified; otherwise the subject gets an account of its own, and an email that
//! belongs to someone else is refused. Mapping never grants `owner` and re-syncing never changes an
//! owner's role.
//! Invariant: every sign-in through a provider is audited in its tenant, as `sso.login` or, with the
//! reason and the check that failed, `sso.login_failed`.

use super::oidc::{Callback, Identity};
use super::rules::{RoleRule, mapped_role};
use super::saml::{self, Expected, Sp};
use super::{Protocol, Sso, SsoError, secret_context};
use crate::accounts::NewUser;
use crate::now_millis;
use crate::sessions::IssuedToken;
use flagent_storage::entities::{membership, sso_identity, sso_login, sso_provider, user};
use flagent_storage::{NewAuditEvent, TenantDb};
use flagent_types::{
    ActorType, AuditAction, BuiltInRole, Limit, Origin, TenantId, TenantScope, UserId, perm,
};
use sha2::{Digest, Sha256};

/// How long a sign-in may stay at the identity provider.
const SIGN_IN_TTL_MILLIS: i64 = 10 * 60 * 1000;
/// Longest `next` kept.
const MAX_NEXT_CHARS: usize = 1000;
/// Where a sign-in ends when it names nowhere (or somewhere it may not go).
const DEFAULT_NEXT: &str = "/ui";
/// The `next` of a test sign-in: never a path [`safe_next`] lets through, so no member's sign-in can
/// become a test.
const TEST_NEXT: &str = "test";

/// A sign-in sent to the identity provider.
#[derive(Debug, Clone)]
pub struct StartedSignIn {
    /// Where to send the browser.
    pub redirect: String,
    /// The value the browser keeps in its SSO cookie until it comes back.
    pub browser: String,
    /// Whether the identity provider comes back with a cross-site `POST` (SAML), which carries the
    /// cookie only when it is `SameSite=None` (and so `Secure`).
    pub cross_site_post: bool,
}

/// What an identity provider posted to the SAML assertion consumer service.
#[derive(Debug, Clone, Default)]
pub struct SamlPost {
    /// `SAMLResponse`: the base64 response document.
    pub response: String,
    /// `RelayState`: the sign-in it answers (SP-initiated), or where to go (IdP-initiated).
    pub relay_state: Option<String>,
}

/// What came back to the OIDC redirect URI.
#[derive(Debug, Clone, Default)]
pub struct OidcReturn {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `iss` (RFC 9207).
    pub iss: Option<String>,
    /// `error`, when the provider refused.
    pub error: Option<String>,
}

/// How a sign-in through a provider ended.
#[derive(Debug, Clone)]
pub enum Finished {
    /// Someone signed in.
    SignedIn(SignedIn),
    /// An administrator's test sign-in passed every check: what the provider asserted; nobody was
    /// signed in or created.
    Tested(Tested),
}

/// What a provider asserted in a test sign-in.
#[derive(Debug, Clone)]
pub struct Tested {
    /// The provider's name.
    pub provider: String,
    /// The subject the person is linked by (OIDC `sub`, SAML NameID with its format).
    pub subject: String,
    /// The email address, if any.
    pub email: Option<String>,
    /// Whether it counts as verified (OIDC `email_verified`; SAML: in a domain the tenant verified).
    pub email_verified: bool,
    /// The display name, if any.
    pub name: Option<String>,
    /// Every claim or attribute, by name.
    pub assertions: super::rules::Assertions,
    /// The role the mapping rules give a new member.
    pub role: String,
}

/// A finished sign-in: the person, the tenant they signed in to, their session and where to go.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account.
    pub user: user::Model,
    /// The provider's tenant.
    pub tenant: TenantId,
    /// The session's first token.
    pub token: IssuedToken,
    /// A path inside the UI.
    pub next: String,
}

impl Sso {
    /// Starts a sign-in through provider `id`; `browser` is the value of the browser's SSO cookie, if it
    /// has one.
    #[tracing::instrument(skip_all, fields(provider_id = id))]
    pub async fn start_sign_in(
        &self,
        id: i64,
        next: Option<&str>,
        browser: Option<&str>,
    ) -> Result<StartedSignIn, SsoError> {
        let (row, tenant) = self.provider_for_sign_in(id, false).await?;
        self.start(&row, &tenant, safe_next(next), browser).await
    }

    /// Starts a test sign-in through provider `id` of the caller's tenant (`sso:manage`), enabled or
    /// not: it runs at the identity provider like any other and ends on a page that shows what the
    /// provider asserted, without signing anyone in.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), provider_id = id))]
    pub async fn start_test_sign_in(
        &self,
        scope: &TenantScope,
        id: i64,
        browser: Option<&str>,
    ) -> Result<StartedSignIn, SsoError> {
        scope.require::<perm::ManageSso>()?;
        self.db
            .scoped(scope)
            .get::<sso_provider::Model>(id)
            .await?
            .ok_or(SsoError::NotFound(id))?;
        let (row, tenant) = self.provider_for_sign_in(id, true).await?;
        self.start(&row, &tenant, TEST_NEXT, browser).await
    }

    /// Sends the browser to `row`'s identity provider; the sign-in ends at `next`.
    async fn start(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        next: &str,
        browser: Option<&str>,
    ) -> Result<StartedSignIn, SsoError> {
        let (id, provider) = (row.id, self.view(row)?);
        let browser = match browser {
            Some(value) if valid_browser_value(value) => value.to_owned(),
            _ => crate::random_token(),
        };
        let (redirect, state, nonce, verifier) = match &provider.protocol {
            Protocol::Oidc(settings) => {
                let secret = self.provider_secret(row, tenant)?;
                let authorization = self
                    .oidc
                    .authorize(id, settings, &secret, &provider.redirect_url)
                    .await?;
                (
                    authorization.url,
                    authorization.state,
                    authorization.nonce,
                    authorization.verifier,
                )
            }
            Protocol::Saml(settings) => {
                // The AuthnRequest's id (an NCName) comes back as InResponseTo; the relay state
                // names the sign-in.
                let request_id = format!("_{}", crate::random_token());
                let relay_state = crate::random_token();
                let key = match &row.secret {
                    Some(_) if settings.sign_requests => {
                        Some(saml::open_sp_key(&self.provider_secret(row, tenant)?)?)
                    }
                    _ => None,
                };
                let (entity_id, acs_url) = (self.sp_entity_id(id, settings), self.saml_acs_url(id));
                let sp = Sp {
                    entity_id: &entity_id,
                    acs_url: &acs_url,
                };
                let url = saml::authn_request_url(
                    settings,
                    &sp,
                    &request_id,
                    &relay_state,
                    key.as_ref(),
                )?;
                (url, relay_state, request_id, String::new())
            }
        };
        let now = now_millis();
        tenant
            .insert_row(sso_login::New {
                provider_id: id,
                state,
                nonce,
                verifier,
                binding: binding(&browser),
                next: next.to_owned(),
                created_at: now,
                expires_at: now + SIGN_IN_TTL_MILLIS,
            })
            .await?;
        Ok(StartedSignIn {
            redirect,
            browser,
            cross_site_post: matches!(provider.protocol, Protocol::Saml(_)),
        })
    }

    /// The SP metadata document of SAML provider `id`, disabled or not: an identity provider is set up
    /// from it before the provider is switched on.
    pub async fn saml_metadata(&self, id: i64) -> Result<String, SsoError> {
        let row = self
            .db
            .system(&self.system)
            .sso_provider(id)
            .await?
            .ok_or(SsoError::NotConfigured)?;
        let provider = self.view(&row)?;
        let Protocol::Saml(settings) = &provider.protocol else {
            return Err(SsoError::NotConfigured);
        };
        let (entity_id, acs_url) = (self.sp_entity_id(id, settings), self.saml_acs_url(id));
        Ok(saml::sp_metadata(
            settings,
            &Sp {
                entity_id: &entity_id,
                acs_url: &acs_url,
            },
        ))
    }

    /// Finishes an OIDC sign-in through provider `id` coming back with `answer`, in the browser whose
    /// SSO cookie holds `browser`.
    #[tracing::instrument(skip_all, fields(provider_id = id))]
    pub async fn finish_oidc(
        &self,
        id: i64,
        answer: OidcReturn,
        browser: Option<&str>,
        origin: &Origin,
    ) -> Result<Finished, SsoError> {
        let (row, tenant) = self.provider_for_sign_in(id, true).await?;
        let mut asserted = None;
        let result = self
            .finish_oidc_in(&row, &tenant, answer, browser, origin, &mut asserted)
            .await;
        self.finished(&tenant, &row, origin, &result, asserted.as_ref())
            .await;
        result
    }

    /// Finishes a SAML sign-in through provider `id` with what the identity provider posted to the
    /// assertion consumer service, in the browser whose SSO cookie holds `browser`.
    #[tracing::instrument(skip_all, fields(provider_id = id))]
    pub async fn finish_saml(
        &self,
        id: i64,
        post: SamlPost,
        browser: Option<&str>,
        origin: &Origin,
    ) -> Result<Finished, SsoError> {
        let (row, tenant) = self.provider_for_sign_in(id, true).await?;
        let mut asserted = None;
        let result = self
            .finish_saml_in(&row, &tenant, post, browser, origin, &mut asserted)
            .await;
        self.finished(&tenant, &row, origin, &result, asserted.as_ref())
            .await;
        result
    }

    /// Logs a finished sign-in, and audits it when it was refused.
    async fn finished(
        &self,
        tenant: &TenantDb,
        row: &sso_provider::Model,
        origin: &Origin,
        result: &Result<Finished, SsoError>,
        asserted: Option<&Identity>,
    ) {
        match result {
            Ok(Finished::SignedIn(signed_in)) => {
                tracing::info!(user_id = signed_in.user.id, "signed in through SSO");
            }
            Ok(Finished::Tested(_)) => tracing::info!("test sign-in through SSO passed"),
            Err(error) => {
                tracing::info!(code = error.code(), reason = %error.audit_reason(), "SSO sign-in refused");
                self.audit_failure(tenant, row, origin, error, asserted)
                    .await;
            }
        }
    }

    async fn finish_saml_in(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        post: SamlPost,
        browser: Option<&str>,
        origin: &Origin,
        asserted: &mut Option<Identity>,
    ) -> Result<Finished, SsoError> {
        let provider = self.view(row)?;
        let Protocol::Saml(settings) = &provider.protocol else {
            return Err(SsoError::NotConfigured);
        };
        let xml = saml::decode_response(&post.response)?;
        let envelope = saml::scan(&xml)?;
        // The sign-in this answers: the one its relay state names, started in this browser; or none,
        // for an IdP-initiated sign-in.
        let relay_state = post.relay_state.as_deref().filter(|r| r.len() <= 64);
        let started = match relay_state {
            Some(relay_state) => tenant.sso_login(relay_state).await?,
            None => None,
        };
        let login = match started {
            Some(login) => Some(self.claim_login(row, tenant, login, browser).await?),
            None if envelope.in_response_to.is_some() => return Err(SsoError::StateMismatch),
            None if !settings.allow_idp_initiated => {
                return Err(SsoError::InvalidAssertion(
                    "an IdP-initiated sign-in, which this provider does not accept".into(),
                ));
            }
            None => None,
        };
        let testing = login.as_ref().is_some_and(|l| l.next == TEST_NEXT);
        if !row.enabled && !testing {
            return Err(SsoError::ProviderDisabled);
        }
        let (expected, next) = match &login {
            Some(login) => (Expected::Request(&login.nonce), login.next.clone()),
            None => (
                Expected::Unsolicited,
                safe_next(post.relay_state.as_deref()).to_owned(),
            ),
        };
        let (entity_id, acs_url) = (
            self.sp_entity_id(row.id, settings),
            self.saml_acs_url(row.id),
        );
        let sp = Sp {
            entity_id: &entity_id,
            acs_url: &acs_url,
        };
        let verified = saml::verify(settings, &sp, &xml, &envelope, expected, chrono::Utc::now())?;
        let mut identity = verified.identity;
        *asserted = Some(identity.clone());
        let fresh = tenant
            .remember_sso_assertion(
                row.id,
                &binding(&verified.assertion_id),
                verified.usable_until,
            )
            .await?;
        if !fresh {
            return Err(SsoError::Replayed);
        }
        // SAML has no `email_verified`: an IdP's email counts as verified in a domain its tenant proved.
        if let Some(email) = identity.email.as_deref()
            && let Ok(email) = crate::accounts::normalize_email(email)
        {
            let domain = crate::accounts::email_domain(&email);
            identity.email_verified = self.domain_verified(tenant, domain).await?;
        }
        *asserted = Some(identity.clone());
        self.conclude(row, tenant, &identity, &provider.role_rules, origin, next)
            .await
    }

    /// The end of every sign-in that passed its checks: a test shows what was asserted; any other
    /// provisions `identity` and starts its session.
    async fn conclude(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        identity: &Identity,
        rules: &[RoleRule],
        origin: &Origin,
        next: String,
    ) -> Result<Finished, SsoError> {
        if next == TEST_NEXT {
            return Ok(Finished::Tested(Tested {
                provider: row.name.clone(),
                subject: identity.subject.clone(),
                email: identity.email.clone(),
                email_verified: identity.email_verified,
                name: identity.name.clone(),
                role: mapped_role(rules, &row.default_role, &identity.assertions).to_owned(),
                assertions: identity.assertions.clone(),
            }));
        }
        let user = self.provision(row, tenant, identity, rules, origin).await?;
        let token = self
            .accounts
            .sessions()
            .start_through_provider(&user, origin, row.id, tenant.tenant_id())
            .await?;
        Ok(Finished::SignedIn(SignedIn {
            user,
            tenant: tenant.tenant_id(),
            token,
            next,
        }))
    }

    async fn finish_oidc_in(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        answer: OidcReturn,
        browser: Option<&str>,
        origin: &Origin,
        asserted: &mut Option<Identity>,
    ) -> Result<Finished, SsoError> {
        let login = self
            .take_login(row, tenant, answer.state.as_deref(), browser)
            .await?;
        if !row.enabled && login.next != TEST_NEXT {
            return Err(SsoError::ProviderDisabled);
        }
        if let Some(error) = answer.error {
            return Err(SsoError::IdpRefused(error.chars().take(200).collect()));
        }
        let code = answer
            .code
            .ok_or_else(|| SsoError::InvalidToken("the answer has no code".into()))?;
        let provider = self.view(row)?;
        let secret = self.provider_secret(row, tenant)?;
        let Protocol::Oidc(settings) = &provider.protocol else {
            return Err(SsoError::NotConfigured);
        };
        let identity = self
            .oidc
            .finish(
                row.id,
                settings,
                &secret,
                &provider.redirect_url,
                Callback {
                    code: &code,
                    iss: answer.iss.as_deref(),
                    nonce: &login.nonce,
                    verifier: &login.verifier,
                },
            )
            .await?;
        *asserted = Some(identity.clone());
        self.conclude(
            row,
            tenant,
            &identity,
            &provider.role_rules,
            origin,
            login.next,
        )
        .await
    }

    /// The provider a public sign-in route names, and its tenant's rows; refused when it does not exist,
    /// its tenant's plan lost single sign-on, or it is disabled (unless `disabled_too`: the sign-in
    /// may be a test, which the caller checks).
    async fn provider_for_sign_in(
        &self,
        id: i64,
        disabled_too: bool,
    ) -> Result<(sso_provider::Model, TenantDb), SsoError> {
        let row = self
            .db
            .system(&self.system)
            .sso_provider(id)
            .await?
            .ok_or(SsoError::NotConfigured)?;
        if !row.enabled && !disabled_too {
            return Err(SsoError::ProviderDisabled);
        }
        let tenant = self
            .db
            .scoped_for_system(&self.system, TenantId(row.tenant_id));
        tenant
            .tenant_plan()
            .await?
            .require(flagent_types::Feature::Sso)?;
        Ok((row, tenant))
    }

    fn provider_secret(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
    ) -> Result<String, SsoError> {
        let sealed = row.secret.as_deref().ok_or(SsoError::NotConfigured)?;
        Ok(self
            .secrets
            .open(sealed, &secret_context(tenant.tenant_id()))?)
    }

    /// The sign-in in flight that `state` names, taken so that it cannot finish twice; refused unless it
    /// was started through this provider, in this browser, less than 10 minutes ago.
    async fn take_login(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        state: Option<&str>,
        browser: Option<&str>,
    ) -> Result<sso_login::Model, SsoError> {
        let (Some(state), Some(browser)) = (state, browser) else {
            return Err(SsoError::StateMismatch);
        };
        if state.len() > 64 {
            return Err(SsoError::StateMismatch);
        }
        let login = tenant
            .sso_login(state)
            .await?
            .ok_or(SsoError::StateMismatch)?;
        self.claim_login(row, tenant, login, Some(browser)).await
    }

    /// Takes sign-in `login` so that it cannot finish twice; refused unless it was started through
    /// this provider, in this browser, less than 10 minutes ago. Brought back by another browser, it
    /// is spent all the same: an answer that leaked finishes nowhere.
    async fn claim_login(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        login: sso_login::Model,
        browser: Option<&str>,
    ) -> Result<sso_login::Model, SsoError> {
        if login.provider_id != row.id || !tenant.take_sso_login(login.id).await? {
            return Err(SsoError::StateMismatch);
        }
        let bound = browser.is_some_and(|browser| {
            constant_time_eq(login.binding.as_bytes(), binding(browser).as_bytes())
        });
        if !bound || login.expires_at <= now_millis() {
            return Err(SsoError::StateMismatch);
        }
        Ok(login)
    }

    /// The account of `identity`: linked, or created; made a member with the mapped role (re-synced when
    /// the provider says so), and its link's last sign-in recorded, with the audit event.
    async fn provision(
        &self,
        row: &sso_provider::Model,
        tenant: &TenantDb,
        identity: &Identity,
        rules: &[RoleRule],
        origin: &Origin,
    ) -> Result<user::Model, SsoError> {
        if identity.subject.is_empty() || identity.subject.len() > 512 {
            return Err(SsoError::InvalidToken(
                "the subject is empty or too long".into(),
            ));
        }
        // Accounts are global rows, read and created before the transaction (SQLite's pool has one
        // connection, which the transaction holds).
        let linked = tenant.sso_identity(row.id, &identity.subject).await?;
        let (user, created) = match &linked {
            Some(link) => {
                let user = self.accounts.user(UserId(link.user_id)).await?.ok_or(
                    SsoError::AccountRefused("the linked account no longer exists".into()),
                )?;
                (user, false)
            }
            None => self.first_sign_in(tenant, identity).await?,
        };
        let role = mapped_role(rules, &row.default_role, &identity.assertions).to_owned();
        let now = now_millis();
        let tx = tenant.begin().await?;
        let membership = tx.membership_of(user.id).await?;
        let granted = match &membership {
            None => {
                let plan = tx.tenant_plan().await?;
                plan.check(Limit::Seats, tx.seats_in_use(now).await?, 1)
                    .map_err(|e| SsoError::AccountRefused(e.to_string()))?;
                tx.insert_row(membership::New {
                    user_id: user.id,
                    role: role.clone(),
                    created_at: now,
                })
                .await?;
                Some(role.clone())
            }
            Some(current)
                if row.resync_roles
                    && current.role != role
                    && current.role != BuiltInRole::Owner.as_str() =>
            {
                tx.update_row(membership::Model {
                    role: role.clone(),
                    ..current.clone()
                })
                .await?;
                Some(role.clone())
            }
            Some(_) => None,
        };
        match linked {
            Some(link) => {
                tx.update_row(sso_identity::Model {
                    last_login_at: now,
                    ..link
                })
                .await?
            }
            None => {
                tx.insert_row(sso_identity::New {
                    provider_id: row.id,
                    subject: identity.subject.clone(),
                    user_id: user.id,
                    created_at: now,
                    last_login_at: now,
                })
                .await?;
            }
        }
        let details = serde_json::json!({
            "provider": row.name,
            "subject": identity.subject,
            "email": identity.email,
            "accountCreated": created,
            "role": granted.as_deref().or(membership.as_ref().map(|m| m.role.as_str())),
            "roleChanged": granted.is_some() && membership.is_some(),
        });
        tx.append_audit(event(
            row,
            origin,
            AuditAction::SsoLogin,
            (&user.email, &user.id.to_string()),
            details,
        ))
        .await?;
        tx.commit().await?;
        if let Some(role) = granted {
            self.policy
                .set_membership(tenant.tenant_id(), UserId(user.id), &role)
                .await?;
        }
        Ok(user)
    }

    /// The account of a subject signing in for the first time: a new one, or an existing one with the
    /// same email when it may be linked. Returns whether it was created.
    async fn first_sign_in(
        &self,
        tenant: &TenantDb,
        identity: &Identity,
    ) -> Result<(user::Model, bool), SsoError> {
        let email = identity.email.as_deref().ok_or_else(|| {
            SsoError::AccountRefused("the identity provider sent no email address".into())
        })?;
        let email = crate::accounts::normalize_email(email).map_err(|_| {
            SsoError::AccountRefused("the asserted email address is not valid".into())
        })?;
        if let Some(existing) = self.accounts.user_by_email(&email).await? {
            let domain = crate::accounts::email_domain(&email);
            if identity.email_verified && self.domain_verified(tenant, domain).await? {
                return Ok((existing, false));
            }
            return Err(SsoError::AccountRefused(format!(
                "an account with the email address {email} already exists; it can sign in through this \
                 provider once an administrator verifies the domain {domain}"
            )));
        }
        // Refuse before creating an account that could not become a member.
        let plan = tenant.tenant_plan().await?;
        plan.check(Limit::Seats, tenant.seats_in_use(now_millis()).await?, 1)
            .map_err(|e| SsoError::AccountRefused(e.to_string()))?;
        let name = identity.name.as_deref().unwrap_or_default();
        let name: String = name.chars().take(200).collect();
        let created = self
            .accounts
            .register(NewUser {
                email: &email,
                name: &name,
                password: None,
                verified: identity.email_verified,
            })
            .await?;
        Ok((created, true))
    }

    /// Records a refused sign-in in the provider's tenant; a failure to record it is logged.
    async fn audit_failure(
        &self,
        tenant: &TenantDb,
        row: &sso_provider::Model,
        origin: &Origin,
        error: &SsoError,
        asserted: Option<&Identity>,
    ) {
        let who = asserted
            .and_then(|i| i.email.clone().or_else(|| Some(i.subject.clone())))
            .unwrap_or_default();
        let details = serde_json::json!({
            "provider": row.name,
            "reason": error.audit_reason(),
            "subject": asserted.map(|i| i.subject.as_str()),
            "email": asserted.and_then(|i| i.email.as_deref()),
        });
        let written = async {
            let tx = tenant.begin().await?;
            tx.append_audit(event(
                row,
                origin,
                AuditAction::SsoLoginFailed,
                (&who, ""),
                details,
            ))
            .await?;
            tx.commit().await
        };
        if let Err(e) = written.await {
            tracing::warn!(error = %e, "could not audit a refused SSO sign-in");
        }
    }
}

/// An audit event of a sign-in through `row`, by the person `(shown as, id)`.
fn event(
    row: &sso_provider::Model,
    origin: &Origin,
    action: AuditAction,
    (actor, actor_id): (&str, &str),
    details: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent {
        occurred_at: now_millis(),
        actor: if actor.is_empty() {
            "unknown".to_owned()
        } else {
            actor.to_owned()
        },
        actor_type: ActorType::User.as_str().to_owned(),
        actor_id: actor_id.to_owned(),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        action: action.as_str().to_owned(),
        resource_type: "sso_provider".to_owned(),
        resource_id: row.id.to_string(),
        environment: String::new(),
        before: "null".to_owned(),
        after: details.to_string(),
    }
}

/// The stored form of a browser's SSO cookie value.
fn binding(browser: &str) -> String {
    let digest = Sha256::digest(browser.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cookie value this server could have issued: 16 to 64 letters and digits.
fn valid_browser_value(value: &str) -> bool {
    (16..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `next` when it is a path inside the UI, else the UI's start (the sign-in page's rule: an absolute or
/// scheme-relative URL would make the sign-in an open redirect).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with("/ui")
                && next.chars().count() <= MAX_NEXT_CHARS
                && !next.contains("//")
                && !next.contains(['\\', '{', '}'])
                && !next.chars().any(char::is_control) =>
        {
            next
        }
        _ => DEFAULT_NEXT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_ui() {
        assert_eq!(safe_next(Some("/ui/flags/7?x=1")), "/ui/flags/7?x=1");
        for bad in [
            "https://evil.example/ui",
            "//evil.example",
            "/ui//evil.example",
            "/ui\\@evil",
            "/api/v1/keys",
            "/ui/{token}",
            "/ui/\nSet-Cookie",
        ] {
            assert_eq!(safe_next(Some(bad)), "/ui", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/ui");
    }

    #[test]
    fn a_browser_binding_is_a_hash_of_its_cookie() {
        let value = crate::random_token();
        assert!(valid_browser_value(&value));
        assert_eq!(binding(&value).len(), 64);
        assert_ne!(binding(&value), binding(&crate::random_token()));
        assert!(!valid_browser_value("short"));
        assert!(!valid_browser_value("has spaces in it and is long"));
    }
}
