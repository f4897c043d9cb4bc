//! What every handler can reach: the services, the authenticator, usage counters, metrics and limits.

use flagent_auth::Authenticator;
use flagent_flags::Flags;
use flagent_telemetry::Metrics;
use flagent_tenants::audit::AuditLog;
use flagent_tenants::plans::Plans;
use flagent_tenants::projects::Projects;
use flagent_tenants::usage::Usage;
use std::sync::Arc;

/// Limits the HTTP layer enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most results one batch evaluation may produce.
    pub max_batch_results: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
}

/// Shared application state (`web::Data<AppState>`).
pub struct AppState {
    /// Flag management and the evaluation cache.
    pub flags: Flags,
    /// The audit log.
    pub audit: AuditLog,
    /// Project and environment management.
    pub projects: Projects,
    /// Plans, their limits and the usage report.
    pub plans: Plans,
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
}
