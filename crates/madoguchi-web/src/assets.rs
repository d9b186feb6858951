//! Static files (CSS, icons) compiled into the binary and served under `/assets/{file}`.
//!
//! Madoguchi must run inside closed government networks, so nothing is ever loaded from a CDN
//! and nothing is read from disk at run time: every file is embedded with `include_bytes!`.
//! Pages link assets through [`asset_url`], which appends `?v=<hash>`; a request carrying the
//! current hash is cacheable for a year (`immutable`), any other request must revalidate with
//! the strong ETag (the SHA-256 of the bytes), so a deploy never serves a stale stylesheet.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// The stylesheet as served: the Digital Agency tokens (MIT, notice kept) then our own rules.
const APP_CSS: &str = concat!(
    "/*! @digital-go-jp/design-tokens 1.1.9 (tokens.css)\n",
    include_str!("../assets/vendor/digital-go-jp-design-tokens/LICENSE"),
    "*/\n",
    include_str!("../assets/vendor/digital-go-jp-design-tokens/tokens.css"),
    "\n",
    include_str!("../assets/app.css"),
);

/// One embedded file. Names are flat (no `/`) because the route has a single segment.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every file the server can send. Add new assets here (and nowhere else).
static ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: APP_CSS.as_bytes(),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../assets/favicon.svg"),
    },
    // Provider portal part A: background saving of draft forms.
    Asset {
        name: "autosave.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/autosave.js"),
    },
];

/// Number of hex digits of the SHA-256 used in `?v=`; 64 bits is plenty to bust caches.
const VERSION_LEN: usize = 16;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// An asset with its digest, computed once on first use.
struct Entry {
    asset: &'static Asset,
    /// Quoted strong validator: `"<64 hex digits>"`.
    etag: String,
}

impl Entry {
    fn version(&self) -> &str {
        &self.etag[1..=VERSION_LEN]
    }
}

static INDEX: LazyLock<HashMap<&'static str, Entry>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = hex::encode(Sha256::digest(asset.bytes));
            let etag = format!("\"{digest}\"");
            (asset.name, Entry { asset, etag })
        })
        .collect()
});

/// The URL to put in a page for an embedded asset, e.g. `/assets/app.css?v=1a2b3c4d5e6f7a8b`.
///
/// The `v` parameter changes whenever the bytes change, which is what allows the long,
/// immutable cache lifetime. An unknown name is a programming error (debug builds panic);
/// release builds fall back to the unversioned URL, which the router answers with 404.
pub fn asset_url(name: &str) -> String {
    match INDEX.get(name) {
        Some(entry) => format!("/assets/{name}?v={}", entry.version()),
        None => {
            debug_assert!(false, "asset_url: unknown asset {name:?}");
            format!("/assets/{name}")
        }
    }
}

/// Routes for `/assets/{file}` (GET and HEAD). Merge into the application router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{file}", get(serve_asset))
}

async fn serve_asset(
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(entry) = INDEX.get(file.as_str()) else {
        return (
            StatusCode::NOT_FOUND,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            "ファイルが見つかりません。",
        )
            .into_response();
    };

    let versioned = query.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.strip_prefix("v=") == Some(entry.version()))
    });
    let cache_control = if versioned { IMMUTABLE } else { REVALIDATE };

    let mut response = if if_none_match(&headers, &entry.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = entry.asset.bytes.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(entry.asset.content_type),
        );
        response
    };
    let out = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&entry.etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// True when `If-None-Match` lists our ETag (or `*`). RFC 9110 §13.1.2 uses the weak
/// comparison here, so a `W/` prefix added by a proxy still matches.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(uri: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(uri);
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        router::<()>()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response.headers().get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn asset_url_carries_a_hash_prefix() {
        let url = asset_url("app.css");
        let version = url.strip_prefix("/assets/app.css?v=").unwrap();
        assert_eq!(version.len(), VERSION_LEN);
        assert!(version.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[tokio::test]
    async fn versioned_css_is_immutable_with_strong_etag() {
        let response = get(&asset_url("app.css"), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/css; charset=utf-8"
        );
        assert_eq!(
            header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
        assert_eq!(header_of(&response, header::CACHE_CONTROL), IMMUTABLE);
        let etag = header_of(&response, header::ETAG).to_owned();
        let expected = format!("\"{}\"", hex::encode(Sha256::digest(APP_CSS.as_bytes())));
        assert_eq!(etag, expected);
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(&body[..], APP_CSS.as_bytes());

        let response = get(&asset_url("app.css"), Some(&etag)).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header_of(&response, header::ETAG), etag);
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(body.is_empty());

        let listed = format!("\"nope\", W/{etag}");
        let response = get("/assets/app.css", Some(&listed)).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn unversioned_or_stale_requests_revalidate() {
        for uri in ["/assets/app.css", "/assets/app.css?v=0000000000000000"] {
            let response = get(uri, Some("\"something-else\"")).await;
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            assert_eq!(header_of(&response, header::CACHE_CONTROL), REVALIDATE);
        }
    }

    #[tokio::test]
    async fn every_listed_asset_is_served_and_unknown_names_are_404() {
        for asset in ASSETS {
            let response = get(&asset_url(asset.name), None).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.name);
            assert_eq!(
                header_of(&response, header::CONTENT_TYPE),
                asset.content_type
            );
        }
        for uri in ["/assets/nope.css", "/assets/..%2FCargo.toml", "/assets/"] {
            let response = get(uri, None).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }

    /// Removes `/* … */` comments (where the vendored licence lives) before scanning.
    fn strip_css_comments(css: &str) -> String {
        let mut out = String::new();
        let mut rest = css;
        while let Some(start) = rest.find("/*") {
            out.push_str(&rest[..start]);
            rest = rest[start + 2..]
                .find("*/")
                .map_or("", |end| &rest[start + 2 + end + 2..]);
        }
        out.push_str(rest);
        out
    }

    fn assert_no_remote_reference(what: &str, text: &str) {
        for scheme in ["http://", "https://", "//fonts.", "@import"] {
            assert!(
                !text.to_ascii_lowercase().contains(scheme),
                "{what} contains {scheme:?}: everything must be embedded"
            );
        }
    }

    #[test]
    fn css_and_templates_reference_nothing_remote() {
        let css = strip_css_comments(APP_CSS);
        assert_no_remote_reference("app.css", &css);
        for (i, _) in css.match_indices("url(") {
            assert!(
                css[i + 4..].starts_with("data:"),
                "app.css: url() must not fetch"
            );
        }
        for asset in ASSETS.iter().filter(|a| a.content_type == "image/svg+xml") {
            let svg = std::str::from_utf8(asset.bytes).unwrap();
            // The SVG namespace is an identifier, not a fetch.
            let svg = svg.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert_no_remote_reference(asset.name, &svg);
        }

        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut pending = vec![root];
        let mut seen = 0;
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert_no_remote_reference(&path.display().to_string(), &text);
                    seen += 1;
                }
            }
        }
        assert!(seen >= 3, "expected base.html, error.html and macros");
    }
}
