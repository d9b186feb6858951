//! 一括申請: one procedure for several establishments — one draft each, shared answers given
//! once, each establishment's own answers apart (and its own answer to a shared question
//! where it differs) — submitted together, each draft on its own.

use madoguchi_testing::{TestServer, backends};
use serde_json::{Value, json};

use crate::common::{attach, establishment_id};
use crate::portal_web::{Web, batch_id, input_value, pdf, present};

fn codes(filing: &Value) -> Vec<String> {
    let mut c: Vec<String> = filing["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["authority_code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_filing_for_three_establishments_by_api() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let shibuya = establishment_id(&api, "1371300029").await;
        let hachioji = establishment_id(&api, "1372010031").await;
        let r = api
            .post(
                "/api/v1/bulk-filings",
                &json!({
                    "procedure_id": "resumption-notification",
                    "establishment_ids": [hachioji, shinjuku, shibuya],
                    "data": {
                        "fields": { "suspended_since": "2026-09-01", "resume_date": "2026-12-01" },
                        "establishments": { shibuya.clone(): { "staff_count": 4 } }
                    }
                }),
            )
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        assert_eq!(r.body["kind"], "bulk");
        let drafts = r.body["drafts"].as_array().unwrap();
        assert_eq!(drafts.len(), 3, "[{backend}] one draft per establishment");
        // In 事業所番号 order, each covering one establishment, each with the shared answers.
        let order: Vec<&str> = drafts
            .iter()
            .map(|d| d["filing"]["establishments"][0]["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            order,
            [shinjuku.as_str(), shibuya.as_str(), hachioji.as_str()]
        );
        for d in drafts {
            assert_eq!(d["filing"]["establishments"].as_array().unwrap().len(), 1);
            assert_eq!(d["filing"]["data"]["fields"]["resume_date"], "2026-12-01");
        }
        // Each establishment's registry values, and its own answers where given.
        let est = |i: usize, id: &str| drafts[i]["filing"]["data"]["establishments"][id].clone();
        assert_eq!(
            est(0, &shinjuku)["establishment_name"],
            "さくらデイサービス新宿"
        );
        assert_eq!(est(1, &shibuya)["manager_name"], "鈴木　一郎");
        assert_eq!(est(1, &shibuya)["staff_count"], 4);
        assert!(est(0, &shinjuku)["staff_count"].is_null());

        // Answer the rest per draft, attach, and submit all: each goes to its own authorities.
        let bid = r.body["id"].as_str().unwrap().to_string();
        for (i, id) in [&shinjuku, &shibuya, &hachioji].into_iter().enumerate() {
            let f = &drafts[i]["filing"];
            let fid = f["id"].as_str().unwrap();
            let service = ["15", "43", "11"][i];
            let mut data = f["data"].clone();
            data["fields"]["service_type"] = json!(service);
            let e = &mut data["establishments"][id];
            e["office_number"] = f["establishments"][0]["office_number"].clone();
            e["business_days"] = json!(["mon", "tue", "wed", "thu", "fri"]);
            e["business_hours"] = json!("09:00-18:00");
            e["staff_count"] = json!(5);
            e["users_count"] = json!(10);
            let put = api
                .put(
                    &format!("/api/v1/filings/{fid}"),
                    &json!({ "data": data, "lock_version": f["lock_version"] }),
                )
                .await;
            assert_eq!(put.status, 200, "[{backend}] {}", put.text);
            if i < 2 {
                for p in put.body["problems"].as_array().unwrap() {
                    let req = p["field"].as_str().unwrap().strip_prefix("attachments.");
                    attach(&api, fid, req.expect("only documents missing"), "書類").await;
                }
            }
        }
        // The 八王子 draft still lacks its documents: it stays a draft, the others go.
        let r = api
            .post(&format!("/api/v1/batches/{bid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        let outcomes = r.body["outcomes"].as_array().unwrap();
        let results: Vec<&str> = outcomes
            .iter()
            .map(|o| o["result"].as_str().unwrap())
            .collect();
        assert_eq!(
            results,
            ["submitted", "submitted", "not_submitted"],
            "[{backend}]"
        );
        assert!(
            outcomes[2]["problems"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["field"].as_str().unwrap().starts_with("attachments."))
        );
        let refs: Vec<&str> = outcomes[..2]
            .iter()
            .map(|o| o["reference"].as_str().unwrap())
            .collect();
        assert_ne!(refs[0], refs[1], "each filing has its own 到達番号");
        let batch = &r.body["batch"];
        assert_eq!(codes(&batch["drafts"][0]["filing"]), ["130001", "131041"]);
        assert_eq!(codes(&batch["drafts"][1]["filing"]), ["131130"]);
        assert!(codes(&batch["drafts"][2]["filing"]).is_empty());
        assert_eq!(batch["pending"], 1);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_filing_refuses_what_it_cannot_do() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let shibuya = establishment_id(&api, "1371300029").await;
        let foreign = establishment_id(&srv.api("provider2").await, "1370401059").await;
        for (body, field, code) in [
            (
                json!({ "procedure_id": "addition-notification", "establishment_ids": [shinjuku] }),
                "establishment_ids",
                "too_few",
            ),
            (
                json!({ "procedure_id": "ehr-subsidy", "establishment_ids": [shinjuku, shibuya] }),
                "procedure_id",
                "not_per_establishment",
            ),
            (
                json!({ "procedure_id": "nope", "establishment_ids": [shinjuku, shibuya] }),
                "procedure_id",
                "unknown_procedure",
            ),
            (
                json!({ "procedure_id": "addition-notification", "establishment_ids": [shinjuku, foreign] }),
                "establishment_ids",
                "unknown_establishment",
            ),
            (
                json!({ "procedure_id": "addition-notification", "establishment_ids": [shinjuku, shibuya],
                        "data": { "fields": { "no_such_field": 1 } } }),
                "data.fields.no_such_field",
                "unknown_field",
            ),
        ] {
            let r = api.post("/api/v1/bulk-filings", &body).await;
            assert_eq!(r.status, 422, "[{backend}] {body}: {}", r.text);
            let fields = r.body["error"]["fields"].as_array().unwrap();
            assert!(
                fields
                    .iter()
                    .any(|f| f["field"] == field && f["code"] == code),
                "[{backend}] {field} {code}: {}",
                r.text
            );
        }
        assert!(
            api.get("/api/v1/filings")
                .await
                .body
                .as_array()
                .unwrap()
                .is_empty()
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_filing_for_three_establishments_without_javascript() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let ests = [
            establishment_id(&api, "1370400010").await,
            establishment_id(&api, "1371300029").await,
            establishment_id(&api, "1372010031").await,
        ];
        let mut web = Web::provider(&srv.base_url, "provider1").await;
        let page = web.get("/bulk/new?procedure=addition-notification").await;
        assert_eq!(page.status, 200);
        assert!(
            page.html.contains("href=\"/bulk/new\""),
            "in the navigation"
        );
        assert!(
            page.html
                .contains("value=\"addition-notification\" checked"),
            "[{backend}] preselected"
        );
        assert!(
            !page.html.contains("value=\"ehr-subsidy\""),
            "not per establishment"
        );
        // One establishment only: a polite refusal naming the fix.
        let page = web
            .post(
                "/bulk",
                &[
                    ("procedure_id".into(), "addition-notification".into()),
                    ("establishment_ids".into(), ests[0].clone()),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.html.contains("2か所以上選んでください"));
        let mut form = vec![(
            "procedure_id".to_string(),
            "addition-notification".to_string(),
        )];
        form.extend(
            ests.iter()
                .map(|e| ("establishment_ids".to_string(), e.clone())),
        );
        let page = web.post("/bulk", &form).await;
        assert_eq!(page.status, 200, "[{backend}] {}", page.html);
        assert!(
            page.url.ends_with("/answers?done=bulk_created"),
            "{}",
            page.url
        );
        let bid = batch_id(&page.url);
        let html = page.html.clone();
        assert!(html.contains("すべての事業所に共通の回答"));
        assert!(html.contains("届出の区分"));
        for name in [
            "さくらデイサービス新宿",
            "さくら居宅介護支援事業所渋谷",
            "さくら訪問介護ステーション八王子",
        ] {
            assert!(html.contains(name), "[{backend}] a section for {name}");
        }
        let view = api.get(&format!("/api/v1/batches/{bid}")).await;
        let fids: Vec<String> = view.body["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["filing"]["id"].as_str().unwrap().to_string())
            .collect();

        // Shared answers once; each establishment's own 届出を行うサービスの種類.
        let services = ["15", "43", "11"];
        let mut post: Vec<(String, String)> = Vec::new();
        for p in present(&html) {
            // Only what the user types or picks; everything else is left as shown (blank).
            let value = match p.as_str() {
                "fields.notice_type" => "new".to_string(),
                "fields.start_date" => "2027-01-01".to_string(),
                "fields.additions" => "life".to_string(),
                other => fids
                    .iter()
                    .position(|f| other == format!("only.{f}.fields.service_type"))
                    .map(|i| services[i].to_string())
                    .unwrap_or_default(),
            };
            post.push(("_present".into(), p.clone()));
            if !value.is_empty() {
                post.push((p, value));
            }
        }
        for f in &fids {
            let lock = input_value(&html, &format!("lock.{f}")).unwrap();
            post.push((format!("lock.{f}"), lock));
        }
        post.push(("review".into(), "1".into()));
        let page = web.post(&format!("/batches/{bid}/answers"), &post).await;
        assert_eq!(page.status, 200, "[{backend}] {}", page.html);
        assert!(
            page.url.starts_with(&format!("/batches/{bid}?")),
            "{}",
            page.url
        );
        assert!(page.html.contains("一括申請の確認と提出"));
        let view = api.get(&format!("/api/v1/batches/{bid}")).await;
        for (i, d) in view.body["drafts"].as_array().unwrap().iter().enumerate() {
            let fields = &d["filing"]["data"]["fields"];
            assert_eq!(
                fields["notice_type"], "new",
                "[{backend}] shared answer in every draft"
            );
            assert_eq!(fields["additions"], json!(["life"]));
            assert_eq!(fields["start_date"], "2027-01-01");
            assert_eq!(
                fields["service_type"], services[i],
                "[{backend}] own answer"
            );
        }
        // The answers page shows each establishment's differing answer as its own.
        let again = web.get(&format!("/batches/{bid}/answers")).await;
        assert!(
            again.html.contains("<details class=\"disclosure\" open>"),
            "[{backend}] the differing answers are shown open"
        );
        assert!(
            again
                .html
                .contains(&format!("name=\"only.{}.fields.service_type\"", fids[1]))
        );

        // Attach each draft's documents from the review page; one file for every draft.
        let review = web.get(&format!("/batches/{bid}")).await;
        assert!(
            review.html.contains("同じ書類が必要なほかの届出にも"),
            "{}",
            review.html
        );
        let p = web
            .post_files(
                &format!("/batches/{bid}/attachments"),
                &[
                    ("filing_id", &fids[0]),
                    ("requirement_id", "status_list"),
                    ("also_others", "1"),
                ],
                &[("体制等状況一覧表.pdf", pdf("status"))],
            )
            .await;
        assert!(p.url.contains("done=uploaded"), "[{backend}] {}", p.html);
        let view = api.get(&format!("/api/v1/batches/{bid}")).await;
        for d in view.body["drafts"].as_array().unwrap() {
            let files = d["filing"]["attachments"].as_array().unwrap();
            assert!(
                files.iter().any(|a| a["requirement_id"] == "status_list"),
                "[{backend}] one upload linked to every draft: {d}"
            );
        }
        // Whatever else each draft still needs is attached to it, then all go together.
        for d in view.body["drafts"].as_array().unwrap() {
            let fid = d["filing"]["id"].as_str().unwrap();
            for p in d["filing"]["problems"].as_array().unwrap() {
                let req = p["field"].as_str().unwrap().strip_prefix("attachments.");
                let req = req.unwrap_or_else(|| panic!("[{backend}] unexpected problem {p}"));
                let page = web
                    .post_files(
                        &format!("/batches/{bid}/attachments"),
                        &[("filing_id", fid), ("requirement_id", req)],
                        &[(&format!("{req}.pdf"), pdf(req))],
                    )
                    .await;
                assert!(page.url.contains("done=uploaded"));
            }
        }
        let page = web.post(&format!("/batches/{bid}/submit"), &[]).await;
        assert_eq!(page.status, 200, "[{backend}] {}", page.html);
        assert_eq!(page.html.matches("提出しました。到達番号").count(), 3);
        let view = api.get(&format!("/api/v1/batches/{bid}")).await;
        assert_eq!(view.body["pending"], 0);
        srv.stop().await;
    }
}
