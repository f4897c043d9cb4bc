//! The HTTP adapter: every route, the `Auth<P>` extractor, request and view types, and `ApiError` with
//! its one table of error codes.
//!
//! Architecture Invariant: only this crate and `flagent-server` name actix-web. Handlers call exactly one
//! service function and map its result; they hold no SQL and no business rules.
//! API boundaries: the HTTP management API (`/api/v1/flags…`), evaluation (`/api/v1/evaluation…`),
//! import/export, plan usage (`/api/v1/usage`), accounts and sessions (`/api/v1/auth…`, `/api/v1/signup`),
//! members, invitations and roles, the platform API (`/api/v1/admin…`), and operations (`/health`,
//! `/metrics`, `/api/v1/info`, `/api/v1/openapi.json`); and the OpenFeature Remote Evaluation Protocol
//! (`/ofrep/v1`); the client-side snapshot (`/api/v1/snapshot`); single sign-on (`/api/v1/sso…` and the
//! browser's `/sso…`).

mod account;
mod analytics;
mod audit;
mod auth;
mod crashes;
mod error;
mod etag;
mod evaluation;
mod extract;
mod flags;
mod keyed_limit;
mod keys;
mod members;
mod middleware;
mod ofrep;
mod openapi;
mod operators;
mod ops;
mod projects;
mod scim;
mod snapshot;
mod sso;
mod state;
mod stream;
mod transfer;
mod ui;
mod usage;

pub use auth::{Auth, PlatformAdmin, SignedIn};
pub use error::{ApiError, ErrorCode};
pub use keyed_limit::{KeyedLimit, Refused};
pub use middleware::{json_errors, normalize_path, record_metrics};
pub use openapi::ApiDoc;
pub use state::{AppState, Limits, ReasonMetrics, SessionCookies, SignupLimits};

use actix_web::web::{self, ServiceConfig};

/// Registers every route and the body, query and path error handlers.
pub fn configure(cfg: &mut ServiceConfig, limits: &Limits) {
    extract::configure_extractors(cfg, limits);
    // Routes are tried in registration order, so the evaluation plane comes first, and the root
    // routes last: Swagger UI's `/api/docs/{_:.*}` is a regular expression every request passing it
    // would be matched against.
    cfg.service(
        web::scope("/api/v1")
            .configure(evaluation::configure_evaluation)
            .configure(snapshot::configure_snapshot)
            .configure(stream::configure_stream)
            .configure(analytics::configure_analytics)
            .configure(crashes::configure_crashes)
            .configure(flags::configure_flags)
            .configure(account::configure_account)
            .configure(members::configure_members)
            .configure(operators::configure_operators)
            .configure(audit::configure_audit)
            .configure(keys::configure_keys)
            .configure(projects::configure_projects)
            .configure(transfer::configure_transfer)
            .configure(usage::configure_usage)
            .configure(sso::configure_sso_api)
            .configure(ops::configure_api_ops),
    )
    .service(web::scope("/ofrep/v1").configure(ofrep::configure_ofrep))
    .configure(sso::configure_sso_browser)
    .configure(scim::configure_scim)
    .configure(ops::configure_root_ops)
    .configure(ui::configure_ui);
}
