//! Forged, wrapped and misdirected SAML responses: the real test IdP (`saml_idp.rs`) is made to
//! misbehave on purpose (`POST /test/tamper`): the response of the next sign-in is changed after it was
//! signed, signed by a key the provider does not know, not signed, wrapped in the XSW1–XSW8 shapes, or
//! signed validly with a wrong audience, recipient, destination, issuer, time or request id. Each
//! sign-in goes through the browser's redirect and post as a real one does and must end at the sign-in
//! page with the right code, no session, nobody created, and an `sso.login_failed` event naming the
//! failed check. The tampers that must pass (times within the allowed skew) sign in.

use crate::helpers::{TestApp, spawn_app};
use crate::saml_idp::SamlIdp;
use crate::sso::{Browser, Landing, audit_events, sso_error};
use crate::sso_saml::{connected_saml, signed_in};
use serde_json::{Value, json};

/// A sign-in as bob whose response the IdP tampers with as `spec` says.
async fn tampered(app: &TestApp, idp: &SamlIdp, provider: &Value, spec: &Value) -> Landing {
    let applied = idp.tampered().await;
    idp.tamper(spec.clone()).await;
    let landing = Browser::new().saml_sign_in(app, idp, provider, "bob").await;
    assert_eq!(idp.tampered().await, applied + 1, "the IdP applied {spec}");
    landing
}

/// The reasons of tenant A's `sso.login_failed` events, newest first.
async fn failure_reasons(app: &TestApp) -> Vec<String> {
    audit_events(app, "sso.login_failed")
        .await
        .iter()
        .map(|e| e["after"]["reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The emails of tenant A's members.
async fn members(app: &TestApp) -> Vec<String> {
    let (status, body) = app.admin_get("/api/v1/members").await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["email"].as_str().map(str::to_owned))
        .collect()
}

/// Runs each `(tamper, code, check)` case: the sign-in is refused with `code`, one failure is audited
/// whose reason starts with the code and names `check`, and no member appears.
async fn assert_each_refused(
    app: &TestApp,
    idp: &SamlIdp,
    provider: &Value,
    cases: &[(Value, &str, &str)],
) {
    let people = members(app).await;
    for (spec, code, check) in cases {
        let before = failure_reasons(app).await.len();
        let landing = tampered(app, idp, provider, spec).await;
        assert_eq!(&sso_error(&landing), code, "{spec}");
        let reasons = failure_reasons(app).await;
        assert_eq!(reasons.len(), before + 1, "one failure audited for {spec}");
        assert!(
            reasons[0].starts_with(code) && reasons[0].contains(check),
            "{spec}: the audited reason names {check:?}: {}",
            reasons[0]
        );
        assert_eq!(members(app).await, people, "nobody was created by {spec}");
    }
}

#[tokio::test]
async fn changed_unsigned_and_foreign_signed_responses_are_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let cases = [
        (
            json!({"after": "tamper-nameid"}),
            "sso_invalid_signature",
            "signature",
        ),
        (
            json!({"after": "tamper-attribute"}),
            "sso_invalid_signature",
            "signature",
        ),
        (
            json!({"sign": "foreign"}),
            "sso_invalid_signature",
            "signature",
        ),
        (
            json!({"sign": "none"}),
            "sso_invalid_signature",
            "signature",
        ),
        (
            json!({"sign": "response", "after": "tamper-nameid"}),
            "sso_invalid_signature",
            "signature",
        ),
    ];
    assert_each_refused(&app, &idp, &provider, &cases).await;
    // The IdP signing the Response, the Assertion or both is accepted.
    for sign in ["response", "both", "assertion"] {
        idp.tamper(json!({"sign": sign})).await;
        signed_in(
            Browser::new()
                .saml_sign_in(&app, &idp, &provider, "bob")
                .await,
        );
    }
}

#[tokio::test]
async fn wrapped_duplicated_and_commented_assertions_are_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let mut cases = vec![
        (
            json!({"after": "unsigned-second-assertion"}),
            "sso_invalid_assertion",
            "2 assertions",
        ),
        (
            json!({"after": "comment-nameid"}),
            "sso_invalid_assertion",
            "comment",
        ),
        (json!({"after": "doctype"}), "sso_invalid_assertion", "DTD"),
    ];
    for shape in 1..=8 {
        let spec = if shape <= 2 {
            json!({"after": format!("xsw{shape}"), "sign": "response"})
        } else {
            json!({"after": format!("xsw{shape}")})
        };
        let check = if shape <= 2 { "Response" } else { "assertions" };
        cases.push((spec, "sso_invalid_assertion", check));
    }
    assert_each_refused(&app, &idp, &provider, &cases).await;
    assert!(
        !members(&app).await.iter().any(|m| m.contains("evil")),
        "the unsigned copies named evil@evil.test"
    );
}

#[tokio::test]
async fn responses_for_another_audience_recipient_destination_or_issuer_are_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let elsewhere = "https://other-sp.example/saml/acs";
    let cases = [
        (
            json!({"values": {"audience": "https://other-sp.example/metadata"}}),
            "sso_invalid_assertion",
            "Audience",
        ),
        (
            json!({"values": {"audience": null}}),
            "sso_invalid_assertion",
            "AudienceRestriction",
        ),
        (
            json!({"values": {"recipient": elsewhere}}),
            "sso_invalid_assertion",
            "Recipient",
        ),
        (
            json!({"values": {"destination": elsewhere}}),
            "sso_invalid_assertion",
            "Destination",
        ),
        (
            json!({"values": {"issuer": "https://evil-idp.example/metadata"}}),
            "sso_invalid_assertion",
            "Issuer",
        ),
        (
            json!({"values": {"inResponseTo": "_an-unknown-request"}}),
            "sso_invalid_assertion",
            "request",
        ),
    ];
    assert_each_refused(&app, &idp, &provider, &cases).await;
}

#[tokio::test]
async fn expired_and_not_yet_valid_responses_are_refused_beyond_two_minutes_of_skew() {
    let app = spawn_app().await;
    let (idp, provider) = connected_saml(&app, json!({})).await;
    let at = |seconds: i64| json!({"offsetSeconds": seconds});
    let cases = [
        (
            json!({"values": {"notOnOrAfter": at(-180)}}),
            "sso_expired",
            "expired",
        ),
        (
            json!({"values": {"notBefore": at(180)}}),
            "sso_invalid_assertion",
            "not valid until",
        ),
        (
            json!({"values": {"issueInstant": at(-600), "notBefore": at(-600)}}),
            "sso_expired",
            "expired",
        ),
        (
            json!({"values": {"issueInstant": at(600), "notBefore": at(590)}}),
            "sso_invalid_assertion",
            "not valid until",
        ),
    ];
    assert_each_refused(&app, &idp, &provider, &cases).await;
    // Within the skew, both ways, a sign-in goes through.
    for values in [
        json!({"notOnOrAfter": at(-60)}),
        json!({"notBefore": at(60), "issueInstant": at(60)}),
    ] {
        idp.tamper(json!({"values": values})).await;
        signed_in(
            Browser::new()
                .saml_sign_in(&app, &idp, &provider, "bob")
                .await,
        );
    }
}

#[tokio::test]
async fn another_tenants_provider_never_signs_anyone_into_this_tenant() {
    let app = spawn_app().await;
    let (idp, provider_a) = connected_saml(&app, json!({})).await;
    let b = app.tenant_on_plan("tenant-sso-b", "enterprise").await;
    let body = crate::sso_saml::provider_body(&idp, json!({}));
    let (status, provider_b) = app
        .call(
            &b.admin,
            None,
            reqwest::Method::POST,
            "/api/v1/sso/providers",
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{provider_b}");

    // A response made for B's provider, posted to A's ACS, and the reverse, are refused.
    for (from, to) in [(&provider_b, &provider_a), (&provider_a, &provider_b)] {
        let mut browser = Browser::new();
        let mut post = browser.saml_response(&app, &idp, from, "bob").await;
        post.acs = to["sp"]["acsURL"].as_str().unwrap().to_owned();
        let landing = browser.post_to_acs(&app, &post).await;
        assert!(
            ["sso_state_mismatch", "sso_invalid_assertion"].contains(&sso_error(&landing).as_str()),
            "{}",
            landing.location
        );
    }
    // Through B's provider, bob becomes a member of B only.
    let token = signed_in(
        Browser::new()
            .saml_sign_in(&app, &idp, &provider_b, "bob")
            .await,
    );
    let (_, me) = crate::sso::me(&app, &token).await;
    let tenants = me["tenants"].as_array().expect("tenants");
    assert_eq!(tenants.len(), 1, "{me}");
    assert_eq!(tenants[0]["id"], json!(b.id.0), "{me}");
    assert!(!members(&app).await.contains(&"bob@acme.test".to_owned()));
}
