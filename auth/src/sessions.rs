//! Sessions: a row per sign-in, and short-lived signed tokens (JWT, HS256) that carry its id.
//!
//! Invariant: a token is accepted only if its signature and expiry hold, its session row is neither
//! revoked nor past its absolute expiry, and it was started after the user's `sessions_valid_after`
//! (raised by a password reset). Session rows are cached for [`SESSION_RECHECK`]; a session ended
//! through this node is refused by it at once, and by other nodes once their cached row is re-checked.
//! Tokens are rotated: each refresh issues a new token with a new CSRF value for the same session.

use crate::AuthError;
use crate::now_millis;
use flagent_storage::Db;
use flagent_storage::entities::{session, user};
use flagent_types::{Origin, SessionId, SystemScope, TenantId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a cached session row is trusted before it is read again.
pub const SESSION_RECHECK: Duration = Duration::from_secs(30);

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as text (the JWT convention).
    pub sub: String,
    /// The session id.
    pub sid: SessionId,
    /// The user's email, for naming the actor without a lookup.
    pub email: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The value a cookie-authenticated request must echo in `X-CSRF-Token`.
    pub csrf: String,
    /// The tenant whose identity provider the session was signed in through, if any: it may act there
    /// while the tenant enforces single sign-on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_tenant: Option<i64>,
}

impl Claims {
    /// The user id.
    pub fn user_id(&self) -> Result<UserId, AuthError> {
        self.sub
            .parse()
            .map(UserId)
            .map_err(|_| AuthError::InvalidSession)
    }
}

/// A token handed to a client.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The signed token.
    pub token: String,
    /// Its claims (expiry, CSRF value).
    pub claims: Claims,
}

/// Lifetimes of sessions and their tokens.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetimes {
    /// How long one token is valid; clients refresh before it runs out.
    pub token: Duration,
    /// How long a session lasts at most, however often it is refreshed.
    pub session: Duration,
}

struct CachedSession {
    row: session::Model,
    valid_after: i64,
    fetched: Instant,
}

/// Issues, verifies, refreshes and ends sessions.
pub struct Sessions {
    db: Db,
    system: SystemScope,
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetimes: SessionLifetimes,
    cache: RwLock<HashMap<i64, CachedSession>>,
    ended: RwLock<HashSet<i64>>,
}

impl Sessions {
    /// Sessions signed with `secret` (shared by every node).
    pub fn new(db: Db, system: SystemScope, secret: &[u8], lifetimes: SessionLifetimes) -> Self {
        Self {
            db,
            system,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetimes,
            cache: RwLock::default(),
            ended: RwLock::default(),
        }
    }

    /// Starts a session for `user` and issues its first token.
    pub async fn start(
        &self,
        user: &user::Model,
        origin: &Origin,
    ) -> Result<IssuedToken, AuthError> {
        self.start_session(user, origin, None).await
    }

    /// Starts a session for `user` signed in through identity provider `provider` of `tenant`, which
    /// the session records (disabling or deleting the provider ends it).
    pub async fn start_through_provider(
        &self,
        user: &user::Model,
        origin: &Origin,
        provider: i64,
        tenant: TenantId,
    ) -> Result<IssuedToken, AuthError> {
        self.start_session(user, origin, Some((provider, tenant)))
            .await
    }

    async fn start_session(
        &self,
        user: &user::Model,
        origin: &Origin,
        provider: Option<(i64, TenantId)>,
    ) -> Result<IssuedToken, AuthError> {
        let now = now_millis();
        let row = self
            .db
            .system(&self.system)
            .insert_session(session::Model {
                id: 0,
                user_id: user.id,
                created_at: now,
                expires_at: now + self.lifetimes.session.as_millis() as i64,
                revoked_at: None,
                ip: origin.ip.clone(),
                user_agent: origin.user_agent.clone(),
                sso_provider_id: provider.map(|(id, _)| id),
            })
            .await?;
        self.sign(
            &row,
            UserId(user.id),
            &user.email,
            provider.map(|(_, tenant)| tenant.0),
        )
    }

    /// Checks a presented token: signature, expiry, and that its session is live.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > 4096 {
            return Err(AuthError::InvalidSession);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AuthError::InvalidSession)?
            .claims;
        self.check_live(&claims).await?;
        Ok(claims)
    }

    /// Issues a fresh token (new expiry, new CSRF value) for the live session of `claims`.
    pub async fn refresh(&self, claims: &Claims) -> Result<IssuedToken, AuthError> {
        let row = self.check_live(claims).await?;
        self.sign(&row, claims.user_id()?, &claims.email, claims.sso_tenant)
    }

    /// Ends session `sid` (logout); its tokens are refused from now on.
    pub async fn end(&self, sid: SessionId) -> Result<(), AuthError> {
        let sid = sid.0;
        if let Ok(mut ended) = self.ended.write() {
            ended.insert(sid);
        }
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(&sid);
        }
        self.db
            .system(&self.system)
            .revoke_session(sid, now_millis())
            .await?;
        Ok(())
    }

    /// Ends every session of `user` (password reset, account removal).
    pub async fn end_all_of_user(&self, user: UserId) -> Result<(), AuthError> {
        let user = user.0;
        let sids: Vec<i64> = self
            .cache
            .read()
            .map(|c| {
                c.values()
                    .filter(|s| s.row.user_id == user)
                    .map(|s| s.row.id)
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(mut ended) = self.ended.write() {
            ended.extend(sids.iter().copied());
        }
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|_, s| s.row.user_id != user);
        }
        self.db
            .system(&self.system)
            .revoke_sessions_of_user(user, now_millis())
            .await?;
        Ok(())
    }

    /// Ends every session started through identity provider `provider` (disabled or deleted).
    pub async fn end_all_through_provider(&self, provider: i64) -> Result<(), AuthError> {
        let through = |s: &CachedSession| s.row.sso_provider_id == Some(provider);
        let sids: Vec<i64> = self
            .cache
            .read()
            .map(|c| {
                c.values()
                    .filter(|s| through(s))
                    .map(|s| s.row.id)
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(mut ended) = self.ended.write() {
            ended.extend(sids.iter().copied());
        }
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|_, s| !through(s));
        }
        self.db
            .system(&self.system)
            .revoke_sessions_of_provider(provider, now_millis())
            .await?;
        Ok(())
    }

    fn sign(
        &self,
        row: &session::Model,
        user: UserId,
        email: &str,
        sso_tenant: Option<i64>,
    ) -> Result<IssuedToken, AuthError> {
        let now = now_millis();
        let exp = (now + self.lifetimes.token.as_millis() as i64).min(row.expires_at);
        let claims = Claims {
            sub: user.to_string(),
            sid: SessionId(row.id),
            email: email.to_owned(),
            iat: now / 1000,
            exp: exp / 1000,
            csrf: crate::keys::random_base62(),
            sso_tenant,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| {
            AuthError::Unexpected(anyhow::anyhow!("signing a session failed: {e}"))
        })?;
        Ok(IssuedToken { token, claims })
    }

    async fn check_live(&self, claims: &Claims) -> Result<session::Model, AuthError> {
        let ended_here = self
            .ended
            .read()
            .map(|e| e.contains(&claims.sid.0))
            .unwrap_or(true);
        if ended_here {
            return Err(AuthError::InvalidSession);
        }
        let (row, valid_after) = self.session_row(claims.sid.0).await?;
        let now = now_millis();
        let live = row.revoked_at.is_none()
            && row.expires_at > now
            && row.user_id.to_string() == claims.sub
            && row.created_at >= valid_after;
        if live {
            Ok(row)
        } else {
            Err(AuthError::InvalidSession)
        }
    }

    async fn session_row(&self, sid: i64) -> Result<(session::Model, i64), AuthError> {
        let cached = self.cache.read().ok().and_then(|c| {
            c.get(&sid)
                .filter(|s| s.fetched.elapsed() < SESSION_RECHECK)
                .map(|s| (s.row.clone(), s.valid_after))
        });
        if let Some(found) = cached {
            return Ok(found);
        }
        let system = self.db.system(&self.system);
        let row = system
            .session(sid)
            .await?
            .ok_or(AuthError::InvalidSession)?;
        let user = system
            .user(row.user_id)
            .await?
            .ok_or(AuthError::InvalidSession)?;
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(
                sid,
                CachedSession {
                    row: row.clone(),
                    valid_after: user.sessions_valid_after,
                    fetched: Instant::now(),
                },
            );
        }
        Ok((row, user.sessions_valid_after))
    }
}
