//! A real OpenID Connect identity provider for tests: `tests/idp/oidc.mjs` (the npm package
//! oidc-provider, installed by `tests/idp/install`) in a child process, and the browser's part of an
//! authorization-code + PKCE sign-in at it. The self-test at the end drives one sign-in by hand: the
//! authorize URL, the login form, the code, the token exchange, the ID token's claims, a key rotation.

use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Longest wait for the IdP to start or to answer one request.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// Most requests one sign-in makes at the IdP before it must have sent the browser back.
const MAX_STEPS: usize = 10;

/// The folder of the IdP's script and npm packages.
pub(crate) fn idp_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/idp"))
}

/// Runs `tests/idp/install` once per test run (it installs only when `node_modules` is missing or
/// older than the lock file).
pub(crate) fn ensure_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        let output = Command::new(idp_dir().join("install"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    });
    if let Err(error) = outcome {
        panic!(
            "the test IdP's npm packages are not installed and installing them failed; run \
             web/server/tests/idp/install (it needs npm and the npm registry):\n{error}"
        );
    }
}

/// A test IdP script of `tests/idp` running under Node.js, once it printed where it listens.
pub(crate) struct NodeIdp {
    /// `http://127.0.0.1:<port>`, from the script's one line of stdout.
    pub(crate) base: String,
    /// The process; it exits when its stdin closes, so when this process dies.
    pub(crate) child: Child,
    /// The config file it was started with.
    pub(crate) config: tempfile::NamedTempFile,
}

impl NodeIdp {
    /// Starts `script` with `config` (installing the npm packages first if need be); panics with the
    /// script's stderr when it exits or does not start in time.
    pub(crate) async fn start(script: &str, config: &Value) -> NodeIdp {
        tokio::task::spawn_blocking(ensure_installed)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let mut file = tempfile::NamedTempFile::new().expect("a config file");
        file.write_all(config.to_string().as_bytes())
            .expect("write the config");
        let mut child = Command::new("node")
            .arg(idp_dir().join(script))
            .arg(file.path())
            // The IdP lives as long as its stdin is open: if this process dies, so does it.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node (Node.js 20 or later runs the test IdP)");

        // Its stderr goes to the test's output (shown when the test fails), and is kept for a
        // failure to start.
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let label = script.to_owned();
        let stderr = std::thread::spawn(move || {
            let mut kept = String::new();
            for line in stderr.lines().map_while(Result::ok) {
                eprintln!("{label}: {line}");
                kept.push_str(&line);
                kept.push('\n');
            }
            kept
        });
        // Its one line of stdout names its base URL; the rest is read and dropped so it never blocks.
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = stdout.lines().map_while(Result::ok);
            if let Some(base) = lines.find_map(|l| l.strip_prefix("listening ").map(str::to_owned))
            {
                let _ = tx.send(base);
            }
            lines.for_each(drop);
        });

        match tokio::time::timeout(PATIENCE, rx).await {
            Ok(Ok(base)) => NodeIdp {
                base,
                child,
                config: file,
            },
            failed => {
                let _ = child.kill();
                let status = child.wait();
                let stderr = stderr.join().unwrap_or_default();
                let why = if failed.is_err() {
                    "did not start in time"
                } else {
                    "exited"
                };
                panic!("the test IdP {script} {why} ({status:?}):\n{stderr}");
            }
        }
    }
}

/// A running oidc-provider on 127.0.0.1, stopped when dropped.
pub(crate) struct OidcIdp {
    /// The issuer, `http://127.0.0.1:<port>`; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub(crate) issuer: String,
    child: Child,
    http: reqwest::Client,
    /// The config file the IdP was started with.
    _config: tempfile::NamedTempFile,
}

impl OidcIdp {
    /// Starts the IdP with `config`: `{clients: [{client_id, client_secret, redirect_uris,
    /// token_endpoint_auth_method?, id_token_signed_response_alg?}], accounts: {"<sub>": {email,
    /// email_verified, name, groups}}, ttl?}` (see the top of `tests/idp/oidc.mjs`).
    pub(crate) async fn start(config: Value) -> OidcIdp {
        let node = NodeIdp::start("oidc.mjs", &config).await;
        OidcIdp {
            issuer: node.base,
            child: node.child,
            http: reqwest::Client::builder()
                .timeout(PATIENCE)
                .build()
                .expect("client"),
            _config: node.config,
        }
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.issuer))
            .send()
            .await
            .expect("a request to the IdP");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("JSON from the IdP")
    }

    /// How many requests the IdP's jwks_uri has had.
    pub(crate) async fn jwks_hits(&self) -> u64 {
        self.get_json("/test/jwks-hits").await["hits"]
            .as_u64()
            .expect("a count")
    }

    /// How many requests the IdP's discovery document has had.
    pub(crate) async fn discovery_hits(&self) -> u64 {
        self.get_json("/test/discovery-hits").await["hits"]
            .as_u64()
            .expect("a count")
    }

    /// Registers `client` (as in the config's `clients`) from now on.
    pub(crate) async fn add_client(&self, client: Value) {
        let response = self
            .http
            .post(format!("{}/test/clients", self.issuer))
            .body(client.to_string())
            .send()
            .await
            .expect("a request to the IdP");
        assert_eq!(response.status(), StatusCode::OK, "POST /test/clients");
    }

    /// Makes the IdP sign with a newly generated RSA key (a new `kid`, which is returned) from now on.
    /// Its JWKS then lists only the new key, or with `keep_previous` the new key and the old ones.
    /// Sessions, codes and grants outlive the rotation; the issuer and port stay the same.
    pub(crate) async fn rotate_keys(&self, keep_previous: bool) -> String {
        let keep = if keep_previous { "?keep=1" } else { "" };
        let response = self
            .http
            .post(format!("{}/test/rotate-keys{keep}", self.issuer))
            .send()
            .await
            .expect("a request to the IdP");
        assert_eq!(response.status(), StatusCode::OK, "POST /test/rotate-keys");
        let body: Value = response.json().await.expect("JSON from the IdP");
        body["kid"].as_str().expect("the new kid").to_owned()
    }

    /// Makes the IdP misbehave once: the next successful token response carries its ID token
    /// changed as `spec` says, `{claims?: {"<name>": value, or null to delete it}, sign?: "idp" |
    /// "foreign" | "none" | "hs256", kid?, header?: {...}}` (see `POST /test/tamper` at the top of
    /// `tests/idp/oidc.mjs`).
    pub(crate) async fn tamper(&self, spec: Value) {
        let response = self
            .http
            .post(format!("{}/test/tamper", self.issuer))
            .body(spec.to_string())
            .send()
            .await
            .expect("a request to the IdP");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "POST /test/tamper {spec}: {body}");
    }

    /// How many token responses the IdP has tampered with so far.
    pub(crate) async fn tampered(&self) -> u64 {
        self.get_json("/test/tamper").await["applied"]
            .as_u64()
            .expect("a count")
    }
}

impl Drop for OidcIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pairs` as an `application/x-www-form-urlencoded` string.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse("http://form.invalid/").expect("a URL");
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

/// The cookies a browser would hold for the IdP. One host, so paths are not told apart.
#[derive(Default)]
struct CookieJar(BTreeMap<String, String>);

impl CookieJar {
    /// Keeps the cookies `headers` set and forgets the ones they clear.
    fn store(&mut self, headers: &HeaderMap) {
        for set in headers.get_all(SET_COOKIE) {
            let Ok(set) = set.to_str() else { continue };
            let mut parts = set.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let cleared = value.trim().is_empty()
                || parts.any(|a| {
                    let a = a.trim().to_ascii_lowercase();
                    a == "max-age=0" || a.starts_with("expires=thu, 01 jan 1970")
                });
            if cleared {
                self.0.remove(name.trim());
            } else {
                self.0
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    /// The `Cookie` header to send, if any cookie is held.
    fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// The `action` of the first form in `html`.
fn form_action(html: &str) -> Option<String> {
    let form = &html[html.find("<form")?..];
    let action = &form[form.find("action=\"")? + "action=\"".len()..];
    Some(action[..action.find('"')?].replace("&amp;", "&"))
}

/// Plays the browser at the IdP: opens `authorize_url`, submits the login form as `account`, and
/// follows the IdP's redirects until one leaves the IdP, whose `Location` it returns (the client's
/// redirect_uri with `code`, `state` and `iss`, or with `error`). `client` must not follow redirects
/// itself; the IdP's cookies are carried by hand, in a jar of this sign-in's own (so each call is a
/// fresh browser).
pub(crate) async fn sign_in_at_idp(
    client: &reqwest::Client,
    authorize_url: &str,
    account: &str,
) -> String {
    let mut url = Url::parse(authorize_url).expect("an absolute authorize URL");
    let idp = url.origin();
    let mut jar = CookieJar::default();
    // The form to post to `url`, or none for a GET.
    let mut post: Option<String> = None;
    for _ in 0..MAX_STEPS {
        let mut request = match post.take() {
            None => client.get(url.clone()),
            Some(body) => client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body),
        };
        if let Some(cookies) = jar.header() {
            request = request.header(COOKIE, cookies);
        }
        let response = request.send().await.expect("a request to the IdP");
        jar.store(response.headers());
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or_else(|| panic!("{status} without a Location from {url}"))
                .to_owned();
            let next = url.join(&location).expect("a Location URL");
            if next.origin() != idp {
                return location;
            }
            url = next;
            continue;
        }
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "{url} answered: {body}");
        // A page with a form is the login page: sign in as `account`.
        let action = form_action(&body).unwrap_or_else(|| panic!("no form at {url}: {body}"));
        let target = url.join(&action).expect("a form action URL");
        assert_eq!(
            target.origin(),
            idp,
            "a form that posts out of the IdP (response_mode=form_post is not supported): {body}"
        );
        url = target;
        post = Some(form(&[("login", account)]));
    }
    panic!("the IdP did not send the browser back within {MAX_STEPS} requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::redirect;
    use serde_json::json;

    /// RFC 7636 appendix B: the code verifier and its S256 challenge (BASE64URL(SHA256(verifier))).
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/oidc/callback";

    /// Decodes unpadded base64url (a JWT's parts).
    fn base64url(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {text}"),
        };
        let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
        for c in text.bytes().filter(|&c| c != b'=') {
            bits = (bits << 6) | u32::from(value(c));
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
            }
        }
        out
    }

    /// A JWT's header and payload, unverified.
    fn jwt_parts(jwt: &str) -> (Value, Value) {
        let mut parts = jwt.split('.');
        let mut decode =
            || serde_json::from_slice(&base64url(parts.next().expect("a JWT part"))).expect("JSON");
        (decode(), decode())
    }

    /// The authorize URL for `state` and `nonce`, with the RFC 7636 challenge when `pkce`.
    fn authorize_url(discovery: &Value, state: &str, nonce: &str, pkce: bool) -> String {
        let mut url = Url::parse_with_params(
            discovery["authorization_endpoint"]
                .as_str()
                .expect("endpoint"),
            [
                ("response_type", "code"),
                ("client_id", "flagent"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid email profile groups"),
                ("state", state),
                ("nonce", nonce),
            ],
        )
        .expect("an authorize URL");
        if pkce {
            url.query_pairs_mut()
                .append_pair("code_challenge", CHALLENGE)
                .append_pair("code_challenge_method", "S256");
        }
        url.to_string()
    }

    /// Signs alice in and redeems the code: the token response.
    async fn sign_in_and_redeem(
        idp: &OidcIdp,
        browser: &reqwest::Client,
        discovery: &Value,
        state: &str,
    ) -> Value {
        let nonce = format!("nonce-{state}");
        let location = sign_in_at_idp(
            browser,
            &authorize_url(discovery, state, &nonce, true),
            "alice",
        )
        .await;
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        let params: BTreeMap<String, String> = Url::parse(&location)
            .expect("a redirect URL")
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(params.get("state").map(String::as_str), Some(state));
        assert_eq!(params.get("iss"), Some(&idp.issuer));
        let code = params.get("code").expect("a code");

        let response = browser
            .post(discovery["token_endpoint"].as_str().expect("endpoint"))
            .basic_auth("flagent", Some("flagent-secret"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ]))
            .send()
            .await
            .expect("the token request");
        let status = response.status();
        let tokens: Value = response.json().await.expect("JSON");
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let (_, claims) = jwt_parts(tokens["id_token"].as_str().expect("an ID token"));
        assert_eq!(claims["iss"], idp.issuer.as_str());
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], "flagent");
        assert_eq!(claims["nonce"], nonce.as_str());
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(claims["name"], "Alice Example");
        assert_eq!(claims["groups"], json!(["engineering", "flag-admins"]));
        tokens
    }

    #[tokio::test]
    async fn oidc_idp_issues_a_code_and_tokens() {
        let idp = OidcIdp::start(json!({
            "clients": [{
                "client_id": "flagent",
                "client_secret": "flagent-secret",
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "client_secret_basic",
            }],
            "accounts": {
                "alice": {
                    "email": "alice@example.com",
                    "email_verified": true,
                    "name": "Alice Example",
                    "groups": ["engineering", "flag-admins"],
                },
            },
        }))
        .await;
        let browser = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(PATIENCE)
            .build()
            .expect("client");
        let get = |url: String| {
            let browser = browser.clone();
            async move {
                let response = browser.get(url).send().await.expect("a request");
                assert_eq!(response.status(), StatusCode::OK);
                response.json::<Value>().await.expect("JSON")
            }
        };

        assert_eq!(idp.discovery_hits().await, 0);
        let discovery = get(format!("{}/.well-known/openid-configuration", idp.issuer)).await;
        assert_eq!(discovery["issuer"], idp.issuer.as_str());
        assert_eq!(
            discovery["code_challenge_methods_supported"],
            json!(["S256"])
        );
        assert_eq!(idp.discovery_hits().await, 1);
        assert_eq!(idp.jwks_hits().await, 0);
        let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri").to_owned();
        let jwks = get(jwks_uri.clone()).await;
        let first_kid = jwks["keys"][0]["kid"].as_str().expect("a kid").to_owned();
        assert_eq!(idp.jwks_hits().await, 1);

        // PKCE is required: a request without a challenge is sent back with an error.
        let bare = authorize_url(&discovery, "state-0", "nonce-0", false);
        let location = sign_in_at_idp(&browser, &bare, "alice").await;
        assert!(location.contains("error=invalid_request"), "{location}");

        let tokens = sign_in_and_redeem(&idp, &browser, &discovery, "state-1").await;
        let (header, _) = jwt_parts(tokens["id_token"].as_str().expect("an ID token"));
        assert_eq!(header["kid"], first_kid.as_str());
        let userinfo = browser
            .get(discovery["userinfo_endpoint"].as_str().expect("userinfo"))
            .bearer_auth(tokens["access_token"].as_str().expect("an access token"))
            .send()
            .await
            .expect("userinfo")
            .json::<Value>()
            .await
            .expect("JSON");
        assert_eq!(userinfo["sub"], "alice");
        assert_eq!(userinfo["email"], "alice@example.com");

        // After a rotation the JWKS holds only the new key, and new ID tokens are signed with it.
        let new_kid = idp.rotate_keys(false).await;
        assert_ne!(new_kid, first_kid);
        let jwks = get(jwks_uri).await;
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
        assert_eq!(jwks["keys"][0]["kid"], new_kid.as_str());
        assert_eq!(idp.jwks_hits().await, 2);
        let tokens = sign_in_and_redeem(&idp, &browser, &discovery, "state-2").await;
        let (header, _) = jwt_parts(tokens["id_token"].as_str().expect("an ID token"));
        assert_eq!(header["kid"], new_kid.as_str());
        assert_eq!(idp.discovery_hits().await, 1);
    }
}
