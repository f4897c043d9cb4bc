//! Hosted signup: a pending tenant on the free plan activated by the owner's verification link, the
//! walk-through from signing up to an evaluation, validation, and the rate limits per IP and per email
//! domain.

use crate::accounts::{anonymous, count, send};
use crate::helpers::{
    SegmentSpec, TEST_PASSWORD, TestApp, expect_error, expect_invalid, expect_ok, read, spawn_app,
};
use flagent_config::Settings;
use flagent_server::Application;
use flagent_testkit::TestDb;
use reqwest::Method;
use serde_json::{Value, json};

/// `POST /api/v1/signup` with `email`, [`TEST_PASSWORD`] and `organization`.
async fn sign_up(app: &TestApp, email: &str, organization: &str) -> (u16, Value) {
    sign_up_with(
        app,
        json!({"email": email, "password": TEST_PASSWORD, "name": "Ada", "organization": organization}),
    )
    .await
}

async fn sign_up_with(app: &TestApp, body: Value) -> (u16, Value) {
    send(anonymous(app, Method::POST, "/api/v1/signup").json(&body)).await
}

async fn verify_email(app: &TestApp, token: &str) -> (u16, Value) {
    send(anonymous(app, Method::POST, "/api/v1/auth/verify-email").json(&json!({ "token": token })))
        .await
}

/// The status of tenant `key` as stored.
async fn tenant_status(app: &TestApp, condition: &str) -> Option<&'static str> {
    for status in ["pending", "active", "suspended"] {
        if count(
            app,
            "tenants",
            &format!("{condition} AND status = '{status}'"),
        )
        .await
            == 1
        {
            return Some(status);
        }
    }
    None
}

#[tokio::test]
async fn signup_verification_and_the_first_evaluation_with_a_key_of_a_new_environment() {
    let app = spawn_app().await;
    let email = "ada@acme.test";
    let (status, body) = sign_up(&app, email, "Acme").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["tenantKey"], "acme");
    let tenant = body["tenantId"].as_i64().expect("tenant id");
    assert_eq!(
        tenant_status(&app, &format!("id = {tenant}")).await,
        Some("pending")
    );
    expect_error(
        &app.try_login(email, TEST_PASSWORD).await,
        403,
        "email_not_verified",
    );

    let token = app.mailed_token(email, "Confirm your email address").await;
    let (status, body) = verify_email(&app, &token).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        tenant_status(&app, &format!("id = {tenant}")).await,
        Some("active")
    );

    let (status, body) = app.try_login(email, TEST_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["emailVerified"], true);
    assert_eq!(body["user"]["platformAdmin"], false);
    let tenants = body["tenants"].as_array().expect("tenants");
    assert_eq!(tenants.len(), 1, "{body}");
    assert_eq!(tenants[0]["id"], tenant);
    assert_eq!(tenants[0]["key"], "acme");
    assert_eq!(tenants[0]["status"], "active");
    assert_eq!(tenants[0]["role"], "owner");
    let session = body["token"].as_str().expect("token").to_owned();

    let (status, env) = send(
        app.request(
            Method::POST,
            "/api/v1/projects/default/environments",
            &session,
        )
        .json(&json!({"key": "staging", "name": "Staging", "color": "#1565c0"})),
    )
    .await;
    assert_eq!(status, 201, "{env}");
    let (status, key) = send(
        app.request(Method::POST, "/api/v1/keys", &session)
            .json(&json!({
                "name": "staging server", "scopes": ["evaluate"], "environment": "staging"
            })),
    )
    .await;
    assert_eq!(status, 200, "{key}");
    assert_eq!(key["environment"], "staging");
    let staging_key = key["key"].as_str().expect("plaintext key").to_owned();
    let everyone = SegmentSpec {
        constraints: &[],
        rollout: 100,
        percents: &[100],
    };
    app.build_flag(&session, "staging", "beta-banner", &["on"], &[everyone])
        .await;
    let result = expect_ok(
        app.evaluate_with(
            &staging_key,
            json!({"entityID": "user-1", "flagKey": "beta-banner"}),
        )
        .await,
    );
    assert_eq!(result["variantKey"], "on", "{result}");
    // The key is bound to staging, the tenant's other environments are out of its reach.
    let (status, body) = send(
        app.request(Method::POST, "/api/v1/evaluation", &staging_key)
            .header("X-Environment", "production")
            .json(&json!({"entityID": "user-1", "flagKey": "beta-banner"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    // And another tenant's keys do not see the new tenant's flag.
    let other = expect_ok(
        app.evaluate_with(
            &app.a.eval,
            json!({"entityID": "user-1", "flagKey": "beta-banner"}),
        )
        .await,
    );
    assert_ne!(other["variantKey"], "on", "{other}");
}

#[tokio::test]
async fn the_new_tenant_is_on_the_free_plan_and_its_verification_link_works_once() {
    let app = spawn_app().await;
    let email = "grace@hopper.test";
    let (status, body) = sign_up(&app, email, "Hopper Labs").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tenantKey"], "hopper-labs");
    let tenant = body["tenantId"].as_i64().expect("tenant id");
    assert_eq!(
        count(&app, "tenants", &format!("id = {tenant} AND plan = 'free'")).await,
        1
    );
    let token = app.mailed_token(email, "Confirm").await;
    let (status, body) = verify_email(&app, &token).await;
    assert_eq!(status, 204, "{body}");
    expect_error(&verify_email(&app, &token).await, 400, "invalid_token");
    expect_error(
        &verify_email(&app, "not-a-token").await,
        400,
        "invalid_token",
    );
    // A password reset token is no verification token (and trying does not use it up).
    let (status, _) = send(
        anonymous(&app, Method::POST, "/api/v1/auth/password/forgot")
            .json(&json!({ "email": email })),
    )
    .await;
    assert_eq!(status, 202);
    let reset = app.mailed_token(email, "Reset your password").await;
    expect_error(&verify_email(&app, &reset).await, 400, "invalid_token");
    let (status, body) = send(
        anonymous(&app, Method::POST, "/api/v1/auth/password/reset")
            .json(&json!({"token": reset, "password": TEST_PASSWORD})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let owner = app.login(email, TEST_PASSWORD).await;
    let usage = expect_ok(send(app.as_user(&owner, Method::GET, "/api/v1/usage", None)).await);
    assert_eq!(usage["plan"]["key"], "free", "{usage}");
}

#[tokio::test]
async fn invalid_signups_name_the_field_and_create_nothing() {
    let app = spawn_app().await;
    let (tenants, users) = (
        count(&app, "tenants", "1 = 1").await,
        count(&app, "users", "1 = 1").await,
    );
    let cases = [
        (
            json!({"email": "not-an-email", "password": TEST_PASSWORD, "organization": "Acme"}),
            "email",
        ),
        (
            json!({"email": "ada@acme.test", "password": "short", "organization": "Acme"}),
            "password",
        ),
        (
            json!({"email": "ada@acme.test", "password": TEST_PASSWORD, "organization": "   "}),
            "organization",
        ),
        (
            json!({"email": "ada@acme.test", "password": TEST_PASSWORD}),
            "organization",
        ),
    ];
    for (body, field) in cases {
        expect_invalid(&sign_up_with(&app, body).await, field);
    }
    assert_eq!(count(&app, "tenants", "1 = 1").await, tenants);
    assert_eq!(count(&app, "users", "1 = 1").await, users);
    assert_eq!(
        crate::accounts::mail_count(&app, "ada@acme.test", "").await,
        0
    );
}

#[tokio::test]
async fn a_registered_email_is_taken_and_organisations_of_the_same_name_get_distinct_keys() {
    let app = spawn_app().await;
    let (status, first) = sign_up(&app, "ada@acme.test", "Acme").await;
    assert_eq!(status, 201, "{first}");
    let (tenants, users) = (
        count(&app, "tenants", "1 = 1").await,
        count(&app, "users", "1 = 1").await,
    );
    expect_error(
        &sign_up(&app, "ADA@acme.test", "Acme Again").await,
        409,
        "email_taken",
    );
    let owner = app.owner.email.clone();
    expect_error(&sign_up(&app, &owner, "Mine").await, 409, "email_taken");
    assert_eq!(count(&app, "tenants", "1 = 1").await, tenants);
    assert_eq!(count(&app, "users", "1 = 1").await, users);

    let (status, second) = sign_up(&app, "bob@other.test", "ACME").await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(
        (first["tenantKey"].as_str(), second["tenantKey"].as_str()),
        (Some("acme"), Some("acme-2"))
    );
    assert_ne!(first["tenantId"], second["tenantId"]);
    let (status, third) = sign_up(&app, "carol@b.test", "Tenant B").await;
    assert_eq!(status, 201, "{third}");
    assert_eq!(
        third["tenantKey"], "tenant-b-2",
        "an existing tenant's key is not reused"
    );
}

#[tokio::test]
async fn the_eleventh_signup_from_one_address_within_the_hour_is_rate_limited() {
    let app = spawn_app().await;
    for i in 1..=10 {
        let (status, body) =
            sign_up(&app, &format!("user{i}@ip{i}.test"), &format!("Org {i}")).await;
        assert_eq!(status, 201, "signup {i}: {body}");
    }
    let users = count(&app, "users", "1 = 1").await;
    let response = anonymous(&app, Method::POST, "/api/v1/signup")
        .json(&json!({"email": "user11@ip11.test", "password": TEST_PASSWORD, "organization": "Org 11"}))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("retry-after"));
    expect_error(&read(response).await, 429, "rate_limited");
    assert_eq!(count(&app, "users", "1 = 1").await, users);
    assert_eq!(count(&app, "users", "email = 'user11@ip11.test'").await, 0);
}

/// A server with chosen signup limits on its own database (nothing seeded beyond the bootstrap).
struct Limited {
    address: String,
    client: reqwest::Client,
    _db: TestDb,
}

impl Limited {
    /// Starts the application exactly as `spawn_app` does, with other signup limits per hour.
    async fn spawn(per_ip: u32, per_domain: u32) -> Limited {
        let db = TestDb::new().await;
        let mut settings = Settings::for_tests(db.url());
        settings.auth.signups_per_ip_per_hour = per_ip;
        settings.auth.signups_per_domain_per_hour = per_domain;
        let app = Application::build(settings)
            .await
            .expect("build application");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Limited {
            address,
            client: reqwest::Client::new(),
            _db: db,
        }
    }

    async fn sign_up(&self, email: &str, organization: &str) -> (u16, Value) {
        let body = json!({"email": email, "password": TEST_PASSWORD, "organization": organization});
        let req = self
            .client
            .post(format!("{}/api/v1/signup", self.address))
            .json(&body);
        send(req).await
    }
}

#[tokio::test]
async fn signups_per_email_domain_are_limited_whatever_the_address() {
    let defaults = Settings::for_tests("sqlite::memory:").auth;
    assert_eq!(
        (
            defaults.signups_per_ip_per_hour,
            defaults.signups_per_domain_per_hour
        ),
        (10, 20)
    );
    // Every test request comes from 127.0.0.1: lift the per-IP limit to reach the per-domain one.
    let server = Limited::spawn(100, defaults.signups_per_domain_per_hour).await;
    for i in 1..=20 {
        let (status, body) = server
            .sign_up(&format!("user{i}@acme.test"), &format!("Acme {i}"))
            .await;
        assert_eq!(status, 201, "signup {i}: {body}");
    }
    // The domain is compared after normalisation.
    expect_error(
        &server.sign_up("user21@ACME.test", "Acme 21").await,
        429,
        "rate_limited",
    );
    let (status, body) = server.sign_up("user1@globex.test", "Globex").await;
    assert_eq!(status, 201, "another domain is not limited: {body}");
}

#[tokio::test]
async fn the_verification_link_of_a_signup_an_operator_deleted_still_proves_the_address() {
    let app = spawn_app().await;
    let email = "late@acme.test";
    let (status, body) = sign_up(&app, email, "Acme").await;
    assert_eq!(status, 201, "{body}");
    let tenant = body["tenantId"].as_i64().expect("tenant id");
    let operator = app.owner_session().await;
    let (status, body) = send(app.as_user(
        &operator,
        Method::DELETE,
        &format!("/api/v1/admin/tenants/{tenant}"),
        None,
    ))
    .await;
    assert_eq!(status, 204, "{body}");
    let token = app.mailed_token(email, "Confirm").await;
    let (status, body) = verify_email(&app, &token).await;
    assert_eq!(
        status, 204,
        "nothing left to activate, the address is proven: {body}"
    );
    assert_eq!(count(&app, "tenants", &format!("id = {tenant}")).await, 0);
    let (status, body) = app.try_login(email, TEST_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenants"], json!([]), "{body}");
}
