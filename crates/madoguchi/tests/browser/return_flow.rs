//! A return pinned to a field, in the browser: the provider files a 管理者 change for its 新宿
//! establishment (it goes to 東京都 and 新宿区), 新宿区's reviewer returns it pinning the
//! manager's date of birth, the provider follows the pinned link, corrects and resubmits (to
//! 新宿区 only), and the reviewer accepts the corrected version. On both backends.

use crate::harness::{self, Browser, server};

#[test]
fn return_pinned_to_a_field_then_correction_resubmission_and_acceptance() {
    harness::run("return_flow", || async {
        for (n, backend) in server::backends().into_iter().enumerate() {
            let srv = server::start(backend).await;
            // The pages are the same on the second backend: shoot and check them once.
            let b = Browser::open(&srv.base_url).await.with_checks(n == 0);
            let tag = format!("{backend}-return");

            // The provider starts a 変更届 for the 新宿 establishment.
            b.sign_in_provider("provider1").await;
            b.shoot(&format!("{tag}-01-provider-filings")).await;
            b.click_in(".site-nav", "新しい届出・申請").await;
            b.check("変更届出書").await;
            b.check("さくらデイサービス新宿").await;
            b.shoot(&format!("{tag}-02-new")).await;
            b.click("入力をはじめる").await;
            let edit = b.wait_path("/filings/").await;
            assert!(edit.ends_with("/edit?done=created"), "{edit}");
            let filing = edit.split('/').nth(2).expect("filing id").to_string();
            assert!(
                b.flash()
                    .await
                    .unwrap_or_default()
                    .contains("下書きを作成しました")
            );

            // Choose 管理者; the manager section appears prefilled from the registry.
            b.check("管理者の氏名、生年月日及び住所").await;
            b.fill("変更年月日", "2026-11-20").await;
            b.click("保存して入力欄を更新する").await;
            b.wait_path(&format!("/filings/{filing}/edit?done=saved"))
                .await;
            assert_eq!(b.value("管理者の氏名").await, "佐藤　花子");
            assert!(
                b.main_text().await.contains("登録情報から"),
                "the prefill names its source"
            );
            b.fill("管理者の氏名", "渡辺　直美").await;
            b.fill("管理者の氏名（フリガナ）", "ワタナベ　ナオミ").await;
            b.fill("管理者の生年月日", "1982-03-04").await;
            b.fill("管理者の住所", "東京都新宿区大久保一丁目1番1号")
                .await;
            b.click("入力内容を保存する").await;
            b.wait_path(&format!("/filings/{filing}/edit?done=saved"))
                .await;
            b.shoot(&format!("{tag}-03-edit")).await;
            for (req, file) in [
                ("従業者の勤務の体制及び勤務形態一覧表", "roster.pdf"),
                ("管理者の資格証の写し", "qualification.pdf"),
                ("誓約書", "pledge.pdf"),
            ] {
                b.upload(req, file, &server::pdf(req)).await;
                b.wait_path(&format!("/filings/{filing}/edit?done=uploaded"))
                    .await;
            }
            b.click("保存して確認画面へ進む").await;
            b.wait_path(&format!("/filings/{filing}?done=saved")).await;
            b.shoot(&format!("{tag}-04-review")).await;
            b.click("この内容で提出する").await;
            b.wait_path(&format!("/filings/{filing}/receipt?done=submitted"))
                .await;
            let receipt = b.main_text().await;
            assert!(
                receipt.contains("東京都") && receipt.contains("新宿区"),
                "{receipt}"
            );
            b.shoot(&format!("{tag}-05-receipt")).await;

            // 新宿区 returns it, pinning the manager's date of birth.
            b.sign_in_staff("reviewer-131041").await;
            b.goto("/inbox").await;
            b.shoot(&format!("{tag}-06-inbox")).await;
            b.open_first_case().await;
            assert!(b.main_text().await.contains("渡辺　直美"));
            b.shoot(&format!("{tag}-07-case")).await;
            b.fill(
                "差戻しの理由",
                "管理者の生年月日が資格証と異なります。ご確認ください。",
            )
            .await;
            b.check("変更後の管理者（さくらデイサービス新宿）：管理者の生年月日")
                .await;
            b.click("差戻しの内容を確認する").await;
            let confirm = b.main_text().await;
            assert!(
                confirm.contains("この内容で差し戻しますか")
                    && confirm.contains("管理者の生年月日が資格証と異なります"),
                "returning asks for confirmation first, showing the message: {confirm}"
            );
            b.click("差し戻す").await;
            b.wait_path("/cases/").await;
            assert!(
                b.flash()
                    .await
                    .unwrap_or_default()
                    .contains("差し戻しました")
            );
            b.shoot(&format!("{tag}-08-returned")).await;

            // The provider sees the request with the pinned field and follows it.
            b.sign_in_provider("provider1").await;
            let list = b.main_text().await;
            assert!(list.contains("修正の依頼があります"), "{list}");
            b.goto(&format!("/filings/{filing}")).await;
            let detail = b.main_text().await;
            assert!(
                detail.contains("管理者の生年月日が資格証と異なります"),
                "{detail}"
            );
            b.shoot(&format!("{tag}-09-provider-returned")).await;
            b.click_in(".message--open", "管理者の生年月日").await;
            let at = b.wait_path(&format!("/filings/{filing}/edit")).await;
            let url = b.client.current_url().await.expect("url");
            assert!(
                url.fragment()
                    .is_some_and(|f| f.contains("manager_birth_date")),
                "the pinned link leads to the field: {at} #{:?}",
                url.fragment()
            );
            b.fill("管理者の生年月日", "1982-03-05").await;
            b.click("保存して確認画面へ進む").await;
            b.wait_path(&format!("/filings/{filing}?done=saved")).await;
            b.click("修正した内容で再提出する").await;
            b.wait_path(&format!("/filings/{filing}/receipt?done=submitted"))
                .await;
            b.shoot(&format!("{tag}-10-resubmitted")).await;

            // 新宿区 sees what changed and accepts; the registry takes the new manager.
            b.sign_in_staff("reviewer-131041").await;
            b.goto("/inbox").await;
            b.open_first_case().await;
            let case = b.main_text().await;
            assert!(case.contains("前の版での値"), "{case}");
            b.click("受付へ進む").await;
            assert!(
                b.main_text().await.contains("この届出を受け付けますか"),
                "accepting asks for confirmation first"
            );
            b.click("受付を完了する").await;
            b.wait_path("/cases/").await;
            assert!(
                b.flash()
                    .await
                    .unwrap_or_default()
                    .contains("受付を完了しました")
            );
            b.shoot(&format!("{tag}-11-accepted")).await;
            let api = srv.api("provider1").await;
            let est = server::establishment_id(&api, server::SHINJUKU).await;
            let record = api.get(&format!("/api/v1/establishments/{est}")).await;
            assert_eq!(record.body["record"]["manager_name"], "渡辺　直美");
            assert_eq!(record.body["record"]["manager_birth_date"], "1982-03-05");
            srv.stop().await;
        }
    });
}
