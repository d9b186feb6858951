//! The receipt after a submission (到達番号, arrival in 和暦 and 西暦, each authority reached,
//! what happens next) and the optional satisfaction question on it: skippable, checked,
//! one answer per filing and user (answering again replaces it), and the per-procedure
//! figures an authority's statistics read.

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::{FANOUT, representative_change};
use crate::pages::{Browser, csrf};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_after_submission_and_an_optional_rating() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;

        // No receipt and no rating before submission.
        assert_eq!(
            p1.get(&format!("/api/v1/filings/{fid}/receipt"))
                .await
                .status,
            409
        );
        let r = p1
            .post(
                &format!("/api/v1/filings/{fid}/satisfaction"),
                &json!({ "score": 5 }),
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.text);

        // 新宿区's admin has given its address and telephone: the receipt names them.
        let admin = srv.api("admin-131041").await;
        let d = admin.get("/api/v1/authorities/131041/details").await;
        assert_eq!(d.status, 200, "{}", d.text);
        let r = admin
            .put(
                "/api/v1/authorities/131041/details",
                &json!({
                    "name": d.body["name"],
                    "email": d.body["email"],
                    "address": "東京都新宿区歌舞伎町一丁目4番1号",
                    "phone": "03-3209-1111",
                }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // Submitting from the page lands on the receipt.
        let b = Browser::new(&srv.base_url);
        b.login_oidc("provider1").await;
        let (_, _, detail) = b.get(&format!("/filings/{fid}")).await;
        let token = csrf(&detail);
        let (status, url, page) = b
            .post(
                &format!("/filings/{fid}/submit"),
                &[("csrf_token", token.as_str())],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(url, format!("/filings/{fid}/receipt?done=submitted"));
        let receipt = p1.get(&format!("/api/v1/filings/{fid}/receipt")).await;
        assert_eq!(receipt.status, 200, "{}", receipt.text);
        let reference = receipt.body["reference"].as_str().unwrap();
        assert!(page.contains(reference), "到達番号 on the receipt");
        let arrived = receipt.body["arrived_at_ja"].as_str().unwrap();
        assert!(
            arrived.starts_with("令和") && arrived.contains("（20") && arrived.contains("分"),
            "{arrived}"
        );
        assert!(page.contains(arrived), "arrival in 和暦 and 西暦");
        assert!(
            receipt.body["arrived_at"]
                .as_str()
                .unwrap()
                .ends_with("+09:00")
        );
        let cases = receipt.body["cases"].as_array().unwrap();
        assert_eq!(cases.len(), FANOUT.len(), "every authority reached");
        for c in cases {
            assert!(page.contains(c["authority_name"].as_str().unwrap()));
            assert!(page.contains(c["reference"].as_str().unwrap()));
            if let Some(d) = c["due_on_ja"].as_str() {
                assert!(page.contains(d), "due date {d} on the receipt");
            }
        }
        assert!(
            cases.iter().any(|c| c["due_on"].is_string()),
            "a 変更届 has a due date"
        );
        let shinjuku = cases
            .iter()
            .find(|c| c["contact"]["code"] == "131041")
            .expect("新宿区 reached");
        assert_eq!(shinjuku["contact"]["phone"], "03-3209-1111");
        assert!(
            page.contains("お問い合わせ先")
                && page.contains("東京都新宿区歌舞伎町一丁目4番1号")
                && page.contains("03-3209-1111"),
            "the receipt says whom to ask"
        );
        for c in cases {
            let email = c["contact"]["email"].as_str().unwrap();
            assert!(
                page.contains(email),
                "contact e-mail {email} on the receipt"
            );
        }
        assert!(page.contains("このあとの流れ"));
        // The question: a fieldset with a legend and five labelled radio buttons.
        assert!(page.contains("<legend") && page.contains("満足できるものでしたか"));
        for n in 1..=5 {
            assert!(page.contains(&format!("id=\"score-{n}\" name=\"score\" value=\"{n}\"")));
        }
        assert!(page.contains("回答せずに一覧へ戻る"), "it can be skipped");

        // No choice is a polite message on the same page.
        let (status, _, page) = b
            .post(
                &format!("/filings/{fid}/satisfaction"),
                &[("csrf_token", token.as_str()), ("comment", "とくになし")],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("満足度は1（不満）から5（満足）のいずれかを選んでください。"));
        assert!(page.contains("とくになし"), "what was typed is kept");
        let (status, _, _) = b
            .post(
                &format!("/filings/{fid}/satisfaction"),
                &[("csrf_token", token.as_str()), ("score", "9")],
            )
            .await;
        assert_eq!(status, 422);

        // A rating, then a second one replaces it.
        let (status, url, page) = b
            .post(
                &format!("/filings/{fid}/satisfaction"),
                &[
                    ("csrf_token", token.as_str()),
                    ("score", "4"),
                    ("comment", "分かりやすかったです。"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.contains("done=rated"), "{url}");
        assert!(page.contains("id=\"score-4\" name=\"score\" value=\"4\" checked"));
        let (_, _, page) = b
            .post(
                &format!("/filings/{fid}/satisfaction"),
                &[("csrf_token", token.as_str()), ("score", "2")],
            )
            .await;
        assert!(page.contains("id=\"score-2\" name=\"score\" value=\"2\" checked"));
        assert!(
            !page.contains("分かりやすかったです。"),
            "the comment was replaced"
        );
        // Ratings are per user: the API's account (another user) has not rated.
        let r = p1.get(&format!("/api/v1/filings/{fid}/receipt")).await;
        assert_eq!(r.body["rating"], serde_json::Value::Null);
        let mut tx = srv.app.db.begin_read().await.unwrap();
        let stats =
            madoguchi_db::satisfaction::by_procedure_for_authority(&mut tx, "141003", None, None)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(stats.len(), 1, "one rating per filing and user");
        assert_eq!(stats[0].count, 1);
        assert_eq!(stats[0].sum, 2);

        // The API checks the score the same way.
        let r = p1
            .post(
                &format!("/api/v1/filings/{fid}/satisfaction"),
                &json!({ "score": 0 }),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "score");
        // Another corporation's filing cannot be rated (nor is its existence told).
        let p2 = srv.api("provider2").await;
        let r = p2
            .post(
                &format!("/api/v1/filings/{fid}/satisfaction"),
                &json!({ "score": 1 }),
            )
            .await;
        assert_eq!(r.status, 404);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn satisfaction_figures_per_procedure_for_an_authority() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let mut filings = Vec::new();
        for (name, kana) in [
            ("佐々木　一郎", "ササキ　イチロウ"),
            ("鈴木　花子", "スズキ　ハナコ"),
        ] {
            let (fid, _) = representative_change(&srv, &p1, name, kana).await;
            let r = p1
                .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            filings.push(fid);
        }
        for (fid, score) in filings.iter().zip([4, 5]) {
            let r = p1
                .post(
                    &format!("/api/v1/filings/{fid}/satisfaction"),
                    &json!({ "score": score, "comment": "" }),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.body["rating"], score);
        }
        let mut tx = srv.app.db.begin_read().await.unwrap();
        for code in FANOUT {
            let stats =
                madoguchi_db::satisfaction::by_procedure_for_authority(&mut tx, code, None, None)
                    .await
                    .unwrap();
            assert_eq!(stats.len(), 1, "[{backend}] {code}");
            assert_eq!(stats[0].procedure_id, "change-notification");
            assert_eq!(stats[0].count, 2);
            assert!((stats[0].average() - 4.5).abs() < 1e-9);
        }
        // An authority none of these reached has no figures; a period excludes them too.
        let none =
            madoguchi_db::satisfaction::by_procedure_for_authority(&mut tx, "140007", None, None)
                .await
                .unwrap();
        assert!(none.is_empty(), "[{backend}] {none:?}");
        let later = madoguchi_db::satisfaction::by_procedure_for_authority(
            &mut tx,
            "141003",
            Some(i64::MAX - 1),
            None,
        )
        .await
        .unwrap();
        assert!(later.is_empty());
        tx.commit().await.unwrap();
        srv.stop().await;
    }
}
