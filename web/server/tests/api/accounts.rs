//! Users and sessions: signing in, the session cookie and its CSRF check, lockout, email verification,
//! password reset, invitations and sign-out.

use crate::helpers::{
    TEST_PASSWORD, TestApp, code, expect_error, expect_invalid, expect_ok, read, spawn_app,
};
use flagent_types::SystemScope;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

#[tokio::test]
async fn the_bootstrapped_owner_signs_in_and_manages_flags_with_a_bearer_session() {
    let app = spawn_app().await;
    let owner = app.owner_session().await;
    let (status, body) = read(
        app.as_user(&owner, Method::POST, "/api/v1/flags", None)
            .json(&json!({"key": "from-a-session", "description": "made by a user"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["createdBy"], format!("user:{}", owner.email));
    let (status, me) = read(
        app.as_user(&owner, Method::GET, "/api/v1/auth/me", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["tenants"][0]["role"], "owner");
    assert_eq!(me["user"]["platformAdmin"], true);
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_write_and_an_editor_can() {
    let app = spawn_app().await;
    let viewer = app.member("viewer@example.com", "viewer").await;
    let editor = app.member("editor@example.com", "editor").await;
    let create = |s| {
        app.as_user(s, Method::POST, "/api/v1/flags", None)
            .json(&json!({"key": "k", "description": "d"}))
    };
    let (status, body) = read(create(&viewer).send().await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, body) = read(
        app.as_user(&viewer, Method::GET, "/api/v1/flags", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = read(create(&editor).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = read(
        app.as_user(&editor, Method::GET, "/api/v1/keys", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "editors do not manage keys");
}

#[tokio::test]
async fn a_cookie_session_needs_the_csrf_token_to_change_data() {
    let app = spawn_app().await;
    let owner = app.owner_session().await;
    let cookie = format!("flagent_session={}", owner.token);
    let post = || {
        app.client
            .post(format!("{}/api/v1/flags", app.address))
            .header("Cookie", cookie.clone())
            .json(&json!({"key": "by-cookie", "description": "d"}))
    };
    let (status, body) = read(post().send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("csrf_failed")),
        "{body}"
    );
    let (status, body) = read(post().header("X-CSRF-Token", "wrong").send().await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = read(
        post()
            .header("X-CSRF-Token", &owner.csrf)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = read(
        app.client
            .get(format!("{}/api/v1/flags", app.address))
            .header("Cookie", cookie.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "reads need no CSRF token");
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let owner = app.owner_session().await;
    let (status, _) = read(
        app.as_user(&owner, Method::POST, "/api/v1/auth/logout", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = read(
        app.as_user(&owner, Method::GET, "/api/v1/flags", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_session")),
        "{body}"
    );
    let again = app.login(&app.owner.email, &app.owner.password).await;
    assert_ne!(again.token, owner.token);
    let _ = TEST_PASSWORD;
}

// ---------------------------------------------------------------------------------------------------
// Helpers of the account, signup and operator tests (used by `signup.rs` and `operators.rs` too).

/// Runs one statement on the application's database, bypassing the application; returns the number of
/// rows it matched (MySQL counts matched rather than changed rows on this driver, like the others).
pub(crate) async fn sql(app: &TestApp, statement: &str) -> u64 {
    flagent_storage::admin::execute(&app.db_url, statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"))
}

/// How many rows of `table` match `condition` (an update that changes nothing counts them on every
/// backend; the test helpers have no query API).
pub(crate) async fn count(app: &TestApp, table: &str, condition: &str) -> u64 {
    let column = match table {
        "tenants" => "name",
        "users" => "email",
        _ => "tenant_id",
    };
    sql(
        app,
        &format!("UPDATE {table} SET {column} = {column} WHERE {condition}"),
    )
    .await
}

/// Sends a request and returns status and JSON body.
pub(crate) async fn send(req: RequestBuilder) -> (u16, Value) {
    read(req.send().await.expect("request")).await
}

/// A request with `token` (a session token) as Bearer token and `X-Tenant-ID: tenant` when given.
pub(crate) fn as_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    tenant: Option<&str>,
) -> RequestBuilder {
    let req = app.request(method, path, token);
    match tenant {
        Some(tenant) => req.header("X-Tenant-ID", tenant),
        None => req,
    }
}

/// A request without credentials.
pub(crate) fn anonymous(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.client.request(method, format!("{}{path}", app.address))
}

/// The messages in the outbox to `email` whose subject contains `subject`.
pub(crate) async fn mail_count(app: &TestApp, email: &str, subject: &str) -> usize {
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test assertions");
    app.db
        .system(&system)
        .mail_to(email)
        .await
        .expect("read the outbox")
        .iter()
        .filter(|m| m.subject.contains(subject))
        .count()
}

/// The keys of the flags a reply lists.
fn flag_keys(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("a flag list: {body}"))
        .iter()
        .map(|f| f["key"].as_str().expect("flag key"))
        .collect()
}

/// `(status, body)` of `GET /api/v1/flags` with a session token.
async fn flags_as(app: &TestApp, token: &str, tenant: Option<&str>) -> (u16, Value) {
    send(as_token(app, token, Method::GET, "/api/v1/flags", tenant)).await
}

/// Invites `email` into the tenant of `admin_key` with `role`; returns the invitation.
async fn invite(app: &TestApp, admin_key: &str, email: &str, role: &str) -> (u16, Value) {
    send(
        app.request(Method::POST, "/api/v1/invitations", admin_key)
            .json(&json!({"email": email, "role": role})),
    )
    .await
}

/// Accepts an invitation with `body` (token, optional password and name).
async fn accept(app: &TestApp, body: Value) -> (u16, Value) {
    send(anonymous(app, Method::POST, "/api/v1/invitations/accept").json(&body)).await
}

fn millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn cookie<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

/// The attributes of a `Set-Cookie` value, lower-cased (`httponly`, `samesite=lax`, `max-age=0`…).
fn attributes(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// The value of a `Set-Cookie` header.
fn cookie_value(cookie: &str) -> &str {
    cookie
        .split(';')
        .next()
        .and_then(|nv| nv.split_once('='))
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII cookie").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Signing in: one answer for every wrong credential, and the lockout.

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer_and_five_failures_lock_the_account() {
    let app = spawn_app().await;
    let email = app.owner.email.clone();
    let wrong = expect_error(
        &app.try_login(&email, "not the password at all").await,
        401,
        "invalid_credentials",
    );
    let unknown = expect_error(
        &app.try_login("nobody@example.com", &app.owner.password)
            .await,
        401,
        "invalid_credentials",
    );
    assert_eq!(
        wrong, unknown,
        "nothing tells a wrong password from an unknown email"
    );
    for _ in 2..=5 {
        expect_error(
            &app.try_login(&email, "still not the password").await,
            401,
            "invalid_credentials",
        );
    }
    // The sixth attempt is refused before the password is looked at, even the right one.
    let response = anonymous(&app, Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": email, "password": app.owner.password}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    expect_error(&read(response).await, 429, "login_locked");

    // The lock runs out (set in the past directly rather than waiting for it).
    let past = millis_now() - 1000;
    let changed = sql(
        &app,
        &format!("UPDATE users SET locked_until = {past} WHERE email = '{email}'"),
    )
    .await;
    assert_eq!(changed, 1);
    app.login(&email, &app.owner.password).await;
    assert_eq!(
        count(
            &app,
            "users",
            &format!("email = '{email}' AND failed_logins = 0 AND locked_until IS NULL")
        )
        .await,
        1,
        "a successful login resets the failure count and the lock"
    );
    // Four more failures are free again: the count started over.
    for _ in 1..=4 {
        expect_error(
            &app.try_login(&email, "wrong once more").await,
            401,
            "invalid_credentials",
        );
    }
    app.login(&email, &app.owner.password).await;
}

// ---------------------------------------------------------------------------------------------------
// Password reset.

#[tokio::test]
async fn password_reset_by_mail_works_once_and_ends_the_sessions_before_it() {
    let app = spawn_app().await;
    let email = app.owner.email.clone();
    let before = app.owner_session().await;
    for address in [email.as_str(), "nobody@example.com"] {
        let (status, _) = send(
            anonymous(&app, Method::POST, "/api/v1/auth/password/forgot")
                .json(&json!({ "email": address })),
        )
        .await;
        assert_eq!(status, 202, "the same answer for {address}");
    }
    assert_eq!(mail_count(&app, &email, "Reset your password").await, 1);
    assert_eq!(mail_count(&app, "nobody@example.com", "").await, 0);
    let token = app.mailed_token(&email, "Reset your password").await;
    let reset = |password: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            send(
                anonymous(app, Method::POST, "/api/v1/auth/password/reset")
                    .json(&json!({"token": token, "password": password})),
            )
            .await
        }
    };

    // A too-short password is refused before the token is used, and nothing changes.
    expect_invalid(&reset("short").await, "password");
    app.login(&email, &app.owner.password).await;
    let (status, body) = flags_as(&app, &before.token, None).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = reset("a brand new passphrase").await;
    assert_eq!(status, 204, "{body}");
    expect_error(&reset("yet another passphrase").await, 400, "invalid_token");
    expect_error(
        &app.try_login(&email, &app.owner.password).await,
        401,
        "invalid_credentials",
    );
    expect_error(
        &flags_as(&app, &before.token, None).await,
        401,
        "invalid_session",
    );
    let after = app.login(&email, "a brand new passphrase").await;
    let (status, body) = flags_as(&app, &after.token, None).await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------------------------------------------
// Session tokens: refresh, cookies, forgery.

#[tokio::test]
async fn refresh_rotates_the_token_within_the_session_until_logout() {
    let app = spawn_app().await;
    let old = app.owner_session().await;
    let (status, body) = send(app.as_user(&old, Method::POST, "/api/v1/auth/refresh", None)).await;
    assert_eq!(status, 200, "{body}");
    let new_token = body["token"].as_str().expect("token").to_owned();
    let new_csrf = body["csrfToken"].as_str().expect("csrf").to_owned();
    assert_ne!(new_token, old.token);
    assert_ne!(new_csrf, old.csrf);
    assert_eq!(body["user"]["id"], old.user_id);
    for token in [&old.token, &new_token] {
        let (status, body) = flags_as(&app, token, None).await;
        assert_eq!(status, 200, "both tokens of the session work: {body}");
    }
    let (status, _) = send(as_token(
        &app,
        &new_token,
        Method::POST,
        "/api/v1/auth/logout",
        None,
    ))
    .await;
    assert_eq!(status, 204);
    for token in [&old.token, &new_token] {
        expect_error(&flags_as(&app, token, None).await, 401, "invalid_session");
    }
    expect_error(
        &send(as_token(
            &app,
            &old.token,
            Method::POST,
            "/api/v1/auth/refresh",
            None,
        ))
        .await,
        401,
        "invalid_session",
    );
}

#[tokio::test]
async fn login_sets_a_secure_http_only_session_cookie_and_a_readable_csrf_cookie_that_logout_clears()
 {
    let app = spawn_app().await;
    let response = anonymous(&app, Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": app.owner.email, "password": app.owner.password}))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&response);
    let (status, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    let session = cookie(&cookies, "flagent_session");
    let session_attributes = attributes(session);
    for attribute in ["httponly", "secure", "samesite=lax", "path=/"] {
        assert!(
            session_attributes.iter().any(|a| a == attribute),
            "{attribute} in {session}"
        );
    }
    assert_eq!(cookie_value(session), body["token"]);
    let csrf = cookie(&cookies, "flagent_csrf");
    let csrf_attributes = attributes(csrf);
    assert!(
        !csrf_attributes.iter().any(|a| a == "httponly"),
        "the page's script reads the CSRF cookie: {csrf}"
    );
    for attribute in ["secure", "samesite=lax", "path=/"] {
        assert!(
            csrf_attributes.iter().any(|a| a == attribute),
            "{attribute} in {csrf}"
        );
    }
    assert_eq!(cookie_value(csrf), body["csrfToken"]);

    // Sign out with the cookie (and its CSRF value): both cookies are cleared.
    let cookie_header = format!("flagent_session={}", cookie_value(session));
    let response = anonymous(&app, Method::POST, "/api/v1/auth/logout")
        .header("Cookie", &cookie_header)
        .header("X-CSRF-Token", cookie_value(csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let cleared = set_cookies(&response);
    for name in ["flagent_session", "flagent_csrf"] {
        let c = cookie(&cleared, name);
        assert_eq!(cookie_value(c), "", "{c}");
        assert!(attributes(c).iter().any(|a| a == "max-age=0"), "{c}");
    }
    let (status, body) =
        send(anonymous(&app, Method::GET, "/api/v1/flags").header("Cookie", &cookie_header)).await;
    assert_eq!((status, code(&body)), (401, "invalid_session"), "{body}");
}

#[tokio::test]
async fn a_tampered_token_and_a_token_signed_with_another_secret_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner_session().await;
    let mut parts: Vec<String> = owner.token.split('.').map(str::to_owned).collect();
    assert_eq!(parts.len(), 3, "a JWT");
    // The first character of the signature carries six bits of it (the last may carry padding only).
    let first = parts[2].remove(0);
    parts[2].insert(0, if first == 'A' { 'B' } else { 'A' });
    let tampered = parts.join(".");
    expect_error(
        &flags_as(&app, &tampered, None).await,
        401,
        "invalid_session",
    );

    // Another server (another database, so another generated secret) signs a token whose claims name the
    // same user id and session id as a live session here.
    let other = spawn_app().await;
    let foreign = other.owner_session().await;
    assert_eq!(foreign.user_id, owner.user_id);
    assert_eq!(foreign.email, owner.email);
    let (status, body) = flags_as(&other, &foreign.token, None).await;
    assert_eq!(status, 200, "valid where it was signed: {body}");
    expect_error(
        &flags_as(&app, &foreign.token, None).await,
        401,
        "invalid_session",
    );
    let (status, body) = flags_as(&app, &owner.token, None).await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------------------------------------------
// Members of several tenants, removal, invitations.

#[tokio::test]
async fn a_member_of_two_tenants_names_the_tenant_and_sees_only_its_flags() {
    let app = spawn_app().await;
    let c = app.tenant_on_plan("tenant-c", "free").await;
    let email = "both@example.com";
    let user = app.member(email, "editor").await;
    let (status, body) = invite(&app, &app.b.admin, email, "viewer").await;
    assert_eq!(status, 201, "{body}");
    // The account exists: accepting needs no password and creates no second account.
    let token = app.mailed_token(email, "Join tenant-b").await;
    let (status, body) = accept(&app, json!({ "token": token })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], user.user_id);
    let roles: Vec<(&str, &str)> = body["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("default", "editor"), ("tenant-b", "viewer")]);
    assert_eq!(count(&app, "users", &format!("email = '{email}'")).await, 1);

    app.create_flag("only-in-a").await;
    expect_ok(
        app.call(
            &app.b.admin,
            None,
            Method::POST,
            "/api/v1/flags",
            Some(json!({"key": "only-in-b", "description": "b"})),
        )
        .await,
    );
    expect_error(
        &flags_as(&app, &user.token, None).await,
        400,
        "tenant_required",
    );
    let (a_id, b_id) = (app.a.id.0.to_string(), app.b.id.0.to_string());
    for tenant in [a_id.as_str(), "default"] {
        let body = expect_ok(flags_as(&app, &user.token, Some(tenant)).await);
        assert_eq!(flag_keys(&body), ["only-in-a"], "X-Tenant-ID: {tenant}");
    }
    for tenant in [b_id.as_str(), "tenant-b"] {
        let body = expect_ok(flags_as(&app, &user.token, Some(tenant)).await);
        assert_eq!(flag_keys(&body), ["only-in-b"], "X-Tenant-ID: {tenant}");
    }
    let c_id = c.id.0.to_string();
    for tenant in [c_id.as_str(), "tenant-c", "999999", "no-such-tenant"] {
        expect_error(
            &flags_as(&app, &user.token, Some(tenant)).await,
            404,
            "tenant_not_found",
        );
    }
    // The role is the one held in the tenant named.
    let create = |tenant: &str, key: &str| {
        send(
            as_token(
                &app,
                &user.token,
                Method::POST,
                "/api/v1/flags",
                Some(tenant),
            )
            .json(&json!({"key": key, "description": "by a member of two tenants"})),
        )
    };
    let (status, body) = create("default", "editor-in-a").await;
    assert_eq!(status, 200, "{body}");
    expect_error(&create("tenant-b", "viewer-in-b").await, 403, "forbidden");
}

#[tokio::test]
async fn a_removed_member_is_refused_from_the_next_request_on() {
    let app = spawn_app().await;
    let gone = app.member("gone@example.com", "editor").await;
    let (status, body) = flags_as(&app, &gone.token, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .admin_delete(&format!("/api/v1/members/{}", gone.user_id))
        .await;
    assert_eq!(status, 204, "{body}");
    expect_error(
        &flags_as(&app, &gone.token, None).await,
        404,
        "tenant_not_found",
    );
    let a = app.a.id.0.to_string();
    expect_error(
        &flags_as(&app, &gone.token, Some(&a)).await,
        404,
        "tenant_not_found",
    );
    expect_error(
        &app.admin_delete(&format!("/api/v1/members/{}", gone.user_id))
            .await,
        404,
        "member_not_found",
    );
}

#[tokio::test]
async fn invitations_work_once_stop_when_revoked_need_a_password_for_new_accounts_and_not_for_members()
 {
    let app = spawn_app().await;
    let admin = app.a.admin.clone();

    // Accepted twice.
    let (status, body) = invite(&app, &admin, "twice@example.com", "viewer").await;
    assert_eq!(status, 201, "{body}");
    let token = app.mailed_token("twice@example.com", "Join").await;
    let accepting = json!({"token": token, "password": TEST_PASSWORD, "name": "Twice"});
    let (status, body) = accept(&app, accepting.clone()).await;
    assert_eq!(status, 200, "{body}");
    expect_error(&accept(&app, accepting).await, 400, "invalid_token");

    // Revoked before it is accepted.
    let (status, invitation) = invite(&app, &admin, "revoked@example.com", "editor").await;
    assert_eq!(status, 201, "{invitation}");
    let id = invitation["id"].as_i64().expect("invitation id");
    let (status, body) = app.admin_delete(&format!("/api/v1/invitations/{id}")).await;
    assert_eq!(status, 204, "{body}");
    let token = app.mailed_token("revoked@example.com", "Join").await;
    expect_error(
        &accept(&app, json!({"token": token, "password": TEST_PASSWORD})).await,
        400,
        "invalid_token",
    );
    assert_eq!(
        count(&app, "users", "email = 'revoked@example.com'").await,
        0
    );
    let pending = expect_ok(app.admin_get("/api/v1/invitations").await);
    assert!(
        !pending.to_string().contains("revoked@example.com"),
        "{pending}"
    );

    // A new account needs a password that meets the policy; a refused attempt uses nothing up.
    let (status, body) = invite(&app, &admin, "new@example.com", "viewer").await;
    assert_eq!(status, 201, "{body}");
    let token = app.mailed_token("new@example.com", "Join").await;
    expect_invalid(&accept(&app, json!({ "token": token })).await, "password");
    expect_invalid(
        &accept(&app, json!({"token": token, "password": "short"})).await,
        "password",
    );
    assert_eq!(count(&app, "users", "email = 'new@example.com'").await, 0);
    let (status, body) = accept(&app, json!({"token": token, "password": TEST_PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    app.login("new@example.com", TEST_PASSWORD).await;

    // Members cannot be invited again, nor can an address with a pending invitation.
    for member in ["twice@example.com", app.owner.email.as_str()] {
        expect_error(
            &invite(&app, &admin, member, "viewer").await,
            409,
            "already_member",
        );
    }
    let (status, body) = invite(&app, &admin, "pending@example.com", "viewer").await;
    assert_eq!(status, 201, "{body}");
    expect_error(
        &invite(&app, &admin, "pending@example.com", "editor").await,
        409,
        "already_member",
    );
}

#[tokio::test]
async fn member_changes_are_audited_with_their_actor_and_the_chain_stays_intact() {
    let app = spawn_app().await;
    let owner = app.owner_session().await;
    let key_actor = app.admin_actor();

    let (status, invitation) = invite(&app, &app.a.admin, "audited@example.com", "editor").await;
    assert_eq!(status, 201, "{invitation}");
    let token = app.mailed_token("audited@example.com", "Join").await;
    let (status, body) = accept(&app, json!({"token": token, "password": TEST_PASSWORD})).await;
    assert_eq!(status, 200, "{body}");
    let member = body["user"]["id"].as_i64().expect("user id");
    let (status, body) = send(
        app.as_user(
            &owner,
            Method::PUT,
            &format!("/api/v1/members/{member}"),
            None,
        )
        .json(&json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, withdrawn) = invite(&app, &app.a.admin, "never@example.com", "viewer").await;
    assert_eq!(status, 201, "{withdrawn}");
    let withdrawn = withdrawn["id"].as_i64().expect("invitation id");
    let (status, _) = app
        .admin_delete(&format!("/api/v1/invitations/{withdrawn}"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.admin_delete(&format!("/api/v1/members/{member}")).await;
    assert_eq!(status, 204);

    let page = expect_ok(app.admin_get("/api/v1/audit?limit=500").await);
    let events = page["events"].as_array().expect("events");
    let find = |action: &str, resource_id: String| {
        let matching: Vec<&Value> = events
            .iter()
            .filter(|e| e["action"] == action && e["resourceId"] == resource_id.as_str())
            .collect();
        assert_eq!(matching.len(), 1, "one {action} of {resource_id}: {page}");
        matching[0].clone()
    };
    let key_id = |e: &Value| e["actorId"].as_str().unwrap_or_default().to_owned();
    let created = find("invitation.create", invitation["id"].to_string());
    assert_eq!(
        (created["actor"].as_str(), created["actorType"].as_str()),
        (Some(key_actor.as_str()), Some("api_key"))
    );
    assert_eq!(created["after"]["email"], "audited@example.com");
    let joined = find("member.join", member.to_string());
    assert_eq!(joined["actor"], "user:audited@example.com");
    assert_eq!(joined["actorType"], "user");
    assert_eq!(joined["actorId"], member.to_string());
    assert_eq!(joined["after"]["role"], "editor");
    assert_eq!(
        joined["ip"], "127.0.0.1",
        "the origin of the accepting request"
    );
    let role = find("member.role", member.to_string());
    assert_eq!(role["actor"], format!("user:{}", owner.email));
    assert_eq!(role["actorType"], "user");
    assert_eq!(role["actorId"], owner.user_id.to_string());
    assert_eq!(
        (
            role["before"]["role"].as_str(),
            role["after"]["role"].as_str()
        ),
        (Some("editor"), Some("viewer"))
    );
    let revoked = find("invitation.revoke", withdrawn.to_string());
    assert_eq!(revoked["actor"], key_actor);
    assert_eq!(revoked["actorType"], "api_key");
    assert_eq!(revoked["before"]["email"], "never@example.com");
    let removed = find("member.remove", member.to_string());
    assert_eq!(removed["actor"], key_actor);
    assert_eq!(removed["actorType"], "api_key");
    assert_eq!(key_id(&removed), key_id(&revoked));
    assert_eq!(removed["after"], Value::Null);
    assert_eq!(removed["before"]["email"], "audited@example.com");

    let report = expect_ok(app.admin_get("/api/v1/audit/verify").await);
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["checked"], events.len(), "{report}");
}
