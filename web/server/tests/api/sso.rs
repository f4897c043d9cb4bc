//! Single sign-on against a real OpenID Connect provider (oidc-provider, `idp.rs`): a tenant's admin
//! connects it, people sign in through it with the browser's redirects, are created just in time with
//! the mapped role, and the sign-in refuses what does not belong to it.

use crate::helpers::{TestApp, code, expect_error, read, spawn_app};
use crate::idp::{OidcIdp, sign_in_at_idp};
use crate::saml_idp::{SamlIdp, SamlPost};
use flagent_types::SystemScope;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, Url, redirect};
use serde_json::{Value, json};

pub(crate) const CLIENT_ID: &str = "flagent-test";
pub(crate) const CLIENT_SECRET: &str = "the-client-secret-0123456789";

/// People at the IdP.
fn accounts() -> Value {
    json!({
        "u-ada": {"email": "ada@acme.test", "email_verified": true, "name": "Ada Lovelace",
                  "groups": ["engineering", "flag-admins"]},
        "u-bob": {"email": "bob@acme.test", "email_verified": true, "name": "Bob", "groups": ["sales"]},
    })
}

/// The provider settings an admin sends for `issuer`.
fn provider_body(issuer: &str) -> Value {
    json!({
        "name": "Acme IdP",
        "kind": "oidc",
        "defaultRole": "viewer",
        "roleRules": [{"claim": "groups", "op": "equals", "value": "flag-admins", "role": "admin"}],
        "oidc": {"issuer": issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                 "scopes": ["openid", "email", "profile", "groups"]},
    })
}

/// An IdP with [`accounts`], and a provider for it in tenant A whose redirect URI the IdP knows.
pub(crate) async fn connected(app: &TestApp) -> (OidcIdp, Value) {
    let idp = OidcIdp::start(json!({"clients": [], "accounts": accounts()})).await;
    let (status, provider) = app
        .admin_post("/api/v1/sso/providers", provider_body(&idp.issuer))
        .await;
    assert_eq!(status, 201, "{provider}");
    idp.add_client(json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [provider["redirectURL"]],
    }))
    .await;
    (idp, provider)
}

/// A browser: no redirects followed, this server's cookies kept by hand.
pub(crate) struct Browser {
    client: reqwest::Client,
    sso_cookie: Option<String>,
}

/// Where a browser ended after coming back from the IdP: the redirect and the session cookie, if any.
pub(crate) struct Landing {
    pub(crate) location: String,
    pub(crate) session: Option<String>,
}

impl Browser {
    pub(crate) fn new() -> Self {
        Browser {
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .expect("a client"),
            sso_cookie: None,
        }
    }

    /// `GET` on this server at `url`'s path and query (the public URL names another host).
    pub(crate) async fn get(&mut self, app: &TestApp, url: &str) -> reqwest::Response {
        let url = Url::parse(url)
            .or_else(|_| Url::parse(&app.address).and_then(|base| base.join(url)))
            .expect("a URL");
        let target = format!(
            "{}{}?{}",
            app.address,
            url.path(),
            url.query().unwrap_or("")
        );
        let mut request = self.client.get(target);
        if let Some(cookie) = &self.sso_cookie {
            request = request.header(COOKIE, format!("flagent_sso={cookie}"));
        }
        let response = request.send().await.expect("a request");
        if let Some(value) = cookie(&response, "flagent_sso") {
            self.sso_cookie = Some(value).filter(|v| !v.is_empty());
        }
        response
    }

    /// Starts a sign-in through `provider`; returns the IdP's authorize URL.
    pub(crate) async fn start(&mut self, app: &TestApp, provider: &Value, next: &str) -> String {
        let start = format!(
            "{}?next={next}",
            provider["startURL"].as_str().expect("startURL")
        );
        let response = self.get(app, &start).await;
        assert_eq!(response.status(), 303, "start");
        location(&response)
    }

    /// Comes back to this server at `callback`.
    pub(crate) async fn come_back(&mut self, app: &TestApp, callback: &str) -> Landing {
        let response = self.get(app, callback).await;
        assert_eq!(response.status(), 303, "callback");
        Landing {
            location: location(&response),
            session: cookie(&response, "flagent_session").filter(|v| !v.is_empty()),
        }
    }

    /// Posts what a SAML IdP's auto-submit page holds to this server's assertion consumer service.
    pub(crate) async fn post_to_acs(&mut self, app: &TestApp, post: &SamlPost) -> Landing {
        self.post_to_acs_at(&app.address, post).await
    }

    /// Posts `post` to the assertion consumer service of the server at `address`.
    pub(crate) async fn post_to_acs_at(&mut self, address: &str, post: &SamlPost) -> Landing {
        let response = self.post_to_acs_raw(address, post).await;
        assert_eq!(response.status(), 303, "ACS");
        Landing {
            location: location(&response),
            session: cookie(&response, "flagent_session").filter(|v| !v.is_empty()),
        }
    }

    /// Starts a test sign-in through provider `id` as tenant A's admin, keeping the sign-in's cookie
    /// in this browser; returns the identity provider's URL.
    pub(crate) async fn start_test(&mut self, app: &TestApp, id: i64) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/sso/providers/{id}/test", app.address))
            .bearer_auth(&app.a.admin)
            .send()
            .await
            .expect("a request");
        assert_eq!(response.status(), 200, "test sign-in");
        self.sso_cookie = cookie(&response, "flagent_sso");
        let body: Value = response.json().await.expect("JSON");
        body["url"].as_str().expect("a url").to_owned()
    }

    /// Posts `post` to the assertion consumer service at `address`, whatever it answers.
    pub(crate) async fn post_to_acs_raw(
        &mut self,
        address: &str,
        post: &SamlPost,
    ) -> reqwest::Response {
        let url = Url::parse(&post.acs).expect("an ACS URL");
        let mut request = self
            .client
            .post(format!("{address}{}", url.path()))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(post.form_body());
        if let Some(cookie) = &self.sso_cookie {
            request = request.header(COOKIE, format!("flagent_sso={cookie}"));
        }
        request.send().await.expect("a request")
    }

    /// A SAML sign-in as `login` at `idp` up to the post the IdP's page would make: what is posted.
    pub(crate) async fn saml_response(
        &mut self,
        app: &TestApp,
        idp: &SamlIdp,
        provider: &Value,
        login: &str,
    ) -> SamlPost {
        let redirect = self.start(app, provider, "/ui/flags").await;
        idp.sign_in_at_idp(&redirect, login).await
    }

    /// A whole SAML sign-in as `login` at `idp`.
    pub(crate) async fn saml_sign_in(
        &mut self,
        app: &TestApp,
        idp: &SamlIdp,
        provider: &Value,
        login: &str,
    ) -> Landing {
        let post = self.saml_response(app, idp, provider, login).await;
        self.post_to_acs(app, &post).await
    }

    /// A whole sign-in as `account`.
    pub(crate) async fn sign_in(
        &mut self,
        app: &TestApp,
        provider: &Value,
        account: &str,
    ) -> Landing {
        let authorize = self.start(app, provider, "/ui/flags").await;
        let callback = sign_in_at_idp(&self.client, &authorize, account).await;
        self.come_back(app, &callback).await
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .expect("a Location")
        .to_owned()
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The refusal code a browser was sent to the sign-in page with.
pub(crate) fn sso_error(landing: &Landing) -> String {
    assert!(landing.session.is_none(), "a refused sign-in set a session");
    let url = Url::parse("http://x")
        .unwrap()
        .join(&landing.location)
        .unwrap();
    assert_eq!(url.path(), "/ui/login", "{}", landing.location);
    url.query_pairs()
        .find(|(k, _)| k == "sso_error")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no sso_error in {}", landing.location))
}

/// `GET /api/v1/auth/me` with a session token.
pub(crate) async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    read(
        app.client
            .get(format!("{}/api/v1/auth/me", app.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request"),
    )
    .await
}

/// Tenant A's audit events of `action`, newest first.
pub(crate) async fn audit_events(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, body) = app
        .admin_get(&format!("/api/v1/audit?action={action}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .or_else(|| body["events"].as_array())
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

#[tokio::test]
async fn people_sign_in_through_an_oidc_provider_and_get_the_mapped_role() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let text = provider.to_string();
    assert!(
        !text.contains(CLIENT_SECRET),
        "the secret is never returned: {text}"
    );
    assert_eq!(provider["oidc"]["clientSecretSet"], true);
    assert_eq!(provider["kind"], "oidc");

    // Sealed at rest: the stored value is not the secret and names the key that sealed it.
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test fixtures");
    let row = app
        .db
        .system(&system)
        .sso_provider(provider["id"].as_i64().unwrap())
        .await
        .unwrap()
        .expect("the provider row");
    let sealed = row.secret.expect("a sealed secret");
    assert!(
        sealed.starts_with("v1.generated.") && !sealed.contains(CLIENT_SECRET),
        "{sealed}"
    );

    let mut ada = Browser::new();
    let landing = ada.sign_in(&app, &provider, "u-ada").await;
    assert_eq!(landing.location, "/ui/flags");
    let token = landing.session.expect("a session cookie");
    let (status, me_ada) = me(&app, &token).await;
    assert_eq!(status, 200, "{me_ada}");
    assert_eq!(me_ada["user"]["email"], "ada@acme.test");
    assert_eq!(
        me_ada["tenants"][0]["role"], "admin",
        "groups contains flag-admins: {me_ada}"
    );

    let mut bob = Browser::new();
    let token_bob = bob
        .sign_in(&app, &provider, "u-bob")
        .await
        .session
        .expect("session");
    let (_, me_bob) = me(&app, &token_bob).await;
    assert_eq!(
        me_bob["tenants"][0]["role"], "viewer",
        "no rule matches: {me_bob}"
    );

    // A second sign-in links to the same account.
    let again = Browser::new().sign_in(&app, &provider, "u-ada").await;
    let (_, me_again) = me(&app, &again.session.expect("session")).await;
    assert_eq!(me_again["user"]["id"], me_ada["user"]["id"]);

    // Metadata and keys were fetched once for three sign-ins.
    assert_eq!(idp.discovery_hits().await, 1);
    assert_eq!(idp.jwks_hits().await, 1);

    let logins = audit_events(&app, "sso.login").await;
    assert_eq!(logins.len(), 3, "{logins:?}");
    let (_, members) = app.admin_get("/api/v1/members").await;
    let emails: Vec<&str> = members
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["email"].as_str())
        .collect();
    assert!(
        emails.contains(&"ada@acme.test") && emails.contains(&"bob@acme.test"),
        "{members}"
    );
}

#[tokio::test]
async fn a_sign_in_finishes_once_and_only_in_the_browser_that_started_it() {
    let app = spawn_app().await;
    let (_idp, provider) = connected(&app).await;

    // The callback carried to another browser (login CSRF) is refused, and spends the state.
    let mut victim = Browser::new();
    let authorize = victim.start(&app, &provider, "/ui").await;
    let callback = sign_in_at_idp(&victim.client, &authorize, "u-bob").await;
    let mut attacker = Browser::new();
    let landing = attacker.come_back(&app, &callback).await;
    assert_eq!(sso_error(&landing), "sso_state_mismatch");

    // A callback finishes once: the same URL again, in the same browser, is refused.
    let mut browser = Browser::new();
    let authorize = browser.start(&app, &provider, "/ui").await;
    let callback = sign_in_at_idp(&browser.client, &authorize, "u-bob").await;
    assert!(browser.come_back(&app, &callback).await.session.is_some());
    let replay = browser.come_back(&app, &callback).await;
    assert_eq!(sso_error(&replay), "sso_state_mismatch");

    // A made-up state is refused.
    let mut browser = Browser::new();
    browser.start(&app, &provider, "/ui").await;
    let id = &provider["id"];
    let forged = browser
        .come_back(
            &app,
            &format!("/sso/oidc/{id}/callback?code=x&state=made-up"),
        )
        .await;
    assert_eq!(sso_error(&forged), "sso_state_mismatch");

    // A response naming another issuer (an IdP mix-up) is refused.
    let mut browser = Browser::new();
    let authorize = browser.start(&app, &provider, "/ui").await;
    let callback = sign_in_at_idp(&browser.client, &authorize, "u-bob").await;
    let mixed = callback.replace("iss=http", "iss=https");
    assert_ne!(mixed, callback);
    let landing = browser.come_back(&app, &mixed).await;
    assert_eq!(sso_error(&landing), "sso_invalid_token");

    let failures = audit_events(&app, "sso.login_failed").await;
    assert_eq!(failures.len(), 4, "{failures:?}");
    assert!(
        failures.iter().any(|e| e["after"]
            .to_string()
            .contains("authorization response names issuer")),
        "the failed check is in the audit event: {failures:?}"
    );
}

#[tokio::test]
async fn an_open_redirect_through_next_is_not_possible() {
    let app = spawn_app().await;
    let (_idp, provider) = connected(&app).await;
    let mut browser = Browser::new();
    let authorize = browser
        .start(&app, &provider, "https://evil.example/ui")
        .await;
    let callback = sign_in_at_idp(&browser.client, &authorize, "u-bob").await;
    let landing = browser.come_back(&app, &callback).await;
    assert_eq!(landing.location, "/ui");
    assert!(landing.session.is_some());
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_once_and_sign_ins_go_on() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    assert!(
        Browser::new()
            .sign_in(&app, &provider, "u-ada")
            .await
            .session
            .is_some()
    );
    assert_eq!(idp.jwks_hits().await, 1);
    idp.rotate_keys(false).await;
    assert!(
        Browser::new()
            .sign_in(&app, &provider, "u-ada")
            .await
            .session
            .is_some()
    );
    assert!(
        Browser::new()
            .sign_in(&app, &provider, "u-bob")
            .await
            .session
            .is_some()
    );
    assert_eq!(idp.jwks_hits().await, 2, "the unknown kid caused one fetch");
    assert_eq!(idp.discovery_hits().await, 1);
}

#[tokio::test]
async fn disabling_or_deleting_a_provider_ends_its_sessions() {
    let app = spawn_app().await;
    let (_idp, provider) = connected(&app).await;
    let id = provider["id"].as_i64().unwrap();
    let token = Browser::new()
        .sign_in(&app, &provider, "u-ada")
        .await
        .session
        .expect("session");
    assert_eq!(me(&app, &token).await.0, 200);
    let password_owner = app.owner_session().await;

    let mut body = provider_body(provider["oidc"]["issuer"].as_str().unwrap());
    body["enabled"] = json!(false);
    body["oidc"].as_object_mut().unwrap().remove("clientSecret");
    let (status, updated) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body.clone())
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["oidc"]["clientSecretSet"], true,
        "the secret is kept"
    );
    assert_eq!(me(&app, &token).await.0, 401, "the SSO session ended");
    assert_eq!(
        me(&app, &password_owner.token).await.0,
        200,
        "others' sessions go on"
    );
    let mut browser = Browser::new();
    let start = browser
        .get(&app, provider["startURL"].as_str().unwrap())
        .await;
    assert!(location(&start).contains("sso_error=sso_provider_disabled"));

    body["enabled"] = json!(true);
    let (status, _) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body)
        .await;
    assert_eq!(status, 200);
    let token = Browser::new()
        .sign_in(&app, &provider, "u-bob")
        .await
        .session
        .expect("session");
    let (status, _) = app
        .admin_delete(&format!("/api/v1/sso/providers/{id}"))
        .await;
    assert_eq!(status, 204);
    assert_eq!(me(&app, &token).await.0, 401);
    let reply = app.admin_get(&format!("/api/v1/sso/providers/{id}")).await;
    expect_error(&reply, 404, "sso_provider_not_found");
    let deleted = audit_events(&app, "sso.provider.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert!(!deleted[0].to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn provider_management_is_for_admins_of_enterprise_tenants_and_validated() {
    let app = spawn_app().await;
    let body = provider_body("https://idp.acme.test");

    // A free tenant: 402 naming the feature, nothing written.
    let free = app.tenant_on_plan("smallco", "free").await;
    let reply = app
        .call(
            &free.admin,
            None,
            Method::POST,
            "/api/v1/sso/providers",
            Some(body.clone()),
        )
        .await;
    let error = expect_error(&reply, 402, "plan_limit_reached");
    assert_eq!(error["error"]["limit"], "sso", "{error}");
    let listed = app
        .call(
            &free.admin,
            None,
            Method::GET,
            "/api/v1/sso/providers",
            None,
        )
        .await;
    assert_eq!(listed.1, json!([]));

    // An editor may not; a read key may not.
    let editor = app.member("ed@acme.test", "editor").await;
    let reply = read(
        app.as_user(
            &editor,
            Method::GET,
            "/api/v1/sso/providers",
            Some(app.a.id),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    expect_error(&reply, 403, "forbidden");
    let reply = app
        .call(
            &app.a.read,
            None,
            Method::POST,
            "/api/v1/sso/providers",
            Some(body.clone()),
        )
        .await;
    assert_eq!(reply.0, 403, "{:?}", reply.1);

    // Bad input: 400 with the field, nothing written.
    for (field, change) in [
        ("name", json!({"name": " "})),
        ("defaultRole", json!({"defaultRole": "owner"})),
        ("defaultRole", json!({"defaultRole": "no-such-role"})),
        (
            "roleRules",
            json!({"roleRules": [{"claim": "groups", "op": "equals", "value": "x", "role": "owner"}]}),
        ),
        (
            "roleRules",
            json!({"roleRules": [{"claim": "groups", "op": "matches", "value": "x", "role": "admin"}]}),
        ),
        (
            "issuer",
            json!({"oidc": {"issuer": "http://idp.acme.test", "clientId": "c", "clientSecret": "s"}}),
        ),
        (
            "clientSecret",
            json!({"oidc": {"issuer": "https://idp.acme.test", "clientId": "c"}}),
        ),
        ("kind", json!({"kind": "ldap"})),
    ] {
        let mut bad = body.clone();
        for (k, v) in change.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let reply = app.admin_post("/api/v1/sso/providers", bad).await;
        assert_eq!(reply.0, 400, "{field}: {}", reply.1);
        assert_eq!(reply.1["error"]["field"], field, "{}", reply.1);
    }
    let (_, listed) = app.admin_get("/api/v1/sso/providers").await;
    assert_eq!(listed, json!([]), "nothing was written");

    // Another tenant's provider does not exist for this one.
    let (status, created) = app.admin_post("/api/v1/sso/providers", body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = &created["id"];
    let other = app.tenant_on_plan("bigco", "enterprise").await;
    for method in [Method::GET, Method::DELETE] {
        let reply = app
            .call(
                &other.admin,
                None,
                method.clone(),
                &format!("/api/v1/sso/providers/{id}"),
                None,
            )
            .await;
        expect_error(&reply, 404, "sso_provider_not_found");
    }
    let reply = app
        .call(
            &other.admin,
            None,
            Method::PUT,
            &format!("/api/v1/sso/providers/{id}"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(code(&reply.1), "sso_provider_not_found");
    let (_, still) = app.admin_get(&format!("/api/v1/sso/providers/{id}")).await;
    assert_eq!(still["name"], "Acme IdP");
}

#[tokio::test]
async fn a_custom_role_an_identity_provider_grants_cannot_be_deleted() {
    let app = spawn_app().await;
    app.create_role("release-manager", "Release manager", &["flags:read"])
        .await;
    let mut body = provider_body("https://idp.acme.test");
    body["roleRules"][0]["role"] = json!("release-manager");
    let (status, provider) = app.admin_post("/api/v1/sso/providers", body.clone()).await;
    assert_eq!(status, 201, "{provider}");
    let reply = app.admin_delete("/api/v1/roles/release-manager").await;
    expect_error(&reply, 409, "role_in_use");

    // Named as the default role it stays too; once nothing names it, it goes.
    body["roleRules"] = json!([]);
    body["defaultRole"] = json!("release-manager");
    let id = provider["id"].as_i64().unwrap();
    let (status, _) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body.clone())
        .await;
    assert_eq!(status, 200);
    expect_error(
        &app.admin_delete("/api/v1/roles/release-manager").await,
        409,
        "role_in_use",
    );
    body["defaultRole"] = json!("viewer");
    let (status, _) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body)
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.admin_delete("/api/v1/roles/release-manager").await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn an_oidc_test_sign_in_shows_the_claims_and_signs_nobody_in() {
    let app = spawn_app().await;
    let (_idp, provider) = connected(&app).await;
    let id = provider["id"].as_i64().unwrap();
    let mut admin = Browser::new();
    let authorize = admin.start_test(&app, id).await;
    let callback = sign_in_at_idp(&admin.client, &authorize, "u-ada").await;
    let response = admin.get(&app, &callback).await;
    assert_eq!(response.status(), 200, "the test page");
    assert!(
        cookie(&response, "flagent_session").is_none(),
        "nobody signed in"
    );
    let page = response.text().await.unwrap();
    for shown in [
        "u-ada",
        "ada@acme.test (verified)",
        "engineering, flag-admins",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    let (_, members) = app.admin_get("/api/v1/members").await;
    assert!(
        !members.to_string().contains("ada@acme.test"),
        "nobody was created"
    );
    assert!(audit_events(&app, "sso.login").await.is_empty());
}
