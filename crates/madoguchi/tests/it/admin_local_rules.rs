//! An authority admin's local rules, through the admin pages (plain form posts, no
//! JavaScript) and the API: a required field added through the forms, previewed, published
//! without a restart; it binds that authority's filings only; submitted cases keep the rule
//! they were checked against; drafts in flight survive a field's removal; a deadline override
//! sets the due date; a stored rule that no longer loads is refused with the loader's message.

use madoguchi_testing::{Api, TestServer, backends};
use serde_json::{Value, json};

use crate::common::{manager_change, page_csrf};
use crate::pages::Browser;

const EDITOR: &str = "/admin/local-rules/change-notification";
const API_RULE: &str = "/api/v1/authorities/131041/local-rules/change-notification";

/// The id of the rule item with this label in the admin API's editor view.
fn item_id(editor: &Value, list: &str, label: &str) -> String {
    editor[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("{label} in {list}: {editor}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Submits a filing by API; the response.
async fn submit(api: &Api, id: &str) -> madoguchi_testing::api::Resp {
    api.post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_required_field_that_binds_only_its_own_authority() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let admin = Browser::new(&srv.base_url);
        admin.login("admin-131041").await;

        // 「管理」 is in the navigation and leads to the local rules.
        let (status, _, home) = admin.get("/inbox").await;
        assert_eq!(status, 200);
        assert!(
            home.contains("href=\"/admin\""),
            "[{backend}] 管理 in the nav"
        );
        let (_, _, overview) = admin.get("/admin/local-rules").await;
        assert!(overview.contains("href=\"/admin/local-rules/change-notification\""));
        assert!(overview.contains("システムに組み込みの定義ファイル"));

        // The editor starts from the ward's embedded file.
        let (status, _, page) = admin.get(EDITOR).await;
        assert_eq!(status, 200, "[{backend}] {page}");
        assert!(page.contains("届出担当者の氏名") && page.contains("事業所の写真"));
        let token = page_csrf(&page);

        // Bad input is answered in Japanese beside the control, nothing saved.
        let (status, _, page) = admin
            .post(
                &format!("{EDITOR}/edit"),
                &[
                    ("csrf_token", &token),
                    ("op", "add_field"),
                    ("label", " "),
                    ("kind", "select"),
                ],
            )
            .await;
        assert_eq!(status, 422, "[{backend}]");
        assert!(page.contains("項目名を入力してください。"), "{page}");
        assert!(page.contains("選択肢を1行に1つずつ入力してください。"));
        assert!(page.contains("id=\"add_field-label-error\""));

        // A required telephone field, through the form.
        let (status, url, page) = admin
            .post(
                &format!("{EDITOR}/edit"),
                &[
                    ("csrf_token", &token),
                    ("op", "add_field"),
                    ("label", "区内の緊急連絡先"),
                    ("kind", "phone"),
                    ("required", "1"),
                    ("help", "夜間も連絡のつく番号をお書きください。"),
                ],
            )
            .await;
        assert_eq!(status, 200, "[{backend}] {page}");
        assert!(url.ends_with("done=edited"), "{url}");
        assert!(page.contains("区内の緊急連絡先") && page.contains("公開していない変更があります"));

        // Not published yet: a provider's complete filing to 新宿区 has no problem.
        let p1 = srv.api("provider1").await;
        let shinjuku = manager_change(&p1, "1370400010", "2026-11-20").await;
        let r = p1.get(&format!("/api/v1/filings/{shinjuku}")).await;
        assert_eq!(r.body["problems"], json!([]), "[{backend}] {}", r.text);

        // The preview shows the provider's form with the field, and the sample's validation
        // names it.
        let (status, _, preview) = admin.get(&format!("{EDITOR}/preview")).await;
        assert_eq!(status, 200, "[{backend}] {preview}");
        assert!(preview.contains("区内の緊急連絡先"));
        assert!(preview.contains("新宿区の独自項目"));
        assert!(preview.contains("区内の緊急連絡先を入力してください。（新宿区の独自ルール）"));
        // The admin types a number into the preview and checks again: no problem left.
        let api_admin = srv.api("admin-131041").await;
        let editor = api_admin.get(&format!("{API_RULE}/draft")).await;
        assert_eq!(editor.status, 200, "{}", editor.text);
        let field = item_id(&editor.body, "fields", "区内の緊急連絡先");
        assert!(field.starts_with("x131041_"), "{field}");
        let mut pairs: Vec<(String, String)> = vec![("csrf_token".into(), token.clone())];
        for (i, m) in preview.match_indices("name=\"_present\" value=\"") {
            let name = preview[i + m.len()..].split('"').next().unwrap();
            pairs.push(("_present".into(), name.replace("&#46;", ".")));
        }
        pairs.push((format!("fields.{field}"), "03-3209-1111".into()));
        let form: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, _, checked) = admin.post(&format!("{EDITOR}/preview"), &form).await;
        assert_eq!(status, 200);
        assert!(!checked.contains("区内の緊急連絡先を入力してください。"));
        // The same through the API.
        let r = api_admin
            .post(&format!("{API_RULE}/preview"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let problems = r.body["problems"].as_array().unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p["field"] == format!("fields.{field}") && p["code"] == "required"),
            "{}",
            r.text
        );

        // Publish (no restart): the public page lists it, and 新宿区's filings need it.
        let (status, url, page) = admin
            .post(&format!("{EDITOR}/publish"), &[("csrf_token", &token)])
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(url.ends_with("done=published"), "{url}");
        let public = srv
            .anonymous()
            .get("/api/v1/authorities/131041/local-rules")
            .await;
        assert!(public.text.contains("区内の緊急連絡先"), "{}", public.text);
        let r = submit(&p1, &shinjuku).await;
        assert_eq!(r.status, 422, "[{backend}] {}", r.text);
        let named = r.body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == format!("fields.{field}"))
            .cloned()
            .unwrap_or_else(|| panic!("the new field is named: {}", r.text));
        assert_eq!(named["code"], "required");
        assert!(
            named["message"]
                .as_str()
                .unwrap()
                .contains("区内の緊急連絡先")
        );

        // Only for 新宿区: the same change at the 横浜 establishment goes through.
        let yokohama = manager_change(&p1, "1471100048", "2026-11-20").await;
        let r = submit(&p1, &yokohama).await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);

        // Filled in, the 新宿 filing goes to both of its authorities.
        let f = p1.get(&format!("/api/v1/filings/{shinjuku}")).await;
        let mut data = f.body["data"].clone();
        data["fields"][&field] = json!("03-3209-1111");
        let r = p1
            .put(
                &format!("/api/v1/filings/{shinjuku}"),
                &json!({ "data": data }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = submit(&p1, &shinjuku).await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        assert_eq!(r.body["case_ids"].as_array().unwrap().len(), 2);

        // A case already submitted keeps the rule it was checked against: a document the
        // ward requires from now on is not on its checklist.
        let reviewer = srv.api("reviewer-131041").await;
        let cases = reviewer.get("/api/v1/cases").await;
        let case = cases.body.as_array().unwrap()[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = api_admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "add_attachment", "label": "区の確認書", "required": true }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = api_admin
            .post(&format!("{API_RULE}/publish"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let view = reviewer.get(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(view.status, 200, "{}", view.text);
        assert!(
            !view.text.contains("区の確認書"),
            "[{backend}] the submitted case keeps its rule: {}",
            view.text
        );
        // …while a new filing to the ward is asked for it.
        let next = manager_change(&p1, "1370400010", "2026-12-01").await;
        let r = p1.get(&format!("/api/v1/filings/{next}")).await;
        assert!(
            r.text
                .contains("区の確認書を添付してください（新宿区の独自ルール）。"),
            "{}",
            r.text
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_removals_and_drafts_that_no_longer_load() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let admin = srv.api("admin-131041").await;
        let p1 = srv.api("provider1").await;

        // An optional field, published; a provider's draft answers it.
        let r = admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "add_field", "label": "担当者の部署", "kind": "text" }),
            )
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        let field = item_id(&r.body, "fields", "担当者の部署");
        // A deadline of 3 days after the change, instead of the standard 10.
        let r = admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "set_deadline", "after": "change_date", "days": 3 }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["deadline"]["label"],
            "変更年月日から3日以内（新宿区）"
        );
        // Bad edits name their field.
        let r = admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "set_deadline", "after": "change_items", "days": 0 }),
            )
            .await;
        assert_eq!(r.status, 422);
        let fields: Vec<&str> = r.body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["after", "days"], "{}", r.text);
        let r = admin
            .post(&format!("{API_RULE}/draft"), &json!({ "op": "nonsense" }))
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = admin.post(&format!("{API_RULE}/publish"), &json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["base"], "published");

        let draft = manager_change(&p1, "1370400010", "2026-11-20").await;
        let f = p1.get(&format!("/api/v1/filings/{draft}")).await;
        let mut data = f.body["data"].clone();
        data["fields"][&field] = json!("介護保険課");
        let r = p1
            .put(
                &format!("/api/v1/filings/{draft}"),
                &json!({ "data": data }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // The admin removes the field and publishes: the draft in flight still saves (the
        // answer to the removed field is dropped) and submits.
        let r = admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "remove_item", "id": field }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "remove_item", "id": field }),
            )
            .await;
        assert_eq!(r.status, 422, "already removed: {}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["field"], "id");
        let r = admin.post(&format!("{API_RULE}/publish"), &json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let f = p1.get(&format!("/api/v1/filings/{draft}")).await;
        let r = p1
            .put(
                &format!("/api/v1/filings/{draft}"),
                &json!({ "data": f.body["data"] }),
            )
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        // A field that never existed is still refused.
        let mut bad = f.body["data"].clone();
        bad["fields"]["x131041_nothing"] = json!("x");
        let r = p1
            .put(&format!("/api/v1/filings/{draft}"), &json!({ "data": bad }))
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        let r = submit(&p1, &draft).await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);

        // 新宿区's case is due 3 days after the change; 東京都's by the standard 10 days.
        let reviewer = srv.api("reviewer-131041").await;
        let cases = reviewer.get("/api/v1/cases").await;
        assert_eq!(cases.body[0]["due_on"], "2026-11-23", "{}", cases.text);
        let tokyo = srv.api("reviewer-130001").await;
        let cases = tokyo.get("/api/v1/cases").await;
        assert_eq!(cases.body[0]["due_on"], "2026-11-30", "{}", cases.text);

        // Nothing to publish or discard now.
        let r = admin.post(&format!("{API_RULE}/publish"), &json!({})).await;
        assert_eq!(r.status, 409, "{}", r.text);
        let r = admin
            .request(
                reqwest::Method::DELETE,
                &format!("{API_RULE}/draft"),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.text);

        // A stored draft that no longer loads (as after a release changed the procedure) is
        // shown with the loader's message, refused for publishing, and can be discarded.
        let r = admin
            .post(
                &format!("{API_RULE}/draft"),
                &json!({ "op": "set_summary", "summary": "書き換え前", "form_number": "" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        srv.db
            .execute(
                "UPDATE authority_local_rule_drafts SET source = source || '\n[[rules]]\nid = \"r\"\ncheck = \"no_such_field > 1\"\nfield = \"change_date\"\nmessage = \"x\"\n'",
            )
            .await;
        let r = admin.get(&format!("{API_RULE}/draft")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.body["load_errors"][0]
                .as_str()
                .unwrap()
                .contains("no_such_field"),
            "{}",
            r.text
        );
        let r = admin.post(&format!("{API_RULE}/publish"), &json!({})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["field"], "source");
        assert_eq!(r.body["error"]["fields"][0]["code"], "local_rules_invalid");
        assert!(
            r.body["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("no_such_field"),
            "the loader's message: {}",
            r.text
        );
        let r = admin
            .request(
                reqwest::Method::DELETE,
                &format!("{API_RULE}/draft"),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        let r = admin.get(&format!("{API_RULE}/draft")).await;
        assert_eq!(r.body["base"], "published");
        assert_eq!(r.body["load_errors"], json!([]));

        // What was published is loaded again at the next start (here: from the database).
        let n = madoguchi_core::admin::local_rules::load_published(&srv.app)
            .await
            .unwrap();
        assert_eq!(n, 1);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_authoritys_admin_may_change_its_local_rules() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let body = json!({ "op": "add_field", "label": "x", "kind": "text" });
        // A reviewer of the ward: refused (403), by page and API.
        let reviewer = srv.api("reviewer-131041").await;
        let r = reviewer.post(&format!("{API_RULE}/draft"), &body).await;
        assert_eq!(r.status, 403, "[{backend}] {}", r.text);
        let page = Browser::new(&srv.base_url);
        page.login("reviewer-131041").await;
        let (status, _, html) = page.get(EDITOR).await;
        assert_eq!(status, 403);
        assert!(html.contains("この操作はできません"));
        let (_, _, inbox) = page.get("/inbox").await;
        assert!(!inbox.contains("href=\"/admin\""), "no 管理 for reviewers");
        // Another authority's admin: as if it did not exist (404).
        let other = srv.api("admin-141003").await;
        for r in [
            other.post(&format!("{API_RULE}/draft"), &body).await,
            other.get(&format!("{API_RULE}/draft")).await,
            other.post(&format!("{API_RULE}/publish"), &json!({})).await,
        ] {
            assert_eq!(r.status, 404, "[{backend}] {}", r.text);
        }
        // An unknown procedure is 404 too.
        let admin = srv.api("admin-131041").await;
        let r = admin
            .get("/api/v1/authorities/131041/local-rules/no-such-procedure/draft")
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
        // Nothing was changed: the audit trail has no local-rules event.
        let events = srv
            .db
            .execute("UPDATE audit_events SET action = action WHERE action LIKE 'local_rules.%'")
            .await;
        assert_eq!(events, 0);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_edits_the_authoritys_details_shown_with_its_local_rules() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let admin = Browser::new(&srv.base_url);
        admin.login("admin-131041").await;
        let (status, _, page) = admin.get("/admin/master").await;
        assert_eq!(status, 200, "[{backend}] {page}");
        // The code tables, read-only with their source.
        assert!(page.contains("サービス種類コード") && page.contains("地域密着型通所介護"));
        assert!(page.contains("JIS X 0401") && page.contains("法人等の種類"));
        let token = page_csrf(&page);

        let (status, _, page) = admin
            .post(
                "/admin/master/authority",
                &[
                    ("csrf_token", &token),
                    ("name", ""),
                    ("email", "kaigo@"),
                    ("address", "東京都新宿区歌舞伎町一丁目4番1号"),
                    ("phone", "03-52"),
                ],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("表示する名称を入力してください。"));
        assert!(page.contains("連絡先のメールアドレスの形式が正しくありません"));
        assert!(page.contains("電話番号は数字とハイフンで"));
        assert!(
            page.contains("value=\"東京都新宿区歌舞伎町一丁目4番1号\""),
            "kept"
        );

        let (status, url, _) = admin
            .post(
                "/admin/master/authority",
                &[
                    ("csrf_token", &token),
                    ("name", "新宿区 福祉部 介護保険課"),
                    ("email", "kaigo-hoken@shinjuku.example.lg.jp"),
                    ("address", "東京都新宿区歌舞伎町一丁目4番1号"),
                    ("phone", "０３－５２７３－４１１１"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("done=saved"), "{url}");
        // Shown to providers with the local rules, and the name everywhere.
        let public = srv
            .anonymous()
            .get("/api/v1/authorities/131041/local-rules")
            .await;
        assert_eq!(public.body["authority_name"], "新宿区 福祉部 介護保険課");
        assert_eq!(public.body["contact"]["phone"], "03-5273-4111");
        assert_eq!(
            public.body["contact"]["address"],
            "東京都新宿区歌舞伎町一丁目4番1号"
        );
        let (_, _, html) = Browser::new(&srv.base_url)
            .get("/authorities/131041/local-rules")
            .await;
        assert!(html.contains("03-5273-4111") && html.contains("お問い合わせ先"));
        // The API says the same; another authority's admin cannot change it.
        let api = srv.api("admin-131041").await;
        let r = api.get("/api/v1/authorities/131041/details").await;
        assert_eq!(
            r.body["email"], "kaigo-hoken@shinjuku.example.lg.jp",
            "{}",
            r.text
        );
        let other = srv.api("admin-141003").await;
        let r = other
            .put(
                "/api/v1/authorities/131041/details",
                &json!({ "name": "x", "email": "x@x.jp" }),
            )
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(
            srv.db
                .execute("UPDATE audit_events SET action = action WHERE action = 'authority.details_updated'")
                .await,
            1
        );
        srv.stop().await;
    }
}
