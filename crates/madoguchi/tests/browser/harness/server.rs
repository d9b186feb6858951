//! The servers the browsers talk to: `madoguchi_testing::TestServer` (the real server,
//! in-process, demo world, real SMTP sink) on SQLite, or on PostgreSQL when
//! `MADOGUCHI_TEST_DATABASE_URL` is set. Plus data a page needs before a browser looks at it,
//! made through the JSON API (quicker than clicking, and not what the test is about).

use madoguchi_testing::{Api, TestBackend, TestServer};
use serde_json::json;

pub use madoguchi_testing::backends;

/// The demo establishments (事業所番号) of provider1's corporation.
pub const SHINJUKU: &str = "1370400010";
pub const SHIBUYA: &str = "1371300029";
pub const HACHIOJI: &str = "1372010031";

/// Starts the real server with the demo world.
pub async fn start(backend: TestBackend) -> TestServer {
    TestServer::start(backend).await
}

/// The backend a flow runs on when it runs on one only: PostgreSQL when configured (it is
/// the less exercised of the two in the browser suite), else SQLite.
pub fn one_backend() -> TestBackend {
    *backends().last().expect("at least SQLite")
}

/// Id of provider1's establishment with this 事業所番号.
pub async fn establishment_id(api: &Api, office_number: &str) -> String {
    let r = api
        .get(&format!(
            "/api/v1/establishments?office_number={office_number}"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body[0]["id"].as_str().expect("establishment").to_string()
}

/// A tiny PDF (judged by content: it starts like one).
pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n%%EOF\n").into_bytes()
}

/// A complete 管理者 change for one establishment, submitted by provider1 through the API;
/// returns the filing id. Goes to the authorities that designated that establishment.
pub async fn submit_manager_change(srv: &TestServer, office_number: &str, manager: &str) -> String {
    submit_manager_change_on(srv, office_number, manager, "2026-11-20").await
}

/// Like [`submit_manager_change`] with the change on `change_date` (`YYYY-MM-DD`), which sets
/// the due date (10 days later; 7 at 八王子市).
pub async fn submit_manager_change_on(
    srv: &TestServer,
    office_number: &str,
    manager: &str,
    change_date: &str,
) -> String {
    let api = srv.api("provider1").await;
    let est = establishment_id(&api, office_number).await;
    let r = api
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().expect("filing id").to_string();
    let mut data = r.body["data"].clone();
    data["fields"]["change_items"] = json!(["manager"]);
    data["fields"]["change_date"] = json!(change_date);
    let e = &mut data["establishments"][&est];
    e["manager_name"] = json!(manager);
    e["manager_kana"] = json!("ワタナベ　ナオミ");
    e["manager_birth_date"] = json!("1982-03-04");
    e["manager_address"] = json!("東京都新宿区大久保一丁目1番1号");
    let r = api
        .put(
            &format!("/api/v1/filings/{id}"),
            &json!({ "data": data, "lock_version": r.body["lock_version"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for req in ["roster", "qualification", "pledge"] {
        let up = api.upload(&format!("{req}.pdf"), pdf(req)).await;
        assert_eq!(up.status, 201, "{}", up.text);
        let r = api
            .post(
                &format!("/api/v1/filings/{id}/attachments"),
                &json!({ "attachment_id": up.body["attachment_id"], "requirement_id": req }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = api
        .post(&format!("/api/v1/filings/{id}/submit"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// The ids of a reviewer's cases (newest activity first).
pub async fn case_ids(srv: &TestServer, reviewer: &str) -> Vec<String> {
    let r = srv.api(reviewer).await.get("/api/v1/cases").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_str().expect("case id").to_string())
        .collect()
}
