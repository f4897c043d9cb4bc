//! OpenID Connect sign-in: the authorization code flow with PKCE, through `openidconnect`.
//!
//! Invariant: a provider's discovery document and signing keys are fetched once and cached; the keys are
//! fetched again only when a token names a key id the cache does not know, at most once a minute per
//! provider, so forged tokens cannot make this server hammer an identity provider.
//! Invariant: every ID token is checked for its signature (asymmetric algorithms the provider
//! advertises; never `none` or a shared secret), `iss`, `aud` (no untrusted extra audience), `azp`,
//! `exp` and `iat` with at most two minutes of skew, and the `nonce` of the sign-in it answers. The
//! authorization response's `iss` parameter (RFC 9207) must name the provider when it is sent, and must
//! be sent when the provider says it sends it.
//! Invariant: HTTP calls to identity providers follow no redirects, time out after 10 seconds and read
//! at most 1 MiB.

use super::SsoError;
use super::providers::OidcSettings;
use super::rules::{Assertions, assertions_from_json};
use chrono::{DateTime, Duration as Span, Utc};
use openidconnect::ClaimsVerificationError as ClaimsError;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, IdTokenFields, IssuerUrl, JsonWebKeySet, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest an identity provider's answer may be.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long one call to an identity provider may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a discovery document (and its keys) is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// The least time between two key fetches caused by unknown key ids.
const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The clock skew allowed on `exp` and `iat`.
const MAX_SKEW: Span = Span::minutes(2);
/// The oldest an ID token may be when it arrives.
const MAX_TOKEN_AGE: Span = Span::minutes(10);

/// Claims beyond the standard ones (`groups`, `department`…), kept for role mapping.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ExtraClaims(serde_json::Map<String, serde_json::Value>);

impl AdditionalClaims for ExtraClaims {}

/// Discovery fields beyond the core ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ExtraMetadata {
    /// RFC 9207: the provider puts `iss` on every authorization response.
    #[serde(default)]
    authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type TokenFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<TokenFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A provider's cached discovery document and keys.
#[derive(Clone)]
struct Cached {
    issuer: String,
    metadata: Metadata,
    fetched: Instant,
    keys_refetched: Option<Instant>,
}

/// The HTTP client for identity providers, and what it learnt from them.
pub(crate) struct OidcClientCache {
    http: Http,
    providers: Mutex<HashMap<i64, Cached>>,
}

/// Where a sign-in goes next: the provider's authorization URL, and what to keep until it comes back.
pub(crate) struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// What a provider asserted about the person signing in, once every check passed.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The provider's subject identifier (`sub`).
    pub subject: String,
    /// The email address, if any.
    pub email: Option<String>,
    /// Whether the provider says it verified the email address.
    pub email_verified: bool,
    /// The display name, if any.
    pub name: Option<String>,
    /// Every claim, for role mapping.
    pub assertions: Assertions,
}

/// What came back to the redirect URI.
pub(crate) struct Callback<'a> {
    pub code: &'a str,
    pub iss: Option<&'a str>,
    pub nonce: &'a str,
    pub verifier: &'a str,
}

impl OidcClientCache {
    pub(crate) fn new() -> Result<Self, SsoError> {
        Ok(OidcClientCache {
            http: Http::new()?,
            providers: Mutex::default(),
        })
    }

    /// The body of a `GET` of `url` (SAML IdP metadata), at most `limit` bytes of UTF-8; any answer
    /// but `200` is a failure, described for the person who entered the URL.
    pub(crate) async fn fetch_text(&self, url: &str, limit: usize) -> Result<String, String> {
        use openidconnect::AsyncHttpClient as _;
        let request = openidconnect::http::Request::builder()
            .method(openidconnect::http::Method::GET)
            .uri(url)
            .header(
                openidconnect::http::header::ACCEPT,
                "application/samlmetadata+xml, application/xml, text/xml",
            )
            .body(Vec::new())
            .map_err(|e| format!("{e}"))?;
        let response = self.http.call(request).await.map_err(|e| e.to_string())?;
        if response.status() != openidconnect::http::StatusCode::OK {
            return Err(format!("the server answered {}", response.status()));
        }
        if response.body().len() > limit {
            return Err(format!("the document is larger than {} KiB", limit / 1024));
        }
        String::from_utf8(response.into_body()).map_err(|_| "the document is not UTF-8".to_owned())
    }

    /// Forgets what was learnt about provider `id` (its settings changed or it was deleted).
    pub(crate) fn forget(&self, id: i64) {
        if let Ok(mut providers) = self.providers.lock() {
            providers.remove(&id);
        }
    }

    /// The authorization URL of a new sign-in through provider `id`.
    pub(crate) async fn authorize(
        &self,
        id: i64,
        settings: &OidcSettings,
        secret: &str,
        redirect: &str,
    ) -> Result<Authorization, SsoError> {
        let cached = self.metadata(id, settings).await?;
        let client = new_client(&cached.metadata, settings, secret, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code of a sign-in coming back and checks everything the provider asserts.
    pub(crate) async fn finish(
        &self,
        id: i64,
        settings: &OidcSettings,
        secret: &str,
        redirect: &str,
        callback: Callback<'_>,
    ) -> Result<Identity, SsoError> {
        let cached = self.metadata(id, settings).await?;
        check_response_issuer(&cached.metadata, &settings.issuer, callback.iss)?;
        let client = new_client(&cached.metadata, settings, secret, redirect)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(callback.code.to_owned()))
            .map_err(|e| SsoError::IdpUnavailable(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(callback.verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(answer) => SsoError::InvalidToken(
                    format!("the token endpoint refused the code: {}", answer.error()),
                ),
                // An answer that arrived but is not a valid token response (an ID token without
                // `iss`, say) is the provider's answer refused, not the provider out of reach.
                openidconnect::RequestTokenError::Parse(error, _) => {
                    SsoError::InvalidToken(format!("the token response does not parse: {error}"))
                }
                other => SsoError::IdpUnavailable(format!("token endpoint: {other}")),
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| SsoError::InvalidToken("the token response has no id_token".into()))?
            .clone();
        let nonce = Nonce::new(callback.nonce.to_owned());
        // The outer result is this server's failure, the inner one the token's.
        let verify = |metadata: &Metadata| -> Result<Result<_, ClaimsError>, SsoError> {
            let client = new_client(metadata, settings, secret, redirect)?;
            let verifier = token_verifier(&client, metadata);
            Ok(id_token.clone().into_claims(&verifier, &nonce))
        };
        let claims = match verify(&cached.metadata)? {
            Ok(claims) => claims,
            Err(ClaimsError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                let refreshed = self.refetch_keys(id, settings, cached).await?;
                verify(&refreshed.metadata)?.map_err(claims_error)?
            }
            Err(e) => return Err(claims_error(e)),
        };
        // `openidconnect` leaves `azp` to the client: when present it must be this client.
        if let Some(azp) = claims.authorized_party()
            && azp.as_str() != settings.client_id
        {
            return Err(SsoError::InvalidToken(format!(
                "ID token: authorized party {:?} is not this client",
                azp.as_str()
            )));
        }
        let mut all = serde_json::to_value(&claims)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        let subject = claims.subject().as_str().to_owned();
        if settings.use_userinfo {
            let userinfo = client
                .user_info(
                    tokens.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .map_err(|e| SsoError::InvalidToken(format!("userinfo: {e}")))?
                .request_async::<ExtraClaims, _, CoreGenderClaim>(&self.http)
                .await
                .map_err(|e| SsoError::InvalidToken(format!("userinfo: {e}")))?;
            if let Some(more) = serde_json::to_value(&userinfo)
                .ok()
                .and_then(|v| v.as_object().cloned())
            {
                all.extend(more);
            }
        }
        let text = |name: &str| all.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let email_verified = match all.get("email_verified") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        Ok(Identity {
            subject,
            email: text("email"),
            email_verified,
            name: text("name"),
            assertions: assertions_from_json(&all),
        })
    }

    /// The cached discovery document of provider `id`, fetched when missing, stale or for another
    /// issuer.
    async fn metadata(&self, id: i64, settings: &OidcSettings) -> Result<Cached, SsoError> {
        let cached = self.providers.lock().ok().and_then(|p| p.get(&id).cloned());
        if let Some(cached) = cached
            && cached.issuer == settings.issuer
            && cached.fetched.elapsed() < METADATA_TTL
        {
            return Ok(cached);
        }
        let issuer = IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| SsoError::IdpUnavailable(format!("issuer: {e}")))?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::IdpUnavailable(format!("discovery: {e}")))?;
        let cached = Cached {
            issuer: settings.issuer.clone(),
            metadata,
            fetched: Instant::now(),
            keys_refetched: None,
        };
        self.keep(id, &cached);
        Ok(cached)
    }

    /// Fetches provider `id`'s keys again after a token named an unknown key, unless that happened
    /// less than a minute ago.
    async fn refetch_keys(
        &self,
        id: i64,
        settings: &OidcSettings,
        mut cached: Cached,
    ) -> Result<Cached, SsoError> {
        if cached
            .keys_refetched
            .is_some_and(|at| at.elapsed() < KEY_REFETCH_INTERVAL)
        {
            return Err(SsoError::InvalidToken(
                "the ID token names a signing key the provider does not publish".into(),
            ));
        }
        let keys = JsonWebKeySet::fetch_async(cached.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| SsoError::IdpUnavailable(format!("keys: {e}")))?;
        cached.metadata = cached.metadata.set_jwks(keys);
        cached.keys_refetched = Some(Instant::now());
        if cached.issuer == settings.issuer {
            self.keep(id, &cached);
        }
        Ok(cached)
    }

    fn keep(&self, id: i64, cached: &Cached) {
        if let Ok(mut providers) = self.providers.lock() {
            providers.insert(id, cached.clone());
        }
    }
}

/// The client of one provider, from its discovery document.
fn new_client(
    metadata: &Metadata,
    settings: &OidcSettings,
    secret: &str,
    redirect: &str,
) -> Result<OidcClient, SsoError> {
    let redirect = RedirectUrl::new(redirect.to_owned())
        .map_err(|e| SsoError::Unexpected(anyhow::anyhow!("redirect URL: {e}")))?;
    Ok(OidcClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(secret.to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// The ID token checks: asymmetric algorithms the provider advertises, the clock skew on `exp` and
/// `iat`, and the token's age.
fn token_verifier<'a>(
    client: &'a OidcClient,
    metadata: &Metadata,
) -> openidconnect::IdTokenVerifier<'a, CoreJsonWebKey> {
    let algs: Vec<CoreJwsSigningAlgorithm> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|alg| asymmetric(alg))
        .cloned()
        .collect();
    let algs = if algs.is_empty() {
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    };
    client
        .id_token_verifier()
        .set_allowed_algs(algs)
        // `exp` is compared with this time: now, less the allowed skew.
        .set_time_fn(|| Utc::now() - MAX_SKEW)
        .set_issue_time_verifier_fn(|iat: DateTime<Utc>| {
            let now = Utc::now();
            if iat > now + MAX_SKEW {
                Err(format!("issued in the future ({iat})"))
            } else if iat < now - MAX_TOKEN_AGE - MAX_SKEW {
                Err(format!("issued too long ago ({iat})"))
            } else {
                Ok(())
            }
        })
}

fn asymmetric(alg: &CoreJwsSigningAlgorithm) -> bool {
    use CoreJwsSigningAlgorithm as A;
    matches!(
        alg,
        A::RsaSsaPkcs1V15Sha256
            | A::RsaSsaPkcs1V15Sha384
            | A::RsaSsaPkcs1V15Sha512
            | A::RsaSsaPssSha256
            | A::RsaSsaPssSha384
            | A::RsaSsaPssSha512
            | A::EcdsaP256Sha256
            | A::EcdsaP384Sha384
            | A::EcdsaP521Sha512
            | A::EdDsa
    )
}

/// RFC 9207: the `iss` of an authorization response names the provider the sign-in went to.
fn check_response_issuer(
    metadata: &Metadata,
    issuer: &str,
    iss: Option<&str>,
) -> Result<(), SsoError> {
    let promised = metadata
        .additional_metadata()
        .authorization_response_iss_parameter_supported
        == Some(true);
    match iss {
        Some(iss) if iss == issuer => Ok(()),
        Some(iss) => Err(SsoError::InvalidToken(format!(
            "the authorization response names issuer {iss:?}"
        ))),
        None if promised => Err(SsoError::InvalidToken(
            "the authorization response has no iss parameter".into(),
        )),
        None => Ok(()),
    }
}

fn claims_error(error: ClaimsError) -> SsoError {
    match error {
        ClaimsError::InvalidNonce(_) => SsoError::NonceMismatch,
        other => SsoError::InvalidToken(format!("ID token: {other}")),
    }
}

/// An HTTP failure talking to an identity provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HttpError(String);

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The HTTP client `openidconnect` calls: hyper over rustls with the ring provider and the system's
/// trusted roots (Mozilla's when the system has none), no redirects, bounded answers.
pub(crate) struct Http(
    hyper_util::client::legacy::Client<Connector, http_body_util::Full<bytes::Bytes>>,
);

impl Http {
    fn new() -> Result<Self, SsoError> {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_provider_and_native_roots(provider.clone()) {
            Ok(builder) => builder,
            Err(error) => {
                tracing::warn!(%error, "no trusted roots in the system store: using Mozilla's for identity providers");
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_provider_and_webpki_roots(provider)
                    .map_err(|e| {
                        SsoError::Unexpected(anyhow::anyhow!("TLS for identity providers: {e}"))
                    })?
            }
        };
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(HTTP_TIMEOUT));
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        Ok(Http(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector),
        ))
    }
}

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            use http_body_util::BodyExt;
            let (parts, body) = request.into_parts();
            let request = openidconnect::http::Request::from_parts(
                parts,
                http_body_util::Full::new(bytes::Bytes::from(body)),
            );
            let exchange = async {
                let response = self
                    .0
                    .request(request)
                    .await
                    .map_err(|e| HttpError(format!("{e}")))?;
                let (parts, body) = response.into_parts();
                let body = http_body_util::Limited::new(body, MAX_BODY_BYTES)
                    .collect()
                    .await
                    .map_err(|e| HttpError(format!("reading the answer: {e}")))?
                    .to_bytes();
                Ok(HttpResponse::from_parts(parts, body.to_vec()))
            };
            tokio::time::timeout(HTTP_TIMEOUT, exchange)
                .await
                .map_err(|_| HttpError("no answer within 10 seconds".into()))?
        })
    }
}
