//! Procedures as data, through HTTP: local rules (published, required of their own authority
//! only), due dates per authority and the inbox's due filters, moving a draft to the newer
//! form version, and a procedure outside designations (the EHR subsidy) routed to its one
//! authority with computed amounts.

use madoguchi_testing::{Api, TestServer, backends};
use serde_json::{Value, json};

use crate::common::{FANOUT, attach, establishment_id};

/// Attaches a file for every requirement the filing still misses.
async fn attach_missing(api: &Api, id: &str) -> Value {
    let r = api.get(&format!("/api/v1/filings/{id}")).await;
    for p in r.body["problems"].as_array().unwrap() {
        if let Some(req) = p["field"].as_str().unwrap().strip_prefix("attachments.") {
            attach(api, id, req, req).await;
        }
    }
    let r = api.get(&format!("/api/v1/filings/{id}")).await;
    assert_eq!(r.body["problems"], json!([]), "{}", r.text);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_rules_are_published_and_bind_their_own_authority_only() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let public = srv.anonymous();

        // Published without sign-in, as the law requires.
        let r = public.get("/api/v1/authorities/131041/local-rules").await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        assert_eq!(r.body["authority_name"], "新宿区");
        let rule = &r.body["rules"][0];
        assert_eq!(rule["procedure_id"], "change-notification");
        assert_eq!(rule["form_number"], "新宿区様式第5号");
        assert_eq!(
            rule["attachments"][0]["label"],
            "事業所の写真（外観・内部）"
        );
        assert!(
            rule["attachments"][0]["condition"]
                .as_str()
                .unwrap()
                .contains("建物の構造")
        );
        let r = public.get("/api/v1/authorities/130001/local-rules").await;
        assert_eq!((r.status.as_u16(), &r.body["rules"]), (200, &json!([])));
        let r = public.get("/api/v1/authorities/132012/local-rules").await;
        assert_eq!(r.body["rules"][0]["deadline"], "変更後7日以内（八王子市）");
        assert_eq!(
            public
                .get("/api/v1/authorities/999999/local-rules")
                .await
                .status,
            404
        );
        let page = public.get("/authorities/131041/local-rules").await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("新宿区の独自ルール") && page.text.contains("事業所の写真"));
        assert!(
            public
                .get("/local-rules")
                .await
                .text
                .contains("/authorities/131041/local-rules")
        );

        // A corporation-wide change (代表者) with a building change goes to all five
        // authorities; only 新宿区 asks for photos, and says so.
        let p1 = srv.api("provider1").await;
        let yokohama = establishment_id(&p1, "1471100048").await;
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [yokohama] }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        let mut data = r.body["data"].clone();
        data["fields"]["change_items"] = json!(["representative", "building"]);
        data["fields"]["change_date"] = json!("2026-01-05");
        data["fields"]["representative_name"] = json!("佐藤　花子");
        data["fields"]["representative_kana"] = json!("サトウ　ハナコ");
        data["fields"]["shinjuku_contact_phone"] = json!("03-5273-4111");
        let r = p1
            .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let addressees: Vec<&str> = r.body["addressees"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["authority_code"].as_str().unwrap())
            .collect();
        assert_eq!(addressees, FANOUT);
        let due = |code: &str| {
            r.body["addressees"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["authority_code"] == code)
                .unwrap()["due_on"]
                .clone()
        };
        assert_eq!(due("130001"), "2026-01-15");
        assert_eq!(due("132012"), "2026-01-12", "八王子市's own 7 days");
        let photo = r.body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["field"] == "attachments.shinjuku_photos")
            .cloned()
            .expect("新宿区's document is required");
        assert_eq!(
            photo["message"],
            "事業所の写真（外観・内部）を添付してください（新宿区の独自ルール）。"
        );
        // Submitting without it is refused, naming it.
        let r = p1
            .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("shinjuku_photos"));
        attach_missing(&p1, &id).await;
        let r = p1
            .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // Each authority's case lists its own documents: 新宿区's has the photos, the others not.
        for code in FANOUT {
            let rv = srv.api(&format!("reviewer-{code}")).await;
            let inbox = rv.get("/api/v1/cases").await;
            let case_id = inbox.body[0]["id"].as_str().unwrap().to_string();
            let c = rv.get(&format!("/api/v1/cases/{case_id}")).await;
            let checklist: Vec<&str> = c.body["checklist"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["requirement_id"].as_str().unwrap())
                .collect();
            assert_eq!(
                checklist.contains(&"shinjuku_photos"),
                code == "131041",
                "[{backend}] {code}: {checklist:?}"
            );
            assert!(
                c.body["checklist"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|i| i["present"] == true)
            );
            let expected_due = if code == "132012" {
                "2026-01-12"
            } else {
                "2026-01-15"
            };
            assert_eq!(c.body["due_on"], expected_due, "{code}");
            assert_eq!(c.body["due_state"], "overdue");
            // The inbox filters: overdue has it, due soon has not.
            let overdue = rv.get("/api/v1/cases?due=overdue").await;
            assert_eq!(overdue.body[0]["id"], case_id.as_str());
            assert_eq!(overdue.body[0]["due_state"], "overdue");
            let soon = rv.get("/api/v1/cases?due=due_soon").await;
            assert_eq!(soon.body, json!([]), "{code}");
            let bad = rv.get("/api/v1/cases?due=tomorrow").await;
            assert_eq!(bad.status, 422);
            assert_eq!(bad.body["error"]["fields"][0]["field"], "due");
        }
        let browser = crate::pages::Browser::new(&public.base);
        browser.login("reviewer-131041").await;
        let (status, _, page) = browser.get("/inbox?due=overdue").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("期限切れ") && page.contains("2026-01-15"),
            "{page}"
        );
        let (_, _, page) = browser.get("/inbox?due=due_soon").await;
        assert!(!page.contains("2026-01-15"));
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_moves_to_the_new_form_version_with_its_answers() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let yokohama = establishment_id(&p1, "1471100048").await;
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "procedure_version": "2025-10",
                         "establishment_ids": [yokohama] }),
            )
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(r.body["procedure_version"], "2025-10");
        assert_eq!(r.body["newer_version"], "2026-04");
        let mut data = r.body["data"].clone();
        data["fields"]["change_items"] = json!(["manager"]);
        data["fields"]["change_date"] = json!("2026-03-20");
        data["establishments"][&yokohama]["manager_name"] = json!("高橋　次郎");
        let r = p1
            .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let before = r.body["data"].clone();
        // The April form's new field cannot be answered on the October form.
        let mut with_reason = before.clone();
        with_reason["fields"]["reason"] = json!("管理者の交代のため");
        let r = p1
            .put(
                &format!("/api/v1/filings/{id}"),
                &json!({ "data": with_reason }),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);

        let lock = p1.get(&format!("/api/v1/filings/{id}")).await.body["lock_version"].clone();
        let r = p1
            .post(
                &format!("/api/v1/filings/{id}/migrate"),
                &json!({ "lock_version": 99 }),
            )
            .await;
        assert_eq!(r.status, 409, "a stale lock version is refused: {}", r.text);
        let r = p1
            .post(
                &format!("/api/v1/filings/{id}/migrate"),
                &json!({ "lock_version": lock }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["from_version"], "2025-10");
        assert_eq!(r.body["to_version"], "2026-04");
        assert_eq!(r.body["new_fields"], json!(["reason"]));
        assert_eq!(r.body["dropped"], json!([]));

        let after = p1.get(&format!("/api/v1/filings/{id}")).await;
        assert_eq!(after.body["procedure_version"], "2026-04");
        assert_eq!(after.body["newer_version"], Value::Null);
        assert_eq!(after.body["new_fields"], json!(["reason"]));
        assert_eq!(after.body["data"], before, "every answer carried across");
        // The edit page marks the new field.
        let browser = crate::pages::Browser::new(&p1.base);
        browser.login_oidc("provider1").await;
        let (status, _, page) = browser.get(&format!("/filings/{id}/edit")).await;
        assert_eq!(status, 200);
        assert!(page.contains("新しい様式で追加"), "{page}");
        assert!(!page.contains("新しい様式に切り替える"));
        let r = p1
            .post(
                &format!("/api/v1/filings/{id}/migrate"),
                &json!({ "lock_version": after.body["lock_version"] }),
            )
            .await;
        assert_eq!(r.status, 409, "already the latest: {}", r.text);
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "procedure_version": "1999-04",
                         "establishment_ids": [yokohama] }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "procedure_version");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ehr_subsidy_goes_to_tokyo_with_its_amount_computed() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let r = p1
            .post("/api/v1/filings", &json!({ "procedure_id": "ehr-subsidy" }))
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        let fields = json!({
            "institution_kind": "clinic", "institution_name": "𠮷野みらいクリニック",
            "institution_name_kana": "シンジュクミライクリニック",
            "institution_postal_code": "160-0023", "institution_address": "東京都新宿区西新宿2-8-1",
            "institution_phone": "03-5321-1111", "founder_name": "医療法人社団みらい会",
            "beds": "１９", "has_existing_ehr": false, "product_name": "みらいカルテ",
            "standard_export": "fhir", "acquisition": "purchase",
            "introduction_date": "2026-10-01", "total_cost": 20_000_000,
            "received_before": false,
            "subsidy_amount": 999_999_999
        });
        let r = p1
            .put(
                &format!("/api/v1/filings/{id}"),
                &json!({ "data": { "fields": fields } }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["data"]["fields"]["beds"], 19,
            "full-width digits normalised"
        );
        assert_eq!(r.body["data"]["fields"]["base_amount"], 11_495_000);
        assert_eq!(
            r.body["data"]["fields"]["subsidy_amount"], 8_621_250,
            "computed, never taken from the client"
        );
        // A character a Shift_JIS ledger cannot take is a warning, not a refusal.
        assert_eq!(r.body["warnings"][0]["field"], "fields.institution_name");
        assert_eq!(r.body["warnings"][0]["code"], "cp932_unmappable");
        assert!(
            r.body["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("𠮷（U+20BB7）")
        );
        let addressees = &r.body["addressees"];
        assert_eq!(addressees.as_array().unwrap().len(), 1);
        assert_eq!(addressees[0]["authority_code"], "130001");
        attach_missing(&p1, &id).await;
        let r = p1
            .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let tokyo = srv.api("reviewer-130001").await;
        let inbox = tokyo.get("/api/v1/cases").await;
        assert_eq!(inbox.body[0]["procedure_id"], "ehr-subsidy");
        let case_id = inbox.body[0]["id"].as_str().unwrap();
        let c = tokyo.get(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(c.body["data"]["fields"]["subsidy_amount"], 8_621_250);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_goes_to_its_service_s_authority_and_extends_the_designation_six_years() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        // さくらデイサービス新宿: 15 通所介護 (東京都) and 78 地域密着型通所介護 (新宿区).
        let shinjuku = establishment_id(&p1, "1370400010").await;
        let before = p1.get(&format!("/api/v1/establishments/{shinjuku}")).await;
        let period = |view: &Value, service: &str| {
            let d = designation(view, service);
            (d["valid_from"].clone(), d["valid_until"].clone())
        };
        assert_eq!(period(&before.body, "78").1, "2028-03-31");
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "designation-renewal", "establishment_ids": [shinjuku] }),
            )
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        let def = madoguchi_core::catalog::embedded_catalog().unwrap();
        let def = def.latest("designation-renewal").unwrap();
        let mut data = def.sample_data(std::slice::from_ref(&shinjuku));
        data.fields.insert("service_type".into(), json!("78"));
        data.fields
            .insert("current_valid_until".into(), json!("2028-03-31"));
        let r = p1
            .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let to: Vec<&str> = r.body["addressees"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["authority_code"].as_str().unwrap())
            .collect();
        assert_eq!(to, ["131041"], "only the authority that designated 78");
        assert_eq!(r.body["addressees"][0]["due_on"], "2028-03-30");
        attach_missing(&p1, &id).await;
        let r = p1
            .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        let rv = srv.api("reviewer-131041").await;
        let case_id = rv.get("/api/v1/cases").await.body[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = rv
            .post(&format!("/api/v1/cases/{case_id}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let after = p1.get(&format!("/api/v1/establishments/{shinjuku}")).await;
        assert_eq!(
            period(&after.body, "78"),
            (json!("2028-04-01"), json!("2034-03-31"))
        );
        assert_eq!(
            period(&after.body, "15"),
            period(&before.body, "15"),
            "15 untouched"
        );
        // The ledger feed carries the new period with the designation's natural keys.
        let admin = srv.api("admin-131041").await;
        let feed = admin
            .get("/api/v1/authorities/131041/changes?since=0")
            .await;
        assert_eq!(feed.status, 200, "{}", feed.text);
        let text = feed.text.clone();
        assert!(
            text.contains("\"designation\"")
                && text.contains("2034-03-31")
                && text.contains("\"78\""),
            "{text}"
        );
        srv.stop().await;
    }
}

/// The designation of one service in an establishment view.
fn designation(view: &Value, service: &str) -> Value {
    view["designations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["service_code"] == service)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_designation_application_goes_to_who_designates_each_service_there() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let def = madoguchi_core::catalog::embedded_catalog().unwrap();
        let def = def.latest("designation-application").unwrap();
        // 新宿区 is a special ward: 訪問介護 (11) is designated by 東京都, 地域密着型通所介護
        // (78) by 新宿区 itself (designation-rules.toml).
        for (services, expected) in [
            (json!(["11"]), vec!["130001"]),
            (json!(["78"]), vec!["131041"]),
            (json!(["11", "78"]), vec!["130001", "131041"]),
        ] {
            let shinjuku = establishment_id(&p1, "1370400010").await;
            let r = p1
                .post(
                    "/api/v1/filings",
                    &json!({ "procedure_id": "designation-application", "establishment_ids": [shinjuku] }),
                )
                .await;
            assert_eq!(r.status, 201, "[{backend}] {}", r.text);
            let id = r.body["id"].as_str().unwrap().to_string();
            let mut data = def.sample_data(std::slice::from_ref(&shinjuku));
            data.fields.insert("service_types".into(), services.clone());
            let r = p1
                .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let to: Vec<&str> = r.body["addressees"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["authority_code"].as_str().unwrap())
                .collect();
            assert_eq!(to, expected, "[{backend}] {services}");
            if services != json!(["11"]) {
                continue;
            }
            // Accepted by 東京都, the application becomes a designation for six years from
            // the start date, on the registry and in 東京都's ledger feed.
            let mut data = r.body["data"].clone();
            data["fields"]["start_date"] = json!("2027-04-01");
            let r = p1
                .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            attach_missing(&p1, &id).await;
            let r = p1
                .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let tokyo = srv.api("reviewer-130001").await;
            let case_id = tokyo.get("/api/v1/cases").await.body[0]["id"]
                .as_str()
                .unwrap()
                .to_string();
            let r = tokyo
                .post(&format!("/api/v1/cases/{case_id}/accept"), &json!({}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let view = p1.get(&format!("/api/v1/establishments/{shinjuku}")).await;
            let d = designation(&view.body, "11");
            assert_eq!(
                (&d["authority_code"], &d["valid_from"], &d["valid_until"]),
                (&json!("130001"), &json!("2027-04-01"), &json!("2033-03-31")),
                "{}",
                view.text
            );
            let feed = srv
                .api("admin-130001")
                .await
                .get("/api/v1/authorities/130001/changes?since=0")
                .await;
            assert!(feed.text.contains("2033-03-31"), "{}", feed.text);
        }
        srv.stop().await;
    }
}
