//! What every handler can reach: the services, the evaluator, the authenticator, usage counters, metrics
//! and limits.

use crate::KeyedLimit;
use flagent_auth::Authenticator;
use flagent_auth::accounts::Accounts;
use flagent_auth::sso::Sso;
use flagent_evaluation::{Evaluator, ReasonCounter};
use flagent_flags::Flags;
use flagent_telemetry::Metrics;
use flagent_tenants::audit::AuditLog;
use flagent_tenants::members::Members;
use flagent_tenants::operators::Operators;
use flagent_tenants::plans::Plans;
use flagent_tenants::projects::Projects;
use flagent_tenants::signup::Signups;
use flagent_tenants::usage::Usage;
use governor::Quota;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Limits the HTTP layer enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most results one batch evaluation may produce.
    pub max_batch_results: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
}

/// The "evaluations by reason" metric (`evaluations_total`), as the evaluator's reason counter.
pub struct ReasonMetrics(pub Metrics);

impl ReasonCounter for ReasonMetrics {
    fn evaluated(&self, reason: flagent_eval::Reason) {
        self.0
            .evaluations
            .with_label_values(&[reason.as_str()])
            .inc();
    }
}

/// Shared application state (`web::Data<AppState>`).
pub struct AppState {
    /// Flag management and the evaluation cache.
    pub flags: Flags,
    /// Evaluation: every answer to an application, the SDK snapshot and the Debug Console.
    pub evaluator: Evaluator,
    /// The audit log.
    pub audit: AuditLog,
    /// Project and environment management.
    pub projects: Projects,
    /// Plans, their limits and the usage report.
    pub plans: Plans,
    /// Measurement: ingestion, metrics, experiments and results.
    pub analytics: Arc<flagent_analytics::Analytics>,
    /// Evaluation counters (recorded per request, written by the server's flush task).
    pub usage: Arc<Usage>,
    /// API key authentication.
    pub auth: Arc<Authenticator>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Limits.
    pub limits: Limits,
    /// Features this build serves, for `/api/v1/info`.
    pub features: Vec<&'static str>,
    /// Accounts: sign-in, verification, password reset.
    pub accounts: Arc<Accounts>,
    /// Members, invitations and roles.
    pub members: Members,
    /// Hosted signup.
    pub signups: Signups,
    /// Platform administration.
    pub operators: Operators,
    /// Single sign-on: identity providers and sign-ins through them.
    pub sso: Arc<Sso>,
    /// Signup switch and rate limits.
    pub signup: SignupLimits,
    /// How session cookies are set.
    pub session_cookies: SessionCookies,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How often an idle change stream sends a heartbeat.
    pub stream_heartbeat: std::time::Duration,
    /// The address clients reach this service at (OFREP's `eventStreams` links), without a trailing `/`.
    pub public_url: String,
}

/// How session cookies are set.
#[derive(Debug, Clone, Copy)]
pub struct SessionCookies {
    /// Whether they are marked `Secure`.
    pub secure: bool,
}

/// Whether signup is open, and its rate limits (also applied to password reset requests per IP).
pub struct SignupLimits {
    /// Whether `POST /signup` is open.
    pub enabled: bool,
    /// Per client IP address.
    pub by_ip: KeyedLimit,
    /// Per email domain.
    pub by_domain: KeyedLimit,
}

/// Most client addresses, and most email domains, the signup limits remember at once (about 100 bytes
/// each).
const MAX_LIMITED_KEYS: usize = 100_000;

impl SignupLimits {
    /// Limits of `per_ip` and `per_domain` requests per hour (at least one each).
    pub fn per_hour(enabled: bool, per_ip: u32, per_domain: u32) -> Self {
        let quota = |n: u32| Quota::per_hour(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        SignupLimits {
            enabled,
            by_ip: KeyedLimit::new(quota(per_ip), MAX_LIMITED_KEYS),
            by_domain: KeyedLimit::new(quota(per_domain), MAX_LIMITED_KEYS),
        }
    }

    /// Forgets the addresses and domains whose quota has replenished; returns how many remain.
    pub fn sweep(&self) -> usize {
        self.by_ip.sweep() + self.by_domain.sweep()
    }
}
