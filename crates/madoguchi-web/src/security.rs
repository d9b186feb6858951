//! Headers and checks applied to every response and request: a strict Content-Security-Policy
//! (no inline script), no framing, no sniffing, no referrer leaks, no caching of
//! authenticated content; a cross-site check refusing state-changing browser requests
//! that come from another origin (the CSRF token in each form is the second line); and
//! refusal of NUL characters, which no identifier or text of ours contains (and which
//! PostgreSQL cannot store).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// The policy of every page and API answer.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Directives every policy must carry, also one a handler set itself (file downloads use
/// `sandbox; default-src 'none'`): `default-src` does not cover `base-uri` or
/// `frame-ancestors`, so they are added explicitly.
const REQUIRED_DIRECTIVES: [(&str, &str); 3] = [
    ("object-src", "object-src 'none'"),
    ("base-uri", "base-uri 'none'"),
    ("frame-ancestors", "frame-ancestors 'none'"),
];

pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    let is_asset = path.starts_with("/assets/");
    let finish = |res: Response| with_headers(res, is_asset, s.web.hsts);
    let refuse = |e: AppError| {
        if is_api {
            finish(e.into_response())
        } else {
            finish(crate::pages::error_page(e))
        }
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !is_api
        && cross_site(&req)
    {
        tracing::warn!(path = %path, "cross-site form post refused");
        return refuse(AppError::Forbidden("別のサイトから送信された操作は受け付けられません。画面を開き直してから操作してください。".into()));
    }
    // No resource of ours has a NUL (or other control character) in its path, or one that
    // is not UTF-8 (which the router would answer with a bare text error).
    if unreadable_path(&path) {
        return refuse(AppError::NotFound);
    }
    let req = match nul_free_body(req, s.web.max_json_bytes).await {
        Ok(req) => req,
        Err(e) => return refuse(e),
    };
    let res = next.run(req).await;
    finish(res)
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

/// Whether the percent-decoded path is something no route of ours can name: a control
/// character (`%00`, `%0A`, …) or bytes that are not UTF-8 (`%FF`).
fn unreadable_path(path: &str) -> bool {
    let b = path.as_bytes();
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let mut byte = b[i];
        if byte == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            byte = v;
            i += 2;
        }
        if byte < 0x20 || byte == 0x7f {
            return true;
        }
        decoded.push(byte);
        i += 1;
    }
    std::str::from_utf8(&decoded).is_err()
}

/// Refuses JSON and form bodies that carry a NUL character (`\u0000` in JSON, `%00` or a raw
/// NUL in a form): nothing legitimate needs one and the database cannot store it. Other
/// bodies (uploads) pass untouched; the bodies looked at are small (the JSON limit).
async fn nul_free_body(req: Request, limit: usize) -> Result<Request, AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(req);
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let json = ct.starts_with("application/json") || ct.contains("+json");
    let form = ct.starts_with("application/x-www-form-urlencoded");
    if !json && !form {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let nul = if json {
        json_has_nul(&bytes)
    } else {
        bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
    };
    if nul {
        return Err(AppError::BadRequest {
            code: "invalid_characters",
            message: "送信された内容に使用できない文字（NUL）が含まれています。".into(),
        });
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether a JSON text holds the escape `\u0000` (an escaped backslash followed by `u0000`
/// is text, not a NUL).
fn json_has_nul(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn with_headers(mut res: Response, is_asset: bool, hsts: bool) -> Response {
    let status = res.status();
    let h = res.headers_mut();
    if hsts {
        h.entry("strict-transport-security")
            .or_insert(HeaderValue::from_static(
                "max-age=31536000; includeSubDomains",
            ));
    }
    let csp = match h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    {
        Some(own) => complete_csp(own),
        None => CSP.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    // Assets are public and versioned: they set their own caching. Everything else — and any
    // asset error — is never stored.
    if !is_asset || !(status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res.into_response()
}

/// A handler's own policy with the required directives added where it lacks them.
fn complete_csp(own: &str) -> String {
    let names: Vec<String> = own
        .split(';')
        .filter_map(|d| d.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut out = own.trim().trim_end_matches(';').to_string();
    for (name, directive) in REQUIRED_DIRECTIVES {
        if !names.iter().any(|n| n == name) {
            out.push_str("; ");
            out.push_str(directive);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_policies_are_completed() {
        assert_eq!(
            complete_csp("sandbox; default-src 'none'"),
            "sandbox; default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        );
        assert_eq!(complete_csp(CSP), CSP);
    }

    #[test]
    fn unreadable_paths_are_found() {
        assert!(unreadable_path("/filings/%00"));
        assert!(unreadable_path("/filings/a%0Ab"));
        assert!(unreadable_path("/filings/a\u{7f}"));
        assert!(unreadable_path("/filings/%FF"));
        assert!(unreadable_path("/filings/%E6%96"));
        assert!(!unreadable_path("/filings/%E6%96%B0"));
        assert!(!unreadable_path("/filings/100%"));
        assert!(!unreadable_path("/filings/%2"));
        assert!(!unreadable_path("/filings/01a2-ff"));
    }

    #[test]
    fn nul_escapes_in_json_are_found() {
        assert!(json_has_nul(br#"{"message":"a\u0000b"}"#));
        assert!(!json_has_nul(br#"{"message":"a\\u0000b"}"#));
        assert!(json_has_nul(br#"{"message":"a\\\u0000b"}"#));
        assert!(!json_has_nul(br#"{"message":"a\u0001b"}"#));
        assert!(!json_has_nul(br#"{"message":"ends with \\"}"#));
    }
}
