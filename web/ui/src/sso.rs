//! The single sign-on pages: the tenant's identity providers with the form that adds or edits one and
//! the values to enter at each identity provider, the claimed email domains with the DNS records that
//! prove them, and whether single sign-on is enforced (with the members who keep their password).
//!
//! Invariant: no view holds a provider's secret; an OIDC client secret is only ever "stored" or not.
//! Invariant: every form here sends what the JSON API's `/api/v1/sso/…` routes take, so their
//! validation and messages apply unchanged.

use crate::{KeyRow, Moment, RoleOption, Shell};
use askama::Template;
use serde_json::{Value, json};

/// Most members who keep password sign-in while single sign-on is enforced.
pub const MAX_BREAK_GLASS: usize = 20;

/// A mapping rule: when `claim` (or one of its values) matches `value` by `op`, grant `role`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleRow {
    /// The OIDC claim or SAML attribute (`groups`).
    pub claim: String,
    /// `equals` or `contains`.
    pub op: String,
    /// The value compared with.
    pub value: String,
    /// The role granted.
    pub role: String,
}

/// An OIDC provider's settings, without its secret.
#[derive(Debug, Clone, Default)]
pub struct OidcFields {
    /// The issuer.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Whether claims are also read from the userinfo endpoint.
    pub use_userinfo: bool,
    /// Whether a client secret is stored.
    pub secret_set: bool,
}

/// A SAML provider's settings.
#[derive(Debug, Clone, Default)]
pub struct SamlFields {
    /// The IdP's entity id.
    pub idp_entity_id: String,
    /// The IdP's single sign-on URL (HTTP-Redirect).
    pub sso_url: String,
    /// The IdP's signing certificates, base64 DER.
    pub certificates: Vec<String>,
    /// Where the IdP metadata was read from, if from a URL.
    pub metadata_url: Option<String>,
    /// The SP entity id set for this provider (`None`: the SP metadata URL).
    pub sp_entity_id: Option<String>,
    /// Whether AuthnRequests are signed.
    pub sign_requests: bool,
    /// Whether sign-ins started at the IdP are accepted.
    pub allow_idp_initiated: bool,
    /// The attribute holding the email address, if not the usual ones.
    pub email_attribute: Option<String>,
    /// The attribute holding the display name, if not the usual ones.
    pub name_attribute: Option<String>,
}

/// A provider's protocol settings.
#[derive(Debug, Clone)]
pub enum ProviderSettings {
    /// OpenID Connect.
    Oidc(OidcFields),
    /// SAML 2.0.
    Saml(SamlFields),
}

/// What a SAML identity provider is told about this service provider.
#[derive(Debug, Clone, Default)]
pub struct SpFields {
    /// The SP entity id (the audience of every assertion).
    pub entity_id: String,
    /// The assertion consumer service URL.
    pub acs_url: String,
    /// Where the SP metadata document is served.
    pub metadata_url: String,
    /// The certificate AuthnRequests are signed with (base64 DER), when they are.
    pub signing_certificate: Option<String>,
}

/// One identity provider of the tenant.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Whether members may sign in through it.
    pub enabled: bool,
    /// The role of people it creates when no rule matches.
    pub default_role: String,
    /// Mapping rules, in order.
    pub rules: Vec<RuleRow>,
    /// Whether roles are set again from the rules on every sign-in.
    pub resync_roles: bool,
    /// The protocol and its settings.
    pub settings: ProviderSettings,
    /// Where a sign-in through it starts.
    pub start_url: String,
    /// The OIDC redirect URL to register at the identity provider.
    pub redirect_url: String,
    /// SAML: the values to enter at the identity provider.
    pub sp: Option<SpFields>,
}

impl IdentityProvider {
    /// `oidc` or `saml`.
    pub fn kind(&self) -> &'static str {
        match self.settings {
            ProviderSettings::Oidc(_) => "oidc",
            ProviderSettings::Saml(_) => "saml",
        }
    }

    /// `OIDC` or `SAML`.
    pub fn kind_label(&self) -> &'static str {
        match self.settings {
            ProviderSettings::Oidc(_) => "OIDC",
            ProviderSettings::Saml(_) => "SAML",
        }
    }

    /// Its API path.
    pub fn api(&self) -> String {
        format!("/api/v1/sso/providers/{}", self.id)
    }

    /// The `PUT` body that saves the provider as it is, but `enabled` (the Enable and Disable
    /// buttons). A SAML provider is sent with its stored IdP values, not its metadata URL, so it can
    /// be switched off while its metadata cannot be fetched; an OIDC provider keeps its secret.
    pub fn body_enabled(&self, enabled: bool) -> String {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| json!({"claim": r.claim, "op": r.op, "value": r.value, "role": r.role}))
            .collect();
        let mut body = json!({
            "name": self.name,
            "kind": self.kind(),
            "enabled": enabled,
            "defaultRole": self.default_role,
            "roleRules": rules,
            "resyncRoles": self.resync_roles,
        });
        body[self.kind()] = match &self.settings {
            ProviderSettings::Oidc(o) => json!({
                "issuer": o.issuer, "clientId": o.client_id, "scopes": o.scopes,
                "useUserinfo": o.use_userinfo,
            }),
            ProviderSettings::Saml(s) => json!({
                "idpEntityID": s.idp_entity_id, "ssoURL": s.sso_url, "certificates": s.certificates,
                "spEntityID": s.sp_entity_id, "signRequests": s.sign_requests,
                "allowIdpInitiated": s.allow_idp_initiated, "emailAttribute": s.email_attribute,
                "nameAttribute": s.name_attribute,
            }),
        };
        body.to_string()
    }

    /// The body of the button that switches it on or off: [`IdentityProvider::body_enabled`] with
    /// the other state.
    pub fn toggled_body(&self) -> String {
        self.body_enabled(!self.enabled)
    }

    /// The signing certificate as PEM, when requests are signed.
    pub fn signing_pem(&self) -> Option<String> {
        self.sp
            .as_ref()
            .and_then(|sp| sp.signing_certificate.as_deref())
            .map(pem)
    }
}

/// Base64 DER as a PEM certificate, 64 characters a line.
pub fn pem(der: &str) -> String {
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in der.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----");
    out
}

/// The add-or-edit form's values: empty for a new provider, the provider's own when editing.
#[derive(Debug, Clone)]
pub struct ProviderForm {
    /// The provider edited; `None` for a new one.
    pub id: Option<i64>,
    /// What the form's element ids start with.
    pub prefix: &'static str,
    /// `oidc` or `saml`.
    pub kind: &'static str,
    /// Display name.
    pub name: String,
    /// Whether members may sign in through it.
    pub enabled: bool,
    /// The default role.
    pub default_role: String,
    /// Whether roles are set again on every sign-in.
    pub resync_roles: bool,
    /// The mapping rules, in order.
    pub rules: Vec<RuleRow>,
    /// OIDC settings (empty for SAML).
    pub oidc: OidcFields,
    /// SAML settings (empty for OIDC).
    pub saml: SamlFields,
}

impl ProviderForm {
    /// The form for a new provider (OIDC chosen, enabled, viewers by default).
    pub fn new_provider() -> ProviderForm {
        ProviderForm {
            id: None,
            prefix: "new",
            kind: "oidc",
            name: String::new(),
            enabled: true,
            default_role: "viewer".into(),
            resync_roles: false,
            rules: Vec::new(),
            oidc: OidcFields::default(),
            saml: SamlFields::default(),
        }
    }

    /// The form that edits `provider`.
    pub fn editing(provider: &IdentityProvider) -> ProviderForm {
        let (oidc, saml) = match &provider.settings {
            ProviderSettings::Oidc(o) => (o.clone(), SamlFields::default()),
            ProviderSettings::Saml(s) => (OidcFields::default(), s.clone()),
        };
        ProviderForm {
            id: Some(provider.id),
            prefix: "edit",
            kind: provider.kind(),
            name: provider.name.clone(),
            enabled: provider.enabled,
            default_role: provider.default_role.clone(),
            resync_roles: provider.resync_roles,
            rules: provider.rules.clone(),
            oidc,
            saml,
        }
    }

    /// Where the form sends to.
    pub fn api(&self) -> String {
        match self.id {
            Some(id) => format!("/api/v1/sso/providers/{id}"),
            None => "/api/v1/sso/providers".into(),
        }
    }

    /// `POST` for a new provider, `PUT` for an edit.
    pub fn method(&self) -> &'static str {
        if self.id.is_some() { "PUT" } else { "POST" }
    }

    /// Which way the SAML IdP's values are given at first: its metadata URL when they were read from
    /// one, the values one by one when editing, pasted metadata for a new provider.
    pub fn saml_source(&self) -> &'static str {
        match (&self.saml.metadata_url, self.id) {
            (Some(_), _) => "url",
            (None, Some(_)) => "fields",
            (None, None) => "xml",
        }
    }

    /// The scopes as typed (space-separated).
    pub fn scopes_text(&self) -> String {
        self.oidc.scopes.join(" ")
    }

    /// The IdP's certificates as PEM, one after another.
    pub fn certificates_text(&self) -> String {
        let blocks: Vec<String> = self.saml.certificates.iter().map(|c| pem(c)).collect();
        blocks.join("\n")
    }

    /// An empty rule, for the editor's new rows.
    pub fn blank_rule(&self) -> RuleRow {
        RuleRow {
            op: "equals".into(),
            role: "viewer".into(),
            ..RuleRow::default()
        }
    }
}

/// A claimed email domain.
#[derive(Debug, Clone)]
pub struct DomainRow {
    /// Row id.
    pub id: i64,
    /// The domain.
    pub domain: String,
    /// The name the TXT record goes under.
    pub txt_name: String,
    /// The TXT record's value.
    pub txt_value: String,
    /// When it was verified, if it was.
    pub verified_at: Option<Moment>,
}

/// A member who may be picked to keep password sign-in.
#[derive(Debug, Clone)]
pub struct MemberChoice {
    /// Their user id.
    pub user_id: i64,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Whether they keep password sign-in now.
    pub chosen: bool,
    /// Whether this is the viewer.
    pub is_viewer: bool,
}

/// Provisioning on the single sign-on page: where the identity provider sends SCIM requests, and
/// the SCIM tokens it may use.
#[derive(Debug)]
pub struct Provisioning {
    /// The SCIM base URL (`…/scim/v2`).
    pub base_url: String,
    /// The SCIM tokens (API keys with the `scim` scope), revoked ones included.
    pub tokens: Vec<KeyRow>,
}

impl Provisioning {
    /// What the new-token form sends besides its name: the `scim` scope alone.
    pub fn token_body(&self) -> String {
        json!({ "scopes": ["scim"] }).to_string()
    }
}

/// `/ui/t/{tenant}/sso`.
#[derive(Debug, Template)]
#[template(path = "sso.html")]
pub struct SsoPage {
    /// The frame.
    pub shell: Shell,
    /// The tenant's identity providers, oldest first.
    pub providers: Vec<IdentityProvider>,
    /// The form for a new provider.
    pub form: ProviderForm,
    /// The roles a provider may grant (never `owner`).
    pub roles: Vec<RoleOption>,
    /// The claimed domains, in the order claimed.
    pub domains: Vec<DomainRow>,
    /// Whether single sign-on is enforced.
    pub enforced: bool,
    /// The members, with whether each keeps password sign-in; `None` when the viewer may not list
    /// members (then only the ids kept are known).
    pub members: Option<Vec<MemberChoice>>,
    /// The user ids who keep password sign-in.
    pub break_glass: Vec<i64>,
    /// Whether the viewer may change the enforcement (owners).
    pub can_enforce: bool,
    /// SCIM provisioning; `None` when the viewer may not manage API keys (`keys:manage`).
    pub provisioning: Option<Provisioning>,
}

impl SsoPage {
    /// Who keeps password sign-in, for people: names or emails, else user ids.
    pub fn break_glass_names(&self) -> Vec<String> {
        self.break_glass
            .iter()
            .map(|id| {
                self.members
                    .iter()
                    .flatten()
                    .find(|m| m.user_id == *id)
                    .map_or_else(|| format!("user {id}"), |m| m.email.clone())
            })
            .collect()
    }

    /// The link to a provider's page.
    pub fn provider_link(&self, id: &i64) -> String {
        self.shell.link(&format!("sso/providers/{id}"))
    }

    /// Where the new provider's form goes once it is saved (`{id}` is filled from the answer).
    pub fn created_next(&self) -> String {
        format!("{}&saved=1", self.shell.link("sso/providers/{id}"))
    }

    /// What the enforcement form sends besides its fields: the members kept now, so a form that cannot
    /// list members keeps them.
    pub fn enforcement_body(&self) -> String {
        json!({ "breakGlass": self.break_glass }).to_string()
    }

    /// The most members who keep password sign-in.
    pub fn max_break_glass(&self) -> usize {
        MAX_BREAK_GLASS
    }
}

/// `/ui/t/{tenant}/sso/providers/{id}`: one provider, the values to give its identity provider, and
/// its edit form.
#[derive(Debug, Template)]
#[template(path = "sso-provider.html")]
pub struct SsoProviderPage {
    /// The frame.
    pub shell: Shell,
    /// The provider.
    pub provider: IdentityProvider,
    /// Its edit form.
    pub form: ProviderForm,
    /// The roles it may grant (never `owner`).
    pub roles: Vec<RoleOption>,
    /// Whether it was just created.
    pub saved: bool,
}

#[cfg(test)]
mod tests;
