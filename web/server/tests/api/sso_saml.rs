//! Single sign-on against a real SAML 2.0 identity provider (samlify and xml-crypto, `saml_idp.rs`): a
//! tenant's admin connects it from its metadata, people sign in through the HTTP-Redirect and HTTP-POST
//! bindings, are created just in time with the mapped role, and the SP's own metadata, signed
//! AuthnRequests, certificate rollover and the replay cache behave as an IdP's admin expects.

use crate::helpers::{TestApp, read, spawn_app};
use crate::saml_idp::SamlIdp;
use crate::sso::{Browser, audit_events, me, sso_error};
use flagent_config::Settings;
use flagent_types::SystemScope;
use reqwest::Url;
use serde_json::{Value, json};

/// People at the IdP.
pub(crate) fn accounts() -> Value {
    json!({
        "alice": {"nameID": "alice@acme.test", "email": "alice@acme.test", "name": "Alice Liddell",
                  "groups": ["engineering", "flag-admins"]},
        "bob": {"nameID": "bob@acme.test", "email": "bob@acme.test", "name": "Bob", "groups": ["sales"]},
    })
}

/// The provider an admin creates for `idp`, with `saml` settings added to its metadata URL.
pub(crate) fn provider_body(idp: &SamlIdp, saml: Value) -> Value {
    let mut settings = json!({"metadataURL": idp.metadata_url()});
    for (key, value) in saml.as_object().cloned().unwrap_or_default() {
        settings[key] = value;
    }
    json!({
        "name": "Acme SAML",
        "kind": "saml",
        "defaultRole": "viewer",
        "roleRules": [{"claim": "groups", "op": "equals", "value": "flag-admins", "role": "admin"}],
        "saml": settings,
    })
}

/// A SAML IdP with [`accounts`], and a provider for it in tenant A with `saml` settings.
pub(crate) async fn connected_saml(app: &TestApp, saml: Value) -> (SamlIdp, Value) {
    let idp = SamlIdp::start(json!({"accounts": accounts()})).await;
    let (status, provider) = app
        .admin_post("/api/v1/sso/providers", provider_body(&idp, saml))
        .await;
    assert_eq!(status, 201, "{provider}");
    (idp, provider)
}

/// Asserts that `landing` is a finished sign-in to `/ui/flags`, and returns its session token.
pub(crate) fn signed_in(landing: crate::sso::Landing) -> String {
    assert_eq!(landing.location, "/ui/flags", "signed in");
    landing.session.expect("a session cookie")
}

#[tokio::test]
async fn people_sign_in_through_a_saml_idp_and_get_the_mapped_role() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    assert_eq!(provider["kind"], "saml");
    assert_eq!(provider["saml"]["idpEntityID"], idp.entity_id());
    assert_eq!(provider["saml"]["ssoURL"], idp.sso_url());
    assert_eq!(
        provider["saml"]["certificates"],
        json!(idp.certificates().await),
        "the signing certificate came from the metadata"
    );
    let id = provider["id"].as_i64().unwrap();
    let acs = provider["sp"]["acsURL"].as_str().expect("an ACS URL");
    assert!(acs.ends_with(&format!("/sso/saml/{id}/acs")), "{acs}");
    assert_eq!(
        provider["sp"]["entityID"], provider["sp"]["metadataURL"],
        "the SP entity id defaults to the SP metadata URL"
    );

    let mut alice = Browser::new();
    let post = alice.saml_response(&app, &idp, &provider, "alice").await;
    // The AuthnRequest named this SP and its ACS, unsigned.
    let request = idp.last_request().await;
    assert_eq!(request["issuer"], provider["sp"]["entityID"]);
    assert_eq!(request["acs"], acs);
    assert_eq!(request["signed"], false);
    assert_eq!(post.acs, acs);
    let token = signed_in(alice.post_to_acs(&app, &post).await);
    let (status, me_alice) = me(&app, &token).await;
    assert_eq!(status, 200, "{me_alice}");
    assert_eq!(me_alice["user"]["email"], "alice@acme.test");
    assert_eq!(me_alice["user"]["name"], "Alice Liddell");
    assert_eq!(
        me_alice["tenants"][0]["role"], "admin",
        "groups holds flag-admins: {me_alice}"
    );

    let bob = signed_in(
        Browser::new()
            .saml_sign_in(&app, &idp, &provider, "bob")
            .await,
    );
    let (_, me_bob) = me(&app, &bob).await;
    assert_eq!(me_bob["tenants"][0]["role"], "viewer", "no rule matches");

    // The NameID links the second sign-in to the same account.
    let again = signed_in(
        Browser::new()
            .saml_sign_in(&app, &idp, &provider, "alice")
            .await,
    );
    let (_, me_again) = me(&app, &again).await;
    assert_eq!(me_again["user"]["id"], me_alice["user"]["id"]);

    let logins = audit_events(&app, "sso.login").await;
    assert_eq!(logins.len(), 3, "{logins:?}");
    assert_eq!(
        logins[0]["after"]["subject"],
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress|alice@acme.test",
        "the subject is the NameID with its format"
    );
    assert!(audit_events(&app, "sso.login_failed").await.is_empty());
}

#[tokio::test]
async fn the_sp_metadata_names_the_acs_and_signed_requests_verify_at_the_idp() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({"signRequests": true})).await;
    let certificate = provider["sp"]["signingCertificate"]
        .as_str()
        .expect("an SP signing certificate")
        .to_owned();
    let metadata_url = provider["sp"]["metadataURL"].as_str().unwrap();
    let path = Url::parse(metadata_url).unwrap().path().to_owned();
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/samlmetadata+xml")
    );
    let xml = response.text().await.unwrap();
    for expected in [
        format!(
            "entityID=\"{}\"",
            provider["sp"]["entityID"].as_str().unwrap()
        ),
        format!(
            "Location=\"{}\"",
            provider["sp"]["acsURL"].as_str().unwrap()
        ),
        "AuthnRequestsSigned=\"true\"".to_owned(),
        "WantAssertionsSigned=\"true\"".to_owned(),
        certificate.clone(),
    ] {
        assert!(xml.contains(&expected), "{expected} in {xml}");
    }
    // The private key is never shown, and it is sealed at rest.
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test fixtures");
    let row = app
        .db
        .system(&system)
        .sso_provider(provider["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(row.secret.expect("a sealed key").starts_with("v1."));

    // The IdP checks the redirect's signature with the certificate from the SP metadata.
    idp.register_sp_certificate(&certificate).await;
    let mut browser = Browser::new();
    let post = browser.saml_response(&app, &idp, &provider, "bob").await;
    let request = idp.last_request().await;
    assert_eq!(request["signed"], true, "{request}");
    assert_eq!(request["signatureValid"], true, "{request}");
    signed_in(browser.post_to_acs(&app, &post).await);

    // Saving the provider again keeps its key; switching signing off drops it.
    let mut body = provider_body(&idp, json!({"signRequests": true}));
    let id = provider["id"].as_i64().unwrap();
    let (status, saved) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body.clone())
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["sp"]["signingCertificate"], certificate.as_str());
    body["saml"]["signRequests"] = json!(false);
    let (_, unsigned) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body)
        .await;
    assert!(unsigned["sp"]["signingCertificate"].is_null(), "{unsigned}");
    let post = Browser::new()
        .saml_response(&app, &idp, &provider, "bob")
        .await;
    assert_eq!(idp.last_request().await["signed"], false);
    assert!(post.relay_state.is_some());
}

#[tokio::test]
async fn a_new_idp_certificate_is_accepted_once_the_metadata_lists_it() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let id = provider["id"].as_i64().unwrap();
    signed_in(
        Browser::new()
            .saml_sign_in(&app, &idp, &provider, "bob")
            .await,
    );

    // The IdP starts signing with a new key and publishes both: until the metadata is read again,
    // its signatures are refused.
    idp.rotate_keys(true).await;
    let refused = Browser::new()
        .saml_sign_in(&app, &idp, &provider, "bob")
        .await;
    assert_eq!(sso_error(&refused), "sso_invalid_signature");

    let (status, saved) = app
        .admin_put(
            &format!("/api/v1/sso/providers/{id}"),
            provider_body(&idp, json!({})),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["saml"]["certificates"].as_array().map(Vec::len),
        Some(2),
        "the old and the new certificate, for the rollover: {saved}"
    );
    signed_in(
        Browser::new()
            .saml_sign_in(&app, &idp, &provider, "bob")
            .await,
    );

    // Certificates may be pasted too (PEM or base64 DER) instead of metadata.
    let pasted = json!({
        "name": "Acme pasted", "kind": "saml",
        "saml": {"idpEntityID": idp.entity_id(), "ssoURL": idp.sso_url(),
                 "certificates": idp.certificates().await},
    });
    let (status, created) = app.admin_post("/api/v1/sso/providers", pasted).await;
    assert_eq!(status, 201, "{created}");
    signed_in(
        Browser::new()
            .saml_sign_in(&app, &idp, &created, "alice")
            .await,
    );
}

#[tokio::test]
async fn an_idp_initiated_sign_in_is_refused_unless_enabled_and_never_replays_on_any_node() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let id = provider["id"].as_i64().unwrap();
    let (acs, audience) = (
        provider["sp"]["acsURL"].as_str().unwrap().to_owned(),
        provider["sp"]["entityID"].as_str().unwrap().to_owned(),
    );
    let unsolicited = |relay: Option<&'static str>| {
        let (idp, acs, audience) = (&idp, acs.clone(), audience.clone());
        async move {
            let (response, relay_state) = idp.idp_initiated("bob", &acs, &audience, relay).await;
            crate::saml_idp::SamlPost {
                acs,
                saml_response: response,
                relay_state,
            }
        }
    };
    let post = unsolicited(Some("/ui/segments")).await;
    let landing = Browser::new().post_to_acs(&app, &post).await;
    assert_eq!(sso_error(&landing), "sso_invalid_assertion");
    let reasons = audit_events(&app, "sso.login_failed").await;
    assert!(
        reasons[0]["after"]["reason"]
            .as_str()
            .unwrap()
            .contains("IdP-initiated"),
        "{reasons:?}"
    );

    let mut body = provider_body(&idp, json!({"allowIdpInitiated": true}));
    body["name"] = json!("Acme SAML");
    let (status, _) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body)
        .await;
    assert_eq!(status, 200);
    let post = unsolicited(Some("/ui/segments")).await;
    let landing = Browser::new().post_to_acs(&app, &post).await;
    assert_eq!(
        landing.location, "/ui/segments",
        "RelayState names where to go"
    );
    assert!(landing.session.is_some());

    // The same response again, here and on a second node of the same database, is refused.
    let again = Browser::new().post_to_acs(&app, &post).await;
    assert_eq!(sso_error(&again), "sso_replayed");
    let node = flagent_server::Application::build(Settings::for_tests(&app.db_url))
        .await
        .expect("a second node");
    let second = format!("http://127.0.0.1:{}", node.port());
    tokio::spawn(node.run_until_stopped());
    let elsewhere = Browser::new().post_to_acs_at(&second, &post).await;
    assert_eq!(sso_error(&elsewhere), "sso_replayed");

    // An unsolicited response with an unsafe RelayState lands on the UI's start.
    let post = unsolicited(Some("https://evil.example/")).await;
    let landing = Browser::new().post_to_acs(&app, &post).await;
    assert_eq!(landing.location, "/ui");

    // A solicited response is never taken as IdP-initiated: posted without its sign-in it is refused.
    let mut victim = Browser::new();
    let mut stolen = victim.saml_response(&app, &idp, &provider, "alice").await;
    stolen.relay_state = None;
    let landing = Browser::new().post_to_acs(&app, &stolen).await;
    assert_eq!(sso_error(&landing), "sso_state_mismatch");
    let (_, members) = read(
        app.client
            .get(format!("{}/api/v1/members", app.address))
            .bearer_auth(&app.a.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        !members.to_string().contains("alice@acme.test"),
        "nobody was created: {members}"
    );
}

#[tokio::test]
async fn a_saml_response_finishes_once_and_only_in_the_browser_that_started_it() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;

    // Carried to another browser (login CSRF), the response is refused and spends the sign-in.
    let mut victim = Browser::new();
    let post = victim.saml_response(&app, &idp, &provider, "bob").await;
    let landing = Browser::new().post_to_acs(&app, &post).await;
    assert_eq!(sso_error(&landing), "sso_state_mismatch");
    let landing = victim.post_to_acs(&app, &post).await;
    assert_eq!(sso_error(&landing), "sso_state_mismatch", "spent");

    // Posted twice in the browser that started it: once.
    let mut browser = Browser::new();
    let post = browser.saml_response(&app, &idp, &provider, "bob").await;
    signed_in(browser.post_to_acs(&app, &post).await);
    let replay = browser.post_to_acs(&app, &post).await;
    assert!(replay.session.is_none());

    // The response to one sign-in does not finish another one of the same browser.
    let mut browser = Browser::new();
    let first = browser.saml_response(&app, &idp, &provider, "bob").await;
    let second = browser.saml_response(&app, &idp, &provider, "bob").await;
    let crossed = crate::saml_idp::SamlPost {
        relay_state: second.relay_state.clone(),
        ..first
    };
    let landing = browser.post_to_acs(&app, &crossed).await;
    assert_eq!(sso_error(&landing), "sso_invalid_assertion");
}

#[tokio::test]
async fn saml_provider_settings_are_validated() {
    let app = spawn_app().await;
    let idp = SamlIdp::start(json!({"accounts": accounts()})).await;
    let metadata = idp.metadata_xml().await;
    let cases = [
        (json!({}), "idpEntityID"),
        (
            json!({"idpEntityID": "x", "ssoURL": "http://idp.example/sso", "certificates": ["bm90IGEgY2VydA=="]}),
            "certificates",
        ),
        (
            json!({"idpEntityID": "x", "ssoURL": "ftp://idp.example/sso", "certificates": idp.certificates().await}),
            "ssoURL",
        ),
        (json!({"metadataXML": "<notxml"}), "metadata"),
        (
            json!({"metadataXML": metadata.replace("KeyDescriptor", "Unknown")}),
            "certificates",
        ),
        (
            json!({"metadataXML": format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}", metadata.trim_start_matches(|c| c != '<'))}),
            "metadata",
        ),
        (
            json!({"metadataXML": metadata.clone(), "metadataURL": idp.metadata_url()}),
            "saml",
        ),
        (
            json!({"metadataURL": "http://idp.example/metadata"}),
            "metadataURL",
        ),
    ];
    for (saml, field) in cases {
        let body = json!({"name": "Bad", "kind": "saml", "saml": saml});
        let (status, error) = app.admin_post("/api/v1/sso/providers", body).await;
        assert_eq!(status, 400, "{saml}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed", "{error}");
        assert_eq!(error["error"]["field"], field, "{saml}: {error}");
    }
    let (_, providers) = app.admin_get("/api/v1/sso/providers").await;
    assert_eq!(providers, json!([]), "nothing was saved");

    // The metadata document itself, pasted, works as its URL does.
    let body = json!({"name": "Pasted", "kind": "saml", "saml": {"metadataXML": metadata}});
    let (status, created) = app.admin_post("/api/v1/sso/providers", body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["saml"]["idpEntityID"], idp.entity_id());
    assert!(created["saml"]["metadataURL"].is_null());
}

#[tokio::test]
async fn a_test_sign_in_shows_what_the_idp_asserted_and_signs_nobody_in() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let id = provider["id"].as_i64().unwrap();
    // A disabled provider can be tested before members may use it.
    let mut body = provider_body(&idp, json!({}));
    body["enabled"] = json!(false);
    let (status, _) = app
        .admin_put(&format!("/api/v1/sso/providers/{id}"), body)
        .await;
    assert_eq!(status, 200);
    let refused = Browser::new()
        .get(&app, provider["startURL"].as_str().unwrap())
        .await;
    assert!(
        refused.headers()["location"]
            .to_str()
            .unwrap()
            .contains("sso_error=sso_provider_disabled")
    );

    let mut admin = Browser::new();
    let url = admin.start_test(&app, id).await;
    let post = idp.sign_in_at_idp(&url, "alice").await;
    let response = admin.post_to_acs_raw(&app.address, &post).await;
    assert_eq!(response.status(), 200, "the test page");
    assert!(
        !response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("flagent_session=")),
        "nobody signed in"
    );
    let page = response.text().await.unwrap();
    for shown in [
        "Test sign-in passed",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress|alice@acme.test",
        "alice@acme.test (not verified)",
        "engineering, flag-admins",
        "data-sso-test=\"role\">admin<",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    let (_, members) = app.admin_get("/api/v1/members").await;
    assert!(
        !members.to_string().contains("alice@acme.test"),
        "nobody was created"
    );

    // The test page is only for the browser that started the test, and only the provider's
    // tenant may start one.
    let url = Browser::new().start_test(&app, id).await;
    let post = idp.sign_in_at_idp(&url, "alice").await;
    let landing = Browser::new().post_to_acs(&app, &post).await;
    assert_eq!(sso_error(&landing), "sso_state_mismatch");
    let (status, _) = app
        .call(
            &app.b.admin,
            None,
            reqwest::Method::POST,
            &format!("/api/v1/sso/providers/{id}/test"),
            None,
        )
        .await;
    assert_eq!(status, 404, "tenant B cannot test tenant A's provider");
}
