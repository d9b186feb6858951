//! The reviewer's case view over HTTP: answers beside the registry, inline previews served
//! safely (type by content, nosniff, sandbox, framable by our pages only) while downloads stay
//! downloads, the field-level comparison of two versions, assignment kept internal, and the
//! confirmation every irreversible decision asks for.

use madoguchi_testing::{Api, TestServer, backends};
use serde_json::{Value, json};

use crate::common::establishment_id;
use crate::inbox::{attach_missing, case_at, csrf, file_manager_change};
use crate::pages::Browser;

/// Uploads a file and links it to a requirement of a filing; returns its id.
async fn link_file(
    api: &Api,
    filing: &str,
    requirement: &str,
    name: &str,
    bytes: Vec<u8>,
) -> String {
    let up = api.upload(name, bytes).await;
    assert_eq!(up.status, 201, "{name}: {}", up.text);
    let id = up.body["attachment_id"].as_str().unwrap().to_string();
    let r = api
        .post(
            &format!("/api/v1/filings/{filing}/attachments"),
            &json!({ "attachment_id": id, "requirement_id": requirement }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// A page GET by a signed-in staff member, answering (status, headers, body bytes).
async fn fetch(
    srv: &TestServer,
    login: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    // Pages take a session, not a token: sign in as a browser would.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/login/demo", srv.base_url))
        .form(&[("login", login)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{}{}", srv.base_url, path))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_view_previews_files_safely_and_compares_versions() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let est = establishment_id(&p1, "1370400010").await;
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
            )
            .await;
        let fid = r.body["id"].as_str().unwrap().to_string();
        let catalog = madoguchi_core::catalog::embedded_catalog().unwrap();
        let def = catalog
            .get(
                "change-notification",
                r.body["procedure_version"].as_str().unwrap(),
            )
            .unwrap();
        let mut data = def.sample_data(std::slice::from_ref(&est));
        data.fields
            .insert("change_items".into(), json!(["manager"]));
        data.fields.insert(
            "change_date".into(),
            json!(crate::inbox::today_jst().to_string()),
        );
        data.establishments
            .get_mut(&est)
            .unwrap()
            .insert("manager_name".into(), json!("渡辺　直美"));
        let r = p1
            .put(&format!("/api/v1/filings/{fid}"), &json!({ "data": data }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        attach_missing(&p1, &fid).await;
        let requirement = p1.get(&format!("/api/v1/filings/{fid}")).await.body["attachments"][0]
            ["requirement_id"]
            .as_str()
            .unwrap()
            .to_string();
        let png = link_file(
            &p1,
            &fid,
            &requirement,
            "資格証.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec(),
        )
        .await;
        let gif = link_file(
            &p1,
            &fid,
            &requirement,
            "図.gif",
            b"GIF89a\x01\0\x01\0\0\0\0;".to_vec(),
        )
        .await;
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (case_id, _) = case_at(&p1, &fid, "130001").await;
        let tokyo = srv.api("reviewer-130001").await;
        let view = tokyo.get(&format!("/api/v1/cases/{case_id}")).await;
        let pdf = view.body["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["filename"].as_str().unwrap().ends_with(".pdf"))
            .unwrap()["attachment_id"]
            .as_str()
            .unwrap()
            .to_string();

        // The page: answers by section beside the registry, previews inline.
        let (status, _, page) = fetch(&srv, "reviewer-130001", &format!("/cases/{case_id}")).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(status, 200);
        assert!(
            page.contains("現在の登録内容")
                && page.contains("渡辺　直美")
                && page.contains("佐藤　花子"),
            "[{backend}]"
        );
        assert!(
            page.contains(&format!(
                "<iframe class=\"preview preview--pdf\" src=\"/attachments/{pdf}/preview\""
            )),
            "{page}"
        );
        assert!(page.contains(&format!(
            "<img class=\"preview preview--image\" src=\"/attachments/{png}/preview\""
        )));
        assert!(
            !page.contains(&format!("/attachments/{gif}/preview")),
            "GIF: download only"
        );
        assert!(page.contains(&format!("href=\"/attachments/{gif}\"")));

        // Previews: type by content, never sniffed, sandboxed, framable by our own pages only.
        let (status, h, body) = fetch(
            &srv,
            "reviewer-130001",
            &format!("/attachments/{pdf}/preview"),
        )
        .await;
        assert_eq!(status, 200, "[{backend}]");
        assert_eq!(header(&h, "content-type"), "application/pdf");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        assert!(
            header(&h, "content-security-policy").starts_with("sandbox"),
            "{:?}",
            h
        );
        assert!(header(&h, "content-security-policy").contains("frame-ancestors 'self'"));
        assert_eq!(header(&h, "x-frame-options"), "SAMEORIGIN");
        assert!(header(&h, "content-disposition").starts_with("inline;"));
        assert!(body.starts_with(b"%PDF-"));
        let (_, h, _) = fetch(
            &srv,
            "reviewer-130001",
            &format!("/attachments/{png}/preview"),
        )
        .await;
        assert_eq!(header(&h, "content-type"), "image/png");
        assert!(
            header(&h, "content-security-policy").contains("frame-ancestors 'none'"),
            "an image is shown by <img>, never framed"
        );
        assert_eq!(header(&h, "x-frame-options"), "DENY");
        let (status, _, body) = fetch(
            &srv,
            "reviewer-130001",
            &format!("/attachments/{gif}/preview"),
        )
        .await;
        assert_eq!(status, 400, "[{backend}] GIF is not previewed");
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains("ダウンロードしてご覧ください")
        );
        // Downloads stay downloads.
        let (status, h, _) = fetch(&srv, "reviewer-130001", &format!("/attachments/{pdf}")).await;
        assert_eq!(status, 200);
        assert_eq!(header(&h, "content-type"), "application/octet-stream");
        assert!(header(&h, "content-disposition").starts_with("attachment;"));
        assert_eq!(header(&h, "x-frame-options"), "DENY");
        // Another authority cannot see it; the provider who filed it can.
        let (status, _, _) = fetch(
            &srv,
            "reviewer-141003",
            &format!("/attachments/{pdf}/preview"),
        )
        .await;
        assert_eq!(status, 404, "[{backend}]");
        let browser = Browser::new(&srv.base_url);
        browser.login_oidc("provider1").await;
        let (status, _, _) = browser.get(&format!("/attachments/{png}/preview")).await;
        assert_eq!(status, 200);

        // A return pinned to the manager's name; the provider corrects it and adds a file.
        let pin = format!("establishments.{est}.manager_name");
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{case_id}/return"),
                &json!({ "message": "氏名の漢字をご確認ください。", "fields": [pin] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let mut data = p1.get(&format!("/api/v1/filings/{fid}")).await.body["data"].clone();
        data["establishments"][&est]["manager_name"] = json!("渡邉　直美");
        let r = p1
            .put(&format!("/api/v1/filings/{fid}"), &json!({ "data": data }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let added = link_file(
            &p1,
            &fid,
            &requirement,
            "戸籍.pdf",
            b"%PDF-1.4\n%%EOF".to_vec(),
        )
        .await;
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // The comparison, through the API: the changed field and the added file.
        let d = tokyo
            .get(&format!("/api/v1/cases/{case_id}/diff?from=1&to=2"))
            .await;
        assert_eq!(d.status, 200, "[{backend}] {}", d.text);
        let changes = d.body["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{}", d.text);
        assert_eq!(changes[0]["path"], pin.as_str());
        assert_eq!(changes[0]["change"], "changed");
        assert_eq!(
            (changes[0]["before"].clone(), changes[0]["after"].clone()),
            (json!("渡辺　直美"), json!("渡邉　直美"))
        );
        assert_eq!(
            d.body["attachments_added"][0]["attachment_id"],
            added.as_str()
        );
        assert_eq!(d.body["attachments_removed"], json!([]));
        // Without versions: the latest against the one before it (here 1 → 2).
        let latest = tokyo.get(&format!("/api/v1/cases/{case_id}/diff")).await;
        assert_eq!(latest.status, 200, "[{backend}] {}", latest.text);
        assert_eq!(
            (
                latest.body["from_version"].clone(),
                latest.body["to_version"].clone()
            ),
            (json!(1), json!(2))
        );
        assert_eq!(latest.body["changes"], d.body["changes"]);
        let back = tokyo
            .get(&format!("/api/v1/cases/{case_id}/diff?from=2&to=1"))
            .await;
        assert_eq!(
            back.body["attachments_removed"][0]["attachment_id"],
            added.as_str()
        );
        for (q, field) in [
            ("from=1&to=1", "to"),
            ("from=1&to=7", "to"),
            ("from=0&to=2", "from"),
        ] {
            let r = tokyo
                .get(&format!("/api/v1/cases/{case_id}/diff?{q}"))
                .await;
            assert_eq!(r.status, 422, "{q}: {}", r.text);
            assert_eq!(r.body["error"]["fields"][0]["field"], field, "{q}");
        }
        let other = srv.api("reviewer-141003").await;
        let r = other
            .get(&format!("/api/v1/cases/{case_id}/diff?from=1&to=2"))
            .await;
        assert_eq!(r.status, 404);

        // The comparison page, and the case page marking what the resubmission changed.
        let (status, _, page) = fetch(
            &srv,
            "reviewer-130001",
            &format!("/cases/{case_id}/diff?from=1&to=2"),
        )
        .await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(status, 200);
        assert!(
            page.contains("<del>渡辺　直美</del>") && page.contains("<ins>渡邉　直美</ins>"),
            "{page}"
        );
        assert!(page.contains("第2版で追加されたファイル") && page.contains("戸籍.pdf"));
        let (status, _, page) =
            fetch(&srv, "reviewer-130001", &format!("/cases/{case_id}/diff")).await;
        assert_eq!(status, 200, "[{backend}] the page without versions");
        assert!(
            String::from_utf8(page)
                .unwrap()
                .contains("<ins>渡邉　直美</ins>")
        );
        let (_, _, page) = fetch(&srv, "reviewer-130001", &format!("/cases/{case_id}")).await;
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("前の版での値：渡辺　直美"), "{page}");
        assert!(page.contains("違いを表示する"));
        let (status, _, _) = fetch(
            &srv,
            "reviewer-130001",
            &format!("/cases/{case_id}/diff?from=x&to=2"),
        )
        .await;
        assert_eq!(status, 422, "[{backend}]");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_stays_inside_the_authority() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let fid =
            file_manager_change(&p1, "1370400010", &crate::inbox::today_jst().to_string()).await;
        let (case_id, _) = case_at(&p1, &fid, "130001").await;
        let tokyo = srv.api("reviewer-130001").await;

        // 「自分に割り当て」 from the page.
        let browser = Browser::new(&srv.base_url);
        browser.login("reviewer-130001").await;
        let (_, _, page) = browser.get(&format!("/cases/{case_id}")).await;
        assert!(page.contains("自分に割り当てる") && page.contains("まだ担当者が決まっていません"));
        let token = csrf(&page);
        let (status, url, page) = browser
            .post(
                &format!("/cases/{case_id}/assign"),
                &[("csrf_token", &token), ("assignee_id", "me")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.contains("done=assigned"), "{url}");
        let me = tokyo.get("/api/v1/me").await.body;
        assert!(
            page.contains(&format!(
                "現在の担当者は{}さんです",
                me["display_name"].as_str().unwrap()
            )),
            "[{backend}] {page}"
        );
        assert!(
            page.contains("担当者の変更"),
            "the hand-over is in the internal notes"
        );

        // To a colleague through the API; not to another authority's reviewer.
        let admin_id = srv.api("admin-130001").await.get("/api/v1/me").await.body["user_id"]
            .as_str()
            .unwrap()
            .to_string();
        let colleagues = tokyo.get("/api/v1/colleagues").await;
        assert!(
            colleagues
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == admin_id.as_str())
        );
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{case_id}/assign"),
                &json!({ "assignee_id": admin_id }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["assignee_id"], admin_id.as_str());
        let stranger = srv
            .api("reviewer-131041")
            .await
            .get("/api/v1/me")
            .await
            .body["user_id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{case_id}/assign"),
                &json!({ "assignee_id": stranger }),
            )
            .await;
        assert_eq!(r.status, 422, "[{backend}] {}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["field"], "assignee_id");
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{case_id}/assign"),
                &json!({ "assignee_id": null }),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["assignee_id"], Value::Null);

        // The provider never sees assignments.
        let f = p1.get(&format!("/api/v1/filings/{fid}")).await;
        assert!(
            !f.text.contains("assigned") && !f.text.contains("担当者を"),
            "[{backend}] {}",
            f.text
        );
        let provider = Browser::new(&srv.base_url);
        provider.login_oidc("provider1").await;
        let (_, _, page) = provider.get(&format!("/filings/{fid}")).await;
        assert!(!page.contains("担当者を") && !page.contains("担当者の割当て"));

        // A decided case keeps its assignee.
        let r = tokyo
            .post(&format!("/api/v1/cases/{case_id}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200);
        let r = tokyo
            .post(
                &format!("/api/v1/cases/{case_id}/assign"),
                &json!({ "assignee_id": admin_id }),
            )
            .await;
        assert_eq!(r.status, 409, "[{backend}]");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irreversible_decisions_ask_for_confirmation_first() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let fid =
            file_manager_change(&p1, "1370400010", &crate::inbox::today_jst().to_string()).await;
        let (case_id, reference) = case_at(&p1, &fid, "130001").await;
        let tokyo = srv.api("reviewer-130001").await;
        let status_of = || {
            let tokyo = tokyo.clone();
            let case_id = case_id.clone();
            async move { tokyo.get(&format!("/api/v1/cases/{case_id}")).await.body["status"].clone() }
        };
        let browser = Browser::new(&srv.base_url);
        browser.login("reviewer-130001").await;
        let (_, _, page) = browser.get(&format!("/cases/{case_id}")).await;
        let token = csrf(&page);

        // A return without a reason is explained beside the field; nothing is sent.
        let (status, _, page) = browser
            .post(
                &format!("/cases/{case_id}/return"),
                &[("csrf_token", &token), ("message", " ")],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("差戻しの理由（事業者へのメッセージ）を入力してください"));
        // With a reason: first the confirmation, showing what the provider will read.
        let pin = format!(
            "establishments.{}.manager_name",
            establishment_id(&p1, "1370400010").await
        );
        let (status, _, page) = browser
            .post(
                &format!("/cases/{case_id}/return"),
                &[
                    ("csrf_token", &token),
                    ("message", "写しが不鮮明です。"),
                    ("fields", &pin),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("この内容で差し戻しますか")
                && page.contains("写しが不鮮明です。")
                && page.contains("管理者の氏名"),
            "[{backend}] {page}"
        );
        assert_eq!(
            status_of().await,
            "submitted",
            "nothing sent before confirming"
        );
        // Acceptance too.
        let (status, _, page) = browser
            .post(
                &format!("/cases/{case_id}/accept"),
                &[("csrf_token", &token)],
            )
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("この届出を受け付けますか") && page.contains(&reference));
        assert_eq!(status_of().await, "submitted");
        let (_, url, _) = browser
            .post(
                &format!("/cases/{case_id}/accept"),
                &[("csrf_token", &token), ("confirm", "yes")],
            )
            .await;
        assert!(url.ends_with("done=accepted"), "{url}");
        assert_eq!(status_of().await, "accepted", "[{backend}]");
        // A second confirmation (another tab) is a polite conflict, not a second acceptance.
        let (status, _, page) = browser
            .post(
                &format!("/cases/{case_id}/accept"),
                &[("csrf_token", &token), ("confirm", "yes")],
            )
            .await;
        assert_eq!(status, 409);
        assert!(page.contains("すでに処理されています"));
        srv.stop().await;
    }
}
