//! マイページ: the corporation and its establishments as the registry holds them, designations
//! with their validity in 和暦 and 西暦 (a marker when expiry is within 3 months), reachable
//! from the navigation; and its JSON counterpart.

use chrono::{Duration, NaiveDate};
use madoguchi_testing::{TestServer, backends};

use crate::common::establishment_id;
use crate::portal_web::Web;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_page_shows_the_once_only_record_and_expiring_designations() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let shibuya = establishment_id(&api, "1371300029").await;

        // Let the 渋谷 designation end in 30 days (JST today), the others stay far off.
        let today = madoguchi_core::clock::today_jst(srv.app.clock.as_ref());
        let until = today + Duration::days(30);
        let mut tx = srv.app.db.begin().await.unwrap();
        let d = madoguchi_db::registry::designations_of_establishment(&mut tx, &shibuya)
            .await
            .unwrap();
        madoguchi_db::registry::set_designation_period(
            &mut tx,
            &d[0].id,
            "2020-10-01",
            &until.format("%Y-%m-%d").to_string(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let mut web = Web::provider(&srv.base_url, "provider1").await;
        let page = web.get("/filings").await;
        assert!(
            page.html.contains("href=\"/my\""),
            "[{backend}] マイページ is in the navigation"
        );
        let page = web.get("/my").await;
        assert_eq!(page.status, 200, "[{backend}]");
        let html = &page.html;
        for text in [
            "法人・事業所の情報",
            "7040005007253",
            "社会福祉法人　さくら福祉会",
            "理事長",
            "山田　太郎",
            // 代表者の生年月日 in 和暦 and 西暦.
            "昭和35年4月12日（1960年4月12日）",
            "さくらデイサービス新宿",
            "1370400010",
            "佐藤　花子",
            // The 新宿 designations: 通所介護 by 東京都, 地域密着型通所介護 by 新宿区.
            "通所介護",
            "地域密着型通所介護",
            "令和4年4月1日（2022年4月1日）",
            "令和10年3月31日（2028年3月31日）",
            "さくら訪問介護ステーション八王子",
            "八王子市",
            "さくらデイサービス横浜",
            "横浜市",
        ] {
            assert!(html.contains(text), "[{backend}] マイページ shows {text}");
        }
        // Each value a 変更届 carries links to its change form; the others do not.
        let new_est = establishment_id(&api, "1370400010").await;
        assert!(
            html.contains(&format!(
                "/my/changes/new?item=manager&amp;establishment={new_est}"
            )) || html.contains(&format!(
                "/my/changes/new?item=manager&#38;establishment={new_est}"
            )),
            "[{backend}] the 管理者 has its change link"
        );
        assert!(html.contains("/my/changes/new?item=representative"));
        assert!(html.contains("変更届出書の記載事項ではないため"));
        // A long page: links to each establishment's card at the top of the list.
        assert!(
            html.contains("aria-label=\"事業所へ移動\"")
                && html.contains(&format!("href=\"#est-{new_est}\""))
                && html.contains(&format!("id=\"est-{new_est}\"")),
            "[{backend}] jump links to each establishment"
        );
        // Without an item, the change form offers every item to choose from.
        let chooser = web.get("/my/changes/new").await;
        assert_eq!(chooser.status, 200, "[{backend}]");
        assert!(chooser.html.contains("変更する事項を選ぶ"));
        assert!(chooser.html.contains("/my/changes/new?item=head_office"));
        assert!(
            chooser
                .html
                .contains(&format!("item=capacity&#38;establishment={new_est}"))
        );
        // The expiring designation is marked, in its row and at the top.
        let until_ja = madoguchi_domain::wareki::format_date_ja(until);
        assert!(html.contains(&until_ja), "[{backend}] {until_ja}");
        assert!(
            html.contains("満了まで3か月以内（あと30日）"),
            "[{backend}] expiry marker"
        );
        assert!(html.contains("指定の有効期間がまもなく満了します"));
        assert_eq!(
            html.matches("満了まで3か月以内").count(),
            1,
            "[{backend}] only the 渋谷 designation is marked"
        );

        // The JSON counterpart carries the same, with the status of each designation.
        let r = api.get("/api/v1/organisation").await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        assert_eq!(r.body["corporation"]["corporate_number"], "7040005007253");
        let ests = r.body["establishments"].as_array().unwrap();
        assert_eq!(ests.len(), 4);
        for e in ests {
            for d in e["designations"].as_array().unwrap() {
                let until =
                    NaiveDate::parse_from_str(d["valid_until"].as_str().unwrap(), "%Y-%m-%d")
                        .unwrap();
                let expected = if until < today {
                    "expired"
                } else if until <= today.checked_add_months(chrono::Months::new(3)).unwrap() {
                    "expiring"
                } else {
                    "valid"
                };
                assert_eq!(d["status"], expected, "[{backend}] {d}");
            }
            let manager = e["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["key"] == "manager_name")
                .unwrap();
            assert_eq!(manager["change_item"], "manager");
            let phone = e["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["key"] == "phone")
                .unwrap();
            assert!(
                phone["change_item"].is_null(),
                "no 変更届 carries the phone"
            );
        }

        // Staff have no マイページ; another provider sees only its own corporation.
        let reviewer = srv.api("reviewer-131041").await;
        assert_eq!(reviewer.get("/api/v1/organisation").await.status, 403);
        let mut staff = Web::staff(&srv.base_url, "reviewer-131041").await;
        assert_eq!(staff.get("/my").await.status, 403);
        let other = srv.api("provider2").await;
        let r = other.get("/api/v1/organisation").await;
        assert_eq!(r.body["corporation"]["corporate_number"], "4011001098993");
        assert!(
            !r.text.contains("さくら"),
            "[{backend}] no other tenant's data"
        );
        let mut web2 = Web::provider(&srv.base_url, "provider2").await;
        let page = web2
            .get(&format!(
                "/my/changes/new?item=manager&establishment={new_est}"
            ))
            .await;
        assert_eq!(
            page.status, 404,
            "[{backend}] another corporation's establishment is not found"
        );
        // The JSON counterparts are in the OpenAPI document.
        let doc = srv.anonymous().get("/api/v1/openapi.json").await;
        for (path, method) in [
            ("/api/v1/organisation", "get"),
            ("/api/v1/changes", "post"),
            ("/api/v1/bulk-filings", "post"),
            ("/api/v1/batches/{id}", "get"),
            ("/api/v1/batches/{id}/submit", "post"),
            ("/api/v1/filings/{id}/annex-sources", "get"),
            ("/api/v1/filings/{id}/copy-annex", "post"),
        ] {
            assert!(
                doc.body["paths"][path][method].is_object(),
                "{method} {path} in the OpenAPI document"
            );
        }
        srv.stop().await;
    }
}
