//! The roles page (`/ui/t/{tenant}/roles`): the built-in and custom roles with what each grants, read
//! through the same service as `GET /api/v1/roles` with the same permission (`flags:read`). Forms to
//! create, change and delete custom roles (`POST`/`PUT`/`DELETE /api/v1/roles…`) and the member counts
//! are shown only to viewers whose role grants `members:manage`, which those routes and
//! `GET /api/v1/members` need.

use super::page::{PageQuery, Refusal, Viewer, html};
use super::settings::allows;
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_auth::Need;
use flagent_types::{Permission, perm};
use flagent_ui::{PermissionInfo, RoleEntry, RolesPage, permission_summary};
use std::collections::HashMap;

/// The permission of the SCIM routes, which no role grants.
const SCIM: &str = <perm::Scim as Permission>::NAME;

/// Every permission a role can grant, once each, in the catalogue's order (SCIM provisioning belongs
/// to SCIM tokens, never to a role); a permission is per-environment when any route declares it so.
fn catalogue() -> Vec<PermissionInfo> {
    let mut permissions: Vec<PermissionInfo> = Vec::new();
    for &(name, per_environment) in perm::ALL.iter().filter(|(n, _)| *n != SCIM) {
        match permissions.iter_mut().find(|p| p.name == name) {
            Some(known) => known.per_environment |= per_environment,
            None => permissions.push(PermissionInfo {
                name,
                per_environment,
                summary: permission_summary(name).unwrap_or(""),
            }),
        }
    }
    permissions
}

/// `/ui/t/{tenant}/roles`: the permission grid, and the custom roles' forms for those who manage
/// members.
pub(super) async fn roles(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let need = Need::of::<perm::Read>();
    let viewer = Viewer::needing(&req, &state, &tenant, &query, "roles", "Roles", need).await?;
    let refuse = |e: flagent_tenants::TenantsError| Refusal::from_api(e.into());
    let roles = state
        .members
        .list_roles(&viewer.scope)
        .await
        .map_err(refuse)?;
    let can_manage = allows(&state, &viewer, perm::ManageMembers::NAME).await;
    let mut holders: Option<HashMap<String, usize>> = None;
    if can_manage {
        let mut counts = HashMap::new();
        for member in state
            .members
            .list_members(&viewer.scope)
            .await
            .map_err(refuse)?
        {
            *counts.entry(member.role).or_insert(0) += 1;
        }
        holders = Some(counts);
    }
    let roles = roles
        .into_iter()
        .map(|r| RoleEntry {
            members: holders
                .as_ref()
                .map(|c| c.get(&r.key).copied().unwrap_or(0)),
            key: r.key,
            name: r.name,
            built_in: r.built_in,
            permissions: r.permissions,
        })
        .collect();
    let nonce = viewer.shell.nonce.clone();
    let page = RolesPage::new(viewer.shell, &catalogue(), roles, can_manage);
    Ok(html(&page, Some(&nonce)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_explained_once_and_writes_may_be_limited_to_environments() {
        let permissions = catalogue();
        for (name, _) in perm::ALL.iter().filter(|(n, _)| *n != SCIM) {
            assert_eq!(
                permissions.iter().filter(|p| p.name == *name).count(),
                1,
                "{name}"
            );
        }
        for p in &permissions {
            assert!(!p.summary.is_empty(), "{} has no summary", p.name);
        }
        let per_environment: Vec<&str> = permissions
            .iter()
            .filter(|p| p.per_environment)
            .map(|p| p.name)
            .collect();
        assert_eq!(per_environment, ["flags:write", "flags:toggle"]);
    }
}
