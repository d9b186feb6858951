//! Change once, file everywhere, in the browser: a new 管理者 at さくらデイサービス新宿 is entered
//! once on マイページ; the portal prepares the 変更届 for each authority concerned (東京都 for
//! the 通所介護, 新宿区 for the 地域密着型), the provider attaches the documents on the review
//! page and submits them all in one go. Counts the fields typed (the README's figure).

use crate::harness::{self, Browser, server};

/// The fields a person types for a manager change: the new manager's four values and the
/// date of the change. Nothing is typed twice and nothing the registry knows is asked again.
const FIELDS_TYPED: usize = 5;

#[test]
fn a_manager_change_from_my_page_to_every_authority() {
    harness::run("change_once", || async {
        let srv = server::start(server::one_backend()).await;
        let api = srv.api("provider1").await;
        let shinjuku = server::establishment_id(&api, server::SHINJUKU).await;
        let b = Browser::open(&srv.base_url).await;
        b.sign_in_provider("provider1").await;
        b.reset_typed();

        b.click_in(".site-nav", "法人・事業所").await;
        b.wait_path("/my").await;
        b.shoot("change-once-01-my").await;
        let my = b.main_text().await;
        assert!(
            my.contains("さくらデイサービス新宿") && my.contains("佐藤　花子"),
            "マイページ shows the registry values: {my}"
        );
        b.click_in(
            &format!("#est-{shinjuku}"),
            "変更を届け出る（管理者の氏名、生年月日及び住所）",
        )
        .await;
        b.wait_path("/my/changes/new").await;
        let form = b.main_text().await;
        assert!(form.contains("東京都、新宿区"), "who it goes to: {form}");
        assert_eq!(
            b.value("管理者の氏名").await,
            "佐藤　花子",
            "prefilled from the registry"
        );
        assert!(form.contains("登録情報から"), "the source is named");
        b.shoot("change-once-02-form").await;

        b.fill("管理者の氏名", "渡辺　直美").await;
        b.fill("管理者の氏名（フリガナ）", "ワタナベ　ナオミ").await;
        b.fill("管理者の生年月日", "1982-03-04").await;
        b.fill("管理者の住所", "東京都新宿区大久保一丁目1番1号")
            .await;
        b.fill("変更年月日", "2026-11-20").await;
        b.click("変更届を作成する").await;
        let at = b.wait_path("/batches/").await;
        let batch = at
            .trim_start_matches("/batches/")
            .split(['?', '/', '#'])
            .next()
            .expect("batch id")
            .to_string();
        let review = b.main_text().await;
        for text in [
            "変更届の確認と提出",
            "佐藤　花子",
            "渡辺　直美",
            "東京都",
            "新宿区",
        ] {
            assert!(
                review.contains(text),
                "the review page shows {text}: {review}"
            );
        }
        assert!(
            !review.contains("さくらデイサービス横浜"),
            "only 新宿 changed"
        );
        b.shoot("change-once-03-review").await;

        // The documents each authority asks for, attached on the review page.
        let missing = b.missing_documents("main").await;
        assert!(!missing.is_empty(), "a manager change needs documents");
        for (i, doc) in missing.iter().enumerate() {
            b.upload_in(
                "main",
                doc,
                &format!("change-once-{i}.pdf"),
                &server::pdf(doc),
            )
            .await;
        }
        assert_eq!(b.missing_documents("main").await, Vec::<String>::new());
        b.shoot("change-once-04-attached").await;

        b.click("すべて提出する（1件）").await;
        let result = b.main_text().await;
        assert!(result.contains("提出しました。到達番号"), "{result}");
        b.shoot("change-once-05-submitted").await;

        // Typed: the new manager and the date, once.
        let typed = b.typed();
        eprintln!("change once: a 管理者 change at one establishment took {typed} typed fields");
        assert_eq!(typed, FIELDS_TYPED, "fields typed for a manager change");

        // Each authority concerned has its case.
        let view = api.get(&format!("/api/v1/batches/{batch}")).await;
        assert_eq!(view.status, 200, "{}", view.text);
        let drafts = view.body["drafts"].as_array().expect("drafts");
        assert_eq!(drafts.len(), 1, "one 変更届 for the one establishment");
        let filing = drafts[0]["filing"]["id"].as_str().expect("id");
        let f = api.get(&format!("/api/v1/filings/{filing}")).await;
        let mut codes: Vec<&str> = f.body["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| c["authority_code"].as_str().expect("code"))
            .collect();
        codes.sort();
        assert_eq!(codes, ["130001", "131041"]);
        srv.stop().await;
    });
}
