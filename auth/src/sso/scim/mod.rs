//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): the tenant's identity provider creates, changes,
//! deactivates and deletes people and groups through `/scim/v2`, with a SCIM token (an API key with
//! the `scim` scope, and only it).
//!
//! Invariant: every function needs `scim:provision`, which only SCIM tokens hold, and acts inside the
//! token's tenant; another tenant's person or group is not found, exactly like a missing one.
//! Invariant: a provisioned person with an account who is active is a member of the tenant, and one
//! who is not is no member at all: deactivating ends their access in the tenant at once, on every
//! node (the role policy's change is announced), without touching their account or other tenants.
//! A person is known by email: one provisioned with neither an email address nor a `userName` that is
//! one is kept without an account (they cannot sign in) until a replacement or PATCH gives them one.
//! Invariant: an existing account is linked only when it is a member already or its email is in a
//! domain the tenant verified, so a SCIM token cannot pull someone else's account into its tenant.
//! Invariant: roles follow groups through the providers' mapping rules (the group names as the
//! `groups` claim); `owner` is never granted and an owner's role is never changed.
//! Invariant: each change is saved whole or not at all, with its audit event (`scim.*`).

mod groups;
pub(crate) mod protocol;
mod users;

pub use protocol::{ScimError, ScimQuery};

use super::Sso;
use super::rules::{Assertions, RoleRule, mapped_role};
use crate::now_millis;
use flagent_storage::entities::{membership, scim_group, scim_user, sso_provider};
use flagent_storage::{NewAuditEvent, TenantTx};
use flagent_types::{AuditAction, BuiltInRole, Limit, TenantScope, UserId};
use serde_json::{Value, json};

use protocol::{Filter, GROUP_SCHEMA, Page, Projection, Schema, USER_SCHEMA};
/// The claim the mapping rules see a person's group names under.
const GROUPS_CLAIM: &str = "groups";
/// The role of a provisioned person when no provider's rule says otherwise.
const DEFAULT_ROLE: &str = "viewer";

impl From<flagent_storage::StorageError> for ScimError {
    fn from(err: flagent_storage::StorageError) -> Self {
        match err {
            flagent_storage::StorageError::Unavailable(_) => {
                tracing::warn!(error = %err, "SCIM: the database is unavailable");
                ScimError::unavailable("the database is unavailable; try again shortly")
            }
            flagent_storage::StorageError::Duplicate(_) => {
                ScimError::conflict("a resource with these unique values exists already")
            }
            other => {
                tracing::error!(error = %other, "SCIM: storage failed");
                ScimError::internal("the request could not be completed; try again")
            }
        }
    }
}

impl From<crate::AuthError> for ScimError {
    fn from(err: crate::AuthError) -> Self {
        match err {
            crate::AuthError::Unavailable(source) => ScimError::from(source),
            crate::AuthError::Forbidden(reason) => ScimError::forbidden(reason),
            other => {
                tracing::error!(error = %other, "SCIM: an account operation failed");
                ScimError::internal("the request could not be completed; try again")
            }
        }
    }
}

impl From<flagent_types::Denied> for ScimError {
    fn from(denied: flagent_types::Denied) -> Self {
        ScimError::forbidden(denied.to_string())
    }
}

impl Sso {
    /// Where the SCIM endpoints are (`<public URL>/scim/v2`), for `meta.location`.
    pub fn scim_base(&self) -> String {
        format!("{}/scim/v2", self.public_url)
    }

    /// The SCIM service provider configuration.
    pub fn scim_service_provider_config(&self, scope: &TenantScope) -> Result<Value, ScimError> {
        scope.require::<flagent_types::perm::Scim>()?;
        Ok(protocol::service_provider_config(&self.scim_base()))
    }

    /// The SCIM schemas (User and Group), as a list response; or the one whose id is `id`.
    pub fn scim_schemas(&self, scope: &TenantScope, id: Option<&str>) -> Result<Value, ScimError> {
        scope.require::<flagent_types::perm::Scim>()?;
        listed_or_one(protocol::schemas(&self.scim_base()), id, "Schema")
    }

    /// The SCIM resource types (User and Group), as a list response; or the one named `id`.
    pub fn scim_resource_types(
        &self,
        scope: &TenantScope,
        id: Option<&str>,
    ) -> Result<Value, ScimError> {
        scope.require::<flagent_types::perm::Scim>()?;
        listed_or_one(
            protocol::resource_types(&self.scim_base()),
            id,
            "ResourceType",
        )
    }

    /// The role the mapping rules give a person in groups `groups`: the tenant's enabled providers'
    /// rules in provider order, the `groups` claim holding the group names; else the first enabled
    /// provider's default role, else `viewer`. `None` when no enabled provider has a rule: groups
    /// then decide nothing about roles.
    async fn role_for_groups(
        &self,
        tx: &TenantTx,
        groups: &[String],
    ) -> Result<(String, bool), ScimError> {
        let providers: Vec<sso_provider::Model> = tx
            .sso_providers()
            .await?
            .into_iter()
            .filter(|p| p.enabled)
            .collect();
        let rules: Vec<RoleRule> = providers
            .iter()
            .flat_map(|p| serde_json::from_str::<Vec<RoleRule>>(&p.role_rules).unwrap_or_default())
            .filter(|r| r.role != BuiltInRole::Owner.as_str())
            .collect();
        let default = providers
            .first()
            .map_or(DEFAULT_ROLE, |p| p.default_role.as_str())
            .to_owned();
        let mut asserted = Assertions::new();
        asserted.insert(GROUPS_CLAIM.to_owned(), groups.to_vec());
        let role = mapped_role(&rules, &default, &asserted).to_owned();
        Ok((role, !rules.is_empty()))
    }

    /// The names of the groups provisioned person `scim_user` is in.
    async fn group_names_of(tx: &TenantTx, scim_user: i64) -> Result<Vec<String>, ScimError> {
        let ids: Vec<i64> = tx
            .scim_memberships_of(scim_user)
            .await?
            .iter()
            .map(|m| m.group_id)
            .collect();
        Ok(tx
            .scim_groups_by_ids(&ids)
            .await?
            .into_iter()
            .map(|g| g.display_name)
            .collect())
    }

    /// Makes the membership of provisioned person `person` match what SCIM says: a member with the
    /// role their groups map to when active (roles re-synced only when some rule exists; an owner's
    /// never), no member when inactive. Returns the policy change to apply after the commit.
    async fn settle_membership(
        &self,
        tx: &TenantTx,
        person: &scim_user::Model,
    ) -> Result<PolicyChange, ScimError> {
        let Some(account) = person.user_id else {
            // No account yet: nobody to make a member.
            return Ok(PolicyChange::None);
        };
        let current = tx.membership_of(account).await?;
        let user = UserId(account);
        if !person.is_active() {
            return match current {
                None => Ok(PolicyChange::None),
                Some(m) => {
                    if m.role == BuiltInRole::Owner.as_str() {
                        let owners = tx
                            .memberships()
                            .await?
                            .iter()
                            .filter(|m| m.role == BuiltInRole::Owner.as_str())
                            .count();
                        if owners <= 1 {
                            return Err(ScimError::mutability(
                                "the tenant's last owner cannot be deactivated or deleted",
                            ));
                        }
                    }
                    tx.delete_membership(account).await?;
                    Ok(PolicyChange::Remove(user))
                }
            };
        }
        let groups = Self::group_names_of(tx, person.id).await?;
        let (role, ruled) = self.role_for_groups(tx, &groups).await?;
        match current {
            None => {
                let now = now_millis();
                tx.tenant_plan()
                    .await?
                    .check(Limit::Seats, tx.seats_in_use(now).await?, 1)
                    .map_err(|e| ScimError::forbidden(e.to_string()))?;
                tx.insert_row(membership::New {
                    user_id: account,
                    role: role.clone(),
                    created_at: now,
                })
                .await?;
                Ok(PolicyChange::Set(user, role))
            }
            Some(m) if ruled && m.role != role && m.role != BuiltInRole::Owner.as_str() => {
                tx.update_row(membership::Model {
                    role: role.clone(),
                    ..m
                })
                .await?;
                Ok(PolicyChange::Set(user, role))
            }
            Some(_) => Ok(PolicyChange::None),
        }
    }

    /// Applies policy changes decided in a committed transaction.
    async fn apply(
        &self,
        scope: &TenantScope,
        changes: Vec<PolicyChange>,
    ) -> Result<(), ScimError> {
        for change in changes {
            match change {
                PolicyChange::None => {}
                PolicyChange::Set(user, role) => {
                    self.policy
                        .set_membership(scope.tenant_id(), user, &role)
                        .await?;
                }
                PolicyChange::Remove(user) => {
                    self.policy
                        .remove_membership(scope.tenant_id(), user)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// A change to the role policy, applied once its transaction committed.
#[derive(Debug)]
enum PolicyChange {
    None,
    Set(UserId, String),
    Remove(UserId),
}

/// All of `resources` as a list response, or the one whose `id` is `id`.
fn listed_or_one(resources: Vec<Value>, id: Option<&str>, what: &str) -> Result<Value, ScimError> {
    match id {
        None => {
            let page = protocol::Page {
                start_index: 1,
                count: resources.len(),
            };
            Ok(protocol::list_response(resources.len(), &page, resources))
        }
        Some(id) => resources
            .into_iter()
            .find(|r| r["id"].as_str() == Some(id))
            .ok_or_else(|| ScimError::not_found(format!("{what} {id} not found"))),
    }
}

/// How many rows a page skips, for SQL.
fn offset(page: &protocol::Page) -> u64 {
    u64::try_from(page.offset()).unwrap_or(u64::MAX)
}

/// Rows of a list request: one page of them read with the total (no filter), or every candidate a
/// filter is still to be applied to.
enum Listed<T> {
    Page(Vec<T>, u64),
    Candidates(Vec<T>),
}

/// A list answer from `listed` (rendered as resources of `schema`): filtered, paged, then projected.
fn list_answer(
    schema: &Schema,
    filter: Option<&Filter>,
    page: &Page,
    projection: &Projection,
    listed: Listed<Value>,
) -> Value {
    let (total, mut resources) = match listed {
        Listed::Page(resources, total) => (usize::try_from(total).unwrap_or(usize::MAX), resources),
        Listed::Candidates(mut resources) => {
            if let Some(filter) = filter {
                resources.retain(|r| filter.matches(r, &|path| schema.is_case_exact(path)));
            }
            let range = page.range(resources.len());
            let total = resources.len();
            let paged = resources
                .into_iter()
                .skip(range.start)
                .take(range.len())
                .collect();
            (total, paged)
        }
    };
    for resource in &mut resources {
        projection.apply(schema, resource);
    }
    protocol::list_response(total, page, resources)
}

/// `meta` of a resource.
fn meta(resource_type: &str, location: String, created: i64, modified: i64) -> Value {
    json!({
        "resourceType": resource_type,
        "created": rfc3339(created),
        "lastModified": rfc3339(modified),
        "location": location,
        "version": format!("W/\"{modified}\""),
    })
}

fn rfc3339(millis: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A SCIM id in a path: the row id, as text.
fn parse_id(id: &str, what: &str) -> Result<i64, ScimError> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ScimError::not_found(format!("{what} {id} not found")))
}

/// Appends a `scim.*` audit event about `resource`.
async fn audit(
    tx: &TenantTx,
    scope: &TenantScope,
    action: AuditAction,
    resource: (&str, i64),
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ScimError> {
    let text = |v: Option<&Value>| v.map_or_else(|| "null".to_owned(), Value::to_string);
    tx.append_audit(NewAuditEvent::by(
        scope,
        action,
        (resource.0, &resource.1.to_string()),
        "",
        text(before),
        text(after),
    ))
    .await?;
    Ok(())
}

/// The group rows that hold `person`, for the user resource's `groups`.
async fn groups_of(tx: &TenantTx, person: i64) -> Result<Vec<scim_group::Model>, ScimError> {
    let ids: Vec<i64> = tx
        .scim_memberships_of(person)
        .await?
        .iter()
        .map(|m| m.group_id)
        .collect();
    Ok(tx.scim_groups_by_ids(&ids).await?)
}
