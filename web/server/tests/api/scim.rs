//! SCIM 2.0 provisioning (`/scim/v2`) as an identity provider drives it: a SCIM token (an API key with
//! the `scim` scope alone) creates, finds, changes, deactivates and deletes people and groups; groups
//! map to roles through the providers' rules; deactivation ends the member's access in the tenant at
//! once; another tenant's token sees nothing of this one; every refusal is a SCIM error body.

use crate::helpers::{TestApp, read, spawn_app};
use crate::sso::audit_events;
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM token of the tenant whose admin key is `admin`.
pub(crate) async fn scim_token(app: &TestApp, admin: &str) -> String {
    let (status, made) = app
        .call(
            admin,
            None,
            Method::POST,
            "/api/v1/keys",
            Some(json!({"name": "Okta provisioning", "scopes": ["scim"]})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().expect("the token").to_owned();
    assert!(key.starts_with("flg_scim_"), "{key}");
    key
}

/// A SCIM request with `token`; answers the status and the body (`null` when empty).
pub(crate) async fn scim(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, format!("{}/scim/v2{path}", app.address))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("a SCIM request");
    let status = response.status().as_u16();
    if status != 204 && status < 400 {
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("application/scim+json"), "{kind}");
    }
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"))
    };
    (status, body)
}

fn user(user_name: &str, given: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "name": {"givenName": given, "familyName": "Example"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
    })
}

/// Asserts a SCIM error body with `status` and, when given, `scim_type`.
fn assert_scim_error((status, body): &(u16, Value), expected: u16, scim_type: Option<&str>) {
    assert_eq!(*status, expected, "{body}");
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "{body}");
    assert_eq!(body["status"], expected.to_string(), "{body}");
    if let Some(scim_type) = scim_type {
        assert_eq!(body["scimType"], scim_type, "{body}");
    }
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

/// The role of `email` in tenant A, if a member.
async fn role_of(app: &TestApp, email: &str) -> Option<String> {
    let (status, members) = app.admin_get("/api/v1/members").await;
    assert_eq!(status, 200, "{members}");
    members
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == email)
        .map(|m| m["role"].as_str().unwrap_or_default().to_owned())
}

/// A SAML provider in tenant A whose rules map the `flag-admins` group to `admin` (no IdP needed: the
/// rules are what SCIM's groups go through).
async fn provider_with_rules(app: &TestApp) {
    let body = json!({
        "name": "Acme", "kind": "saml", "defaultRole": "viewer",
        "roleRules": [{"claim": "groups", "op": "equals", "value": "flag-admins", "role": "admin"}],
        "saml": {"idpEntityID": "https://idp.acme.test", "ssoURL": "https://idp.acme.test/sso",
                 "certificates": [include_str!("../fixtures/saml-idp-cert.pem")]},
    });
    let (status, body) = app.admin_post("/api/v1/sso/providers", body).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn an_identity_provider_provisions_finds_changes_and_removes_people() {
    let app = spawn_app().await;
    let token = scim_token(&app, &app.a.admin).await;
    let (status, config) = scim(&app, &token, Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(status, 200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);

    let (status, ada) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(user("ada@acme.test", "Ada")),
    )
    .await;
    assert_eq!(status, 201, "{ada}");
    let id = ada["id"].as_str().expect("an id").to_owned();
    assert_eq!(ada["userName"], "ada@acme.test");
    assert_eq!(
        ada["name"]["givenName"], "Ada",
        "attributes are kept as sent"
    );
    assert_eq!(ada["active"], true);
    assert_eq!(ada["meta"]["resourceType"], "User");
    assert!(
        ada["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );
    assert_eq!(
        role_of(&app, "ada@acme.test").await.as_deref(),
        Some("viewer")
    );

    // Found by userName (any case), externalId and id; a second one with the same userName is refused.
    for filter in [
        "userName eq \"ADA@acme.test\"",
        "externalId eq \"ext-ada@acme.test\"",
        &format!("id eq \"{id}\""),
        "name.givenName sw \"Ad\" and active eq true",
    ] {
        let path = format!("/Users?filter={}", urlencode(filter));
        let (status, list) = scim(&app, &token, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["totalResults"], 1, "{filter}: {list}");
        assert_eq!(list["Resources"][0]["id"], id.as_str());
    }
    let (_, none) = scim(
        &app,
        &token,
        Method::GET,
        "/Users?filter=userName%20eq%20%22nobody%40acme.test%22",
        None,
    )
    .await;
    assert_eq!(none["totalResults"], 0);
    assert_eq!(none["Resources"], json!([]));
    assert_scim_error(
        &scim(
            &app,
            &token,
            Method::POST,
            "/Users",
            Some(user("Ada@Acme.test", "Ada")),
        )
        .await,
        409,
        Some("uniqueness"),
    );

    // Pages of two.
    for name in ["bob@acme.test", "cy@acme.test", "di@acme.test"] {
        let (status, _) = scim(&app, &token, Method::POST, "/Users", Some(user(name, "X"))).await;
        assert_eq!(status, 201);
    }
    let (_, first) = scim(
        &app,
        &token,
        Method::GET,
        "/Users?startIndex=1&count=2",
        None,
    )
    .await;
    assert_eq!(first["totalResults"], 4);
    assert_eq!(first["itemsPerPage"], 2);
    assert_eq!(first["Resources"].as_array().unwrap().len(), 2);
    let (_, last) = scim(
        &app,
        &token,
        Method::GET,
        "/Users?startIndex=4&count=2",
        None,
    )
    .await;
    assert_eq!(last["Resources"].as_array().unwrap().len(), 1);
    assert_eq!(last["startIndex"], 4);

    // PATCH as Entra sends it, then PUT.
    let patch = json!({"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "Replace", "path": "name.givenName", "value": "Augusta"},
        {"op": "Add", "value": {"displayName": "Ada Lovelace"}},
    ]});
    let (status, patched) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"]["givenName"], "Augusta");
    assert_eq!(patched["displayName"], "Ada Lovelace");
    let mut replaced = user("ada@acme.test", "Ada");
    replaced["title"] = json!("Countess");
    let (status, put) = scim(
        &app,
        &token,
        Method::PUT,
        &format!("/Users/{id}"),
        Some(replaced),
    )
    .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["title"], "Countess");
    assert!(put.get("displayName").is_none(), "PUT replaces: {put}");

    // Deactivated: no longer a member; reactivated: a member again. Deleted: gone, account kept.
    let deactivate = json!({"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "path": "active", "value": "False"}]});
    let (status, inactive) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(deactivate),
    )
    .await;
    assert_eq!(status, 200, "{inactive}");
    assert_eq!(inactive["active"], false);
    assert_eq!(role_of(&app, "ada@acme.test").await, None);
    let reactivate = json!({"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "replace", "value": {"active": true}}]});
    scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(reactivate),
    )
    .await;
    assert_eq!(
        role_of(&app, "ada@acme.test").await.as_deref(),
        Some("viewer")
    );
    let (status, _) = scim(&app, &token, Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(role_of(&app, "ada@acme.test").await, None);
    assert_scim_error(
        &scim(&app, &token, Method::GET, &format!("/Users/{id}"), None).await,
        404,
        None,
    );

    for action in [
        "scim.token.created",
        "scim.user.created",
        "scim.user.updated",
        "scim.user.deactivated",
        "scim.user.deleted",
    ] {
        assert!(
            !audit_events(&app, action).await.is_empty(),
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn groups_map_to_roles_through_the_providers_rules() {
    let app = spawn_app().await;
    provider_with_rules(&app).await;
    let token = scim_token(&app, &app.a.admin).await;
    let (_, ada) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(user("ada@acme.test", "Ada")),
    )
    .await;
    let (_, bob) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(user("bob@acme.test", "Bob")),
    )
    .await;
    let (ada, bob) = (
        ada["id"].as_str().unwrap().to_owned(),
        bob["id"].as_str().unwrap().to_owned(),
    );

    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "flag-admins",
                       "members": [{"value": ada}]});
    let (status, admins) = scim(&app, &token, Method::POST, "/Groups", Some(group)).await;
    assert_eq!(status, 201, "{admins}");
    let gid = admins["id"].as_str().unwrap().to_owned();
    assert_eq!(admins["members"][0]["value"], ada.as_str());
    assert_eq!(
        role_of(&app, "ada@acme.test").await.as_deref(),
        Some("admin")
    );
    let (_, ada_now) = scim(&app, &token, Method::GET, &format!("/Users/{ada}"), None).await;
    assert_eq!(ada_now["groups"][0]["display"], "flag-admins");

    // Okta adds and removes members with PATCH.
    let add = json!({"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": bob}]}]});
    let (status, _) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(add),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        role_of(&app, "bob@acme.test").await.as_deref(),
        Some("admin")
    );
    let remove = json!({"schemas": [PATCH_SCHEMA], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{ada}\"]")}]});
    let (status, after) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        Some(remove),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        role_of(&app, "ada@acme.test").await.as_deref(),
        Some("viewer")
    );

    let (_, found) = scim(
        &app,
        &token,
        Method::GET,
        "/Groups?filter=displayName%20eq%20%22Flag-Admins%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], 1);
    assert_scim_error(
        &scim(
            &app,
            &token,
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "FLAG-ADMINS"})),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    assert_scim_error(
        &scim(&app, &token, Method::POST, "/Groups", Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "x", "members": [{"value": "999999"}]}))).await,
        400,
        Some("invalidValue"),
    );

    // Deleting the group takes its role away.
    let (status, _) = scim(
        &app,
        &token,
        Method::DELETE,
        &format!("/Groups/{gid}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        role_of(&app, "bob@acme.test").await.as_deref(),
        Some("viewer")
    );
    for action in [
        "scim.group.created",
        "scim.group.updated",
        "scim.group.deleted",
    ] {
        assert!(
            !audit_events(&app, action).await.is_empty(),
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn deactivation_ends_the_members_access_in_the_tenant_at_once() {
    let app = spawn_app().await;
    let member = app.member("eve@acme.test", "editor").await;
    let token = scim_token(&app, &app.a.admin).await;
    let flags = |session: &crate::helpers::Session| {
        let request = app
            .client
            .get(format!("{}/api/v1/flags", app.address))
            .bearer_auth(&session.token);
        async move { read(request.send().await.unwrap()).await.0 }
    };
    assert_eq!(flags(&member).await, 200);

    // An existing member is linked by userName, keeping their role.
    let (status, eve) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(user("eve@acme.test", "Eve")),
    )
    .await;
    assert_eq!(status, 201, "{eve}");
    assert_eq!(
        role_of(&app, "eve@acme.test").await.as_deref(),
        Some("editor")
    );
    let id = eve["id"].as_str().unwrap();
    let mut inactive = user("eve@acme.test", "Eve");
    inactive["active"] = json!(false);
    let (status, _) = scim(
        &app,
        &token,
        Method::PUT,
        &format!("/Users/{id}"),
        Some(inactive),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(
        flags(&member).await,
        200,
        "the session no longer acts in the tenant"
    );
}

#[tokio::test]
async fn scim_tokens_do_only_scim_and_only_in_their_tenant() {
    let app = spawn_app().await;
    let token = scim_token(&app, &app.a.admin).await;
    let (_, ada) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(user("ada@acme.test", "Ada")),
    )
    .await;
    let id = ada["id"].as_str().unwrap().to_owned();

    // Nothing else: not the management API; and no other key does SCIM.
    let (status, _) = app
        .call(&token, None, Method::GET, "/api/v1/flags", None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = scim(&app, &app.a.admin, Method::GET, "/Users", None).await;
    assert_eq!(status, 403);
    let (status, body) = app
        .admin_post(
            "/api/v1/keys",
            json!({"name": "x", "scopes": ["scim", "read"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let owner = app.owner_session().await;
    let (status, _) = scim(&app, &owner.token, Method::GET, "/Users", None).await;
    assert_eq!(status, 403, "no role grants scim:provision");

    // Tenant B's token sees none of A.
    let other = scim_token(&app, &app.b.admin).await;
    let (status, list) = scim(&app, &other, Method::GET, "/Users", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["totalResults"], 0, "{list}");
    let (_, found) = scim(
        &app,
        &other,
        Method::GET,
        "/Users?filter=userName%20eq%20%22ada%40acme.test%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], 0);
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(user("ada@acme.test", "Mallory"))),
        (
            Method::PATCH,
            Some(
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
            ),
        ),
        (Method::DELETE, None),
    ] {
        let answer = scim(&app, &other, method.clone(), &format!("/Users/{id}"), body).await;
        assert_scim_error(&answer, 404, None);
    }
    let (_, still) = scim(&app, &token, Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(still["active"], true);
    assert_eq!(still["name"]["givenName"], "Ada");
    // B cannot pull A's member into B either: the account exists and B verified no domain.
    assert_scim_error(
        &scim(
            &app,
            &other,
            Method::POST,
            "/Users",
            Some(user("ada@acme.test", "Ada")),
        )
        .await,
        409,
        Some("uniqueness"),
    );
}

#[tokio::test]
async fn bad_scim_requests_get_scim_errors_and_change_nothing() {
    let app = spawn_app().await;
    let token = scim_token(&app, &app.a.admin).await;
    let cases = [
        (
            Method::GET,
            "/Users?filter=userName%20eq",
            None,
            400,
            Some("invalidFilter"),
        ),
        (
            Method::GET,
            "/Users?count=many",
            None,
            400,
            Some("invalidValue"),
        ),
        (
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA]})),
            400,
            Some("invalidValue"),
        ),
        (
            Method::POST,
            "/Users",
            Some(json!({"userName": "no-schemas@acme.test"})),
            400,
            Some("invalidSyntax"),
        ),
        (
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "x@acme.test", "active": "maybe"})),
            400,
            Some("invalidValue"),
        ),
        (Method::GET, "/Users/abc", None, 404, None),
        (Method::GET, "/Groups/0", None, 404, None),
        (Method::GET, "/Schemas/urn:nothing", None, 404, None),
        (Method::GET, "/NoSuchThing", None, 404, None),
    ];
    for (method, path, body, status, scim_type) in cases {
        let answer = scim(&app, &token, method, path, body).await;
        assert_scim_error(&answer, status, scim_type);
    }
    let response = app
        .client
        .post(format!("{}/scim/v2/Users", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (_, list) = scim(&app, &token, Method::GET, "/Users", None).await;
    assert_eq!(list["totalResults"], 0, "nothing was created");
    let (_, schemas) = scim(&app, &token, Method::GET, "/Schemas", None).await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(
        ids.contains(&USER_SCHEMA) && ids.contains(&GROUP_SCHEMA),
        "{ids:?}"
    );
    let (_, types) = scim(&app, &token, Method::GET, "/ResourceTypes/User", None).await;
    assert_eq!(types["endpoint"], "/Users");
}

/// `text` percent-encoded for a query value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_person_without_an_email_address_becomes_a_member_once_one_arrives() {
    let app = spawn_app().await;
    let token = scim_token(&app, &app.a.admin).await;
    let (status, people_before) = app.admin_get("/api/v1/members").await;
    assert_eq!(status, 200, "{people_before}");

    let (status, grace) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(json!({"schemas": [USER_SCHEMA], "userName": "ghopper", "name": {"givenName": "Grace"}})),
    )
    .await;
    assert_eq!(status, 201, "{grace}");
    assert_eq!(grace["userName"], "ghopper");
    let (status, listed) = scim(
        &app,
        &token,
        Method::GET,
        "/Users?filter=userName%20eq%20%22GHOPPER%22",
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["totalResults"], 1, "{listed}");
    let (_, people) = app.admin_get("/api/v1/members").await;
    assert_eq!(people, people_before, "no account, so no member yet");

    let id = grace["id"].as_str().expect("id");
    let (status, patched) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "add", "path": "emails",
                            "value": [{"value": "grace@acme.test", "primary": true}]}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        role_of(&app, "grace@acme.test").await.as_deref(),
        Some("viewer")
    );

    let (status, deactivated) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "active", "value": false}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{deactivated}");
    assert_eq!(role_of(&app, "grace@acme.test").await, None);
}

#[tokio::test]
async fn answers_hold_the_attributes_asked_for_by_query_or_search_request() {
    let app = spawn_app().await;
    let token = scim_token(&app, &app.a.admin).await;
    let (status, ada) = scim(
        &app,
        &token,
        Method::POST,
        "/Users",
        Some(user("ada@acme.test", "Ada")),
    )
    .await;
    assert_eq!(status, 201, "{ada}");
    let id = ada["id"].as_str().expect("id");

    let (status, only) = scim(
        &app,
        &token,
        Method::GET,
        &format!("/Users/{id}?attributes=userName,name.givenName"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{only}");
    assert_eq!(
        only,
        json!({"schemas": [USER_SCHEMA], "id": id, "userName": "ada@acme.test",
               "name": {"givenName": "Ada"}})
    );

    let (status, listed) = scim(
        &app,
        &token,
        Method::GET,
        "/Users?excludedAttributes=name,emails,meta",
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let first = &listed["Resources"][0];
    assert_eq!(first["userName"], "ada@acme.test", "{listed}");
    for gone in ["name", "emails", "meta"] {
        assert!(first.get(gone).is_none(), "{gone} excluded: {listed}");
    }

    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "name.givenName eq \"ada\"",
        "attributes": ["externalId"],
        "startIndex": 1,
        "count": 10,
    });
    let (status, found) = scim(&app, &token, Method::POST, "/Users/.search", Some(search)).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(
        found["Resources"][0],
        json!({"schemas": [USER_SCHEMA], "id": id, "externalId": "ext-ada@acme.test"})
    );

    // Removing `active` leaves it unassigned, which counts as active: still a member.
    let (status, removed) = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "remove", "path": "active"}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    assert!(removed.get("active").is_none(), "{removed}");
    assert_eq!(
        role_of(&app, "ada@acme.test").await.as_deref(),
        Some("viewer")
    );

    for (path, body, scim_type) in [
        (
            "/Users/.search",
            json!({"filter": "userName pr"}),
            "invalidSyntax",
        ),
        (
            "/Groups/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "attributes": "displayName"}),
            "invalidValue",
        ),
    ] {
        assert_scim_error(
            &scim(&app, &token, Method::POST, path, Some(body)).await,
            400,
            Some(scim_type),
        );
    }
    assert_scim_error(
        &scim(
            &app,
            &token,
            Method::GET,
            &format!("/Users/{id}?attributes=name..x"),
            None,
        )
        .await,
        400,
        Some("invalidValue"),
    );
}

#[tokio::test]
async fn scim2_tester_finds_no_failure() {
    let app = spawn_app().await;
    let token = scim_token(&app, &app.a.admin).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scim/check.py");
    let base = format!("{}/scim/v2", app.address);
    // The server runs on this test's runtime: wait for Python on a blocking thread.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args([script, &base, &token])
            .output()
            .expect("start python3 (the SCIM compliance check needs it)")
    })
    .await
    .expect("join");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "scim2-tester found failures (install it with \
         `python3 -m pip install -r web/server/tests/requirements.txt`):\n{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every check ran: discovery, and create, read, replace, patch and delete on both types.
    let summary = printed.lines().last().unwrap_or_default();
    let passed: usize = summary
        .strip_prefix("scim2-tester: ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line: {printed}"));
    assert!(passed >= 80, "only {passed} checks passed:\n{printed}");
    for resource in ["[User]", "[Group]"] {
        assert!(
            printed.lines().any(|l| l.starts_with("PASS")
                && l.contains("check_replace_attribute")
                && l.contains(resource)),
            "no PATCH check passed on {resource}:\n{printed}"
        );
    }
}
