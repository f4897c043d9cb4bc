//! Roles against routes: every operation of the OpenAPI document declares who may call it, every
//! built-in role and a custom role are walked over every tenant route, per-environment grants, the roles
//! API, and the owner's protections. The walk is driven by the document, so new routes are covered
//! automatically; the expectations come from a table here that mirrors the documented roles.

use crate::helpers::{
    SegmentSpec, Session, TestApp, expect_error, expect_invalid, expect_ok, read, spawn_app,
};
use flagent_types::{Permission, Scope, perm};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------------
// The OpenAPI document, read as a list of operations and what guards them.
// ---------------------------------------------------------------------------------------------------

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi(app: &TestApp) -> Value {
    let (status, doc) = read(
        app.client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc
}

/// What an operation's `security` declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Guard {
    /// No security: anyone may call it.
    Public,
    /// `session: [platform:admin]` only: operators of the service.
    Platform,
    /// `session: []` only: any signed-in user, about their own account.
    Account,
    /// `api_key: [scope]` and `session: [permission]`: a tenant's route.
    Tenant { scope: String, permission: String },
    /// Anything else (the declaration, as found).
    Undeclared(String),
}

/// One operation of the document.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) method: Method,
    /// The path as the document writes it, with `{param}` placeholders.
    pub(crate) template: String,
    pub(crate) guard: Guard,
}

impl Operation {
    /// `PUT /api/v1/flags/{flagID}`.
    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// Whether the operation may change data (anything but `GET`).
    pub(crate) fn writes(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// The role permission a tenant route declares.
    pub(crate) fn permission(&self) -> Option<&str> {
        match &self.guard {
            Guard::Tenant { permission, .. } => Some(permission),
            _ => None,
        }
    }
}

/// Reads one operation's `security` into a [`Guard`].
fn guard_of(op: &Value) -> Guard {
    let requirements = match op.get("security").and_then(Value::as_array) {
        None => return Guard::Public,
        Some(list) if list.is_empty() => return Guard::Public,
        Some(list) => list,
    };
    let mut schemes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for requirement in requirements {
        for (scheme, names) in requirement.as_object().into_iter().flatten() {
            let names = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned);
            schemes.entry(scheme.clone()).or_default().extend(names);
        }
    }
    let declared = Value::Array(requirements.clone()).to_string();
    let session = schemes.get("session").map(Vec::as_slice);
    let api_key = schemes.get("api_key").map(Vec::as_slice);
    match (schemes.len(), api_key, session) {
        (1, None, Some([only])) if only == "platform:admin" => Guard::Platform,
        (1, None, Some([])) => Guard::Account,
        (2, Some([scope]), Some([permission])) => Guard::Tenant {
            scope: scope.clone(),
            permission: permission.clone(),
        },
        _ => Guard::Undeclared(declared),
    }
}

/// Every operation of the document, in its order.
pub(crate) fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            ops.push(Operation {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                template: template.clone(),
                guard: guard_of(op),
            });
        }
    }
    ops
}

/// Whether a permission of the catalogue is granted per environment.
pub(crate) fn per_environment(permission: &str) -> bool {
    perm::ALL
        .iter()
        .any(|(name, per_env)| *name == permission && *per_env)
}

/// Every marker a route can declare: its role permission and the API key scope it needs.
fn markers() -> Vec<(&'static str, Scope)> {
    fn marker<P: Permission>() -> (&'static str, Scope) {
        (P::NAME, P::SCOPE)
    }
    vec![
        marker::<perm::Evaluate>(),
        marker::<perm::Client>(),
        marker::<perm::Read>(),
        marker::<perm::Write>(),
        marker::<perm::WriteFlags>(),
        marker::<perm::Toggle>(),
        marker::<perm::ManageProjects>(),
        marker::<perm::ManageKeys>(),
        marker::<perm::ManageMembers>(),
        marker::<perm::ReadAudit>(),
        marker::<perm::ManageTenant>(),
        marker::<perm::ManageSso>(),
        marker::<perm::Scim>(),
    ]
}

// ---------------------------------------------------------------------------------------------------
// Requests that get past parsing, so the answer is about authorisation, not about the input.
// ---------------------------------------------------------------------------------------------------

/// A body that parses for `method template` (`None` for routes without one). `n` makes keys unique.
pub(crate) fn body_for(method: &Method, template: &str, n: usize) -> Option<Value> {
    let unique = format!("probe-{n}");
    let ends = |suffix: &str| template.ends_with(suffix);
    let body = match *method {
        Method::GET | Method::DELETE | Method::HEAD => return None,
        Method::POST if template == "/api/v1/flags" => {
            json!({"key": unique, "description": "probe"})
        }
        Method::PUT if ends("/flags/{flagID}") => json!({"description": "probe"}),
        _ if ends("/copy") => json!({"from": "production", "to": "development"}),
        _ if ends("/duplicate") => json!({"key": unique}),
        _ if ends("/enabled") => json!({"enabled": true}),
        _ if ends("/segments/reorder") => json!({"segmentIDs": []}),
        _ if ends("/segments") || ends("/segments/{segmentID}") => {
            json!({"description": "probe", "rolloutPercent": 50})
        }
        _ if ends("/constraints") || ends("/constraints/{constraintID}") => {
            json!({"property": "country", "operator": "EQ", "value": "\"CA\""})
        }
        _ if ends("/distributions") => json!({"distributions": []}),
        _ if ends("/tags") => json!({"value": unique}),
        _ if ends("/variants") || ends("/variants/{variantID}") => {
            json!({"key": unique, "attachment": {}})
        }
        _ if ends("/evaluation") => json!({"flagKey": "probe", "entityID": "u1"}),
        _ if ends("/evaluation/batch") => {
            json!({"entities": [{"entityID": "u1"}], "flagKeys": ["probe"]})
        }
        _ if ends("/import") => json!({"flags": []}),
        _ if ends("/invitations") => {
            json!({"email": format!("{unique}@example.com"), "role": "viewer"})
        }
        _ if ends("/keys") => json!({"name": unique, "scopes": ["read"]}),
        _ if ends("/members/{userID}") => json!({"role": "viewer"}),
        _ if template == "/api/v1/projects" => json!({"key": unique, "name": unique}),
        _ if ends("/environments/reorder") => json!({"keys": ["development", "production"]}),
        _ if ends("/environments") => json!({"key": unique, "name": unique}),
        _ if ends("/environments/{envKey}") => json!({"name": "Probe"}),
        _ if template == "/api/v1/roles" => {
            json!({"key": unique, "name": "Probe", "permissions": ["flags:read"]})
        }
        _ if ends("/roles/{roleKey}") => json!({"name": "Probe", "permissions": ["flags:read"]}),
        // SAML, whose sign-in (the test sign-in route) starts without asking the IdP anything.
        _ if ends("/sso/providers") || ends("/sso/providers/{providerID}") => json!({
            "name": unique, "kind": "saml",
            "saml": {"idpEntityID": "https://idp.example.test", "ssoURL": "https://idp.example.test/sso",
                     "certificates": [include_str!("../fixtures/saml-idp-cert.pem")]},
        }),
        _ if ends("/sso/domains") => json!({"domain": format!("{unique}.example")}),
        _ if ends("/sso/enforcement") => json!({"enforced": false}),
        _ if ends("/sso/discover") => json!({"email": "probe@example.com"}),
        _ if ends("/plan") => json!({"plan": "self-hosted"}),
        _ if ends("/status") => json!({"status": "active"}),
        _ => json!({}),
    };
    Some(body)
}

/// Adds what `method template` needs to get past parsing: its query and its body.
pub(crate) fn prepared(
    req: RequestBuilder,
    method: &Method,
    template: &str,
    n: usize,
) -> RequestBuilder {
    let req = match (method, template) {
        (&Method::GET, "/api/v1/evaluation") => {
            req.query(&[("json", r#"{"flagKey":"probe","entityID":"u1"}"#)])
        }
        (&Method::GET, "/api/v1/evaluation/batch") => req.query(&[(
            "json",
            r#"{"entities":[{"entityID":"u1"}],"flagKeys":["probe"]}"#,
        )]),
        (&Method::POST, "/api/v1/import") => req.query(&[("dryRun", "true")]),
        _ => req,
    };
    match body_for(method, template, n) {
        Some(body) => req.json(&body),
        None => req,
    }
}

/// `template` with its placeholders filled from `ids` (`1` for parameters without a value).
pub(crate) fn fill(template: &str, ids: &BTreeMap<&str, String>) -> String {
    let mut path = template.to_owned();
    for (param, id) in ids {
        path = path.replace(&format!("{{{param}}}"), id);
    }
    while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
        path.replace_range(open..=close, "1");
    }
    path
}

/// Sends `req` and returns status and body.
async fn send(req: RequestBuilder) -> (u16, Value) {
    read(req.send().await.expect("request")).await
}

/// The error code of a body, or `""`.
fn code_of(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------------
// 1. Every route declares a permission.
// ---------------------------------------------------------------------------------------------------

/// The routes anyone may call.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/info"),
    ("POST", "/api/v1/signup"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/auth/password/forgot"),
    ("POST", "/api/v1/auth/password/reset"),
    ("POST", "/api/v1/invitations/accept"),
    ("POST", "/api/v1/sso/discover"),
    ("GET", "/sso/{providerID}/start"),
    ("GET", "/sso/oidc/{providerID}/callback"),
    ("GET", "/sso/saml/{providerID}/metadata"),
    ("POST", "/sso/saml/{providerID}/acs"),
];

/// The routes of a signed-in user's own account, in whatever tenant.
const ACCOUNT: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/api/v1/auth/me"),
];

#[tokio::test]
async fn every_route_declares_a_permission_from_the_catalogue() {
    let app = spawn_app().await;
    let ops = operations(&openapi(&app).await);
    let markers = markers();
    let catalogue: BTreeSet<&str> = perm::ALL.iter().map(|(name, _)| *name).collect();
    let marker_names: BTreeSet<&str> = markers.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        marker_names, catalogue,
        "the markers listed here and perm::ALL differ: add the new marker to markers()"
    );
    let listed = |list: &[(&str, &str)], op: &Operation| {
        list.iter()
            .any(|(m, p)| *m == op.method.as_str() && *p == op.template)
    };
    let mut problems = Vec::new();
    for op in &ops {
        let platform_path = op.template.starts_with("/api/v1/admin/");
        match &op.guard {
            Guard::Public if !listed(PUBLIC, op) => {
                problems.push(format!("{}: public, but not a public route", op.label()));
            }
            Guard::Account if !listed(ACCOUNT, op) => problems.push(format!(
                "{}: any signed-in user, but not an account route",
                op.label()
            )),
            Guard::Platform if !platform_path => problems.push(format!(
                "{}: platform:admin outside /api/v1/admin/",
                op.label()
            )),
            Guard::Tenant { scope, permission } => {
                if platform_path {
                    problems.push(format!("{}: a platform route open to tenants", op.label()));
                }
                if !catalogue.contains(permission.as_str()) {
                    problems.push(format!(
                        "{}: session permission {permission:?} is not in perm::ALL {catalogue:?}",
                        op.label()
                    ));
                } else if !markers
                    .iter()
                    .any(|(name, s)| name == permission && s.as_str() == scope)
                {
                    problems.push(format!(
                        "{}: api_key {scope:?} with session {permission:?} matches no perm marker",
                        op.label()
                    ));
                }
            }
            Guard::Undeclared(declared) => problems.push(format!(
                "{}: declares no api_key scope and session permission pair: {declared}",
                op.label()
            )),
            _ => {}
        }
        if platform_path && op.guard != Guard::Platform {
            problems.push(format!(
                "{}: under /api/v1/admin/ but not platform:admin only",
                op.label()
            ));
        }
    }
    for (list, guard) in [(PUBLIC, Guard::Public), (ACCOUNT, Guard::Account)] {
        for (method, path) in list {
            if !ops.iter().any(|op| {
                op.method.as_str() == *method && op.template == *path && op.guard == guard
            }) {
                problems.push(format!("{method} {path}: missing, or not {guard:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "routes that do not declare who may call them:\n{}",
        problems.join("\n")
    );
    let tenant = ops
        .iter()
        .filter(|op| matches!(op.guard, Guard::Tenant { .. }))
        .count();
    assert!(tenant >= 60, "only {tenant} tenant routes were found");
    let platform = ops.iter().filter(|op| op.guard == Guard::Platform).count();
    assert!(platform >= 5, "only {platform} platform routes were found");
}

// ---------------------------------------------------------------------------------------------------
// 2. Route × role matrix.
// ---------------------------------------------------------------------------------------------------

/// The custom role walked with the built-in ones.
const DEV_WRITER: &str = "dev-writer";

/// Whether `role` grants `permission` (in `environment`, for per-environment permissions): the
/// documented roles, written out independently of the product's tables.
fn grants(role: &str, permission: &str, environment: Option<&str>) -> bool {
    let flags_rw = [
        "flags:read",
        "flags:evaluate",
        "flags:write",
        "flags:toggle",
    ];
    // SCIM tokens alone provision: no role grants it.
    if permission == "scim:provision" {
        return false;
    }
    match role {
        "owner" => true,
        "admin" => permission != "tenant:manage",
        "editor" => flags_rw.contains(&permission),
        "viewer" => ["flags:read", "flags:evaluate"].contains(&permission),
        // flags:read, flags:write:development (which carries flags:toggle:development).
        DEV_WRITER => {
            permission == "flags:read"
                || (["flags:write", "flags:toggle"].contains(&permission)
                    && environment == Some("development"))
        }
        other => panic!("no expectations for role {other}"),
    }
}

/// Flag-wide changes (what every environment shares: the flag itself, its variants and tags, imports),
/// which need their permission in every environment: a grant limited to one environment does not allow
/// them even there. The document declares them `flags:write` like the per-environment changes, so
/// they are listed here.
const FLAG_WIDE: &[(&str, &str)] = &[
    ("POST", "/api/v1/flags"),
    ("PUT", "/api/v1/flags/{flagID}"),
    ("DELETE", "/api/v1/flags/{flagID}"),
    ("PUT", "/api/v1/flags/{flagID}/restore"),
    ("POST", "/api/v1/flags/{flagID}/duplicate"),
    (
        "POST",
        "/api/v1/flags/{flagID}/snapshots/{snapshotID}/restore",
    ),
    ("POST", "/api/v1/flags/{flagID}/variants"),
    ("PUT", "/api/v1/flags/{flagID}/variants/{variantID}"),
    ("DELETE", "/api/v1/flags/{flagID}/variants/{variantID}"),
    ("POST", "/api/v1/flags/{flagID}/tags"),
    ("DELETE", "/api/v1/flags/{flagID}/tags/{tagID}"),
    ("POST", "/api/v1/import"),
    ("PUT", "/api/v1/flags/{flagID}/experiment"),
    ("POST", "/api/v1/metrics"),
    ("PUT", "/api/v1/metrics/{metricKey}"),
    ("DELETE", "/api/v1/metrics/{metricKey}"),
    ("PUT", "/api/v1/events/settings"),
];

fn flag_wide(op: &Operation) -> bool {
    FLAG_WIDE
        .iter()
        .any(|(m, p)| *m == op.method.as_str() && *p == op.template)
}

/// A signed-in member of tenant A with `role`.
struct Walker {
    role: &'static str,
    session: Session,
}

/// Tenant A's objects every route of the walk can name, by path parameter, in development; `prod`
/// overrides the per-environment ones in production.
struct Objects {
    dev: BTreeMap<&'static str, String>,
    prod: BTreeMap<&'static str, String>,
    /// Flags for routes that need one of their own: `copy` (its development state is replaced) and
    /// `restore` (a deleted flag).
    copy_flag: i64,
    deleted_flag: i64,
}

/// The id of the first constraint of the first segment of `flag` in `env`.
async fn first_constraint(app: &TestApp, env: &str, flag: i64) -> i64 {
    let path = format!("/api/v1/flags/{flag}/segments");
    let (status, segments) = app
        .call(&app.a.admin, Some(env), Method::GET, &path, None)
        .await;
    assert_eq!(status, 200, "{segments}");
    segments[0]["constraints"][0]["id"]
        .as_i64()
        .expect("constraint id")
}

/// The id of the newest snapshot of `flag` in `env`.
async fn newest_snapshot(app: &TestApp, env: &str, flag: i64) -> i64 {
    let path = format!("/api/v1/flags/{flag}/snapshots?limit=1");
    let (status, list) = app
        .call(&app.a.admin, Some(env), Method::GET, &path, None)
        .await;
    assert_eq!(status, 200, "{list}");
    list[0]["id"].as_i64().expect("snapshot id")
}

/// A flag with two variants, a constrained segment in each environment and a tag, plus the objects
/// the member, key, invitation, role, project and environment routes name.
async fn seed_objects(app: &TestApp, target: &Session) -> Objects {
    let spec = SegmentSpec {
        constraints: &[("country", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[50, 50],
    };
    let flag = app
        .build_flag(
            &app.a.admin,
            "development",
            "probe",
            &["off", "on"],
            std::slice::from_ref(&spec),
        )
        .await;
    let prod_segment = app
        .add_segment(&app.a.admin, "production", &flag, &spec)
        .await;
    let tag = expect_ok(
        app.admin_post(
            &format!("/api/v1/flags/{}/tags", flag.id),
            json!({"value": "probe-tag"}),
        )
        .await,
    );
    let copy_flag = app.create_flag("probe-copy").await["id"].as_i64().unwrap();
    let deleted_flag = app.create_flag("probe-deleted").await["id"]
        .as_i64()
        .unwrap();
    expect_ok(
        app.admin_delete(&format!("/api/v1/flags/{deleted_flag}"))
            .await,
    );
    let key = expect_ok(
        app.admin_post(
            "/api/v1/keys",
            json!({"name": "scratch", "scopes": ["read"]}),
        )
        .await,
    );
    let (status, invitation) = app
        .admin_post(
            "/api/v1/invitations",
            json!({"email": "pending@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    app.create_role("scratch-role", "scratch-role", &["flags:read"])
        .await;
    let metric = json!({"key": "probe-metric", "kind": "count", "event": "probe"});
    let (status, body) = app.admin_post("/api/v1/metrics", metric).await;
    assert_eq!(status, 201, "{body}");
    let (status, env) = app
        .admin_post(
            "/api/v1/projects/default/environments",
            json!({"key": "scratch", "name": "Scratch"}),
        )
        .await;
    assert_eq!(status, 201, "{env}");
    let dev: BTreeMap<&'static str, String> = [
        ("flagID", flag.id.to_string()),
        ("variantID", flag.variants[0].to_string()),
        ("segmentID", flag.segments[0].to_string()),
        (
            "constraintID",
            first_constraint(app, "development", flag.id)
                .await
                .to_string(),
        ),
        ("tagID", tag["id"].to_string()),
        (
            "snapshotID",
            newest_snapshot(app, "development", flag.id)
                .await
                .to_string(),
        ),
        ("keyID", key["id"].to_string()),
        ("invitationID", invitation["id"].to_string()),
        ("roleKey", "scratch-role".to_owned()),
        ("metricKey", "probe-metric".to_owned()),
        ("userID", target.user_id.to_string()),
        ("projectKey", "default".to_owned()),
        ("envKey", "scratch".to_owned()),
        ("tenantID", app.a.id.0.to_string()),
    ]
    .into_iter()
    .collect();
    let mut prod = dev.clone();
    prod.insert("segmentID", prod_segment.to_string());
    let prod_snapshot = newest_snapshot(app, "production", flag.id).await;
    prod.insert("snapshotID", prod_snapshot.to_string());
    prod.insert(
        "constraintID",
        first_constraint(app, "production", flag.id)
            .await
            .to_string(),
    );
    Objects {
        dev,
        prod,
        copy_flag,
        deleted_flag,
    }
}

/// The path of `op` in `env`, naming the objects of the walk.
fn path_in(objects: &Objects, op: &Operation, env: Option<&str>) -> String {
    let mut ids = match env {
        Some("production") => objects.prod.clone(),
        _ => objects.dev.clone(),
    };
    if op.template.ends_with("/copy") {
        ids.insert("flagID", objects.copy_flag.to_string());
    }
    if op.template.ends_with("/restore") {
        ids.insert("flagID", objects.deleted_flag.to_string());
    }
    fill(&op.template, &ids)
}

/// The order of the walk: reads, then other changes, then deletions, deepest resources first, so that
/// no request removes what a later one names before its turn.
fn walk_order(ops: &[Operation]) -> Vec<&Operation> {
    let mut ordered: Vec<&Operation> = ops.iter().collect();
    ordered.sort_by_key(|op| {
        let phase = match op.method {
            Method::GET => 0,
            Method::DELETE => 2,
            _ => 1,
        };
        let depth = if phase == 2 {
            usize::MAX - op.template.matches('/').count()
        } else {
            0
        };
        (phase, depth)
    });
    ordered
}

/// One cell: who, where, what was expected, what came back.
struct Cell {
    role: &'static str,
    allowed: bool,
    status: u16,
    code: String,
    ok: bool,
}

/// Whether an answer shows the request got past authorisation.
fn authorised(status: u16, code: &str) -> bool {
    status < 500
        && !matches!(status, 401 | 403)
        && !matches!(code, "tenant_not_found" | "tenant_required")
}

#[tokio::test]
async fn every_role_on_every_tenant_route_gets_exactly_what_its_permissions_grant() {
    let app = spawn_app().await;
    app.create_role(
        DEV_WRITER,
        DEV_WRITER,
        &["flags:read", "flags:write:development"],
    )
    .await;
    let walkers = vec![
        Walker {
            role: "owner",
            session: app.owner_session().await,
        },
        Walker {
            role: "admin",
            session: app.member("admin@example.com", "admin").await,
        },
        Walker {
            role: "editor",
            session: app.member("editor@example.com", "editor").await,
        },
        Walker {
            role: "viewer",
            session: app.member("viewer@example.com", "viewer").await,
        },
        Walker {
            role: DEV_WRITER,
            session: app.member("dev@example.com", DEV_WRITER).await,
        },
    ];
    let target = app.member("target@example.com", "viewer").await;
    let objects = seed_objects(&app, &target).await;
    let ops = operations(&openapi(&app).await);
    let mut lines = Vec::new();
    let mut failures = 0;
    let mut n = 0;
    for op in walk_order(&ops) {
        let Some(permission) = op.permission() else {
            continue;
        };
        let envs: &[Option<&str>] = if per_environment(permission) {
            &[Some("development"), Some("production")]
        } else {
            &[None]
        };
        for env in envs {
            let path = path_in(&objects, op, *env);
            let mut cells = Vec::new();
            for walker in &walkers {
                n += 1;
                // A flag-wide change needs the permission in every environment, whichever is asked.
                let asked = if flag_wide(op) { None } else { *env };
                let allowed = grants(walker.role, permission, asked);
                let mut req = app.as_user(&walker.session, op.method.clone(), &path, None);
                if let Some(env) = env {
                    req = req.header("X-Environment", *env);
                }
                let (status, body) = send(prepared(req, &op.method, &op.template, n)).await;
                let code = code_of(&body).to_owned();
                let ok = match allowed {
                    true => authorised(status, &code),
                    false => status == 403 && code == "forbidden",
                };
                failures += usize::from(!ok);
                cells.push(Cell {
                    role: walker.role,
                    allowed,
                    status,
                    code,
                    ok,
                });
            }
            let row: Vec<String> = cells
                .iter()
                .map(|c| {
                    let mark = if c.ok { "" } else { "✗" };
                    let wanted = if c.allowed { "+" } else { "-" };
                    let code = if c.ok || c.code.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", c.code)
                    };
                    format!("{}{wanted}{}{code}{mark}", c.role, c.status)
                })
                .collect();
            lines.push(format!(
                "{:<7}{:<62}{:<12}{:<16}{}",
                op.method.as_str(),
                op.template,
                env.unwrap_or("-"),
                format!("{permission}{}", if flag_wide(op) { "*" } else { "" }),
                row.join("  ")
            ));
        }
    }
    assert!(lines.len() >= 60, "only {} rows were walked", lines.len());
    let matrix = lines.join("\n");
    if std::env::var_os("PRINT_RBAC_MATRIX").is_some() {
        eprintln!("{matrix}");
    }
    assert!(
        failures == 0,
        "{failures} cell(s) disagree with the roles (role, + allowed / - denied, status, ✗ wrong; \
         * flag-wide):\n{matrix}"
    );
}

// ---------------------------------------------------------------------------------------------------
// 3. Per-environment custom roles, end to end.
// ---------------------------------------------------------------------------------------------------

/// A user's request in `env` with an optional JSON body; returns status and body.
async fn as_member(
    app: &TestApp,
    session: &Session,
    env: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .as_user(session, method, path, None)
        .header("X-Environment", env);
    if let Some(body) = body {
        req = req.json(&body);
    }
    send(req).await
}

/// A flag with variants `off` and `on` and one segment in each environment (constraint and 50/50
/// split), enabled in development only; returns it with the production segment's id.
async fn two_environment_flag(app: &TestApp, key: &str) -> (crate::helpers::BuiltFlag, i64) {
    let spec = SegmentSpec {
        constraints: &[("country", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[50, 50],
    };
    let flag = app
        .build_flag(
            &app.a.admin,
            "development",
            key,
            &["off", "on"],
            std::slice::from_ref(&spec),
        )
        .await;
    let prod = app
        .add_segment(&app.a.admin, "production", &flag, &spec)
        .await;
    (flag, prod)
}

#[tokio::test]
async fn a_role_limited_to_development_changes_development_only() {
    let app = spawn_app().await;
    app.create_role(
        DEV_WRITER,
        DEV_WRITER,
        &["flags:read", "flags:write:development"],
    )
    .await;
    let dev = app.member("dev@example.com", DEV_WRITER).await;
    let (flag, prod_segment) = two_environment_flag(&app, "limited").await;
    let id = flag.id;
    let dev_segment = flag.segments[0];

    // Development: toggling and everything in its segments.
    let enabled = format!("/api/v1/flags/{id}/enabled");
    let reply = as_member(
        &app,
        &dev,
        "development",
        Method::PUT,
        &enabled,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(expect_ok(reply)["enabled"], false);
    let segment = format!("/api/v1/flags/{id}/segments/{dev_segment}");
    let body = json!({"description": "dev only", "rolloutPercent": 20});
    let reply = as_member(&app, &dev, "development", Method::PUT, &segment, Some(body)).await;
    assert_eq!(expect_ok(reply)["rolloutPercent"], 20);
    let constraint = json!({"property": "plan", "operator": "EQ", "value": "\"pro\""});
    let reply = as_member(
        &app,
        &dev,
        "development",
        Method::POST,
        &format!("{segment}/constraints"),
        Some(constraint.clone()),
    )
    .await;
    expect_ok(reply);
    let split = json!({"distributions": [{"variantID": flag.variants[1], "percent": 100}]});
    let reply = as_member(
        &app,
        &dev,
        "development",
        Method::PUT,
        &format!("{segment}/distributions"),
        Some(split.clone()),
    )
    .await;
    expect_ok(reply);
    let segments = format!("/api/v1/flags/{id}/segments");
    let body = json!({"description": "second", "rolloutPercent": 5});
    let second = expect_ok(
        as_member(
            &app,
            &dev,
            "development",
            Method::POST,
            &segments,
            Some(body.clone()),
        )
        .await,
    );
    let reorder = json!({"segmentIDs": [second["id"], dev_segment]});
    expect_ok(
        as_member(
            &app,
            &dev,
            "development",
            Method::PUT,
            &format!("{segments}/reorder"),
            Some(reorder),
        )
        .await,
    );
    let development = app.flag_json("development", id).await;
    assert_eq!(development["enabled"], false);
    assert_eq!(development["segments"][0]["id"], second["id"]);
    assert_eq!(development["segments"][1]["rolloutPercent"], 20);
    assert_eq!(development["updatedBy"], "user:dev@example.com");

    // Production: the same changes are refused, and nothing moves (the version is the flag's, shared
    // by every environment, so it is read after the changes in development).
    let before = app.observe_flag(id).await;
    let prod_path = format!("/api/v1/flags/{id}/segments/{prod_segment}");
    let attempts = [
        (Method::PUT, enabled.clone(), Some(json!({"enabled": true}))),
        (Method::POST, segments.clone(), Some(body)),
        (
            Method::PUT,
            prod_path.clone(),
            Some(json!({"description": "x", "rolloutPercent": 1})),
        ),
        (Method::DELETE, prod_path.clone(), None),
        (
            Method::POST,
            format!("{prod_path}/constraints"),
            Some(constraint),
        ),
        (
            Method::PUT,
            format!("{prod_path}/distributions"),
            Some(split),
        ),
        (
            Method::PUT,
            format!("{segments}/reorder"),
            Some(json!({"segmentIDs": [prod_segment]})),
        ),
    ];
    for (method, path, body) in attempts {
        let reply = as_member(&app, &dev, "production", method.clone(), &path, body).await;
        let err = expect_error(&reply, 403, "forbidden");
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("production"),
            "{method} {path}: the refusal names the environment: {message}"
        );
    }
    assert_eq!(app.observe_flag(id).await, before);

    // Reading works everywhere, evaluating was not granted.
    expect_ok(
        as_member(
            &app,
            &dev,
            "production",
            Method::GET,
            &format!("/api/v1/flags/{id}"),
            None,
        )
        .await,
    );
    let eval = json!({"flagKey": "limited", "entityID": "u1"});
    let reply = as_member(
        &app,
        &dev,
        "development",
        Method::POST,
        "/api/v1/evaluation",
        Some(eval),
    )
    .await;
    expect_error(&reply, 403, "forbidden");
}

#[tokio::test]
async fn flag_wide_changes_need_the_permission_in_every_environment() {
    let app = spawn_app().await;
    app.create_role(
        DEV_WRITER,
        DEV_WRITER,
        &["flags:read", "flags:write:development"],
    )
    .await;
    let dev = app.member("dev@example.com", DEV_WRITER).await;
    let (flag, _) = two_environment_flag(&app, "shared").await;
    let id = flag.id;
    let tag = expect_ok(
        app.admin_post(&format!("/api/v1/flags/{id}/tags"), json!({"value": "t"}))
            .await,
    );
    let before = app.observe_flag(id).await;
    let flag_doc = json!({"flags": [{"key": "imported", "description": "by dev", "enabled": true,
        "variants": [{"key": "on"}],
        "segments": [{"rolloutPercent": 100, "distributions": [{"variantKey": "on", "percent": 100}]}]}]});
    let attempts = [
        (
            Method::POST,
            "/api/v1/flags".to_owned(),
            Some(json!({"key": "by-dev", "description": "d"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}"),
            Some(json!({"description": "renamed by dev"})),
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/variants"),
            Some(json!({"key": "third"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}/variants/{}", flag.variants[0]),
            Some(json!({"key": "off", "attachment": {"x": 1}})),
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/tags"),
            Some(json!({"value": "by-dev"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/flags/{id}/tags/{}", tag["id"]),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/flags/{id}/duplicate"),
            Some(json!({"key": "dup-by-dev"})),
        ),
        (Method::POST, "/api/v1/import".to_owned(), Some(flag_doc)),
        (Method::DELETE, format!("/api/v1/flags/{id}"), None),
    ];
    let mut allowed = Vec::new();
    for (method, path, body) in attempts {
        let (status, reply) =
            as_member(&app, &dev, "development", method.clone(), &path, body).await;
        if status != 403 {
            allowed.push(format!("{method} {path}: {status} {reply}"));
        }
    }
    assert!(
        allowed.is_empty(),
        "flag-wide changes allowed to a role limited to development:\n{}",
        allowed.join("\n")
    );
    assert_eq!(app.observe_flag(id).await, before);
}

#[tokio::test]
async fn copying_into_an_environment_needs_write_access_to_it() {
    let app = spawn_app().await;
    app.create_role(
        DEV_WRITER,
        DEV_WRITER,
        &["flags:read", "flags:write:development"],
    )
    .await;
    let dev = app.member("dev@example.com", DEV_WRITER).await;
    let body = json!({"name": "dev only", "scopes": ["write"], "environment": "development"});
    let dev_key = expect_ok(app.admin_post("/api/v1/keys", body).await)["key"]
        .as_str()
        .expect("the new key")
        .to_owned();
    let (flag, _) = two_environment_flag(&app, "copied").await;
    let path = format!("/api/v1/flags/{}/copy", flag.id);
    let before = app.observe_flag(flag.id).await;
    let copy = json!({"from": "development", "to": "production"});
    let by_member = as_member(
        &app,
        &dev,
        "development",
        Method::POST,
        &path,
        Some(copy.clone()),
    )
    .await;
    let by_key = app
        .call(&dev_key, None, Method::POST, &path, Some(copy))
        .await;
    let after = app.observe_flag(flag.id).await;
    let mut copied = Vec::new();
    if by_member.0 != 403 {
        copied.push(format!(
            "a role limited to development: {} {}",
            by_member.0, by_member.1
        ));
    }
    if by_key.0 != 403 {
        copied.push(format!(
            "a key bound to development: {} {}",
            by_key.0, by_key.1
        ));
    }
    assert!(
        copied.is_empty(),
        "copied into production by\n{}",
        copied.join("\n")
    );
    assert_eq!(after, before);
    // Copying into the environment one may write is fine.
    let back = json!({"from": "production", "to": "development"});
    expect_ok(as_member(&app, &dev, "development", Method::POST, &path, Some(back)).await);
}

#[tokio::test]
async fn a_role_that_may_only_toggle_production_toggles_and_edits_nothing() {
    let app = spawn_app().await;
    app.create_role("prod-toggler", "prod-toggler", &["flags:toggle:production"])
        .await;
    let toggler = app.member("toggler@example.com", "prod-toggler").await;
    let (flag, prod_segment) = two_environment_flag(&app, "switch").await;
    let id = flag.id;
    let enabled = format!("/api/v1/flags/{id}/enabled");
    for on in [true, false, true] {
        let reply = as_member(
            &app,
            &toggler,
            "production",
            Method::PUT,
            &enabled,
            Some(json!({"enabled": on})),
        )
        .await;
        assert_eq!(expect_ok(reply)["enabled"], on);
        assert_eq!(app.flag_json("production", id).await["enabled"], on);
    }
    let development = app.observe_flag(id).await.development;
    let reply = as_member(
        &app,
        &toggler,
        "development",
        Method::PUT,
        &enabled,
        Some(json!({"enabled": false})),
    )
    .await;
    expect_error(&reply, 403, "forbidden");
    let before = app.observe_flag(id).await;
    assert_eq!(before.development, development);
    let segment = format!("/api/v1/flags/{id}/segments/{prod_segment}");
    let attempts = [
        (
            Method::POST,
            format!("/api/v1/flags/{id}/segments"),
            Some(json!({"description": "x", "rolloutPercent": 1})),
        ),
        (
            Method::PUT,
            segment.clone(),
            Some(json!({"description": "x", "rolloutPercent": 1})),
        ),
        (Method::DELETE, segment.clone(), None),
        (
            Method::POST,
            format!("{segment}/constraints"),
            Some(json!({"property": "a", "operator": "EQ", "value": "\"b\""})),
        ),
        (
            Method::PUT,
            format!("{segment}/distributions"),
            Some(json!({"distributions": [{"variantID": flag.variants[0], "percent": 100}]})),
        ),
        (
            Method::PUT,
            format!("/api/v1/flags/{id}"),
            Some(json!({"enabled": false})),
        ),
        (Method::GET, format!("/api/v1/flags/{id}"), None),
    ];
    for (method, path, body) in attempts {
        let reply = as_member(&app, &toggler, "production", method.clone(), &path, body).await;
        expect_error(&reply, 403, "forbidden");
    }
    assert_eq!(app.observe_flag(id).await, before);
}

// ---------------------------------------------------------------------------------------------------
// 4. The roles API.
// ---------------------------------------------------------------------------------------------------

/// `GET /api/v1/roles` with tenant A's read key.
async fn roles(app: &TestApp) -> Vec<Value> {
    let (status, list) = app
        .call(&app.a.read, None, Method::GET, "/api/v1/roles", None)
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().expect("role list").clone()
}

/// The permissions listed for role `key`.
fn permissions_of(roles: &[Value], key: &str) -> Option<BTreeSet<String>> {
    let role = roles.iter().find(|r| r["key"] == key)?;
    Some(
        role["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| p.as_str().expect("permission").to_owned())
            .collect(),
    )
}

#[tokio::test]
async fn roles_api_lists_validates_updates_and_protects_roles_in_use() {
    let app = spawn_app().await;
    let catalogue: BTreeSet<String> = perm::ALL.iter().map(|(n, _)| (*n).to_owned()).collect();
    let listed = roles(&app).await;
    let built_in: Vec<&str> = listed
        .iter()
        .filter(|r| r["builtIn"] == true)
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(built_in, ["owner", "admin", "editor", "viewer"]);
    for key in built_in {
        let expected: BTreeSet<String> = catalogue
            .iter()
            .filter(|p| grants(key, p, None))
            .cloned()
            .collect();
        assert_eq!(permissions_of(&listed, key), Some(expected), "role {key}");
    }

    // Creating: validated, and listed with its grants as written.
    let invalid = [
        json!({"key": "qa", "name": "QA", "permissions": ["flags:fly"]}),
        json!({"key": "qa", "name": "QA", "permissions": ["audit:read:production"]}),
        json!({"key": "qa", "name": "QA", "permissions": ["scim:provision"]}),
        json!({"key": "qa", "name": "QA", "permissions": ["flags:write:not a key"]}),
        json!({"key": "qa", "name": "QA", "permissions": []}),
    ];
    for body in invalid {
        expect_invalid(
            &app.admin_post("/api/v1/roles", body.clone()).await,
            "permissions",
        );
    }
    for taken in ["owner", "admin", "editor", "viewer"] {
        let body = json!({"key": taken, "name": "Mine", "permissions": ["flags:read"]});
        expect_error(
            &app.admin_post("/api/v1/roles", body).await,
            409,
            "role_key_taken",
        );
        let body = json!({"name": "Mine", "permissions": ["flags:read"]});
        expect_invalid(
            &app.admin_put(&format!("/api/v1/roles/{taken}"), body).await,
            "key",
        );
    }
    let qa = app
        .create_role(
            "qa",
            "qa",
            &["flags:read", "flags:toggle:staging", "flags:read"],
        )
        .await;
    assert_eq!(qa["builtIn"], false);
    assert_eq!(
        qa["permissions"],
        json!(["flags:read", "flags:toggle:staging"])
    );
    let again = json!({"key": "qa", "name": "QA", "permissions": ["flags:read"]});
    expect_error(
        &app.admin_post("/api/v1/roles", again).await,
        409,
        "role_key_taken",
    );
    let listed = roles(&app).await;
    assert_eq!(listed.len(), 5, "{listed:?}");
    assert_eq!(
        permissions_of(&listed, "qa"),
        Some(
            ["flags:read", "flags:toggle:staging"]
                .map(str::to_owned)
                .into_iter()
                .collect()
        )
    );

    // Who may manage roles.
    let viewer = app.member("viewer@example.com", "viewer").await;
    let editor = app.member("editor@example.com", "editor").await;
    let admin = app.member("admin@example.com", "admin").await;
    let body = json!({"key": "mine", "name": "Mine", "permissions": ["flags:read"]});
    for (who, session) in [("viewer", &viewer), ("editor", &editor)] {
        let reply = send(
            app.as_user(session, Method::POST, "/api/v1/roles", None)
                .json(&body),
        )
        .await;
        expect_error(&reply, 403, "forbidden");
        let reply = send(
            app.as_user(session, Method::PUT, "/api/v1/roles/qa", None)
                .json(&body),
        )
        .await;
        expect_error(&reply, 403, "forbidden");
        let reply = send(app.as_user(session, Method::DELETE, "/api/v1/roles/qa", None)).await;
        expect_error(&reply, 403, "forbidden");
        let reply = send(app.as_user(session, Method::GET, "/api/v1/roles", None)).await;
        assert_eq!(reply.0, 200, "{who} reads roles: {}", reply.1);
    }
    assert_eq!(roles(&app).await.len(), 5, "nothing was created by them");
    let reply = send(
        app.as_user(&admin, Method::POST, "/api/v1/roles", None)
            .json(&body),
    )
    .await;
    assert_eq!(reply.0, 201, "{}", reply.1);

    // Updating a role changes its members' rights on their next request.
    let member = app.member("qa@example.com", "qa").await;
    let create = |n: usize| json!({"key": format!("qa-{n}"), "description": "d"});
    let try_create = async |n: usize| {
        let req = app
            .as_user(&member, Method::POST, "/api/v1/flags", None)
            .json(&create(n));
        send(req).await
    };
    expect_error(&try_create(1).await, 403, "forbidden");
    let body = json!({"name": "QA", "permissions": ["flags:read", "flags:write"]});
    let updated = expect_ok(app.admin_put("/api/v1/roles/qa", body).await);
    assert_eq!(updated["permissions"], json!(["flags:read", "flags:write"]));
    expect_ok(try_create(2).await);
    let body = json!({"name": "QA", "permissions": ["flags:read"]});
    expect_ok(app.admin_put("/api/v1/roles/qa", body).await);
    expect_error(&try_create(3).await, 403, "forbidden");
    let body = json!({"name": "QA", "permissions": ["keys:manage"]});
    expect_ok(app.admin_put("/api/v1/roles/qa", body).await);
    let reply = send(app.as_user(&member, Method::GET, "/api/v1/flags", None)).await;
    expect_error(&reply, 403, "forbidden");
    let reply = send(app.as_user(&member, Method::GET, "/api/v1/keys", None)).await;
    assert_eq!(reply.0, 200, "{}", reply.1);
    let missing = json!({"name": "Nope", "permissions": ["flags:read"]});
    expect_error(
        &app.admin_put("/api/v1/roles/nope", missing).await,
        404,
        "role_not_found",
    );

    // A role held by a member or a pending invitation cannot be deleted.
    expect_error(
        &app.admin_delete("/api/v1/roles/qa").await,
        409,
        "role_in_use",
    );
    let (status, members) = app.admin_get("/api/v1/members").await;
    assert_eq!(status, 200, "{members}");
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "qa")
    );
    let reply = app
        .admin_delete(&format!("/api/v1/members/{}", member.user_id))
        .await;
    assert_eq!(reply.0, 204, "{}", reply.1);
    let (status, invitation) = app
        .admin_post(
            "/api/v1/invitations",
            json!({"email": "later@example.com", "role": "qa"}),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    expect_error(
        &app.admin_delete("/api/v1/roles/qa").await,
        409,
        "role_in_use",
    );
    let reply = app
        .admin_delete(&format!("/api/v1/invitations/{}", invitation["id"]))
        .await;
    assert_eq!(reply.0, 204, "{}", reply.1);
    let reply = app.admin_delete("/api/v1/roles/qa").await;
    assert_eq!(reply.0, 204, "{}", reply.1);
    assert_eq!(permissions_of(&roles(&app).await, "qa"), None);
    expect_error(
        &app.admin_delete("/api/v1/roles/qa").await,
        404,
        "role_not_found",
    );
    let body = json!({"email": "late@example.com", "role": "qa"});
    expect_error(
        &app.admin_post("/api/v1/invitations", body).await,
        404,
        "role_not_found",
    );
}

#[tokio::test]
async fn custom_roles_belong_to_their_tenant() {
    let app = spawn_app().await;
    app.create_role("qa", "qa", &["flags:read"]).await;
    // Tenant B has no role qa: it can neither see, change, delete nor grant it.
    let b = |method: Method, path: &str| app.request(method, path, &app.b.admin);
    let (status, list) = send(b(Method::GET, "/api/v1/roles")).await;
    assert_eq!(status, 200, "{list}");
    assert!(
        !list.as_array().unwrap().iter().any(|r| r["key"] == "qa"),
        "{list}"
    );
    let body = json!({"name": "Stolen", "permissions": ["flags:read", "flags:write"]});
    expect_error(
        &send(b(Method::PUT, "/api/v1/roles/qa").json(&body)).await,
        404,
        "role_not_found",
    );
    expect_error(
        &send(b(Method::DELETE, "/api/v1/roles/qa")).await,
        404,
        "role_not_found",
    );
    let body = json!({"email": "x@example.com", "role": "qa"});
    expect_error(
        &send(b(Method::POST, "/api/v1/invitations").json(&body)).await,
        404,
        "role_not_found",
    );
    // B may have its own role with the same key, which changes nothing in A.
    let body = json!({"key": "qa", "name": "B's QA", "permissions": ["flags:read", "flags:write"]});
    assert_eq!(
        send(b(Method::POST, "/api/v1/roles").json(&body)).await.0,
        201
    );
    let member = app.member("qa@example.com", "qa").await;
    let req = app
        .as_user(&member, Method::POST, "/api/v1/flags", None)
        .json(&json!({"key": "nope", "description": "d"}));
    expect_error(&send(req).await, 403, "forbidden");
    assert_eq!(
        permissions_of(&roles(&app).await, "qa"),
        Some(BTreeSet::from(["flags:read".to_owned()]))
    );
}

// ---------------------------------------------------------------------------------------------------
// 5. The owner's protections.
// ---------------------------------------------------------------------------------------------------

/// `role` of member `user` as `GET /members` lists it.
async fn role_of(app: &TestApp, user: i64) -> Option<String> {
    let (status, members) = app.admin_get("/api/v1/members").await;
    assert_eq!(status, 200, "{members}");
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userId"] == user)
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

/// `PUT /members/{user}` with `role`, as `session`.
async fn set_role(app: &TestApp, session: &Session, user: i64, role: &str) -> (u16, Value) {
    let path = format!("/api/v1/members/{user}");
    send(
        app.as_user(session, Method::PUT, &path, None)
            .json(&json!({"role": role})),
    )
    .await
}

/// `DELETE /members/{user}`, as `session`.
async fn remove(app: &TestApp, session: &Session, user: i64) -> (u16, Value) {
    let path = format!("/api/v1/members/{user}");
    send(app.as_user(session, Method::DELETE, &path, None)).await
}

#[tokio::test]
async fn only_an_owner_grants_or_removes_owner_and_a_tenant_keeps_one() {
    let app = spawn_app().await;
    let owner = app.owner_session().await;
    let admin = app.member("admin@example.com", "admin").await;
    let editor = app.member("editor@example.com", "editor").await;
    assert_eq!(role_of(&app, owner.user_id).await.as_deref(), Some("owner"));

    // An admin may manage members, but not the owner role.
    expect_error(
        &set_role(&app, &admin, editor.user_id, "owner").await,
        403,
        "owner_only",
    );
    expect_error(
        &set_role(&app, &admin, admin.user_id, "owner").await,
        403,
        "owner_only",
    );
    expect_error(
        &set_role(&app, &admin, owner.user_id, "viewer").await,
        403,
        "owner_only",
    );
    expect_error(
        &remove(&app, &admin, owner.user_id).await,
        403,
        "owner_only",
    );
    let req = app
        .as_user(&admin, Method::POST, "/api/v1/invitations", None)
        .json(&json!({"email": "new-owner@example.com", "role": "owner"}));
    expect_error(&send(req).await, 403, "owner_only");
    // Nor may an admin API key.
    let body = json!({"role": "owner"});
    let path = format!("/api/v1/members/{}", editor.user_id);
    expect_error(&app.admin_put(&path, body).await, 403, "owner_only");
    expect_error(
        &app.admin_delete(&format!("/api/v1/members/{}", owner.user_id))
            .await,
        403,
        "owner_only",
    );
    // What an admin may do: other roles.
    assert_eq!(
        expect_ok(set_role(&app, &admin, editor.user_id, "viewer").await)["role"],
        "viewer"
    );
    assert_eq!(role_of(&app, owner.user_id).await.as_deref(), Some("owner"));

    // The last owner can be neither demoted nor removed, even by themselves.
    for role in ["admin", "editor", "viewer"] {
        expect_error(
            &set_role(&app, &owner, owner.user_id, role).await,
            409,
            "last_owner",
        );
    }
    expect_error(
        &remove(&app, &owner, owner.user_id).await,
        409,
        "last_owner",
    );
    assert_eq!(role_of(&app, owner.user_id).await.as_deref(), Some("owner"));

    // An owner promotes another member; then either may step down, until one owner is left.
    assert_eq!(
        expect_ok(set_role(&app, &owner, admin.user_id, "owner").await)["role"],
        "owner"
    );
    assert_eq!(
        expect_ok(set_role(&app, &admin, owner.user_id, "admin").await)["role"],
        "admin"
    );
    assert_eq!(role_of(&app, owner.user_id).await.as_deref(), Some("admin"));
    // The former owner is an admin now: the owner role is out of their reach.
    expect_error(
        &set_role(&app, &owner, owner.user_id, "owner").await,
        403,
        "owner_only",
    );
    expect_error(
        &set_role(&app, &owner, admin.user_id, "viewer").await,
        403,
        "owner_only",
    );
    expect_error(
        &set_role(&app, &admin, admin.user_id, "admin").await,
        409,
        "last_owner",
    );
    // The new owner may remove the former one entirely, who then can do nothing in the tenant.
    let reply = remove(&app, &admin, owner.user_id).await;
    assert_eq!(reply.0, 204, "{}", reply.1);
    let reply = send(app.as_user(&owner, Method::GET, "/api/v1/flags", None)).await;
    expect_error(&reply, 404, "tenant_not_found");
    let reply = send(app.as_user(&owner, Method::GET, "/api/v1/flags", Some(app.a.id))).await;
    expect_error(&reply, 404, "tenant_not_found");
    assert_eq!(role_of(&app, owner.user_id).await, None);
}
