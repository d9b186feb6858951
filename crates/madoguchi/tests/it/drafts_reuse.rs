//! Filling drafts without typing twice: answers carried over from the previous filing of the
//! same procedure (where the registry has no value), each prefilled answer labelled with its
//! source; a 付表 copied from another establishment's filing; background saving for browsers
//! with JavaScript; several files per requirement, and taking one off.

use madoguchi_testing::{TestServer, backends};
use serde_json::{Value, json};

use crate::common::{attach, establishment_id};
use crate::portal_web::{Web, pdf};

fn source<'a>(filing: &'a Value, path: &str) -> Option<&'a Value> {
    filing["prefill_sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_filing_fills_what_the_registry_lacks_and_says_so() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let hachioji = establishment_id(&api, "1372010031").await;
        let new =
            json!({ "procedure_id": "resumption-notification", "establishment_ids": [hachioji] });
        let r = api.post("/api/v1/filings", &new).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let first = r.body["id"].as_str().unwrap().to_string();
        // Nothing earlier: registry values only, labelled so.
        let name_path = format!("establishments.{hachioji}.establishment_name");
        assert_eq!(
            source(&r.body, &name_path).unwrap()["label"],
            "登録情報から"
        );
        assert!(source(&r.body, &format!("establishments.{hachioji}.office_number")).is_none());
        let mut data = r.body["data"].clone();
        data["fields"]["service_type"] = json!("11");
        data["fields"]["suspended_since"] = json!("2026-08-01");
        data["fields"]["resume_date"] = json!("2026-10-01");
        let e = &mut data["establishments"][&hachioji];
        e["office_number"] = json!("1372010031");
        e["business_days"] = json!(["mon", "tue", "wed", "thu", "fri", "sat"]);
        e["business_hours"] = json!("07:00-21:00");
        e["staff_count"] = json!(12);
        let r = api
            .put(
                &format!("/api/v1/filings/{first}"),
                &json!({ "data": data, "lock_version": 0 }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        attach(&api, &first, "roster", "勤務表").await;
        attach(&api, &first, "operating_rules", "運営規程").await;
        let r = api
            .post(&format!("/api/v1/filings/{first}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        let reference = r.body["filing"]["reference"].as_str().unwrap().to_string();

        // The next one for the same establishment starts from it.
        let r = api.post("/api/v1/filings", &new).await;
        let second = r.body["id"].as_str().unwrap().to_string();
        let e = &r.body["data"]["establishments"][&hachioji];
        assert_eq!(e["office_number"], "1372010031", "[{backend}]");
        assert_eq!(
            e["business_days"],
            json!(["mon", "tue", "wed", "thu", "fri", "sat"])
        );
        assert_eq!(e["staff_count"], 12);
        assert!(
            r.body["data"]["fields"]["resume_date"].is_null(),
            "[{backend}] what the filing is about is not carried"
        );
        let label = format!("前回の届出（到達番号 {reference}）から");
        let office = source(&r.body, &format!("establishments.{hachioji}.office_number")).unwrap();
        assert_eq!(office["source"], "previous");
        assert_eq!(office["label"], label.as_str());
        assert_eq!(source(&r.body, &name_path).unwrap()["source"], "registry");
        // Another establishment has no earlier filing: nothing carried.
        let shinjuku = establishment_id(&api, "1370400010").await;
        let r2 = api
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "resumption-notification", "establishment_ids": [shinjuku] }),
            )
            .await;
        assert!(r2.body["data"]["establishments"][&shinjuku]["office_number"].is_null());

        // The form labels each prefilled answer with its source.
        let mut web = Web::provider(&srv.base_url, "provider1").await;
        let page = web.get(&format!("/filings/{second}/edit")).await;
        assert!(page.html.contains(&label), "[{backend}] {}", page.html);
        assert!(page.html.contains("登録情報から"));
        // Once changed, an answer is the provider's own: no label.
        let mut data = r.body["data"].clone();
        data["establishments"][&hachioji]["staff_count"] = json!(13);
        data["establishments"][&hachioji]["office_number"] = json!("1370400010");
        let r = api
            .put(
                &format!("/api/v1/filings/{second}"),
                &json!({ "data": data, "lock_version": r.body["lock_version"] }),
            )
            .await;
        assert!(source(&r.body, &format!("establishments.{hachioji}.office_number")).is_none());
        assert!(
            source(
                &r.body,
                &format!("establishments.{hachioji}.business_hours")
            )
            .is_some()
        );
        let page = web.get(&format!("/filings/{second}/edit")).await;
        assert_eq!(
            page.html.matches(&label).count(),
            2,
            "[{backend}] 営業日 and 営業時間 still carried, 事業所番号 and 従業者数 changed"
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_annex_is_copied_from_another_establishment() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let yokohama = establishment_id(&api, "1471100048").await;
        let annex = json!({
            "tk_business_days": ["mon", "tue", "wed", "thu", "fri"],
            "tk_business_hours": "08:30-17:30",
            "tk_service_hours": "09:30-16:30",
            "tk_service_area": "新宿区全域",
            "tk_floor_area": 120.5,
            "tk_has_consultation_room": true,
            "tk_has_bath": false,
            "tk_staff": [{ "tk_job": "care", "tk_employment": "full_time", "tk_dedication": "dedicated", "tk_headcount": 3, "tk_weekly_hours": 120 }]
        });
        let r = api
            .post(
                "/api/v1/filings",
                &json!({
                    "procedure_id": "designation-application",
                    "establishment_ids": [shinjuku],
                    "data": { "fields": { "service_types": ["15"] }, "establishments": { shinjuku.clone(): annex } }
                }),
            )
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        let source_id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(
            r.body["data"]["establishments"][&shinjuku]["tk_capacity"],
            30
        );
        let r = api
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "designation-application", "establishment_ids": [yokohama] }),
            )
            .await;
        let target = r.body["id"].as_str().unwrap().to_string();

        let r = api
            .get(&format!("/api/v1/filings/{target}/annex-sources"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let sources = r.body.as_array().unwrap();
        assert_eq!(sources.len(), 1, "[{backend}] {}", r.text);
        assert_eq!(sources[0]["filing_id"], source_id.as_str());
        assert_eq!(sources[0]["establishment_name"], "さくらデイサービス新宿");
        assert_eq!(sources[0]["services"][0]["code"], "15");

        // Refusals, by name.
        let other = srv.api("provider2").await;
        let foreign = other
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "designation-application",
                         "establishment_ids": [establishment_id(&other, "1370401059").await] }),
            )
            .await;
        let foreign = foreign.body["id"].as_str().unwrap().to_string();
        for (body, field, code) in [
            (
                json!({ "source_filing_id": foreign, "source_establishment_id": shinjuku, "service_type": "15" }),
                "source_filing_id",
                "unknown_source",
            ),
            (
                json!({ "source_filing_id": source_id, "source_establishment_id": shinjuku, "service_type": "99" }),
                "service_type",
                "unknown_annex",
            ),
            (
                json!({ "source_filing_id": source_id, "source_establishment_id": shinjuku, "service_type": "43" }),
                "service_type",
                "nothing_to_copy",
            ),
        ] {
            let r = api
                .post(&format!("/api/v1/filings/{target}/copy-annex"), &body)
                .await;
            assert_eq!(r.status, 422, "[{backend}] {body}: {}", r.text);
            assert_eq!(r.body["error"]["fields"][0]["field"], field);
            assert_eq!(r.body["error"]["fields"][0]["code"], code);
        }

        // Copy through the page, without JavaScript.
        let mut web = Web::provider(&srv.base_url, "provider1").await;
        let edit = web.get(&format!("/filings/{target}/edit")).await;
        assert!(edit.html.contains(&format!("/filings/{target}/copy-annex")));
        let page = web.get(&format!("/filings/{target}/copy-annex")).await;
        assert!(page.html.contains("通所介護の付表"), "{}", page.html);
        assert!(page.html.contains("さくらデイサービス新宿（下書き）"));
        let value = format!("{source_id}|{shinjuku}|15");
        let page = web
            .post(
                &format!("/filings/{target}/copy-annex"),
                &[("source".into(), value)],
            )
            .await;
        assert!(
            page.url.ends_with("/edit?done=annex_copied"),
            "[{backend}] {}",
            page.url
        );
        assert!(
            page.html
                .contains("さくらデイサービス新宿の下書きの付表から写し")
        );
        let f = api.get(&format!("/api/v1/filings/{target}")).await;
        let mine = &f.body["data"]["establishments"][&yokohama];
        assert_eq!(f.body["data"]["fields"]["service_types"], json!(["15"]));
        assert_eq!(mine["tk_service_area"], "新宿区全域");
        assert_eq!(mine["tk_floor_area"], 120.5);
        assert_eq!(mine["tk_staff"][0]["tk_headcount"], 3);
        assert_eq!(
            mine["tk_capacity"], 25,
            "[{backend}] 横浜's own 利用定員 kept"
        );
        let s = source(
            &f.body,
            &format!("establishments.{yokohama}.tk_service_area"),
        )
        .unwrap();
        assert_eq!(s["source"], "annex");
        // A choice that is not offered is refused politely.
        let page = web
            .post(
                &format!("/filings/{target}/copy-annex"),
                &[("source".into(), "x".into())],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.html.contains("写す付表を選んでください"));
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_save_in_the_background_and_take_several_files() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let r = api
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [shinjuku] }),
            )
            .await;
        let id = r.body["id"].as_str().unwrap().to_string();
        let mut web = Web::provider(&srv.base_url, "provider1").await;
        let page = web.get(&format!("/filings/{id}/edit")).await;
        assert!(
            page.html
                .contains(&format!("data-autosave=\"/filings/{id}/autosave\""))
        );
        let script = crate::portal_web::attr_after(&page.html, "<script src=\"").unwrap();
        assert!(script.starts_with("/assets/autosave.js?v="), "{script}");
        let js = web
            .client
            .get(format!("{}{script}", srv.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(js.status(), 200);
        assert!(
            js.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert!(js.text().await.unwrap().contains("自動保存しました"));
        // No inline script: the CSP allows only our own files.
        assert!(!page.html.contains("<script>"));

        // A background save answers JSON with the new lock version and the time.
        let form = |lock: &str, date: &str| {
            vec![
                ("lock_version".to_string(), lock.to_string()),
                ("_present".to_string(), "fields.change_date".to_string()),
                ("fields.change_date".to_string(), date.to_string()),
            ]
        };
        let mut all = vec![("csrf_token".to_string(), web.csrf.clone())];
        all.extend(form("0", "2026-11-30"));
        let r = web
            .client
            .post(format!("{}/filings/{id}/autosave", srv.base_url))
            .form(&all)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "[{backend}]");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["lock_version"], 1);
        let at = body["saved_at"].as_str().unwrap();
        assert!(at.len() == 5 && at.as_bytes()[2] == b':', "{at}");
        let f = api.get(&format!("/api/v1/filings/{id}")).await;
        assert_eq!(f.body["data"]["fields"]["change_date"], "2026-11-30");
        // A stale page is told, not overwritten.
        let mut all = vec![("csrf_token".to_string(), web.csrf.clone())];
        all.extend(form("0", "2026-12-31"));
        let r = web
            .client
            .post(format!("{}/filings/{id}/autosave", srv.base_url))
            .form(&all)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("開き直して"));
        // Without the CSRF token nothing is saved.
        let r = web
            .client
            .post(format!("{}/filings/{id}/autosave", srv.base_url))
            .form(&form("1", "2027-01-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let f = api.get(&format!("/api/v1/filings/{id}")).await;
        assert_eq!(f.body["data"]["fields"]["change_date"], "2026-11-30");
        assert_eq!(f.body["lock_version"], 1);

        // Several files for one requirement in one go, and one taken off again.
        let p = web
            .post_files(
                &format!("/filings/{id}/attachments"),
                &[("requirement_id", "other")],
                &[("a.pdf", pdf("a")), ("b.pdf", pdf("b"))],
            )
            .await;
        assert!(p.url.contains("done=uploaded"), "[{backend}] {}", p.html);
        let f = api.get(&format!("/api/v1/filings/{id}")).await;
        let files = f.body["attachments"].as_array().unwrap();
        assert_eq!(files.len(), 2, "[{backend}] {}", f.text);
        let a = files.iter().find(|x| x["filename"] == "a.pdf").unwrap()["attachment_id"]
            .as_str()
            .unwrap()
            .to_string();
        let p = web
            .post(
                &format!("/filings/{id}/attachments/remove"),
                &[
                    ("attachment_id".into(), a.clone()),
                    ("requirement_id".into(), "other".into()),
                ],
            )
            .await;
        assert!(p.url.contains("done=file_removed"), "{}", p.url);
        assert!(p.html.contains("ファイルを外しました"));
        let f = api.get(&format!("/api/v1/filings/{id}")).await;
        let files = f.body["attachments"].as_array().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0]["filename"], "b.pdf");
        // The removed upload can still be reused.
        let p = web
            .post_files(
                &format!("/filings/{id}/attachments"),
                &[("requirement_id", "pledge"), ("reuse_attachment_id", &a)],
                &[],
            )
            .await;
        assert!(p.url.contains("done=uploaded"), "{}", p.html);
        let p = web
            .post(
                &format!("/filings/{id}/attachments/remove"),
                &[
                    ("attachment_id".into(), a.clone()),
                    ("requirement_id".into(), "other".into()),
                ],
            )
            .await;
        assert_eq!(p.status, 404, "[{backend}] already removed");
        srv.stop().await;
    }
}
