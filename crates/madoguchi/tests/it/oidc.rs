//! Provider sign-in by OpenID Connect against the development provider mounted under
//! `/dev-idp` (as `serve --demo` does), over real HTTP. The happy path signs in and files;
//! every faulty answer — wrong issuer, audience, key, `alg=none`, HS256, expired token, nonce,
//! state, replayed code, PKCE mismatch, UserInfo for another subject — is refused with no
//! session created; a changed 法人番号 moves or removes the link at the next sign-in; an
//! エントリー account may draft but not submit.

use madoguchi_devidp::Misbehave;
use madoguchi_testing::{TestBackend, TestServer, backends};
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Client, Url};

/// A browser that keeps cookies but lets the test follow each redirect itself.
struct Browser {
    client: Client,
    base: String,
}

/// One response: status, Location (absolute), Set-Cookie names, body.
struct Page {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Browser {
    fn new(srv: &TestServer) -> Browser {
        Browser {
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: srv.base_url.clone(),
        }
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.base, path_or_url)
        }
    }

    async fn page(&self, r: reqwest::Response) -> Page {
        let base = Url::parse(r.url().as_str()).unwrap();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| base.join(v.to_str().unwrap()).unwrap().to_string());
        let cookies = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split('=').next().unwrap().to_string())
            .collect();
        Page {
            status: r.status().as_u16(),
            location,
            cookies,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&self, path_or_url: &str) -> Page {
        let r = self.client.get(self.url(path_or_url)).send().await.unwrap();
        self.page(r).await
    }

    async fn post(&self, path_or_url: &str, form: &[(String, String)]) -> Page {
        let r = self
            .client
            .post(self.url(path_or_url))
            .form(form)
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    /// `GET /login/oidc`: the provider's authorization URL this browser is sent to.
    async fn start(&self) -> String {
        let p = self.get("/login/oidc").await;
        assert_eq!(p.status, 303, "{}", p.body);
        assert!(
            p.cookies.iter().any(|c| c == "madoguchi-oidc"),
            "the sign-in is bound to this browser by a cookie"
        );
        p.location.expect("redirect to the provider")
    }

    /// At the provider: shows the account page, picks `account`; returns the callback URL
    /// the provider redirects to (not yet followed).
    async fn choose(&self, authorize_url: &str, account: &str) -> String {
        let page = self.get(authorize_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("ログインするアカウントを選んでください"));
        let url = Url::parse(authorize_url).unwrap();
        let mut form: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("account".into(), account.into()));
        let mut action = url.clone();
        action.set_query(None);
        let p = self.post(action.as_str(), &form).await;
        assert_eq!(p.status, 303, "{}", p.body);
        p.location.expect("redirect back to the service")
    }

    /// The whole sign-in; returns the callback's response.
    async fn sign_in(&self, account: &str) -> Page {
        let authorize = self.start().await;
        let callback = self.choose(&authorize, account).await;
        self.get(&callback).await
    }

    /// Whether this browser holds a working session (a provider page opens).
    async fn signed_in(&self) -> bool {
        let p = self.get("/filings").await;
        match p.status {
            200 => true,
            303 | 302 | 307 => {
                assert!(p.location.unwrap().ends_with("/login"));
                false
            }
            s => panic!("unexpected {s}: {}", p.body),
        }
    }
}

/// A successful callback: a new session cookie and a redirect home, then the filings list.
fn assert_signed_in(p: &Page) {
    assert_eq!(p.status, 303, "sign-in should succeed: {}", p.body);
    assert!(p.location.as_deref().unwrap().ends_with('/'));
    assert!(p.cookies.iter().any(|c| c == "madoguchi"), "session cookie");
}

/// A refused callback: a page with `status`, no session cookie.
fn assert_refused(p: &Page, status: u16, what: &str) {
    assert_eq!(p.status, status, "{what} must be refused: {}", p.body);
    assert!(
        !p.cookies.iter().any(|c| c == "madoguchi"),
        "{what}: no session cookie"
    );
}

async fn count(srv: &TestServer, sql: &'static str) -> i64 {
    match srv.db.backend {
        TestBackend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&srv.db.url).await.unwrap();
            let n: (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n.0
        }
        TestBackend::Postgres => {
            let pool = sqlx::PgPool::connect(&srv.db.url).await.unwrap();
            let n: (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n.0
        }
    }
}

async fn sessions(srv: &TestServer) -> i64 {
    count(srv, "SELECT COUNT(*) FROM sessions").await
}

/// The value of the first `name="csrf_token"` input.
fn csrf(html: &str) -> String {
    let key = "name=\"csrf_token\" value=\"";
    let at = html.find(key).expect("csrf token on page") + key.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// Every `name="_present" value="…"` on the page.
fn present(html: &str) -> Vec<(String, String)> {
    html.match_indices("name=\"_present\" value=\"")
        .map(|(i, m)| {
            let v = html[i + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .replace("&#46;", ".");
            ("_present".to_string(), v)
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Starts a 変更届 (管理者) for the 新宿 establishment in the browser; returns (filing id,
/// CSRF token, edit page).
async fn draft(b: &Browser, srv: &TestServer) -> (String, String, String) {
    let page = b.get("/filings/new").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("さくらデイサービス新宿"));
    let token = csrf(&page.body);
    let est = srv
        .api("provider1")
        .await
        .get("/api/v1/establishments?office_number=1370400010")
        .await
        .body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = b
        .post(
            "/filings",
            &pairs(&[
                ("csrf_token", &token),
                ("procedure_id", "change-notification"),
                ("establishment_ids", &est),
            ]),
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let loc = p.location.unwrap();
    assert!(loc.ends_with("/edit?done=created"), "{loc}");
    let fid = loc
        .split("/filings/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let edit = b.get(&loc).await;
    // Choose 管理者 and fill the new manager.
    let mut form = pairs(&[("csrf_token", &token)]);
    form.extend(present(&edit.body));
    form.extend(pairs(&[
        ("fields.change_items", "manager"),
        ("fields.change_date", "2026-11-20"),
    ]));
    let p = b.post(&format!("/filings/{fid}"), &form).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let edit = b.get(&p.location.unwrap()).await;
    let mut form = pairs(&[("csrf_token", &token)]);
    form.extend(present(&edit.body));
    form.extend(pairs(&[
        ("fields.change_items", "manager"),
        ("fields.change_date", "2026-11-20"),
        (&format!("establishments.{est}.manager_name"), "渡辺　直美"),
        (
            &format!("establishments.{est}.manager_kana"),
            "ワタナベ　ナオミ",
        ),
        (
            &format!("establishments.{est}.manager_birth_date"),
            "1982-03-04",
        ),
        (
            &format!("establishments.{est}.manager_address"),
            "東京都新宿区大久保一丁目1番1号",
        ),
    ]));
    let p = b.post(&format!("/filings/{fid}"), &form).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location.as_deref().unwrap().ends_with("done=saved"));
    (fid, token, edit.body)
}

/// Attaches the three documents a manager change needs.
async fn attach_all(b: &Browser, fid: &str, token: &str) {
    for req in ["roster", "qualification", "pledge"] {
        let part = reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF".to_vec())
            .file_name(format!("{req}.pdf"));
        let mp = reqwest::multipart::Form::new()
            .text("csrf_token", token.to_string())
            .text("requirement_id", req)
            .part("file", part);
        let r = b
            .client
            .post(format!("{}/filings/{fid}/attachments", b.base))
            .multipart(mp)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "upload of {req}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_signs_in_through_the_provider_and_files() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let b = Browser::new(&srv);
        let login = b.get("/login").await;
        assert!(
            login.body.contains("GビズIDでログイン（デモ）")
                && login.body.contains("href=\"/login/oidc\""),
            "providers sign in through the provider"
        );
        assert!(
            !login.body.contains("value=\"provider1\""),
            "no development sign-in for providers"
        );
        // The development sign-in refuses providers even when asked directly.
        let p = b
            .post("/login/demo", &pairs(&[("login", "provider1")]))
            .await;
        assert_eq!(p.status, 303);
        assert!(p.location.unwrap().ends_with("/login?error=provider"));
        assert!(!b.signed_in().await);

        let before = sessions(&srv).await;
        let authorize = b.start().await;
        assert!(
            authorize.starts_with(&format!("{}/dev-idp/authorize?", srv.base_url)),
            "{authorize}"
        );
        let q: Vec<(String, String)> = Url::parse(&authorize)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("response_type"), "code");
        assert_eq!(get("code_challenge_method"), "S256");
        assert_eq!(
            get("scope"),
            "openid profile email",
            "explicit minimal scopes"
        );
        assert!(get("state").len() >= 16 && get("nonce").len() >= 16);
        let callback = b.choose(&authorize, "provider1").await;
        assert!(callback.starts_with(&format!("{}/login/oidc/callback?", srv.base_url)));
        let p = b.get(&callback).await;
        assert_signed_in(&p);
        assert_eq!(sessions(&srv).await, before + 1);
        let home = b.get("/").await;
        assert!(home.location.unwrap().ends_with("/filings"));
        let list = b.get("/filings").await;
        assert_eq!(list.status, 200);
        assert!(
            list.body.contains("木村"),
            "the provider's name from UserInfo"
        );
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'session.signed_in' AND details LIKE '%oidc%'"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM users WHERE oidc_subject = 'dev-7f3a1c2e-provider1' AND oidc_account_type = '2'"
            )
            .await,
            1,
            "[{backend}] the user is keyed on (issuer, subject)"
        );

        // A プライム account files: draft, attach, submit.
        let (fid, token, _) = draft(&b, &srv).await;
        attach_all(&b, &fid, &token).await;
        let p = b
            .post(
                &format!("/filings/{fid}/submit"),
                &pairs(&[("csrf_token", &token)]),
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
        assert!(p.location.unwrap().ends_with("?done=submitted"));

        // Signing in again reuses the same user and opens a new session.
        let again = Browser::new(&srv);
        assert_signed_in(&again.sign_in("provider1").await);
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM users WHERE oidc_subject = 'dev-7f3a1c2e-provider1'"
            )
            .await,
            1
        );
        assert!(b.signed_in().await && again.signed_in().await);
        assert!(madoguchi_core::audit::verify(&srv.app).await.is_ok());
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_id_tokens_and_userinfo_are_refused() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        for fault in [
            Misbehave::WrongIssuer,
            Misbehave::WrongAudience,
            Misbehave::ForeignKey,
            Misbehave::AlgNone,
            Misbehave::Hs256,
            Misbehave::Expired,
            Misbehave::WrongNonce,
            Misbehave::UserInfoOtherSubject,
        ] {
            srv.idp.misbehave(Some(fault));
            let before = sessions(&srv).await;
            let b = Browser::new(&srv);
            let p = b.sign_in("provider1").await;
            assert_refused(&p, 400, &format!("[{backend}] {fault:?}"));
            assert!(p.body.contains("ログインできませんでした"), "{}", p.body);
            assert_eq!(sessions(&srv).await, before, "[{backend}] {fault:?}");
            assert!(!b.signed_in().await, "[{backend}] {fault:?}");
        }
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM users WHERE oidc_subject IS NOT NULL"
            )
            .await,
            0,
            "[{backend}] no user was registered from a refused answer"
        );
        // Behaving again, the same browser-less flow works: the refusals were the faults.
        srv.idp.misbehave(None);
        assert_signed_in(&Browser::new(&srv).sign_in("provider1").await);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_code_and_pkce_bind_the_answer_to_the_browser() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let before = sessions(&srv).await;

        // State mismatch: the answer carries another state than this browser's request.
        let b = Browser::new(&srv);
        let callback = b.choose(&b.start().await, "provider1").await;
        let mut tampered = Url::parse(&callback).unwrap();
        let code: String = tampered
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        tampered
            .query_pairs_mut()
            .clear()
            .append_pair("code", &code)
            .append_pair("state", "forged-state-value");
        assert_refused(&b.get(tampered.as_str()).await, 400, "state mismatch");
        // The request was used up by the failed attempt: the genuine answer is refused too.
        assert_refused(
            &b.get(&callback).await,
            400,
            "answer after a state mismatch",
        );

        // No cookie: an answer delivered to another browser (login CSRF) is refused.
        let victim = Browser::new(&srv);
        let attacker = Browser::new(&srv);
        let callback = attacker.choose(&attacker.start().await, "provider2").await;
        assert_refused(
            &victim.get(&callback).await,
            400,
            "answer without the cookie",
        );
        assert!(!victim.signed_in().await);

        // Code replay: the same answer twice in the same browser, then the used code
        // injected into a fresh request of that browser.
        let b = Browser::new(&srv);
        let callback = b.choose(&b.start().await, "provider1").await;
        assert_signed_in(&b.get(&callback).await);
        let after_first = sessions(&srv).await;
        assert_refused(&b.get(&callback).await, 400, "replayed answer");
        let used_code = Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        let fresh = Url::parse(&b.start().await).unwrap();
        let state = fresh
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let mut replay = Url::parse(&format!("{}/login/oidc/callback", srv.base_url)).unwrap();
        replay
            .query_pairs_mut()
            .append_pair("code", &used_code)
            .append_pair("state", &state);
        assert_refused(&b.get(replay.as_str()).await, 400, "code replay");
        assert!(
            srv.idp
                .last_error()
                .unwrap_or_default()
                .contains("already used"),
            "[{backend}] the provider refused the replayed code: {:?}",
            srv.idp.last_error()
        );
        assert_eq!(sessions(&srv).await, after_first);

        // PKCE mismatch: a code issued for browser A's request (its challenge) delivered
        // with browser B's state (B's verifier): the provider refuses the exchange.
        let a = Browser::new(&srv);
        let stolen = a.choose(&a.start().await, "provider1").await;
        let stolen_code = Url::parse(&stolen)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        let victim = Browser::new(&srv);
        let fresh = Url::parse(&victim.start().await).unwrap();
        let state = fresh
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let mut injected = Url::parse(&format!("{}/login/oidc/callback", srv.base_url)).unwrap();
        injected
            .query_pairs_mut()
            .append_pair("code", &stolen_code)
            .append_pair("state", &state);
        assert_refused(&victim.get(injected.as_str()).await, 400, "PKCE mismatch");
        assert!(
            srv.idp.last_error().unwrap_or_default().contains("PKCE"),
            "[{backend}] the provider refused the verifier: {:?}",
            srv.idp.last_error()
        );
        assert!(!victim.signed_in().await);
        assert_eq!(sessions(&srv).await, after_first);
        assert_eq!(
            after_first,
            before + 1,
            "only the genuine sign-in opened a session"
        );

        // Cancelling at the provider comes back as an error answer: refused politely.
        let b = Browser::new(&srv);
        let authorize = Url::parse(&b.start().await).unwrap();
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("cancel".into(), "1".into()));
        let mut action = authorize.clone();
        action.set_query(None);
        let back = b.post(action.as_str(), &form).await.location.unwrap();
        assert!(back.contains("error=access_denied"));
        assert_refused(&b.get(&back).await, 400, "cancelled sign-in");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corporate_number_is_checked_at_every_sign_in() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let first = Browser::new(&srv);
        assert_signed_in(&first.sign_in("provider1").await);
        let page = first.get("/filings/new").await;
        assert!(page.body.contains("さくらデイサービス新宿"));

        // The account now states provider2's 法人番号: the link moves to that corporation and
        // the session opened for the former one ends.
        srv.idp.set_corporate_number("provider1", "4011001098993");
        let moved = Browser::new(&srv);
        assert_signed_in(&moved.sign_in("provider1").await);
        let page = moved.get("/filings/new").await;
        assert!(
            page.body.contains("ひまわり訪問介護新宿")
                && !page.body.contains("さくらデイサービス新宿"),
            "[{backend}] acts for the corporation of the new number only"
        );
        assert!(
            !first.signed_in().await,
            "[{backend}] the old session ended"
        );
        assert!(moved.signed_in().await);
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'user.corporation_relinked'"
            )
            .await,
            1
        );

        // A 法人番号 no corporation here holds: refused politely, the link and the sessions go.
        let base12 = "234567890123";
        let unknown = format!(
            "{}{base12}",
            madoguchi_domain::ids::CorporateNumber::check_digit(base12)
        );
        srv.idp.set_corporate_number("provider1", &unknown);
        let before = sessions(&srv).await;
        let refused = Browser::new(&srv);
        let p = refused.sign_in("provider1").await;
        assert_refused(&p, 403, "unknown corporate number");
        assert!(
            p.body.contains(&format!(
                "法人番号 {unknown} の法人は、この窓口に登録されていません"
            )),
            "{}",
            p.body
        );
        assert!(!refused.signed_in().await);
        assert!(!moved.signed_in().await, "[{backend}] the link is revoked");
        assert!(sessions(&srv).await < before);
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.oidc_subject = 'dev-7f3a1c2e-provider1'"
            )
            .await,
            0
        );

        // Back to the original number: linked again.
        srv.idp.set_corporate_number("provider1", "7040005007253");
        let back = Browser::new(&srv);
        assert_signed_in(&back.sign_in("provider1").await);
        assert!(
            back.get("/filings/new")
                .await
                .body
                .contains("さくらデイサービス新宿")
        );

        // A disabled account is refused (and its sessions are already gone).
        let user = {
            let mut tx = srv.app.db.begin_read().await.unwrap();
            let u = madoguchi_db::oidc::user_by_identity(
                &mut tx,
                srv.idp.issuer(),
                "dev-7f3a1c2e-provider1",
            )
            .await
            .unwrap()
            .expect("keyed on (issuer, subject)");
            tx.commit().await.unwrap();
            u
        };
        madoguchi_core::auth::set_user_disabled(&srv.app, &user.login, true, "test")
            .await
            .unwrap();
        assert!(!back.signed_in().await);
        let p = Browser::new(&srv).sign_in("provider1").await;
        assert_refused(&p, 403, "disabled account");
        assert!(p.body.contains("利用を停止"), "{}", p.body);

        // An account without 法人番号 (個人事業主) is refused.
        let sole = Browser::new(&srv);
        let p = sole.sign_in("sole1").await;
        assert_refused(&p, 403, "no corporate number");
        assert!(
            p.body.contains("法人番号が登録されていません"),
            "{}",
            p.body
        );
        assert!(madoguchi_core::audit::verify(&srv.app).await.is_ok());
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_account_drafts_but_cannot_submit() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let b = Browser::new(&srv);
        assert_signed_in(&b.sign_in("entry1").await);
        let (fid, token, _) = draft(&b, &srv).await;
        attach_all(&b, &fid, &token).await;
        let p = b
            .post(
                &format!("/filings/{fid}/submit"),
                &pairs(&[("csrf_token", &token)]),
            )
            .await;
        assert_eq!(p.status, 403, "[{backend}] {}", p.body);
        assert!(
            p.body
                .contains("GビズIDエントリーのアカウントでは提出・取下げはできません"),
            "{}",
            p.body
        );
        let detail = b.get(&format!("/filings/{fid}")).await;
        assert!(!detail.body.contains("提出済"), "nothing was submitted");

        // A メンバー of the same corporation may submit the draft.
        let m = Browser::new(&srv);
        assert_signed_in(&m.sign_in("member1").await);
        let page = m.get(&format!("/filings/{fid}")).await;
        assert_eq!(page.status, 200);
        let p = m
            .post(
                &format!("/filings/{fid}/submit"),
                &pairs(&[("csrf_token", &csrf(&page.body))]),
            )
            .await;
        assert_eq!(p.status, 303, "[{backend}] {}", p.body);
        assert!(p.location.unwrap().ends_with("?done=submitted"));

        // The provider can downgrade an account: the next sign-in takes the new type.
        srv.idp.set_account_type("member1", "1");
        let m2 = Browser::new(&srv);
        assert_signed_in(&m2.sign_in("member1").await);
        assert_eq!(
            count(
                &srv,
                "SELECT COUNT(*) FROM users WHERE oidc_subject = 'dev-93f0b2d5-member1' AND oidc_account_type = '1'"
            )
            .await,
            1
        );
        srv.stop().await;
    }
}
