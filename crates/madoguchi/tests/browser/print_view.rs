//! The print view of a case: the provider opens it per authority from the filing's page, the
//! reviewer from the case; it shows the form's title and number, 「○○長　殿」, the date in
//! 和暦, the 届出者 and the answers; printed (Chrome's 「PDF に保存」) it is an A4 form without
//! the site's navigation. The .xlsx of the same form is downloaded with the session.

use std::io::Read;

use base64::Engine as _;
use serde_json::json;

use crate::harness::{self, Browser, server, shots};

/// Checks the form sheet on the page: what every printed form must show.
async fn assert_form(b: &Browser, form_number: &str, addressee: &str) {
    assert_eq!(b.heading().await, "変更届出書");
    let text = b.main_text().await;
    for expected in [
        form_number,
        addressee,
        "令和",
        "届出者",
        "社会福祉法人　さくら福祉会",
        "理事長　山田　太郎",
        "次のとおり届け出ます。",
        "届出に係る事業所（施設）",
        "1370400010",
        "変更後の管理者（さくらデイサービス新宿）",
        "渡辺　直美",
        "令和8年11月20日",
        "誓約書",
    ] {
        assert!(
            text.contains(expected),
            "the form shows 「{expected}」: {text}"
        );
    }
}

#[test]
fn print_view_and_xlsx_of_a_case() {
    harness::run("print_view", || async {
        let srv = server::start(server::backends()[0]).await;
        let filing = server::submit_manager_change(&srv, server::SHINJUKU, "渡辺　直美").await;
        let b = Browser::open(&srv.base_url).await;

        // The provider: one form per authority, from the filing's page.
        b.sign_in_provider("provider1").await;
        b.goto(&format!("/filings/{filing}")).await;
        b.click("新宿区あての様式を表示（印刷・PDF）").await;
        b.wait_path("/cases/").await;
        assert_form(&b, "新宿区様式第5号", "新宿区長　殿").await;
        b.shoot("print-01-provider-shinjuku").await;
        b.goto(&format!("/filings/{filing}")).await;
        b.click("東京都あての様式を表示（印刷・PDF）").await;
        let tokyo_form = b.wait_path("/cases/").await;
        assert_form(&b, "別紙様式第一号（五）", "東京都知事　殿").await;

        // Printed: no navigation, no tools, A4.
        shots::cdp(
            &b.client,
            "Emulation.setEmulatedMedia",
            json!({ "media": "print" }),
        )
        .await;
        let hidden = b
            .client
            .execute(
                "return ['.site-header', '.site-nav', '.breadcrumbs', '.site-footer', '.form-sheet-tools']
                   .map(s => document.querySelector(s))
                   .filter(e => e && getComputedStyle(e).display !== 'none')
                   .map(e => e.className);",
                vec![],
            )
            .await
            .expect("print styles");
        assert_eq!(hidden, json!([]), "shown when printed: {hidden}");
        assert_eq!(shots::shoot(&b.client, "print-02-as-printed").await, None);
        shots::cdp(
            &b.client,
            "Emulation.setEmulatedMedia",
            json!({ "media": "" }),
        )
        .await;
        let pdf = shots::cdp(
            &b.client,
            "Page.printToPDF",
            json!({ "preferCSSPageSize": true, "printBackground": false }),
        )
        .await;
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(pdf["data"].as_str().expect("pdf data"))
            .expect("pdf base64");
        assert!(pdf.starts_with(b"%PDF"), "a PDF");
        let raw = String::from_utf8_lossy(&pdf);
        let media_box = raw
            .split("/MediaBox [")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .unwrap_or_default()
            .to_string();
        let size: Vec<f64> = media_box
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        assert!(
            size.len() == 4 && (size[2] - 595.3).abs() < 2.0 && (size[3] - 841.9).abs() < 2.0,
            "A4 pages (595 × 842 pt): MediaBox [{media_box}]"
        );
        std::fs::write(shots::dir().join("print-tokyo-form.pdf"), &pdf).expect("keep the PDF");

        // The .xlsx of the same form, with the provider's session.
        let xlsx = b.fetch_bytes(&format!("{tokyo_form}.xlsx")).await;
        let xml = xlsx_text(&xlsx);
        for expected in [
            "変更届出書",
            "東京都知事　殿",
            "渡辺　直美",
            "令和8年11月20日",
            "誓約書",
        ] {
            assert!(xml.contains(expected), "the .xlsx has 「{expected}」");
        }

        // The reviewer opens the same form from the case.
        b.sign_in_staff("reviewer-131041").await;
        b.goto("/inbox").await;
        b.open_first_case().await;
        b.click("様式を表示・印刷").await;
        b.wait_path("/cases/").await;
        assert_form(&b, "新宿区様式第5号", "新宿区長　殿").await;
        b.shoot("print-03-reviewer").await;

        // Another authority's reviewer cannot open it.
        let case = tokyo_form
            .trim_start_matches("/cases/")
            .trim_end_matches("/form");
        b.goto(&format!("/cases/{case}/form")).await;
        assert!(
            b.main_text().await.contains("ページが見つかりません"),
            "東京都's case is not 新宿区's to see"
        );
        srv.stop().await;
    });
}

/// Every XML part of an .xlsx, concatenated (shared strings hold the text).
pub fn xlsx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an .xlsx is a ZIP");
    let mut out = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        if f.name().is_ok_and(|n| n.ends_with(".xml")) {
            f.read_to_string(&mut out).expect("xml text");
        }
    }
    out
}
