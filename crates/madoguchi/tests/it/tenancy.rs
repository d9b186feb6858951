//! Tenancy: nobody sees another organisation's objects — they get 404, as if the object did
//! not exist — and internal notes never reach a provider.

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::{attach, establishment_id, representative_change};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_tenants_get_404_and_internal_notes_stay_internal() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let p2 = srv.api("provider2").await;
        let (fid, filing) =
            representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let att = filing["attachments"][0]["attachment_id"]
            .as_str()
            .unwrap()
            .to_string();
        let est = establishment_id(&p1, "1370400010").await;

        // provider2 cannot see provider1's filing, establishment or file — nor act on them.
        for path in [
            format!("/api/v1/filings/{fid}"),
            format!("/api/v1/establishments/{est}"),
            format!("/api/v1/attachments/{att}"),
        ] {
            let r = p2.get(&path).await;
            assert_eq!(r.status, 404, "[{backend}] {path}: {}", r.text);
            assert_eq!(r.body["error"]["code"], "not_found");
        }
        assert_eq!(
            p2.put(&format!("/api/v1/filings/{fid}"), &json!({ "data": {} }))
                .await
                .status,
            404
        );
        assert_eq!(
            p2.post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
                .await
                .status,
            404
        );
        assert_eq!(
            p2.post(
                &format!("/api/v1/filings/{fid}/withdraw"),
                &json!({ "reason": "x" })
            )
            .await
            .status,
            404
        );
        // provider2 cannot link provider1's upload to its own filing either.
        let own_est = establishment_id(&p2, "1370401059").await;
        let own = p2
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "suspension-abolition", "establishment_ids": [own_est] }),
            )
            .await;
        assert_eq!(own.status, 201, "{}", own.text);
        let r = p2
            .post(
                &format!(
                    "/api/v1/filings/{}/attachments",
                    own.body["id"].as_str().unwrap()
                ),
                &json!({ "attachment_id": att, "requirement_id": "x" }),
            )
            .await;
        assert_eq!(r.status, 422);
        // ...and provider1's establishment is not a valid target for provider2.
        let r = p2
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["field"], "establishment_ids");

        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let yokohama_case = r.body["filing"]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["authority_code"] == "141003")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();

        // A 新宿区 reviewer gets 404 for 横浜市's case, reading or acting.
        let shinjuku = srv.api("reviewer-131041").await;
        assert_eq!(
            shinjuku
                .get(&format!("/api/v1/cases/{yokohama_case}"))
                .await
                .status,
            404
        );
        assert_eq!(
            shinjuku
                .post(&format!("/api/v1/cases/{yokohama_case}/accept"), &json!({}))
                .await
                .status,
            404
        );
        assert_eq!(
            shinjuku
                .post(
                    &format!("/api/v1/cases/{yokohama_case}/return"),
                    &json!({ "message": "x" })
                )
                .await
                .status,
            404
        );
        assert_eq!(
            shinjuku
                .post(
                    &format!("/api/v1/cases/{yokohama_case}/comments"),
                    &json!({ "message": "x" })
                )
                .await
                .status,
            404
        );
        // 横浜市 may download the files of its case; 神奈川県 may not.
        let yokohama = srv.api("reviewer-141003").await;
        assert_eq!(
            yokohama
                .get(&format!("/api/v1/attachments/{att}"))
                .await
                .status,
            200
        );
        assert_eq!(
            srv.api("reviewer-140007")
                .await
                .get(&format!("/api/v1/attachments/{att}"))
                .await
                .status,
            404
        );
        // Providers see no case inbox; reviewers cannot file.
        assert_eq!(p1.get("/api/v1/cases").await.status, 403);
        assert_eq!(
            yokohama
                .post(
                    "/api/v1/filings",
                    &json!({ "procedure_id": "change-notification" })
                )
                .await
                .status,
            403
        );

        // Internal notes: never in any provider response or e-mail; a provider cannot write one.
        let marker = "HANDOVER-SECRET-91b2";
        assert_eq!(
            yokohama
                .post(
                    &format!("/api/v1/cases/{yokohama_case}/comments"),
                    &json!({ "message": marker, "internal": true })
                )
                .await
                .status,
            201
        );
        assert_eq!(
            yokohama
                .post(
                    &format!("/api/v1/cases/{yokohama_case}/comments"),
                    &json!({ "message": "ご提出ありがとうございます。" })
                )
                .await
                .status,
            201
        );
        let r = p1
            .post(
                &format!("/api/v1/cases/{yokohama_case}/comments"),
                &json!({ "message": "内部に見せたい", "internal": true }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "internal");
        yokohama
            .post(
                &format!("/api/v1/cases/{yokohama_case}/return"),
                &json!({ "message": "確認をお願いします。" }),
            )
            .await;
        for path in [
            format!("/api/v1/filings/{fid}"),
            "/api/v1/filings".to_string(),
        ] {
            let r = p1.get(&path).await;
            assert_eq!(r.status, 200);
            assert!(
                !r.text.contains(marker),
                "[{backend}] internal note in provider response {path}"
            );
        }
        let seen = p1.get(&format!("/api/v1/filings/{fid}")).await;
        assert!(
            seen.text.contains("ご提出ありがとうございます"),
            "messages to the provider are shown"
        );
        // Staff do see it.
        assert!(
            yokohama
                .get(&format!("/api/v1/cases/{yokohama_case}"))
                .await
                .text
                .contains(marker)
        );
        srv.drain_jobs().await;
        assert!(
            srv.sink.messages().iter().all(|m| !m.raw.contains(marker)),
            "internal note in a mail"
        );
        // Unauthenticated calls are 401 with a JSON problem.
        let anon = srv.anonymous().get("/api/v1/me").await;
        assert_eq!(anon.status, 401);
        assert_eq!(anon.body["error"]["code"], "unauthorized");
        let _ = attach;
        srv.stop().await;
    }
}
