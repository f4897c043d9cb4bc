//! The admin UI's pages over HTTP: who is sent to sign in, what each role is shown, the security
//! headers, and that a member of one tenant cannot read another's pages. (The browser suite in
//! `web/ui/browser-tests` drives the same pages in Chromium.)

use crate::helpers::{Session, TestApp, read, spawn_app};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION};
use reqwest::{Method, Response, redirect};
use serde_json::json;

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

async fn page(app: &TestApp, session: Option<&Session>, path: &str) -> Response {
    let mut req = browser().get(format!("{}{path}", app.address));
    if let Some(session) = session {
        req = req.header("Cookie", format!("flagent_session={}", session.token));
    }
    req.send().await.expect("request")
}

/// A page as `session` sees it: status and HTML. Every page answered 200 must carry the strict
/// Content-Security-Policy.
pub(crate) async fn html(app: &TestApp, session: &Session, path: &str) -> (u16, String) {
    let response = page(app, Some(session), path).await;
    let status = response.status().as_u16();
    if status == 200 {
        let csp = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("script-src 'self';") && !csp.contains("unsafe"),
            "{csp}"
        );
    }
    (status, response.text().await.expect("body"))
}

/// The key of the tenant the owner signs in to (tenant A).
pub(crate) async fn tenant_a_key(app: &TestApp) -> String {
    let (status, body) = app.try_login(&app.owner.email, &app.owner.password).await;
    assert_eq!(status, 200, "{body}");
    body["tenants"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["id"].as_i64() == Some(app.a.id.0))
        .and_then(|t| t["key"].as_str())
        .expect("tenant A among the owner's tenants")
        .to_owned()
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_brought_back() {
    let app = spawn_app().await;
    let response = page(&app, None, "/").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/ui");

    let response = page(&app, None, "/ui/t/anything/flags?env=production").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()[LOCATION],
        "/ui/login?next=%2Fui%2Ft%2Fanything%2Fflags%3Fenv%3Dproduction"
    );

    let response = page(&app, None, "/ui/login?next=%2Fui%2Ft%2Fx%2Fflags").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe"),
        "{csp}"
    );
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"data-next="/ui/t/x/flags""#), "{body}");

    // Only paths of the UI are followed after signing in: anything else would be an open redirect.
    // Nor an address with `{token}`, which the sign-in form would fill with the session token.
    for next in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example",
        "%2Fapi%2Fv1%2Fkeys",
        "%2Fui%2Fx%3Ft%3D%7Btoken%7D",
    ] {
        let body = page(&app, None, &format!("/ui/login?next={next}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(body.contains(r#"data-next="/ui""#), "next={next}: {body}");
    }

    // An expired or forged session is sent to sign in, not shown an error.
    let forged = Session {
        user_id: 1,
        email: "x@example.com".into(),
        token: "not-a-token".into(),
        csrf: String::new(),
    };
    let response = page(&app, Some(&forged), "/ui").await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/ui/login")
    );
}

#[tokio::test]
async fn the_flags_page_shows_every_environment_and_edit_controls_only_to_writers() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let owner = app.owner_session().await;
    let home = page(&app, Some(&owner), "/ui").await;
    assert_eq!(home.status(), 303);
    assert_eq!(
        home.headers()[LOCATION],
        format!("/ui/t/{tenant}/flags").as_str()
    );

    let flag = app.create_flag("new-checkout").await;
    let id = flag["id"].as_i64().unwrap();
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/flags",
            Some(json!({"key": "dark-mode", "description": "Night <theme>"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let response = page(
        &app,
        Some(&owner),
        &format!("/ui/t/{tenant}/flags?env=production"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a style nonce in the policy");
    assert!(
        body.contains(&format!(r#"<style nonce="{nonce}">"#)),
        "{body}"
    );
    assert!(body.contains("new-checkout") && body.contains("dark-mode"));
    assert!(body.contains("Night &#60;theme&#62;") && !body.contains("Night <theme>"));
    // new-checkout is on in production only; dark-mode is off everywhere.
    let row = |key: &str| {
        let start = body.find(&format!(">{key}</a>")).expect("the flag's row");
        let end = body[start..].find("</tr>").unwrap() + start;
        body[start..end].to_owned()
    };
    assert_eq!(
        row("new-checkout").matches("status on").count(),
        1,
        "{}",
        row("new-checkout")
    );
    assert_eq!(row("dark-mode").matches("status on").count(), 0);
    assert!(body.contains("New flag"), "the owner may create flags");
    assert!(
        body.contains(
            r#"aria-current="true"><span class="dot" aria-hidden="true"></span>Production"#
        )
    );

    let (_, filtered) = html(&app, &owner, &format!("/ui/t/{tenant}/flags?q=NIGHT")).await;
    assert!(filtered.contains("dark-mode") && !filtered.contains(">new-checkout<"));

    let viewer = app.member("viewer@example.com", "viewer").await;
    let (status, body) = html(&app, &viewer, &format!("/ui/t/{tenant}/flags")).await;
    assert_eq!(status, 200);
    assert!(body.contains("new-checkout"));
    assert!(!body.contains("New flag") && !body.contains(r#"data-api="/api/v1/flags""#));
    // Settings the role does not open are not offered.
    assert!(!body.contains(">API keys</a>") && !body.contains(">Audit log</a>"));
    let (_, body) = html(&app, &owner, &format!("/ui/t/{tenant}/flags")).await;
    assert!(body.contains(">API keys</a>") && body.contains(">Audit log</a>"));
}

#[tokio::test]
async fn a_member_of_one_tenant_cannot_read_another_tenants_pages() {
    let app = spawn_app().await;
    tenant_b_flag(&app, "b-secret", "tenant B only").await;
    let owner = app.owner_session().await;
    for tenant in ["tenant-b".to_owned(), app.b.id.0.to_string()] {
        let (status, body) = html(&app, &owner, &format!("/ui/t/{tenant}/flags")).await;
        assert!(status == 403 || status == 404, "{tenant}: {status}");
        assert!(
            !body.contains("b-secret") && !body.contains("tenant B only"),
            "{body}"
        );
    }
    let response = page(&app, Some(&owner), "/ui/switch?tenant=..%2F..%2Fapi").await;
    assert_eq!(response.headers()[LOCATION], "/ui/t/....api/flags");
}

#[tokio::test]
async fn static_assets_are_cacheable_for_good_and_unknown_ones_are_not_found() {
    let app = spawn_app().await;
    let response = page(&app, None, "/ui/static/app.js").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(response.text().await.unwrap().contains("X-CSRF-Token"));
    assert_eq!(
        page(&app, None, "/ui/static/..%2FCargo.toml")
            .await
            .status(),
        404
    );
    assert_eq!(
        page(&app, None, "/ui/static/nothing.css").await.status(),
        404
    );
}

/// Creates a flag from the experiment template in tenant A; returns its id.
async fn experiment_flag(app: &TestApp, key: &str) -> i64 {
    let (status, flag) = app
        .admin(
            Method::POST,
            "/api/v1/flags",
            Some(json!({"key": key, "description": "d", "template": "experiment"})),
        )
        .await;
    assert_eq!(status, 200, "{flag}");
    flag["id"].as_i64().unwrap()
}

/// Creates a flag in tenant B with its admin key; returns its id.
async fn tenant_b_flag(app: &TestApp, key: &str, description: &str) -> i64 {
    let (status, flag) = read(
        app.request(Method::POST, "/api/v1/flags", &app.b.admin)
            .json(&json!({"key": key, "description": description}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{flag}");
    flag["id"].as_i64().expect("the flag's id")
}

#[tokio::test]
async fn the_flag_page_offers_editing_to_writers_only_and_only_for_the_tenants_own_flags() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let id = experiment_flag(&app, "split").await;
    let owner = app.owner_session().await;
    let path = format!("/ui/t/{tenant}/flags/{id}?env=production");
    let (status, body) = html(&app, &owner, &path).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Everyone") && body.contains(">control</label>"));
    assert!(body.contains(&format!(r#"data-api="/api/v1/flags/{id}/segments/"#)));
    // Production asks before a change; the question names the environment.
    assert!(
        body.contains(r#"data-confirm="Turn this flag on in Production?""#),
        "{body}"
    );

    let viewer = app.member("reader@example.com", "viewer").await;
    let (status, body) = html(&app, &viewer, &path).await;
    assert_eq!(status, 200);
    assert!(body.contains("Everyone") && body.contains("control"));
    assert!(
        !body.contains("data-api=\"/api/v1/flags"),
        "a viewer gets no edit forms"
    );

    // Tenant B's flag through tenant A's pages: not found, and nothing of it shown.
    let b_id = tenant_b_flag(&app, "b-only", "secret of b").await;
    let (status, body) = html(&app, &owner, &format!("/ui/t/{tenant}/flags/{b_id}")).await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("b-only") && !body.contains("secret of b"));
}

#[tokio::test]
async fn the_debug_console_explains_an_evaluation_and_refuses_bad_context_politely() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let id = experiment_flag(&app, "split").await;
    let (status, body) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let owner = app.owner_session().await;
    let (_, expected) = app
        .call(
            &app.a.admin,
            Some("development"),
            Method::POST,
            "/api/v1/evaluation",
            Some(
                json!({"flagKey": "split", "entityID": "user-7", "entityContext": {"plan": "pro"}}),
            ),
        )
        .await;
    let variant = expected["variantKey"]
        .as_str()
        .expect("a variant")
        .to_owned();

    let context = "%7B%22plan%22%3A%22pro%22%7D";
    let (status, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/debug?env=development&flag=split&entity=user-7&context={context}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            r#"variant <strong class="flag-key">{variant}</strong>"#
        )),
        "{body}"
    );
    assert!(body.contains(r#"<span class="reason">SPLIT</span>"#));
    assert!(body.contains("bucket ") && body.contains(r#"<li class="matched">"#));

    let (status, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/debug?env=development&flag=split&entity=user-7&context=%7Bnope"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("The context is not valid JSON"), "{body}");
    assert!(!body.contains("<h2 id=\"results-h\">"));
}

#[tokio::test]
async fn the_signed_out_account_pages_carry_the_mailed_token_and_follow_the_signup_switch() {
    let app = spawn_app().await;
    let response = page(&app, None, "/verify-email?token=abc%22%3E%3Cscript%3E").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"data-api="/api/v1/auth/verify-email""#));
    assert!(
        body.contains(r#"name="token" value="abc&#34;&#62;&#60;script&#62;""#),
        "{body}"
    );

    let body = page(&app, None, "/reset-password?token=t0k3n")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#"data-api="/api/v1/auth/password/reset""#));
    assert!(body.contains(r#"value="t0k3n""#) && body.contains(r#"type="password""#));

    let body = page(&app, None, "/ui/login?verified=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("Your email address is confirmed"));

    // The test application has signup closed unless a test opens it.
    let closed = crate::helpers::spawn_app_with(|s| s.auth.signup_enabled = false).await;
    let response = page(&closed, None, "/ui/signup").await;
    assert_eq!(response.status(), 404);
    let login = page(&closed, None, "/ui/login").await.text().await.unwrap();
    assert!(!login.contains("/ui/signup"));
    let open = crate::helpers::spawn_app_with(|s| s.auth.signup_enabled = true).await;
    let response = page(&open, None, "/ui/signup").await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(r#"data-api="/api/v1/signup""#)
    );
}

#[tokio::test]
async fn the_flag_page_compares_the_flag_across_environments() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let id = experiment_flag(&app, "compared").await;
    let owner = app.owner_session().await;
    let path = format!("/ui/t/{tenant}/flags/{id}?env=development");
    let row = |body: &str, env: &str| {
        let start = body
            .find(&format!("</span>{env}</a></th>"))
            .expect("the row");
        let end = body[start..].find("</tr>").unwrap() + start;
        body[start..end].to_owned()
    };
    let (_, body) = html(&app, &owner, &path).await;
    assert!(row(&body, "Production").contains("Same as here"), "{body}");

    // A constraint added in production only makes the environments differ; turning production on
    // shows there.
    let (_, flag) = app
        .call(
            &app.a.admin,
            Some("production"),
            Method::GET,
            &format!("/api/v1/flags/{id}"),
            None,
        )
        .await;
    let segment = flag["segments"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .admin_prod(
            Method::POST,
            &format!("/api/v1/flags/{id}/segments/{segment}/constraints"),
            Some(json!({"property": "country", "operator": "EQ", "value": "\"CA\""})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .admin_prod(
            Method::PUT,
            &format!("/api/v1/flags/{id}/enabled"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = html(&app, &owner, &path).await;
    let production = row(&body, "Production");
    assert!(
        production.contains("<strong>Differs</strong>") && production.contains("status on"),
        "{production}"
    );
    assert!(row(&body, "Development").contains("this page"));
}
