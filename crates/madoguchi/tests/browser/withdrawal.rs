//! Withdrawal (取下げ) with a reason, in the browser: a reason is required and said politely
//! when missing; the withdrawal reaches every undecided authority, which sees the reason; the
//! provider's page keeps the history.

use crate::harness::{self, Browser, server};

#[test]
fn withdrawal_with_a_reason_reaches_each_authority() {
    harness::run("withdrawal", || async {
        let srv = server::start(server::backends()[0]).await;
        let filing = server::submit_manager_change(&srv, server::SHINJUKU, "渡辺　直美").await;
        let b = Browser::open(&srv.base_url).await;

        b.sign_in_provider("provider1").await;
        b.goto(&format!("/filings/{filing}")).await;
        b.click("取下げの手続へ進む").await;
        b.wait_path(&format!("/filings/{filing}/withdraw")).await;
        b.shoot("withdraw-01-open").await;

        // Without a reason: a clear message, nothing withdrawn.
        b.click("確認へ進む").await;
        let refused = b.main_text().await;
        assert!(
            refused.contains("理由"),
            "the message names the reason: {refused}"
        );
        b.shoot("withdraw-02-no-reason").await;
        b.goto(&format!("/filings/{filing}")).await;
        assert!(b.main_text().await.contains("審査中 2か所"));

        b.click("取下げの手続へ進む").await;
        b.fill("取下げの理由", "管理者の交代が延期になったため。")
            .await;
        b.click("確認へ進む").await;
        let confirm = b.main_text().await;
        assert!(
            confirm.contains("この内容で取り下げますか")
                && confirm.contains("管理者の交代が延期になったため。"),
            "withdrawing asks for confirmation first: {confirm}"
        );
        b.shoot("withdraw-02b-confirm").await;
        b.click("取り下げる（元に戻せません）").await;
        b.wait_path(&format!("/filings/{filing}?done=withdrawn"))
            .await;
        assert!(
            b.flash()
                .await
                .unwrap_or_default()
                .contains("取り下げました")
        );
        let page = b.main_text().await;
        assert!(page.contains("取下げ 2か所"), "{page}");
        assert!(
            page.contains("取下げの理由"),
            "the history shows the reason: {page}"
        );
        assert!(page.contains("管理者の交代が延期になったため。"));
        assert!(
            !b.has_button("取下げの手続へ進む").await,
            "nothing left to withdraw"
        );
        b.shoot("withdraw-03-done").await;

        // Each authority concerned sees the withdrawal and its reason.
        for reviewer in ["reviewer-130001", "reviewer-131041"] {
            b.sign_in_staff(reviewer).await;
            b.goto("/inbox?status=withdrawn").await;
            b.open_first_case().await;
            let case = b.main_text().await;
            assert!(
                case.contains("事業者がこの届出を取り下げました")
                    && case.contains("管理者の交代が延期になったため。"),
                "{reviewer}: {case}"
            );
            assert!(!b.has_button("受付を完了する").await);
            b.shoot(&format!("withdraw-04-{reviewer}")).await;
        }
        // And was told by mail, with the reason.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let told = srv
                .sink
                .messages()
                .iter()
                .filter(|m| m.body.contains("管理者の交代が延期になったため。"))
                .count();
            if told >= 2 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "both authorities are told by mail ({told} so far)"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        srv.stop().await;
    });
}
