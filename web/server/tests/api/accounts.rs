//! Users and sessions: signing in, the session cookie and its CSRF check, lockout, email verification,
//! password reset, invitations and sign-out.

use crate::helpers::{TEST_PASSWORD, read, spawn_app};
use reqwest::Method;
use serde_json::json;

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
