//! Tenant isolation, attacked: every operation of the OpenAPI document is called with tenant B's
//! credentials (admin, read and evaluation keys, and its members' sessions, with and without naming
//! tenant A) on tenant A's ids, with expired, garbage, tampered and logged-out session tokens, and with
//! a viewer's session of tenant A on every write route; each must be refused while A's data stays
//! byte-for-byte unchanged. New routes are covered automatically.

use crate::helpers::{SegmentSpec, Session, TestApp, read, spawn_app};
use crate::rbac::{self, Guard, Operation};
use flagent_auth::sessions::{SessionLifetimes, Sessions};
use flagent_types::{Origin, SystemScope};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Tenant A's ids, by OpenAPI path parameter name.
struct Ids {
    by_param: Vec<(&'static str, String)>,
}

/// Gives tenant A a flag with variants, a constrained segment, a tag, and an extra key.
async fn seed_tenant_a(app: &TestApp) -> Ids {
    let spec = [SegmentSpec {
        constraints: &[("state", "EQ", "\"CA\"")],
        rollout: 100,
        percents: &[50, 50],
    }];
    let flag = app
        .build_flag(
            &app.a.admin,
            "development",
            "a-secret",
            &["off", "on"],
            &spec,
        )
        .await;
    let (status, tag) = app
        .admin(
            Method::POST,
            &format!("/api/v1/flags/{}/tags", flag.id),
            Some(json!({"value": "a-tag"})),
        )
        .await;
    assert_eq!(status, 200, "{tag}");
    let (status, segment) = app
        .admin(
            Method::GET,
            &format!("/api/v1/flags/{}/segments", flag.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let constraint = segment[0]["constraints"][0]["id"].as_i64().unwrap();
    let (status, key) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "a key", "scopes": ["read"]})),
        )
        .await;
    assert_eq!(status, 200, "{key}");
    let member = app.member("a-member@example.com", "editor").await;
    let created = |reply: (u16, Value)| {
        assert_eq!(reply.0, 201, "{}", reply.1);
        reply.1
    };
    let role = json!({"key": "a-role", "name": "A's role", "permissions": ["flags:read"]});
    created(app.admin_post("/api/v1/roles", role).await);
    let invite = json!({"email": "a-invitee@example.com", "role": "a-role"});
    let invitation = created(app.admin_post("/api/v1/invitations", invite).await);
    let project = json!({"key": "a-proj", "name": "A's project"});
    created(app.admin_post("/api/v1/projects", project).await);
    let env = json!({"key": "a-env", "name": "A's environment"});
    created(
        app.admin_post("/api/v1/projects/a-proj/environments", env)
            .await,
    );
    Ids {
        by_param: vec![
            ("flagID", flag.id.to_string()),
            ("variantID", flag.variants[0].to_string()),
            ("segmentID", flag.segments[0].to_string()),
            ("constraintID", constraint.to_string()),
            ("tagID", tag["id"].to_string()),
            ("keyID", key["id"].to_string()),
            ("userID", member.user_id.to_string()),
            ("invitationID", invitation["id"].to_string()),
            ("roleKey", "a-role".to_owned()),
            ("projectKey", "a-proj".to_owned()),
            ("envKey", "a-env".to_owned()),
            ("tenantID", app.a.id.0.to_string()),
        ],
    }
}

/// Names only tenant A has, which no answer to another tenant may contain.
const A_ONLY: &[&str] = &[
    "a-secret",
    "a-tag",
    "a-role",
    "a-proj",
    "a-env",
    "a-member@example.com",
    "a-invitee@example.com",
];

/// Everything of tenant A an attacker could change, as one JSON value (`operator`, a platform admin,
/// reads the tenant's status and plan).
async fn state_of_a(app: &TestApp, operator: &Session) -> Value {
    let mut state = serde_json::Map::new();
    for env in ["development", "production"] {
        let path = format!("/api/v1/export/gitops?format=json&environment={env}");
        let (status, doc) = app.admin(Method::GET, &path, None).await;
        assert_eq!(status, 200);
        state.insert(format!("flags/{env}"), doc);
    }
    for path in [
        "/api/v1/flags?deleted=true",
        "/api/v1/tags",
        "/api/v1/keys",
        "/api/v1/members",
        "/api/v1/invitations",
        "/api/v1/roles",
        "/api/v1/projects",
        "/api/v1/projects/default/environments",
        "/api/v1/projects/a-proj/environments",
        "/api/v1/audit/verify",
    ] {
        let (status, body) = app.admin(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        state.insert(path.to_owned(), body);
    }
    let path = format!("/api/v1/admin/tenants/{}", app.a.id.0);
    let (status, body) = read(
        app.as_user(operator, Method::GET, &path, None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{path}: {body}");
    state.insert(path, body);
    Value::Object(state)
}

/// Every operation: method, path with A's ids filled in, and whether it names one of A's resources.
fn operations(doc: &Value, ids: &Ids) -> Vec<(Method, String, bool)> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let mut path = template.clone();
        let mut names_a = false;
        for (param, id) in &ids.by_param {
            let placeholder = format!("{{{param}}}");
            if path.contains(&placeholder) {
                path = path.replace(&placeholder, id);
                names_a = true;
            }
        }
        // Parameters without a seeded id (keys of things A alone has) get a value B cannot own either.
        while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
            path.replace_range(open..=close, "a-only-resource");
            names_a = true;
        }
        for method in item.as_object().unwrap().keys() {
            ops.push((
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                path.clone(),
                names_a,
            ));
        }
    }
    ops
}

/// A body that gets most routes past parsing, so they reach the tenant check.
fn probe_body() -> Value {
    json!({
        "key": "b-probe", "description": "probe", "name": "probe", "enabled": true, "rolloutPercent": 50,
        "property": "state", "operator": "EQ", "value": "probe", "attachment": {}, "scopes": ["read"],
        "distributions": [], "segmentIDs": [], "keys": [], "flags": [], "entities": [{"entityID": "x"}],
        "flagIDs": [1], "entityID": "x", "flagID": 1
    })
}

#[tokio::test]
async fn tenant_b_on_every_route_cannot_read_or_change_tenant_a() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    let before = state_of_a(&app, &operator).await;
    let (_, doc) = read(
        app.client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ops = operations(&doc, &ids);
    assert!(
        ops.iter().filter(|(_, _, a)| *a).count() >= 20,
        "expected many id routes: {}",
        ops.len()
    );
    for key in [&app.b.admin, &app.b.read, &app.b.eval] {
        for (method, path, names_a) in &ops {
            let reply = app
                .request(method.clone(), path, key)
                .json(&probe_body())
                .send()
                .await
                .unwrap();
            let (status, body) = read(reply).await;
            assert!(status < 500, "{method} {path} answered {status}: {body}");
            if *names_a {
                assert!(
                    matches!(status, 400 | 401 | 403 | 404 | 409 | 422),
                    "{method} {path} with tenant B's key reached tenant A's resource: {status} {body}"
                );
                let text = body.to_string();
                assert!(
                    !text.contains("a-secret") && !text.contains("a-tag"),
                    "{method} {path} leaked A: {text}"
                );
            }
        }
    }
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}

// ---------------------------------------------------------------------------------------------------
// Users' sessions: tenant B's members, bad tokens, and tenant A's viewer on every write route.
// ---------------------------------------------------------------------------------------------------

/// The OpenAPI document.
async fn document(app: &TestApp) -> Value {
    rbac::openapi(app).await
}

/// Every operation that needs credentials (tenant and platform routes; with `account`, the account's
/// own routes too), with tenant A's ids filled in.
fn secured(doc: &Value, ids: &Ids, account: bool) -> Vec<(Operation, String)> {
    let ids: BTreeMap<&str, String> = ids.by_param.iter().cloned().collect();
    let ops: Vec<(Operation, String)> = rbac::operations(doc)
        .into_iter()
        .filter(|op| match op.guard {
            Guard::Tenant { .. } | Guard::Platform => true,
            Guard::Account => account,
            _ => false,
        })
        .map(|op| {
            let path = rbac::fill(&op.template, &ids);
            (op, path)
        })
        .collect();
    assert!(ops.len() >= 65, "only {} secured operations", ops.len());
    ops
}

/// A request for `op` at `path` with `token` as Bearer, with a body and query that parse.
fn bearer(app: &TestApp, token: &str, op: &Operation, path: &str, n: usize) -> RequestBuilder {
    rbac::prepared(
        app.request(op.method.clone(), path, token),
        &op.method,
        &op.template,
        n,
    )
}

/// Sends `req`; fails on a 5xx or on an answer naming something only tenant A has (other than what
/// the path itself names).
async fn attempt(req: RequestBuilder, op: &Operation, path: &str) -> (u16, Value) {
    let (status, body) = read(req.send().await.expect("request")).await;
    assert!(
        status < 500,
        "{} {path} answered {status}: {body}",
        op.method
    );
    let text = body.to_string();
    for name in A_ONLY {
        assert!(
            path.contains(name) || !text.contains(name),
            "{} {path} leaked {name}: {text}",
            op.method
        );
    }
    (status, body)
}

fn code_of(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Whether `op` changes data: every route but `GET` and the evaluation routes (`POST` reads).
fn changes_data(op: &Operation) -> bool {
    op.writes() && op.permission() != Some("flags:evaluate")
}

/// Fails listing every refusal that was not what it should be.
fn assert_none(wrong: &[String], what: &str) {
    assert!(
        wrong.is_empty(),
        "{} request(s) {what}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn tenant_b_members_cannot_reach_tenant_a_whether_they_name_it_or_not() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    let b_admin = app
        .member_of(&app.b.admin, "b-owner@example.com", "admin")
        .await;
    let b_viewer = app
        .member_of(&app.b.admin, "b-viewer@example.com", "viewer")
        .await;
    let before = state_of_a(&app, &operator).await;
    let ops = secured(&document(&app).await, &ids, false);
    let mut wrong = Vec::new();
    let mut n = 0;
    for session in [&b_admin, &b_viewer] {
        for (op, path) in &ops {
            // Without X-Tenant-ID a member of B acts in B, where none of A's ids exist.
            n += 1;
            let req = bearer(&app, &session.token, op, path, n);
            let (status, body) = attempt(req, op, path).await;
            if op.template.contains('{') && !matches!(status, 401 | 403 | 404) {
                wrong.push(format!(
                    "{} {} {path}: {status} {body}",
                    session.email, op.method
                ));
            }
            // Naming tenant A, by id or by key: they are not a member there.
            for tenant in [app.a.id.0.to_string(), "default".to_owned()] {
                n += 1;
                let req = bearer(&app, &session.token, op, path, n).header("X-Tenant-ID", &tenant);
                let (status, body) = attempt(req, op, path).await;
                let expected = match op.guard {
                    Guard::Platform => (403, "forbidden"),
                    _ => (404, "tenant_not_found"),
                };
                if (status, code_of(&body)) != expected {
                    wrong.push(format!(
                        "{} in tenant {tenant}: {} {path}: {status} {body}",
                        session.email, op.method
                    ));
                }
            }
        }
    }
    assert_none(&wrong, "by tenant B's members were not refused");
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}

#[tokio::test]
async fn a_member_of_both_tenants_has_in_a_only_their_role_in_a() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    app.member_of(&app.b.admin, "both@example.com", "admin")
        .await;
    let both = app.member("both@example.com", "viewer").await;
    let in_a = Some(app.a.id);
    let in_b = Some(app.b.id);
    let (status, flags) = read(
        app.as_user(&both, Method::GET, "/api/v1/flags", in_a)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{flags}");
    assert!(flags.to_string().contains("a-secret"), "{flags}");
    let (status, keys) = read(
        app.as_user(&both, Method::GET, "/api/v1/keys", in_b)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "an admin of B manages B's keys: {keys}");
    let (status, body) = read(
        app.as_user(&both, Method::GET, "/api/v1/flags", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code_of(&body)), (400, "tenant_required"), "{body}");
    let before = state_of_a(&app, &operator).await;
    let mut wrong = Vec::new();
    let ops = secured(&document(&app).await, &ids, false);
    for (n, (op, path)) in ops.iter().filter(|(op, _)| changes_data(op)).enumerate() {
        for env in ["development", "production"] {
            let req = bearer(&app, &both.token, op, path, n)
                .header("X-Tenant-ID", app.a.id.0.to_string())
                .header("X-Environment", env);
            let (status, body) = attempt(req, op, path).await;
            if (status, code_of(&body)) != (403, "forbidden") {
                wrong.push(format!("{} {path} in {env}: {status} {body}", op.method));
            }
        }
    }
    assert_none(
        &wrong,
        "by a viewer of A who is an admin of B were not refused",
    );
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}

/// A session token for `user` signed with the server's key, with the given lifetimes (a zero token
/// lifetime expires the token at once, give or take the verifier's leeway; a zero session lifetime
/// expires the session row).
async fn mint_session(app: &TestApp, user: i64, token: Duration, session: Duration) -> String {
    #[allow(clippy::disallowed_methods)]
    let fixtures = SystemScope::assume_system("test fixtures");
    #[allow(clippy::disallowed_methods)]
    let signer = SystemScope::assume_system("test sessions");
    let system = app.db.system(&fixtures);
    let secret = system
        .setting_or_insert("session_secret", "the server stored one at start")
        .await
        .unwrap();
    let user = system.user(user).await.unwrap().expect("the user");
    let lifetimes = SessionLifetimes { token, session };
    let sessions = Sessions::new(app.db.clone(), signer, secret.as_bytes(), lifetimes);
    sessions
        .start(&user, &Origin::default())
        .await
        .expect("start a session")
        .token
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url, as JWTs use.
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn unbase64url(text: &str) -> Vec<u8> {
    let sextets: Vec<u32> = text
        .bytes()
        .map(|c| BASE64URL.iter().position(|&b| b == c).expect("base64url") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in sextets.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0, |n, (i, s)| n | (s << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The three parts of a JWT.
fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.').map(str::to_owned);
    let (h, p, s) = (it.next(), it.next(), it.next());
    (h.unwrap(), p.unwrap(), s.expect("a signed token"))
}

/// The claims of `token` with `sub` replaced, re-encoded, keeping `token`'s signature.
fn with_subject(token: &str, sub: i64) -> String {
    let (header, payload, signature) = parts(token);
    let mut claims: Value = serde_json::from_slice(&unbase64url(&payload)).expect("claims");
    claims["sub"] = json!(sub.to_string());
    let payload = base64url(claims.to_string().as_bytes());
    format!("{header}.{payload}.{signature}")
}

/// `token` with one character in the middle of its signature changed.
fn with_flipped_signature(token: &str) -> String {
    let (header, payload, signature) = parts(token);
    let mut sig: Vec<char> = signature.chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    format!("{header}.{payload}.{}", sig.into_iter().collect::<String>())
}

/// The claims of `token`, unsigned (`alg: none`).
fn unsigned(token: &str) -> String {
    let (_, payload, _) = parts(token);
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{payload}.")
}

/// `GET /auth/me` with `token`: its status.
async fn me(app: &TestApp, token: &str) -> u16 {
    let req = app.request(Method::GET, "/api/v1/auth/me", token);
    read(req.send().await.unwrap()).await.0
}

/// Walks every secured operation with each token, as Bearer and as the session cookie: every answer
/// must be `401 invalid_session`.
async fn refuse_everywhere(app: &TestApp, ops: &[(Operation, String)], tokens: &[(&str, String)]) {
    let mut wrong = Vec::new();
    let mut n = 0;
    for (label, token) in tokens {
        for (op, path) in ops {
            n += 1;
            let as_bearer = bearer(app, token, op, path, n);
            let as_cookie = rbac::prepared(
                app.client
                    .request(op.method.clone(), format!("{}{path}", app.address))
                    .header("Cookie", format!("flagent_session={token}"))
                    .header("X-CSRF-Token", "guessed"),
                &op.method,
                &op.template,
                n,
            );
            for (how, req) in [("bearer", as_bearer), ("cookie", as_cookie)] {
                let (status, body) = attempt(req, op, path).await;
                if (status, code_of(&body)) != (401, "invalid_session") {
                    wrong.push(format!(
                        "{label} ({how}): {} {path}: {status} {body}",
                        op.method
                    ));
                }
            }
        }
    }
    assert_none(&wrong, "with a bad session token were not refused with 401");
}

#[tokio::test]
async fn expired_garbage_tampered_and_logged_out_sessions_are_refused_everywhere() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    let hour = Duration::from_secs(3600);
    let minted_at = Instant::now();
    let expiring = mint_session(&app, operator.user_id, Duration::ZERO, hour).await;
    let dead = mint_session(&app, operator.user_id, hour, Duration::ZERO).await;
    let live = mint_session(&app, operator.user_id, hour, hour).await;
    assert_eq!(me(&app, &live).await, 200, "minted sessions are genuine");
    assert_eq!(
        me(&app, &expiring).await,
        200,
        "within the verifier's leeway"
    );
    assert_eq!(me(&app, &dead).await, 401, "the session row has expired");
    let viewer = app.member("a-viewer@example.com", "viewer").await;
    let logged_out = app.owner_session().await;
    let req = app.request(Method::POST, "/api/v1/auth/logout", &logged_out.token);
    assert_eq!(read(req.send().await.unwrap()).await.0, 204);
    assert_eq!(
        me(&app, &operator.token).await,
        200,
        "other sessions live on"
    );
    let (owner_header, owner_payload, _) = parts(&operator.token);
    let (_, _, viewer_signature) = parts(&viewer.token);
    let before = state_of_a(&app, &operator).await;
    let ops = secured(&document(&app).await, &ids, true);
    let tokens = [
        ("garbage", "garbage".to_owned()),
        ("three empty parts", "..".to_owned()),
        ("not base64", "a!.b!.c!".to_owned()),
        ("an API key's look-alike", "flg_".to_owned()),
        ("signature changed", with_flipped_signature(&operator.token)),
        (
            "viewer's token claiming the owner",
            with_subject(&viewer.token, operator.user_id),
        ),
        (
            "owner's claims with the viewer's signature",
            format!("{owner_header}.{owner_payload}.{viewer_signature}"),
        ),
        ("unsigned (alg none)", unsigned(&operator.token)),
        ("session past its absolute expiry", dead),
        ("logged out", logged_out.token.clone()),
    ];
    for (label, token) in &tokens[4..] {
        assert_eq!(me(&app, token).await, 401, "{label}");
    }
    // "flg_" is an (invalid) API key to the key routes, so it is walked apart.
    let (look_alike, real_tokens): (Vec<_>, Vec<_>) = tokens
        .into_iter()
        .partition(|(label, _)| label.contains("look-alike"));
    refuse_everywhere(&app, &ops, &real_tokens).await;
    for (_, token) in look_alike {
        for (n, (op, path)) in ops.iter().enumerate() {
            let (status, body) = attempt(bearer(&app, &token, op, path, n), op, path).await;
            assert!(
                matches!(status, 401 | 403),
                "{} {path} with {token:?}: {status} {body}",
                op.method
            );
        }
    }
    // The expiring token: past its expiry and the verifier's leeway (5 s).
    let wait = Duration::from_secs(7).saturating_sub(minted_at.elapsed());
    tokio::time::sleep(wait).await;
    refuse_everywhere(&app, &ops, &[("token past its expiry", expiring)]).await;
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}

#[tokio::test]
async fn a_viewer_of_a_is_refused_on_every_write_route() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    let viewer = app.member("a-viewer@example.com", "viewer").await;
    let before = state_of_a(&app, &operator).await;
    let ops = secured(&document(&app).await, &ids, false);
    let writes: Vec<&(Operation, String)> = ops.iter().filter(|(op, _)| changes_data(op)).collect();
    assert!(writes.len() >= 35, "only {} write routes", writes.len());
    let mut wrong = Vec::new();
    for (n, (op, path)) in writes.into_iter().enumerate() {
        for env in [None, Some("development"), Some("production")] {
            let mut req = bearer(&app, &viewer.token, op, path, n);
            if let Some(env) = env {
                req = req.header("X-Environment", env);
            }
            let (status, body) = attempt(req, op, path).await;
            if (status, code_of(&body)) != (403, "forbidden") {
                let env = env.unwrap_or("default environment");
                wrong.push(format!("{} {path} in {env}: {status} {body}", op.method));
            }
        }
    }
    assert_none(&wrong, "by tenant A's viewer were not refused with 403");
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}

#[tokio::test]
async fn a_user_without_the_permission_is_refused_before_the_body_is_read() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    let viewer = app.member("a-viewer@example.com", "viewer").await;
    let before = state_of_a(&app, &operator).await;
    let ops = secured(&document(&app).await, &ids, false);
    let hour = Duration::from_secs(3600);
    let mut wrong = Vec::new();
    for (op, path) in ops.iter().filter(|(op, _)| changes_data(op)) {
        // A fresh session for each route, so that nothing about it is cached yet (and a refusal
        // caches nothing).
        let token = mint_session(&app, viewer.user_id, hour, hour).await;
        let bodies = [
            ("a body of unknown fields", Some(probe_body().to_string())),
            ("malformed JSON", Some("{\"key\": ".to_owned())),
            ("no body", None),
        ];
        for (what, body) in bodies {
            let mut req = app.request(op.method.clone(), path, &token);
            if let Some(body) = body {
                req = req.header("Content-Type", "application/json").body(body);
            }
            let (status, reply) = attempt(req, op, path).await;
            if (status, code_of(&reply)) != (403, "forbidden") {
                wrong.push(format!(
                    "{} {path} with {what}: {status} {reply}",
                    op.method
                ));
            }
        }
    }
    assert_none(
        &wrong,
        "by tenant A's viewer were judged on their body before their role",
    );
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}

// ---------------------------------------------------------------------------------------------------
// Tenant A's own keys once revoked or expired.
// ---------------------------------------------------------------------------------------------------

/// Creates an admin key in tenant A and returns its plaintext and id.
async fn admin_key_of_a(app: &TestApp, name: &str) -> (String, i64) {
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": name, "scopes": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        body["key"].as_str().expect("key").to_owned(),
        body["id"].as_i64().expect("id"),
    )
}

#[tokio::test]
async fn revoked_and_expired_keys_of_a_are_refused_on_every_route() {
    let app = spawn_app().await;
    let ids = seed_tenant_a(&app).await;
    let operator = app.owner_session().await;
    let (revoked, revoked_id) = admin_key_of_a(&app, "to revoke").await;
    let (expired, expired_id) = admin_key_of_a(&app, "to expire").await;
    // The key to revoke works before (and so sits in the key cache).
    let (status, body) = read(
        app.request(Method::GET, "/api/v1/flags", &revoked)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .admin(Method::DELETE, &format!("/api/v1/keys/{revoked_id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let changed = crate::accounts::sql(
        &app,
        &format!("UPDATE api_keys SET expires_at = 1 WHERE id = {expired_id}"),
    )
    .await;
    assert_eq!(changed, 1);
    // The expiry is written behind the server's back, before the key's first use (so nothing cached it).
    let before = state_of_a(&app, &operator).await;
    let ops = secured(&document(&app).await, &ids, true);
    let mut reached = Vec::new();
    for (name, key) in [("revoked", &revoked), ("expired", &expired)] {
        for (op, path) in &ops {
            let (status, body) = attempt(
                app.request(op.method.clone(), path, key)
                    .json(&probe_body()),
                op,
                path,
            )
            .await;
            if !matches!(status, 401 | 403) {
                reached.push(format!("{name} key: {} → {status} {body}", op.label()));
            }
        }
    }
    assert!(reached.is_empty(), "{}", reached.join("\n"));
    assert_eq!(
        state_of_a(&app, &operator).await,
        before,
        "tenant A's data changed"
    );
}
