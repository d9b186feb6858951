//! Shared steps of the integration tests.

use madoguchi_testing::{Api, TestServer};
use serde_json::{Value, json};

/// The five authorities the demo corporation's designations route to.
pub const FANOUT: [&str; 5] = ["130001", "131041", "131130", "132012", "141003"];

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

/// Uploads a small PDF-like file and links it to a requirement of the filing.
pub async fn attach(api: &Api, filing_id: &str, requirement: &str, content: &str) -> String {
    let up = api
        .upload(
            &format!("{requirement}.pdf"),
            format!("%PDF-1.4\n{content}\n%%EOF").into_bytes(),
        )
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["attachment_id"].as_str().unwrap().to_string();
    let r = api
        .post(
            &format!("/api/v1/filings/{filing_id}/attachments"),
            &json!({ "attachment_id": id, "requirement_id": requirement }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// A complete, submittable 代表者 change by provider1, filed for its 横浜 establishment.
/// Returns (filing id, filing JSON).
pub async fn representative_change(
    srv: &TestServer,
    api: &Api,
    new_name: &str,
    new_kana: &str,
) -> (String, Value) {
    let yokohama = establishment_id(api, "1471100048").await;
    let r = api
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "change-notification", "establishment_ids": [yokohama] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    // Prefilled from the registry: the current representative.
    assert_eq!(
        r.body["data"]["fields"]["representative_name"],
        "山田　太郎"
    );
    let mut data = r.body["data"].clone();
    data["fields"]["change_items"] = json!(["representative"]);
    data["fields"]["change_date"] = json!("2026-11-01");
    data["fields"]["representative_name"] = json!(new_name);
    data["fields"]["representative_kana"] = json!(new_kana);
    let r = api
        .put(
            &format!("/api/v1/filings/{id}"),
            &json!({ "data": data, "lock_version": r.body["lock_version"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    attach(api, &id, "registry_certificate", "登記事項証明書").await;
    attach(api, &id, "pledge", "誓約書").await;
    let _ = srv;
    let r = api.get(&format!("/api/v1/filings/{id}")).await;
    assert_eq!(
        r.body["problems"],
        json!([]),
        "the filing should be complete: {}",
        r.text
    );
    (id, r.body)
}

/// The single case id a reviewer's inbox holds.
pub async fn only_case(api: &Api) -> String {
    let r = api.get("/api/v1/cases").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body.as_array().unwrap();
    assert_eq!(items.len(), 1, "one case expected: {}", r.text);
    items[0]["id"].as_str().unwrap().to_string()
}

// ---- Authority admin (issue #4, workspace part B) ------------------------------------------

/// A complete 管理者 change by provider1 for the establishment with this 事業所番号, via the
/// API (changed on `change_date`, with the three documents it needs); returns the filing id.
/// Not submitted.
pub async fn manager_change(api: &Api, office_number: &str, change_date: &str) -> String {
    let est = establishment_id(api, office_number).await;
    let r = api
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut data = r.body["data"].clone();
    data["fields"]["change_items"] = json!(["manager"]);
    data["fields"]["change_date"] = json!(change_date);
    data["establishments"][&est]["manager_name"] = json!("渡辺　直美");
    data["establishments"][&est]["manager_kana"] = json!("ワタナベ　ナオミ");
    data["establishments"][&est]["manager_birth_date"] = json!("1982-03-04");
    data["establishments"][&est]["manager_address"] = json!("東京都新宿区大久保一丁目1番1号");
    let r = api
        .put(&format!("/api/v1/filings/{id}"), &json!({ "data": data }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for requirement in ["roster", "qualification", "pledge"] {
        attach(api, &id, requirement, requirement).await;
    }
    id
}

/// The value of the first `name="csrf_token"` input of a page.
pub fn page_csrf(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("csrf token on page") + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}
