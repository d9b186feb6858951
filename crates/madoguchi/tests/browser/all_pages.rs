//! Every page, for every role: the browser follows the links of the pages a role can reach
//! from its navigation (public, provider, reviewer, admin), over a demo world that has a case
//! in each state, and on each page takes the screenshots (1280 px, 390 px), checks that the
//! page does not scroll sideways at 390 px, and runs axe-core. A page is visited once per
//! route pattern (`/cases/{id}`); `REQUIRED` lists patterns that must be found, so a page
//! dropping out of the navigation fails the test. Pages no link leads to (error states) are in
//! `EXTRA`. New pages linked from the navigation are covered without editing this file; add
//! their pattern to `REQUIRED` to keep them reachable.

use std::collections::{BTreeSet, VecDeque};

use serde_json::json;

use crate::harness::{self, Browser, server, shots};

/// One role's walk: who signs in, where the walk starts, which patterns must be found.
struct Role {
    name: &'static str,
    /// `None`: not signed in. `Some((login, provider?))`.
    sign_in: Option<(&'static str, bool)>,
    start: &'static [&'static str],
    required: &'static [&'static str],
}

const ROLES: &[Role] = &[
    Role {
        name: "public",
        sign_in: None,
        start: &["/"],
        required: &[
            "/",
            "/login",
            "/login/password",
            "/about",
            "/accessibility",
            "/local-rules",
            "/authorities/{code}/local-rules",
        ],
    },
    Role {
        name: "provider",
        sign_in: Some(("provider1", true)),
        start: &["/filings"],
        required: &[
            "/filings",
            "/filings/new",
            "/filings/{id}",
            "/filings/{id}/edit",
            "/filings/{id}/receipt",
            "/cases/{id}/form",
            "/my",
            "/bulk/new",
            "/notifications",
            "/settings/notifications",
        ],
    },
    Role {
        name: "reviewer",
        sign_in: Some(("reviewer-131041", false)),
        start: &["/inbox"],
        required: &[
            "/inbox",
            "/inbox?order&sort",
            "/cases/{id}",
            "/cases/{id}/form",
            "/ledger",
        ],
    },
    Role {
        name: "admin",
        sign_in: Some(("admin-131041", false)),
        start: &["/inbox", "/ledger", "/admin"],
        required: &[
            "/inbox",
            "/ledger",
            "/admin",
            "/admin/staff",
            "/admin/local-rules",
            "/admin/master",
            "/admin/statistics",
        ],
    },
];

/// Links not followed: downloads, sign-in hand-offs to the identity provider, the API.
fn followed(path: &str) -> bool {
    const SKIP: &[&str] = &[
        "/attachments/",
        "/ledger/exports/",
        "/api/",
        "/assets/",
        "/dev-idp",
        "/login/oidc",
        "/logout",
    ];
    !SKIP.iter().any(|s| path.starts_with(s)) && !path.contains(".xlsx")
}

/// A path's route pattern: ids become `{id}`, authority codes `{code}`, query values dropped.
fn pattern(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let segs: Vec<String> = p
        .split('/')
        .map(|s| {
            if s.len() == 36 && s.matches('-').count() == 4 {
                "{id}".to_string()
            } else if s.len() >= 6 && s.chars().all(|c| c.is_ascii_digit()) {
                "{code}".to_string()
            } else {
                s.to_string()
            }
        })
        .collect();
    let keys: BTreeSet<&str> = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split('=').next().unwrap_or(kv))
        .filter(|k| *k != "done")
        .collect();
    let mut out = segs.join("/");
    if !keys.is_empty() {
        out.push('?');
        out.push_str(&keys.into_iter().collect::<Vec<_>>().join("&"));
    }
    out
}

const ERROR_HEADINGS: &[&str] = &[
    "ページが見つかりません",
    "ログインしてください",
    "この操作はできません",
    "操作を完了できませんでした",
    "システムで問題が発生しました",
];

/// Same-origin links on the page, as paths with their query.
async fn links(b: &Browser) -> Vec<String> {
    let v = b
        .client
        .execute(
            "return [...document.querySelectorAll('a[href]')]
               .map(a => new URL(a.getAttribute('href'), location.href))
               .filter(u => u.origin === location.origin)
               .map(u => u.pathname + u.search);",
            vec![],
        )
        .await
        .expect("links");
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// How many pages of one pattern are visited: a filing as a draft, submitted, returned… look
/// different and link to different pages (pages without ids: one).
fn per_pattern(key: &str) -> usize {
    if key.contains("{id}") { 3 } else { 1 }
}

/// Walks one role's pages; returns the patterns visited.
async fn walk(
    b: &Browser,
    role: &Role,
    skip: &BTreeSet<String>,
    problems: &mut Vec<String>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut visits: std::collections::BTreeMap<String, usize> = Default::default();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = role.start.iter().map(|s| s.to_string()).collect();
    let mut pages = 0;
    while let Some(path) = queue.pop_front() {
        let key = pattern(&path);
        let n = visits.entry(key.clone()).or_default();
        if (skip.contains(&key) && !role.start.contains(&path.as_str()))
            || *n >= per_pattern(&key)
            || !done.insert(path.clone())
        {
            continue;
        }
        *n += 1;
        let instance = *n;
        seen.insert(key.clone());
        pages += 1;
        assert!(pages <= 80, "more than 80 pages for {}: a loop?", role.name);
        b.goto(&path).await;
        let heading = b.heading().await;
        assert!(
            !ERROR_HEADINGS.contains(&heading.as_str()),
            "{} reached an error page at {path} (from the navigation): {heading}",
            role.name
        );
        let stem = shots::file_stem(&key);
        let name = if stem.is_empty() { "home".into() } else { stem };
        let name = if instance == 1 {
            name
        } else {
            format!("{name}-{instance}")
        };
        problems.extend(b.inspect(&format!("pages-{}-{name}", role.name)).await);
        for l in links(b).await {
            let k = pattern(&l);
            if followed(&l) && visits.get(&k).is_none_or(|n| *n < per_pattern(&k)) {
                queue.push_back(l);
            }
        }
    }
    seen
}

#[test]
fn every_page_of_every_role_is_shot_and_checked() {
    harness::run("all_pages", || async {
        let srv = server::start(server::backends()[0]).await;
        // A case in each state: open (八王子市), returned with a comment and an internal note
        // (新宿区), accepted (東京都); and a draft.
        server::submit_manager_change(&srv, server::SHINJUKU, "渡辺　直美").await;
        server::submit_manager_change(&srv, server::HACHIOJI, "小林　陽子").await;
        let shinjuku = srv.api("reviewer-131041").await;
        let case = server::case_ids(&srv, "reviewer-131041").await[0].clone();
        for (body, path) in [
            (
                json!({ "message": "勤務表の4月分を添付してください。" }),
                "comments",
            ),
            (
                json!({ "message": "担当替えのため引継ぎ。", "internal": true }),
                "comments",
            ),
            (
                json!({ "message": "資格証の写しが不鮮明です。", "fields": [] }),
                "return",
            ),
        ] {
            let r = shinjuku
                .post(&format!("/api/v1/cases/{case}/{path}"), &body)
                .await;
            assert!(r.status.is_success(), "{path}: {}", r.text);
        }
        let tokyo = srv.api("reviewer-130001").await;
        let tokyo_case = server::case_ids(&srv, "reviewer-130001").await[0].clone();
        let r = tokyo
            .post(&format!("/api/v1/cases/{tokyo_case}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let provider = srv.api("provider1").await;
        let est = server::establishment_id(&provider, server::SHIBUYA).await;
        let r = provider
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);

        let b = Browser::open(&srv.base_url).await;
        let mut public = BTreeSet::new();
        let mut reviewer = BTreeSet::new();
        let mut report = Vec::new();
        let mut problems = Vec::new();
        for role in ROLES {
            let skip = match role.name {
                "public" => BTreeSet::new(),
                "admin" => public.union(&reviewer).cloned().collect(),
                _ => public.iter().filter(|p| *p != "/").cloned().collect(),
            };
            match role.sign_in {
                None => b.clear_cookies().await,
                Some((login, true)) => b.sign_in_provider(login).await,
                Some((login, false)) => b.sign_in_staff(login).await,
            }
            let seen = walk(&b, role, &skip, &mut problems).await;
            for r in role.required {
                assert!(
                    seen.contains(*r) || skip.contains(*r),
                    "{}: no link leads to {r} (found {seen:?})",
                    role.name
                );
            }
            report.push(format!(
                "{}: {}",
                role.name,
                seen.iter().cloned().collect::<Vec<_>>().join(" ")
            ));
            match role.name {
                "public" => public = seen,
                "reviewer" => reviewer = seen,
                _ => {}
            }
        }

        // EXTRA: pages no link leads to.
        b.clear_cookies().await;
        b.goto("/no-such-page").await;
        assert_eq!(b.heading().await, "ページが見つかりません");
        problems.extend(b.inspect("pages-public-not-found").await);
        b.sign_in_provider("provider1").await;
        b.goto("/filings/new").await;
        b.click("入力をはじめる").await;
        let refused = b.main_text().await;
        assert!(
            refused.contains("入力内容を確認してください")
                && refused.contains("手続を選んでください。"),
            "{refused}"
        );
        problems.extend(b.inspect("pages-provider-new-with-errors").await);

        eprintln!("pages covered:\n  {}", report.join("\n  "));
        assert!(
            problems.is_empty(),
            "{} page problem(s):\n\n{}",
            problems.len(),
            problems.join("\n\n")
        );
        srv.stop().await;
    });
}

#[test]
fn patterns_name_routes() {
    assert_eq!(
        pattern("/cases/01936f1e-8d1c-7a2b-9c3d-4e5f60718293/form"),
        "/cases/{id}/form"
    );
    assert_eq!(
        pattern("/authorities/131041/local-rules"),
        "/authorities/{code}/local-rules"
    );
    assert_eq!(pattern("/inbox?status=returned&done=x"), "/inbox?status");
    assert_eq!(pattern("/"), "/");
    assert!(!followed("/attachments/x") && !followed("/cases/x/form.xlsx") && followed("/inbox"));
}
