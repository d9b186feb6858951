//! Provider sign-in by OpenID Connect — the relying party. Works with GビズID or any other
//! OpenID provider (the development provider in demos and tests).
//!
//! Authorization-code flow with PKCE (S256). [`RelyingParty::begin`] stores the request in
//! flight (state, nonce, PKCE verifier) server-side under the hash of a random value the
//! browser keeps in a short-lived cookie, and answers the provider's authorization URL.
//! [`RelyingParty::finish`] takes that request (single use), checks the returned `state`,
//! exchanges the code (client authentication + PKCE verifier), verifies the ID token
//! (signature with RS256 or ES256 only, issuer, audience, expiry, nonce, `at_hash`), reads
//! UserInfo with the access token (its `sub` must be the ID token's), and hands the result to
//! [`link::sign_in`], which links the user to their corporation by 法人番号 and opens a session.

mod http;
pub mod link;

use std::sync::Arc;
use std::time::{Duration, Instant};

use madoguchi_db::oidc::OidcRequestRow;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreIdTokenClaims,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

pub use self::http::ProviderHttp;
pub use link::{OidcIdentity, sign_in};

use super::Session;
use crate::blobs::sha256_hex;
use crate::config::OidcConfig;
use crate::{App, CoreError, CoreResult};

/// How long a sign-in may take at the provider (the cookie and the stored request live as long).
pub const REQUEST_TTL: Duration = Duration::from_secs(10 * 60);
/// How long discovery and the provider's keys are reused before being read again.
const METADATA_TTL: Duration = Duration::from_secs(60 * 60);

/// Why a sign-in through the provider did not happen. The web layer shows a polite page; the
/// technical detail goes only to the log.
#[derive(Debug)]
pub enum OidcRefusal {
    /// The answer failed a check (state, code, token, signature, nonce, UserInfo …), or the
    /// person cancelled at the provider.
    Failed(String),
    /// The provider could not be reached or did not answer sensibly.
    Unavailable(String),
    /// The account names no 法人番号 (e.g. a 個人事業主 account).
    NoCorporateNumber,
    /// No corporation with this 法人番号 uses this service.
    NotRegistered { corporate_number: String },
    /// The user's account here is disabled.
    Disabled,
    /// Our own failure (database).
    Internal(CoreError),
}

impl From<CoreError> for OidcRefusal {
    fn from(e: CoreError) -> Self {
        OidcRefusal::Internal(e)
    }
}

impl From<madoguchi_db::DbError> for OidcRefusal {
    fn from(e: madoguchi_db::DbError) -> Self {
        OidcRefusal::Internal(e.into())
    }
}

/// What the authorization response carried back to the callback.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// GビズID's UserInfo claims beyond the standard ones (numbers or strings accepted).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ProviderClaims {
    #[serde(default)]
    pub account_type: Option<serde_json::Value>,
    #[serde(default)]
    pub corp_type: Option<serde_json::Value>,
    #[serde(default)]
    pub corporate_number: Option<serde_json::Value>,
}

impl AdditionalClaims for ProviderClaims {}

fn claim_text(v: &Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The client as built from discovery: authorization endpoint set, token and UserInfo
/// endpoints as the provider announced them.
type ProviderClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The relying party: configuration, HTTP client and the provider's cached metadata.
pub struct RelyingParty {
    config: OidcConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: ProviderHttp,
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Checks the configuration; the provider itself is contacted at the first sign-in.
    pub fn new(config: &OidcConfig) -> CoreResult<RelyingParty> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            CoreError::Internal(format!("oidc.{what} is not a valid URL: {e}"))
        };
        let issuer =
            IssuerUrl::new(config.issuer.trim().to_string()).map_err(|e| bad("issuer", &e))?;
        let redirect = RedirectUrl::new(config.redirect_uri.trim().to_string())
            .map_err(|e| bad("redirect_uri", &e))?;
        if config.client_id.trim().is_empty() {
            return Err(CoreError::Internal("oidc.client_id is empty".into()));
        }
        if config.scopes.first().map(String::as_str) != Some("openid") {
            return Err(CoreError::Internal(
                "oidc.scopes must start with \"openid\"".into(),
            ));
        }
        Ok(RelyingParty {
            config: config.clone(),
            issuer,
            redirect,
            http: ProviderHttp::new(),
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    /// The provider's name for the sign-in button.
    pub fn provider_name(&self) -> &str {
        &self.config.provider_name
    }

    /// Discovery (with the provider's keys), read at most once an hour.
    async fn metadata(&self, force: bool) -> Result<CoreProviderMetadata, OidcRefusal> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref()
            && !force
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let m = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| OidcRefusal::Unavailable(format!("discovery: {e}")))?;
        *cached = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> ProviderClient {
        let secret = (!self.config.client_secret.is_empty())
            .then(|| ClientSecret::new(self.config.client_secret.expose().to_string()));
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.trim().to_string()),
            secret,
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Starts a sign-in: stores the request in flight and returns the cookie value that binds
    /// it to this browser, and the provider's authorization URL to send the browser to.
    pub async fn begin(&self, app: &App) -> Result<(String, String), OidcRefusal> {
        let client = self.client(self.metadata(false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        // `openid` is always sent; add exactly the other configured scopes.
        for scope in self.config.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let key = super::random_secret()?;
        let now = app.now_ms();
        let mut tx = app.db.begin().await?;
        madoguchi_db::oidc::insert_request(
            &mut tx,
            &OidcRequestRow {
                key_hash: sha256_hex(key.as_bytes()),
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                created_at: now,
            },
            now - REQUEST_TTL.as_millis() as i64,
        )
        .await?;
        tx.commit().await?;
        Ok((key, url.to_string()))
    }

    /// Completes a sign-in from the provider's answer and the browser's cookie value: every
    /// check, then the link to the corporation and a new session (cookie secret, session).
    pub async fn finish(
        &self,
        app: &App,
        cookie_key: Option<&str>,
        params: &CallbackParams,
    ) -> Result<(String, Session), OidcRefusal> {
        let failed = |why: String| OidcRefusal::Failed(why);
        let key = cookie_key.filter(|k| k.len() == 64).ok_or_else(|| {
            failed("no sign-in in progress in this browser (cookie missing)".into())
        })?;
        // The request in flight is taken (deleted) first: whatever happens next, it is used once.
        let mut tx = app.db.begin().await?;
        let pending =
            madoguchi_db::oidc::take_request(&mut tx, &sha256_hex(key.as_bytes())).await?;
        tx.commit().await?;
        let pending =
            pending.ok_or_else(|| failed("unknown or already used sign-in request".into()))?;
        if app.now_ms() - pending.created_at > REQUEST_TTL.as_millis() as i64 {
            return Err(failed("the sign-in request expired".into()));
        }
        let state = params.state.as_deref().unwrap_or("");
        if !super::secrets_equal(state, &pending.state) {
            return Err(failed("state does not match this browser's request".into()));
        }
        if let Some(error) = &params.error {
            return Err(failed(format!(
                "the provider answered {error}: {}",
                params.error_description.as_deref().unwrap_or("")
            )));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| failed("no authorization code".into()))?;

        let client = self.client(self.metadata(false).await?);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcRefusal::Unavailable(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| failed(format!("token exchange: {}", error_chain(&e))))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| failed("the token response has no ID token".into()))?;

        // The provider may have rotated its keys since discovery was cached: on a signature
        // failure, read the keys once more before refusing.
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify_id_token(app, &client, id_token, &token, &nonce) {
            Ok(c) => c,
            Err((true, first)) => {
                let client = self.client(self.metadata(true).await?);
                self.verify_id_token(app, &client, id_token, &token, &nonce)
                    .map_err(|_| failed(first))?
            }
            Err((false, why)) => return Err(failed(why)),
        };

        let info: UserInfoClaims<ProviderClaims, CoreGenderClaim> = client
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
            .map_err(|e| OidcRefusal::Unavailable(format!("UserInfo endpoint: {e}")))?
            .request_async(&self.http)
            .await
            .map_err(|e| failed(format!("UserInfo: {}", error_chain(&e))))?;

        let extra = info.additional_claims();
        let localized = |c: Option<&openidconnect::LocalizedClaim<_>>| {
            c.and_then(|c| c.get(None))
                .map(|v: &openidconnect::EndUserName| v.to_string())
        };
        let display_name = localized(info.name())
            .filter(|n| !n.trim().is_empty())
            .or_else(|| {
                let family = info
                    .family_name()
                    .and_then(|c| c.get(None))
                    .map(|v| v.to_string());
                let given = info
                    .given_name()
                    .and_then(|c| c.get(None))
                    .map(|v| v.to_string());
                match (family, given) {
                    (Some(f), Some(g)) => Some(format!("{f}　{g}")),
                    (Some(n), None) | (None, Some(n)) => Some(n),
                    (None, None) => None,
                }
            })
            .unwrap_or_default();
        let identity = OidcIdentity {
            issuer: self.issuer.to_string(),
            subject: claims.subject().to_string(),
            account_type: claim_text(&extra.account_type),
            corp_type: claim_text(&extra.corp_type),
            corporate_number: claim_text(&extra.corporate_number),
            display_name,
            email: info.email().map(|e| e.to_string()).unwrap_or_default(),
        };
        link::sign_in(app, &identity).await
    }
}

impl RelyingParty {
    /// Verifies the ID token: signature by the provider's key with RS256 or ES256 only (so
    /// neither `alg=none` nor HS* with the client secret), issuer, audience, expiry (by the
    /// application clock), nonce, and `at_hash` when present. The error says whether the
    /// signature (or its key) was the problem.
    fn verify_id_token(
        &self,
        app: &App,
        client: &ProviderClient,
        id_token: &CoreIdToken,
        token: &CoreTokenResponse,
        nonce: &Nonce,
    ) -> Result<CoreIdTokenClaims, (bool, String)> {
        let clock = app.clock.clone();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            ])
            .set_time_fn(move || clock.now());
        let claims = id_token.claims(&verifier, nonce).map_err(|e| {
            let signature = matches!(e, ClaimsVerificationError::SignatureVerification(_));
            (signature, format!("ID token: {}", error_chain(&e)))
        })?;
        if let Some(expected) = claims.access_token_hash() {
            let other = |e: &dyn std::fmt::Display| (false, format!("ID token at_hash: {e}"));
            let alg = id_token.signing_alg().map_err(|e| other(&e))?;
            let key = id_token.signing_key(&verifier).map_err(|e| other(&e))?;
            let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                .map_err(|e| other(&e))?;
            if actual != *expected {
                return Err((
                    false,
                    "ID token: at_hash does not match the access token".into(),
                ));
            }
        }
        Ok(claims.clone())
    }
}

/// An error and its causes, on one line (for the log).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The relying party for a configuration, when provider sign-in is configured.
pub fn relying_party(config: &OidcConfig) -> CoreResult<Option<Arc<RelyingParty>>> {
    if config.enabled() {
        Ok(Some(Arc::new(RelyingParty::new(config)?)))
    } else {
        Ok(None)
    }
}
