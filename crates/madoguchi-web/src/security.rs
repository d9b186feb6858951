//! Headers and checks applied to every response and request: a strict Content-Security-Policy
//! (no inline script), no framing, no sniffing, no referrer leaks, no caching of
//! authenticated content; and a cross-site check refusing state-changing browser requests
//! that come from another origin (the CSRF token in each form is the second line).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let is_asset = req.uri().path().starts_with("/assets/");
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !is_api
        && cross_site(&req)
    {
        tracing::warn!(path = %req.uri().path(), "cross-site form post refused");
        let e = AppError::Forbidden("別のサイトから送信された操作は受け付けられません。画面を開き直してから操作してください。".into());
        return with_headers(crate::pages::error_page(e), false, s.web.hsts);
    }
    let res = next.run(req).await;
    with_headers(res, is_asset, s.web.hsts)
}

/// True when the browser says the request came from another site.
fn cross_site(req: &Request) -> bool {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    if let (Some(origin), Some(host)) = (
        h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        h.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split("://").nth(1).unwrap_or("");
        return origin == "null" || origin_host != host;
    }
    false
}

fn with_headers(mut res: Response, is_asset: bool, hsts: bool) -> Response {
    let h = res.headers_mut();
    if hsts {
        h.entry("strict-transport-security")
            .or_insert(HeaderValue::from_static(
                "max-age=31536000; includeSubDomains",
            ));
    }
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    if !is_asset {
        set(h, "cache-control", "no-store");
    }
    res.into_response()
}
