//! Rate limits on sign-in, uploads, exports and search, per client address and per account,
//! as token buckets kept in memory (one process serves a site; limits reset at restart).
//! The client address is the TCP peer, unless the peer is a configured trusted proxy, in which
//! case the right-most untrusted address of `X-Forwarded-For` is used: a client cannot spoof
//! its way out of a limit by sending the header itself. Refusals are 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::state::AppState;

/// Limits, in requests per minute, and the proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RateLimitConfig {
    pub sign_in_per_minute: u32,
    pub uploads_per_minute: u32,
    pub search_per_minute: u32,
    pub exports_per_minute: u32,
    /// Addresses of reverse proxies in front of Madoguchi (e.g. ["10.0.0.5"]).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            sign_in_per_minute: 10,
            uploads_per_minute: 30,
            search_per_minute: 120,
            exports_per_minute: 10,
            trusted_proxies: Vec::new(),
        }
    }
}

/// What kind of request is limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    SignIn,
    Upload,
    Search,
    Export,
}

impl Class {
    /// Which limited class a request belongs to, by method and path.
    pub fn of(method: &Method, path: &str) -> Option<Class> {
        let post = method == Method::POST;
        // Sign-in: every form post under /login, and the OpenID Connect start (it stores a
        // pending request) and callback (it is the sign-in attempt itself).
        if (post && path.starts_with("/login"))
            || (method == Method::GET && path.starts_with("/login/oidc"))
        {
            Some(Class::SignIn)
        } else if post
            && (path == "/api/v1/attachments"
                || path == "/api/v1/submissions"
                || (path.starts_with("/filings/") && path.ends_with("/attachments")))
        {
            Some(Class::Upload)
        } else if method == Method::GET
            && (path == "/inbox" || path == "/api/v1/cases" || path == "/api/v1/establishments")
        {
            Some(Class::Search)
        } else if method == Method::GET && path.contains("/export") {
            Some(Class::Export)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::SignIn => "sign_in",
            Class::Upload => "upload",
            Class::Search => "search",
            Class::Export => "export",
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by (class, who).
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<(Class, String), Bucket>>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_minute(&self, class: Class) -> u32 {
        match class {
            Class::SignIn => self.config.sign_in_per_minute,
            Class::Upload => self.config.uploads_per_minute,
            Class::Search => self.config.search_per_minute,
            Class::Export => self.config.exports_per_minute,
        }
    }

    /// Takes one token for `who`; on refusal, how long until one is available.
    pub fn check(&self, class: Class, who: &str, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute(class).max(1));
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget buckets that have refilled completely (they hold no information).
            buckets.retain(|_, b| {
                now.duration_since(b.at).as_secs_f64() * per_sec + b.tokens < capacity
            });
        }
        let b = buckets.entry((class, who.to_string())).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        b.tokens =
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - b.tokens) / per_sec).ceil().max(1.0),
            ))
        }
    }

    /// The client's address: the peer, or — behind a trusted proxy — the right-most
    /// `X-Forwarded-For` entry that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.config.trusted_proxies.contains(&peer) {
            return peer;
        }
        let Some(list) = forwarded_for else {
            return peer;
        };
        list.split(',')
            .rev()
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .find(|ip| !self.config.trusted_proxies.contains(ip))
            .unwrap_or(peer)
    }
}

/// The account a request speaks for, without a database lookup: the bearer token or session
/// cookie (hashed, never logged in clear).
fn account_key(req: &Request, cookie_name: &str) -> Option<String> {
    let h = req.headers();
    let secret = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            axum_extra::extract::CookieJar::from_headers(h)
                .get(cookie_name)
                .map(|c| c.value().to_string())
        })?;
    use sha2::Digest;
    Some(hex::encode(&sha2::Sha256::digest(secret.as_bytes())[..12]))
}

/// The middleware: applies the class's limit per client address and per account; for
/// sign-in, per login name too (read from the small form body, then handed on unchanged).
pub async fn limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(class) = Class::of(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ip = s.limiter.client_ip(peer, forwarded.as_deref());
    let now = Instant::now();
    let mut keys = vec![format!("ip:{ip}")];
    if let Some(a) = account_key(&req, s.web.cookie_name()) {
        keys.push(format!("account:{a}"));
    }
    let req = if class == Class::SignIn {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, 16 * 1024).await {
            Ok(b) => b,
            Err(_) => return AppError::PayloadTooLarge.into_response(),
        };
        if let Some(login) = form_value(&bytes, "login") {
            keys.push(format!("login:{}", login.to_lowercase()));
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    for key in &keys {
        if let Err(wait) = s.limiter.check(class, key, now) {
            tracing::warn!(class = class.name(), key = %key, "rate limit exceeded");
            return too_many(wait, req.uri().path().starts_with("/api/"));
        }
    }
    next.run(req).await
}

fn form_value(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn too_many(wait: Duration, api: bool) -> Response {
    let message = format!(
        "短時間に操作が集中したため、受け付けを一時停止しています。{}秒ほど待ってから、もう一度お試しください。",
        wait.as_secs()
    );
    let mut res = if api {
        (StatusCode::TOO_MANY_REQUESTS, axum::Json(serde_json::json!({ "error": { "code": "rate_limited", "message": message, "fields": [] } }))).into_response()
    } else {
        let mut r = crate::pages::error_page(AppError::Conflict(message));
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        r
    };
    if let Ok(v) = HeaderValue::from_str(&wait.as_secs().to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_and_refuse_with_a_wait() {
        let rl = RateLimiter::new(RateLimitConfig {
            sign_in_per_minute: 3,
            ..Default::default()
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.check(Class::SignIn, "ip:1.2.3.4", t0).is_ok());
        }
        let wait = rl.check(Class::SignIn, "ip:1.2.3.4", t0).unwrap_err();
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            rl.check(Class::SignIn, "ip:5.6.7.8", t0).is_ok(),
            "other clients are not affected"
        );
        assert!(
            rl.check(Class::Upload, "ip:1.2.3.4", t0).is_ok(),
            "classes are separate"
        );
        assert!(
            rl.check(Class::SignIn, "ip:1.2.3.4", t0 + Duration::from_secs(21))
                .is_ok(),
            "refilled"
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let rl = RateLimiter::new(RateLimitConfig {
            trusted_proxies: vec![proxy],
            ..Default::default()
        });
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        let attacker: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(rl.client_ip(proxy, Some("203.0.113.9")), client);
        // A client-sent spoof before the real address is ignored: right-most untrusted wins.
        assert_eq!(rl.client_ip(proxy, Some("1.1.1.1, 203.0.113.9")), client);
        // Not from the proxy: the header is ignored entirely.
        assert_eq!(rl.client_ip(attacker, Some("1.1.1.1")), attacker);
        assert_eq!(rl.client_ip(proxy, None), proxy);
    }

    #[test]
    fn classes_by_route() {
        assert_eq!(Class::of(&Method::POST, "/login/demo"), Some(Class::SignIn));
        assert_eq!(Class::of(&Method::GET, "/login/oidc"), Some(Class::SignIn));
        assert_eq!(
            Class::of(&Method::GET, "/login/oidc/callback"),
            Some(Class::SignIn)
        );
        assert_eq!(Class::of(&Method::GET, "/login"), None);
        assert_eq!(
            Class::of(&Method::POST, "/api/v1/attachments"),
            Some(Class::Upload)
        );
        assert_eq!(
            Class::of(&Method::POST, "/filings/abc/attachments"),
            Some(Class::Upload)
        );
        assert_eq!(Class::of(&Method::GET, "/inbox"), Some(Class::Search));
        assert_eq!(Class::of(&Method::GET, "/filings"), None);
    }
}
