//! The sealing keys of stored secrets rotate: a server started with a new key first still opens what
//! the old key sealed, and seals a provider's secret again with the new key when the provider is saved.

use crate::helpers::{read, spawn_app_with};
use flagent_auth::secrets::SecretBox;
use flagent_config::Settings;
use flagent_types::SystemScope;
use reqwest::Method;
use serde_json::json;

const SECRET: &str = "rotating-client-secret";

#[tokio::test]
async fn a_new_sealing_key_seals_a_provider_secret_again_when_it_is_saved() {
    let (old, new) = (
        SecretBox::generate_key("k2026"),
        SecretBox::generate_key("k2027"),
    );
    let old_only = old.clone();
    let app = spawn_app_with(move |s| s.auth.secret_keys = vec![old_only.into()]).await;
    let body = json!({
        "name": "Acme", "kind": "oidc",
        "oidc": {"issuer": "https://idp.acme.test", "clientId": "flagent", "clientSecret": SECRET},
    });
    let (status, created) = app.admin_post("/api/v1/sso/providers", body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    #[allow(clippy::disallowed_methods)]
    let system = SystemScope::assume_system("test fixtures");
    let sealed = || async {
        let row = app
            .db
            .system(&system)
            .sso_provider(id)
            .await
            .unwrap()
            .unwrap();
        row.secret.expect("a sealed secret")
    };
    let context = format!("tenant:{}:sso_provider", app.a.id.0);
    assert!(sealed().await.starts_with("v1.k2026."));

    // A second server on the same database, the new key first.
    let mut settings = Settings::for_tests(&app.db_url);
    settings.auth.secret_keys = vec![new.clone().into(), old.clone().into()];
    let rotated = flagent_server::Application::build(settings)
        .await
        .expect("a server");
    let address = format!("http://127.0.0.1:{}", rotated.port());
    tokio::spawn(rotated.run_until_stopped());
    let mut unchanged = body.clone();
    unchanged["oidc"]
        .as_object_mut()
        .unwrap()
        .remove("clientSecret");
    let (status, saved) = read(
        app.client
            .request(Method::PUT, format!("{address}/api/v1/sso/providers/{id}"))
            .bearer_auth(&app.a.admin)
            .json(&unchanged)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let resealed = sealed().await;
    assert!(resealed.starts_with("v1.k2027."), "{resealed}");
    let new_only = SecretBox::from_config(&[new]).unwrap();
    assert_eq!(
        new_only.open(&resealed, &context).unwrap(),
        SECRET,
        "the same secret"
    );
    let old_box = SecretBox::from_config(&[old]).unwrap();
    assert!(
        old_box.open(&resealed, &context).is_err(),
        "the old key alone no longer opens it"
    );
}
