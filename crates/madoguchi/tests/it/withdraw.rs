//! Withdrawal (取下げ): the provider takes back every undecided case with a reason; each
//! authority concerned is told; decided cases stay decided; nothing can be accepted afterwards.

use std::time::Duration;

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::{only_case, representative_change};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_reaches_every_open_case_and_is_final() {
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

        // 東京都 accepts first; the other four are still open.
        let tokyo = srv.api("reviewer-130001").await;
        let tokyo_case = only_case(&tokyo).await;
        assert_eq!(
            tokyo
                .post(&format!("/api/v1/cases/{tokyo_case}/accept"), &json!({}))
                .await
                .status,
            200
        );

        // A reason is required.
        let r = p1
            .post(
                &format!("/api/v1/filings/{fid}/withdraw"),
                &json!({ "reason": "  " }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "reason");

        let r = p1
            .post(
                &format!("/api/v1/filings/{fid}/withdraw"),
                &json!({ "reason": "代表者の就任が延期になったため" }),
            )
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        let statuses: Vec<(String, String)> = r.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["authority_code"].as_str().unwrap().into(),
                    c["status"].as_str().unwrap().into(),
                )
            })
            .collect();
        for (code, status) in &statuses {
            let expected = if code == "130001" {
                "accepted"
            } else {
                "withdrawn"
            };
            assert_eq!(status, expected, "[{backend}] {code}");
        }
        // The withdrawal and its reason are in each case's history (the withdrawal history).
        let y = r.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["authority_code"] == "141003")
            .unwrap();
        let w = y["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "withdrawn")
            .expect("withdrawal event");
        assert_eq!(w["message"], "代表者の就任が延期になったため");

        // Withdrawn cases cannot be accepted or returned, and a second withdrawal is a conflict.
        let yokohama = srv.api("reviewer-141003").await;
        let ycase = only_case(&yokohama).await;
        assert_eq!(
            yokohama
                .post(&format!("/api/v1/cases/{ycase}/accept"), &json!({}))
                .await
                .status,
            409
        );
        assert_eq!(
            yokohama
                .post(
                    &format!("/api/v1/cases/{ycase}/return"),
                    &json!({ "message": "x" })
                )
                .await
                .status,
            409
        );
        assert_eq!(
            p1.post(
                &format!("/api/v1/filings/{fid}/withdraw"),
                &json!({ "reason": "再度" })
            )
            .await
            .status,
            409
        );

        // Each of the four open authorities was told, with the reason.
        srv.drain_jobs().await;
        let mails = srv.sink.wait_for(5 + 1 + 4, Duration::from_secs(10)).await;
        let notices: Vec<_> = mails
            .iter()
            .filter(|m| m.subject.contains("取り下げられました"))
            .collect();
        assert_eq!(
            notices.len(),
            4,
            "[{backend}] one withdrawal notice per open case"
        );
        assert!(
            notices
                .iter()
                .all(|m| m.body.contains("代表者の就任が延期になったため"))
        );
        srv.stop().await;
    }
}
