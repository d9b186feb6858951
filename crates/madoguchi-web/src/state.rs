//! Shared state of the HTTP layer: the application (use cases) and the web settings.

use std::sync::Arc;

use madoguchi_core::App;

/// Web settings, loaded once by the binary.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct WebConfig {
    /// Demo mode: the development sign-in page lists demo users.
    pub demo: bool,
    /// Mark the session cookie `Secure` and use the `__Host-` prefix. Turn off only for
    /// plain-HTTP development on localhost.
    pub cookie_secure: bool,
    /// Session idle timeout, minutes.
    pub session_idle_minutes: i64,
    /// Session absolute lifetime, hours.
    pub session_absolute_hours: i64,
    /// Largest JSON request body, bytes.
    pub max_json_bytes: usize,
    /// Send `Strict-Transport-Security` (set when served over HTTPS).
    pub hsts: bool,
    /// Rate limits and trusted proxies.
    pub rate_limits: crate::ratelimit::RateLimitConfig,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            demo: false,
            cookie_secure: true,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            max_json_bytes: 1024 * 1024,
            hsts: false,
            rate_limits: crate::ratelimit::RateLimitConfig::default(),
        }
    }
}

impl WebConfig {
    /// Name of the session cookie: `__Host-` prefixed when Secure (the browser then refuses
    /// it from any other host or path).
    pub fn cookie_name(&self) -> &'static str {
        if self.cookie_secure {
            "__Host-madoguchi"
        } else {
            "madoguchi"
        }
    }
}

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebConfig>,
    pub limiter: Arc<crate::ratelimit::RateLimiter>,
}

impl AppState {
    pub fn new(app: App, web: WebConfig) -> AppState {
        let limiter = Arc::new(crate::ratelimit::RateLimiter::new(web.rate_limits.clone()));
        AppState {
            app,
            web: Arc::new(web),
            limiter,
        }
    }
}
