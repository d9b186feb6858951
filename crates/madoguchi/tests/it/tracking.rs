//! Tracking: the provider's list shows each authority's status and due date and what is
//! expected next, from whom; it filters by status and pages. Withdrawal asks for
//! confirmation (it cannot be undone), and the filing's page keeps the withdrawal history.

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::{establishment_id, only_case, representative_change};
use crate::pages::{Browser, csrf};

/// The `<li class="item…">` block of one filing on the list page.
fn item_of<'a>(page: &'a str, fid: &str) -> &'a str {
    let at = page
        .find(&format!("href=\"/filings/{fid}\""))
        .unwrap_or_else(|| panic!("filing {fid} not listed"));
    let start = page[..at].rfind("<li class=\"item").unwrap();
    let end = page[at..]
        .find("</li>\n  <li class=\"item")
        .map(|e| e + at)
        .unwrap_or(page.len());
    &page[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_shows_status_due_dates_and_next_steps_filters_and_pages() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;

        // A submitted filing that 横浜市 returned and 東京都 accepted.
        let (returned, _) =
            representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = p1
            .post(&format!("/api/v1/filings/{returned}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let yokohama = srv.api("reviewer-141003").await;
        let ycase = only_case(&yokohama).await;
        let r = yokohama
            .post(
                &format!("/api/v1/cases/{ycase}/return"),
                &json!({ "message": "ご確認ください。" }),
            )
            .await;
        assert_eq!(r.status, 200);
        let tokyo = srv.api("reviewer-130001").await;
        let tcase = only_case(&tokyo).await;
        assert_eq!(
            tokyo
                .post(&format!("/api/v1/cases/{tcase}/accept"), &json!({}))
                .await
                .status,
            200
        );
        let filing = p1.get(&format!("/api/v1/filings/{returned}")).await.body;
        let yokohama_due = filing["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["authority_code"] == "141003")
            .unwrap()["due_on"]
            .as_str()
            .expect("a 変更届 case has a due date")
            .to_string();

        // A draft with a due date.
        let (draft, draft_due) = {
            let est = establishment_id(&p1, "1471100048").await;
            let r = p1
                .post(
                    "/api/v1/filings",
                    &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
                )
                .await;
            assert_eq!(r.status, 201);
            let id = r.body["id"].as_str().unwrap().to_string();
            let mut data = r.body["data"].clone();
            data["fields"]["change_items"] = json!(["representative"]);
            data["fields"]["change_date"] = json!("2026-12-01");
            let r = p1
                .put(
                    &format!("/api/v1/filings/{id}"),
                    &json!({ "data": data, "lock_version": r.body["lock_version"] }),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            // The earliest due date among the authorities it goes to.
            let due = r.body["addressees"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a["due_on"].as_str())
                .min()
                .expect("a due date")
                .to_string();
            (id, due)
        };

        let b = Browser::new(&srv.base_url);
        b.login_oidc("provider1").await;
        let (status, _, page) = b.get("/filings").await;
        assert_eq!(status, 200);
        let item = item_of(&page, &returned);
        assert!(item.contains("次にすること"));
        assert!(
            item.contains("横浜市から修正の依頼があります") && item.contains(&yokohama_due),
            "the provider's next step, with the due date: {item}"
        );
        assert!(
            item.contains("で審査中です") && item.contains("新宿区"),
            "the authorities still deciding: {item}"
        );
        let table = &item[item.find("<tbody>").expect("per-authority table")..];
        for (name, label) in [
            ("東京都", "受付完了"),
            ("横浜市", "差戻し"),
            ("渋谷区", "提出済"),
        ] {
            let row = table.find(name).unwrap_or_else(|| panic!("{name} missing"));
            let row = table[row..].split("</tr>").next().unwrap();
            assert!(row.contains(label), "{name} has status {label}: {row}");
        }
        assert!(
            table.contains(&yokohama_due),
            "each authority's due date is in its row"
        );
        let d = item_of(&page, &draft);
        assert!(
            d.contains("入力を終えて提出してください")
                && d.contains(&format!("（期限 {draft_due}）")),
            "a draft's due date (変更後10日以内): {d}"
        );

        // Filters: each shows its filings only, with counts on the tabs.
        let (_, _, page) = b.get("/filings?status=returned").await;
        assert!(page.contains(&format!("/filings/{returned}\"")));
        assert!(!page.contains(&format!("/filings/{draft}\"")));
        assert!(page.contains("差戻しあり<span class=\"filter-tabs__count\">（1件）"));
        let (_, _, page) = b.get("/filings?status=draft").await;
        assert!(page.contains(&format!("/filings/{draft}\"")));
        assert!(!page.contains(&format!("/filings/{returned}\"")));
        let (_, _, page) = b.get("/filings?status=accepted").await;
        assert!(page.contains(&format!("/filings/{returned}\"")));
        let (_, _, page) = b.get("/filings?status=withdrawn").await;
        assert!(page.contains("「取下げ」の届出・申請はありません"));
        let (status, _, page) = b.get("/filings?status=bogus").await;
        assert_eq!(status, 422);
        assert!(page.contains("状況は draft, submitted, returned"));

        // Pages of 20: 21 more drafts make two pages of drafts.
        let est = establishment_id(&p1, "1370400010").await;
        for _ in 0..21 {
            let r = p1
                .post(
                    "/api/v1/filings",
                    &json!({ "procedure_id": "suspension-abolition", "establishment_ids": [est] }),
                )
                .await;
            assert_eq!(r.status, 201);
        }
        let (_, _, page) = b.get("/filings?status=draft").await;
        assert!(page.contains("22件中 1〜20件目"), "{page}");
        assert!(page.contains("href=\"/filings?status=draft&#38;page=2\""));
        assert_eq!(page.matches("<li class=\"item").count(), 20);
        let (_, _, page) = b.get("/filings?status=draft&page=2").await;
        assert!(page.contains("22件中 21〜22件目"));
        assert_eq!(page.matches("<li class=\"item").count(), 2);
        // The oldest draft (the change notification) is on the last page.
        assert!(page.contains(&format!("/filings/{draft}\"")));
        let (status, _, _) = b.get("/filings?page=abc").await;
        assert_eq!(status, 200, "a page that is not a number is page 1");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_is_confirmed_and_recorded_in_the_history() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        assert_eq!(
            p1.post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
                .await
                .status,
            200
        );
        let tokyo = srv.api("reviewer-130001").await;
        let tcase = only_case(&tokyo).await;
        assert_eq!(
            tokyo
                .post(&format!("/api/v1/cases/{tcase}/accept"), &json!({}))
                .await
                .status,
            200
        );

        let b = Browser::new(&srv.base_url);
        b.login_oidc("provider1").await;
        let (_, _, detail) = b.get(&format!("/filings/{fid}")).await;
        assert!(detail.contains(&format!("href=\"/filings/{fid}/withdraw\"")));
        let (status, _, page) = b.get(&format!("/filings/{fid}/withdraw")).await;
        assert_eq!(status, 200);
        assert!(page.contains("取り下げると元に戻せません"));
        assert!(
            page.contains("新宿区") && page.contains("横浜市"),
            "the authorities it reaches"
        );
        assert!(page.contains("受付が完了している提出先（東京都）"));
        let token = csrf(&page);

        // No reason: the message beside the field.
        let (status, _, page) = b
            .post(
                &format!("/filings/{fid}/withdraw"),
                &[("csrf_token", token.as_str()), ("reason", "  ")],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("取下げの理由を入力してください。"));

        // A reason leads to the confirmation, which changes nothing yet.
        let reason = "代表者の就任が延期になったため";
        let (status, _, page) = b
            .post(
                &format!("/filings/{fid}/withdraw"),
                &[("csrf_token", token.as_str()), ("reason", reason)],
            )
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("この内容で取り下げますか") && page.contains(reason));
        assert!(page.contains("name=\"confirm\" value=\"yes\""));
        let f = p1.get(&format!("/api/v1/filings/{fid}")).await.body;
        assert!(
            f["cases"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["status"] != "withdrawn"),
            "[{backend}] nothing is withdrawn before confirming"
        );

        // Confirmed: withdrawn, and the history says who, when, why and where.
        let (status, url, page) = b
            .post(
                &format!("/filings/{fid}/withdraw"),
                &[
                    ("csrf_token", token.as_str()),
                    ("reason", reason),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(url, format!("/filings/{fid}?done=withdrawn"));
        let history = &page[page.find("取下げの履歴").expect("history")..];
        assert!(history.contains("木村　さくら"), "who");
        assert!(history.contains(reason), "why");
        for a in ["新宿区", "渋谷区", "八王子市", "横浜市"] {
            assert!(history.contains(a), "{a} in the history");
        }
        let listed = history.split("</section>").next().unwrap();
        assert!(
            !listed.contains("東京都"),
            "the accepted case was not withdrawn"
        );
        let f = p1.get(&format!("/api/v1/filings/{fid}")).await.body;
        let withdrawn = f["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "withdrawn")
            .count();
        assert_eq!(withdrawn, 4);
        // Nothing left to withdraw.
        let (status, _, _) = b
            .post(
                &format!("/filings/{fid}/withdraw"),
                &[
                    ("csrf_token", token.as_str()),
                    ("reason", reason),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(status, 409);
        srv.stop().await;
    }
}
