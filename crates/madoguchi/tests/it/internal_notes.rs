//! Internal notes (内部メモ) never reach the provider. A unique marker is planted as an internal
//! note on every case of a filing that went to five authorities — before and after decisions,
//! on returned, accepted and open cases — and then every response the provider can get is searched for it: every page
//! reached by following the links of the provider's pages (downloads, print views and .xlsx
//! files included, the .xlsx unzipped), every GET route of the route table a provider may call
//! (API and pages) with every id the provider knows, and every mail the SMTP sink received.
//! The marker must appear in none — and it does appear on the reviewer's case page and in the
//! reviewer's API, so the search would find it if it leaked.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Read;
use std::time::Duration;

use madoguchi_core::policy::Access;
use madoguchi_core::{Actor, Role};
use madoguchi_testing::{Api, TestServer, backends};
use madoguchi_web::routes::{self, Surface};
use serde_json::json;

use crate::common::{FANOUT, representative_change};
use crate::pages::Browser;

/// The text of a response as the provider would read it: an .xlsx (a ZIP) is unzipped and its
/// XML parts read; anything else is taken as text.
fn readable(bytes: &[u8]) -> String {
    if bytes.starts_with(b"PK\x03\x04") {
        let mut out = String::new();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).expect("entry");
            let mut part = String::new();
            if f.read_to_string(&mut part).is_ok() {
                out.push_str(&part);
            }
        }
        assert!(!out.is_empty(), "the .xlsx has readable parts");
        return out;
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// Same-origin links (`href="/…"`) of a page.
fn links(html: &str) -> Vec<String> {
    html.match_indices("href=\"/")
        .filter_map(|(i, m)| {
            let rest = &html[i + m.len() - 1..];
            rest.split('"').next().map(|h| h.replace("&amp;", "&"))
        })
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .filter(|h| !h.is_empty())
        .collect()
}

fn provider_actor() -> Actor {
    Actor {
        user_id: String::new(),
        login: String::new(),
        display_name: String::new(),
        email: String::new(),
        role: Role::Provider {
            corporation_id: String::new(),
        },
        can_submit: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_notes_reach_no_provider_response() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let marker = format!(
            "INTERNAL-NOTE-{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        );
        let p1 = srv.api("provider1").await;

        // A 代表者 change: corporation-wide, so it goes to all five authorities.
        let (rep, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = p1
            .post(&format!("/api/v1/filings/{rep}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let note = |n: usize| format!("{marker} 引継ぎ{n}：事業者には見せないこと");
        let mut planted = 0;
        let mut reviewer_case = None;
        for (i, code) in FANOUT.iter().enumerate() {
            let staff = srv.api(&format!("reviewer-{code}")).await;
            let cases = staff.get("/api/v1/cases").await;
            for c in cases.body.as_array().expect("cases") {
                let id = c["id"].as_str().expect("id").to_string();
                let post_note = |staff: Api, id: String, n: usize| {
                    let body = json!({ "message": note(n), "internal": true });
                    async move {
                        let r = staff
                            .post(&format!("/api/v1/cases/{id}/comments"), &body)
                            .await;
                        assert!(r.status.is_success(), "{}", r.text);
                    }
                };
                post_note(staff.clone(), id.clone(), planted).await;
                planted += 1;
                // Decide some: 東京都 accepts, 新宿区 returns; notes after the decision too.
                let decision = match i {
                    0 => Some(("accept", json!({}))),
                    1 => Some((
                        "return",
                        json!({ "message": "代表者の住所をご確認ください。" }),
                    )),
                    _ => None,
                };
                if let Some((action, body)) = decision {
                    let r = staff
                        .post(&format!("/api/v1/cases/{id}/{action}"), &body)
                        .await;
                    assert_eq!(r.status, 200, "{action}: {}", r.text);
                    post_note(staff.clone(), id.clone(), planted).await;
                    planted += 1;
                }
                reviewer_case.get_or_insert((code.to_string(), id));
            }
        }
        assert!(planted >= 7, "notes planted on every case");
        srv.drain_jobs().await;
        tokio::time::sleep(Duration::from_millis(300)).await;

        // The check can fail: the reviewer sees the notes.
        let (code, case_id) = reviewer_case.expect("a case");
        let reviewer = Browser::new(&srv.base_url);
        reviewer.login(&format!("reviewer-{code}")).await;
        let (_, _, page) = reviewer.get(&format!("/cases/{case_id}")).await;
        assert!(
            page.contains(&marker),
            "the reviewer's case page shows the note"
        );
        let r = srv
            .api(&format!("reviewer-{code}"))
            .await
            .get(&format!("/api/v1/cases/{case_id}"))
            .await;
        assert!(
            r.text.contains(&marker),
            "the reviewer's API shows the note"
        );

        // The provider, through the pages: follow every link from the provider's pages.
        let provider = Browser::new(&srv.base_url);
        provider.login_oidc("provider1").await;
        let mut fetched: BTreeMap<String, String> = BTreeMap::new();
        let mut queue: VecDeque<String> = ["/filings", "/filings/new", "/"]
            .into_iter()
            .map(String::from)
            .collect();
        while let Some(path) = queue.pop_front() {
            if fetched.contains_key(&path)
                || path.starts_with("/logout")
                || path.starts_with("/dev-idp")
                || path.starts_with("/login/oidc")
                || path.starts_with("/assets/")
            {
                continue;
            }
            let (status, _, bytes) = provider.get_bytes(&path).await;
            assert!(status < 500, "{path}: {status}");
            let text = readable(&bytes);
            for l in links(&text) {
                queue.push_back(l);
            }
            fetched.insert(path, text);
            assert!(fetched.len() < 500, "a crawl loop?");
        }
        for kind in ["/filings/", "/cases/", "/attachments/", ".xlsx"] {
            assert!(
                fetched.keys().any(|k| k.contains(kind)),
                "the provider's pages lead to {kind}…: {:?}",
                fetched.keys().collect::<Vec<_>>()
            );
        }

        // Every GET route a provider may call, with every id the provider knows.
        let filings: Vec<String> = p1
            .get("/api/v1/filings")
            .await
            .body
            .as_array()
            .expect("filings")
            .iter()
            .filter_map(|f| f["id"].as_str().map(String::from))
            .collect();
        assert!(filings.contains(&rep));
        let mut ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for f in &filings {
            ids.entry("filings").or_default().insert(f.clone());
            let view = p1.get(&format!("/api/v1/filings/{f}")).await.body;
            for c in view["cases"].as_array().into_iter().flatten() {
                ids.entry("cases")
                    .or_default()
                    .insert(c["id"].as_str().expect("case").to_string());
            }
            for a in view["attachments"].as_array().into_iter().flatten() {
                ids.entry("attachments")
                    .or_default()
                    .insert(a["attachment_id"].as_str().expect("file").to_string());
            }
            for e in view["establishments"].as_array().into_iter().flatten() {
                ids.entry("establishments")
                    .or_default()
                    .insert(e["id"].as_str().expect("est").to_string());
            }
        }
        for p in p1
            .get("/api/v1/procedures")
            .await
            .body
            .as_array()
            .into_iter()
            .flatten()
        {
            ids.entry("procedures")
                .or_default()
                .insert(p["id"].as_str().expect("procedure").to_string());
        }
        ids.entry("authorities")
            .or_default()
            .extend(FANOUT.iter().map(|c| c.to_string()));
        let me = provider_actor();
        let mut routes_called = 0;
        for route in routes::table() {
            if route.method != axum::http::Method::GET
                || !(route.access.permits(&me) || route.access == Access::Public)
            {
                continue;
            }
            let first = route.path.find('{');
            let candidates: Vec<String> = match first {
                None => vec![route.path.to_string()],
                Some(at) => {
                    let collection = route.path[..at]
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or_default();
                    let close = route.path[at..].find('}').expect("}") + at;
                    if route.path[close + 1..].contains('{') {
                        continue; // two parameters: no such provider route
                    }
                    ids.get(collection)
                        .into_iter()
                        .flatten()
                        .map(|id| format!("{}{id}{}", &route.path[..at], &route.path[close + 1..]))
                        .collect()
                }
            };
            for path in candidates {
                routes_called += 1;
                let text = match route.surface {
                    Surface::Api => p1.get(&path).await.text,
                    Surface::Page => readable(&provider.get_bytes(&path).await.2),
                };
                fetched.insert(format!("route {path}"), text);
            }
        }
        assert!(routes_called > 20, "the provider's routes were called");

        for (what, text) in &fetched {
            assert!(
                !text.contains(&marker),
                "[{backend}] an internal note reached the provider: {what}"
            );
        }
        // Every mail the sink received (the provider's and the authorities').
        let mails = srv.sink.messages();
        assert!(mails.len() >= 5, "mails were sent ({})", mails.len());
        for m in &mails {
            assert!(
                !m.raw.contains(&marker)
                    && !m.body.contains(&marker)
                    && !m.subject.contains(&marker),
                "[{backend}] an internal note is in a mail to {:?}: {}",
                m.to,
                m.subject
            );
        }
        eprintln!(
            "[{backend}] internal-note marker absent from {} provider responses and {} mails",
            fetched.len(),
            mails.len()
        );
        srv.stop().await;
    }
}
