//! Per-procedure statistics of an authority: exact figures for a constructed set of cases
//! (arrival and decision times set to known instants, satisfaction ratings inserted
//! directly), the period's bounds in Japanese time, the CSV download, and who may see them.

use chrono::{Datelike, FixedOffset, NaiveDate, TimeZone};
use madoguchi_testing::{Api, TestServer, backends};
use serde_json::json;

use crate::common::manager_change;
use crate::pages::Browser;

const STATS: &str = "/api/v1/authorities/131041/statistics";

/// Epoch milliseconds of a JST wall-clock time.
fn jst_ms(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    FixedOffset::east_opt(9 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .timestamp_millis()
}

/// Submits a manager change at the 新宿 establishment (cases at 東京都 and 新宿区); the
/// filing id and the id of 新宿区's case.
async fn submitted(srv: &TestServer, p1: &Api) -> (String, String) {
    let fid = manager_change(p1, "1370400010", "2026-11-20").await;
    let r = p1
        .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Of its two cases, 新宿区's is the one 新宿区's reviewer can open.
    let reviewer = srv.api("reviewer-131041").await;
    let mut mine = None;
    for id in r.body["case_ids"].as_array().unwrap() {
        let id = id.as_str().unwrap();
        if reviewer.get(&format!("/api/v1/cases/{id}")).await.status == 200 {
            mine = Some(id.to_string());
        }
    }
    (fid, mine.expect("a case at 新宿区"))
}

/// Sets when 新宿区's case of a filing arrived and was decided.
async fn times(srv: &TestServer, fid: &str, submitted_at: i64, decided_at: Option<i64>) {
    let decided = decided_at.map_or("decided_at".to_string(), |d| d.to_string());
    let n = srv
        .db
        .execute(&format!(
            "UPDATE cases SET submitted_at = {submitted_at}, decided_at = {decided}
             WHERE filing_id = '{fid}' AND authority_code = '131041'"
        ))
        .await;
    assert_eq!(n, 1);
}

async fn rate(srv: &TestServer, fid: &str, user: &str, score: i64) {
    let n = srv
        .db
        .execute(&format!(
            "INSERT INTO satisfaction_ratings (id, filing_id, user_id, score, comment, created_at)
             SELECT '{fid}-{user}', '{fid}', id, {score}, '', 0 FROM users WHERE login = '{user}'"
        ))
        .await;
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_are_exact_for_a_constructed_set_of_cases() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let reviewer = srv.api("reviewer-131041").await;
        let accept = |case: String| {
            let reviewer = reviewer.clone();
            async move {
                let r = reviewer
                    .post(&format!("/api/v1/cases/{case}/accept"), &json!({}))
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
        };
        let give_back = |case: String| {
            let reviewer = reviewer.clone();
            async move {
                let r = reviewer
                    .post(
                        &format!("/api/v1/cases/{case}/return"),
                        &json!({ "message": "管理者の資格証の写しが不鮮明です。" }),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
        };

        // A: accepted after 2 days.
        let (a, case) = submitted(&srv, &p1).await;
        accept(case).await;
        times(
            &srv,
            &a,
            jst_ms(2026, 5, 1, 0, 0),
            Some(jst_ms(2026, 5, 3, 0, 0)),
        )
        .await;
        // B: returned, resubmitted, accepted after 5.5 days.
        let (b, case) = submitted(&srv, &p1).await;
        give_back(case.clone()).await;
        let r = p1
            .post(&format!("/api/v1/filings/{b}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "resubmission: {}", r.text);
        accept(case).await;
        times(
            &srv,
            &b,
            jst_ms(2026, 5, 10, 0, 0),
            Some(jst_ms(2026, 5, 15, 12, 0)),
        )
        .await;
        // G: accepted after 1 day.
        let (g, case) = submitted(&srv, &p1).await;
        accept(case).await;
        times(
            &srv,
            &g,
            jst_ms(2026, 6, 1, 9, 0),
            Some(jst_ms(2026, 6, 2, 9, 0)),
        )
        .await;
        // C: waiting; D: returned (both pending).
        let (c, _) = submitted(&srv, &p1).await;
        times(&srv, &c, jst_ms(2026, 7, 1, 9, 0), None).await;
        let (d, case) = submitted(&srv, &p1).await;
        give_back(case).await;
        times(&srv, &d, jst_ms(2026, 7, 2, 9, 0), None).await;
        // E: withdrawn.
        let (e, _) = submitted(&srv, &p1).await;
        let r = p1
            .post(
                &format!("/api/v1/filings/{e}/withdraw"),
                &json!({ "reason": "誤って提出しました。" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        times(&srv, &e, jst_ms(2026, 8, 1, 9, 0), None).await;
        // H: arrived on the last evening of the fiscal year (in); F: a minute before the year
        // began (out).
        let (h, _) = submitted(&srv, &p1).await;
        times(&srv, &h, jst_ms(2027, 3, 31, 23, 59), None).await;
        let (f, case) = submitted(&srv, &p1).await;
        accept(case).await;
        times(
            &srv,
            &f,
            jst_ms(2026, 3, 31, 23, 59),
            Some(jst_ms(2026, 4, 29, 23, 59)),
        )
        .await;

        // Ratings: A 5, B 4, C 2 count; F's (outside the period) and one of a filing that
        // never reached 新宿区 do not.
        rate(&srv, &a, "provider1", 5).await;
        rate(&srv, &b, "provider1", 4).await;
        rate(&srv, &c, "provider1", 2).await;
        rate(&srv, &f, "provider1", 1).await;
        let yokohama = manager_change(&p1, "1471100048", "2026-11-20").await;
        let r = p1
            .post(&format!("/api/v1/filings/{yokohama}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        rate(&srv, &yokohama, "provider1", 1).await;

        let admin = srv.api("admin-131041").await;
        let r = admin
            .get(&format!("{STATS}?from=2026-04-01&to=2027-03-31"))
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        assert_eq!(r.body["from"], "2026-04-01");
        assert_eq!(r.body["to"], "2027-03-31");
        let row = r.body["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["procedure_id"] == "change-notification")
            .unwrap()
            .clone();
        assert_eq!(row["procedure_title"], "変更届出書");
        assert_eq!(row["received"], 7, "[{backend}] {row}");
        assert_eq!(row["pending"], 3);
        assert_eq!(row["decided"], 3);
        assert_eq!(row["withdrawn"], 1);
        assert_eq!(row["median_days_to_decide"], 2.0);
        assert_eq!(row["decided_after_return"], 1);
        assert!((row["return_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!((row["satisfaction_average"].as_f64().unwrap() - 11.0 / 3.0).abs() < 1e-12);
        assert_eq!(row["satisfaction_count"], 3);
        assert_eq!(r.body["total"]["received"], 7);
        // Other procedures are listed with zeros and no median.
        let other = r.body["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["procedure_id"] == "accident-report")
            .unwrap();
        assert_eq!(other["received"], 0);
        assert_eq!(other["median_days_to_decide"], json!(null));

        // The period before: only F.
        let r = admin
            .get(&format!("{STATS}?from=2025-04-01&to=2026-03-31"))
            .await;
        assert_eq!(r.body["total"]["received"], 1, "{}", r.text);
        assert_eq!(r.body["total"]["median_days_to_decide"], 29.0);
        assert_eq!(r.body["total"]["satisfaction_average"], 1.0);

        // Without a period: the fiscal year of today (in Japan).
        let today = chrono::Utc::now()
            .with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap())
            .date_naive();
        let start_year = if today.month() >= 4 {
            today.year()
        } else {
            today.year() - 1
        };
        let r = admin.get(STATS).await;
        assert_eq!(
            r.body["from"],
            NaiveDate::from_ymd_opt(start_year, 4, 1)
                .unwrap()
                .to_string()
        );
        assert_eq!(
            r.body["to"],
            NaiveDate::from_ymd_opt(start_year + 1, 3, 31)
                .unwrap()
                .to_string()
        );

        // The page and the CSV say the same.
        let page = Browser::new(&srv.base_url);
        page.login("admin-131041").await;
        let (status, _, html) = page
            .get("/admin/statistics?from=2026-04-01&to=2027-03-31")
            .await;
        assert_eq!(status, 200);
        assert!(html.contains("33.3%") && html.contains("3.67") && html.contains("（1/3件）"));
        let csv = page
            .get("/admin/statistics/download?from=2026-04-01&to=2027-03-31")
            .await
            .2;
        assert!(csv.starts_with("\u{feff}手続ID,手続,受付件数,審査中,受付完了,取下げ,処理日数の中央値,差戻し後に受付完了,差戻し率,満足度の平均,満足度の回答数\r\n"), "{csv}");
        assert!(
            csv.contains("\r\nchange-notification,変更届出書,7,3,3,1,2.0,1,33.3%,3.67,3\r\n"),
            "{csv}"
        );
        assert!(
            csv.ends_with("\r\n,合計,7,3,3,1,2.0,1,33.3%,3.67,3\r\n"),
            "{csv}"
        );
        let r = admin
            .get(&format!("{STATS}?from=2026-04-01&to=2027-03-31&format=csv"))
            .await;
        assert_eq!(r.text, csv);

        // Bad periods name the field; a reviewer is refused; another authority's admin gets
        // 404.
        let r = admin.get(&format!("{STATS}?from=2026/04/01")).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "from");
        let r = admin
            .get(&format!("{STATS}?from=2026-05-01&to=2026-04-01"))
            .await;
        assert_eq!(r.body["error"]["fields"][0]["field"], "to");
        let (status, _, html) = page.get("/admin/statistics?from=x").await;
        assert_eq!(status, 422);
        assert!(html.contains("集計の開始日は「2026-04-01」の形の日付で入力してください。"));
        assert_eq!(reviewer.get(STATS).await.status, 403);
        assert_eq!(srv.api("admin-141003").await.get(STATS).await.status, 404);
        srv.stop().await;
    }
}
