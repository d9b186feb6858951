//! Retries and races: an Idempotency-Key makes a repeated submit a no-op; two reviewers
//! accepting at once yield exactly one acceptance and one 409.

use madoguchi_testing::{TestServer, backends};
use reqwest::Method;
use serde_json::json;

use crate::common::{only_case, representative_change};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_idempotency_key_submits_once() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let path = format!("/api/v1/filings/{fid}/submit");
        // Fire two submits with the same key at once, then a third after.
        let (a, b) = tokio::join!(
            p1.request(Method::POST, &path, None, &[("Idempotency-Key", "k-1")]),
            p1.request(Method::POST, &path, None, &[("Idempotency-Key", "k-1")])
        );
        let c = p1
            .request(Method::POST, &path, None, &[("Idempotency-Key", "k-1")])
            .await;
        for r in [&a, &b, &c] {
            assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        }
        let fresh: Vec<_> = [&a, &b, &c]
            .iter()
            .filter(|r| r.body["replayed"] == false)
            .map(|r| r.body["case_ids"].as_array().unwrap().len())
            .collect();
        assert_eq!(fresh, vec![5], "[{backend}] exactly one call submitted");
        let filing = p1.get(&format!("/api/v1/filings/{fid}")).await;
        assert_eq!(
            filing.body["versions"].as_array().unwrap().len(),
            1,
            "one submission, one version"
        );
        assert_eq!(filing.body["cases"].as_array().unwrap().len(), 5);
        // The same key on another filing is a conflict, not a silent replay.
        let (other, _) = representative_change(&srv, &p1, "別の　人", "ベツノ　ヒト").await;
        let r = p1
            .request(
                Method::POST,
                &format!("/api/v1/filings/{other}/submit"),
                None,
                &[("Idempotency-Key", "k-1")],
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.text);
        // Without a key, submitting an already submitted filing is a conflict too.
        let r = p1.post(&path, &json!({})).await;
        assert_eq!(r.status, 409);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_accept_yields_one_accept_and_one_conflict() {
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
        let r1 = srv.api("reviewer-141003").await;
        let r2 = srv.api("admin-141003").await;
        let case_id = only_case(&r1).await;
        let path = format!("/api/v1/cases/{case_id}/accept");
        let empty = json!({});
        let (a, b) = tokio::join!(r1.post(&path, &empty), r2.post(&path, &empty));
        let mut statuses = vec![a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            vec![200, 409],
            "[{backend}] {} / {}",
            a.text,
            b.text
        );
        let loser = if a.status == 409 { &a } else { &b };
        assert_eq!(loser.body["error"]["code"], "conflict");
        // The registry change was applied once: one set of change rows for this case.
        let case = r1.get(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(
            case.body["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "accepted")
                .count(),
            1
        );
        srv.stop().await;
    }
}
