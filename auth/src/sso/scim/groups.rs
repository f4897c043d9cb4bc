//! SCIM `Groups`: the identity provider's groups in the token's tenant; their names map to roles
//! through the providers' rules.

use super::protocol::{self, Filter, Schema, ScimError};
use super::{
    GROUP_SCHEMA, Listed, PolicyChange, ScimQuery, audit, list_answer, meta, offset, parse_id,
};
use crate::now_millis;
use crate::sso::Sso;
use flagent_storage::entities::{scim_group, scim_group_member, scim_user};
use flagent_storage::{TenantDb, TenantTx};
use flagent_types::{AuditAction, TenantScope, perm};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Longest `displayName`, in characters.
const MAX_NAME_CHARS: usize = 256;
/// Longest `externalId`, in characters.
const MAX_EXTERNAL_ID_CHARS: usize = 512;
/// Most members one group has.
const MAX_MEMBERS: usize = 10_000;

/// A group resource as sent, once checked.
struct GroupInput {
    display_name: String,
    external_id: Option<String>,
    /// The ids of its members (provisioned people of the tenant), with the `display` sent for each.
    members: BTreeMap<i64, Option<String>>,
}

impl GroupInput {
    fn parse(body: &Value) -> Result<GroupInput, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("a Group is a JSON object"))?;
        let schemas_ok = object
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(GROUP_SCHEMA)));
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must name {GROUP_SCHEMA}"
            )));
        }
        let display_name = match object.get("displayName") {
            Some(Value::String(name))
                if !name.trim().is_empty() && name.trim().chars().count() <= MAX_NAME_CHARS =>
            {
                name.trim().to_owned()
            }
            _ => {
                return Err(ScimError::invalid_value(
                    "displayName is required: a string of 1 to 256 characters",
                ));
            }
        };
        let external_id = match object.get("externalId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if id.chars().count() <= MAX_EXTERNAL_ID_CHARS => {
                Some(id.clone())
            }
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "externalId is a string of at most 512 characters",
                ));
            }
        };
        let listed = match object.get("members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(members)) => members.clone(),
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "members is a list of {\"value\": \"<User id>\"}",
                ));
            }
        };
        if listed.len() > MAX_MEMBERS {
            return Err(ScimError::invalid_value(
                "a group has at most 10,000 members",
            ));
        }
        let mut members = BTreeMap::new();
        for member in &listed {
            let value = member.get("value").and_then(Value::as_str).unwrap_or("");
            let id = value
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "member {value:?} is not the id of a User here"
                    ))
                })?;
            let display = match member.get("display") {
                None | Some(Value::Null) => None,
                Some(Value::String(d)) if d.chars().count() <= MAX_NAME_CHARS => Some(d.clone()),
                Some(_) => {
                    return Err(ScimError::invalid_value(
                        "a member's display is a string of at most 256 characters",
                    ));
                }
            };
            members.insert(id, display);
        }
        Ok(GroupInput {
            display_name,
            external_id,
            members,
        })
    }

    fn key(&self) -> String {
        self.display_name.to_lowercase()
    }
}

impl Sso {
    /// The group resource of `row`, with members `members` (each with the `display` kept for them).
    fn group_resource(&self, row: &scim_group::Model, members: &[Member<'_>]) -> Value {
        let base = self.scim_base();
        let mut resource = json!({
            "schemas": [GROUP_SCHEMA],
            "id": row.id.to_string(),
            "displayName": row.display_name,
            "members": members.iter().map(|(person, display)| json!({
                "value": person.id.to_string(),
                "display": display.unwrap_or(&person.user_name),
                "$ref": format!("{base}/Users/{}", person.id),
                "type": "User",
            })).collect::<Vec<_>>(),
            "meta": meta("Group", format!("{base}/Groups/{}", row.id), row.created_at, row.updated_at),
        });
        if let Some(external_id) = &row.external_id {
            resource["externalId"] = json!(external_id);
        }
        resource
    }

    /// The resources of `rows`, with their members.
    async fn group_resources(
        &self,
        tenant: &TenantDb,
        rows: &[scim_group::Model],
    ) -> Result<Vec<Value>, ScimError> {
        let people: HashMap<i64, scim_user::Model> = tenant
            .scim_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let memberships = tenant.scim_group_members(None).await?;
        let mut of_group: HashMap<i64, Vec<Member<'_>>> = HashMap::new();
        for m in &memberships {
            if let Some(person) = people.get(&m.scim_user_id) {
                of_group
                    .entry(m.group_id)
                    .or_default()
                    .push((person, m.display.as_deref()));
            }
        }
        Ok(rows
            .iter()
            .map(|row| {
                let members = of_group.get(&row.id).map(Vec::as_slice).unwrap_or_default();
                self.group_resource(row, members)
            })
            .collect())
    }

    /// `GET /Groups`: the groups matching `filter`, one page of them.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_list_groups(
        &self,
        scope: &TenantScope,
        query: &ScimQuery,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let page = query.page()?;
        let projection = query.projection()?;
        let tenant = self.db.scoped(scope);
        let filter = query
            .filter
            .as_deref()
            .map(protocol::parse_filter)
            .transpose()?;
        let rows = match filter.as_ref().and_then(Filter::simple_eq) {
            Some(("displayname", name)) => Listed::Candidates(
                tenant
                    .scim_group_by_name(&name.to_lowercase())
                    .await?
                    .into_iter()
                    .collect(),
            ),
            Some(("id", id)) => Listed::Candidates(match id.parse::<i64>() {
                Ok(id) => tenant
                    .get::<scim_group::Model>(id)
                    .await?
                    .into_iter()
                    .collect(),
                Err(_) => Vec::new(),
            }),
            _ if filter.is_none() => {
                let (rows, total) = tenant
                    .scim_groups_page(offset(&page), u64::try_from(page.count).unwrap_or(u64::MAX))
                    .await?;
                Listed::Page(rows, total)
            }
            _ => Listed::Candidates(tenant.scim_groups().await?),
        };
        let listed = match rows {
            Listed::Page(rows, total) => {
                Listed::Page(self.group_resources(&tenant, &rows).await?, total)
            }
            Listed::Candidates(rows) => {
                Listed::Candidates(self.group_resources(&tenant, &rows).await?)
            }
        };
        Ok(list_answer(
            &Schema::group(),
            filter.as_ref(),
            &page,
            &projection,
            listed,
        ))
    }

    /// `GET /Groups/{id}`, with the attributes `query` asks for.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_get_group(
        &self,
        scope: &TenantScope,
        id: &str,
        query: &ScimQuery,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let projection = query.projection()?;
        let mut resource = self.current_group(scope, id).await?;
        projection.apply(&Schema::group(), &mut resource);
        Ok(resource)
    }

    /// The whole resource of group `id`.
    async fn current_group(&self, scope: &TenantScope, id: &str) -> Result<Value, ScimError> {
        let tenant = self.db.scoped(scope);
        let row = group_row(&tenant, id).await?;
        let resources = self
            .group_resources(&tenant, std::slice::from_ref(&row))
            .await?;
        Ok(resources.into_iter().next().unwrap_or_default())
    }

    /// `POST /Groups`: a new group; its members' roles follow from it.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_create_group(
        &self,
        scope: &TenantScope,
        body: &Value,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let input = GroupInput::parse(body)?;
        let tenant = self.db.scoped(scope);
        let tx = tenant.begin().await?;
        if tx.scim_group_by_name(&input.key()).await?.is_some() {
            return Err(ScimError::conflict(format!(
                "a Group named {:?} exists already",
                input.display_name
            )));
        }
        let now = now_millis();
        let row = tx
            .insert_row(scim_group::New {
                display_name: input.display_name.clone(),
                display_name_key: input.key(),
                external_id: input.external_id.clone(),
                created_at: now,
                updated_at: now,
            })
            .await?;
        let members = set_members(&tx, row.id, &input.members).await?;
        let people: Vec<scim_user::Model> = members.iter().map(|(p, _)| p.clone()).collect();
        let changes = self.settle_all(&tx, &people).await?;
        let resource = self.group_resource(&row, &as_members(&members));
        audit(
            &tx,
            scope,
            AuditAction::ScimGroupCreate,
            ("scim_group", row.id),
            None,
            Some(&resource),
        )
        .await?;
        tx.commit().await?;
        self.apply(scope, changes).await?;
        Ok(resource)
    }

    /// `PUT /Groups/{id}`: replaces the group's name and members; the roles of everyone who was or
    /// is in it follow.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_replace_group(
        &self,
        scope: &TenantScope,
        id: &str,
        body: &Value,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let input = GroupInput::parse(body)?;
        self.replace_group(scope, id, input).await
    }

    /// `PATCH /Groups/{id}`: applies the operations (add or remove members, rename), then saves the
    /// group as a replacement would.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_patch_group(
        &self,
        scope: &TenantScope,
        id: &str,
        body: &Value,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let mut resource = self.current_group(scope, id).await?;
        protocol::apply_patch(&mut resource, body, &Schema::group())?;
        let input = GroupInput::parse(&resource)?;
        self.replace_group(scope, id, input).await
    }

    async fn replace_group(
        &self,
        scope: &TenantScope,
        id: &str,
        input: GroupInput,
    ) -> Result<Value, ScimError> {
        let tenant = self.db.scoped(scope);
        let before_row = group_row(&tenant, id).await?;
        let before = self
            .group_resources(&tenant, std::slice::from_ref(&before_row))
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let tx = tenant.begin().await?;
        if let Some(other) = tx.scim_group_by_name(&input.key()).await?
            && other.id != before_row.id
        {
            return Err(ScimError::conflict(format!(
                "a Group named {:?} exists already",
                input.display_name
            )));
        }
        let old: Vec<i64> = tx
            .scim_group_members(Some(before_row.id))
            .await?
            .iter()
            .map(|m| m.scim_user_id)
            .collect();
        let after_row = scim_group::Model {
            display_name_key: input.key(),
            display_name: input.display_name,
            external_id: input.external_id,
            updated_at: now_millis().max(before_row.updated_at + 1),
            ..before_row.clone()
        };
        tx.update_row(after_row.clone()).await?;
        tx.clear_scim_group(after_row.id).await?;
        let members = set_members(&tx, after_row.id, &input.members).await?;
        let mut affected = tx.scim_users_by_ids(&old).await?;
        affected.retain(|p| !input.members.contains_key(&p.id));
        affected.extend(members.iter().map(|(person, _)| person.clone()));
        let changes = self.settle_all(&tx, &affected).await?;
        let after = self.group_resource(&after_row, &as_members(&members));
        audit(
            &tx,
            scope,
            AuditAction::ScimGroupUpdate,
            ("scim_group", after_row.id),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.apply(scope, changes).await?;
        Ok(after)
    }

    /// `DELETE /Groups/{id}`: the group goes; its former members' roles follow.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_delete_group(&self, scope: &TenantScope, id: &str) -> Result<(), ScimError> {
        scope.require::<perm::Scim>()?;
        let tenant = self.db.scoped(scope);
        let row = group_row(&tenant, id).await?;
        let before = self
            .group_resources(&tenant, std::slice::from_ref(&row))
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let tx = tenant.begin().await?;
        let former: Vec<i64> = tx
            .scim_group_members(Some(row.id))
            .await?
            .iter()
            .map(|m| m.scim_user_id)
            .collect();
        tx.delete_scim_group(row.id).await?;
        let affected = tx.scim_users_by_ids(&former).await?;
        let changes = self.settle_all(&tx, &affected).await?;
        audit(
            &tx,
            scope,
            AuditAction::ScimGroupDelete,
            ("scim_group", row.id),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        self.apply(scope, changes).await?;
        Ok(())
    }

    async fn settle_all(
        &self,
        tx: &TenantTx,
        people: &[scim_user::Model],
    ) -> Result<Vec<PolicyChange>, ScimError> {
        let mut changes = Vec::with_capacity(people.len());
        for person in people {
            changes.push(self.settle_membership(tx, person).await?);
        }
        Ok(changes)
    }
}

async fn group_row(tenant: &TenantDb, id: &str) -> Result<scim_group::Model, ScimError> {
    let id = parse_id(id, "Group")?;
    tenant
        .get::<scim_group::Model>(id)
        .await?
        .ok_or_else(|| ScimError::not_found(format!("Group {id} not found")))
}

/// Makes `members` the members of group `group` (it has none when called), refusing an id that is no
/// provisioned person of the tenant; returns them, each with the `display` kept (none when it is
/// their userName anyway).
async fn set_members(
    tx: &TenantTx,
    group: i64,
    members: &BTreeMap<i64, Option<String>>,
) -> Result<Vec<(scim_user::Model, Option<String>)>, ScimError> {
    let ids: Vec<i64> = members.keys().copied().collect();
    let people = tx.scim_users_by_ids(&ids).await?;
    if let Some(missing) = ids.iter().find(|id| !people.iter().any(|p| p.id == **id)) {
        return Err(ScimError::invalid_value(format!(
            "member {missing} is not the id of a User here"
        )));
    }
    let mut kept = Vec::with_capacity(people.len());
    for person in people {
        let display = members
            .get(&person.id)
            .cloned()
            .flatten()
            .filter(|d| *d != person.user_name);
        tx.insert_row(scim_group_member::New {
            group_id: group,
            scim_user_id: person.id,
            display: display.clone(),
        })
        .await?;
        kept.push((person, display));
    }
    Ok(kept)
}

/// A member as a group resource shows them: the person and the `display` kept for them.
type Member<'a> = (&'a scim_user::Model, Option<&'a str>);

fn as_members(members: &[(scim_user::Model, Option<String>)]) -> Vec<Member<'_>> {
    members
        .iter()
        .map(|(person, display)| (person, display.as_deref()))
        .collect()
}
