//! The inbox filters, used the way a reviewer does: 状況 (審査待ち・差戻し中・受付完了) and
//! 提出期限 (期限切れ, 期限まで7日以内) chosen in the filter form, and a two-character Japanese
//! keyword. Three filings reach 新宿区: one past its due date, one due within the week, one due
//! later and returned.

use std::collections::BTreeSet;

use chrono::{Days, Utc};
use fantoccini::Locator;
use serde_json::json;

use crate::harness::{self, Browser, server};

/// The 到達番号 listed in the inbox table.
async fn listed(b: &Browser) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in b
        .client
        .find_all(Locator::Css("main table a[href^='/cases/']"))
        .await
        .expect("case links")
    {
        out.insert(a.text().await.expect("reference"));
    }
    out
}

#[test]
fn inbox_filters_by_status_and_due_date() {
    harness::run("inbox_filters", || async {
        let srv = server::start(server::backends()[0]).await;
        let today = (Utc::now() + chrono::Duration::hours(9)).date_naive();
        let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        // Due 10 days after the change.
        let overdue = day(today - Days::new(30));
        let soon = day(today - Days::new(5));
        let later = day(today + Days::new(20));
        for (date, manager) in [
            (&overdue, "期限切　一郎"),
            (&soon, "期限近　二郎"),
            (&later, "期限先　三郎"),
        ] {
            server::submit_manager_change_on(&srv, server::SHINJUKU, manager, date).await;
        }
        let api = srv.api("reviewer-131041").await;
        let cases = api.get("/api/v1/cases").await.body;
        let reference_due = |due: chrono::NaiveDate| -> String {
            cases
                .as_array()
                .expect("cases")
                .iter()
                .find(|c| c["due_on"] == json!(day(due)))
                .unwrap_or_else(|| panic!("a case due {due}: {cases}"))["reference"]
                .as_str()
                .expect("reference")
                .to_string()
        };
        let (a, bb, c) = (
            reference_due(today - Days::new(20)),
            reference_due(today + Days::new(5)),
            reference_due(today + Days::new(30)),
        );
        // The later one is returned.
        let later_id = cases
            .as_array()
            .expect("cases")
            .iter()
            .find(|x| x["reference"] == json!(c))
            .expect("case")["id"]
            .as_str()
            .expect("id")
            .to_string();
        let r = api
            .post(
                &format!("/api/v1/cases/{later_id}/return"),
                &json!({ "message": "添付の資格証が読めません。" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        let b = Browser::open(&srv.base_url).await;
        b.sign_in_staff("reviewer-131041").await;
        b.goto("/inbox").await;
        let set = |items: &[&String]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(listed(&b).await, set(&[&a, &bb, &c]));
        // The filter form: 状況 and 提出期限 chosen from lists, a keyword typed (two Japanese
        // characters must do), then 「この条件で表示する」.
        for (status, due, keyword, expected, shot) in [
            (
                "審査待ち（提出済）",
                "指定しない",
                "",
                set(&[&a, &bb]),
                "submitted",
            ),
            ("差戻し中", "指定しない", "", set(&[&c]), "returned"),
            ("受付完了", "指定しない", "", set(&[]), "accepted"),
            ("すべて", "期限切れ", "", set(&[&a]), "overdue"),
            ("すべて", "期限まで7日以内", "", set(&[&bb]), "due-soon"),
            (
                "すべて",
                "指定しない",
                "新宿",
                set(&[&a, &bb, &c]),
                "keyword",
            ),
            ("すべて", "指定しない", "渋谷", set(&[]), "keyword-none"),
            ("すべて", "指定しない", "", set(&[&a, &bb, &c]), "all"),
        ] {
            b.select("状況", status).await;
            b.select("提出期限", due).await;
            b.fill("キーワード", keyword).await;
            b.click_in("main", "この条件で表示する").await;
            b.wait_path("/inbox").await;
            assert_eq!(
                listed(&b).await,
                expected,
                "状況 「{status}」, 提出期限 「{due}」, キーワード 「{keyword}」"
            );
            let chosen = b
                .client
                .find(Locator::Css("#f-status option:checked"))
                .await
                .expect("the chosen status stays chosen")
                .text()
                .await
                .expect("text");
            assert_eq!(chosen, status);
            if expected.is_empty() {
                assert!(
                    b.main_text()
                        .await
                        .contains("この条件に当てはまる案件はありません")
                );
            }
            b.shoot(&format!("inbox-filter-{shot}")).await;
        }
        let rows = b.main_text().await;
        assert!(
            rows.contains("期限切れ") && rows.contains("期限間近"),
            "{rows}"
        );
        srv.stop().await;
    });
}
