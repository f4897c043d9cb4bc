//! The admin UI's single sign-on pages over HTTP: owners and admins (`sso:manage`) see the tenant's
//! providers, domains and enforcement, with the enforcement form for owners only; the buttons send
//! what the API accepts; other roles and other tenants see nothing of it, and no page shows a secret.

use crate::helpers::{read, spawn_app};
use crate::ui::{html, tenant_a_key};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &str = "the-ui-client-secret-0123456789";

/// The value of attribute `name` in the first tag that contains `marker`, as the browser reads it.
fn attribute(body: &str, marker: &str, name: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} on the page: {body}"));
    let start = body[..at].rfind('<').expect("the tag's start");
    let tag = &body[start..start + body[start..].find('>').expect("the tag's end")];
    let from = tag
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("{name} in {tag}"))
        + name.len()
        + 3;
    tag[from..from + tag[from..].find('"').expect("the value's end")]
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

#[tokio::test]
async fn owners_see_providers_domains_and_enforcement_and_the_buttons_send_what_the_api_takes() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let (status, provider) = app
        .admin_post(
            "/api/v1/sso/providers",
            json!({"name": "Acme <IdP>", "kind": "oidc", "defaultRole": "editor",
                   "roleRules": [{"claim": "groups", "op": "contains", "value": "ops", "role": "admin"}],
                   "oidc": {"issuer": "https://idp.acme.test", "clientId": "flagent", "clientSecret": SECRET}}),
        )
        .await;
    assert_eq!(status, 201, "{provider}");
    let id = provider["id"].as_i64().unwrap();
    let (status, domain) = app
        .admin_post("/api/v1/sso/domains", json!({"domain": "acme.test"}))
        .await;
    assert_eq!(status, 201, "{domain}");
    let owner = app.owner_session().await;

    let (status, page) = html(&app, &owner, &format!("/ui/t/{tenant}/sso")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"aria-current="page">Single sign-on</a>"#));
    assert!(page.contains("Acme &#60;IdP&#62;") && !page.contains("Acme <IdP>"));
    assert!(page.contains(provider["startURL"].as_str().unwrap()));
    for text in [
        domain["txtName"].as_str().unwrap(),
        domain["txtValue"].as_str().unwrap(),
        "Pending",
    ] {
        assert!(page.contains(text), "{text}");
    }
    for form in [
        r#"data-api="/api/v1/sso/providers" data-method="POST""#.to_owned(),
        format!(r#"data-api="/api/v1/sso/providers/{id}" data-method="DELETE""#),
        format!(r#"data-api="/api/v1/sso/providers/{id}/test""#),
        format!(r#"data-api="/api/v1/sso/domains/{}/verify""#, domain["id"]),
        r#"data-api="/api/v1/sso/enforcement" data-method="PUT""#.to_owned(),
    ] {
        assert!(page.contains(&form), "{form}");
    }
    assert!(!page.contains(SECRET) && !page.contains(r#"value="owner""#));

    // The Disable button sends the provider as it is but switched off; the API takes it and keeps
    // the secret and the rules.
    let marker = format!(r#"data-api="/api/v1/sso/providers/{id}" data-method="PUT""#);
    let body: Value = serde_json::from_str(&attribute(&page, &marker, "data-body")).unwrap();
    assert_eq!(body["enabled"], false);
    let (status, saved) = read(
        app.as_user(
            &owner,
            Method::PUT,
            &format!("/api/v1/sso/providers/{id}"),
            Some(app.a.id),
        )
        .json(&body)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["enabled"], false);
    assert_eq!(saved["oidc"]["clientSecretSet"], true);
    assert_eq!(saved["roleRules"], provider["roleRules"]);

    // The provider's page: the redirect URL to give the identity provider, and its edit form.
    let (status, page) = html(&app, &owner, &format!("/ui/t/{tenant}/sso/providers/{id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(provider["redirectURL"].as_str().unwrap()));
    assert!(page.contains(r#"aria-current="page">Single sign-on</a>"#));
    assert!(page.contains(&format!(
        r#"data-api="/api/v1/sso/providers/{id}" data-method="PUT""#
    )));
    assert!(page.contains(r#"<span class="status on">stored</span>"#));
    assert!(!page.contains(SECRET));
}

#[tokio::test]
async fn admins_see_the_enforcement_read_only_and_other_roles_nothing() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let admin = app.member("admin@example.com", "admin").await;
    let (status, page) = html(&app, &admin, &format!("/ui/t/{tenant}/sso")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"data-api="/api/v1/sso/providers" data-method="POST""#));
    assert!(
        !page.contains(r#"data-api="/api/v1/sso/enforcement""#),
        "{page}"
    );
    assert!(page.contains("Only owners change this."));
    for role in ["editor", "viewer"] {
        let session = app.member(&format!("{role}@example.com"), role).await;
        let (status, page) = html(&app, &session, &format!("/ui/t/{tenant}/sso")).await;
        assert_eq!(status, 403, "{role}: {page}");
        assert!(!page.contains("data-api=\"/api/v1/sso"), "{page}");
        let (status, flags) = html(&app, &session, &format!("/ui/t/{tenant}/flags")).await;
        assert_eq!(status, 200);
        assert!(
            !flags.contains(">Single sign-on</a>"),
            "{role} is offered the link"
        );
    }
}

#[tokio::test]
async fn another_tenants_providers_stay_out_of_reach() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let other = app.tenant_on_plan("acme", "enterprise").await;
    let (status, provider) = read(
        app.request(Method::POST, "/api/v1/sso/providers", &other.admin)
            .json(&json!({"name": "Acme secret IdP", "kind": "oidc",
                          "oidc": {"issuer": "https://idp.acme.test", "clientId": "acme", "clientSecret": SECRET}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{provider}");
    let owner = app.owner_session().await;
    let (status, body) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/sso/providers/{}", provider["id"]),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    for path in [
        "/ui/t/acme/sso".to_owned(),
        format!("/ui/t/{}/sso", other.id.0),
    ] {
        let (status, body) = html(&app, &owner, &path).await;
        assert!(status == 403 || status == 404, "{path}: {status}");
        assert!(!body.contains("Acme secret IdP"), "{body}");
    }
    let (_, page) = html(&app, &owner, &format!("/ui/t/{tenant}/sso")).await;
    assert!(!page.contains("Acme secret IdP"));
}
