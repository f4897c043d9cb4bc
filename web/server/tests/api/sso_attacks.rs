//! Forged and misdirected ID tokens: the real test IdP (`idp.rs`) is made to misbehave on purpose
//! (`POST /test/tamper`): the token response of the next sign-in carries an ID token with changed
//! claims, signed by a key that is not the IdP's, unsigned, or signed with the client secret. Each
//! sign-in goes through the browser's redirects as a real one does, and must end at the sign-in page
//! with the right refusal code, no session, and an `sso.login_failed` event naming the failed check.
//! The one tamper that must pass (an `exp` within the allowed skew) signs in.

use crate::helpers::{TestApp, spawn_app};
use crate::idp::OidcIdp;
use crate::sso::{Browser, CLIENT_ID, Landing, audit_events, connected, me, sso_error};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// A client of the IdP other than this server.
const OTHER_CLIENT: &str = "someone-else";

/// Now, in seconds since the epoch (the IdP runs on the same clock).
fn now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(elapsed.as_secs()).expect("seconds fit in i64")
}

/// A sign-in as `account` whose token response the IdP tampers with as `spec` says.
async fn tampered_sign_in(
    app: &TestApp,
    idp: &OidcIdp,
    provider: &Value,
    account: &str,
    spec: Value,
) -> Landing {
    let applied = idp.tampered().await;
    idp.tamper(spec.clone()).await;
    let landing = Browser::new().sign_in(app, provider, account).await;
    assert_eq!(
        idp.tampered().await,
        applied + 1,
        "the IdP tampered with the token response: {spec}"
    );
    landing
}

/// The `reason` of every `sso.login_failed` event, newest first.
async fn failure_reasons(app: &TestApp) -> Vec<String> {
    audit_events(app, "sso.login_failed")
        .await
        .iter()
        .map(|e| {
            e["after"]["reason"]
                .as_str()
                .unwrap_or_else(|| panic!("a failure event without a reason: {e}"))
                .to_owned()
        })
        .collect()
}

/// A sign-in as u-bob with the token response tampered as `spec` says, which must be refused: the
/// refusal code, and the reason of the one `sso.login_failed` event it added.
async fn refused(app: &TestApp, idp: &OidcIdp, provider: &Value, spec: Value) -> (String, String) {
    let before = failure_reasons(app).await.len();
    let landing = tampered_sign_in(app, idp, provider, "u-bob", spec.clone()).await;
    // No session, and the browser is back at the sign-in page.
    let code = sso_error(&landing);
    let reasons = failure_reasons(app).await;
    assert_eq!(reasons.len(), before + 1, "one failure audited for {spec}");
    (code, reasons[0].clone())
}

/// Asserts that a refusal has `code` and that its audited reason names `check`.
fn assert_refused((code, reason): &(String, String), expected: &str, check: &str) {
    assert_eq!(code, expected, "{reason}");
    assert!(
        reason.starts_with(expected) && reason.contains(check),
        "the audit event names the failed check ({check:?}): {reason}"
    );
}

/// Asserts that `landing` is a finished sign-in, and returns its session token.
fn signed_in(landing: Landing) -> String {
    assert_eq!(landing.location, "/ui/flags", "signed in");
    landing.session.expect("a session cookie")
}

#[tokio::test]
async fn a_token_the_idp_signs_again_unchanged_is_accepted() {
    // The control for everything below: re-signing alone does not make a token fail.
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let landing = tampered_sign_in(&app, &idp, &provider, "u-ada", json!({"sign": "idp"})).await;
    let (status, me_ada) = me(&app, &signed_in(landing)).await;
    assert_eq!(status, 200, "{me_ada}");
    assert_eq!(me_ada["user"]["email"], "ada@acme.test");
}

#[tokio::test]
async fn a_signature_by_a_foreign_key_under_the_idps_kid_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(&app, &idp, &provider, json!({"sign": "foreign"})).await;
    assert_refused(
        &refusal,
        "sso_invalid_token",
        "ID token: Signature verification failed",
    );
    // The kid is known: the signature is checked with the cached key, and the keys are not fetched
    // again.
    assert_eq!(idp.jwks_hits().await, 1);
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(&app, &idp, &provider, json!({"sign": "none"})).await;
    assert_refused(
        &refusal,
        "sso_invalid_token",
        "ID token: Signature verification failed",
    );
}

#[tokio::test]
async fn a_token_signed_with_the_client_secret_is_refused() {
    // Algorithm confusion: HS256 keyed by the client secret, which this server knows too. The IdP
    // advertises HS256, but only the asymmetric algorithms it advertises are accepted.
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(&app, &idp, &provider, json!({"sign": "hs256"})).await;
    assert_refused(
        &refusal,
        "sso_invalid_token",
        "ID token: Signature verification failed",
    );
}

#[tokio::test]
async fn unknown_kids_are_refused_and_fetch_the_keys_again_at_most_once_a_minute() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    signed_in(Browser::new().sign_in(&app, &provider, "u-ada").await);
    assert_eq!(idp.jwks_hits().await, 1);

    let forged = json!({"sign": "foreign", "kid": "a-key-nobody-published"});
    let first = refused(&app, &idp, &provider, forged.clone()).await;
    assert_refused(
        &first,
        "sso_invalid_token",
        "ID token: Signature verification failed",
    );
    assert_eq!(idp.jwks_hits().await, 2, "the unknown kid caused one fetch");
    let second = refused(&app, &idp, &provider, forged).await;
    assert_refused(
        &second,
        "sso_invalid_token",
        "names a signing key the provider does not publish",
    );
    assert_eq!(
        idp.jwks_hits().await,
        2,
        "a second unknown kid within a minute fetches nothing"
    );

    // Honest sign-ins go on with the keys at hand.
    signed_in(Browser::new().sign_in(&app, &provider, "u-bob").await);
    assert_eq!(idp.jwks_hits().await, 2);
    assert_eq!(idp.discovery_hits().await, 1);
}

#[tokio::test]
async fn a_token_of_another_issuer_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let other = idp.issuer.replace("http://", "https://");
    let refusal = refused(&app, &idp, &provider, json!({"claims": {"iss": other}})).await;
    assert_refused(&refusal, "sso_invalid_token", "Invalid issuer");
    // Without one: the token response does not parse (`iss` is a required claim), and the answer is
    // refused as a token, not taken for an unreachable provider.
    let refusal = refused(&app, &idp, &provider, json!({"claims": {"iss": null}})).await;
    assert_refused(
        &refusal,
        "sso_invalid_token",
        "the token response does not parse",
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;

    // Issued to another client.
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"aud": OTHER_CLIENT}}),
    )
    .await;
    assert_refused(
        &refusal,
        "sso_invalid_token",
        &format!("must contain `{CLIENT_ID}`"),
    );

    // Issued to this server and to an audience it does not trust, even with `azp` naming this server.
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"aud": [CLIENT_ID, OTHER_CLIENT], "azp": CLIENT_ID}}),
    )
    .await;
    assert_refused(
        &refusal,
        "sso_invalid_token",
        &format!("`{OTHER_CLIENT}` is not a trusted audience"),
    );
}

#[tokio::test]
async fn a_token_authorized_for_another_party_among_several_audiences_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"aud": [CLIENT_ID, OTHER_CLIENT], "azp": OTHER_CLIENT}}),
    )
    .await;
    // Refused by the audience check: no other audience is trusted, so no other party can be the
    // authorized one.
    assert_refused(&refusal, "sso_invalid_token", "Invalid audiences");
}

#[tokio::test]
async fn a_token_authorized_for_another_party_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"aud": CLIENT_ID, "azp": OTHER_CLIENT}}),
    )
    .await;
    assert_refused(&refusal, "sso_invalid_token", "authorized party");
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_allowed_skew() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"exp": now() - 5 * 60}}),
    )
    .await;
    assert_refused(&refusal, "sso_invalid_token", "Expired: ID token expired");

    // A minute late is within the two minutes of skew.
    let landing = tampered_sign_in(
        &app,
        &idp,
        &provider,
        "u-ada",
        json!({"claims": {"exp": now() - 60}}),
    )
    .await;
    let (status, me_ada) = me(&app, &signed_in(landing)).await;
    assert_eq!(status, 200, "{me_ada}");
    assert_eq!(me_ada["user"]["email"], "ada@acme.test");
}

#[tokio::test]
async fn a_token_issued_in_the_future_or_too_long_ago_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"iat": now() + 10 * 60}}),
    )
    .await;
    assert_refused(&refusal, "sso_invalid_token", "issued in the future");

    // An hour old, though not expired.
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"iat": now() - 60 * 60, "exp": now() + 60 * 60}}),
    )
    .await;
    assert_refused(&refusal, "sso_invalid_token", "issued too long ago");
}

#[tokio::test]
async fn a_token_of_another_sign_in_or_of_none_is_refused() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let refusal = refused(
        &app,
        &idp,
        &provider,
        json!({"claims": {"nonce": "the-nonce-of-another-sign-in"}}),
    )
    .await;
    assert_refused(&refusal, "sso_nonce_mismatch", "sso_nonce_mismatch");

    let refusal = refused(&app, &idp, &provider, json!({"claims": {"nonce": null}})).await;
    assert_refused(&refusal, "sso_nonce_mismatch", "sso_nonce_mismatch");
}

#[tokio::test]
async fn an_unverified_email_of_an_existing_account_links_nothing() {
    let app = spawn_app().await;
    let (idp, provider) = connected(&app).await;
    let owner = app.owner.email.clone();

    // Validly signed by the IdP, for the owner's email address, unverified.
    let landing = tampered_sign_in(
        &app,
        &idp,
        &provider,
        "u-ada",
        json!({"claims": {"email": owner, "email_verified": false}}),
    )
    .await;
    assert_eq!(sso_error(&landing), "sso_account_refused");
    let failures = audit_events(&app, "sso.login_failed").await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let reason = failures[0]["after"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("sso_account_refused") && reason.contains(&owner),
        "{reason}"
    );
    assert_eq!(failures[0]["after"]["subject"], "u-ada");

    // Verified, in a domain the tenant did not verify: refused all the same.
    let landing = tampered_sign_in(
        &app,
        &idp,
        &provider,
        "u-ada",
        json!({"claims": {"email": owner, "email_verified": true}}),
    )
    .await;
    assert_eq!(sso_error(&landing), "sso_account_refused");

    // The owner's account is untouched: the password still signs in, as the owner.
    let session = app.owner_session().await;
    let (status, me_owner) = me(&app, &session.token).await;
    assert_eq!(status, 200, "{me_owner}");
    assert_eq!(me_owner["user"]["email"], owner.as_str());

    // The subject was not linked to it: its next honest sign-in gets an account of its own.
    let landing = Browser::new().sign_in(&app, &provider, "u-ada").await;
    let (status, me_ada) = me(&app, &signed_in(landing)).await;
    assert_eq!(status, 200, "{me_ada}");
    assert_eq!(me_ada["user"]["email"], "ada@acme.test");
    assert_ne!(me_ada["user"]["id"], me_owner["user"]["id"]);
    assert_eq!(audit_events(&app, "sso.login").await.len(), 1);
}
