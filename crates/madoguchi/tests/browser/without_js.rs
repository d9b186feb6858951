//! With JavaScript disabled (Chrome's content setting, as a user who turned it off), a provider
//! completes a filing — form, files, review, submission — and a reviewer decides it. Runs on
//! PostgreSQL when it is configured.

use crate::harness::{self, Browser, server};

#[test]
fn a_filing_and_a_decision_without_javascript() {
    harness::run("without_js", || async {
        let backend = server::one_backend();
        let srv = server::start(backend).await;
        let b = Browser::without_js(&srv.base_url).await;
        assert!(!b.javascript());

        // Page scripts really do not run in this session.
        b.goto("data:text/html,<title>off</title><script>document.title='on'</script>")
            .await;
        assert_eq!(b.client.title().await.expect("title"), "off");

        b.sign_in_provider("provider1").await;
        b.reset_typed();
        b.goto("/filings/new").await;
        b.check("変更届出書").await;
        b.check("さくら訪問介護ステーション八王子").await;
        b.click("入力をはじめる").await;
        let edit = b.wait_path("/filings/").await;
        let filing = edit.split('/').nth(2).expect("filing id").to_string();
        b.check("管理者の氏名、生年月日及び住所").await;
        b.fill("変更年月日", "2026-11-20").await;
        b.click("保存して入力欄を更新する").await;
        b.wait_path(&format!("/filings/{filing}/edit?done=saved"))
            .await;
        assert_eq!(b.value("管理者の氏名").await, "高橋　美咲", "prefilled");
        b.fill("管理者の氏名", "小林　陽子").await;
        b.fill("管理者の氏名（フリガナ）", "コバヤシ　ヨウコ").await;
        b.fill("管理者の生年月日", "1979-08-15").await;
        b.fill("管理者の住所", "東京都八王子市旭町1番1号").await;
        b.click("入力内容を保存する").await;
        b.wait_path(&format!("/filings/{filing}/edit?done=saved"))
            .await;
        b.shoot("nojs-01-edit").await;

        // Submitting too early brings the form back with the missing documents named.
        b.click("保存して確認画面へ進む").await;
        b.wait_path(&format!("/filings/{filing}?done=saved")).await;
        let review = b.main_text().await;
        assert!(review.contains("まだ提出できません"), "{review}");
        assert!(!b.has_button("この内容で提出する").await);

        for (req, file) in [
            ("従業者の勤務の体制及び勤務形態一覧表", "roster.pdf"),
            ("管理者の資格証の写し", "qualification.pdf"),
            ("誓約書", "pledge.pdf"),
        ] {
            b.goto(&format!("/filings/{filing}/edit")).await;
            b.upload(req, file, &server::pdf(req)).await;
            b.wait_path(&format!("/filings/{filing}/edit?done=uploaded"))
                .await;
        }
        b.click("保存して確認画面へ進む").await;
        b.wait_path(&format!("/filings/{filing}?done=saved")).await;
        b.shoot("nojs-02-review").await;
        b.click("この内容で提出する").await;
        b.wait_path(&format!("/filings/{filing}/receipt?done=submitted"))
            .await;
        assert!(b.flash().await.unwrap_or_default().contains("提出しました"));
        let receipt = b.main_text().await;
        assert!(receipt.contains("八王子市"), "{receipt}");
        b.shoot("nojs-03-receipt").await;
        eprintln!(
            "without JavaScript, a 管理者 change for one establishment took {} typed fields",
            b.typed()
        );

        // 八王子市 (a core city: it designates the 訪問介護) accepts, confirming first.
        b.sign_in_staff("reviewer-132012").await;
        b.goto("/inbox").await;
        b.open_first_case().await;
        b.shoot("nojs-04-case").await;
        b.click("受付へ進む").await;
        assert!(b.main_text().await.contains("この届出を受け付けますか"));
        b.click("受付を完了する").await;
        b.wait_path("/cases/").await;
        assert!(
            b.flash()
                .await
                .unwrap_or_default()
                .contains("受付を完了しました")
        );
        b.shoot("nojs-05-accepted").await;

        let api = srv.api("provider1").await;
        let est = server::establishment_id(&api, server::HACHIOJI).await;
        let record = api.get(&format!("/api/v1/establishments/{est}")).await;
        assert_eq!(record.body["record"]["manager_name"], "小林　陽子");
        srv.stop().await;
    });
}
