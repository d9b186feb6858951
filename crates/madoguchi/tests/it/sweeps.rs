//! Sweeps over the whole route table (so routes added later are covered without editing this
//! file):
//!
//! - **CSRF**: every state-changing page route, called by a signed-in user of the right role on
//!   an object they may change, is refused (403) without the session's CSRF token, with another
//!   session's token, with the token outside the form body, from another site
//!   (`Sec-Fetch-Site: cross-site` / `same-site`) and with a foreign `Origin` — and nothing
//!   changes (audit chain head, stored files, the session itself). Public forms (sign-in) have
//!   no session token yet; they get the cross-site checks. The same request with the right token
//!   from the same origin is not refused (the sweep would notice a route that refuses
//!   everything). Every API route refuses a caller that brings only the session cookie (401):
//!   cookies never authenticate the API.
//! - **Headers**: every route — anonymous and signed in, right and wrong role, own, foreign and
//!   missing objects, wrong methods, bad bodies, refusals, redirects, files, assets, unknown
//!   paths, rate-limit answers — carries a CSP without inline script that sets
//!   `object-src 'none'`, `base-uri 'none'` and `frame-ancestors 'none'` (a PDF preview alone
//!   may be framed by our own pages, `'self'`, and must be sandboxed), `nosniff`, a
//!   `Referrer-Policy`, and `Cache-Control: no-store` everywhere but `/assets/`; downloads are
//!   `Content-Disposition: attachment` with a sandboxing CSP.

use madoguchi_core::policy::Access;
use madoguchi_testing::{TestServer, backends};
use madoguchi_web::routes::{self, Surface};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::json;

use crate::common::{establishment_id, representative_change};

/// Objects a signed-in user of each role may act on, and the sign-ins.
struct Fixture {
    /// provider1's draft filings (a fresh one per route, so one route's effect cannot
    /// disturb the next).
    provider: String,
    /// A case addressed to 横浜市, for its reviewer.
    case_id: String,
    reviewer: String,
    admin: String,
    /// One of provider1's files.
    attachment_id: String,
    /// Another corporation's filing (provider2) and a case of another authority.
    foreign_filing: String,
    foreign_case: String,
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn method(m: &axum::http::Method) -> Method {
    Method::from_bytes(m.as_str().as_bytes()).expect("method")
}

/// What a route's `{…}` parameter names, from its path.
fn param_kind(path: &str) -> &'static str {
    if !path.contains('{') {
        ""
    } else if path.contains("/filings/{") {
        "filing"
    } else if path.contains("/cases/{") {
        "case"
    } else if path.contains("/attachments/{") {
        "attachment"
    } else if path.contains("/establishments/{") {
        "establishment"
    } else if path.contains("/procedures/{") {
        "procedure"
    } else {
        "other"
    }
}

/// Replaces every `{…}` segment of an axum path with `value`.
fn fill(path: &str, value: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                value
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn sign_in(srv: &TestServer, login: &str) -> (String, String) {
    let mut tx = srv.app.db.begin_read().await.unwrap();
    let user = madoguchi_db::users::get_user_by_login(&mut tx, login)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (secret, session) = madoguchi_core::auth::create_session(&srv.app, &user.id, "sweep")
        .await
        .unwrap();
    (secret, session.csrf_token)
}

async fn audit_head(srv: &TestServer) -> (i64, String) {
    let mut tx = srv.app.db.begin_read().await.unwrap();
    let h = madoguchi_db::audit::head(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    h
}

/// Number of stored files (uploads write here before anything else).
fn blob_count(srv: &TestServer) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&srv.db.dir.path().join("blobs"))
}

async fn fixture(srv: &TestServer) -> Fixture {
    let p1 = srv.api("provider1").await;
    let (fid, filing) = representative_change(srv, &p1, "佐藤　次郎", "サトウ　ジロウ").await;
    let attachment_id = filing["attachments"][0]["attachment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = p1
        .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let case = |code: &str| {
        r.body["filing"]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["authority_code"] == code)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let p2 = srv.api("provider2").await;
    let est = establishment_id(&p2, "1370401059").await;
    let r2 = p2
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "suspension-abolition", "establishment_ids": [est] }),
        )
        .await;
    assert_eq!(r2.status, 201, "{}", r2.text);
    Fixture {
        provider: "provider1".into(),
        case_id: case("141003"),
        reviewer: "reviewer-141003".into(),
        admin: "admin-141003".into(),
        attachment_id,
        foreign_filing: r2.body["id"].as_str().unwrap().to_string(),
        foreign_case: case("131041"),
    }
}

/// A fresh draft of provider1 (the target of one route's sweep).
async fn fresh_draft(srv: &TestServer) -> String {
    let p1 = srv.api("provider1").await;
    let est = establishment_id(&p1, "1370400010").await;
    let r = p1
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "suspension-abolition", "establishment_ids": [est] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// The sign-in of the right role for a route's policy.
fn login_for(access: Access, fx: &Fixture) -> &str {
    match access {
        Access::Public | Access::SignedIn | Access::Provider | Access::CaseParty => &fx.provider,
        Access::AuthorityStaff => &fx.reviewer,
        Access::AuthorityAdmin => &fx.admin,
    }
}

/// Form fields that make a valid request to the route (apart from the CSRF token).
fn form_for(key: &str) -> Vec<(&'static str, String)> {
    match key {
        "POST /filings" => vec![
            ("procedure_id", "suspension-abolition".into()),
            ("establishment_ids", String::new()),
        ],
        "POST /filings/{id}" => vec![
            ("_present", "fields.reason".into()),
            ("fields.reason", "体制の見直し".into()),
        ],
        "POST /filings/{id}/withdraw" => vec![("reason", "不要になりました。".into())],
        "POST /cases/{id}/accept" => vec![("confirm", "yes".into())],
        "POST /cases/{id}/return" | "POST /cases/{id}/comments" => {
            vec![("message", "ご確認ください。".into())]
        }
        "POST /login/demo" => vec![("login", "provider2".into())],
        _ => vec![("login", "provider2".into()), ("password", "x".into())],
    }
}

#[derive(Clone, Copy, Debug)]
enum Attack {
    NoToken,
    /// The token of another live session of the same user.
    OtherSessionsToken,
    /// The right token, but in the query string rather than the form.
    TokenInQuery,
    /// The right token, sent as JSON rather than a form.
    TokenAsJson,
    CrossSite,
    SameSite,
    ForeignOrigin,
    /// Control: the right token from the same origin (must not be refused).
    Legitimate,
}

fn is_multipart_route(key: &str) -> bool {
    key == "POST /filings/{id}/attachments"
}

/// A session: cookie name and secret, its CSRF token, and the token of another session of
/// the same user.
struct Browser<'a> {
    cookie: String,
    token: &'a str,
    other_token: &'a str,
}

fn build(
    c: &Client,
    base: &str,
    m: Method,
    url: &str,
    b: &Browser<'_>,
    key: &str,
    attack: Attack,
) -> RequestBuilder {
    let query = if matches!(attack, Attack::TokenInQuery) {
        format!("?csrf_token={}", b.token)
    } else {
        String::new()
    };
    let mut rb = c
        .request(m, format!("{base}{url}{query}"))
        .header("cookie", b.cookie.clone());
    rb = match attack {
        Attack::CrossSite => rb
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example"),
        Attack::SameSite => rb.header("sec-fetch-site", "same-site"),
        Attack::ForeignOrigin => rb.header("origin", "https://evil.example"),
        _ => rb.header("sec-fetch-site", "same-origin"),
    };
    let token = match attack {
        Attack::NoToken | Attack::TokenInQuery | Attack::TokenAsJson => None,
        Attack::OtherSessionsToken => Some(b.other_token.to_string()),
        _ => Some(b.token.to_string()),
    };
    if matches!(attack, Attack::TokenAsJson) {
        return rb.json(&json!({ "csrf_token": b.token }));
    }
    if is_multipart_route(key) {
        let mut form = reqwest::multipart::Form::new()
            .text("requirement_id", "user_measures_list")
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"%PDF-1.4\nsweep\n%%EOF".to_vec())
                    .file_name("sweep.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        if let Some(t) = token {
            form = form.text("csrf_token", t);
        }
        return rb.multipart(form);
    }
    let mut pairs: Vec<(&str, String)> = form_for(key);
    if let Some(t) = token {
        pairs.insert(0, ("csrf_token", t));
    }
    rb.form(&pairs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_changing_route_refuses_forged_requests() {
    for backend in backends() {
        let srv = TestServer::start_with(backend, |c| {
            c.web.rate_limits.sign_in_per_minute = 10_000;
            c.web.rate_limits.uploads_per_minute = 10_000;
        })
        .await;
        let fx = fixture(&srv).await;
        srv.drain_jobs().await;
        let c = client();
        let cookie_name = srv.config.web.cookie_name();
        let mut checked = 0;
        let mut problems = Vec::new();
        for r in routes::table() {
            if r.method == axum::http::Method::GET {
                continue;
            }
            let key = format!("{} {}", r.method, r.path);
            let login = login_for(r.access, &fx);
            let target = match param_kind(r.path) {
                "filing" => fresh_draft(&srv).await,
                "case" => fx.case_id.clone(),
                "attachment" => fx.attachment_id.clone(),
                "" => String::new(),
                _ => uuid_like(),
            };
            let url = fill(r.path, &target);
            if r.surface == Surface::Api {
                // Cookies never authenticate the API, whatever the body.
                if r.access == Access::Public {
                    continue;
                }
                let (cookie, _) = sign_in(&srv, login).await;
                let before = (audit_head(&srv).await, blob_count(&srv));
                let res = c
                    .request(method(&r.method), format!("{}{url}", srv.base_url))
                    .header("cookie", format!("{cookie_name}={cookie}"))
                    .header("sec-fetch-site", "same-origin")
                    .json(&json!({ "message": "x", "reason": "x", "procedure_id": "suspension-abolition" }))
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                checked += 1;
                if status != 401 {
                    problems.push(format!("{key} with only a session cookie: {status}"));
                }
                if (audit_head(&srv).await, blob_count(&srv)) != before {
                    problems.push(format!("{key} with only a session cookie changed state"));
                }
                continue;
            }
            // Pages: a fresh session of the right role for this route.
            let (cookie, token) = sign_in(&srv, login).await;
            let (_, other_token) = sign_in(&srv, login).await;
            let browser = Browser {
                cookie: format!("{cookie_name}={cookie}"),
                token: &token,
                other_token: &other_token,
            };
            let attacks: &[Attack] = if r.access == Access::Public {
                &[Attack::CrossSite, Attack::SameSite, Attack::ForeignOrigin]
            } else if is_multipart_route(&key) {
                &[
                    Attack::NoToken,
                    Attack::OtherSessionsToken,
                    Attack::TokenInQuery,
                    Attack::CrossSite,
                    Attack::SameSite,
                    Attack::ForeignOrigin,
                ]
            } else {
                &[
                    Attack::NoToken,
                    Attack::OtherSessionsToken,
                    Attack::TokenInQuery,
                    Attack::TokenAsJson,
                    Attack::CrossSite,
                    Attack::SameSite,
                    Attack::ForeignOrigin,
                ]
            };
            for &attack in attacks {
                let before = (audit_head(&srv).await, blob_count(&srv));
                let res = build(
                    &c,
                    &srv.base_url,
                    method(&r.method),
                    &url,
                    &browser,
                    &key,
                    attack,
                )
                .send()
                .await
                .unwrap();
                let status = res.status().as_u16();
                checked += 1;
                if status != 403 {
                    problems.push(format!("{key} {attack:?}: {status}, not 403"));
                }
                if (audit_head(&srv).await, blob_count(&srv)) != before {
                    problems.push(format!("{key} {attack:?}: state changed"));
                }
            }
            // The session survived every forged sign-out.
            assert!(
                madoguchi_core::auth::resolve_session(
                    &srv.app,
                    &cookie,
                    30 * 60_000,
                    12 * 3_600_000
                )
                .await
                .is_ok(),
                "[{backend}] {key}: the session was ended by a forged request"
            );
            // Control: the legitimate request is not refused.
            let res = build(
                &c,
                &srv.base_url,
                method(&r.method),
                &url,
                &browser,
                &key,
                Attack::Legitimate,
            )
            .send()
            .await
            .unwrap();
            let status = res.status().as_u16();
            let location = res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            if status == 403 || (r.access != Access::Public && location.starts_with("/login")) {
                problems.push(format!(
                    "{key}: the legitimate request was refused ({status} {location})"
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "[{backend}] CSRF sweep:\n{}",
            problems.join("\n")
        );
        assert!(checked > 50, "[{backend}] only {checked} forged requests");
        eprintln!("[{backend}] CSRF sweep: {checked} forged requests refused, nothing changed");
        srv.stop().await;
    }
}

fn uuid_like() -> String {
    "01900000-0000-7000-8000-000000000000".into()
}

// ---- Header crawl -------------------------------------------------------------------------

/// Checks one response's security headers; returns what is wrong.
fn header_problems(path: &str, res: &Response) -> Vec<String> {
    let h = |n: &str| {
        res.headers()
            .get_all(n)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    let csp = h("content-security-policy");
    if csp.is_empty() {
        out.push("no Content-Security-Policy".to_string());
    } else {
        let directives: Vec<(String, String)> = csp
            .split([';', ','])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                let (name, value) = d.split_once(' ').unwrap_or((d, ""));
                (name.to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        let get = |n: &str| {
            directives
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        let scripts = get("script-src").or_else(|| get("default-src"));
        match scripts {
            None => out.push(format!("CSP restricts no scripts: {csp}")),
            Some(s) if s.contains("'unsafe-inline'") || s.contains("'unsafe-eval'") => {
                out.push(format!("CSP allows inline script: {csp}"))
            }
            _ => {}
        }
        // The one exception to `frame-ancestors 'none'`: a PDF preview, which the case page
        // frames; it must then be sandboxed and framable by our own pages only.
        let pdf_preview = path.ends_with("/preview")
            && res.status() == 200
            && h("content-type") == "application/pdf";
        if pdf_preview && get("sandbox").is_none() {
            out.push(format!("PDF preview without a sandbox CSP: {csp}"));
        }
        let frames = if pdf_preview { "'self'" } else { "'none'" };
        for (d, want) in [
            ("object-src", "'none'"),
            ("base-uri", "'none'"),
            ("frame-ancestors", frames),
        ] {
            if get(d).as_deref() != Some(want) {
                out.push(format!("CSP lacks {d} {want}: {csp}"));
            }
        }
    }
    if h("x-content-type-options") != "nosniff" {
        out.push(format!(
            "X-Content-Type-Options is {:?}",
            h("x-content-type-options")
        ));
    }
    let referrer = h("referrer-policy");
    if ![
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ]
    .contains(&referrer.as_str())
    {
        out.push(format!("Referrer-Policy is {referrer:?}"));
    }
    let cache = h("cache-control");
    if !path.starts_with("/assets/") && !cache.split(',').any(|d| d.trim() == "no-store") {
        out.push(format!("Cache-Control is {cache:?}"));
    }
    out
}

fn is_download(res: &Response) -> bool {
    res.status() == 200
        && res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/octet-stream"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let backend = backends()[0];
    // A low sign-in limit, so the crawl can reach the limiter's 429 within a few requests
    // (the test server's default is high, for tests that sign in many times).
    let srv = TestServer::start_with(backend, |c| c.web.rate_limits.sign_in_per_minute = 30).await;
    let fx = fixture(&srv).await;
    let c = client();
    let base = srv.base_url.clone();
    let cookie_name = srv.config.web.cookie_name();
    let provider_token = madoguchi_core::auth::issue_token(&srv.app, "provider1", "crawl")
        .await
        .unwrap();
    let reviewer_token = madoguchi_core::auth::issue_token(&srv.app, "reviewer-141003", "crawl")
        .await
        .unwrap();
    let (provider_cookie, provider_csrf) = sign_in(&srv, "provider1").await;
    let (reviewer_cookie, reviewer_csrf) = sign_in(&srv, "reviewer-141003").await;
    let mut problems = Vec::new();
    let mut seen = 0usize;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut downloads = 0;
    let mut check = |path: &str, what: &str, res: &Response| {
        seen += 1;
        *statuses.entry(res.status().as_u16()).or_default() += 1;
        for p in header_problems(path, res) {
            problems.push(format!("{what} -> {}: {p}", res.status()));
        }
        if is_download(res) {
            downloads += 1;
            let cd = res
                .headers()
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !cd.starts_with("attachment") {
                problems.push(format!("{what}: download is not an attachment: {cd:?}"));
            }
            let csp = res
                .headers()
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !csp.split(';').any(|d| d.trim() == "sandbox") {
                problems.push(format!("{what}: download without a sandbox CSP: {csp:?}"));
            }
        }
    };
    for r in routes::table() {
        let key = format!("{} {}", r.method, r.path);
        let kind = param_kind(r.path);
        // Own objects, other tenants' objects and missing ones.
        let targets: Vec<String> = match kind {
            "filing" => vec![
                fresh_draft(&srv).await,
                fx.foreign_filing.clone(),
                uuid_like(),
            ],
            "case" => vec![fx.case_id.clone(), fx.foreign_case.clone(), uuid_like()],
            "attachment" => vec![fx.attachment_id.clone(), uuid_like()],
            "establishment" => {
                let p1 = srv.api("provider1").await;
                vec![establishment_id(&p1, "1370400010").await, uuid_like()]
            }
            "procedure" => vec!["change-notification".into(), "nope".into()],
            "" => vec![String::new()],
            _ => vec![uuid_like()],
        };
        for target in &targets {
            let url = fill(r.path, target);
            // (who, bearer, cookie, csrf)
            let callers: [(&str, Option<&str>, Option<&str>, &str); 3] = [
                ("anonymous", None, None, ""),
                (
                    "provider1",
                    Some(&provider_token),
                    Some(&provider_cookie),
                    &provider_csrf,
                ),
                (
                    "reviewer-141003",
                    Some(&reviewer_token),
                    Some(&reviewer_cookie),
                    &reviewer_csrf,
                ),
            ];
            for (who, bearer, cookie, csrf) in callers {
                let mut methods = vec![method(&r.method)];
                if r.method == axum::http::Method::GET {
                    methods.push(Method::HEAD);
                    methods.push(Method::DELETE); // 405
                }
                for m in methods {
                    let mut rb = c.request(m.clone(), format!("{base}{url}"));
                    if let Some(b) = bearer.filter(|_| r.surface == Surface::Api) {
                        rb = rb.bearer_auth(b);
                    }
                    if let Some(k) = cookie.filter(|_| r.surface == Surface::Page) {
                        rb = rb.header("cookie", format!("{cookie_name}={k}"));
                    }
                    if m == Method::POST || m == Method::PUT {
                        rb = if r.surface == Surface::Api {
                            rb.json(&json!({ "message": "", "reason": "" }))
                        } else {
                            let mut pairs: Vec<(&str, String)> = form_for(&key);
                            pairs.insert(0, ("csrf_token", csrf.to_string()));
                            rb.header("sec-fetch-site", "same-origin").form(&pairs)
                        };
                    }
                    let res = rb.send().await.unwrap();
                    check(&url, &format!("{m} {url} as {who}"), &res);
                }
            }
            // A forged cross-site post and a broken body, for writes.
            if r.method != axum::http::Method::GET {
                let mut rb = c
                    .request(method(&r.method), format!("{base}{url}"))
                    .header("sec-fetch-site", "cross-site")
                    .header("cookie", format!("{cookie_name}={provider_cookie}"))
                    .form(&[("csrf_token", provider_csrf.as_str())]);
                if r.surface == Surface::Api {
                    rb = rb.bearer_auth(&provider_token);
                }
                let res = rb.send().await.unwrap();
                check(&url, &format!("cross-site {key}"), &res);
                let res = c
                    .request(method(&r.method), format!("{base}{url}"))
                    .bearer_auth(&provider_token)
                    .header("content-type", "application/json")
                    .body("{not json")
                    .send()
                    .await
                    .unwrap();
                check(&url, &format!("broken body {key}"), &res);
            }
        }
    }
    // Assets, unknown paths, a conditional request.
    let css = madoguchi_web::assets::asset_url("app.css");
    for path in [
        css.as_str(),
        "/assets/app.css",
        "/assets/favicon.svg",
        "/assets/no-such.css",
        "/no-such-page",
        "/api/v1/no-such-resource",
        "/filings/%00",
    ] {
        let res = c.get(format!("{base}{path}")).send().await.unwrap();
        check(path, &format!("GET {path}"), &res);
    }
    let etag = c
        .get(format!("{base}/assets/app.css"))
        .send()
        .await
        .unwrap()
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let res = c
        .get(format!("{base}/assets/app.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    check("/assets/app.css", "conditional GET /assets/app.css", &res);
    // The rate limiter's refusal.
    let limit = srv.config.web.rate_limits.sign_in_per_minute;
    let mut limited = None;
    // Headroom for the bucket refilling while the loop runs.
    for _ in 0..=limit * 2 + 10 {
        let res = c
            .post(format!("{base}/login/demo"))
            .form(&[("login", "nobody")])
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
    }
    let res = limited.expect("sign-in is rate limited");
    check("/login/demo", "POST /login/demo past the limit", &res);
    assert!(downloads >= 2, "the crawl saw {downloads} downloads");
    for s in [200, 303, 304, 401, 403, 404, 405, 429] {
        assert!(
            statuses.contains_key(&s),
            "the crawl saw no {s} response: {statuses:?}"
        );
    }
    assert!(
        problems.is_empty(),
        "[{backend}] header crawl, {} of {seen} responses:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "[{backend}] header crawl: {seen} responses {statuses:?}, {downloads} downloads, all protected"
    );
    srv.stop().await;
}
