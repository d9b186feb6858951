//! A small OpenID provider for **demos and tests only** — it stands in for GビズID so the
//! product's real OpenID Connect sign-in can be exercised end to end without a bypass.
//!
//! * `madoguchi dev-idp` serves it alone; `madoguchi serve --demo` mounts it under `/dev-idp`
//!   of the same server and points the relying party at it.
//! * Discovery, JWKS (one ES256 key generated at start, never stored), `/authorize` (a Japanese
//!   page listing the demo accounts), `/token` (single-use codes, PKCE S256 required and
//!   checked, client authentication by `client_secret_basic` or `client_secret_post`) and
//!   `/userinfo` (bearer access token) with GビズID's claims `account_type`, `corp_type` and
//!   `corporate_number`.
//! * [`DevIdp::misbehave`] makes it answer wrongly on purpose (another issuer, audience, key,
//!   `alg=none`, HS256, an expired token, another nonce, another UserInfo subject), so the tests
//!   can prove the relying party refuses each. The switch exists only here, never in the product.
//!
//! Nothing here is fit for production: accounts are fixed, there are no passwords, and state
//! lives in memory.

mod jwt;
mod pages;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use jwt::SigningKey;

/// A client (relying party) registered at the provider.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: String,
    /// Exact redirect URIs accepted.
    pub redirect_uris: Vec<String>,
}

/// A demo account offered on the authorization page.
#[derive(Clone, Debug)]
pub struct Account {
    /// Short name shown and used in tests (`provider1`, `entry1`, …).
    pub key: &'static str,
    pub subject: &'static str,
    pub family_name: &'static str,
    pub given_name: &'static str,
    pub email: &'static str,
    /// "1" エントリー, "2" プライム, "3" メンバー.
    pub account_type: &'static str,
    /// "1" 法人, "2" 個人事業主.
    pub corp_type: &'static str,
    pub corporate_number: &'static str,
    pub corp_name: &'static str,
}

impl Account {
    pub fn account_type_label(&self) -> &'static str {
        match self.account_type {
            "1" => "gBizIDエントリー",
            "2" => "gBizIDプライム",
            "3" => "gBizIDメンバー",
            _ => "不明",
        }
    }
}

/// The demo accounts: providers of the demo world's two corporations, an エントリー and a
/// メンバー account of the first, and a 個人事業主 without 法人番号 (refused by the service).
pub const ACCOUNTS: &[Account] = &[
    Account {
        key: "provider1",
        subject: "dev-7f3a1c2e-provider1",
        family_name: "木村",
        given_name: "さくら",
        email: "kimura@sakura-fukushi.example.jp",
        account_type: "2",
        corp_type: "1",
        corporate_number: "7040005007253",
        corp_name: "社会福祉法人　さくら福祉会",
    },
    Account {
        key: "provider2",
        subject: "dev-2b9d4e61-provider2",
        family_name: "林",
        given_name: "ひまわり",
        email: "hayashi@himawari-care.example.jp",
        account_type: "2",
        corp_type: "1",
        corporate_number: "4011001098993",
        corp_name: "株式会社ひまわりケア",
    },
    Account {
        key: "entry1",
        subject: "dev-c41e8a07-entry1",
        family_name: "佐々木",
        given_name: "葵",
        email: "sasaki@sakura-fukushi.example.jp",
        account_type: "1",
        corp_type: "1",
        corporate_number: "7040005007253",
        corp_name: "社会福祉法人　さくら福祉会",
    },
    Account {
        key: "member1",
        subject: "dev-93f0b2d5-member1",
        family_name: "中村",
        given_name: "翔",
        email: "nakamura@sakura-fukushi.example.jp",
        account_type: "3",
        corp_type: "1",
        corporate_number: "7040005007253",
        corp_name: "社会福祉法人　さくら福祉会",
    },
    Account {
        key: "sole1",
        subject: "dev-5d6e7f80-sole1",
        family_name: "小川",
        given_name: "健",
        email: "ogawa@example.jp",
        account_type: "2",
        corp_type: "2",
        corporate_number: "",
        corp_name: "小川ケアサービス（個人事業主）",
    },
];

/// Deliberate faults, for tests of the relying party's checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehave {
    /// ID token `iss` is another issuer.
    WrongIssuer,
    /// ID token `aud` is another client.
    WrongAudience,
    /// ID token signed with a key not in the JWKS (same `kid`).
    ForeignKey,
    /// ID token with `alg=none` and no signature.
    AlgNone,
    /// ID token signed HS256 with the client secret.
    Hs256,
    /// ID token expired half an hour ago.
    Expired,
    /// ID token carries another nonce than the one requested.
    WrongNonce,
    /// UserInfo answers for another subject than the ID token's.
    UserInfoOtherSubject,
}

/// Settings of one provider instance.
#[derive(Clone, Debug)]
pub struct DevIdpConfig {
    /// Issuer identifier, e.g. `http://127.0.0.1:8080/dev-idp` (no trailing slash).
    pub issuer: String,
    pub clients: Vec<RegisteredClient>,
}

/// The provider: cheap to clone, shared between its router and the code that tunes it.
#[derive(Clone)]
pub struct DevIdp {
    inner: Arc<Inner>,
}

struct Inner {
    config: DevIdpConfig,
    key: SigningKey,
    state: Mutex<IdpState>,
}

#[derive(Default)]
struct IdpState {
    codes: HashMap<String, CodeGrant>,
    used_codes: HashSet<String>,
    tokens: HashMap<String, TokenGrant>,
    misbehave: Option<Misbehave>,
    corporate_numbers: HashMap<String, String>,
    account_types: HashMap<String, String>,
    last_error: Option<String>,
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    account: String,
    scopes: Vec<String>,
    nonce: Option<String>,
    code_challenge: String,
    issued_at: i64,
}

struct TokenGrant {
    account: String,
    scopes: Vec<String>,
    expires_at: i64,
}

const CODE_TTL_SECS: i64 = 60;
const TOKEN_TTL_SECS: i64 = 300;

impl DevIdp {
    /// A provider with a freshly generated ES256 key.
    pub fn new(config: DevIdpConfig) -> DevIdp {
        let mut config = config;
        config.issuer = config.issuer.trim_end_matches('/').to_string();
        DevIdp {
            inner: Arc::new(Inner {
                config,
                key: SigningKey::generate(),
                state: Mutex::new(IdpState::default()),
            }),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.config.issuer
    }

    /// Makes the provider answer wrongly from now on (`None`: behave again).
    pub fn misbehave(&self, how: Option<Misbehave>) {
        self.state().misbehave = how;
    }

    /// Changes the 法人番号 an account's UserInfo states (as when the account is moved to
    /// another corporation at the provider). An empty string removes it.
    pub fn set_corporate_number(&self, account: &str, number: &str) {
        self.state()
            .corporate_numbers
            .insert(account.to_string(), number.to_string());
    }

    /// Changes an account's type ("1" エントリー, "2" プライム, "3" メンバー).
    pub fn set_account_type(&self, account: &str, account_type: &str) {
        self.state()
            .account_types
            .insert(account.to_string(), account_type.to_string());
    }

    /// Why the last token or UserInfo request was refused, if one was.
    pub fn last_error(&self) -> Option<String> {
        self.state().last_error.clone()
    }

    /// The provider's routes (mount at the issuer's path).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize_page).post(authorize_decide))
            .route("/token", axum::routing::post(token))
            .route("/userinfo", get(userinfo).post(userinfo))
            .route("/style.css", get(pages::stylesheet))
            .with_state(self.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, IdpState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.inner
            .config
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
    }

    fn refuse(&self, why: String) {
        tracing::info!(reason = %why, "development OpenID provider refused a request");
        self.state().last_error = Some(why);
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("randomness");
    URL_SAFE_NO_PAD.encode(b)
}

fn account(key: &str) -> Option<&'static Account> {
    ACCOUNTS.iter().find(|a| a.key == key)
}

async fn discovery(State(idp): State<DevIdp>) -> Response {
    let i = idp.issuer();
    axum::Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "family_name",
            "given_name", "email", "account_type", "corp_type", "corporate_number"],
    }))
    .into_response()
}

async fn jwks(State(idp): State<DevIdp>) -> Response {
    axum::Json(json!({ "keys": [idp.inner.key.jwk()] })).into_response()
}

/// The parameters of an authorization request (query on GET, hidden fields on POST).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    /// POST only: the chosen account, or empty when cancelled.
    #[serde(default)]
    account: String,
    #[serde(default)]
    cancel: Option<String>,
}

impl DevIdp {
    /// Checks what must hold before anything is shown or redirected: a known client and one of
    /// its registered redirect URIs (never redirect elsewhere).
    fn check_client(&self, p: &AuthorizeParams) -> Result<(), String> {
        let client = self
            .client(&p.client_id)
            .ok_or_else(|| format!("不明なクライアントです（client_id: {}）。", p.client_id))?;
        if !client.redirect_uris.iter().any(|u| u == &p.redirect_uri) {
            return Err("登録されていないリダイレクト先です。".into());
        }
        Ok(())
    }

    /// The request's own faults, reported back to the client by redirect.
    fn check_request(p: &AuthorizeParams) -> Result<(), (&'static str, &'static str)> {
        if p.response_type != "code" {
            return Err((
                "unsupported_response_type",
                "only the authorization code flow",
            ));
        }
        if !p.scope.split(' ').any(|s| s == "openid") {
            return Err(("invalid_scope", "openid is required"));
        }
        if p.code_challenge_method != "S256" || p.code_challenge.len() < 43 {
            return Err(("invalid_request", "PKCE with S256 is required"));
        }
        Ok(())
    }
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    Redirect::to(&format!("{uri}{sep}{}", query.join("&"))).into_response()
}

async fn authorize_page(State(idp): State<DevIdp>, Query(p): Query<AuthorizeParams>) -> Response {
    if let Err(e) = idp.check_client(&p) {
        return pages::error(StatusCode::BAD_REQUEST, &e);
    }
    if let Err((code, desc)) = DevIdp::check_request(&p) {
        let mut pairs = vec![("error", code), ("error_description", desc)];
        if let Some(s) = &p.state {
            pairs.push(("state", s));
        }
        return redirect_with(&p.redirect_uri, &pairs);
    }
    let overrides = idp.state().corporate_numbers.clone();
    Html(pages::choose_account(&p, &overrides)).into_response()
}

async fn authorize_decide(State(idp): State<DevIdp>, Form(p): Form<AuthorizeParams>) -> Response {
    if let Err(e) = idp.check_client(&p) {
        return pages::error(StatusCode::BAD_REQUEST, &e);
    }
    let state = p.state.clone().unwrap_or_default();
    let with_state = |mut pairs: Vec<(&'static str, String)>| {
        if p.state.is_some() {
            pairs.push(("state", state.clone()));
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect_with(&p.redirect_uri, &refs)
    };
    if let Err((code, desc)) = DevIdp::check_request(&p) {
        return with_state(vec![
            ("error", code.into()),
            ("error_description", desc.into()),
        ]);
    }
    let Some(acct) = account(&p.account).filter(|_| p.cancel.is_none()) else {
        return with_state(vec![
            ("error", "access_denied".into()),
            ("error_description", "the user cancelled".into()),
        ]);
    };
    let code = random_token();
    {
        let mut st = idp.state();
        let cutoff = now() - CODE_TTL_SECS;
        st.codes.retain(|_, g| g.issued_at >= cutoff);
        st.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                account: acct.key.to_string(),
                scopes: p.scope.split(' ').map(str::to_string).collect(),
                nonce: p.nonce.clone(),
                code_challenge: p.code_challenge.clone(),
                issued_at: now(),
            },
        );
    }
    with_state(vec![("code", code)])
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

/// Client credentials from `Authorization: Basic` (form-urlencoded id and secret, RFC 6749
/// §2.3.1) or from the form (`client_secret_post`).
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        return Some((percent_decode(id)?, percent_decode(secret)?));
    }
    Some((form.client_id.clone()?, form.client_secret.clone()?))
}

async fn token(
    State(idp): State<DevIdp>,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    let Some((client_id, secret)) = client_credentials(&headers, &f) else {
        idp.refuse("no client authentication".into());
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication required",
        );
    };
    let Some(client) = idp.client(&client_id).cloned() else {
        idp.refuse(format!("unknown client {client_id}"));
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    };
    if !constant_time_eq(client.client_secret.as_bytes(), secret.as_bytes()) {
        idp.refuse("wrong client secret".into());
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    if f.grant_type != "authorization_code" {
        idp.refuse(format!("grant type {}", f.grant_type));
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "authorization_code only",
        );
    }
    // A code is taken at its first presentation, valid or not: it never works twice.
    let (grant, replayed, misbehave) = {
        let mut st = idp.state();
        let replayed = st.used_codes.contains(&f.code);
        let grant = st.codes.remove(&f.code);
        if grant.is_some() {
            st.used_codes.insert(f.code.clone());
        }
        (grant, replayed, st.misbehave)
    };
    let Some(grant) = grant else {
        idp.refuse(if replayed {
            "code already used (replay)".into()
        } else {
            "unknown code".into()
        });
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid or used code",
        );
    };
    if now() - grant.issued_at > CODE_TTL_SECS {
        idp.refuse("code expired".into());
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "code expired");
    }
    if grant.client_id != client.client_id || grant.redirect_uri != f.redirect_uri {
        idp.refuse("code issued to another client or redirect_uri".into());
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "client or redirect_uri mismatch",
        );
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(f.code_verifier.as_bytes()));
    if f.code_verifier.len() < 43
        || !constant_time_eq(challenge.as_bytes(), grant.code_challenge.as_bytes())
    {
        idp.refuse("PKCE verifier does not match the challenge".into());
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }
    let Some(acct) = account(&grant.account) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown account");
    };
    let access_token = random_token();
    let issued = now();
    {
        let mut st = idp.state();
        st.tokens.retain(|_, t| t.expires_at > issued);
        st.tokens.insert(
            access_token.clone(),
            TokenGrant {
                account: acct.key.to_string(),
                scopes: grant.scopes.clone(),
                expires_at: issued + TOKEN_TTL_SECS,
            },
        );
        st.last_error = None;
    }
    let (iat, exp) = if misbehave == Some(Misbehave::Expired) {
        (issued - 3600, issued - 1800)
    } else {
        (issued, issued + TOKEN_TTL_SECS)
    };
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    let mut claims = json!({
        "iss": if misbehave == Some(Misbehave::WrongIssuer) { "https://evil.example.jp/oauth/".to_string() } else { idp.issuer().to_string() },
        "sub": acct.subject,
        "aud": if misbehave == Some(Misbehave::WrongAudience) { "another-client".to_string() } else { client.client_id.clone() },
        "iat": iat,
        "exp": exp,
        "auth_time": issued,
        "at_hash": at_hash,
    });
    let nonce = if misbehave == Some(Misbehave::WrongNonce) {
        Some("not-the-nonce-that-was-asked-for".to_string())
    } else {
        grant.nonce.clone()
    };
    if let Some(n) = nonce {
        claims["nonce"] = Value::String(n);
    }
    let id_token = match misbehave {
        Some(Misbehave::ForeignKey) => {
            SigningKey::generate().sign_es256(&idp.inner.key.kid, &claims)
        }
        Some(Misbehave::AlgNone) => jwt::unsigned(&claims),
        Some(Misbehave::Hs256) => jwt::sign_hs256(client.client_secret.as_bytes(), &claims),
        _ => idp.inner.key.sign_es256(&idp.inner.key.kid, &claims),
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL_SECS,
            "id_token": id_token,
            "scope": grant.scopes.join(" "),
        })),
    )
        .into_response()
}

async fn userinfo(State(idp): State<DevIdp>, headers: HeaderMap) -> Response {
    let unauthorized = |idp: &DevIdp, why: &str| {
        idp.refuse(format!("userinfo: {why}"));
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response()
    };
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return unauthorized(&idp, "no bearer token");
    };
    let (grant, misbehave, number, account_type) = {
        let st = idp.state();
        let Some(g) = st.tokens.get(token.trim()) else {
            drop(st);
            return unauthorized(&idp, "unknown access token");
        };
        if g.expires_at <= now() {
            drop(st);
            return unauthorized(&idp, "expired access token");
        }
        (
            (g.account.clone(), g.scopes.clone()),
            st.misbehave,
            st.corporate_numbers.get(&g.account).cloned(),
            st.account_types.get(&g.account).cloned(),
        )
    };
    let Some(acct) = account(&grant.0) else {
        return unauthorized(&idp, "unknown account");
    };
    let scopes = grant.1;
    let subject = if misbehave == Some(Misbehave::UserInfoOtherSubject) {
        format!("{}-someone-else", acct.subject)
    } else {
        acct.subject.to_string()
    };
    let mut body = json!({
        "sub": subject,
        "account_type": account_type.unwrap_or_else(|| acct.account_type.to_string()),
        "corp_type": acct.corp_type,
        "corporate_number": number.unwrap_or_else(|| acct.corporate_number.to_string()),
    });
    if scopes.iter().any(|s| s == "profile") {
        body["name"] = format!("{}　{}", acct.family_name, acct.given_name).into();
        body["family_name"] = acct.family_name.into();
        body["given_name"] = acct.given_name.into();
    }
    if scopes.iter().any(|s| s == "email") {
        body["email"] = acct.email.into();
        body["email_verified"] = true.into();
    }
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (form encoding); `None` if malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Serves a provider alone on `listener` until `shutdown` completes (`madoguchi dev-idp`).
pub async fn serve(
    idp: DevIdp,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, idp.router())
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips() {
        let s = "a b/c:d+é";
        assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        assert_eq!(percent_decode("%zz"), None);
    }

    #[test]
    fn demo_accounts_are_distinct() {
        let subjects: HashSet<_> = ACCOUNTS.iter().map(|a| a.subject).collect();
        let keys: HashSet<_> = ACCOUNTS.iter().map(|a| a.key).collect();
        assert_eq!(subjects.len(), ACCOUNTS.len());
        assert_eq!(keys.len(), ACCOUNTS.len());
    }
}
