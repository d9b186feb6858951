//! The reviewer's inbox over HTTP: every filter narrows the list (procedure, service type,
//! status, assignee, due date, free text including one- and two-character Japanese), the
//! orders and keyset pages, unread / "changed since I last looked" markers per reviewer,
//! saved filters, the page without JavaScript, and the query plans of the inbox's orders.

use std::collections::BTreeSet;

use madoguchi_testing::{Api, TestServer, backends};
use serde_json::{Value, json};

use crate::common::{attach, establishment_id};
use crate::pages::Browser;

/// Today in Japan (the server's "today" for due dates).
pub(crate) fn today_jst() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive()
}

fn day(offset: i64) -> String {
    (today_jst() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// Attaches a file for every requirement the filing still misses.
pub(crate) async fn attach_missing(api: &Api, id: &str) {
    let r = api.get(&format!("/api/v1/filings/{id}")).await;
    for p in r.body["problems"].as_array().unwrap() {
        if let Some(req) = p["field"].as_str().unwrap().strip_prefix("attachments.") {
            attach(api, id, req, req).await;
        }
    }
    let r = api.get(&format!("/api/v1/filings/{id}")).await;
    assert_eq!(r.body["problems"], json!([]), "{}", r.text);
}

/// Files and submits a 管理者 change (変更届) for one of the provider's establishments, the
/// change dated `change_date`; returns the filing id.
pub(crate) async fn file_manager_change(api: &Api, office: &str, change_date: &str) -> String {
    let est = establishment_id(api, office).await;
    let r = api
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let catalog = madoguchi_core::catalog::embedded_catalog().unwrap();
    let def = catalog
        .get(
            "change-notification",
            r.body["procedure_version"].as_str().unwrap(),
        )
        .unwrap();
    let mut data = def.sample_data(std::slice::from_ref(&est));
    data.fields
        .insert("change_items".into(), json!(["manager"]));
    data.fields.insert("change_date".into(), json!(change_date));
    let r = api
        .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    attach_missing(api, &id).await;
    let r = api
        .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// Files and submits an EHR subsidy application (to 東京都, no establishment); returns the
/// filing id.
pub(crate) async fn file_ehr_subsidy(api: &Api) -> String {
    let r = api
        .post("/api/v1/filings", &json!({ "procedure_id": "ehr-subsidy" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let catalog = madoguchi_core::catalog::embedded_catalog().unwrap();
    let def = catalog.latest("ehr-subsidy").unwrap();
    let data = def.sample_data(&[]);
    let r = api
        .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    attach_missing(api, &id).await;
    let r = api
        .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// The case of a filing at one authority, as the provider sees it: (case id, reference).
pub(crate) async fn case_at(api: &Api, filing_id: &str, authority: &str) -> (String, String) {
    let r = api.get(&format!("/api/v1/filings/{filing_id}")).await;
    let c = r.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["authority_code"] == authority)
        .unwrap_or_else(|| panic!("no case at {authority}: {}", r.text))
        .clone();
    (
        c["id"].as_str().unwrap().to_string(),
        c["reference"].as_str().unwrap().to_string(),
    )
}

/// The ids of an inbox answer, in order.
pub(crate) fn ids(r: &Value) -> Vec<String> {
    r.as_array()
        .unwrap_or_else(|| panic!("an inbox list: {r}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(v: &[&String]) -> BTreeSet<String> {
    v.iter().map(|s| (*s).clone()).collect()
}

/// A reviewer's bearer token and the server, for reading response headers.
struct Raw {
    base: String,
    token: String,
}

impl Raw {
    async fn new(srv: &TestServer, login: &str) -> Raw {
        Raw {
            base: srv.base_url.clone(),
            token: madoguchi_core::auth::issue_token(&srv.app, login, "test")
                .await
                .unwrap(),
        }
    }

    /// The ids of an inbox page and its `Link` header's target for `rel`, if any.
    async fn link(&self, path: &str, rel: &str) -> (Vec<String>, Option<String>) {
        let r = reqwest::Client::new()
            .get(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = r
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value = r.json().await.unwrap();
        let target = header.and_then(|h| {
            h.split(", ")
                .find(|l| l.ends_with(&format!("rel=\"{rel}\"")))
                .map(|l| l[1..l.find('>').unwrap()].to_string())
        });
        (ids(&body), target)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_inbox_filter_narrows_the_list() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let p2 = srv.api("provider2").await;
        let tokyo = srv.api("reviewer-130001").await;
        // A: さくら福祉会's 新宿 day service (通所介護 15), changed 20 days ago: overdue.
        let fa = file_manager_change(&p1, "1370400010", &day(-20)).await;
        // B: ひまわりケア's 新宿 home help (訪問介護 11), changed 5 days ago: due within 7 days.
        let fb = file_manager_change(&p2, "1370401059", &day(-5)).await;
        // C: さくら福祉会's EHR subsidy (no establishment, no service).
        let fc = file_ehr_subsidy(&p1).await;
        let (a, _) = case_at(&p1, &fa, "130001").await;
        let (b, b_ref) = case_at(&p2, &fb, "130001").await;
        let (c, _) = case_at(&p1, &fc, "130001").await;
        let list = |q: &str| {
            let tokyo = tokyo.clone();
            let q = q.to_string();
            async move {
                let r = tokyo.get(&format!("/api/v1/cases?{q}")).await;
                assert_eq!(r.status, 200, "[{backend}] {q}: {}", r.text);
                ids(&r.body)
            }
        };
        let all = list("").await;
        assert_eq!(
            set(&all.iter().collect::<Vec<_>>()),
            set(&[&a, &b, &c]),
            "[{backend}]"
        );

        // Procedure.
        assert_eq!(list("procedure=ehr-subsidy").await, vec![c.clone()]);
        assert_eq!(
            set(&list("procedure=change-notification")
                .await
                .iter()
                .collect::<Vec<_>>()),
            set(&[&a, &b])
        );
        // Service type.
        assert_eq!(
            list("service=11").await,
            vec![b.clone()],
            "[{backend}] 訪問介護"
        );
        assert_eq!(
            list("service=15").await,
            vec![a.clone()],
            "[{backend}] 通所介護"
        );
        assert_eq!(list("service=43").await, Vec::<String>::new());
        // Due date.
        assert_eq!(list("due=overdue").await, vec![a.clone()], "[{backend}]");
        assert_eq!(list("due=due_soon").await, vec![b.clone()], "[{backend}]");
        // Free text: one and two Japanese characters, full/half width, numbers, words.
        assert_eq!(
            list("q=%E3%81%B2").await,
            vec![b.clone()],
            "[{backend}] 「ひ」"
        );
        assert_eq!(
            set(&list("q=%E6%96%B0%E5%AE%BF")
                .await
                .iter()
                .collect::<Vec<_>>()),
            set(&[&a, &b]),
            "[{backend}] 「新宿」"
        );
        assert_eq!(
            set(&list("q=%EF%BD%BB%EF%BD%B8%EF%BE%97")
                .await
                .iter()
                .collect::<Vec<_>>()),
            set(&[&a, &c]),
            "[{backend}] half-width 「ｻｸﾗ」 finds the reading サクラ"
        );
        assert_eq!(
            list(&format!("q={b_ref}")).await,
            vec![b.clone()],
            "[{backend}] 到達番号"
        );
        assert_eq!(
            list("q=1370401059").await,
            vec![b.clone()],
            "[{backend}] 事業所番号"
        );
        assert_eq!(
            list("q=%EF%BC%91%EF%BC%93%EF%BC%97%EF%BC%90%EF%BC%94%EF%BC%90%EF%BC%91").await,
            vec![b.clone()],
            "[{backend}] full-width digits 「１３７０４０１」"
        );
        assert_eq!(
            list("q=%E6%96%B0%E5%AE%BF+%E3%81%B2%E3%81%BE%E3%82%8F%E3%82%8A").await,
            vec![b.clone()],
            "[{backend}] every word must match: 「新宿 ひまわり」"
        );
        // LIKE wildcards are text, not patterns.
        assert_eq!(list("q=%25").await, Vec::<String>::new(), "[{backend}] %");
        assert_eq!(list("q=_").await, Vec::<String>::new(), "[{backend}] _");

        // Assignee: me, nobody, a colleague.
        let admin = srv.api("admin-130001").await;
        let admin_id = admin.get("/api/v1/me").await.body["user_id"]
            .as_str()
            .unwrap()
            .to_string();
        let me = tokyo.get("/api/v1/me").await.body["user_id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{b}/assign"),
                &json!({ "assignee_id": me }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{c}/assign"),
                &json!({ "assignee_id": admin_id }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(list("assignee=me").await, vec![b.clone()], "[{backend}]");
        assert_eq!(list("assignee=none").await, vec![a.clone()], "[{backend}]");
        assert_eq!(list(&format!("assignee={admin_id}")).await, vec![c.clone()]);

        // Status, and filters together.
        let r = tokyo
            .post(&format!("/api/v1/cases/{a}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            list("status=accepted").await,
            vec![a.clone()],
            "[{backend}]"
        );
        assert_eq!(
            set(&list("status=submitted").await.iter().collect::<Vec<_>>()),
            set(&[&b, &c])
        );
        assert_eq!(
            list("status=submitted&service=11&assignee=me").await,
            vec![b.clone()]
        );
        assert_eq!(list("status=returned").await, Vec::<String>::new());
        // Overdue means open: the accepted case is no longer overdue.
        assert_eq!(list("due=overdue").await, Vec::<String>::new());

        // Another authority sees none of these.
        let shibuya = srv.api("reviewer-131130").await;
        let r = shibuya.get("/api/v1/cases?q=%E3%81%B2").await;
        assert!(!ids(&r.body).contains(&b), "[{backend}] tenancy");

        // Bad values are refused naming the parameter.
        for (q, field) in [
            ("status=bogus", "status"),
            ("service=ZZ", "service"),
            ("procedure=nope", "procedure"),
            ("due=tomorrow", "due"),
            ("sort=name", "sort"),
            ("order=up", "order"),
            ("assignee=%3Cscript%3E", "assignee"),
            ("unread=yes", "unread"),
            ("after=garbage", "after"),
            ("after=1.a&before=1.a", "after"),
            ("limit=0", "limit"),
            ("q=a+b+c+d+e+f", "q"),
        ] {
            let r = tokyo.get(&format!("/api/v1/cases?{q}")).await;
            assert_eq!(r.status, 422, "[{backend}] {q}: {}", r.text);
            assert_eq!(r.body["error"]["fields"][0]["field"], field, "{q}");
        }
        let long = "あ".repeat(101);
        let r = tokyo.get(&format!("/api/v1/cases?q={long}")).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["code"], "too_long");
        let _ = fc;
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_keyset_pages() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let p2 = srv.api("provider2").await;
        let tokyo = srv.api("reviewer-130001").await;
        let fa = file_manager_change(&p1, "1370400010", &day(-20)).await;
        let fb = file_manager_change(&p2, "1370401059", &day(-5)).await;
        let fc = file_ehr_subsidy(&p1).await;
        let (a, _) = case_at(&p1, &fa, "130001").await;
        let (b, _) = case_at(&p2, &fb, "130001").await;
        let (c, _) = case_at(&p1, &fc, "130001").await;
        let get = |q: &str| {
            let tokyo = tokyo.clone();
            let q = q.to_string();
            async move { ids(&tokyo.get(&format!("/api/v1/cases?{q}")).await.body) }
        };
        assert_eq!(
            get("sort=received&order=asc").await,
            [a.clone(), b.clone(), c.clone()],
            "[{backend}]"
        );
        assert_eq!(
            get("sort=received").await,
            [c.clone(), b.clone(), a.clone()],
            "[{backend}] newest first"
        );
        // Latest change first by default: accepting A makes it the newest.
        let r = tokyo
            .post(&format!("/api/v1/cases/{a}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            get("").await[0],
            a,
            "[{backend}] default: latest change first"
        );
        // Due date: earliest first, cases without one last (C has none, or a later one).
        let due = get("sort=due").await;
        assert_eq!(due[..2], [a.clone(), b.clone()], "[{backend}] {due:?}");
        let due_desc = get("sort=due&order=desc").await;
        assert_eq!(due_desc.last(), Some(&a), "[{backend}] {due_desc:?}");

        // Keyset pages of one: next, next, then back.
        let raw = Raw::new(&srv, "reviewer-130001").await;
        let (page1, next) = raw
            .link("/api/v1/cases?sort=received&order=asc&limit=1", "next")
            .await;
        assert_eq!(page1, vec![a.clone()], "[{backend}]");
        let next = next.expect("a next page");
        assert!(
            next.contains("sort=received") && next.contains("limit=1"),
            "{next}"
        );
        let (page2, next2) = raw.link(&next, "next").await;
        assert_eq!(page2, vec![b.clone()], "[{backend}]");
        let (_, prev2) = raw.link(&next, "prev").await;
        let (back, _) = raw.link(&prev2.expect("a previous page"), "next").await;
        assert_eq!(back, vec![a.clone()], "[{backend}] back to the first page");
        let (page3, next3) = raw.link(&next2.expect("a third page"), "next").await;
        assert_eq!(page3, vec![c.clone()], "[{backend}]");
        assert_eq!(next3, None, "[{backend}] the last page has no next");
        // Due-date order pages too (its cursor is a date).
        let (d1, dnext) = raw.link("/api/v1/cases?sort=due&limit=2", "next").await;
        assert_eq!(d1, [a.clone(), b.clone()]);
        let (d2, _) = raw.link(&dnext.expect("next due page"), "next").await;
        assert_eq!(d2, vec![c.clone()], "[{backend}]");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_and_changed_markers_are_per_reviewer() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let tokyo = srv.api("reviewer-130001").await;
        let admin = srv.api("admin-130001").await;
        let f = file_manager_change(&p1, "1370400010", &day(0)).await;
        let (a, _) = case_at(&p1, &f, "130001").await;
        let item = |api: &Api| {
            let api = api.clone();
            async move { api.get("/api/v1/cases").await.body[0].clone() }
        };
        let it = item(&tokyo).await;
        assert_eq!(
            (it["unread"].clone(), it["changed_since_seen"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!(
            ids(&tokyo.get("/api/v1/cases?unread=1").await.body),
            vec![a.clone()]
        );

        // Opening the case marks it read, for this reviewer only.
        assert_eq!(tokyo.get(&format!("/api/v1/cases/{a}")).await.status, 200);
        let it = item(&tokyo).await;
        assert_eq!(
            (it["unread"].clone(), it["changed_since_seen"].clone()),
            (json!(false), json!(false)),
            "[{backend}]"
        );
        assert_eq!(
            ids(&tokyo.get("/api/v1/cases?unread=1").await.body),
            Vec::<String>::new()
        );
        assert_eq!(
            item(&admin).await["unread"],
            true,
            "[{backend}] per reviewer"
        );

        // The reviewer's own note is no news to them.
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{a}/comments"),
                &json!({ "message": "確認中です", "internal": true }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            item(&tokyo).await["changed_since_seen"],
            false,
            "[{backend}]"
        );

        // The provider's message is: "changed since I last looked".
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let r = p1
            .post(
                &format!("/api/v1/cases/{a}/comments"),
                &json!({ "message": "管理者の資格証を追加で送ります。" }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let it = item(&tokyo).await;
        assert_eq!(
            (it["unread"].clone(), it["changed_since_seen"].clone()),
            (json!(false), json!(true)),
            "[{backend}]"
        );

        // The page shows the marker; opening the case page clears it.
        let browser = Browser::new(&srv.base_url);
        browser.login("reviewer-130001").await;
        let (_, _, page) = browser.get("/inbox").await;
        // (The list's legend shows each marker once; rows add theirs.)
        let changed = |page: &str| {
            page.matches("marker marker--changed\">前回確認後に更新")
                .count()
                - 1
        };
        let unread = |page: &str| page.matches("marker marker--unread\">未読").count() - 1;
        assert_eq!((changed(&page), unread(&page)), (1, 0), "{page}");
        let (status, _, _) = browser.get(&format!("/cases/{a}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            item(&tokyo).await["changed_since_seen"],
            false,
            "[{backend}]"
        );
        let (_, _, page) = browser.get("/inbox").await;
        assert_eq!(changed(&page), 0, "[{backend}] opened again");
        let admin_page = Browser::new(&srv.base_url);
        admin_page.login("admin-130001").await;
        let (_, _, page) = admin_page.get("/inbox").await;
        assert_eq!(unread(&page), 1, "[{backend}] still unread for a colleague");
        srv.stop().await;
    }
}

/// The value of the first `name="csrf_token"` input of a page.
pub(crate) fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("csrf token on page")
        + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_filters_are_each_reviewer_s_own() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let tokyo = srv.api("reviewer-130001").await;
        let admin = srv.api("admin-130001").await;
        let r = tokyo
            .post(
                "/api/v1/saved-filters",
                &json!({ "name": "期限切れの審査待ち", "query": "due=overdue&status=submitted&after=1.ab" }),
            )
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        assert_eq!(
            r.body["query"], "status=submitted&due=overdue",
            "canonical, no paging"
        );
        let id = r.body["id"].as_str().unwrap().to_string();
        let r = tokyo
            .post(
                "/api/v1/saved-filters",
                &json!({ "name": "期限切れの審査待ち", "query": "status=returned" }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "name");
        for (body, field) in [
            (json!({ "name": "", "query": "status=returned" }), "name"),
            (json!({ "name": "x", "query": "" }), "query"),
            (json!({ "name": "x", "query": "status=bogus" }), "status"),
        ] {
            let r = tokyo.post("/api/v1/saved-filters", &body).await;
            assert_eq!(r.status, 422, "{body}: {}", r.text);
            assert_eq!(r.body["error"]["fields"][0]["field"], field, "{body}");
        }
        assert_eq!(
            tokyo
                .get("/api/v1/saved-filters")
                .await
                .body
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(admin.get("/api/v1/saved-filters").await.body, json!([]));
        let r = admin
            .request(
                reqwest::Method::DELETE,
                &format!("/api/v1/saved-filters/{id}"),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 404, "[{backend}] not another reviewer's");

        // The page lists it as a link; saving and deleting from the page.
        let browser = Browser::new(&srv.base_url);
        browser.login("reviewer-130001").await;
        let (_, _, page) = browser.get("/inbox").await;
        assert!(
            page.contains("href=\"/inbox?status=submitted&#38;due=overdue\"")
                && page.contains("期限切れの審査待ち"),
            "{page}"
        );
        let (_, _, page) = browser.get("/inbox?service=11&assignee=none").await;
        assert!(page.contains("今の条件に名前を付けて保存する"));
        let token = csrf(&page);
        let (status, url, page) = browser
            .post(
                "/inbox/filters",
                &[
                    ("csrf_token", &token),
                    ("name", "訪問介護の未割当"),
                    ("query", "service=11&assignee=none"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            url.ends_with("service=11&assignee=none&done=filter_saved"),
            "{url}"
        );
        assert!(page.contains("条件を保存しました") && page.contains("訪問介護の未割当"));
        // A name in use is refused on the page, with the reason beside the field.
        let (status, _, page) = browser
            .post(
                "/inbox/filters",
                &[
                    ("csrf_token", &token),
                    ("name", "訪問介護の未割当"),
                    ("query", "service=11"),
                ],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("という名前の条件がすでにあります"), "{page}");
        // Deleting asks first.
        let (status, _, page) = browser
            .post(
                &format!("/inbox/filters/{id}/delete"),
                &[("csrf_token", &token)],
            )
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("保存した条件を削除しますか"));
        assert_eq!(
            tokyo
                .get("/api/v1/saved-filters")
                .await
                .body
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let (_, url, _) = browser
            .post(
                &format!("/inbox/filters/{id}/delete"),
                &[("csrf_token", &token), ("confirm", "yes")],
            )
            .await;
        assert!(url.ends_with("done=filter_deleted"), "{url}");
        let left = tokyo.get("/api/v1/saved-filters").await.body;
        assert_eq!(left.as_array().unwrap().len(), 1);
        assert_eq!(left[0]["name"], "訪問介護の未割当");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_page_filters_without_javascript() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let p2 = srv.api("provider2").await;
        let fa = file_manager_change(&p1, "1370400010", &day(-20)).await;
        let fb = file_manager_change(&p2, "1370401059", &day(-5)).await;
        let (_, a_ref) = case_at(&p1, &fa, "130001").await;
        let (_, b_ref) = case_at(&p2, &fb, "130001").await;
        let browser = Browser::new(&srv.base_url);
        browser.login("reviewer-130001").await;
        let (status, _, page) = browser.get("/inbox").await;
        assert_eq!(status, 200);
        assert!(
            page.contains(&a_ref) && page.contains(&b_ref),
            "[{backend}]"
        );
        assert!(page.contains("さくらデイサービス新宿") && page.contains("訪問介護"));
        // One Japanese character, as the form sends it.
        let (_, _, page) = browser
            .get(
                "/inbox?q=%E3%81%B2&status=&procedure=&service=&assignee=&due=&sort=updated&order=",
            )
            .await;
        assert!(
            page.contains(&b_ref) && !page.contains(&a_ref),
            "[{backend}] 「ひ」"
        );
        assert!(
            page.contains("value=\"ひ\""),
            "the form shows the query back"
        );
        let (_, _, page) = browser.get("/inbox?service=15").await;
        assert!(
            page.contains(&a_ref) && !page.contains(&b_ref),
            "[{backend}]"
        );
        let (_, _, page) = browser.get("/inbox?due=due_soon").await;
        assert!(page.contains(&b_ref) && !page.contains(&a_ref));
        // Sortable headers say how the list is sorted.
        let (_, _, page) = browser.get("/inbox?sort=due").await;
        assert!(page.contains("aria-sort=\"ascending\""), "{page}");
        let first = page.find(&a_ref).unwrap();
        assert!(first < page.find(&b_ref).unwrap(), "earliest due first");
        // A bad value is explained, not a crash.
        let (status, _, page) = browser.get("/inbox?status=bogus").await;
        assert_eq!(status, 422);
        assert!(page.contains("状態は submitted") && page.contains("入力内容を確認してください"));
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_orders_come_from_indexes_without_a_sort_step() {
    use madoguchi_db::inbox::{AssigneeFilter, CursorKey, InboxFilter, SortKey, explain};
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let base = InboxFilter {
            authority_code: "130001".into(),
            viewer_id: "u".into(),
            status: None,
            procedure_id: None,
            service_code: None,
            assignee: None,
            due_from: None,
            due_to: None,
            unread_only: false,
            text_patterns: Vec::new(),
            sort: SortKey::Updated,
            descending: true,
            cursor: None,
            backwards: false,
            limit: 51,
        };
        let mut variants = Vec::new();
        for sort in [SortKey::Updated, SortKey::Received, SortKey::Due] {
            for status in [None, Some("submitted".to_string())] {
                for cursor in [false, true] {
                    let mut f = base.clone();
                    f.sort = sort;
                    f.descending = sort != SortKey::Due;
                    f.status = status.clone();
                    if cursor {
                        f.cursor = Some((
                            match sort {
                                SortKey::Due => CursorKey::Date("2026-01-01".into()),
                                _ => CursorKey::Time(1),
                            },
                            "0".into(),
                        ));
                    }
                    variants.push(f);
                }
            }
        }
        let mut assigned = base.clone();
        assigned.assignee = Some(AssigneeFilter::User("u".into()));
        variants.push(assigned);
        let mut text = base.clone();
        text.text_patterns = vec!["%新%".into()];
        variants.push(text);
        // 7日以内 / 期限切れ in due order: one range of the open-cases index (migration 0012).
        let mut due_soon = base.clone();
        due_soon.sort = SortKey::Due;
        due_soon.descending = false;
        due_soon.due_from = Some("2026-11-22".into());
        due_soon.due_to = Some("2026-11-29".into());
        variants.push(due_soon.clone());
        due_soon.due_from = None;
        variants.push(due_soon);
        for f in variants {
            let mut tx = srv.app.db.begin_read().await.unwrap();
            let plan = explain(&mut tx, &f, true).await.unwrap();
            tx.rollback().await.unwrap();
            let text = plan.join("\n");
            match backend {
                madoguchi_testing::TestBackend::Sqlite => {
                    assert!(
                        !text.contains("TEMP B-TREE") && text.contains("cases_inbox_"),
                        "[{backend}] {:?} status {:?}:\n{text}",
                        f.sort,
                        f.status
                    );
                }
                madoguchi_testing::TestBackend::Postgres => {
                    assert!(
                        !text.lines().any(
                            |l| l.trim_start().starts_with("->  Sort") || l.starts_with("Sort")
                        ) && text.contains("cases_inbox_"),
                        "[{backend}] {:?} status {:?}:\n{text}",
                        f.sort,
                        f.status
                    );
                }
            }
        }
        srv.stop().await;
    }
}
