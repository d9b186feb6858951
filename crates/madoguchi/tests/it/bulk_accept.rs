//! Bulk acceptance over HTTP: each chosen case is accepted by the ordinary accept use case in
//! its own transaction, so a case that cannot be accepted (withdrawn meanwhile, another
//! authority's) fails alone with its reason and the others are accepted; from the inbox page
//! it goes through a confirmation listing the cases, then a result per case.

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::inbox::{case_at, csrf, file_ehr_subsidy, file_manager_change, today_jst};
use crate::pages::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_accept_reports_the_case_that_fails_and_accepts_the_others() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let p2 = srv.api("provider2").await;
        let today = today_jst().to_string();
        let fa = file_manager_change(&p1, "1370400010", &today).await;
        let fb = file_manager_change(&p2, "1370401059", &today).await;
        let fc = file_ehr_subsidy(&p1).await;
        // D goes to 横浜市, not to 東京都.
        let fd = file_manager_change(&p1, "1471100048", &today).await;
        let (a, _) = case_at(&p1, &fa, "130001").await;
        let (b, _) = case_at(&p2, &fb, "130001").await;
        let (c, _) = case_at(&p1, &fc, "130001").await;
        let (d, _) = case_at(&p1, &fd, "141003").await;
        // B is withdrawn before the reviewer gets to it.
        let r = p2
            .post(
                &format!("/api/v1/filings/{fb}/withdraw"),
                &json!({ "reason": "届出先を誤ったため" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        let tokyo = srv.api("reviewer-130001").await;
        let r = tokyo
            .post(
                "/api/v1/cases/bulk-accept",
                &json!({ "case_ids": [a, b, c, d, a] }),
            )
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results.len(), 4, "each case once: {}", r.text);
        let outcome = |i: usize| {
            (
                results[i]["case_id"].as_str().unwrap().to_string(),
                results[i]["accepted"].as_bool().unwrap(),
                results[i]["error_code"].as_str().map(str::to_owned),
            )
        };
        assert_eq!(outcome(0), (a.clone(), true, None), "[{backend}]");
        assert_eq!(outcome(1), (b.clone(), false, Some("conflict".into())));
        assert!(
            results[1]["error_message"]
                .as_str()
                .unwrap()
                .contains("すでに処理されています"),
            "{}",
            r.text
        );
        assert_eq!(outcome(2), (c.clone(), true, None));
        assert_eq!(outcome(3), (d.clone(), false, Some("not_found".into())));
        assert!(
            results[0]["registry_changes"].as_u64().unwrap() > 0,
            "A changed the registry"
        );

        // Each accepted exactly as a single accept would: status, registry, history, mail.
        let status = |id: &str| {
            let tokyo = tokyo.clone();
            let id = id.to_string();
            async move { tokyo.get(&format!("/api/v1/cases/{id}")).await.body["status"].clone() }
        };
        assert_eq!(status(&a).await, "accepted");
        assert_eq!(status(&b).await, "withdrawn");
        assert_eq!(status(&c).await, "accepted");
        let yokohama = srv.api("reviewer-141003").await;
        let r = yokohama.get(&format!("/api/v1/cases/{d}")).await;
        assert_eq!(
            r.body["status"], "submitted",
            "[{backend}] another authority's case untouched"
        );
        let est = p1
            .get("/api/v1/establishments?office_number=1370400010")
            .await;
        let manager = p1
            .get(&format!(
                "/api/v1/establishments/{}",
                est.body[0]["id"].as_str().unwrap()
            ))
            .await;
        let filed = p1.get(&format!("/api/v1/filings/{fa}")).await;
        let est_id = est.body[0]["id"].as_str().unwrap();
        assert_eq!(
            manager.body["record"]["manager_name"],
            filed.body["data"]["establishments"][est_id]["manager_name"],
            "[{backend}] the accepted change is in the registry"
        );
        // Handled by this reviewer: not unread for them.
        let list = tokyo.get("/api/v1/cases?status=accepted").await;
        assert!(
            list.body
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["unread"] == false),
            "{}",
            list.text
        );

        // Nothing chosen, or too many, is refused naming the field.
        let r = tokyo
            .post("/api/v1/cases/bulk-accept", &json!({ "case_ids": [] }))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "case_ids");
        let many: Vec<String> = (0..101).map(|i| format!("0000{i:04}")).collect();
        let r = tokyo
            .post("/api/v1/cases/bulk-accept", &json!({ "case_ids": many }))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["code"], "too_many");
        // Providers may not.
        let r = p1
            .post("/api/v1/cases/bulk-accept", &json!({ "case_ids": [c] }))
            .await;
        assert_eq!(r.status, 403);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_accept_from_the_inbox_confirms_then_reports_each_case() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let p2 = srv.api("provider2").await;
        let today = today_jst().to_string();
        let fa = file_manager_change(&p1, "1370400010", &today).await;
        let fb = file_manager_change(&p2, "1370401059", &today).await;
        let (a, a_ref) = case_at(&p1, &fa, "130001").await;
        let (b, b_ref) = case_at(&p2, &fb, "130001").await;
        let browser = Browser::new(&srv.base_url);
        browser.login("reviewer-130001").await;
        let (_, _, page) = browser.get("/inbox?status=submitted").await;
        for id in [&a, &b] {
            assert!(
                page.contains(&format!("name=\"case_ids\" value=\"{id}\"")),
                "[{backend}] a checkbox per open case"
            );
        }
        let token = csrf(&page);

        // Nothing chosen: back to the inbox (same view) with the reason.
        let (_, url, page) = browser
            .post(
                "/inbox/bulk-accept",
                &[("csrf_token", &token), ("return_to", "status=submitted")],
            )
            .await;
        assert!(
            url.ends_with("/inbox?status=submitted&done=bulk_none"),
            "{url}"
        );
        assert!(page.contains("受け付ける案件が選ばれていません"));

        // The confirmation lists the chosen cases; nothing is accepted yet.
        let (status, _, page) = browser
            .post(
                "/inbox/bulk-accept",
                &[
                    ("csrf_token", &token),
                    ("case_ids", &a),
                    ("case_ids", &b),
                    ("return_to", "status=submitted"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("一括受付の確認") && page.contains(&a_ref) && page.contains(&b_ref),
            "{page}"
        );
        assert!(page.contains("2件の受付を完了する"));
        let tokyo = srv.api("reviewer-130001").await;
        assert_eq!(
            tokyo.get(&format!("/api/v1/cases/{a}")).await.body["status"],
            "submitted"
        );
        // B is withdrawn while the reviewer reads the confirmation.
        let r = p2
            .post(
                &format!("/api/v1/filings/{fb}/withdraw"),
                &json!({ "reason": "事業所の管理者の就任が取りやめになったため" }),
            )
            .await;
        assert_eq!(r.status, 200);
        let (status, _, page) = browser
            .post(
                "/inbox/bulk-accept",
                &[
                    ("csrf_token", &token),
                    ("confirm", "yes"),
                    ("case_ids", &a),
                    ("case_ids", &b),
                    ("return_to", "status=submitted"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("2件のうち1件を受け付けました"),
            "[{backend}] {page}"
        );
        assert!(
            page.contains("受け付けられませんでした") && page.contains("すでに処理されています")
        );
        assert!(
            page.contains("href=\"/inbox?status=submitted\""),
            "back to the same view"
        );
        assert_eq!(
            tokyo.get(&format!("/api/v1/cases/{a}")).await.body["status"],
            "accepted"
        );
        srv.stop().await;
    }
}
