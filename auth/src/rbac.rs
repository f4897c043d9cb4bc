//! Roles and permissions, enforced by casbin with the RBAC-with-domains model (the domain is the tenant).
//!
//! Built-in roles (`owner`, `admin`, `editor`, `viewer`) hold policies in every domain; a tenant's custom
//! roles hold policies in its own domain only. A membership is a grouping rule
//! `user:<id> → role in tenant:<id>`. A request asks `(user, tenant, permission, environment)`, where the
//! environment is the request's for per-environment permissions and `*` otherwise, so a role granted
//! `flags:write` only in `development` cannot change production, nor anything shared by every
//! environment.
//!
//! Invariant: the database is the source of truth; the enforcer is rebuilt from it at start and by
//! [`Policy::reload`], and changed in place by the use cases that change memberships and roles.

use crate::AuthError;
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi, RbacApi};
use flagent_storage::entities::{membership, role};
use flagent_types::{BuiltInRole, Permissions, TenantId, UserId, perm};
use tokio::sync::{RwLock, broadcast};

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || p.dom == r.dom) && r.obj == p.obj && (p.act == "*" || p.act == r.act)
"#;

/// The built-in roles, strongest first.
pub const BUILT_IN_ROLES: [&str; 4] = [
    BuiltInRole::Owner.as_str(),
    BuiltInRole::Admin.as_str(),
    BuiltInRole::Editor.as_str(),
    BuiltInRole::Viewer.as_str(),
];

/// The permission of the SCIM routes, which only SCIM tokens hold.
const SCIM_PERMISSION: &str = <perm::Scim as flagent_types::Permission>::NAME;

/// The permissions of a built-in role.
pub fn built_in_permissions(role: &str) -> Vec<&'static str> {
    // SCIM provisioning belongs to SCIM tokens; no role grants it.
    let all = perm::ALL
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != SCIM_PERMISSION);
    let mut names: Vec<&'static str> = match BuiltInRole::parse(role) {
        Ok(BuiltInRole::Owner) => all.collect(),
        Ok(BuiltInRole::Admin) => all.filter(|n| *n != "tenant:manage").collect(),
        Ok(BuiltInRole::Editor) => vec![
            "flags:read",
            "flags:evaluate",
            "flags:write",
            "flags:toggle",
        ],
        Ok(BuiltInRole::Viewer) => vec!["flags:read", "flags:evaluate"],
        Err(_) => Vec::new(),
    };
    names.dedup();
    names
}

/// One grant of a custom role: a permission, optionally limited to one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// A permission name from the catalogue (`flags:write`).
    pub permission: &'static str,
    /// The environment key it is limited to, for per-environment permissions.
    pub environment: Option<String>,
}

impl Grant {
    /// Parses `flags:write` or `flags:write:production`.
    pub fn parse(text: &str) -> Result<Grant, AuthError> {
        let text = text.trim();
        let invalid = |reason: String| AuthError::InvalidInput {
            field: "permissions",
            reason,
        };
        if text == SCIM_PERMISSION {
            return Err(invalid(format!(
                "{SCIM_PERMISSION} belongs to SCIM tokens (API keys with the scim scope), not to roles"
            )));
        }
        let known = |name: &str| perm::ALL.iter().find(|(n, _)| *n == name).copied();
        if let Some((name, _)) = known(text) {
            return Ok(Grant {
                permission: name,
                environment: None,
            });
        }
        let (name, env) = text
            .rsplit_once(':')
            .ok_or_else(|| invalid(format!("unknown permission {text:?}")))?;
        match known(name) {
            Some((name, true)) if flagent_types::valid_key(env).is_ok() => Ok(Grant {
                permission: name,
                environment: Some(env.to_owned()),
            }),
            Some((name, false)) => Err(invalid(format!(
                "{name} applies to every environment and cannot be limited to {env:?}"
            ))),
            _ => Err(invalid(format!("unknown permission {text:?}"))),
        }
    }

    /// The grant as written (`flags:write:production`).
    pub fn to_text(&self) -> String {
        match &self.environment {
            Some(env) => format!("{}:{env}", self.permission),
            None => self.permission.to_owned(),
        }
    }
}

/// The casbin subject of a role key: built-in roles by name, custom roles prefixed.
fn role_subject(role: &str) -> String {
    if BUILT_IN_ROLES.contains(&role) {
        role.to_owned()
    } else {
        format!("custom:{role}")
    }
}

/// The subject of a user (a [`UserId`] or a stored row's id).
fn user_subject(user: impl std::fmt::Display) -> String {
    format!("user:{user}")
}

/// The domain of a tenant (a [`TenantId`] or a stored row's id).
fn domain(tenant: impl std::fmt::Display) -> String {
    format!("tenant:{tenant}")
}

/// The policies of a custom role in `tenant`; `flags:write` also grants `flags:toggle`.
fn custom_policies(
    tenant: impl std::fmt::Display + Copy,
    key: &str,
    grants: &[Grant],
) -> Vec<Vec<String>> {
    let mut rules = Vec::new();
    for grant in grants {
        let act = grant.environment.clone().unwrap_or_else(|| "*".to_owned());
        let mut names = vec![grant.permission];
        if grant.permission == "flags:write" {
            names.push("flags:toggle");
        }
        for name in names {
            let rule = vec![
                role_subject(key),
                domain(tenant),
                name.to_owned(),
                act.clone(),
            ];
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    rules
}

/// Parses a stored custom role's permissions (a JSON array of strings); bad entries are skipped.
pub fn stored_grants(role: &role::Model) -> Vec<Grant> {
    serde_json::from_str::<Vec<String>>(&role.permissions)
        .unwrap_or_default()
        .iter()
        .filter_map(|g| Grant::parse(g).ok())
        .collect()
}

/// The role policy of every tenant.
pub struct Policy {
    enforcer: RwLock<Enforcer>,
    /// Ticks after every change made through this node (other nodes must rebuild theirs).
    changes: broadcast::Sender<()>,
}

async fn build(
    memberships: &[membership::Model],
    roles: &[role::Model],
) -> Result<Enforcer, AuthError> {
    let model = DefaultModel::from_str(MODEL).await.map_err(failed)?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
        .await
        .map_err(failed)?;
    let mut rules: Vec<Vec<String>> = Vec::new();
    for role in BUILT_IN_ROLES {
        for name in built_in_permissions(role) {
            rules.push(vec![
                role.to_owned(),
                "*".to_owned(),
                name.to_owned(),
                "*".to_owned(),
            ]);
        }
    }
    for role in roles {
        rules.extend(custom_policies(
            role.tenant_id,
            &role.key,
            &stored_grants(role),
        ));
    }
    enforcer.add_policies(rules).await.map_err(failed)?;
    let groups: Vec<Vec<String>> = memberships
        .iter()
        .map(|m| {
            vec![
                user_subject(m.user_id),
                role_subject(&m.role),
                domain(m.tenant_id),
            ]
        })
        .collect();
    if !groups.is_empty() {
        enforcer
            .add_grouping_policies(groups)
            .await
            .map_err(failed)?;
    }
    Ok(enforcer)
}

/// Removes every role `subject` holds in domain `dom`.
async fn drop_roles(enforcer: &mut Enforcer, subject: &str, dom: &str) -> Result<(), AuthError> {
    for old in enforcer.get_roles_for_user(subject, Some(dom)) {
        enforcer
            .remove_grouping_policy(vec![subject.to_owned(), old, dom.to_owned()])
            .await
            .map_err(failed)?;
    }
    Ok(())
}

fn failed(e: casbin::Error) -> AuthError {
    AuthError::Unexpected(anyhow::anyhow!("role policy: {e}"))
}

impl Policy {
    /// A policy holding `memberships` and the custom `roles` of every tenant.
    pub async fn new(
        memberships: &[membership::Model],
        roles: &[role::Model],
    ) -> Result<Policy, AuthError> {
        Ok(Policy {
            enforcer: RwLock::new(build(memberships, roles).await?),
            changes: broadcast::Sender::new(64),
        })
    }

    /// Ticks after each membership or role change made through this node; a rebuild ([`Policy::reload`])
    /// does not tick.
    pub fn changed(&self) -> broadcast::Receiver<()> {
        self.changes.subscribe()
    }

    fn announce(&self) {
        // Nobody listening is fine: a single node has no one to tell.
        let _ = self.changes.send(());
    }

    /// Replaces the whole policy (picking up changes made through other nodes).
    pub async fn reload(
        &self,
        memberships: &[membership::Model],
        roles: &[role::Model],
    ) -> Result<(), AuthError> {
        let fresh = build(memberships, roles).await?;
        *self.enforcer.write().await = fresh;
        Ok(())
    }

    /// Whether `user` may use `permission` in `tenant`, in `environment` (`None`: not per environment).
    pub async fn allows(
        &self,
        user: UserId,
        tenant: TenantId,
        permission: &str,
        environment: Option<&str>,
    ) -> bool {
        let request = (
            user_subject(user),
            domain(tenant),
            permission.to_owned(),
            environment.unwrap_or("*").to_owned(),
        );
        self.enforcer.read().await.enforce(request).unwrap_or(false)
    }

    /// Every permission `user` holds in `tenant`, the per-environment ones checked in `environment` (a
    /// key), each as [`Policy::allows`] would answer it.
    pub async fn granted(&self, user: UserId, tenant: TenantId, environment: &str) -> Permissions {
        let enforcer = self.enforcer.read().await;
        let (subject, dom) = (user_subject(user), domain(tenant));
        let mut granted = Permissions::NONE;
        for (index, (name, per_environment)) in perm::ALL.iter().enumerate() {
            let act = if *per_environment { environment } else { "*" };
            let request = (subject.as_str(), dom.as_str(), *name, act);
            if enforcer.enforce(request).unwrap_or(false) {
                granted = granted.with_index(index as u8);
            }
        }
        granted
    }

    /// The role `user` holds in `tenant`, if they are a member.
    pub async fn role_of(&self, user: UserId, tenant: TenantId) -> Option<String> {
        let enforcer = self.enforcer.read().await;
        let roles = enforcer.get_roles_for_user(&user_subject(user), Some(&domain(tenant)));
        roles
            .into_iter()
            .next()
            .map(|r| r.strip_prefix("custom:").map(str::to_owned).unwrap_or(r))
    }

    /// The tenants `user` is a member of, ascending id.
    pub async fn tenants_of(&self, user: UserId) -> Vec<TenantId> {
        let enforcer = self.enforcer.read().await;
        let mut tenants: Vec<TenantId> = enforcer
            .get_filtered_grouping_policy(0, vec![user_subject(user)])
            .iter()
            .filter_map(|rule| rule.get(2)?.strip_prefix("tenant:")?.parse().ok())
            .map(TenantId)
            .collect();
        tenants.sort_unstable();
        tenants.dedup();
        tenants
    }

    /// Makes `user` a member of `tenant` with `role`, replacing any role they held there.
    pub async fn set_membership(
        &self,
        tenant: TenantId,
        user: UserId,
        role: &str,
    ) -> Result<(), AuthError> {
        let mut enforcer = self.enforcer.write().await;
        let (subject, dom) = (user_subject(user), domain(tenant));
        drop_roles(&mut enforcer, &subject, &dom).await?;
        enforcer
            .add_grouping_policy(vec![subject, role_subject(role), dom])
            .await
            .map_err(failed)?;
        self.announce();
        Ok(())
    }

    /// Removes `user` from `tenant`: from now on they may do nothing there.
    pub async fn remove_membership(&self, tenant: TenantId, user: UserId) -> Result<(), AuthError> {
        let mut enforcer = self.enforcer.write().await;
        drop_roles(&mut enforcer, &user_subject(user), &domain(tenant)).await?;
        self.announce();
        Ok(())
    }

    /// Sets the grants of custom role `key` in `tenant` (an empty list removes them all).
    pub async fn set_custom_role(
        &self,
        tenant: TenantId,
        key: &str,
        grants: &[Grant],
    ) -> Result<(), AuthError> {
        let mut enforcer = self.enforcer.write().await;
        enforcer
            .remove_filtered_policy(0, vec![role_subject(key), domain(tenant)])
            .await
            .map_err(failed)?;
        let rules = custom_policies(tenant, key, grants);
        if !rules.is_empty() {
            enforcer.add_policies(rules).await.map_err(failed)?;
        }
        self.announce();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(tenant: i64, user: i64, role: &str) -> membership::Model {
        membership::Model {
            id: 0,
            tenant_id: tenant,
            user_id: user,
            role: role.to_owned(),
            created_at: 0,
        }
    }

    fn custom(tenant: i64, key: &str, grants: &[&str]) -> role::Model {
        role::Model {
            id: 0,
            tenant_id: tenant,
            key: key.to_owned(),
            name: key.to_owned(),
            permissions: serde_json::to_string(grants).unwrap(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[tokio::test]
    async fn built_in_roles_grant_their_permissions_in_their_tenant_only() {
        let policy = Policy::new(
            &[
                member(1, 10, "owner"),
                member(1, 11, "editor"),
                member(2, 11, "viewer"),
            ],
            &[],
        )
        .await
        .unwrap();
        assert!(
            policy
                .allows(UserId(10), TenantId(1), "tenant:manage", None)
                .await
        );
        assert!(
            policy
                .allows(UserId(11), TenantId(1), "flags:write", Some("production"))
                .await
        );
        assert!(
            !policy
                .allows(UserId(11), TenantId(1), "keys:manage", None)
                .await
        );
        assert!(
            !policy
                .allows(UserId(11), TenantId(2), "flags:write", Some("production"))
                .await
        );
        assert!(
            policy
                .allows(UserId(11), TenantId(2), "flags:read", None)
                .await
        );
        assert!(
            !policy
                .allows(UserId(10), TenantId(2), "flags:read", None)
                .await,
            "no membership, no access"
        );
        assert_eq!(
            policy.role_of(UserId(11), TenantId(2)).await.as_deref(),
            Some("viewer")
        );
        assert_eq!(
            policy.tenants_of(UserId(11)).await,
            vec![TenantId(1), TenantId(2)]
        );
        assert_eq!(policy.tenants_of(UserId(99)).await, Vec::<TenantId>::new());
        assert_eq!(policy.role_of(UserId(10), TenantId(2)).await, None);
    }

    #[tokio::test]
    async fn custom_roles_limit_writes_to_environments_and_stay_in_their_tenant() {
        let policy = Policy::new(
            &[member(1, 20, "qa"), member(2, 21, "qa")],
            &[custom(
                1,
                "qa",
                &[
                    "flags:read",
                    "flags:write:development",
                    "flags:toggle:staging",
                ],
            )],
        )
        .await
        .unwrap();
        assert!(
            policy
                .allows(UserId(20), TenantId(1), "flags:write", Some("development"))
                .await
        );
        assert!(
            policy
                .allows(UserId(20), TenantId(1), "flags:toggle", Some("development"))
                .await
        );
        assert!(
            policy
                .allows(UserId(20), TenantId(1), "flags:toggle", Some("staging"))
                .await
        );
        assert!(
            !policy
                .allows(UserId(20), TenantId(1), "flags:write", Some("staging"))
                .await
        );
        assert!(
            !policy
                .allows(UserId(20), TenantId(1), "flags:write", Some("production"))
                .await
        );
        assert!(
            !policy
                .allows(UserId(20), TenantId(1), "flags:write", None)
                .await,
            "flag-wide changes need every environment"
        );
        assert!(
            !policy
                .allows(UserId(21), TenantId(2), "flags:read", None)
                .await,
            "tenant 2 has no role qa"
        );
        assert_eq!(
            policy.role_of(UserId(20), TenantId(1)).await.as_deref(),
            Some("qa")
        );
    }

    #[tokio::test]
    async fn membership_and_role_changes_apply_at_once() {
        let policy = Policy::new(&[member(1, 30, "viewer")], &[]).await.unwrap();
        assert!(
            !policy
                .allows(UserId(30), TenantId(1), "flags:write", Some("dev"))
                .await
        );
        policy
            .set_membership(TenantId(1), UserId(30), "editor")
            .await
            .unwrap();
        assert!(
            policy
                .allows(UserId(30), TenantId(1), "flags:write", Some("dev"))
                .await
        );
        policy
            .set_custom_role(TenantId(1), "ops", &[Grant::parse("keys:manage").unwrap()])
            .await
            .unwrap();
        policy
            .set_membership(TenantId(1), UserId(30), "ops")
            .await
            .unwrap();
        assert!(
            policy
                .allows(UserId(30), TenantId(1), "keys:manage", None)
                .await
        );
        assert!(
            !policy
                .allows(UserId(30), TenantId(1), "flags:write", Some("dev"))
                .await
        );
        policy
            .set_custom_role(TenantId(1), "ops", &[])
            .await
            .unwrap();
        assert!(
            !policy
                .allows(UserId(30), TenantId(1), "keys:manage", None)
                .await
        );
        policy
            .remove_membership(TenantId(1), UserId(30))
            .await
            .unwrap();
        assert_eq!(policy.role_of(UserId(30), TenantId(1)).await, None);
    }

    #[test]
    fn grants_parse_and_name_what_is_wrong() {
        assert_eq!(
            Grant::parse("flags:write:production").unwrap().to_text(),
            "flags:write:production"
        );
        assert_eq!(Grant::parse("audit:read").unwrap().environment, None);
        assert!(Grant::parse("audit:read:production").is_err());
        assert!(Grant::parse("flags:fly").is_err());
        assert!(Grant::parse("flags:write:bad env").is_err());
    }
}
