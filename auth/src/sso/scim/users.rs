//! SCIM `Users`: the people an identity provider provisions into the token's tenant.

use super::protocol::{self, Filter, Schema, ScimError};
use super::{
    Listed, ScimQuery, USER_SCHEMA, audit, groups_of, list_answer, meta, offset, parse_id,
};
use crate::accounts::{NewUser, email_domain, normalize_email};
use crate::now_millis;
use crate::sso::Sso;
use flagent_storage::TenantDb;
use flagent_storage::entities::{scim_group, scim_user};
use flagent_types::{AuditAction, TenantScope, perm};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Longest `userName`, in characters.
const MAX_USER_NAME_CHARS: usize = 320;
/// Longest `externalId`, in characters.
const MAX_EXTERNAL_ID_CHARS: usize = 512;
/// Largest set of other attributes kept for one person, as JSON.
const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
/// Attributes the resource's own columns hold, or the server computes; never kept in `attributes`.
const OWN_ATTRIBUTES: [&str; 8] = [
    "schemas",
    "id",
    "meta",
    "userName",
    "externalId",
    "active",
    "groups",
    "password",
];

/// A user resource as sent, once checked.
struct UserInput {
    user_name: String,
    external_id: Option<String>,
    /// `active` as sent; unassigned counts as active.
    active: Option<bool>,
    /// Every other attribute, as sent.
    attributes: Map<String, Value>,
}

impl UserInput {
    fn parse(body: &Value) -> Result<UserInput, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("a User is a JSON object"))?;
        let schemas_ok = object
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(USER_SCHEMA)));
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must name {USER_SCHEMA}"
            )));
        }
        let user_name = match object.get("userName") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => {
                return Err(ScimError::invalid_value(
                    "userName is required and is a non-empty string",
                ));
            }
        };
        if user_name.chars().count() > MAX_USER_NAME_CHARS {
            return Err(ScimError::invalid_value(
                "userName has at most 320 characters",
            ));
        }
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
        let active = match object.get("active") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(active)) => Some(*active),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => {
                return Err(ScimError::invalid_value("active is true or false"));
            }
        };
        let attributes: Map<String, Value> = object
            .iter()
            .filter(|(k, _)| !OWN_ATTRIBUTES.iter().any(|own| own.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let attributes = Schema::user().conform(&attributes)?;
        if Value::Object(attributes.clone()).to_string().len() > MAX_ATTRIBUTES_BYTES {
            return Err(ScimError::invalid_value(
                "the User's attributes are larger than 16 KiB",
            ));
        }
        Ok(UserInput {
            user_name,
            external_id,
            active,
            attributes,
        })
    }

    /// The lower-cased `userName`, unique in the tenant.
    fn key(&self) -> String {
        self.user_name.to_lowercase()
    }

    /// The email address the account is known by: the primary email, else the first, else the
    /// `userName` when it is one; `None` when there is none.
    fn account_email(&self) -> Option<String> {
        let emails: Vec<&Value> = self
            .attributes
            .get("emails")
            .and_then(Value::as_array)
            .map(|e| e.iter().collect())
            .unwrap_or_default();
        let primary = emails
            .iter()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| emails.first())
            .and_then(|e| e.get("value").and_then(Value::as_str));
        primary
            .and_then(|e| normalize_email(e).ok())
            .or_else(|| normalize_email(&self.user_name).ok())
    }

    /// The display name for a new account: `displayName`, `name.formatted`, or given and family name.
    fn display_name(&self) -> String {
        fn text(v: Option<&Value>) -> &str {
            v.and_then(Value::as_str).map_or("", str::trim)
        }
        let name = self.attributes.get("name");
        let given = text(name.and_then(|n| n.get("givenName")));
        let family = text(name.and_then(|n| n.get("familyName")));
        let joined = format!("{given} {family}");
        [
            text(self.attributes.get("displayName")),
            text(name.and_then(|n| n.get("formatted"))),
            joined.trim(),
        ]
        .into_iter()
        .find(|n| !n.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
    }
}

impl Sso {
    /// The user resource of `row`, in groups `groups`.
    fn user_resource(&self, row: &scim_user::Model, groups: &[&scim_group::Model]) -> Value {
        let base = self.scim_base();
        let mut resource: Map<String, Value> =
            serde_json::from_str(&row.attributes).unwrap_or_default();
        resource.insert("schemas".into(), json!([USER_SCHEMA]));
        resource.insert("id".into(), json!(row.id.to_string()));
        if let Some(external_id) = &row.external_id {
            resource.insert("externalId".into(), json!(external_id));
        }
        resource.insert("userName".into(), json!(row.user_name));
        if let Some(active) = row.active {
            resource.insert("active".into(), json!(active));
        }
        resource.insert(
            "groups".into(),
            groups
                .iter()
                .map(|g| {
                    json!({
                        "value": g.id.to_string(),
                        "display": g.display_name,
                        "$ref": format!("{base}/Groups/{}", g.id),
                        "type": "direct",
                    })
                })
                .collect(),
        );
        resource.insert(
            "meta".into(),
            meta(
                "User",
                format!("{base}/Users/{}", row.id),
                row.created_at,
                row.updated_at,
            ),
        );
        Value::Object(resource)
    }

    /// `GET /Users`: the provisioned people matching `filter`, one page of them.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_list_users(
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
            Some(("username", name)) => Listed::Candidates(
                tenant
                    .scim_user_by_name(&name.to_lowercase())
                    .await?
                    .into_iter()
                    .collect(),
            ),
            Some(("externalid", id)) => {
                Listed::Candidates(tenant.scim_users_by_external_id(id).await?)
            }
            Some(("id", id)) => Listed::Candidates(match id.parse::<i64>() {
                Ok(id) => tenant
                    .get::<scim_user::Model>(id)
                    .await?
                    .into_iter()
                    .collect(),
                Err(_) => Vec::new(),
            }),
            _ if filter.is_none() => {
                let (rows, total) = tenant
                    .scim_users_page(offset(&page), u64::try_from(page.count).unwrap_or(u64::MAX))
                    .await?;
                Listed::Page(rows, total)
            }
            _ => Listed::Candidates(tenant.scim_users().await?),
        };
        let listed = match rows {
            Listed::Page(rows, total) => {
                Listed::Page(self.user_resources(&tenant, &rows).await?, total)
            }
            Listed::Candidates(rows) => {
                Listed::Candidates(self.user_resources(&tenant, &rows).await?)
            }
        };
        Ok(list_answer(
            &Schema::user(),
            filter.as_ref(),
            &page,
            &projection,
            listed,
        ))
    }

    /// The resources of `rows`, with their groups.
    async fn user_resources(
        &self,
        tenant: &TenantDb,
        rows: &[scim_user::Model],
    ) -> Result<Vec<Value>, ScimError> {
        let groups: HashMap<i64, scim_group::Model> = tenant
            .scim_groups()
            .await?
            .into_iter()
            .map(|g| (g.id, g))
            .collect();
        let mut of_user: HashMap<i64, Vec<&scim_group::Model>> = HashMap::new();
        for m in tenant.scim_group_members(None).await? {
            if let Some(group) = groups.get(&m.group_id) {
                of_user.entry(m.scim_user_id).or_default().push(group);
            }
        }
        Ok(rows
            .iter()
            .map(|row| {
                let groups = of_user.get(&row.id).map(Vec::as_slice).unwrap_or_default();
                self.user_resource(row, groups)
            })
            .collect())
    }

    /// `GET /Users/{id}`, with the attributes `query` asks for.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_get_user(
        &self,
        scope: &TenantScope,
        id: &str,
        query: &ScimQuery,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let projection = query.projection()?;
        let mut resource = self.current_user(scope, id).await?;
        projection.apply(&Schema::user(), &mut resource);
        Ok(resource)
    }

    /// The whole resource of person `id`.
    async fn current_user(&self, scope: &TenantScope, id: &str) -> Result<Value, ScimError> {
        let tenant = self.db.scoped(scope);
        let row = self.user_row(&tenant, id).await?;
        let resources = self
            .user_resources(&tenant, std::slice::from_ref(&row))
            .await?;
        Ok(resources.into_iter().next().unwrap_or_default())
    }

    async fn user_row(&self, tenant: &TenantDb, id: &str) -> Result<scim_user::Model, ScimError> {
        let id = parse_id(id, "User")?;
        tenant
            .get::<scim_user::Model>(id)
            .await?
            .ok_or_else(|| ScimError::not_found(format!("User {id} not found")))
    }

    /// The account provisioned person `input` is known by (`None` without an email address): an
    /// existing one that is a member already or whose email is in a domain the tenant verified, else a
    /// new one. Accounts are global rows, read and created before the caller's transaction (SQLite's
    /// pool has one connection, which the transaction holds).
    async fn account_for(
        &self,
        tenant: &TenantDb,
        input: &UserInput,
    ) -> Result<Option<i64>, ScimError> {
        let Some(email) = input.account_email() else {
            return Ok(None);
        };
        let verified = self
            .domain_verified(tenant, email_domain(&email))
            .await
            .map_err(|_| ScimError::internal("the request could not be completed; try again"))?;
        let account = match self.accounts.user_by_email(&email).await? {
            Some(existing) => {
                let member = tenant.membership_of(existing.id).await?.is_some();
                if !member && !verified {
                    return Err(ScimError::conflict(format!(
                        "an account with the email address {email} exists already; it can be \
                         provisioned here once an administrator verifies the domain {}",
                        email_domain(&email)
                    )));
                }
                if tenant.scim_user_of_account(existing.id).await?.is_some() {
                    return Err(ScimError::conflict(format!(
                        "the account of {email} is provisioned here already under another userName"
                    )));
                }
                existing
            }
            None => {
                if input.active != Some(false) {
                    let now = now_millis();
                    tenant
                        .tenant_plan()
                        .await?
                        .check(
                            flagent_types::Limit::Seats,
                            tenant.seats_in_use(now).await?,
                            1,
                        )
                        .map_err(|e| ScimError::forbidden(e.to_string()))?;
                }
                self.accounts
                    .register(NewUser {
                        email: &email,
                        name: &input.display_name(),
                        password: None,
                        verified,
                    })
                    .await?
            }
        };
        Ok(Some(account.id))
    }

    /// `POST /Users`: provisions a person: a new account, or an existing one that is a member already
    /// or whose email is in a domain the tenant verified; a member with their mapped role when active.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_create_user(
        &self,
        scope: &TenantScope,
        body: &Value,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let input = UserInput::parse(body)?;
        let tenant = self.db.scoped(scope);
        if tenant.scim_user_by_name(&input.key()).await?.is_some() {
            return Err(ScimError::conflict(format!(
                "a User with userName {:?} exists already",
                input.user_name
            )));
        }
        let account = self.account_for(&tenant, &input).await?;
        let now = now_millis();
        let tx = tenant.begin().await?;
        let row = tx
            .insert_row(scim_user::New {
                user_id: account,
                user_name: input.user_name.clone(),
                user_name_key: input.key(),
                external_id: input.external_id.clone(),
                active: input.active,
                attributes: Value::Object(input.attributes.clone()).to_string(),
                created_at: now,
                updated_at: now,
            })
            .await?;
        let change = self.settle_membership(&tx, &row).await?;
        let resource = self.user_resource(&row, &[]);
        audit(
            &tx,
            scope,
            AuditAction::ScimUserCreate,
            ("scim_user", row.id),
            None,
            Some(&resource),
        )
        .await?;
        tx.commit().await?;
        self.apply(scope, vec![change]).await?;
        tracing::info!(
            scim_user_id = row.id,
            user_id = ?account,
            "SCIM: person provisioned"
        );
        Ok(resource)
    }

    /// `PUT /Users/{id}`: replaces what SCIM keeps of a person; `active: false` ends their
    /// membership, `true` restores it. The account's email and name are those it was created with
    /// (a person provisioned without an email address gets their account from the first one sent).
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_replace_user(
        &self,
        scope: &TenantScope,
        id: &str,
        body: &Value,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let input = UserInput::parse(body)?;
        self.replace_user(scope, id, input).await
    }

    /// `PATCH /Users/{id}`: applies the operations to the person's resource, then saves it as a
    /// replacement would.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_patch_user(
        &self,
        scope: &TenantScope,
        id: &str,
        body: &Value,
    ) -> Result<Value, ScimError> {
        scope.require::<perm::Scim>()?;
        let mut resource = self.current_user(scope, id).await?;
        protocol::apply_patch(&mut resource, body, &Schema::user())?;
        let input = UserInput::parse(&resource)?;
        self.replace_user(scope, id, input).await
    }

    async fn replace_user(
        &self,
        scope: &TenantScope,
        id: &str,
        input: UserInput,
    ) -> Result<Value, ScimError> {
        let tenant = self.db.scoped(scope);
        let before_row = self.user_row(&tenant, id).await?;
        // A person without an account gets one once an email address arrives.
        let account = match before_row.user_id {
            Some(account) => Some(account),
            None => self.account_for(&tenant, &input).await?,
        };
        let tx = tenant.begin().await?;
        if let Some(other) = tx.scim_user_by_name(&input.key()).await?
            && other.id != before_row.id
        {
            return Err(ScimError::conflict(format!(
                "a User with userName {:?} exists already",
                input.user_name
            )));
        }
        let groups = groups_of(&tx, before_row.id).await?;
        let group_refs: Vec<&scim_group::Model> = groups.iter().collect();
        let before = self.user_resource(&before_row, &group_refs);
        let key = input.key();
        let after_row = scim_user::Model {
            user_id: account,
            user_name: input.user_name,
            user_name_key: key,
            external_id: input.external_id,
            active: input.active,
            attributes: Value::Object(input.attributes).to_string(),
            updated_at: now_millis().max(before_row.updated_at + 1),
            ..before_row.clone()
        };
        tx.update_row(after_row.clone()).await?;
        let change = self.settle_membership(&tx, &after_row).await?;
        let after = self.user_resource(&after_row, &group_refs);
        let action = if before_row.is_active() && !after_row.is_active() {
            AuditAction::ScimUserDeactivate
        } else {
            AuditAction::ScimUserUpdate
        };
        audit(
            &tx,
            scope,
            action,
            ("scim_user", after_row.id),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.apply(scope, vec![change]).await?;
        Ok(after)
    }

    /// `DELETE /Users/{id}`: the person is no longer provisioned nor a member; their account stays.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn scim_delete_user(&self, scope: &TenantScope, id: &str) -> Result<(), ScimError> {
        scope.require::<perm::Scim>()?;
        let tenant = self.db.scoped(scope);
        let row = self.user_row(&tenant, id).await?;
        let tx = tenant.begin().await?;
        let groups = groups_of(&tx, row.id).await?;
        let before = self.user_resource(&row, &groups.iter().collect::<Vec<_>>());
        let gone = scim_user::Model {
            active: Some(false),
            ..row.clone()
        };
        let change = self.settle_membership(&tx, &gone).await?;
        tx.delete_scim_user(row.id).await?;
        audit(
            &tx,
            scope,
            AuditAction::ScimUserDelete,
            ("scim_user", row.id),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        self.apply(scope, vec![change]).await?;
        Ok(())
    }
}
