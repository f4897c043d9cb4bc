//! SAML 2.0, the service provider's side, over samael and libxmlsec1: IdP metadata import, the SP's
//! metadata, the AuthnRequest (HTTP-Redirect, optionally signed), and the checks of a response posted
//! to the assertion consumer service.
//!
//! Invariant: every value a sign-in uses (NameID, attributes, times, audience, recipient) is read from
//! the element a configured certificate signed: samael cuts the document down to what the signature
//! covers before it is parsed. What lies outside the signed element is only ever a reason to refuse.
//! Invariant: before any signature is checked, a response is refused when it holds a DTD, a comment, a
//! processing instruction, more than one `Response` or anything but exactly one `Assertion`.
//! Invariant: the audience is always checked against the provider's SP entity id, and a provider
//! cannot be saved without an IdP signing certificate (samael accepts an unsigned response when it
//! knows no certificate).

use super::SsoError;
use super::error::invalid;
use super::oidc::Identity;
use super::rules::Assertions;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Duration, Utc};
use openssl::pkey::{PKey, Private};
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use samael::crypto::AllowedSignatureAlgorithm;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{
    Endpoint, EntitiesDescriptor, EntityDescriptor, EntityDescriptorType, HTTP_POST_BINDING,
    HTTP_REDIRECT_BINDING, IdpSsoDescriptor, KeyDescriptor,
};
use samael::schema::Assertion;
use samael::service_provider::{Error as SpError, ServiceProvider};
use serde::{Deserialize, Serialize};

/// The most a clock may differ from ours for `NotBefore` and `NotOnOrAfter`.
pub(crate) const MAX_CLOCK_SKEW_SECONDS: i64 = 120;
/// The oldest an assertion may be when it arrives (its `IssueInstant`).
const MAX_ISSUE_DELAY_SECONDS: i64 = 300;
/// Most signing certificates a provider keeps (a rollover needs two; some IdPs publish three).
const MAX_CERTIFICATES: usize = 5;
/// Longest entity id or URL, in bytes.
const MAX_URI_BYTES: usize = 1024;
/// Longest attribute name, in characters.
const MAX_ATTRIBUTE_CHARS: usize = 500;
/// Longest metadata document read.
pub(crate) const MAX_METADATA_BYTES: usize = 512 * 1024;

const PROTOCOL_NS: &[u8] = b"urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS: &[u8] = b"urn:oasis:names:tc:SAML:2.0:assertion";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// An email NameID.
pub(crate) const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// A NameID that stays the same for a person at one SP.
pub(crate) const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// A NameID that changes on every sign-in: it cannot identify anyone twice.
pub(crate) const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// Where an email address is looked for when the provider names no attribute: the names Okta, Entra
/// ID, Google Workspace, ADFS and Shibboleth use.
const EMAIL_ATTRIBUTES: [&str; 6] = [
    "email",
    "mail",
    "emailAddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "User.Email",
];
/// Where a display name is looked for when the provider names no attribute.
const NAME_ATTRIBUTES: [&str; 4] = [
    "name",
    "displayName",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "urn:oid:2.16.840.1.113730.3.1.241",
];

/// A SAML provider's settings (its SP signing key, when it has one, is kept apart, sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlSettings {
    /// The IdP's entity id, exactly as its assertions' `Issuer` names it.
    pub idp_entity_id: String,
    /// The IdP's single sign-on URL for the HTTP-Redirect binding.
    pub sso_url: String,
    /// The IdP's signing certificates, base64 DER; a signature by any of them is accepted (rollover).
    pub certificates: Vec<String>,
    /// Where the IdP metadata was imported from, if from a URL.
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// The SP entity id the IdP knows this provider by, when not the SP metadata URL.
    #[serde(default)]
    pub sp_entity_id: Option<String>,
    /// Whether AuthnRequests are signed (the SP key is then generated and kept sealed).
    #[serde(default)]
    pub sign_requests: bool,
    /// The SP's request-signing certificate, base64 DER (set by the server when `sign_requests`).
    #[serde(default)]
    pub sp_certificate: Option<String>,
    /// Whether a response nobody asked for (IdP-initiated sign-in) is accepted.
    #[serde(default)]
    pub allow_idp_initiated: bool,
    /// The attribute that holds the email address, when not one of the usual names or the NameID.
    #[serde(default)]
    pub email_attribute: Option<String>,
    /// The attribute that holds the display name, when not one of the usual names.
    #[serde(default)]
    pub name_attribute: Option<String>,
}

/// Where a SAML provider's IdP metadata comes from when it is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataSource {
    /// The metadata document itself.
    Xml(String),
    /// A URL to fetch it from (`https`, or `http` on a loopback host).
    Url(String),
}

/// What IdP metadata says about the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdpMetadata {
    pub entity_id: String,
    pub sso_url: String,
    /// Base64 DER.
    pub certificates: Vec<String>,
}

/// Reads IdP metadata: an `EntityDescriptor`, or an `EntitiesDescriptor` that describes exactly one
/// identity provider.
pub(crate) fn parse_metadata(xml: &str) -> Result<IdpMetadata, SsoError> {
    let bad = |why: String| invalid("metadata", format!("the IdP metadata {why}"));
    if xml.len() > MAX_METADATA_BYTES {
        return Err(bad("is larger than 512 KiB".into()));
    }
    refuse_dtd(xml).map_err(|why| bad(why.into()))?;
    let entity = match xml.parse::<EntityDescriptor>() {
        Ok(entity) if entity.idp_sso_descriptors.is_some() => entity,
        single => {
            let entities = xml
                .parse::<EntitiesDescriptor>()
                .map_err(|e| match single {
                    Ok(_) => bad("describes no identity provider (no IDPSSODescriptor)".into()),
                    Err(_) => bad(format!("does not parse: {e}")),
                })?;
            let mut idps: Vec<EntityDescriptor> = entities
                .descriptors
                .into_iter()
                .filter_map(|d| match d {
                    EntityDescriptorType::EntityDescriptor(e) => Some(e),
                    _ => None,
                })
                .filter(|e| e.idp_sso_descriptors.is_some())
                .collect();
            if idps.len() != 1 {
                return Err(bad(format!(
                    "describes {} identity providers; import the one to use",
                    idps.len()
                )));
            }
            idps.remove(0)
        }
    };
    let entity_id = entity
        .entity_id
        .clone()
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| bad("has no entityID".into()))?;
    let descriptors = entity.idp_sso_descriptors.unwrap_or_default();
    let sso_url = descriptors
        .iter()
        .flat_map(|d| &d.single_sign_on_services)
        .find(|s| s.binding == HTTP_REDIRECT_BINDING)
        .map(|s| s.location.clone())
        .ok_or_else(|| bad("has no SingleSignOnService for the HTTP-Redirect binding".into()))?;
    let keys: Vec<&KeyDescriptor> = descriptors
        .iter()
        .flat_map(|d| &d.key_descriptors)
        .collect();
    let mut certificates = Vec::new();
    for key in keys
        .iter()
        .filter(|k| k.key_use.as_deref() != Some("encryption"))
    {
        for cert in key.key_info.x509_data.iter().flat_map(|x| &x.certificates) {
            let cert = parse_certificate(cert)
                .map_err(|_| bad("holds a certificate that does not parse".into()))?;
            if !certificates.contains(&cert) {
                certificates.push(cert);
            }
        }
    }
    Ok(IdpMetadata {
        entity_id,
        sso_url,
        certificates,
    })
}

/// A certificate as PEM or as base64 DER, returned as base64 DER once it parses as X.509.
pub(crate) fn parse_certificate(text: &str) -> Result<String, SsoError> {
    let bad = || {
        invalid(
            "certificates",
            "a certificate is not PEM or base64 DER X.509",
        )
    };
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = BASE64.decode(body.as_bytes()).map_err(|_| bad())?;
    openssl::x509::X509::from_der(&der).map_err(|_| bad())?;
    Ok(BASE64.encode(der))
}

/// Checks stored-to-be settings: URIs, certificates and attribute names.
pub(crate) fn check_settings(settings: &SamlSettings) -> Result<(), SsoError> {
    let entity = settings.idp_entity_id.trim();
    if entity.is_empty() || entity.len() > MAX_URI_BYTES {
        return Err(invalid(
            "idpEntityID",
            "the IdP entity id has 1 to 1024 bytes",
        ));
    }
    check_url("ssoURL", &settings.sso_url)?;
    if settings.certificates.is_empty() {
        return Err(invalid(
            "certificates",
            "a SAML provider needs the IdP's signing certificate (from its metadata or pasted as PEM)",
        ));
    }
    if settings.certificates.len() > MAX_CERTIFICATES {
        return Err(invalid("certificates", "at most 5 signing certificates"));
    }
    if let Some(sp) = &settings.sp_entity_id
        && (sp.trim().is_empty() || sp.len() > MAX_URI_BYTES)
    {
        return Err(invalid(
            "spEntityID",
            "the SP entity id has 1 to 1024 bytes",
        ));
    }
    for (field, attribute) in [
        ("emailAttribute", &settings.email_attribute),
        ("nameAttribute", &settings.name_attribute),
    ] {
        if let Some(name) = attribute
            && (name.trim().is_empty() || name.chars().count() > MAX_ATTRIBUTE_CHARS)
        {
            return Err(invalid(field, "an attribute name has 1 to 500 characters"));
        }
    }
    Ok(())
}

/// An IdP URL is an absolute `https` URL (`http` only on a loopback host).
pub(crate) fn check_url(field: &'static str, url: &str) -> Result<(), SsoError> {
    let bad = || {
        invalid(
            field,
            "an absolute https URL (http only on a loopback host)",
        )
    };
    if url.len() > MAX_URI_BYTES {
        return Err(bad());
    }
    let parsed = openidconnect::url::Url::parse(url).map_err(|_| bad())?;
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad()),
    }
}

/// A new SP key pair for signing AuthnRequests: the PKCS#8 private key and a self-signed certificate
/// valid for ten years, both base64 DER.
pub(crate) fn generate_sp_key() -> Result<(String, String), SsoError> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::hash::MessageDigest;
    use openssl::x509::{X509, X509NameBuilder};
    let failed =
        |e: openssl::error::ErrorStack| SsoError::Unexpected(anyhow::anyhow!("SP key: {e}"));
    let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).map_err(failed)?).map_err(failed)?;
    let mut name = X509NameBuilder::new().map_err(failed)?;
    name.append_entry_by_text("CN", "Flagent SAML service provider")
        .map_err(failed)?;
    let name = name.build();
    let mut serial = BigNum::new().map_err(failed)?;
    serial
        .rand(128, MsbOption::MAYBE_ZERO, false)
        .map_err(failed)?;
    let mut cert = X509::builder().map_err(failed)?;
    cert.set_version(2).map_err(failed)?;
    let serial = serial.to_asn1_integer().map_err(failed)?;
    cert.set_serial_number(&serial).map_err(failed)?;
    cert.set_subject_name(&name).map_err(failed)?;
    cert.set_issuer_name(&name).map_err(failed)?;
    cert.set_pubkey(&key).map_err(failed)?;
    let (not_before, not_after) = (
        Asn1Time::days_from_now(0).map_err(failed)?,
        Asn1Time::days_from_now(3650).map_err(failed)?,
    );
    cert.set_not_before(&not_before).map_err(failed)?;
    cert.set_not_after(&not_after).map_err(failed)?;
    cert.sign(&key, MessageDigest::sha256()).map_err(failed)?;
    let cert = cert.build();
    Ok((
        BASE64.encode(key.private_key_to_pkcs8().map_err(failed)?),
        BASE64.encode(cert.to_der().map_err(failed)?),
    ))
}

/// The SP key sealed as [`generate_sp_key`] made it.
pub(crate) fn open_sp_key(pkcs8_base64: &str) -> Result<PKey<Private>, SsoError> {
    let der = BASE64
        .decode(pkcs8_base64.as_bytes())
        .map_err(|e| SsoError::Unexpected(anyhow::anyhow!("stored SP key: {e}")))?;
    PKey::private_key_from_pkcs8(&der)
        .map_err(|e| SsoError::Unexpected(anyhow::anyhow!("stored SP key: {e}")))
}

/// The SP's own values for one provider.
pub(crate) struct Sp<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
}

/// The SP metadata document the IdP is configured from.
pub(crate) fn sp_metadata(settings: &SamlSettings, sp: &Sp<'_>) -> String {
    use quick_xml::escape::escape;
    let key = settings.sp_certificate.as_deref().map_or(String::new(), |cert| {
        format!(
            "    <md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n",
            escape(cert)
        )
    });
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{entity}\">\n  \
         <md:SPSSODescriptor AuthnRequestsSigned=\"{signed}\" WantAssertionsSigned=\"true\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n\
         {key}    <md:NameIDFormat>{NAMEID_EMAIL}</md:NameIDFormat>\n    \
         <md:NameIDFormat>{NAMEID_PERSISTENT}</md:NameIDFormat>\n    \
         <md:AssertionConsumerService Binding=\"{HTTP_POST_BINDING}\" Location=\"{acs}\" index=\"0\" isDefault=\"true\"/>\n  \
         </md:SPSSODescriptor>\n</md:EntityDescriptor>\n",
        entity = escape(sp.entity_id),
        signed = settings.sign_requests,
        acs = escape(sp.acs_url),
    )
}

/// The URL that sends the browser to the IdP with an AuthnRequest of id `request_id` (HTTP-Redirect
/// binding), signed with `key` when given; the IdP sends `relay_state` back.
pub(crate) fn authn_request_url(
    settings: &SamlSettings,
    sp: &Sp<'_>,
    request_id: &str,
    relay_state: &str,
    key: Option<&PKey<Private>>,
) -> Result<String, SsoError> {
    let failed = |e: Box<dyn std::error::Error>| {
        SsoError::Unexpected(anyhow::anyhow!("building the AuthnRequest: {e}"))
    };
    let provider = service_provider(settings, sp, false)?;
    let mut request = provider
        .make_authentication_request(&settings.sso_url)
        .map_err(failed)?;
    request.id = request_id.to_owned();
    request.force_authn = None;
    let url = match key {
        Some(key) => request.signed_redirect(relay_state, key),
        None => request.redirect(relay_state),
    }
    .map_err(failed)?
    .ok_or_else(|| SsoError::Unexpected(anyhow::anyhow!("the AuthnRequest has no destination")))?;
    Ok(url.to_string())
}

/// What a response is expected to answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expected<'a> {
    /// The AuthnRequest of this id, sent by this SP.
    Request(&'a str),
    /// Nothing: an IdP-initiated sign-in, which carries no `InResponseTo`.
    Unsolicited,
}

/// A response that passed every check.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The person, from the signed assertion (`email_verified` is decided by the caller).
    pub identity: Identity,
    /// The assertion's `ID`, for the replay cache.
    pub assertion_id: String,
    /// Until when the assertion could be accepted, in milliseconds since the epoch.
    pub usable_until: i64,
}

/// What is read from a response's unsigned envelope before its signature is checked: only ever used
/// to refuse.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issuer: Option<String>,
    pub status: Option<String>,
}

/// Decodes the `SAMLResponse` form field (base64 of the XML document).
pub(crate) fn decode_response(field: &str) -> Result<String, SsoError> {
    let compact: String = field.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = BASE64
        .decode(compact.as_bytes())
        .map_err(|_| SsoError::InvalidAssertion("SAMLResponse is not base64".into()))?;
    String::from_utf8(bytes)
        .map_err(|_| SsoError::InvalidAssertion("SAMLResponse is not UTF-8 XML".into()))
}

/// Refuses a document with a DTD (entities, external or not, are never expanded).
fn refuse_dtd(xml: &str) -> Result<(), &'static str> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::DocType(_)) => return Err("holds a DTD"),
            Ok(Event::Start(_) | Event::Empty(_) | Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err("is not well-formed XML"),
        }
    }
}

/// Reads the structure of a response without trusting any of it: refuses a DTD, comments, processing
/// instructions, a root other than `samlp:Response`, a second `Response`, an encrypted assertion and
/// anything but exactly one `Assertion` (every signature-wrapping shape needs a second copy of the
/// signed element); returns the envelope's values.
pub(crate) fn scan(xml: &str) -> Result<Envelope, SsoError> {
    let refuse = |why: &str| Err(SsoError::InvalidAssertion(format!("the response {why}")));
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut envelope = Envelope::default();
    let (mut depth, mut responses, mut assertions) = (0usize, 0usize, 0usize);
    // Whether the text being read is the envelope's `Issuer` (a child of the root).
    let mut in_issuer = false;
    let mut in_status = false;
    loop {
        let (namespace, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(_) => return refuse("is not well-formed XML"),
        };
        let empty = matches!(event, Event::Empty(_));
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e.clone()),
            _ => None,
        };
        match event {
            Event::DocType(_) => return refuse("holds a DTD"),
            Event::Comment(_) => return refuse("holds an XML comment"),
            Event::PI(_) => return refuse("holds a processing instruction"),
            Event::Eof => break,
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth <= 1 {
                    in_issuer = false;
                    in_status = false;
                }
                continue;
            }
            Event::Text(text) if in_issuer => {
                let text = text.xml_content(XmlVersion::Implicit1_0).map_err(|_| {
                    SsoError::InvalidAssertion("the response Issuer is not text".into())
                })?;
                envelope.issuer.get_or_insert_default().push_str(&text);
                continue;
            }
            _ => {}
        }
        let Some(element) = element else { continue };
        let local = element.local_name();
        let local = local.as_ref();
        let ns = match &namespace {
            ResolveResult::Bound(ns) => ns.as_ref(),
            _ => b"",
        };
        if depth == 0 && (ns != PROTOCOL_NS || local != b"Response") {
            return refuse("is not a samlp:Response");
        }
        match local {
            b"Response" => responses += 1,
            b"Assertion" => assertions += 1,
            b"EncryptedAssertion" => {
                return refuse(
                    "holds an encrypted assertion, which Flagent does not accept; turn assertion encryption off at the IdP",
                );
            }
            _ => {}
        }
        if responses > 1 {
            return refuse("holds more than one Response");
        }
        let attr = |name: &[u8]| {
            element
                .try_get_attribute(name)
                .ok()
                .flatten()
                .and_then(|a| {
                    a.normalized_value(XmlVersion::Implicit1_0)
                        .ok()
                        .map(|v| v.into_owned())
                })
        };
        if depth == 0 {
            envelope.destination = attr(b"Destination");
            envelope.in_response_to = attr(b"InResponseTo");
        } else if depth == 1 && ns == ASSERTION_NS && local == b"Issuer" {
            in_issuer = true;
        } else if depth == 1 && ns == PROTOCOL_NS && local == b"Status" {
            in_status = true;
        } else if depth == 2 && in_status && local == b"StatusCode" && envelope.status.is_none() {
            envelope.status = attr(b"Value");
        }
        if !empty {
            depth += 1;
        }
    }
    if assertions != 1 {
        return refuse(&format!(
            "holds {assertions} assertions; exactly one is accepted"
        ));
    }
    Ok(envelope)
}

/// Checks a response against the provider's settings and returns the person it signs in.
pub(crate) fn verify(
    settings: &SamlSettings,
    sp: &Sp<'_>,
    xml: &str,
    envelope: &Envelope,
    expected: Expected<'_>,
    now: DateTime<Utc>,
) -> Result<Verified, SsoError> {
    let refuse = |why: String| Err(SsoError::InvalidAssertion(why));
    // The envelope's values, before the signature: reasons to refuse, nothing more.
    if let Some(destination) = &envelope.destination
        && destination != sp.acs_url
    {
        return refuse(format!(
            "the response's Destination {destination:?} is not this provider's ACS URL"
        ));
    }
    if let Some(issuer) = &envelope.issuer
        && issuer.trim() != settings.idp_entity_id
    {
        return refuse(format!(
            "the response's Issuer {issuer:?} is not the IdP's entity id"
        ));
    }
    if let Some(status) = &envelope.status
        && status != STATUS_SUCCESS
    {
        return Err(SsoError::IdpRefused(format!("SAML status {status}")));
    }
    match (expected, &envelope.in_response_to) {
        (Expected::Request(id), Some(answered)) if answered != id => {
            return refuse(format!(
                "the response answers request {answered:?}, not this sign-in's"
            ));
        }
        (Expected::Unsolicited, Some(_)) => {
            return Err(SsoError::StateMismatch);
        }
        _ => {}
    }
    let provider = service_provider(settings, sp, matches!(expected, Expected::Unsolicited))?;
    let ids: Vec<&str> = match expected {
        Expected::Request(id) => vec![id],
        Expected::Unsolicited => Vec::new(),
    };
    let assertion = provider
        .parse_xml_response(xml, Some(&ids))
        .map_err(samael_error)?;
    check_assertion(&assertion, sp, expected, now)?;
    let identity = identity(settings, &assertion)?;
    let usable_until = assertion.issue_instant
        + Duration::seconds(MAX_ISSUE_DELAY_SECONDS + 2 * MAX_CLOCK_SKEW_SECONDS);
    Ok(Verified {
        identity,
        assertion_id: assertion.id.clone(),
        usable_until: usable_until.timestamp_millis(),
    })
}

/// The checks samael leaves out, on the signed assertion: an audience restriction naming this SP is
/// required (samael checks one only when present), every restriction must name it, the assertion is
/// not from the future, and an unsolicited one answers no request.
fn check_assertion(
    assertion: &Assertion,
    sp: &Sp<'_>,
    expected: Expected<'_>,
    now: DateTime<Utc>,
) -> Result<(), SsoError> {
    let refuse = |why: &str| Err(SsoError::InvalidAssertion(format!("the assertion {why}")));
    let restrictions = assertion
        .conditions
        .as_ref()
        .and_then(|c| c.audience_restrictions.as_ref())
        .filter(|r| !r.is_empty());
    let Some(restrictions) = restrictions else {
        return refuse("has no AudienceRestriction");
    };
    if !restrictions
        .iter()
        .all(|r| r.audience.iter().any(|a| a == sp.entity_id))
    {
        return refuse("is meant for another audience");
    }
    if assertion.issue_instant > now + Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
        return refuse("was issued in the future");
    }
    if matches!(expected, Expected::Unsolicited) {
        let answers_a_request = assertion
            .subject
            .iter()
            .flat_map(|s| s.subject_confirmations.iter().flatten())
            .filter_map(|c| c.subject_confirmation_data.as_ref())
            .any(|d| d.in_response_to.is_some());
        if answers_a_request {
            return Err(SsoError::StateMismatch);
        }
    }
    Ok(())
}

/// The person a verified assertion names.
fn identity(settings: &SamlSettings, assertion: &Assertion) -> Result<Identity, SsoError> {
    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .ok_or_else(|| SsoError::InvalidAssertion("the assertion has no NameID".into()))?;
    let format = name_id.format.as_deref().unwrap_or(NAMEID_UNSPECIFIED);
    if format == NAMEID_TRANSIENT {
        return Err(SsoError::InvalidAssertion(
            "the NameID is transient and names nobody twice; send a persistent or email NameID"
                .into(),
        ));
    }
    let value = name_id.value.trim();
    if value.is_empty() {
        return Err(SsoError::InvalidAssertion("the NameID is empty".into()));
    }
    let mut assertions = Assertions::new();
    for attribute in assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| &s.attributes)
    {
        let values: Vec<String> = attribute
            .values
            .iter()
            .filter_map(|v| v.value.clone())
            .collect();
        for key in [&attribute.name, &attribute.friendly_name]
            .into_iter()
            .flatten()
        {
            assertions
                .entry(key.clone())
                .or_default()
                .extend(values.iter().cloned());
        }
    }
    let first = |names: &[&str]| {
        names.iter().find_map(|name| {
            assertions
                .get(*name)
                .and_then(|v| v.iter().find(|s| !s.trim().is_empty()))
                .map(|s| s.trim().to_owned())
        })
    };
    let email = match &settings.email_attribute {
        Some(name) => first(&[name.as_str()]),
        None => first(&EMAIL_ATTRIBUTES),
    }
    .or_else(|| {
        let email_like =
            format == NAMEID_EMAIL || (format == NAMEID_UNSPECIFIED && value.contains('@'));
        email_like.then(|| value.to_owned())
    });
    let name = match &settings.name_attribute {
        Some(attribute) => first(&[attribute.as_str()]),
        None => first(&NAME_ATTRIBUTES),
    };
    assertions.insert("nameID".to_owned(), vec![value.to_owned()]);
    Ok(Identity {
        subject: format!("{format}|{value}"),
        email,
        // Decided by the caller: an IdP's email is trusted only in a domain its tenant verified.
        email_verified: false,
        name,
        assertions,
    })
}

/// samael's service provider for these settings.
fn service_provider(
    settings: &SamlSettings,
    sp: &Sp<'_>,
    unsolicited: bool,
) -> Result<ServiceProvider, SsoError> {
    let certificates = settings.certificates.clone();
    if certificates.is_empty() {
        // samael would accept an unsigned response; a provider without a certificate is never used.
        return Err(SsoError::NotConfigured);
    }
    let descriptor = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".to_owned()),
        error_url: None,
        signature: None,
        key_descriptors: certificates
            .into_iter()
            .map(|cert| KeyDescriptor {
                key_use: Some("signing".to_owned()),
                key_info: KeyInfo {
                    id: None,
                    x509_data: Some(X509Data {
                        certificates: vec![cert],
                    }),
                },
                encryption_methods: None,
            })
            .collect(),
        organization: None,
        contact_people: Vec::new(),
        artifact_resolution_service: Vec::new(),
        single_logout_services: Vec::new(),
        manage_name_id_services: Vec::new(),
        name_id_formats: Vec::new(),
        want_authn_requests_signed: None,
        single_sign_on_services: vec![Endpoint {
            binding: HTTP_REDIRECT_BINDING.to_owned(),
            location: settings.sso_url.clone(),
            response_location: None,
        }],
        name_id_mapping_services: Vec::new(),
        assertion_id_request_services: Vec::new(),
        attribute_profiles: Vec::new(),
        attributes: Vec::new(),
    };
    Ok(ServiceProvider {
        entity_id: Some(sp.entity_id.to_owned()),
        metadata_url: None,
        acs_url: Some(sp.acs_url.to_owned()),
        slo_url: None,
        idp_metadata: EntityDescriptor {
            entity_id: Some(settings.idp_entity_id.clone()),
            idp_sso_descriptors: Some(vec![descriptor]),
            ..EntityDescriptor::default()
        },
        allow_idp_initiated: unsolicited,
        max_issue_delay: Duration::seconds(MAX_ISSUE_DELAY_SECONDS),
        max_clock_skew: Duration::seconds(MAX_CLOCK_SKEW_SECONDS),
        allowed_signature_algorithms: Some(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
            AllowedSignatureAlgorithm::EcdsaSha384,
            AllowedSignatureAlgorithm::EcdsaSha512,
        ]),
        ..ServiceProvider::default()
    })
}

/// A samael refusal as the sign-in's refusal.
fn samael_error(error: SpError) -> SsoError {
    match error {
        SpError::FailedToValidateSignature | SpError::CryptoXmlError(_) => {
            SsoError::InvalidSignature
        }
        SpError::AssertionExpired { .. }
        | SpError::ResponseExpired { .. }
        | SpError::AssertionConditionExpired { .. }
        | SpError::AssertionSubjectConfirmationExpired { .. } => {
            SsoError::Expired(error.to_string())
        }
        SpError::ResponseBadStatusCode { code } => {
            SsoError::IdpRefused(format!("SAML status {code}"))
        }
        other => SsoError::InvalidAssertion(other.to_string()),
    }
}
