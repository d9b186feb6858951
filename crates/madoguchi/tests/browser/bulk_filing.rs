//! 一括申請 in the browser: one 加算届 for three establishments of the demo corporation. The
//! shared answers are entered once, each establishment's own answer (the service it files for)
//! in its own section; one upload serves every draft that needs the same document; all three
//! go in one submission, each with its own 到達番号 and authorities.

use serde_json::json;

use crate::harness::{self, Browser, server};

#[test]
fn bulk_filing_for_three_establishments() {
    harness::run("bulk_filing", || async {
        let srv = server::start(server::one_backend()).await;
        let api = srv.api("provider1").await;
        let b = Browser::open(&srv.base_url).await;
        b.sign_in_provider("provider1").await;

        b.click_in(".site-nav", "一括申請").await;
        b.wait_path("/bulk/new").await;
        b.check("介護給付費算定に係る体制等に関する届出書").await;
        b.check("さくらデイサービス新宿").await;
        b.shoot("bulk-01-choose").await;
        // One establishment is not a bulk filing: said politely, choices kept.
        b.click("届出を作成して回答を入力する").await;
        assert!(b.main_text().await.contains("2か所以上選んでください"));
        b.check("さくら居宅介護支援事業所渋谷").await;
        b.check("さくら訪問介護ステーション八王子").await;
        b.click("届出を作成して回答を入力する").await;
        let at = b.wait_path("/batches/").await;
        let batch = at
            .trim_start_matches("/batches/")
            .split(['?', '/', '#'])
            .next()
            .expect("batch id")
            .to_string();
        let page = b.main_text().await;
        assert!(page.contains("すべての事業所に共通の回答"), "{page}");

        let drafts = api.get(&format!("/api/v1/batches/{batch}")).await.body["drafts"]
            .as_array()
            .expect("drafts")
            .iter()
            .map(|d| d["filing"]["id"].as_str().expect("id").to_string())
            .collect::<Vec<_>>();
        assert_eq!(drafts.len(), 3, "one draft per establishment");

        // Shared answers once (the first of each question on the page: the per-establishment
        // copies below stay folded away); each establishment's own service in its section.
        b.select_nth("届出の区分", 0, "新規（加算の算定を始める）")
            .await;
        b.check_nth("科学的介護推進体制加算", 0).await;
        b.fill_nth("算定開始年月日", 0, "2027-01-01").await;
        for (i, fid) in drafts.iter().enumerate() {
            let name = b.text_of(&format!("#est-{fid}")).await;
            let service = match name.as_str() {
                "さくらデイサービス新宿" => "15 通所介護",
                "さくら居宅介護支援事業所渋谷" => "43 居宅介護支援",
                "さくら訪問介護ステーション八王子" => "11 訪問介護",
                other => panic!("an establishment not chosen: {other}"),
            };
            b.expand_in(
                &format!("section[aria-labelledby='est-{fid}']"),
                "この事業所だけ、共通の回答と違う回答にする",
            )
            .await;
            // #0 is the shared question; #1.. each establishment's own, in page order.
            b.select_nth("届出を行うサービスの種類", i + 1, service)
                .await;
        }
        b.shoot("bulk-02-answers").await;
        b.click("保存して確認画面へ進む").await;
        b.wait_path(&format!("/batches/{batch}?")).await;
        let review = b.main_text().await;
        assert!(review.contains("一括申請の確認と提出"), "{review}");
        b.shoot("bulk-03-review").await;

        // Every draft's documents; a file shared by several drafts is attached once.
        let mut uploads = 0;
        for (n, fid) in drafts.iter().enumerate() {
            let scope = format!("#draft-{fid}");
            for (i, doc) in b.missing_documents(&scope).await.iter().enumerate() {
                b.upload_in(&scope, doc, &format!("bulk-{n}-{i}.pdf"), &server::pdf(doc))
                    .await;
                uploads += 1;
            }
            assert_eq!(b.missing_documents(&scope).await, Vec::<String>::new());
        }
        let view = api.get(&format!("/api/v1/batches/{batch}")).await;
        let linked: usize = view.body["drafts"]
            .as_array()
            .expect("drafts")
            .iter()
            .map(|d| d["filing"]["attachments"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(
            linked > uploads,
            "a shared document uploaded once serves several drafts ({uploads} uploads, {linked} links)"
        );
        b.shoot("bulk-04-attached").await;

        b.click("すべて提出する（3件）").await;
        let result = b.main_text().await;
        assert_eq!(
            result.matches("提出しました。到達番号").count(),
            3,
            "{result}"
        );
        b.shoot("bulk-05-submitted").await;

        let view = api.get(&format!("/api/v1/batches/{batch}")).await;
        assert_eq!(view.body["pending"], json!(0));
        for d in view.body["drafts"].as_array().expect("drafts") {
            let fields = &d["filing"]["data"]["fields"];
            assert_eq!(
                fields["notice_type"], "new",
                "the shared answer in every draft"
            );
            assert_eq!(fields["start_date"], "2027-01-01");
            assert_eq!(fields["additions"], json!(["life"]));
        }
        let services: Vec<&str> = view.body["drafts"]
            .as_array()
            .expect("drafts")
            .iter()
            .map(|d| {
                d["filing"]["data"]["fields"]["service_type"]
                    .as_str()
                    .unwrap_or("")
            })
            .collect();
        let mut sorted = services.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["11", "15", "43"],
            "each establishment's own service"
        );
        srv.stop().await;
    });
}
