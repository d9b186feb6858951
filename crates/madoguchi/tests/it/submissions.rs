//! One-request submission (`POST /api/v1/submissions`): the answers and the files in one
//! multipart body, created, attached and submitted in one commit; retry-safe with an
//! Idempotency-Key; a refusal stores no filing.

use madoguchi_testing::{Api, TestServer, backends};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::establishment_id;

fn filing(est: &str, reason: &str) -> Value {
    json!({
        "procedure_id": "suspension-abolition",
        "establishment_ids": [est],
        "data": { "fields": {
            "kind": "abolition",
            "effective_date": "2027-06-01",
            "reason": reason,
            "user_measures": "近隣の事業所へ引き継ぎます。",
        }},
    })
}

fn form(filing: &Value, files: &[(&str, &[u8])]) -> Form {
    let mut f = Form::new().part(
        "filing",
        Part::text(filing.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (name, bytes) in files {
        f = f.part(
            name.to_string(),
            Part::bytes(bytes.to_vec())
                .file_name("措置の一覧.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    }
    f
}

async fn filing_count(api: &Api) -> usize {
    let r = api.get("/api/v1/filings").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_submits_with_files_and_replays_by_key() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let est = establishment_id(&p1, "1370400010").await;
        let before = filing_count(&p1).await;
        let pdf = b"%PDF-1.4\none request\n%%EOF".as_slice();

        let r = p1
            .multipart(
                "/api/v1/submissions",
                form(
                    &filing(&est, "人員の確保が難しいため。"),
                    &[("user_measures_list", pdf)],
                ),
                &[("Idempotency-Key", "one-1")],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["replayed"], false);
        assert!(!r.body["case_ids"].as_array().unwrap().is_empty());
        let f = &r.body["filing"];
        assert_eq!(f["status"], "submitted");
        assert_eq!(f["data"]["fields"]["reason"], "人員の確保が難しいため。");
        let id = f["id"].as_str().unwrap().to_string();
        // The file is linked and reads back byte for byte.
        let att = f["attachments"].as_array().unwrap();
        assert_eq!(att.len(), 1, "{f}");
        let att_id = att[0]["attachment_id"]
            .as_str()
            .or_else(|| att[0]["id"].as_str())
            .expect("attachment id");
        let got = p1.get(&format!("/api/v1/attachments/{att_id}")).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.text.as_bytes(), pdf);
        assert_eq!(filing_count(&p1).await, before + 1);

        // The same key again: the first outcome, nothing new.
        let again = p1
            .multipart(
                "/api/v1/submissions",
                form(&filing(&est, "別の理由。"), &[("user_measures_list", pdf)]),
                &[("Idempotency-Key", "one-1")],
            )
            .await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.body["replayed"], true);
        assert_eq!(again.body["filing"]["id"], id.as_str());
        assert_eq!(filing_count(&p1).await, before + 1);

        // Without a file (the requirement is optional): submitted too.
        let r = p1
            .multipart(
                "/api/v1/submissions",
                form(&filing(&est, "ファイルなし。"), &[]),
                &[],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(filing_count(&p1).await, before + 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_submission_stores_no_filing() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let est = establishment_id(&p1, "1370400010").await;
        let before = filing_count(&p1).await;
        let pdf = b"%PDF-1.4\nrefused\n%%EOF".as_slice();

        // A required answer missing: 422 naming the field, and no draft left behind.
        let r = p1
            .multipart("/api/v1/submissions", form(&filing(&est, ""), &[]), &[])
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("reason"), "{}", r.text);
        // A file for a requirement the procedure does not have.
        let r = p1
            .multipart(
                "/api/v1/submissions",
                form(&filing(&est, "理由。"), &[("no_such_requirement", pdf)]),
                &[],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        // Another corporation's establishment.
        let r = p1
            .multipart(
                "/api/v1/submissions",
                form(&filing("not-ours", "理由。"), &[]),
                &[],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        // A file that is not what it says (an executable named .pdf).
        let r = p1
            .multipart(
                "/api/v1/submissions",
                form(
                    &filing(&est, "理由。"),
                    &[("user_measures_list", b"MZ\x90\x00binary")],
                ),
                &[],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(filing_count(&p1).await, before);

        // Malformed bodies: 400 with a Japanese message.
        let no_filing = Form::new().part(
            "user_measures_list",
            Part::bytes(pdf.to_vec()).file_name("a.pdf"),
        );
        let r = p1.multipart("/api/v1/submissions", no_filing, &[]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("filing"), "{}", r.text);
        let bad_json = Form::new().text("filing", "{not json");
        let r = p1.multipart("/api/v1/submissions", bad_json, &[]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let text_part = Form::new()
            .text("filing", filing(&est, "理由。").to_string())
            .text("user_measures_list", "not a file");
        let r = p1.multipart("/api/v1/submissions", text_part, &[]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = p1
            .raw(
                reqwest::Method::POST,
                "/api/v1/submissions",
                "application/json",
                b"{}".to_vec(),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(filing_count(&p1).await, before);

        // Only providers submit.
        let reviewer = srv.api("reviewer-131041").await;
        let r = reviewer
            .multipart(
                "/api/v1/submissions",
                form(&filing(&est, "理由。"), &[]),
                &[],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
}
