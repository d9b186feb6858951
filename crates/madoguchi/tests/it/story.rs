//! The foundation story: a 代表者 change fans out to five authorities; one returns it with a
//! pinned field; the provider corrects and resubmits; all accept; the registry, the mails and
//! the audit chain show it.

use std::time::Duration;

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::{FANOUT, only_case, representative_change};

const MARKER: &str = "INTERNAL-NOTE-MARKER-7f3a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn representative_change_fans_out_is_returned_corrected_and_accepted_everywhere() {
    for backend in backends() {
        story(TestServer::start(backend).await).await;
    }
}

async fn story(srv: TestServer) {
    let backend = srv.db.backend;
    let p1 = srv.api("provider1").await;
    let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;

    let r = p1
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/filings/{fid}/submit"),
            None,
            &[("Idempotency-Key", "story-1")],
        )
        .await;
    assert_eq!(r.status, 200, "[{backend}] {}", r.text);
    assert_eq!(
        r.body["case_ids"].as_array().unwrap().len(),
        5,
        "[{backend}] fans out to five authorities"
    );
    let mut authorities: Vec<String> = r.body["filing"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["authority_code"].as_str().unwrap().to_string())
        .collect();
    authorities.sort();
    assert_eq!(authorities, FANOUT);

    // Each reviewer sees exactly its own case; 神奈川県 designated nothing here and sees none.
    let mut case_of = std::collections::BTreeMap::new();
    for code in FANOUT {
        let rv = srv.api(&format!("reviewer-{code}")).await;
        let id = only_case(&rv).await;
        let c = rv.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(c.body["authority_code"], code);
        assert_eq!(c.body["status"], "submitted");
        case_of.insert(code, (rv, id));
    }
    let kanagawa = srv.api("reviewer-140007").await;
    assert_eq!(kanagawa.get("/api/v1/cases").await.body, json!([]));

    // 新宿区 writes an internal hand-over note; 横浜市 returns with a pinned field.
    let (shinjuku, shinjuku_case) = &case_of["131041"];
    let r = shinjuku
        .post(
            &format!("/api/v1/cases/{shinjuku_case}/comments"),
            &json!({ "message": format!("担当引継ぎ {MARKER}"), "internal": true }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (yokohama, yokohama_case) = &case_of["141003"];
    // The return carries a file from the authority (a marked-up copy).
    let up = yokohama
        .upload("朱書き.pdf", b"%PDF-1.4\nmarked up\n%%EOF".to_vec())
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let returned_file = up.body["attachment_id"].as_str().unwrap().to_string();
    let r = yokohama
        .post(
            &format!("/api/v1/cases/{yokohama_case}/return"),
            &json!({ "message": "代表者のフリガナが登記と異なります。ご確認ください。", "fields": ["fields.representative_kana"], "attachment_ids": [returned_file] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "returned");

    // The provider sees the return and the pinned field, never the internal note.
    let r = p1.get(&format!("/api/v1/filings/{fid}")).await;
    assert!(
        !r.text.contains(MARKER),
        "internal note leaked to the provider"
    );
    let y = r.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["authority_code"] == "141003")
        .unwrap()
        .clone();
    assert_eq!(y["status"], "returned");
    let ret = y["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "returned")
        .unwrap();
    assert_eq!(ret["fields"], json!(["fields.representative_kana"]));
    // The provider can download the authority's file; another corporation cannot.
    assert_eq!(ret["attachment_ids"], json!([returned_file]));
    let dl = p1
        .get(&format!("/api/v1/attachments/{returned_file}"))
        .await;
    assert_eq!(dl.status, 200);
    assert!(dl.text.contains("marked up"));
    assert_eq!(
        srv.api("provider2")
            .await
            .get(&format!("/api/v1/attachments/{returned_file}"))
            .await
            .status,
        404
    );

    // Correction and resubmission: only the returned case moves, to version 2.
    let mut data = r.body["data"].clone();
    data["fields"]["representative_kana"] = json!("ササキ　イチロー");
    let r = p1
        .put(&format!("/api/v1/filings/{fid}"), &json!({ "data": data }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = p1
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/filings/{fid}/submit"),
            None,
            &[("Idempotency-Key", "story-2")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["case_ids"], json!([yokohama_case]));
    assert_eq!(r.body["version_no"], 2);

    // Both versions stay retrievable.
    let v1 = yokohama
        .get(&format!("/api/v1/cases/{yokohama_case}?version=1"))
        .await;
    assert_eq!(
        v1.body["data"]["fields"]["representative_kana"],
        "ササキ　イチロウ"
    );
    let v2 = yokohama
        .get(&format!("/api/v1/cases/{yokohama_case}"))
        .await;
    assert_eq!(v2.body["version_no"], 2);
    assert_eq!(
        v2.body["data"]["fields"]["representative_kana"],
        "ササキ　イチロー"
    );
    assert_eq!(v2.body["status"], "submitted");

    // All five accept.
    for code in FANOUT {
        let (rv, id) = &case_of[code];
        let r = rv
            .post(&format!("/api/v1/cases/{id}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "[{backend}] accept at {code}: {}", r.text);
        assert_eq!(r.body["status"], "accepted");
    }

    // The corporation record shows the new representative (data entered once, reused next time).
    let corp = p1.get("/api/v1/corporation").await;
    assert_eq!(corp.body["record"]["representative_name"], "佐々木　一郎");
    assert_eq!(
        corp.body["record"]["representative_kana"],
        "ササキ　イチロー"
    );
    let yokohama_est = crate::common::establishment_id(&p1, "1471100048").await;
    let next = p1
        .post(
            "/api/v1/filings",
            &json!({ "procedure_id": "change-notification", "establishment_ids": [yokohama_est] }),
        )
        .await;
    assert_eq!(
        next.body["data"]["fields"]["representative_name"], "佐々木　一郎",
        "the next filing is prefilled from the updated registry"
    );

    // Mail: five arrival notices, a return notice, a resubmission notice, five acceptances.
    srv.drain_jobs().await;
    let mails = srv.sink.wait_for(12, Duration::from_secs(10)).await;
    assert!(
        mails.len() >= 12,
        "[{backend}] expected at least 12 mails, got {}",
        mails.len()
    );
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject.contains("が提出されました"))
            .count(),
        5
    );
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject.contains("差し戻されました"))
            .count(),
        1
    );
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject.contains("再提出されました"))
            .count(),
        1
    );
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.subject.contains("受け付けられました"))
            .count(),
        5
    );
    let returned = mails
        .iter()
        .find(|m| m.subject.contains("差し戻されました"))
        .unwrap();
    assert!(
        returned
            .to
            .iter()
            .any(|t| t == "kimura@sakura-fukushi.example.jp")
    );
    assert!(returned.body.contains("代表者のフリガナが登記と異なります"));
    assert!(
        returned.body.contains("代表者"),
        "the pinned field is named in the mail"
    );
    assert!(
        mails
            .iter()
            .all(|m| !m.raw.contains(MARKER) && !m.body.contains(MARKER)),
        "internal note leaked into a mail"
    );

    // The audit chain verifies with the real CLI, and fails once a row is altered.
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"))
            .args([
                "--data-dir",
                srv.db.dir.path().to_str().unwrap(),
                "--database-url",
                &srv.db.url,
                "audit",
                "verify",
            ])
            .env("MADOGUCHI_LOG_LEVEL", "error")
            .output()
            .expect("run madoguchi")
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "[{backend}] audit verify failed: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("audit chain OK"));
    assert_eq!(
        srv.db
            .execute("UPDATE audit_events SET details = '{\"tampered\":true}' WHERE seq = 3")
            .await,
        1
    );
    let bad = verify();
    assert!(
        !bad.status.success(),
        "[{backend}] audit verify must fail after tampering"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BROKEN"));
    srv.stop().await;
}
