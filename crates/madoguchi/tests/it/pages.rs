//! The HTML pages, driven as a browser without JavaScript would: plain form posts and
//! redirects, a cookie session, CSRF tokens read from the page. A provider files a 管理者
//! change and a reviewer returns it, then accepts the resubmission.

use madoguchi_testing::{TestServer, backends};
use reqwest::Client;

pub(crate) struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    pub(crate) fn new(base: &str) -> Browser {
        Browser {
            client: Client::builder().cookie_store(true).build().unwrap(),
            base: base.into(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap();
        let url = r.url().path().to_string()
            + &r.url().query().map(|q| format!("?{q}")).unwrap_or_default();
        (r.status().as_u16(), url, r.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let r = self
            .client
            .post(format!("{}{}", self.base, path))
            .form(form)
            .send()
            .await
            .unwrap();
        let url = r.url().path().to_string()
            + &r.url().query().map(|q| format!("?{q}")).unwrap_or_default();
        (r.status().as_u16(), url, r.text().await.unwrap())
    }

    /// A GET's status, content type and raw bytes (downloads, .xlsx).
    pub(crate) async fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, content_type, r.bytes().await.unwrap().to_vec())
    }

    pub(crate) async fn login(&self, login: &str) {
        let (status, url, _) = self.post("/login/demo", &[("login", login)]).await;
        assert_eq!(status, 200);
        assert_ne!(url, "/login", "demo sign-in failed for {login}");
    }

    /// Providers sign in through the development OpenID provider (`/dev-idp`): the sign-in
    /// link leads to its account page; choosing `account` comes back signed in.
    pub(crate) async fn login_oidc(&self, account: &str) {
        let r = self
            .client
            .get(format!("{}/login/oidc", self.base))
            .send()
            .await
            .unwrap();
        let authorize = r.url().clone();
        assert_eq!(authorize.path(), "/dev-idp/authorize");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("アカウントを選んでください")
        );
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("account".into(), account.into()));
        let mut action = authorize.clone();
        action.set_query(None);
        let r = self.client.post(action).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.url().path(),
            "/filings",
            "sign-in through the provider for {account}"
        );
    }
}

/// The value of the first `name="csrf_token"` input.
pub(crate) fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("csrf token on page")
        + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

/// Every `name="_present" value="…"` on the page (the fields the form rendered).
pub(crate) fn present(html: &str) -> Vec<String> {
    html.match_indices("name=\"_present\" value=\"")
        .map(|(i, m)| {
            html[i + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .replace("&#46;", ".")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_files_and_reviewer_decides_without_javascript() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let provider = Browser::new(&srv.base_url);
        let (_, url, _) = provider.get("/filings").await;
        assert_eq!(url, "/login", "pages need a session");
        provider.login_oidc("provider1").await;

        // Start a 変更届 for the 新宿 establishment.
        let (_, _, page) = provider.get("/filings/new").await;
        assert!(page.contains("変更届出書") && page.contains("さくらデイサービス新宿"));
        let token = csrf(&page);
        let est = srv
            .api("provider1")
            .await
            .get("/api/v1/establishments?office_number=1370400010")
            .await
            .body[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, url, page) = provider
            .post(
                "/filings",
                &[
                    ("csrf_token", &token),
                    ("procedure_id", "change-notification"),
                    ("establishment_ids", &est),
                ],
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(url.ends_with("/edit?done=created"), "{url}");
        let fid = url
            .trim_start_matches("/filings/")
            .split('/')
            .next()
            .unwrap()
            .to_string();

        // Choose 管理者, save: the manager section appears, prefilled from the registry.
        let mut form: Vec<(String, String)> = vec![("csrf_token".into(), token.clone())];
        form.extend(
            present(&page)
                .into_iter()
                .map(|p| ("_present".to_string(), p)),
        );
        form.push(("fields.change_items".into(), "manager".into()));
        form.push(("fields.change_date".into(), "2026-11-20".into()));
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, url, page) = provider.post(&format!("/filings/{fid}"), &refs).await;
        assert!(url.ends_with("/edit?done=saved"), "{url}");
        assert!(
            page.contains("佐藤　花子"),
            "manager prefilled from the registry"
        );
        assert!(
            page.contains("登録情報から"),
            "prefilled values are labelled with their source"
        );

        // Type the new manager, save.
        let name_field = format!("establishments.{est}.manager_name");
        let kana_field = format!("establishments.{est}.manager_kana");
        let mut form: Vec<(String, String)> = vec![("csrf_token".into(), token.clone())];
        form.extend(
            present(&page)
                .into_iter()
                .map(|p| ("_present".to_string(), p)),
        );
        form.push(("fields.change_items".into(), "manager".into()));
        form.push(("fields.change_date".into(), "2026-11-20".into()));
        form.push((name_field.clone(), "渡辺　直美".into()));
        form.push((kana_field.clone(), "ﾜﾀﾅﾍﾞ ﾅｵﾐ".into()));
        form.push((
            format!("establishments.{est}.manager_birth_date"),
            "1982-03-04".into(),
        ));
        form.push((
            format!("establishments.{est}.manager_address"),
            "東京都新宿区大久保一丁目1番1号".into(),
        ));
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, _, page) = provider.post(&format!("/filings/{fid}"), &refs).await;
        assert!(
            page.contains("ワタナベ　ナオミ"),
            "half-width kana normalised to full-width"
        );

        // Submitting without the required files brings the form back with the messages.
        let (status, _, page) = provider
            .post(&format!("/filings/{fid}/submit"), &[("csrf_token", &token)])
            .await;
        assert_eq!(status, 422);
        assert!(
            page.contains("入力内容を確認してください") && page.contains("勤務形態一覧表"),
            "{page}"
        );

        // Attach the three documents a manager change needs (multipart, no JavaScript).
        for req in ["roster", "qualification", "pledge"] {
            let part = reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF".to_vec())
                .file_name(format!("{req}.pdf"));
            let mp = reqwest::multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("requirement_id", req)
                .part("file", part);
            let r = provider
                .client
                .post(format!("{}/filings/{fid}/attachments", srv.base_url))
                .multipart(mp)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert!(
                r.url().query().unwrap_or("").contains("done=uploaded"),
                "upload of {req}: {}",
                r.text().await.unwrap()
            );
        }
        let (_, url, page) = provider
            .post(&format!("/filings/{fid}/submit"), &[("csrf_token", &token)])
            .await;
        assert!(url.ends_with("?done=submitted"), "{url}: {page}");
        assert!(
            page.contains("東京都") && page.contains("新宿区"),
            "both authorities listed"
        );
        assert!(page.contains("提出済"));

        // A forged form without the session's CSRF token is refused.
        let (status, _, _) = provider
            .post(
                &format!("/filings/{fid}/withdraw"),
                &[("csrf_token", "forged"), ("reason", "x")],
            )
            .await;
        assert_eq!(status, 403);

        // The 新宿区 reviewer returns it, pinning the manager's name.
        let reviewer = Browser::new(&srv.base_url);
        reviewer.login("reviewer-131041").await;
        let (_, _, inbox) = reviewer.get("/inbox").await;
        assert!(inbox.contains("変更届出書") && inbox.contains("さくら福祉会"));
        let case_id = inbox
            .split("href=\"/cases/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let (_, _, case_page) = reviewer.get(&format!("/cases/{case_id}")).await;
        assert!(
            case_page.contains("渡辺　直美") && case_page.contains("現在の登録内容"),
            "answers beside the registry's value"
        );
        let rtoken = csrf(&case_page);
        let pin = format!("establishments.{est}.manager_birth_date");
        let return_form = [
            ("csrf_token", rtoken.as_str()),
            ("message", "生年月日をご確認ください。"),
            ("fields", pin.as_str()),
        ];
        // A return cannot be undone: a page shows what the provider will receive first.
        let (status, url, page) = reviewer
            .post(&format!("/cases/{case_id}/return"), &return_form)
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/return"), "{url}");
        assert!(
            page.contains("この内容で差し戻しますか")
                && page.contains("生年月日をご確認ください。")
                && page.contains("name=\"confirm\" value=\"yes\""),
            "{page}"
        );
        let mut confirmed = return_form.to_vec();
        confirmed.push(("confirm", "yes"));
        let (_, url, _) = reviewer
            .post(&format!("/cases/{case_id}/return"), &confirmed)
            .await;
        assert!(url.ends_with("done=returned"), "{url}");

        // The provider sees the message, corrects and resubmits.
        let (_, _, detail) = provider.get(&format!("/filings/{fid}")).await;
        assert!(detail.contains("生年月日をご確認ください") && detail.contains("差戻し"));
        let (_, _, page) = provider.get(&format!("/filings/{fid}/edit")).await;
        let mut form: Vec<(String, String)> = vec![("csrf_token".into(), token.clone())];
        form.extend(
            present(&page)
                .into_iter()
                .map(|p| ("_present".to_string(), p)),
        );
        form.push(("fields.change_items".into(), "manager".into()));
        form.push(("fields.change_date".into(), "2026-11-20".into()));
        form.push((name_field.clone(), "渡辺　直美".into()));
        form.push((kana_field.clone(), "ワタナベ　ナオミ".into()));
        form.push((
            format!("establishments.{est}.manager_birth_date"),
            "1982-03-05".into(),
        ));
        form.push((
            format!("establishments.{est}.manager_address"),
            "東京都新宿区大久保一丁目1番1号".into(),
        ));
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        provider.post(&format!("/filings/{fid}"), &refs).await;
        let (_, _, detail) = provider.get(&format!("/filings/{fid}")).await;
        let lock = detail
            .split("name=\"lock_version\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let (_, url, _) = provider
            .post(
                &format!("/filings/{fid}/submit"),
                &[("csrf_token", &token), ("lock_version", &lock)],
            )
            .await;
        assert!(url.ends_with("?done=submitted"), "{url}");
        // A double click (same lock_version) submits once: the case is submitted, not doubled.
        let (_, url, _) = provider
            .post(
                &format!("/filings/{fid}/submit"),
                &[("csrf_token", &token), ("lock_version", &lock)],
            )
            .await;
        assert!(
            url.ends_with("?done=submitted"),
            "a replayed click lands on the same receipt: {url}"
        );

        // Accepting asks for confirmation on a page of its own, then applies the change.
        let (status, _, page) = reviewer
            .post(
                &format!("/cases/{case_id}/accept"),
                &[("csrf_token", &rtoken)],
            )
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("この届出を受け付けますか"), "{page}");
        let (_, _, still) = reviewer.get(&format!("/cases/{case_id}")).await;
        assert!(
            still.contains("審査待ち"),
            "nothing accepted before confirming"
        );
        let (status, url, page) = reviewer
            .post(
                &format!("/cases/{case_id}/accept"),
                &[("csrf_token", &rtoken), ("confirm", "yes")],
            )
            .await;
        assert!(
            url.ends_with("done=accepted"),
            "{status} {url} {}",
            page.split("<main").nth(1).unwrap_or("")
        );
        assert!(page.contains("受付完了"));
        let est_now = srv
            .api("provider1")
            .await
            .get(&format!("/api/v1/establishments/{est}"))
            .await;
        assert_eq!(est_now.body["record"]["manager_name"], "渡辺　直美");
        assert_eq!(est_now.body["record"]["manager_birth_date"], "1982-03-05");

        // Pages load nothing from outside and send the security headers.
        let r = provider
            .client
            .get(format!("{}/filings", srv.base_url))
            .send()
            .await
            .unwrap();
        let csp = r
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("object-src 'none'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline")
        );
        assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external references"
        );

        // Sign-out ends the session.
        let (_, _, page) = provider.get("/filings").await;
        provider
            .post("/logout", &[("csrf_token", &csrf(&page))])
            .await;
        let (_, url, _) = provider.get("/filings").await;
        assert_eq!(url, "/login");
        srv.stop().await;
    }
}
