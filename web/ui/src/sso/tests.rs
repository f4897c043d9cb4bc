//! Unit tests of the single sign-on pages: what each provider's buttons send, the forms as rendered for
//! a new, an OIDC and a SAML provider, and the enforcement for owners and for others.

use super::*;
use crate::testing::shell;

fn roles() -> Vec<RoleOption> {
    ["admin", "editor", "viewer", "release"]
        .into_iter()
        .map(|key| RoleOption {
            key: key.into(),
            name: key.into(),
            built_in: key != "release",
        })
        .collect()
}

fn oidc() -> IdentityProvider {
    IdentityProvider {
        id: 4,
        name: "Acme <Okta>".into(),
        enabled: true,
        default_role: "editor".into(),
        rules: vec![RuleRow {
            claim: "groups".into(),
            op: "contains".into(),
            value: "flag-admins".into(),
            role: "admin".into(),
        }],
        resync_roles: true,
        settings: ProviderSettings::Oidc(OidcFields {
            issuer: "https://acme.okta.com".into(),
            client_id: "flagent".into(),
            scopes: vec!["openid".into(), "email".into()],
            use_userinfo: false,
            secret_set: true,
        }),
        start_url: "http://flagent.test/sso/4/start".into(),
        redirect_url: "http://flagent.test/sso/oidc/4/callback".into(),
        sp: None,
    }
}

fn saml() -> IdentityProvider {
    IdentityProvider {
        id: 5,
        name: "Acme SAML".into(),
        enabled: false,
        default_role: "viewer".into(),
        rules: Vec::new(),
        resync_roles: false,
        settings: ProviderSettings::Saml(SamlFields {
            idp_entity_id: "https://idp.acme.test".into(),
            sso_url: "https://idp.acme.test/sso".into(),
            certificates: vec!["QUJD".repeat(20)],
            sign_requests: true,
            ..SamlFields::default()
        }),
        start_url: "http://flagent.test/sso/5/start".into(),
        redirect_url: "http://flagent.test/sso/oidc/5/callback".into(),
        sp: Some(SpFields {
            entity_id: "http://flagent.test/sso/saml/5/metadata".into(),
            acs_url: "http://flagent.test/sso/saml/5/acs".into(),
            metadata_url: "http://flagent.test/sso/saml/5/metadata".into(),
            signing_certificate: Some("REVG".into()),
        }),
    }
}

fn page(can_enforce: bool, members: Option<Vec<MemberChoice>>) -> SsoPage {
    SsoPage {
        shell: shell("sso"),
        providers: vec![oidc(), saml()],
        form: ProviderForm::new_provider(),
        roles: roles(),
        domains: vec![DomainRow {
            id: 9,
            domain: "acme.test".into(),
            txt_name: "_flagent-challenge.acme.test".into(),
            txt_value: "flagent-verification=abc".into(),
            verified_at: None,
        }],
        enforced: true,
        members,
        break_glass: vec![12],
        can_enforce,
        provisioning: None,
    }
}

fn scim_token(id: i64, name: &str, revoked: bool) -> KeyRow {
    let now = chrono::Utc::now();
    let at = Moment::from_millis(now.timestamp_millis() - 60_000, now);
    KeyRow {
        id,
        name: name.into(),
        prefix: format!("flg_scim_{id}"),
        scopes: vec!["scim".into()],
        environment: None,
        created_at: at.clone(),
        last_used_at: None,
        expires_at: None,
        revoked_at: revoked.then_some(at),
        expired: false,
    }
}

/// The value of attribute `name` of the first tag containing `marker`, unescaped.
fn attribute(html: &str, marker: &str, name: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    let from = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let value = &tag[from..from + tag[from..].find('"').unwrap()];
    value
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

#[test]
fn the_enable_buttons_send_the_whole_provider_with_only_enabled_changed() {
    let body: Value = serde_json::from_str(&oidc().body_enabled(false)).unwrap();
    assert_eq!(
        body,
        json!({"name": "Acme <Okta>", "kind": "oidc", "enabled": false, "defaultRole": "editor",
               "roleRules": [{"claim": "groups", "op": "contains", "value": "flag-admins", "role": "admin"}],
               "resyncRoles": true,
               "oidc": {"issuer": "https://acme.okta.com", "clientId": "flagent",
                        "scopes": ["openid", "email"], "useUserinfo": false}})
    );
    let body: Value = serde_json::from_str(&saml().body_enabled(true)).unwrap();
    assert_eq!(body["saml"]["idpEntityID"], "https://idp.acme.test");
    assert_eq!(body["saml"]["certificates"][0], "QUJD".repeat(20));
    assert!(body["saml"].get("metadataURL").is_none());
    assert_eq!(body["enabled"], true);
}

#[test]
fn the_page_lists_providers_domains_and_the_enforcement_for_owners() {
    let members = vec![MemberChoice {
        user_id: 12,
        email: "ada@acme.test".into(),
        name: "Ada".into(),
        chosen: true,
        is_viewer: true,
    }];
    let html = page(true, Some(members)).render().unwrap();
    assert!(html.contains(r#"aria-current="page">Single sign-on</a>"#));
    assert!(html.contains("Acme &#60;Okta&#62;") && !html.contains("Acme <Okta>"));
    assert!(html.contains(r##"data-copy="#start-url-4""##));
    let disable = attribute(&html, r#"data-confirm="Disable Acme"#, "data-body");
    assert_eq!(
        serde_json::from_str::<Value>(&disable).unwrap()["enabled"],
        false
    );
    assert!(html.contains(r#"data-api="/api/v1/sso/providers/4/test""#));
    assert!(html.contains(r#"data-api="/api/v1/sso/providers/5" data-method="DELETE""#));
    assert!(
        html.contains(">Enable</button>"),
        "the disabled SAML provider"
    );
    assert!(html.contains("_flagent-challenge.acme.test") && html.contains("Pending"));
    assert!(html.contains(r#"data-api="/api/v1/sso/domains/9/verify""#));
    assert!(html.contains(r#"data-api="/api/v1/sso/enforcement" data-method="PUT""#));
    assert!(html.contains(r#"value="12" data-type="list" data-items="number" checked"#));
    assert!(html.contains(r#"<span class="tag">you</span>"#));
    assert_eq!(
        attribute(&html, r#"data-api="/api/v1/sso/enforcement""#, "data-body"),
        r#"{"breakGlass":[12]}"#
    );
    // The new provider's form: OIDC shown, SAML hidden and disabled until chosen, no owner role.
    assert!(html.contains(r#"data-next="/ui/t/acme/sso/providers/{id}?project=default&#38;env=production&#38;saved=1""#));
    assert!(html.contains(r#"data-case="oidc">"#));
    assert!(html.contains(r#"data-case="saml" hidden disabled>"#));
    assert!(!html.contains(r#"value="owner""#));
    assert!(html.contains(r#"<template id="new-rule-template">"#));
    assert!(!html.contains("style="));
}

#[test]
fn provisioning_shows_the_scim_base_url_and_creates_and_revokes_scim_tokens() {
    assert!(
        !page(true, None)
            .render()
            .unwrap()
            .contains("Provisioning (SCIM)")
    );
    let mut with = page(true, None);
    with.provisioning = Some(Provisioning {
        base_url: "http://flagent.test/scim/v2".into(),
        tokens: vec![
            scim_token(31, "Okta provisioning", false),
            scim_token(32, "Old", true),
        ],
    });
    let html = with.render().unwrap();
    assert!(html.contains(r#"<code id="scim-base">http://flagent.test/scim/v2</code>"#));
    let create = attribute(
        &html,
        r#"class="card inline-card create-scim-token""#,
        "data-body",
    );
    assert_eq!(
        serde_json::from_str::<Value>(&create).unwrap(),
        json!({"scopes": ["scim"]})
    );
    assert!(html.contains(r#"data-reveal="issued-scim-token""#));
    assert!(html.contains(r#"data-api="/api/v1/keys/31" data-method="DELETE""#));
    assert!(
        !html.contains(r#"data-api="/api/v1/keys/32""#),
        "a revoked token has nothing to revoke"
    );
    assert!(html.contains("flg_scim_32…") && html.contains("Revoked"));
}

#[test]
fn others_see_the_enforcement_read_only() {
    let html = page(false, None).render().unwrap();
    assert!(!html.contains(r#"data-api="/api/v1/sso/enforcement""#));
    assert!(html.contains(r#"role="switch" disabled checked"#));
    assert!(html.contains("Keep password sign-in: user 12."));
}

#[test]
fn an_oidc_provider_is_edited_with_its_secret_kept_unless_typed() {
    let provider = oidc();
    let html = SsoProviderPage {
        shell: shell("sso"),
        form: ProviderForm::editing(&provider),
        provider,
        roles: roles(),
        saved: true,
    }
    .render()
    .unwrap();
    assert!(
        html.contains(
            r#"<code id="value-redirect">http://flagent.test/sso/oidc/4/callback</code>"#
        )
    );
    assert!(html.contains(r#"data-api="/api/v1/sso/providers/4" data-method="PUT""#));
    assert!(html.contains(r#"<input type="hidden" name="kind" value="oidc">"#));
    assert!(
        !html.contains(r#"name="saml."#),
        "only the provider's own protocol"
    );
    let secret = &html[html.find(r#"name="oidc.clientSecret""#).unwrap()..];
    let secret = &secret[..secret.find('>').unwrap()];
    assert!(
        !secret.contains("required") && !secret.contains("value="),
        "{secret}"
    );
    assert!(html.contains(r#"<span class="status on">stored</span>"#));
    assert!(html.contains(r#"value="openid email""#));
    assert!(html.contains(r#"name="roleRules.0.claim" data-row-field="claim" value="groups""#));
    assert!(html.contains(r#"<option value="contains" selected>"#));
    assert!(html.contains("Saved."));
}

#[test]
fn a_saml_provider_shows_the_sp_values_and_is_edited_value_by_value() {
    let provider = saml();
    let html = SsoProviderPage {
        shell: shell("sso"),
        form: ProviderForm::editing(&provider),
        provider,
        roles: roles(),
        saved: false,
    }
    .render()
    .unwrap();
    assert!(html.contains(r#"<code id="value-acs">http://flagent.test/sso/saml/5/acs</code>"#));
    assert!(
        html.contains(r#"<a id="value-metadata" href="http://flagent.test/sso/saml/5/metadata">"#)
    );
    assert!(html.contains("-----BEGIN CERTIFICATE-----\nREVG\n-----END CERTIFICATE-----"));
    assert!(html.contains(r#"<option value="fields" selected>"#));
    assert!(
        html.contains(r#"data-case="fields">"#)
            && html.contains(r#"data-case="xml" hidden disabled>"#)
    );
    let pem = pem(&"QUJD".repeat(20));
    assert_eq!(pem.lines().nth(1).map(str::len), Some(64));
    assert!(html.contains(&pem));
    assert!(html.contains(r#"name="saml.signRequests" checked"#));
    assert!(!html.contains(r#"name="oidc."#));
}
