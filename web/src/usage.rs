//! The plan and usage route (`GET /api/v1/usage`): the caller tenant's plan, its limits, what it uses
//! this month and which limits it is over. Needs the `read` scope (a member: `flags:read`).

use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::{self, Data, Json, ServiceConfig};
use flagent_tenants::plans::UsageReport;
use flagent_types::perm;

/// Registers the usage route under `/api/v1`.
pub(crate) fn configure_usage(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/usage").route(web::get().to(get_usage)));
}

/// Shows the tenant's plan, its limits (`null` is unlimited), its usage this month (evaluations include
/// those this server has not written yet) and the limits it is over.
#[utoipa::path(get, path = "/api/v1/usage", tag = "usage",
    responses((status = 200, body = UsageReport)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn get_usage(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
) -> Result<Json<UsageReport>, ApiError> {
    Ok(Json(state.plans.usage_report(auth.scope()).await?))
}
