//! The admin UI's Settings pages over HTTP: API keys, members and the audit log show the tenant's
//! real data to those whose role grants the matching API read, controls only to those who may
//! change it, nothing to other roles or other tenants, and never a key's plaintext.

use crate::helpers::{TestApp, read, spawn_app};
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
        for page in ["keys", "members", "audit"] {
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
        for page in ["keys", "members", "audit"] {
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
