//! The roles page: what each built-in and custom role grants, as a grid of permissions by role with
//! a plain-language line per permission, and the forms that create, change and delete custom roles.
//!
//! Invariant: the page shows a role's grants as the API lists them (`flags:write`, or
//! `flags:write:production` for one environment); the edit form is pre-filled with exactly those
//! texts, so saving a role unchanged sends back what it holds, including environments the current
//! project does not have.

use crate::{Shell, enc};
use askama::Template;

/// A custom role's `flags:write` also lets it turn flags on and off (`flags:toggle`) where it is
/// granted; the grid shows that.
const IMPLIED: (&str, &str) = ("flags:write", "flags:toggle");

/// What `permission` lets a member do, in a few plain words; `None` for a permission this page does
/// not describe yet.
pub fn permission_summary(permission: &str) -> Option<&'static str> {
    Some(match permission {
        "flags:evaluate" => "evaluate flags through the evaluation API",
        "flags:read" => "see flags, projects, environments, roles and usage",
        "flags:write" => "change flags and targeting (and turn them on and off)",
        "flags:toggle" => "turn flags on and off",
        "projects:manage" => "create and change projects and environments",
        "keys:manage" => "issue, rotate and revoke API keys",
        "members:manage" => "invite and remove members, change roles, define custom roles",
        "audit:read" => "read and export the audit log",
        "tenant:manage" => "manage the organisation itself: plan, billing, deletion",
        "sso:manage" => "connect identity providers, claim email domains, enforce single sign-on",
        _ => return None,
    })
}

/// A permission a role can grant, as the page explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionInfo {
    /// Its name (`flags:write`).
    pub name: &'static str,
    /// Whether a role may be granted it in some environments only.
    pub per_environment: bool,
    /// What it lets a member do ([`permission_summary`]).
    pub summary: &'static str,
}

/// A role as the roles API lists it, with how many members hold it when the viewer may know.
#[derive(Debug, Clone)]
pub struct RoleEntry {
    /// Its key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Whether it is built in (and so cannot be changed).
    pub built_in: bool,
    /// What it grants (`flags:read`, `flags:write:production`…).
    pub permissions: Vec<String>,
    /// How many members hold it; `None` when the viewer may not list members.
    pub members: Option<usize>,
}

/// What a role grants of one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Nothing.
    No,
    /// The permission in every environment.
    Everywhere,
    /// The permission in these environments only.
    Only(Vec<String>),
}

impl Access {
    /// What `permissions` grant of `permission`.
    fn of(permission: &PermissionInfo, permissions: &[String]) -> Access {
        let mut environments = Vec::new();
        for text in permissions {
            if text == permission.name {
                return Access::Everywhere;
            }
            let environment = text
                .strip_prefix(permission.name)
                .and_then(|rest| rest.strip_prefix(':'));
            if let Some(environment) = environment.filter(|_| permission.per_environment)
                && !environments.iter().any(|e| e == environment)
            {
                environments.push(environment.to_owned());
            }
        }
        if environments.is_empty() {
            Access::No
        } else {
            Access::Only(environments)
        }
    }

    /// Both grants together.
    fn with(self, other: Access) -> Access {
        match (self, other) {
            (Access::Everywhere, _) | (_, Access::Everywhere) => Access::Everywhere,
            (Access::No, other) | (other, Access::No) => other,
            (Access::Only(mut mine), Access::Only(theirs)) => {
                for environment in theirs {
                    if !mine.contains(&environment) {
                        mine.push(environment);
                    }
                }
                Access::Only(mine)
            }
        }
    }
}

/// One cell of the grid: what a role grants of a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// What it grants.
    pub access: Access,
    /// Whether (some of) it comes with another permission (`flags:toggle` with `flags:write`).
    pub implied_by: Option<&'static str>,
}

/// One row of the grid: a permission and what each role grants of it, in the page's role order.
#[derive(Debug, Clone)]
pub struct GridRow {
    /// The permission.
    pub permission: PermissionInfo,
    /// One cell per role.
    pub cells: Vec<Cell>,
}

/// An environment a per-environment permission can be limited to, in a role form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentChoice {
    /// The environment's key.
    pub key: String,
    /// The grant's text (`flags:write:production`).
    pub value: String,
    /// Whether the role holds it.
    pub checked: bool,
}

/// One permission's checkboxes in a role form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionChoice {
    /// The permission.
    pub permission: PermissionInfo,
    /// Whether the role holds it in every environment.
    pub checked: bool,
    /// The environments it can be limited to (empty for a permission of the whole organisation).
    pub environments: Vec<EnvironmentChoice>,
}

/// A role's column and, for a custom role, its edit form.
#[derive(Debug, Clone)]
pub struct RoleColumn {
    /// The role.
    pub role: RoleEntry,
    /// The edit form's checkboxes, pre-filled with what it grants.
    pub choices: Vec<PermissionChoice>,
}

impl RoleColumn {
    /// The role's path in the roles API.
    pub fn api(&self) -> String {
        format!("/api/v1/roles/{}", enc(&self.role.key))
    }
}

/// `/ui/t/{tenant}/roles`.
#[derive(Debug, Template)]
#[template(path = "roles.html")]
pub struct RolesPage {
    /// The frame.
    pub shell: Shell,
    /// Built-in roles first, then the tenant's custom roles.
    pub roles: Vec<RoleColumn>,
    /// Permission by role.
    pub grid: Vec<GridRow>,
    /// The create form's checkboxes.
    pub new_role: Vec<PermissionChoice>,
    /// Whether the viewer may create, change and delete custom roles.
    pub can_manage: bool,
    /// Whether member counts are shown (the viewer may list members).
    pub shows_members: bool,
}

/// The checkboxes of a role form for a role holding `permissions`: every permission of the
/// catalogue, and for a per-environment one each of `environments` and each environment the role
/// already names.
fn choices(
    catalogue: &[PermissionInfo],
    permissions: &[String],
    environments: &[String],
) -> Vec<PermissionChoice> {
    catalogue
        .iter()
        .map(|p| {
            let held = Access::of(p, permissions);
            let mut keys: Vec<String> = if p.per_environment {
                environments.to_vec()
            } else {
                Vec::new()
            };
            if let Access::Only(named) = &held {
                for key in named {
                    if !keys.contains(key) {
                        keys.push(key.clone());
                    }
                }
            }
            PermissionChoice {
                permission: *p,
                checked: held == Access::Everywhere,
                environments: keys
                    .into_iter()
                    .map(|key| EnvironmentChoice {
                        value: format!("{}:{key}", p.name),
                        checked: matches!(&held, Access::Only(named) if named.contains(&key)),
                        key,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// What `role` grants of `permission`, with what another permission brings along.
fn cell(catalogue: &[PermissionInfo], permission: &PermissionInfo, role: &RoleEntry) -> Cell {
    let own = Access::of(permission, &role.permissions);
    let (source, target) = IMPLIED;
    let brought = match catalogue.iter().find(|p| p.name == source) {
        Some(source) if permission.name == target => Access::of(source, &role.permissions),
        _ => Access::No,
    };
    let access = own.clone().with(brought);
    Cell {
        implied_by: (access != own).then_some(source),
        access,
    }
}

impl RolesPage {
    /// The page for `roles` (built-in first), explaining `catalogue`'s permissions; role forms offer
    /// the current project's environments for per-environment permissions.
    pub fn new(
        shell: Shell,
        catalogue: &[PermissionInfo],
        roles: Vec<RoleEntry>,
        can_manage: bool,
    ) -> RolesPage {
        let environments: Vec<String> = shell.environments.iter().map(|e| e.key.clone()).collect();
        let grid = catalogue
            .iter()
            .map(|p| GridRow {
                permission: *p,
                cells: roles.iter().map(|r| cell(catalogue, p, r)).collect(),
            })
            .collect();
        let shows_members = roles.iter().any(|r| r.members.is_some());
        let roles = roles
            .into_iter()
            .map(|role| RoleColumn {
                choices: choices(catalogue, &role.permissions, &environments),
                role,
            })
            .collect();
        RolesPage {
            new_role: choices(catalogue, &[], &environments),
            shell,
            roles,
            grid,
            can_manage,
            shows_members,
        }
    }

    /// How many of the roles are custom.
    pub fn custom_count(&self) -> usize {
        self.roles.iter().filter(|r| !r.role.built_in).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::shell;

    fn catalogue() -> Vec<PermissionInfo> {
        [
            ("flags:read", false),
            ("flags:write", true),
            ("flags:toggle", true),
            ("members:manage", false),
        ]
        .into_iter()
        .map(|(name, per_environment)| PermissionInfo {
            name,
            per_environment,
            summary: permission_summary(name).unwrap(),
        })
        .collect()
    }

    fn role(key: &str, built_in: bool, permissions: &[&str]) -> RoleEntry {
        RoleEntry {
            key: key.into(),
            name: format!("The {key}"),
            built_in,
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            members: Some(2),
        }
    }

    fn page(can_manage: bool) -> RolesPage {
        RolesPage::new(
            shell("roles"),
            &catalogue(),
            vec![
                role(
                    "editor",
                    true,
                    &["flags:read", "flags:write", "flags:toggle"],
                ),
                role(
                    "qa/release",
                    false,
                    &[
                        "flags:read",
                        "flags:write:staging",
                        "flags:toggle:development",
                    ],
                ),
            ],
            can_manage,
        )
    }

    fn row<'a>(page: &'a RolesPage, permission: &str) -> &'a GridRow {
        page.grid
            .iter()
            .find(|r| r.permission.name == permission)
            .unwrap()
    }

    #[test]
    fn the_grid_shows_environment_limits_and_what_flags_write_brings() {
        let page = page(true);
        let write = row(&page, "flags:write");
        assert_eq!(write.cells[0].access, Access::Everywhere);
        assert_eq!(write.cells[1].access, Access::Only(vec!["staging".into()]));
        let toggle = row(&page, "flags:toggle");
        assert_eq!(
            toggle.cells[0].implied_by, None,
            "the editor holds it itself"
        );
        assert_eq!(
            toggle.cells[1],
            Cell {
                access: Access::Only(vec!["development".into(), "staging".into()]),
                implied_by: Some("flags:write"),
            }
        );
        assert_eq!(row(&page, "members:manage").cells[1].access, Access::No);
        assert_eq!(page.custom_count(), 1);
    }

    #[test]
    fn a_role_form_keeps_environments_the_project_does_not_have() {
        let page = page(true);
        let custom = &page.roles[1];
        let write = custom
            .choices
            .iter()
            .find(|c| c.permission.name == "flags:write")
            .unwrap();
        assert!(!write.checked);
        let offered: Vec<(&str, bool)> = write
            .environments
            .iter()
            .map(|e| (e.value.as_str(), e.checked))
            .collect();
        assert_eq!(
            offered,
            [
                ("flags:write:development", false),
                ("flags:write:production", false),
                ("flags:write:staging", true),
            ]
        );
        let manage = &custom.choices[3];
        assert!(manage.environments.is_empty() && !manage.checked);
        assert_eq!(custom.api(), "/api/v1/roles/qa%2Frelease");
        assert!(page.new_role.iter().all(|c| !c.checked));
    }

    #[test]
    fn only_managers_get_the_role_forms_and_built_in_roles_get_none() {
        let html = page(true).render().unwrap();
        assert!(html.contains(r#"data-api="/api/v1/roles" data-method="POST""#));
        assert!(html.contains(r#"data-api="/api/v1/roles/qa%2Frelease" data-method="PUT""#));
        assert!(html.contains(r#"data-api="/api/v1/roles/qa%2Frelease" data-method="DELETE""#));
        assert!(
            !html.contains("/api/v1/roles/editor"),
            "a built-in role is read-only"
        );
        assert!(html.contains(r#"value="flags:write:staging" data-type="list" checked"#));
        assert!(html.contains(
            "<code>flags:write</code><span class=\"description\">change flags and targeting"
        ));
        assert!(html.contains("only in <code>staging</code>"));
        assert!(html.contains("2 members"));
        let reader = page(false).render().unwrap();
        assert!(!reader.contains("data-api=\"/api/v1/roles"));
        assert!(reader.contains("only in <code>staging</code>"));
    }
}
