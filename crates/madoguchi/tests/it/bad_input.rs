//! Bad input is refused with a 4xx naming what to fix, and nothing is half-written.

use madoguchi_testing::{TestServer, backends};
use reqwest::Method;
use serde_json::json;

use crate::common::establishment_id;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;

        // Wrong check digit in a 事業所番号.
        let r = p1
            .get("/api/v1/establishments?office_number=1471100049")
            .await;
        assert_eq!(r.status, 422, "[{backend}] {}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["field"], "office_number");
        assert!(
            r.body["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("チェックディジット"),
            "{}",
            r.text
        );

        // Unknown procedure.
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "no-such-procedure", "establishment_ids": [] }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "procedure_id");
        assert_eq!(r.body["error"]["fields"][0]["code"], "unknown_procedure");

        // Malformed JSON, wrong shape, wrong content type.
        let r = p1
            .raw(
                Method::POST,
                "/api/v1/filings",
                "application/json",
                b"{\"procedure_id\": ".to_vec(),
            )
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body["error"]["code"], "invalid_json");
        let r = p1
            .raw(
                Method::POST,
                "/api/v1/filings",
                "application/json",
                b"{\"procedure_id\": 42}".to_vec(),
            )
            .await;
        assert_eq!(r.status, 400);
        let r = p1
            .raw(
                Method::POST,
                "/api/v1/filings",
                "text/plain",
                b"hello".to_vec(),
            )
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body["error"]["code"], "unsupported_media_type");

        // A draft with a required field missing cannot be submitted; the error names it in Japanese.
        let est = establishment_id(&p1, "1370400010").await;
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
            )
            .await;
        let fid = r.body["id"].as_str().unwrap().to_string();
        let mut data = r.body["data"].clone();
        data["fields"]["change_items"] = json!(["manager"]);
        let saved = p1
            .put(&format!("/api/v1/filings/{fid}"), &json!({ "data": data }))
            .await;
        assert_eq!(saved.status, 200, "{}", saved.text);
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        let fields = r.body["error"]["fields"].as_array().unwrap();
        let change_date = fields
            .iter()
            .find(|f| f["field"] == "fields.change_date")
            .expect("change_date named");
        assert_eq!(change_date["code"], "required");
        assert!(
            change_date["message"]
                .as_str()
                .unwrap()
                .contains("変更年月日"),
            "{}",
            change_date
        );
        assert!(
            fields.iter().any(|f| f["field"] == "attachments.roster"),
            "missing attachments named: {}",
            r.text
        );

        // Unknown answer fields are refused on save, naming them.
        let mut bad = data.clone();
        bad["fields"]["no_such_field"] = json!("x");
        let r = p1
            .put(&format!("/api/v1/filings/{fid}"), &json!({ "data": bad }))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(
            r.body["error"]["fields"][0]["field"],
            "fields.no_such_field"
        );

        // An oversized body is refused with a JSON 413 and changes nothing.
        let before = p1.get(&format!("/api/v1/filings/{fid}")).await;
        let mut huge = data.clone();
        huge["fields"]["reason"] = json!("あ".repeat(2 * 1024 * 1024));
        let huge = serde_json::to_vec(&json!({ "data": huge })).unwrap();
        let r = p1
            .send_oversized(Method::PUT, &format!("/api/v1/filings/{fid}"), huge)
            .await;
        assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(200)]);
        assert_eq!(r.body["error"]["code"], "payload_too_large");
        let after = p1.get(&format!("/api/v1/filings/{fid}")).await;
        assert_eq!(before.body["data"], after.body["data"]);
        assert_eq!(before.body["lock_version"], after.body["lock_version"]);

        // Nothing half-written: the failed submit left a draft without cases or versions.
        assert_eq!(after.body["status"], "draft");
        assert_eq!(after.body["cases"], json!([]));
        assert_eq!(after.body["versions"], json!([]));
        for code in ["130001", "131041"] {
            assert_eq!(
                srv.api(&format!("reviewer-{code}"))
                    .await
                    .get("/api/v1/cases")
                    .await
                    .body,
                json!([])
            );
        }

        // A stale lock_version is a conflict, not a lost update.
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}"),
                &json!({ "data": data, "lock_version": 0 }),
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.text);

        // Bad ids and bad statuses.
        assert_eq!(p1.get("/api/v1/filings/not-an-id").await.status, 404);
        assert_eq!(
            p1.get("/api/v1/attachments/..%2F..%2Fetc%2Fpasswd")
                .await
                .status,
            404
        );
        let rv = srv.api("reviewer-131041").await;
        let r = rv.get("/api/v1/cases?status=bogus").await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "status");
        let r = rv.get("/api/v1/cases?limit=many").await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "invalid_query");
        let r = rv.get("/api/v1/no-such-thing").await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body["error"]["code"], "not_found",
            "unknown API paths answer JSON"
        );
        let r = rv
            .post(
                "/api/v1/cases/00000000-0000-0000-0000-000000000000/return",
                &json!({ "message": "" }),
            )
            .await;
        assert_eq!(
            r.status, 422,
            "an empty return message is refused before the lookup: {}",
            r.text
        );
        srv.stop().await;
    }
}
