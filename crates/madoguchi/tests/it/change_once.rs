//! Change once, file everywhere: a new registry value entered once on マイページ (or through
//! `POST /api/v1/changes`) becomes every 変更届 it calls for — prefilled, the right 変更事項
//! ticked, addressed to each authority concerned with its own form number, due date and
//! local additions — reviewed and submitted together; the registry changes only on acceptance.

use madoguchi_testing::{Api, TestServer, backends};
use serde_json::{Value, json};

use crate::common::{FANOUT, attach, establishment_id};
use crate::portal_web::{Web, attr_after, batch_id, input_value, pdf, present};

fn authority_codes(draft: &Value) -> Vec<String> {
    draft["authorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["authority_code"].as_str().unwrap().to_string())
        .collect()
}

fn authority<'a>(draft: &'a Value, code: &str) -> &'a Value {
    draft["authorities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["authority_code"] == code)
        .unwrap_or_else(|| panic!("authority {code} in {draft}"))
}

async fn filing_count(api: &Api) -> usize {
    api.get("/api/v1/filings")
        .await
        .body
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_prepares_every_change_notification_and_submits_them_together() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let hachioji = establishment_id(&api, "1372010031").await;

        // A new 管理者 at 新宿 and a new 代表者 of the corporation, entered once.
        let r = api
            .post(
                "/api/v1/changes",
                &json!({
                    "change_date": "2026-11-16",
                    "reason": "人事異動のため",
                    "corporation": {
                        "representative_name": "山田　花子",
                        "representative_kana": "ヤマダ　ハナコ",
                        "representative_birth_date": "1965-01-02",
                        "representative_address": "東京都新宿区西新宿一丁目1番1号",
                        // Unchanged values are not changes.
                        "representative_title": "理事長"
                    },
                    "establishments": { shinjuku.clone(): {
                        "manager_name": "渡辺　直美",
                        "manager_kana": "ﾜﾀﾅﾍﾞ ﾅｵﾐ",
                        "manager_birth_date": "1982-03-04",
                        "manager_address": "東京都新宿区大久保一丁目1番1号"
                    } }
                }),
            )
            .await;
        assert_eq!(r.status, 201, "[{backend}] {}", r.text);
        let batch = r.body.clone();
        assert_eq!(batch["kind"], "change");
        let drafts = batch["drafts"].as_array().unwrap();
        assert_eq!(
            drafts.len(),
            2,
            "[{backend}] one for the corporation, one for 新宿"
        );
        let changes = batch["changes"].as_array().unwrap();
        assert_eq!(
            changes.len(),
            8,
            "[{backend}] 4 代表者 values + 4 管理者 values"
        );
        assert!(changes.iter().all(|c| c["key"] != "representative_title"));

        // The corporation's draft: 代表者 ticked, every establishment, every authority.
        let corp = &drafts[0];
        assert_eq!(corp["filing"]["procedure_id"], "change-notification");
        assert_eq!(corp["filing"]["status"], "draft");
        let data = &corp["filing"]["data"];
        assert_eq!(data["fields"]["change_items"], json!(["representative"]));
        assert_eq!(data["fields"]["change_date"], "2026-11-16");
        assert_eq!(data["fields"]["reason"], "人事異動のため");
        assert_eq!(data["fields"]["representative_name"], "山田　花子");
        // Prefilled from the registry where the change gave nothing.
        assert_eq!(data["fields"]["representative_title"], "理事長");
        assert_eq!(
            corp["filing"]["establishments"].as_array().unwrap().len(),
            4
        );
        let mut codes = authority_codes(corp);
        codes.sort();
        assert_eq!(
            codes, FANOUT,
            "[{backend}] every authority of the corporation"
        );
        // Each authority's own due date: 八王子市 asks within 7 days, the rest within 10.
        assert_eq!(authority(corp, "132012")["due_on"], "2026-11-23");
        assert_eq!(
            authority(corp, "132012")["form_number"],
            "八王子市様式第3号"
        );
        assert_eq!(authority(corp, "130001")["due_on"], "2026-11-26");
        assert_eq!(
            authority(corp, "130001")["form_number"],
            "別紙様式第一号（五）"
        );
        let items = corp["items"].as_array().unwrap();
        assert_eq!(items, &[json!("代表者の氏名、生年月日、住所及び職名")]);
        // Its documents: 登記事項証明書 and 誓約書.
        let reqs: Vec<&str> = corp["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(reqs, ["registry_certificate", "pledge"], "[{backend}]");
        assert_eq!(corp["ready"], false);

        // The 新宿 draft: 管理者 ticked, 新宿 only, 東京都 and 新宿区 with its additions.
        let est = &drafts[1];
        let data = &est["filing"]["data"];
        assert_eq!(data["fields"]["change_items"], json!(["manager"]));
        let mine = &data["establishments"][&shinjuku];
        assert_eq!(mine["manager_name"], "渡辺　直美");
        assert_eq!(mine["manager_kana"], "ワタナベ　ナオミ", "normalised");
        let mut codes = authority_codes(est);
        codes.sort();
        assert_eq!(codes, ["130001", "131041"], "[{backend}]");
        let shinjuku_ku = authority(est, "131041");
        assert_eq!(shinjuku_ku["form_number"], "新宿区様式第5号");
        assert_eq!(shinjuku_ku["due_on"], "2026-11-26");
        let additions = shinjuku_ku["local_additions"].as_array().unwrap();
        assert!(
            additions
                .iter()
                .any(|a| a["kind"] == "field" && a["label"] == "届出担当者の氏名"),
            "[{backend}] {additions:?}"
        );
        assert!(additions.iter().any(|a| a["kind"] == "attachment"
            && a["label"] == "事業所の写真（外観・内部）"
            && a["required_here"] == false));
        assert!(
            authority(est, "130001")["local_additions"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // Where each answer came from.
        let sources = est["filing"]["prefill_sources"].as_array().unwrap();
        let source_of = |path: &str| {
            sources
                .iter()
                .find(|s| s["path"] == path)
                .map(|s| s["source"].as_str().unwrap().to_string())
        };
        assert_eq!(
            source_of(&format!("establishments.{shinjuku}.manager_name")).as_deref(),
            Some("change")
        );
        assert_eq!(
            source_of(&format!("establishments.{shinjuku}.business_hours")).as_deref(),
            Some("registry"),
            "[{backend}] hidden groups are prefilled too"
        );

        // The registry is not changed by preparing.
        let e = api.get(&format!("/api/v1/establishments/{shinjuku}")).await;
        assert_eq!(e.body["record"]["manager_name"], "佐藤　花子");

        // Submit all while documents are missing: nothing goes, each says why.
        let bid = batch["id"].as_str().unwrap();
        let r = api
            .post(&format!("/api/v1/batches/{bid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        for o in r.body["outcomes"].as_array().unwrap() {
            assert_eq!(o["result"], "not_submitted", "[{backend}] {o}");
            assert!(
                o["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["field"].as_str().unwrap().starts_with("attachments."))
            );
        }
        // Complete only the corporation's draft: all-or-nothing per draft.
        let corp_id = corp["filing"]["id"].as_str().unwrap();
        attach(&api, corp_id, "registry_certificate", "登記事項証明書").await;
        attach(&api, corp_id, "pledge", "誓約書").await;
        let r = api
            .post(&format!("/api/v1/batches/{bid}/submit"), &json!({}))
            .await;
        let outcomes = r.body["outcomes"].as_array().unwrap();
        assert_eq!(outcomes[0]["result"], "submitted", "[{backend}] {}", r.text);
        assert_eq!(outcomes[0]["case_ids"].as_array().unwrap().len(), 5);
        assert!(outcomes[0]["reference"].as_str().is_some());
        assert_eq!(outcomes[1]["result"], "not_submitted");
        let est_id = est["filing"]["id"].as_str().unwrap();
        for req in ["pledge", "roster", "qualification"] {
            attach(&api, est_id, req, req).await;
        }
        let r = api
            .post(&format!("/api/v1/batches/{bid}/submit"), &json!({}))
            .await;
        let outcomes = r.body["outcomes"].as_array().unwrap();
        assert_eq!(outcomes[0]["result"], "already_submitted", "retry is safe");
        assert_eq!(outcomes[1]["result"], "submitted", "[{backend}] {}", r.text);
        assert_eq!(outcomes[1]["case_ids"].as_array().unwrap().len(), 2);
        assert_eq!(r.body["batch"]["pending"], 0);
        // One case per authority concerned: 新宿区 has both, 八王子市 only the 代表者 change.
        let reviewer = srv.api("reviewer-131041").await;
        assert_eq!(
            reviewer
                .get("/api/v1/cases")
                .await
                .body
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let reviewer = srv.api("reviewer-132012").await;
        let cases = reviewer.get("/api/v1/cases").await;
        assert_eq!(cases.body.as_array().unwrap().len(), 1, "{}", cases.text);
        assert_eq!(cases.body[0]["due_on"], "2026-11-23");
        let _ = hachioji;
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_changes_are_refused_by_name_and_create_nothing() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let other = srv.api("provider2").await;
        let foreign = establishment_id(&other, "1370401059").await;
        let before = filing_count(&api).await;
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                json!({ "change_date": "2026-02-30", "establishments": { shinjuku.clone(): { "manager_name": "新しい人" } } }),
                "change_date",
                "invalid_format",
            ),
            (
                json!({ "change_date": "2026-11-01", "corporation": { "favourite_colour": "青" } }),
                "corporation.favourite_colour",
                "unknown_key",
            ),
            (
                json!({ "change_date": "2026-11-01", "establishments": { shinjuku.clone(): { "phone": "03-0000-0000" } } }),
                &*Box::leak(format!("establishments.{shinjuku}.phone").into_boxed_str()),
                "not_notifiable",
            ),
            (
                json!({ "change_date": "2026-11-01", "establishments": { shinjuku.clone(): { "manager_name": "佐藤　花子" } } }),
                "changes",
                "no_change",
            ),
            (
                json!({ "change_date": "2026-11-01", "establishments": { foreign.clone(): { "manager_name": "x" } } }),
                &*Box::leak(format!("establishments.{foreign}").into_boxed_str()),
                "unknown_establishment",
            ),
            (
                json!({ "change_date": "2026-11-01", "establishments": { shinjuku.clone(): { "manager_kana": "漢字です" } } }),
                &*Box::leak(format!("establishments.{shinjuku}.manager_kana").into_boxed_str()),
                "invalid_format",
            ),
        ];
        for (body, field, code) in cases {
            let r = api.post("/api/v1/changes", &body).await;
            assert_eq!(r.status, 422, "[{backend}] {body}: {}", r.text);
            let errors = r.body["error"]["fields"].as_array().unwrap();
            assert!(
                errors
                    .iter()
                    .any(|e| e["field"] == field && e["code"] == code),
                "[{backend}] {field} {code} expected: {}",
                r.text
            );
            assert!(
                errors
                    .iter()
                    .all(|e| !e["message"].as_str().unwrap().is_empty())
            );
        }
        let r = api
            .raw(
                reqwest::Method::POST,
                "/api/v1/changes",
                "application/json",
                b"{\"change_date\": 5".to_vec(),
            )
            .await;
        assert_eq!(r.status, 400, "[{backend}] malformed JSON");
        assert_eq!(
            filing_count(&api).await,
            before,
            "[{backend}] nothing created"
        );
        let staff = srv.api("reviewer-131041").await;
        let r = staff
            .post("/api/v1/changes", &json!({ "change_date": "2026-11-01" }))
            .await;
        assert_eq!(r.status, 403);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_change_from_my_page_without_javascript() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shinjuku = establishment_id(&api, "1370400010").await;
        let yokohama = establishment_id(&api, "1471100048").await;
        let mut web = Web::provider(&srv.base_url, "provider1").await;
        let my = web.get("/my").await;
        let link = format!("/my/changes/new?item=manager&#38;establishment={shinjuku}");
        let link = if my.html.contains(&link) {
            link.replace("&#38;", "&")
        } else {
            format!("/my/changes/new?item=manager&establishment={shinjuku}")
        };
        let form = web.get(&link).await;
        assert_eq!(form.status, 200, "[{backend}]");
        let html = &form.html;
        assert!(
            html.contains("管理者の変更（さくらデイサービス新宿）"),
            "{html}"
        );
        assert!(
            html.contains("東京都、新宿区"),
            "[{backend}] who it goes to"
        );
        let name = format!("establishments.{shinjuku}.manager_name");
        assert_eq!(input_value(html, &name).as_deref(), Some("佐藤　花子"));
        assert!(html.contains("登録情報から"));
        assert!(
            !html.contains("fields.change_items"),
            "the item is not asked again"
        );
        assert!(
            html.contains("さくらデイサービス横浜"),
            "may apply to others"
        );

        // Type only what changed: the 5 values of a new manager and the date.
        let typed = [
            (name.clone(), "渡辺　直美"),
            (
                format!("establishments.{shinjuku}.manager_kana"),
                "ワタナベ　ナオミ",
            ),
            (
                format!("establishments.{shinjuku}.manager_birth_date"),
                "1982-03-04",
            ),
            (
                format!("establishments.{shinjuku}.manager_address"),
                "東京都新宿区大久保一丁目1番1号",
            ),
            ("fields.change_date".to_string(), "2026-11-20"),
        ];
        let mut post: Vec<(String, String)> = vec![
            ("item".into(), "manager".into()),
            ("establishment".into(), shinjuku.clone()),
        ];
        for p in present(html) {
            let typed_value = typed
                .iter()
                .find(|(k, _)| *k == p)
                .map(|(_, v)| v.to_string());
            let value = typed_value
                .or_else(|| input_value(html, &p))
                .unwrap_or_default();
            post.push(("_present".into(), p.clone()));
            post.push((p, value));
        }
        // First without the date: the form comes back with the message at the field.
        let without_date: Vec<(String, String)> = post
            .iter()
            .filter(|(k, _)| k != "fields.change_date")
            .cloned()
            .collect();
        let page = web.post("/my/changes", &without_date).await;
        assert_eq!(page.status, 422, "[{backend}]");
        assert!(
            page.html.contains("変更年月日を入力してください"),
            "{}",
            page.html
        );
        assert!(page.html.contains("href=\"#f-fields-change_date\""));
        assert_eq!(
            input_value(&page.html, &name).as_deref(),
            Some("渡辺　直美"),
            "what was typed is kept"
        );
        let page = web.post("/my/changes", &post).await;
        assert_eq!(page.status, 200, "[{backend}] {}", page.html);
        assert!(page.url.starts_with("/batches/"), "{}", page.url);
        let bid = batch_id(&page.url);
        let html = &page.html;
        for text in [
            "変更届の確認と提出",
            "佐藤　花子",
            "渡辺　直美",
            "東京都",
            "新宿区様式第5号",
            "2026-11-30",
            "届出担当者の氏名",
            "勤務形態一覧表",
            "すべて提出する（1件）",
        ] {
            assert!(html.contains(text), "[{backend}] review page shows {text}");
        }
        assert!(
            !html.contains("さくらデイサービス横浜"),
            "only 新宿 changed"
        );

        // Attach the documents on the way (two files at once for the roster).
        let filing = attr_after(html, "name=\"filing_id\" value=\"").unwrap();
        let p = web
            .post_files(
                &format!("/batches/{bid}/attachments"),
                &[("filing_id", &filing), ("requirement_id", "roster")],
                &[("roster1.pdf", pdf("1")), ("roster2.pdf", pdf("2"))],
            )
            .await;
        assert!(p.url.contains("done=uploaded"), "[{backend}] {}", p.html);
        assert!(p.html.contains("roster1.pdf") && p.html.contains("roster2.pdf"));
        for req in ["pledge", "qualification"] {
            let p = web
                .post_files(
                    &format!("/batches/{bid}/attachments"),
                    &[("filing_id", &filing), ("requirement_id", req)],
                    &[(&format!("{req}.pdf"), pdf(req))],
                )
                .await;
            assert!(p.url.contains("done=uploaded"), "[{backend}] {}", p.html);
        }
        // An upload refused by content says so at the requirement.
        let p = web
            .post_files(
                &format!("/batches/{bid}/attachments"),
                &[("filing_id", &filing), ("requirement_id", "other")],
                &[("evil.pdf", b"MZ\x90\x00not a pdf".to_vec())],
            )
            .await;
        assert_eq!(p.status, 422, "[{backend}]");
        assert!(p.html.contains("evil.pdf："), "{}", p.html);

        let page = web.post(&format!("/batches/{bid}/submit"), &[]).await;
        assert_eq!(page.status, 200, "[{backend}] {}", page.html);
        assert!(page.html.contains("提出の結果"));
        assert!(
            page.html.contains("提出しました。到達番号"),
            "{}",
            page.html
        );
        let f = api.get(&format!("/api/v1/filings/{filing}")).await;
        let mut codes: Vec<&str> = f.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["authority_code"].as_str().unwrap())
            .collect();
        codes.sort();
        assert_eq!(codes, ["130001", "131041"], "[{backend}]");
        assert_eq!(f.body["attachments"].as_array().unwrap().len(), 4);

        // Accepted by 新宿区, the registry takes the new manager.
        let reviewer = srv.api("reviewer-131041").await;
        let case = f.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["authority_code"] == "131041")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = reviewer
            .post(&format!("/api/v1/cases/{case}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let e = api.get(&format!("/api/v1/establishments/{shinjuku}")).await;
        assert_eq!(e.body["record"]["manager_name"], "渡辺　直美");
        // マイページ lists the change.
        let my = web.get("/my").await;
        assert!(my.html.contains("作成した変更届"));
        assert!(my.html.contains(&format!("/batches/{bid}")));

        // The same new hours for two establishments: one draft each.
        let form = web
            .get(&format!(
                "/my/changes/new?item=business_hours&establishment={shinjuku}"
            ))
            .await;
        let mut post: Vec<(String, String)> = vec![
            ("item".into(), "business_hours".into()),
            ("establishment".into(), shinjuku.clone()),
            ("also".into(), yokohama.clone()),
        ];
        for p in present(&form.html) {
            let value = if p.ends_with(".business_hours") {
                "9時から18時まで".to_string()
            } else if p == "fields.change_date" {
                "2026-12-01".to_string()
            } else {
                input_value(&form.html, &p).unwrap_or_default()
            };
            post.push(("_present".into(), p.clone()));
            post.push((p, value));
        }
        let page = web.post("/my/changes", &post).await;
        assert_eq!(page.status, 200, "[{backend}] {}", page.html);
        let r = api
            .get(&format!("/api/v1/batches/{}", batch_id(&page.url)))
            .await;
        let drafts = r.body["drafts"].as_array().unwrap();
        assert_eq!(drafts.len(), 2, "[{backend}] {}", r.text);
        let yoko = &drafts[1]["filing"]["data"]["establishments"][&yokohama];
        assert_eq!(yoko["business_hours"], "9時から18時まで");
        assert_eq!(
            yoko["business_days"], "月曜日から金曜日",
            "[{backend}] 横浜 keeps its own days: only what was changed is copied"
        );
        assert_eq!(authority_codes(&drafts[1]), ["141003"]);
        srv.stop().await;
    }
}
