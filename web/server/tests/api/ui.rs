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

/// The page's Content-Security-Policy, asserted strict: scripts from the server only, nothing unsafe.
fn strict_policy(response: &Response) -> String {
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe"),
        "{csp}"
    );
    csp
}

/// A page as `session` sees it: status and HTML. Every page answered 200 must carry the strict
/// Content-Security-Policy.
pub(crate) async fn html(app: &TestApp, session: &Session, path: &str) -> (u16, String) {
    let response = page(app, Some(session), path).await;
    let status = response.status().as_u16();
    if status == 200 {
        strict_policy(&response);
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
    strict_policy(&response);
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
    app.enable_in("production", id).await;
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
    let csp = strict_policy(&response);
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
pub(crate) async fn experiment_flag(app: &TestApp, key: &str) -> i64 {
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
pub(crate) async fn tenant_b_flag(app: &TestApp, key: &str, description: &str) -> i64 {
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
    app.enable_in("development", id).await;
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
    app.enable_in("production", id).await;
    let (_, body) = html(&app, &owner, &path).await;
    let production = row(&body, "Production");
    assert!(
        production.contains("<strong>Differs</strong>") && production.contains("status on"),
        "{production}"
    );
    assert!(row(&body, "Development").contains("this page"));
}

/// A change sent the way the flag page's forms send it: the session cookie with its CSRF token, and
/// the page's tenant and environment.
async fn send_as_page(
    app: &TestApp,
    session: &Session,
    tenant: &str,
    method: Method,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    read(
        browser()
            .request(method, format!("{}{path}", app.address))
            .header("Cookie", format!("flagent_session={}", session.token))
            .header("X-CSRF-Token", &session.csrf)
            .header("X-Tenant-ID", tenant)
            .header("X-Environment", "development")
            .json(&body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

/// The opening tag of the first element of `body` containing `marker`.
fn tag_with<'a>(body: &'a str, marker: &str) -> &'a str {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {body}"));
    let start = body[..at].rfind('<').expect("a tag");
    let end = at + body[at..].find('>').expect("the tag's end");
    &body[start..=end]
}

#[tokio::test]
async fn the_flag_page_shows_prerequisites_and_the_default_variant_and_only_flag_editors_change_them()
 {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let gate = experiment_flag(&app, "gate").await;
    let id = experiment_flag(&app, "checkout").await;
    let body = json!({"dependsOn": [{"flagKey": "gate", "variantKey": "treatment"}], "defaultVariant": "control"});
    let (status, flag) = app
        .admin(Method::PUT, &format!("/api/v1/flags/{id}"), Some(body))
        .await;
    assert_eq!(status, 200, "{flag}");
    let version = flag["version"].as_i64().unwrap();
    let path = format!("/ui/t/{tenant}/flags/{id}?env=development");

    let owner = app.owner_session().await;
    let (status, body) = html(&app, &owner, &path).await;
    assert_eq!(status, 200, "{body}");
    let gate_link = format!(
        r#"<a class="flag-key" href="/ui/t/{tenant}/flags/{gate}?project=default&#38;env=development">gate</a>"#
    );
    assert!(body.contains(&gate_link), "{body}");
    assert!(body.contains(r#"to yield variant <strong class="flag-key">treatment</strong>"#));
    // The default variant is chosen in its select; "none" clears it.
    assert!(body.contains(r#"<select id="default-variant" name="defaultVariant">"#));
    assert!(body.contains(r#"<option value="control" selected>control</option>"#));
    assert!(body.contains(r#"<option value="">none</option>"#));
    // Adding keeps the existing prerequisite (index 0) and the version; the new one is index 1, its
    // variants offered per flag; removing sends the list without it.
    assert!(body.contains(r#"<input type="hidden" name="dependsOn.0.flagKey" value="gate">"#));
    assert!(
        body.contains(r#"<select id="new-prerequisite-flag" name="dependsOn.1.flagKey" required>"#)
    );
    assert!(body.contains(r#"data-filter-by="new-prerequisite-flag""#));
    assert!(body.contains(r#"<optgroup label="gate" data-filter="gate" hidden disabled><option value="control">control</option><option value="treatment">treatment</option></optgroup>"#), "{body}");
    assert!(
        !body.contains(r#"<option value="checkout">"#),
        "a flag cannot depend on itself"
    );
    assert!(body.contains(&format!(
        r#"name="version" data-type="number" value="{version}""#
    )));
    assert!(body.contains(r#"<input type="hidden" name="dependsOn" data-type="json" value="[]">"#));

    // A viewer reads both, with no control.
    let viewer = app.member("reader@example.com", "viewer").await;
    let (_, body) = html(&app, &viewer, &path).await;
    assert!(
        body.contains(&gate_link)
            && body.contains(r#"<p><strong class="flag-key">control</strong></p>"#)
    );
    assert!(
        !body.contains("defaultVariant") && !body.contains("dependsOn"),
        "{body}"
    );

    // A role that writes development only edits its segments but not what every environment shares.
    app.create_role(
        "dev-writer",
        "Dev writer",
        &["flags:read", "flags:write:development"],
    )
    .await;
    let dev = app.member("dev@example.com", "dev-writer").await;
    let (_, body) = html(&app, &dev, &path).await;
    assert!(body.contains("Add constraint") && body.contains(&gate_link));
    for flag_wide in [
        "defaultVariant",
        "dependsOn",
        "Save variant",
        "Add a variant",
    ] {
        assert!(
            !body.contains(flag_wide),
            "{flag_wide} offered to a development writer"
        );
    }
    let (status, reply) = send_as_page(
        &app,
        &dev,
        &tenant,
        Method::PUT,
        &format!("/api/v1/flags/{id}"),
        json!({"defaultVariant": ""}),
    )
    .await;
    assert_eq!(status, 403, "{reply}");
}

#[tokio::test]
async fn the_api_refuses_unknown_cyclic_and_stale_prerequisites_sent_as_the_page_sends_them() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let owner = app.owner_session().await;
    let a = experiment_flag(&app, "first").await;
    let b = experiment_flag(&app, "second").await;
    let put = |id: i64| format!("/api/v1/flags/{id}");

    let unknown = json!({"dependsOn": [{"flagKey": "missing"}]});
    let (status, reply) = send_as_page(&app, &owner, &tenant, Method::PUT, &put(a), unknown).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["code"], "validation_failed", "{reply}");
    assert_eq!(reply["error"]["field"], "dependsOn[0]", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"missing\""),
        "{reply}"
    );

    let (status, reply) = send_as_page(
        &app,
        &owner,
        &tenant,
        Method::PUT,
        &put(a),
        json!({"dependsOn": [{"flagKey": "second"}]}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = send_as_page(
        &app,
        &owner,
        &tenant,
        Method::PUT,
        &put(b),
        json!({"dependsOn": [{"flagKey": "first", "variantKey": "control"}]}),
    )
    .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["code"], "validation_failed", "{reply}");
    assert_eq!(reply["error"]["field"], "dependsOn", "{reply}");
    assert_eq!(
        reply["error"]["message"],
        "prerequisites would form a cycle: second -> first -> second"
    );
    assert_eq!(
        app.flag_json("development", b).await["dependsOn"],
        json!([])
    );

    // A page older than the flag's last change cannot overwrite the list.
    let stale = app.flag_json("development", a).await["version"]
        .as_i64()
        .unwrap()
        - 1;
    let body = json!({"dependsOn": [], "version": stale});
    let (status, reply) = send_as_page(&app, &owner, &tenant, Method::PUT, &put(a), body).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (409, Some("version_conflict")),
        "{reply}"
    );
    assert_eq!(
        app.flag_json("development", a).await["dependsOn"],
        json!([{"flagKey": "second", "variantKey": null}])
    );
}

#[tokio::test]
async fn the_constraint_forms_render_an_input_per_kind_with_only_the_stored_kind_enabled() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let id = experiment_flag(&app, "targeted").await;
    let flag = app.flag_json("development", id).await;
    let segment = flag["segments"][0]["id"].as_i64().unwrap();
    let constraints = format!("/api/v1/flags/{id}/segments/{segment}/constraints");
    let mut ids = Vec::new();
    for (property, operator, value) in [
        ("country", "IN", r#"["CA", "US"]"#),
        ("email", "EREG", r#""^beta-\\d+""#),
        ("app.version", "GTE", r#"semver:"2.1.0""#),
        ("signup", "LT", r#"time:"2026-01-01T10:30:00+02:00""#),
        ("plan", "EQ", "{account.plan}"),
    ] {
        let body = json!({"property": property, "operator": operator, "value": value});
        let (status, reply) = app.admin(Method::POST, &constraints, Some(body)).await;
        assert_eq!(status, 200, "{reply}");
        ids.push(reply["id"].as_i64().unwrap());
    }
    let owner = app.owner_session().await;
    let (status, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/flags/{id}?env=development"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let case = |form: &str, kind: &str| {
        tag_with(
            &body,
            &format!(r#"data-case-of="{form}-value" data-case="{kind}""#),
        )
        .to_owned()
    };
    let shown = |form: &str, kind: &str| !case(form, kind).contains("hidden disabled");

    // The add form: every kind rendered, the text input shown, the operator naming each one's kinds.
    let add = format!("c-{segment}");
    let kinds = [
        "text", "number", "boolean", "version", "time", "list", "numbers", "regex", "literal",
    ];
    assert_eq!(
        kinds.iter().filter(|k| shown(&add, k)).collect::<Vec<_>>(),
        [&"text"]
    );
    assert!(body.contains(&format!(
        r#"<select id="{add}-operator" name="operator" data-kinds-for="{add}-kind">"#
    )));
    assert!(body.contains(
        r#"<option value="IN" data-kinds="list numbers literal">IN (is one of)</option>"#
    ));
    assert!(body.contains(r#"<option value="EREG" data-kinds="regex literal">"#));
    assert!(body.contains(r#"<option value="LT" data-kinds="number version time literal">"#));
    assert!(
        tag_with(&body, &format!(r#"id="{add}-kind""#))
            .contains(&format!(r#"data-switch="{add}-value""#))
    );
    assert!(body.contains(&format!(
        r#"id="{add}-list" name="value" data-type="lines""#
    )));
    assert!(body.contains(&format!(
        r#"id="{add}-numbers" name="value" data-type="lines" data-items="number""#
    )));
    assert!(body.contains(&format!(
        r#"id="{add}-number" name="value" type="number" step="any" data-type="number-text""#
    )));
    assert!(body.contains(&format!(
        r#"id="{add}-time" name="value" type="datetime-local" step="1" data-type="time-literal""#
    )));
    assert!(body.contains(&format!(r#"id="{add}-version" name="value" data-type="quoted" data-prefix="semver:" data-check="semver""#)));
    assert!(body.contains(&format!(
        r#"id="{add}-regex" name="value" data-type="quoted" data-regex-sample="{add}-sample""#
    )));

    // Each edit form opens its constraint in the kind that shows it, every other kind disabled.
    let expected = [
        ("list", format!(r#">CA{}US</textarea>"#, "\n")),
        ("regex", r#"value="^beta-\d+""#.to_owned()),
        ("version", r#"value="2.1.0""#.to_owned()),
        ("time", r#"value="2026-01-01T08:30:00""#.to_owned()),
        ("literal", r#"value="{account.plan}""#.to_owned()),
    ];
    for (constraint, (kind, value)) in ids.iter().zip(expected) {
        let form = format!("e-{constraint}");
        let open: Vec<_> = kinds.iter().filter(|k| shown(&form, k)).collect();
        assert_eq!(open, [&kind], "constraint {constraint}");
        let input = body
            .find(&format!(r#"id="{form}-{kind}""#))
            .expect("the input");
        assert!(body[input..].starts_with(&format!(r#"id="{form}-{kind}""#)));
        let tag_end = input
            + body[input..]
                .find(if kind == "list" { "</textarea>" } else { ">" })
                .unwrap()
            + 11;
        assert!(
            body[input..tag_end.min(body.len())].contains(&value),
            "{kind}: {}",
            &body[input..tag_end.min(body.len())]
        );
    }
    // The operator select of each edit form has its constraint's operator chosen.
    assert!(
        body.contains(r#"<option value="GTE" data-kinds="number version time literal" selected>"#)
    );

    // A viewer gets the constraints as text, with no form.
    let viewer = app.member("reader@example.com", "viewer").await;
    let (_, body) = html(
        &app,
        &viewer,
        &format!("/ui/t/{tenant}/flags/{id}?env=development"),
    )
    .await;
    assert!(
        body.contains("<code>country</code> <strong>IN</strong>"),
        "{body}"
    );
    assert!(!body.contains("data-case="));
}

#[tokio::test]
async fn each_control_follows_the_permission_its_api_route_asks_for() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let id = experiment_flag(&app, "guarded").await;
    // A second version, so the history has one to restore.
    let changed = json!({"description": "changed"});
    let (status, body) = app
        .admin(Method::PUT, &format!("/api/v1/flags/{id}"), Some(changed))
        .await;
    assert_eq!(status, 200, "{body}");
    app.create_role(
        "release-manager",
        "release-manager",
        &["flags:read", "flags:toggle"],
    )
    .await;
    app.create_role(
        "dev-writer",
        "dev-writer",
        &["flags:read", "flags:write:development"],
    )
    .await;
    let list = format!("/ui/t/{tenant}/flags?env=development");
    let flag = format!("/ui/t/{tenant}/flags/{id}?env=development");
    let history = format!("/ui/t/{tenant}/flags/{id}/history?env=development");
    let toggle = format!(r#"data-api="/api/v1/flags/{id}/enabled""#);
    let segment_edit = format!(r#"data-api="/api/v1/flags/{id}/segments/"#);
    let variant_edit = format!(r#"data-api="/api/v1/flags/{id}/variants/"#);

    // Turning flags on and off (flags:toggle) without changing targeting.
    let release = app.member("release@example.com", "release-manager").await;
    let (_, body) = html(&app, &release, &list).await;
    assert!(body.contains("data-bulk="), "bulk on/off for a toggler");
    assert!(
        !body.contains("New flag"),
        "creating needs flags:write everywhere"
    );
    let (_, body) = html(&app, &release, &flag).await;
    assert!(body.contains(&toggle), "{body}");
    assert!(!body.contains(&segment_edit) && !body.contains(&variant_edit));
    let (_, body) = html(&app, &release, &history).await;
    assert!(!body.contains("/restore"));

    // Targeting in development only (flags:write there), nothing every environment shares.
    let dev = app.member("dev@example.com", "dev-writer").await;
    let (_, body) = html(&app, &dev, &list).await;
    assert!(body.contains("data-bulk="));
    assert!(!body.contains("New flag"));
    let (_, body) = html(&app, &dev, &flag).await;
    assert!(body.contains(&toggle) && body.contains(&segment_edit));
    assert!(
        !body.contains(&variant_edit),
        "variants are shared by every environment"
    );
    let (_, body) = html(&app, &dev, &history).await;
    assert!(
        !body.contains("/restore"),
        "restoring changes shared fields too"
    );
    let (_, body) = html(
        &app,
        &dev,
        &format!("/ui/t/{tenant}/flags/{id}?env=production"),
    )
    .await;
    assert!(!body.contains(&toggle) && !body.contains(&segment_edit));

    // The owner has every control.
    let owner = app.owner_session().await;
    let (_, body) = html(&app, &owner, &history).await;
    assert!(body.contains("/restore"));
}
