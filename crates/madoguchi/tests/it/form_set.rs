//! The form set of a case (`/cases/{id}/form`, `/cases/{id}/form.xlsx`): the standard form
//! with its title, addressee, 和暦 date, 届出者 and answers, as a page and as an .xlsx, for the
//! filing corporation and the addressed authority only.

use std::io::Read;

use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::representative_change;
use crate::pages::Browser;

fn xlsx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an .xlsx is a ZIP");
    let mut out = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        if f.name().is_ok_and(|n| n.ends_with(".xml")) {
            f.read_to_string(&mut out).expect("xml");
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_set_is_for_the_two_parties_of_the_case() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let view = p1.get(&format!("/api/v1/filings/{fid}")).await.body;
        let cases = view["cases"].as_array().expect("cases").clone();
        let case_of = |code: &str| {
            cases
                .iter()
                .find(|c| c["authority_code"] == code)
                .and_then(|c| c["id"].as_str())
                .expect("case")
                .to_string()
        };
        let tokyo = case_of("130001");
        let shinjuku = case_of("131041");

        // The filing corporation sees each authority's form.
        let provider = Browser::new(&srv.base_url);
        provider.login_oidc("provider1").await;
        let (_, _, detail) = provider.get(&format!("/filings/{fid}")).await;
        assert!(
            detail.contains(&format!("href=\"/cases/{tokyo}/form\"")),
            "the filing's page links each authority's form"
        );
        let (status, _, page) = provider.get(&format!("/cases/{tokyo}/form")).await;
        assert_eq!(status, 200, "{page}");
        for expected in [
            "別紙様式第一号（五）",
            "変更届出書",
            "東京都知事　殿",
            "令和",
            "社会福祉法人　さくら福祉会",
            "次のとおり届け出ます。",
            "佐々木　一郎",
            "登記事項証明書",
        ] {
            assert!(
                page.contains(expected),
                "[{backend}] 「{expected}」 on the form"
            );
        }
        let (status, _, page) = provider.get(&format!("/cases/{shinjuku}/form")).await;
        assert_eq!(status, 200);
        assert!(page.contains("新宿区長　殿") && page.contains("新宿区様式第5号"));
        // The establishments 新宿区 designated, with their services: the corporation-wide
        // change concerns its 新宿 establishment's 地域密着型通所介護.
        assert!(
            page.contains("1370400010") && page.contains("地域密着型通所介護（78）"),
            "{page}"
        );

        let (status, content_type, bytes) = provider
            .get_bytes(&format!("/cases/{tokyo}/form.xlsx"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            content_type,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let xml = xlsx_text(&bytes);
        for expected in [
            "変更届出書",
            "東京都知事　殿",
            "佐々木　一郎",
            "登記事項証明書",
        ] {
            assert!(
                xml.contains(expected),
                "[{backend}] 「{expected}」 in the .xlsx"
            );
        }

        // Another corporation: as if the case did not exist.
        let other = Browser::new(&srv.base_url);
        other.login_oidc("provider2").await;
        for path in [
            format!("/cases/{tokyo}/form"),
            format!("/cases/{tokyo}/form.xlsx"),
        ] {
            let (status, _, body) = other.get_bytes(&path).await;
            assert_eq!(status, 404, "{path}");
            assert!(!String::from_utf8_lossy(&body).contains("佐々木"));
        }

        // The addressed authority sees its own case's form, not another authority's.
        let reviewer = Browser::new(&srv.base_url);
        reviewer.login("reviewer-131041").await;
        let (_, _, case_page) = reviewer.get(&format!("/cases/{shinjuku}")).await;
        assert!(case_page.contains(&format!("href=\"/cases/{shinjuku}/form\"")));
        assert_eq!(
            reviewer.get(&format!("/cases/{shinjuku}/form")).await.0,
            200
        );
        assert_eq!(
            reviewer
                .get_bytes(&format!("/cases/{shinjuku}/form.xlsx"))
                .await
                .0,
            200
        );
        assert_eq!(reviewer.get(&format!("/cases/{tokyo}/form")).await.0, 404);
        assert_eq!(reviewer.get("/cases/not-a-case/form").await.0, 404);

        // The platform operator is no party to cases; without a session, sign in first.
        let operator = Browser::new(&srv.base_url);
        operator.login("operator").await;
        assert_eq!(operator.get(&format!("/cases/{tokyo}/form")).await.0, 403);
        let (_, url, _) = Browser::new(&srv.base_url)
            .get(&format!("/cases/{tokyo}/form"))
            .await;
        assert_eq!(url, "/login");
        srv.stop().await;
    }
}
