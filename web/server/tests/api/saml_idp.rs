//! A real SAML 2.0 identity provider for tests: `tests/idp/saml.mjs` (the npm package samlify with
//! xml-crypto, installed by `tests/idp/install`) in a child process, and the browser's part of an
//! SP-initiated sign-in at it: the SP's redirect (HTTP-Redirect binding), the login form, and the
//! auto-submit form that would post the SAMLResponse to the SP's ACS. The IdP can also answer
//! IdP-initiated responses, rotate its signing key, check signed AuthnRequests and misbehave on
//! purpose (tampered values, foreign or missing signatures, signature wrapping); the top of
//! `tests/idp/saml.mjs` documents each. The self-test at the end drives one sign-in by hand.

use crate::idp::{NodeIdp, PATIENCE, form};
use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};

/// A running SAML IdP on 127.0.0.1, stopped when dropped.
pub(crate) struct SamlIdp {
    /// `http://127.0.0.1:<port>`; the entity id and metadata URL is `{base}/metadata`, the single
    /// sign-on service (HTTP-Redirect and HTTP-POST) `{base}/sso`.
    pub(crate) base: String,
    child: Child,
    /// A client that does not follow redirects, as the browser's part is played by hand.
    http: reqwest::Client,
    /// The config file the IdP was started with.
    _config: tempfile::NamedTempFile,
}

/// What the IdP's auto-submit page would make the browser post to the SP.
#[derive(Clone, Debug)]
pub(crate) struct SamlPost {
    /// The form's action: the SP's assertion consumer service URL.
    pub(crate) acs: String,
    /// The `SAMLResponse` field, base64 of the response's XML, as the SP receives it.
    pub(crate) saml_response: String,
    /// The `RelayState` field, if the page has one.
    pub(crate) relay_state: Option<String>,
}

impl SamlPost {
    /// The response's XML, decoded from `saml_response`.
    pub(crate) fn xml(&self) -> String {
        decode_saml_response(&self.saml_response)
    }

    /// The form body the browser would post to `acs`.
    pub(crate) fn form_body(&self) -> String {
        let mut pairs = vec![("SAMLResponse", self.saml_response.as_str())];
        if let Some(relay_state) = &self.relay_state {
            pairs.push(("RelayState", relay_state.as_str()));
        }
        form(&pairs)
    }
}

impl SamlIdp {
    /// Starts the IdP with `config`: `{accounts: {"<login>": {nameID, nameIDFormat?, email?,
    /// name?, groups?: [...], attributes?: {"<name>": [...]}}}, sign?: "assertion" | "response" |
    /// "both", lifetimeSeconds?}` (see the top of `tests/idp/saml.mjs`).
    pub(crate) async fn start(config: Value) -> SamlIdp {
        let node = NodeIdp::start("saml.mjs", &config).await;
        SamlIdp {
            base: node.base,
            child: node.child,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(PATIENCE)
                .build()
                .expect("client"),
            _config: node.config,
        }
    }

    /// Where the IdP's metadata is: `http://127.0.0.1:<port>/metadata`, also its entity id.
    pub(crate) fn metadata_url(&self) -> String {
        format!("{}/metadata", self.base)
    }

    /// The IdP's entity id (the Issuer of its responses), the same URL as its metadata.
    pub(crate) fn entity_id(&self) -> String {
        self.metadata_url()
    }

    /// The single sign-on service's URL, for the HTTP-Redirect and the HTTP-POST binding.
    pub(crate) fn sso_url(&self) -> String {
        format!("{}/sso", self.base)
    }

    /// The IdP's metadata document (an `md:EntityDescriptor`).
    pub(crate) async fn metadata_xml(&self) -> String {
        let response = self
            .http
            .get(self.metadata_url())
            .send()
            .await
            .expect("a request to the SAML IdP");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "GET /metadata: {body}");
        body
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("a request to the SAML IdP");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }

    async fn post_json(&self, path: &str, request: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(request.to_string())
            .send()
            .await
            .expect("a request to the SAML IdP");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "POST {path} {request}: {body}");
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {body}"))
    }

    /// Makes the IdP misbehave once: the next response it builds (by a sign-in or
    /// [`SamlIdp::idp_initiated`]) is changed as `spec` says, `{values?: {audience, recipient,
    /// destination, issuer, inResponseTo, notBefore, notOnOrAfter, issueInstant}, sign?: "idp" |
    /// "foreign" | "none" | "assertion" | "response" | "both", after?: "tamper-nameid" |
    /// "tamper-attribute" | "comment-nameid" | "doctype" | "unsigned-second-assertion" | "xsw1" ..
    /// "xsw8"}` (see `POST /test/tamper` at the top of `tests/idp/saml.mjs`).
    pub(crate) async fn tamper(&self, spec: Value) {
        let answer = self.post_json("/test/tamper", &spec).await;
        assert_eq!(answer["armed"], true, "POST /test/tamper {spec}: {answer}");
    }

    /// How many responses the IdP has tampered with so far.
    pub(crate) async fn tampered(&self) -> u64 {
        self.get_json("/test/tamper").await["applied"]
            .as_u64()
            .expect("a count")
    }

    /// Makes the IdP sign with a newly generated key and self-signed certificate from now on, and
    /// returns the certificate (base64 DER). Its metadata then lists only the new certificate, or
    /// with `keep_previous` the new one followed by the previous ones.
    pub(crate) async fn rotate_keys(&self, keep_previous: bool) -> String {
        let keep = if keep_previous { "?keep=1" } else { "" };
        let answer = self
            .post_json(&format!("/test/rotate-keys{keep}"), &json!({}))
            .await;
        answer["certificate"]
            .as_str()
            .expect("the new certificate")
            .to_owned()
    }

    /// The certificates the metadata publishes (base64 DER), the signing one first.
    pub(crate) async fn certificates(&self) -> Vec<String> {
        let answer = self.get_json("/test/certificate").await;
        answer["certificates"]
            .as_array()
            .expect("a list of certificates")
            .iter()
            .map(|c| c.as_str().expect("a certificate").to_owned())
            .collect()
    }

    /// The last AuthnRequest the IdP received, `{id, acs, issuer, destination, issueInstant,
    /// relayState, binding, signed, sigAlg, signatureValid}` (`signatureValid` is null when the
    /// request was not signed or no SP certificate is registered), or null before any.
    pub(crate) async fn last_request(&self) -> Value {
        self.get_json("/test/last-request").await
    }

    /// Registers the SP's request-signing certificate (PEM or base64 DER): from now on the IdP
    /// checks the signature of signed AuthnRequests and records the outcome (see
    /// [`SamlIdp::last_request`]); it never refuses a request for it.
    pub(crate) async fn register_sp_certificate(&self, pem_or_b64: &str) {
        self.post_json("/test/sp", &json!({ "certificate": pem_or_b64 }))
            .await;
    }

    /// An unsolicited (IdP-initiated) response for `login` to the SP at `acs`, with `audience` as
    /// the Audience, signed as usual (an armed tamper applies): the `SAMLResponse` (base64 of the
    /// XML) and the `RelayState` to post to `acs`.
    pub(crate) async fn idp_initiated(
        &self,
        login: &str,
        acs: &str,
        audience: &str,
        relay_state: Option<&str>,
    ) -> (String, Option<String>) {
        let answer = self
            .post_json(
                "/test/idp-initiated",
                &json!({
                    "login": login,
                    "acs": acs,
                    "audience": audience,
                    "relayState": relay_state,
                }),
            )
            .await;
        let saml_response = answer["SAMLResponse"]
            .as_str()
            .unwrap_or_else(|| panic!("no SAMLResponse from /test/idp-initiated: {answer}"))
            .to_owned();
        (
            saml_response,
            answer["RelayState"].as_str().map(str::to_owned),
        )
    }

    /// Plays the browser at the IdP: opens `redirect` (the IdP URL the SP redirected to, with
    /// `SAMLRequest` and maybe `RelayState`, `SigAlg` and `Signature`), submits the login form as
    /// `login`, and reads the auto-submit form the IdP answers with: what the browser would post to
    /// the SP. Panics on anything else (an error page, an unknown login, a redirect).
    pub(crate) async fn sign_in_at_idp(&self, redirect: &str, login: &str) -> SamlPost {
        let url = Url::parse(redirect)
            .unwrap_or_else(|e| panic!("the SP's redirect is not a URL ({e}): {redirect}"));
        let idp = Url::parse(&self.base).expect("the IdP's base URL");
        assert_eq!(
            url.origin(),
            idp.origin(),
            "the SP redirected to {url}, not to the SAML IdP at {}",
            self.base
        );

        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .expect("a request to the SAML IdP");
        let status = response.status();
        let page = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "GET {url} answered: {page}");
        let login_form =
            HtmlForm::parse(&page).unwrap_or_else(|| panic!("no login form at {url}: {page}"));
        let action = url.join(&login_form.action).expect("a form action URL");
        // The form's hidden fields carry the request; `login` is the one text field.
        let mut fields: Vec<(&str, &str)> = login_form
            .inputs
            .iter()
            .filter(|(name, _)| name != "login")
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        fields.push(("login", login));

        let response = self
            .http
            .post(action.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(&fields))
            .send()
            .await
            .expect("a request to the SAML IdP");
        let status = response.status();
        let page = response.text().await.unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::OK,
            "POST {action} as {login} answered: {page}"
        );
        let post = HtmlForm::parse(&page)
            .unwrap_or_else(|| panic!("no auto-submit form from POST {action}: {page}"));
        let saml_response = post
            .value("SAMLResponse")
            .unwrap_or_else(|| panic!("no SAMLResponse in the form from POST {action}: {page}"))
            .to_owned();
        SamlPost {
            relay_state: post.value("RelayState").map(str::to_owned),
            acs: post.action,
            saml_response,
        }
    }
}

impl Drop for SamlIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The XML of a `SAMLResponse` (base64, as posted to the ACS).
pub(crate) fn decode_saml_response(saml_response: &str) -> String {
    String::from_utf8(base64(saml_response))
        .unwrap_or_else(|e| panic!("the SAMLResponse is not UTF-8 ({e}): {saml_response}"))
}

/// Decodes standard base64; whitespace and padding are skipped.
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {text}"),
    };
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        bits = (bits << 6) | u32::from(value(c));
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// The first form of an HTML page, as the IdP writes them: its action and its inputs.
struct HtmlForm {
    action: String,
    /// Each input's name and value (empty when it has none), in order, unescaped.
    inputs: Vec<(String, String)>,
}

impl HtmlForm {
    fn parse(html: &str) -> Option<HtmlForm> {
        let form = &html[html.find("<form")?..];
        let form = &form[..form.find("</form>").unwrap_or(form.len())];
        let start_tag_end = form.find('>')?;
        let action = attribute(&form[..start_tag_end], "action")?;
        let mut inputs = Vec::new();
        let mut rest = &form[start_tag_end..];
        while let Some(at) = rest.find("<input") {
            rest = &rest[at..];
            let end = rest.find('>')?;
            let tag = &rest[..end];
            if let Some(name) = attribute(tag, "name") {
                inputs.push((name, attribute(tag, "value").unwrap_or_default()));
            }
            rest = &rest[end..];
        }
        Some(HtmlForm { action, inputs })
    }

    /// The value of the first input named `name`.
    fn value(&self, name: &str) -> Option<&str> {
        self.inputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The unescaped value of the attribute `name="..."` in `tag`, the text of one start tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(key.as_str())? + key.len();
    let len = tag[start..].find('"')?;
    Some(unescape_html(&tag[start..start + len]))
}

/// Replaces HTML character references (`&#60;`, `&#x3c;`, `&lt;`, `&amp;`, `&quot;`, `&apos;`,
/// `&gt;`) by their characters; anything else is left as is.
fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                entity => entity
                    .strip_prefix('#')
                    .and_then(|number| match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => number.parse().ok(),
                    })
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: &str = "http://sp.test/metadata";
    const ACS: &str = "http://sp.test/acs";

    /// Base64 of the raw DEFLATE of `text`, as the HTTP-Redirect binding carries a SAMLRequest.
    /// The test crate has no DEFLATE of its own, so Node.js (which runs the IdP anyway) does it.
    fn deflate_base64(text: &str) -> String {
        let output = Command::new("node")
            .arg("-e")
            .arg(
                "process.stdout.write(require('zlib').deflateRawSync(process.argv[1])\
                 .toString('base64'))",
            )
            .arg(text)
            .stdin(Stdio::null())
            .output()
            .expect("run node");
        assert!(
            output.status.success(),
            "node could not deflate: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("base64 from node")
    }

    /// The URL an SP would redirect the browser to for the AuthnRequest `id`.
    fn redirect_url(idp: &SamlIdp, id: &str, relay_state: &str) -> String {
        let request = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="{sso}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" AssertionConsumerServiceURL="{ACS}"><saml:Issuer>{SP}</saml:Issuer></samlp:AuthnRequest>"#,
            sso = idp.sso_url(),
        );
        Url::parse_with_params(
            &idp.sso_url(),
            [
                ("SAMLRequest", deflate_base64(&request).as_str()),
                ("RelayState", relay_state),
            ],
        )
        .expect("a redirect URL")
        .to_string()
    }

    #[tokio::test]
    async fn saml_idp_signs_a_user_in() {
        let idp = SamlIdp::start(json!({
            "accounts": {
                "alice": {
                    "nameID": "alice@acme.test",
                    "email": "alice@acme.test",
                    "name": "Alice <Example>",
                    "groups": ["engineering", "flag-admins"],
                },
            },
        }))
        .await;

        // The metadata names the entity id and the one signing certificate.
        assert_eq!(idp.entity_id(), format!("{}/metadata", idp.base));
        let metadata = idp.metadata_xml().await;
        assert!(
            metadata.contains(&format!(r#"entityID="{}""#, idp.entity_id())),
            "{metadata}"
        );
        assert!(
            metadata.contains(&format!(r#"Location="{}""#, idp.sso_url())),
            "{metadata}"
        );
        let certificates = idp.certificates().await;
        assert_eq!(certificates.len(), 1);
        assert!(metadata.contains(&certificates[0]), "{metadata}");

        // An SP-initiated sign-in: the response names the request, the ACS and the account.
        let redirect = redirect_url(&idp, "_selftest-1", "relay & state");
        let post = idp.sign_in_at_idp(&redirect, "alice").await;
        assert_eq!(post.acs, ACS);
        assert_eq!(post.relay_state.as_deref(), Some("relay & state"));
        let xml = post.xml();
        assert!(xml.starts_with("<samlp:Response "), "{xml}");
        assert!(xml.contains(&format!(r#"Destination="{ACS}""#)), "{xml}");
        assert!(xml.contains(r#"InResponseTo="_selftest-1""#), "{xml}");
        assert!(xml.contains(&format!(r#"Recipient="{ACS}""#)), "{xml}");
        assert!(
            xml.contains(&format!("<saml:Audience>{SP}</saml:Audience>")),
            "{xml}"
        );
        assert!(xml.contains(">alice@acme.test</saml:NameID>"), "{xml}");
        assert!(
            xml.contains(&format!("<saml:Issuer>{}</saml:Issuer>", idp.entity_id())),
            "{xml}"
        );
        assert!(
            xml.contains("<saml:AttributeValue>Alice &lt;Example&gt;</saml:AttributeValue>"),
            "{xml}"
        );
        assert!(xml.contains(&certificates[0]), "KeyInfo: {xml}");
        assert!(post.form_body().starts_with("SAMLResponse="));

        let last = idp.last_request().await;
        assert_eq!(last["id"], "_selftest-1", "{last}");
        assert_eq!(last["acs"], ACS, "{last}");
        assert_eq!(last["issuer"], SP, "{last}");
        assert_eq!(last["destination"], idp.sso_url().as_str(), "{last}");
        assert_eq!(last["relayState"], "relay & state", "{last}");
        assert_eq!(last["signed"], false, "{last}");
        assert_eq!(last["signatureValid"], Value::Null, "{last}");

        // A tamper changes the next response only.
        idp.tamper(json!({ "after": "tamper-nameid" })).await;
        let tampered = idp.sign_in_at_idp(&redirect, "alice").await.xml();
        assert!(
            tampered.contains(">evil@evil.test</saml:NameID>"),
            "{tampered}"
        );
        assert_eq!(idp.tampered().await, 1);
        let honest = idp.sign_in_at_idp(&redirect, "alice").await.xml();
        assert!(
            honest.contains(">alice@acme.test</saml:NameID>"),
            "{honest}"
        );

        // An IdP-initiated response answers no request.
        let (response, relay_state) = idp.idp_initiated("alice", ACS, SP, Some("deep/link")).await;
        assert_eq!(relay_state.as_deref(), Some("deep/link"));
        let unsolicited = decode_saml_response(&response);
        assert!(!unsolicited.contains("InResponseTo"), "{unsolicited}");
        assert!(
            unsolicited.contains(&format!(r#"Destination="{ACS}""#)),
            "{unsolicited}"
        );

        // A registered SP certificate: an unsigned request is still recorded as unsigned.
        idp.register_sp_certificate(&certificates[0]).await;
        idp.sign_in_at_idp(&redirect, "alice").await;
        assert_eq!(idp.last_request().await["signed"], false);

        // A rotation with keep publishes the new certificate first, then the old one.
        let new_certificate = idp.rotate_keys(true).await;
        assert_eq!(
            idp.certificates().await,
            vec![new_certificate.clone(), certificates[0].clone()]
        );
        let rotated = idp.sign_in_at_idp(&redirect, "alice").await.xml();
        assert!(rotated.contains(&new_certificate), "KeyInfo: {rotated}");
        let newest = idp.rotate_keys(false).await;
        assert_eq!(idp.certificates().await, vec![newest]);
    }

    #[test]
    fn html_forms_are_read_and_unescaped() {
        let page = r#"<form method="post" action="http://sp.test/acs?a=1&#38;b=2">
<input type="hidden" name="SAMLResponse" value="PHg+&#43;/=">
<input type="hidden" name="RelayState" value="&#60;&#x3c;&lt;&amp;&quot;&#39;&apos;&gt;&unknown; &">
<input name="login" autofocus>
</form>"#;
        let form = HtmlForm::parse(page).expect("a form");
        assert_eq!(form.action, "http://sp.test/acs?a=1&b=2");
        assert_eq!(form.value("SAMLResponse"), Some("PHg++/="));
        assert_eq!(form.value("RelayState"), Some("<<<&\"''>&unknown; &"));
        assert_eq!(form.value("login"), Some(""));
        assert_eq!(form.value("missing"), None);
        assert_eq!(decode_saml_response("PHg+eDwveD4=\n"), "<x>x</x>");
    }
}
