//! Answering a return field by field: a reviewer pins a field and a file; the resubmission
//! is refused — in the API with each open item named, on the page with the message beside the
//! field — until every pinned item is changed or answered with a reply (回答); the reply
//! reaches the reviewer's case history; the correction form shows each pin beside its field.

use madoguchi_testing::{TestServer, backends};
use serde_json::{Value, json};

use crate::common::{only_case, representative_change};
use crate::pages::{Browser, csrf};

/// The field paths an API error names.
fn named(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubmission_waits_until_every_pinned_item_is_changed_or_answered() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // 横浜市 returns it, pinning the representative's kana and the pledge (誓約書).
        let yokohama = srv.api("reviewer-141003").await;
        let case = only_case(&yokohama).await;
        let r = yokohama
            .post(
                &format!("/api/v1/cases/{case}/return"),
                &json!({
                    "message": "フリガナと誓約書をご確認ください。",
                    "fields": ["fields.representative_kana", "attachments.pledge"]
                }),
            )
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);

        // The open return lists both items, neither changed nor answered.
        let r = p1
            .get(&format!("/api/v1/filings/{fid}/return-replies"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let returns = r.body.as_array().unwrap();
        assert_eq!(returns.len(), 1);
        let event_id = returns[0]["event_id"].as_str().unwrap().to_string();
        assert_eq!(returns[0]["authority_name"], "横浜市");
        let items = returns[0]["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert!(
            items
                .iter()
                .all(|i| i["open"] == true && i["changed"] == false)
        );
        assert_eq!(items[1]["label"], "誓約書");

        // Resubmitting unchanged is refused, naming both items.
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 422, "[{backend}] {}", r.text);
        assert_eq!(
            named(&r.body),
            vec!["fields.representative_kana", "attachments.pledge"]
        );
        assert_eq!(r.body["error"]["fields"][0]["code"], "return_item_open");
        let msg = r.body["error"]["fields"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains("横浜市") && msg.contains("フリガナ"),
            "the message names the item and who asked: {msg}"
        );

        // Correcting the kana leaves only the pledge open.
        let f = p1.get(&format!("/api/v1/filings/{fid}")).await;
        let mut data = f.body["data"].clone();
        data["fields"]["representative_kana"] = json!("ササキ　イチロ");
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}"),
                &json!({ "data": data, "lock_version": f.body["lock_version"] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(named(&r.body), vec!["attachments.pledge"]);

        // Replies are checked: only pinned items, at most 1000 characters.
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}/return-replies"),
                &json!({ "replies": [{ "event_id": event_id, "item": "fields.representative_name", "reply": "x" }] }),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["code"], "not_pinned");
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}/return-replies"),
                &json!({ "replies": [{ "event_id": event_id, "item": "attachments.pledge", "reply": "あ".repeat(1001) }] }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["code"], "too_long");
        // A blank reply is no answer.
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}/return-replies"),
                &json!({ "replies": [{ "event_id": event_id, "item": "attachments.pledge", "reply": "   " }] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 422);

        // Answering the pledge lets the resubmission through.
        let reply = "誓約書は提出時のもので変更ありません。";
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}/return-replies"),
                &json!({ "replies": [{ "event_id": event_id, "item": "attachments.pledge", "reply": reply }] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let items = r.body[0]["items"].as_array().unwrap();
        assert_eq!(items[0]["changed"], true);
        assert_eq!(items[1]["reply"], reply);
        assert!(items.iter().all(|i| i["open"] == false));
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);

        // The reviewer sees how each item was answered: in the case history and in the API.
        let r = yokohama.get(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(r.status, 200);
        let events = r.body["events"].as_array().unwrap();
        let returned = events.iter().find(|e| e["kind"] == "returned").unwrap();
        assert_eq!(
            returned["answers"],
            json!([
                { "item": "attachments.pledge", "changed": false, "reply": reply },
                { "item": "fields.representative_kana", "changed": true, "reply": "" }
            ])
        );
        let resubmitted = events.iter().find(|e| e["kind"] == "resubmitted").unwrap();
        let summary = resubmitted["message"].as_str().unwrap();
        assert!(
            summary.contains("修正しました") && summary.contains(reply),
            "[{backend}] {summary}"
        );
        let reviewer = Browser::new(&srv.base_url);
        reviewer.login("reviewer-141003").await;
        let (_, _, page) = reviewer.get(&format!("/cases/{case}")).await;
        assert!(page.contains(reply), "the reply is on the case page");

        // Replies cannot be written to a return that is answered.
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}/return-replies"),
                &json!({ "replies": [{ "event_id": event_id, "item": "attachments.pledge", "reply": "後から" }] }),
            )
            .await;
        assert_eq!(r.status, 422);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correction_form_shows_each_pin_beside_its_field_and_takes_replies() {
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
        let yokohama = srv.api("reviewer-141003").await;
        let case = only_case(&yokohama).await;
        let r = yokohama
            .post(
                &format!("/api/v1/cases/{case}/return"),
                &json!({ "message": "代表者の氏名をご確認ください。", "fields": ["fields.representative_name"] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let event_id = p1
            .get(&format!("/api/v1/filings/{fid}/return-replies"))
            .await
            .body[0]["event_id"]
            .as_str()
            .unwrap()
            .to_string();

        let b = Browser::new(&srv.base_url);
        b.login_oidc("provider1").await;
        let (status, _, page) = b.get(&format!("/filings/{fid}/edit")).await;
        assert_eq!(status, 200);
        // The pin sits inside the field's block, after its input, with a labelled reply box.
        let input = page
            .find("id=\"f-fields-representative_name\"")
            .expect("the field is on the form");
        let pin = page[input..]
            .find("横浜市から修正を求められています")
            .map(|i| i + input)
            .expect("the pin is shown after the field");
        let next_field = page[input..]
            .find("name=\"_present\"")
            .map(|i| i + input)
            .unwrap_or(page.len());
        assert!(pin < next_field, "the pin is beside its own field");
        assert!(page.contains("未対応"));
        let reply_id = format!("f-_reply-{event_id}-fields-representative_name");
        assert!(
            page.contains(&format!("for=\"{reply_id}\"")),
            "the reply box has a label"
        );

        // Submitting from the page without answering brings the form back, the message
        // beside the field.
        let token = csrf(&page);
        let (status, _, page) = b
            .post(
                &format!("/filings/{fid}/submit"),
                &[("csrf_token", token.as_str())],
            )
            .await;
        assert_eq!(status, 422);
        assert!(
            page.contains("「代表者の氏名」は横浜市から修正を求められています"),
            "{page}"
        );

        // A reply posted with the form is saved and unblocks the resubmission.
        let reply_name = format!("_reply.{event_id}.fields.representative_name");
        let (status, url, page) = b
            .post(
                &format!("/filings/{fid}"),
                &[
                    ("csrf_token", token.as_str()),
                    (reply_name.as_str(), "登記のとおりの表記です。"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(url.contains("done=saved"), "{url}");
        assert!(page.contains("登記のとおりの表記です。") && page.contains("回答済み"));
        let (_, url, page) = b
            .post(
                &format!("/filings/{fid}/submit"),
                &[("csrf_token", token.as_str())],
            )
            .await;
        assert!(
            url.starts_with(&format!("/filings/{fid}/receipt")),
            "{url}: {page}"
        );
        assert!(page.contains("再提出を受け付けました") && page.contains("横浜市"));
        srv.stop().await;
    }
}
