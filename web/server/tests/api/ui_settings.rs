//! The admin UI's Settings pages over HTTP: API keys, members, roles, the audit log and the plan's
//! usage (single sign-on has `ui_sso`) show the tenant's real data to those whose role grants the
//! matching API read, controls only to those who may change it, nothing to other roles or other
//! tenants, and never a key's plaintext; times read relative with the exact time as their title.

use crate::helpers::{Session, TestApp, read, spawn_app};
use crate::plans::set_free_limit;
use crate::ui::{html, tenant_a_key};
use reqwest::Method;
use serde_json::{Value, json};

/// Creates a key in tenant A through the API; returns its answer (with the plaintext).
async fn create_key(app: &TestApp, body: Value) -> Value {
    let (status, answer) = app.admin(Method::POST, "/api/v1/keys", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("flg_"))
    );
    answer
}

/// The table row of the element whose text is `text`.
fn row_of(body: &str, text: &str) -> String {
    let at = body
        .find(text)
        .unwrap_or_else(|| panic!("{text} on the page: {body}"));
    let start = body[..at].rfind("<tr").expect("a row");
    let end = body[at..].find("</tr>").expect("the row's end") + at;
    body[start..end].to_owned()
}

#[tokio::test]
async fn the_owner_sees_keys_members_and_the_audit_log_with_their_controls() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let owner = app.owner_session().await;

    let deploy = create_key(
        &app,
        json!({"name": "ci <deploy>", "scopes": ["read", "write"], "environment": "production",
               "expiresAt": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let old = create_key(&app, json!({"name": "old-sdk", "scopes": ["evaluate"]})).await;
    let old_id = old["id"].as_i64().unwrap();
    let (status, body) = app
        .admin(Method::DELETE, &format!("/api/v1/keys/{old_id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let rotated = create_key(&app, json!({"name": "mobile", "scopes": ["client"]})).await;
    let (status, renewed) = app
        .admin(
            Method::POST,
            &format!("/api/v1/keys/{}/rotate", rotated["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    let plaintexts: Vec<String> = [&deploy, &old, &rotated, &renewed]
        .iter()
        .map(|k| k["key"].as_str().unwrap().to_owned())
        .collect();

    let editor = app.member("editor@example.com", "editor").await;
    let (status, body) = read(
        app.request(Method::POST, "/api/v1/invitations", &app.a.admin)
            .json(&json!({"email": "pending@example.com", "role": "viewer"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let invitation = body["id"].as_i64().unwrap();
    app.create_flag("audited-flag").await;

    // API keys: every key of the project with its state, and the controls.
    let (status, keys) = html(&app, &owner, &format!("/ui/t/{tenant}/keys")).await;
    assert_eq!(status, 200, "{keys}");
    assert!(keys.contains(r#"aria-current="page">API keys"#), "{keys}");
    let deploy_row = row_of(&keys, "ci &#60;deploy&#62;");
    assert!(!keys.contains("ci <deploy>"));
    for shown in [
        deploy["prefix"].as_str().unwrap(),
        ">read<",
        ">write<",
        "production",
        "2099-01-01T00:00:00Z",
        "Active",
        "Never",
    ] {
        assert!(deploy_row.contains(shown), "{shown} in {deploy_row}");
    }
    let old_row = row_of(&keys, ">old-sdk<");
    assert!(old_row.contains("Revoked"), "{old_row}");
    assert!(
        !old_row.contains("data-method=\"DELETE\""),
        "a revoked key offers no revoke"
    );
    assert!(row_of(&keys, renewed["prefix"].as_str().unwrap()).contains("Active"));
    assert!(row_of(&keys, rotated["prefix"].as_str().unwrap()).contains("Revoked"));
    assert!(keys.contains(r#"data-api="/api/v1/keys" data-method="POST""#));
    assert!(keys.contains(&format!(
        r#"data-api="/api/v1/keys/{}/rotate""#,
        deploy["id"]
    )));
    assert!(keys.contains(&format!(
        r#"data-api="/api/v1/keys/{}" data-method="DELETE" data-confirm="#,
        deploy["id"]
    )));
    assert!(keys.contains("will not be shown again"));

    // Members: every member with their role, the pending invitation, and the controls.
    let (status, members) = html(&app, &owner, &format!("/ui/t/{tenant}/members")).await;
    assert_eq!(status, 200, "{members}");
    assert!(members.contains(&app.owner.email));
    let editor_row = row_of(&members, "editor@example.com");
    assert!(
        editor_row.contains(r#"<option value="editor" selected>"#),
        "{editor_row}"
    );
    assert!(editor_row.contains(&format!(
        r#"data-api="/api/v1/members/{}" data-method="PUT""#,
        editor.user_id
    )));
    assert!(editor_row.contains(&format!(
        r#"data-api="/api/v1/members/{}" data-method="DELETE" data-confirm="#,
        editor.user_id
    )));
    let pending_row = row_of(&members, "pending@example.com");
    assert!(pending_row.contains(&format!(
        r#"data-api="/api/v1/invitations/{invitation}" data-method="DELETE""#
    )));
    assert!(members.contains(r#"data-api="/api/v1/invitations" data-method="POST""#));
    for role in ["owner", "admin", "editor", "viewer"] {
        assert!(
            members.contains(&format!(r#"<option value="{role}""#)),
            "{role}"
        );
    }

    // The audit log: newest first, filtered like the API, with the export links.
    let (status, audit) = html(&app, &owner, &format!("/ui/t/{tenant}/audit")).await;
    assert_eq!(status, 200, "{audit}");
    for action in [
        "flag.create",
        "key.create",
        "key.revoke",
        "key.rotate",
        "invitation.create",
    ] {
        assert!(
            audit.contains(&format!("<code>{action}</code>")),
            "{action}"
        );
    }
    assert!(
        audit.find("flag.create").unwrap() < audit.find("invitation.create").unwrap(),
        "newest first"
    );
    assert!(audit.contains(r#"href="/api/v1/audit/export?format=csv""#));
    assert!(audit.contains(r#"href="/api/v1/audit/export?format=jsonl""#));
    let (status, filtered) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/audit?action=flag.&resource=flag"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(filtered.contains("<code>flag.create</code>"));
    assert!(!filtered.contains("<code>key.create</code>"), "{filtered}");
    assert!(filtered.contains(r#"value="flag.""#));
    let (status, refused) = html(
        &app,
        &owner,
        &format!("/ui/t/{tenant}/audit?from=yesterday"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        refused.contains("from must be an RFC 3339 time"),
        "{refused}"
    );

    // No page ever shows a key's plaintext.
    for page in ["keys", "members", "audit", "flags"] {
        let (status, body) = html(&app, &owner, &format!("/ui/t/{tenant}/{page}")).await;
        assert_eq!(status, 200, "{page}");
        for plaintext in &plaintexts {
            assert!(!body.contains(plaintext.as_str()), "{page} shows a key");
        }
    }
}

#[tokio::test]
async fn a_viewer_gets_no_settings_controls_and_no_audit_log() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    create_key(&app, json!({"name": "hidden-key", "scopes": ["read"]})).await;
    let viewer = app.member("v@example.com", "viewer").await;
    let editor = app.member("e@example.com", "editor").await;
    for session in [&viewer, &editor] {
        for page in ["keys", "members", "sso", "audit"] {
            let (status, body) = html(&app, session, &format!("/ui/t/{tenant}/{page}")).await;
            assert_eq!(status, 403, "{} on {page}: {body}", session.email);
            assert!(body.contains("does not grant"), "{body}");
            for control in [
                "data-api=\"/api/v1/keys",
                "data-api=\"/api/v1/invitations",
                "data-api=\"/api/v1/members",
                "Revoke",
                "Invite",
                "hidden-key",
                "<code>key.create</code>",
            ] {
                assert!(!body.contains(control), "{control} on {page}: {body}");
            }
        }
        // The flags page still works for them.
        let (status, _) = html(&app, session, &format!("/ui/t/{tenant}/flags")).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn a_member_of_one_tenant_cannot_see_another_tenants_settings() {
    let app = spawn_app().await;
    let (status, body) = read(
        app.request(Method::POST, "/api/v1/invitations", &app.b.admin)
            .json(&json!({"email": "b-invitee@example.com", "role": "editor"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = read(
        app.request(Method::POST, "/api/v1/keys", &app.b.admin)
            .json(&json!({"name": "b-secret-key", "scopes": ["read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let b_prefix = body["prefix"].as_str().unwrap().to_owned();

    let owner = app.owner_session().await;
    for tenant in ["tenant-b".to_owned(), app.b.id.0.to_string()] {
        for page in ["keys", "members", "sso", "audit"] {
            let (status, body) = html(&app, &owner, &format!("/ui/t/{tenant}/{page}")).await;
            assert!(status == 403 || status == 404, "{tenant}/{page}: {status}");
            for secret in [
                "b-invitee@example.com",
                "b-secret-key",
                "tenant-b key",
                b_prefix.as_str(),
            ] {
                assert!(!body.contains(secret), "{tenant}/{page}: {body}");
            }
        }
    }
}

/// The `<form …>…</form>` whose opening tag contains `opening` (say `data-method="PUT"`).
fn form_of(body: &str, opening: &str) -> String {
    let at = body
        .find(opening)
        .unwrap_or_else(|| panic!("a form with {opening}: {body}"));
    let start = body[..at].rfind("<form").expect("the form's start");
    let end = body[at..].find("</form>").expect("the form's end") + at;
    body[start..end].to_owned()
}

/// The value of attribute `name` in the tag `tag`.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// An attribute's text as the browser reads it (askama escapes `<>&"'` as numeric entities).
fn unescape(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

/// The `<input>` and `<select>` tags of `form`, in order.
fn fields(form: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    for (at, _) in form.match_indices('<') {
        let tag = &form[at..at + form[at..].find('>').expect("the tag's end") + 1];
        if tag.starts_with("<input") || tag.starts_with("<select") {
            tags.push(tag);
        }
    }
    tags
}

/// What `app.js` would send for `form` as it was rendered: its text fields' values and, as a list,
/// the values of its checked `data-type="list"` checkboxes.
fn rendered_body(form: &str) -> Value {
    let mut body = serde_json::Map::new();
    for tag in fields(form) {
        let Some(name) = attribute(tag, "name") else {
            continue;
        };
        let value = unescape(attribute(tag, "value").unwrap_or_default());
        if attribute(tag, "data-type") == Some("list") {
            let list = body.entry(name).or_insert_with(|| json!([]));
            if tag.contains(" checked") {
                list.as_array_mut().unwrap().push(json!(value));
            }
        } else {
            body.insert(name.to_owned(), json!(value));
        }
    }
    Value::Object(body)
}

/// A page section's link in the sidebar, as the frame renders it.
fn nav_link(label: &str) -> String {
    format!(">{label}</a>")
}

#[tokio::test]
async fn the_roles_page_shows_each_roles_permissions_and_a_custom_role_reaches_the_member_selects()
{
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    app.create_role(
        "release-manager",
        "Release <manager>",
        &["flags:read", "flags:write:production", "audit:read"],
    )
    .await;
    app.member("rm@example.com", "release-manager").await;
    let owner = app.owner_session().await;

    let (status, page) = html(&app, &owner, &format!("/ui/t/{tenant}/roles")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"aria-current="page">Roles</a>"#), "{page}");
    let grid = &page[page
        .find(r#"<table class="flags grid">"#)
        .expect("the grid")..];
    assert!(page.contains(&nav_link("Plan and usage")));
    assert!(page.contains("Release &#60;manager&#62;") && !page.contains("Release <manager>"));
    for role in ["owner", "admin", "editor", "viewer", "release-manager"] {
        assert!(page.contains(&format!("<code>{role}</code>")), "{role}");
    }
    // The grid: each permission with what it means, and the custom role limited to production.
    let write = row_of(grid, "<code>flags:write</code>");
    assert!(write.contains("change flags and targeting"), "{write}");
    assert!(write.contains("only in <code>production</code>"), "{write}");
    let toggle = row_of(grid, "<code>flags:toggle</code>");
    assert!(toggle.contains("with flags:write"), "{toggle}");
    let keys = row_of(grid, "<code>keys:manage</code>");
    assert_eq!(
        keys.matches("not granted").count(),
        3,
        "editor, viewer and release manager: {keys}"
    );
    assert_eq!(
        row_of(grid, "<code>audit:read</code>")
            .matches("not granted")
            .count(),
        2
    );
    let head = row_of(grid, ">Permission</th>");
    assert!(head.contains("custom · 1 member<"), "{head}");
    assert!(head.contains("built-in · 1 member<"), "the owner: {head}");

    // The forms: create, and edit and delete for the custom role only.
    let create = form_of(&page, r#"data-api="/api/v1/roles" data-method="POST""#);
    let names: Vec<&str> = fields(&create)
        .into_iter()
        .filter_map(|t| attribute(t, "name"))
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["key", "name", "permissions"].contains(n)),
        "{names:?}"
    );
    assert!(names.contains(&"key") && names.contains(&"name"));
    assert!(create.contains(r#"value="flags:write:development" data-type="list""#));
    assert!(create.contains(r#"<p class="form-error" role="alert" hidden></p>"#));
    assert!(!page.contains("/api/v1/roles/owner") && !page.contains("/api/v1/roles/viewer"));
    assert!(page.contains(
        r#"data-api="/api/v1/roles/release-manager" data-method="DELETE" data-confirm="#
    ));
    let edit = form_of(
        &page,
        r#"data-api="/api/v1/roles/release-manager" data-method="PUT""#,
    );
    // Sent as rendered, the edit form changes nothing and the API accepts it.
    let body = rendered_body(&edit);
    assert_eq!(
        body,
        json!({"name": "Release <manager>",
               "permissions": ["flags:read", "flags:write:production", "audit:read"]})
    );
    let (status, saved) = read(
        app.as_user(
            &owner,
            Method::PUT,
            "/api/v1/roles/release-manager",
            Some(app.a.id),
        )
        .json(&body)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["permissions"], body["permissions"]);

    // The members page offers the custom role in the invitation and in every role select.
    let (status, members) = html(&app, &owner, &format!("/ui/t/{tenant}/members")).await;
    assert_eq!(status, 200);
    let invite = form_of(
        &members,
        r#"data-api="/api/v1/invitations" data-method="POST""#,
    );
    assert!(
        invite.contains(r#"<option value="release-manager">"#),
        "{invite}"
    );
    let holder = row_of(&members, "rm@example.com");
    assert!(
        holder.contains(r#"<option value="release-manager" selected>"#),
        "{holder}"
    );
    let table = &members[members.find(r#"<table class="flags members">"#).unwrap()..];
    let other = row_of(table, &app.owner.email);
    assert!(
        other.contains(r#"<option value="release-manager">"#),
        "{other}"
    );

    // A key with a slash is encoded in the forms' paths, which reach the role.
    app.create_role("qa/lead", "QA lead", &["flags:read"]).await;
    let (_, page) = html(&app, &owner, &format!("/ui/t/{tenant}/roles")).await;
    let delete = form_of(
        &page,
        r#"data-api="/api/v1/roles/qa%2Flead" data-method="DELETE""#,
    );
    let path = attribute(&delete, "data-api").unwrap();
    let (status, body) = read(
        app.as_user(&owner, Method::DELETE, path, Some(app.a.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, page) = html(&app, &owner, &format!("/ui/t/{tenant}/roles")).await;
    assert!(!page.contains("qa/lead"), "{page}");
}

#[tokio::test]
async fn roles_and_usage_are_read_only_for_readers_and_refused_without_flags_read() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    app.create_role("key-keeper", "Key keeper", &["keys:manage"])
        .await;
    let viewer = app.member("viewer@example.com", "viewer").await;
    let editor = app.member("editor@example.com", "editor").await;
    for session in [&viewer, &editor] {
        let (status, page) = html(&app, session, &format!("/ui/t/{tenant}/roles")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("<code>key-keeper</code>"));
        assert!(!page.contains("data-api=\"/api/v1/roles"), "{page}");
        assert!(
            !page.contains(" member<"),
            "members are counted for managers only"
        );
        let (status, page) = html(&app, session, &format!("/ui/t/{tenant}/usage")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(r#"aria-current="page">Plan and usage</a>"#));
        assert!(page.contains(&nav_link("Roles")) && !page.contains(&nav_link("Members")));
    }

    // A role without flags:read opens neither page, and is not offered their links.
    let keeper = app.member("keeper@example.com", "key-keeper").await;
    for page in ["roles", "usage"] {
        let (status, body) = html(&app, &keeper, &format!("/ui/t/{tenant}/{page}")).await;
        assert_eq!(status, 403, "{page}: {body}");
        assert!(body.contains("does not grant"), "{body}");
        for secret in [
            "Key keeper",
            "keys:manage",
            "data-api",
            "<meter",
            "unlimited",
        ] {
            assert!(!body.contains(secret), "{secret} on {page}: {body}");
        }
    }
    let (status, keys) = html(&app, &keeper, &format!("/ui/t/{tenant}/keys")).await;
    assert_eq!(status, 200, "{keys}");
    assert!(keys.contains(&nav_link("API keys")));
    assert!(!keys.contains(&nav_link("Roles")) && !keys.contains(&nav_link("Plan and usage")));
}

#[tokio::test]
async fn the_usage_page_shows_the_plan_and_each_limit_against_what_is_used() {
    let app = spawn_app().await;
    let free = app.tenant_on_plan("acme", "free").await;
    let member = app
        .member_of(&free.admin, "reader@acme.example", "viewer")
        .await;
    for key in ["one", "two", "three"] {
        let (status, body) = app
            .call(
                &free.admin,
                None,
                Method::POST,
                "/api/v1/flags",
                Some(json!({"key": key, "description": key})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // The plan now allows fewer flags than the tenant has; the projects limit is reached exactly.
    set_free_limit(&app, "flags", "2").await;
    set_free_limit(&app, "projects", "1").await;
    set_free_limit(&app, "monthly_evaluations", "1234567").await;

    let (status, page) = html(&app, &member, "/ui/t/acme/usage").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong>Free</strong> plan (<code>free</code>)"),
        "{page}"
    );
    assert!(page.contains("operator"));
    assert!(
        !page.contains("Upgrade"),
        "no billing integration, no upgrade button"
    );
    let period = read(
        app.request(Method::GET, "/api/v1/usage", &free.read)
            .send()
            .await
            .unwrap(),
    )
    .await
    .1["period"]
        .as_str()
        .unwrap()
        .to_owned();
    let year = &period[..4];
    assert!(
        page.contains(&format!(" {year} (1 – ")),
        "the period: {page}"
    );

    let flags = row_of(&page, r#"id="limit-flags""#);
    assert!(
        flags.contains(r#"<td class="figure used">3</td>"#),
        "{flags}"
    );
    assert!(
        flags.contains(r#"<td class="figure allowed">2</td>"#),
        "{flags}"
    );
    assert!(
        flags.contains(r#"max="2""#) && flags.contains(r#"value="3""#),
        "{flags}"
    );
    assert!(flags.contains("Over the limit") && flags.contains("creating or importing new flags"));
    let projects = row_of(&page, r#"id="limit-projects""#);
    assert!(projects.contains("At the limit") && projects.contains("creating projects"));
    let seats = row_of(&page, r#"id="limit-seats""#);
    assert!(
        seats.contains(r#"<td class="figure used">1</td>"#),
        "{seats}"
    );
    assert!(!seats.contains("limit:"), "{seats}");
    let evaluations = row_of(&page, r#"id="limit-evaluations""#);
    assert!(evaluations.contains(">1,234,567</td>"), "{evaluations}");
    assert!(page.contains("over 1 limit of its plan"), "{page}");
    assert!(page.contains("events of the last 30 days"));

    // The self-hosted plan of tenant A limits nothing.
    let tenant = tenant_a_key(&app).await;
    let owner = app.owner_session().await;
    let (status, page) = html(&app, &owner, &format!("/ui/t/{tenant}/usage")).await;
    assert_eq!(status, 200);
    assert_eq!(
        page.matches(r#"<td class="figure allowed">unlimited</td>"#)
            .count(),
        5
    );
    assert!(!page.contains("<meter") && !page.contains("Over the limit"));
}

#[tokio::test]
async fn another_tenants_roles_and_usage_stay_out_of_reach() {
    let app = spawn_app().await;
    let (status, body) = read(
        app.request(Method::POST, "/api/v1/roles", &app.b.admin)
            .json(
                &json!({"key": "b-secret-role", "name": "B secret", "permissions": ["flags:read"]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for key in ["b-1", "b-2"] {
        let (status, body) = read(
            app.request(Method::POST, "/api/v1/flags", &app.b.admin)
                .json(&json!({"key": key, "description": key}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let tenant = tenant_a_key(&app).await;
    app.create_flag("a-only").await;
    let owner = app.owner_session().await;

    for b in ["tenant-b".to_owned(), app.b.id.0.to_string()] {
        for page in ["roles", "usage"] {
            let (status, body) = html(&app, &owner, &format!("/ui/t/{b}/{page}")).await;
            assert!(status == 403 || status == 404, "{b}/{page}: {status}");
            assert!(
                !body.contains("b-secret-role") && !body.contains("B secret"),
                "{body}"
            );
            assert!(
                !body.contains("<meter") && !body.contains("limit-flags"),
                "{body}"
            );
        }
    }
    // Tenant A's own pages show only tenant A's roles and flags.
    let (_, roles) = html(&app, &owner, &format!("/ui/t/{tenant}/roles")).await;
    assert!(!roles.contains("b-secret-role"), "{roles}");
    let (_, usage) = html(&app, &owner, &format!("/ui/t/{tenant}/usage")).await;
    let flags = row_of(&usage, r#"id="limit-flags""#);
    assert!(
        flags.contains(r#"<td class="figure used">1</td>"#),
        "{flags}"
    );
}

/// Every `<time>` of `body` as (datetime, title, text).
fn times(body: &str) -> Vec<(String, String, String)> {
    body.match_indices("<time ")
        .map(|(at, _)| {
            let tag = &body[at..at + body[at..].find('>').unwrap() + 1];
            let text_end = body[at..].find("</time>").unwrap() + at;
            (
                attribute(tag, "datetime").unwrap().to_owned(),
                attribute(tag, "title").unwrap().to_owned(),
                body[at + tag.len()..text_end].to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn times_read_relative_with_the_exact_utc_time_as_their_title() {
    let app = spawn_app().await;
    let tenant = tenant_a_key(&app).await;
    let flag = app.create_flag("timed").await;
    let id = flag["id"].as_i64().unwrap();
    create_key(&app, json!({"name": "timed-key", "scopes": ["read"]})).await;
    let owner: Session = app.owner_session().await;
    for page in [
        "flags".to_owned(),
        format!("flags/{id}"),
        "keys".to_owned(),
        "members".to_owned(),
        "audit".to_owned(),
    ] {
        let (status, body) = html(&app, &owner, &format!("/ui/t/{tenant}/{page}")).await;
        assert_eq!(status, 200, "{page}");
        let times = times(&body);
        assert!(!times.is_empty(), "{page} shows no time");
        for (datetime, title, text) in &times {
            // 2026-03-02T14:05:09Z, titled 2026-03-02 14:05:09 UTC.
            assert_eq!(datetime.len(), 20, "{page}: {datetime}");
            let exact = format!("{} UTC", datetime.trim_end_matches('Z').replace('T', " "));
            assert_eq!(title, &exact, "{page}");
            assert_ne!(text, datetime, "{page}: the text is not relative");
        }
        assert!(
            times.iter().any(|(_, _, text)| text == "just now"),
            "{page}: {times:?}"
        );
    }
}
