//! Staff sign-in over real HTTP, driven as a browser without JavaScript would: plain form
//! posts and redirects, cookies only. Password first (one answer for every refusal), then the
//! second factor: TOTP enrolment at first sign-in (the code computed here with totp-rs from
//! the `otpauth://` URI and the secret the page shows), later codes, replay refused, recovery
//! codes single-use; the session exists only after the second factor. The password rules are
//! exercised at `set-password`, through the use case and through the real binary reading
//! stdin. Pending sign-ins (expiry, five wrong codes) run with an injected clock.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{Duration, TimeZone, Utc};
use madoguchi::config::{Config, DataArgs};
use madoguchi_core::CoreError;
use madoguchi_core::auth::second_factor::{check_code, code_at};
use madoguchi_core::auth::set_staff_password;
use madoguchi_core::auth::staff::{
    self, PasswordStep, PendingView, SecondFactorOutcome, complete_second_factor,
    sign_in_with_password,
};
use madoguchi_core::clock::FixedClock;
use madoguchi_core::registry::demo::DEMO_STAFF_PASSWORD;
use madoguchi_testing::{TestDb, TestServer, backends};
use reqwest::Client;
use reqwest::cookie::{CookieStore, Jar};

struct Page {
    status: u16,
    /// Path and query after redirects.
    url: String,
    body: String,
}

struct Browser {
    client: Client,
    jar: Arc<Jar>,
    base: String,
}

impl Browser {
    fn new(base: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        Browser {
            client: Client::builder()
                .cookie_provider(jar.clone())
                .build()
                .unwrap(),
            jar,
            base: base.into(),
        }
    }

    async fn page(r: reqwest::Response) -> Page {
        let url = r.url().path().to_string()
            + &r.url().query().map(|q| format!("?{q}")).unwrap_or_default();
        Page {
            status: r.status().as_u16(),
            url,
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        Self::page(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The `Cookie` header this browser would send.
    fn cookies(&self) -> String {
        self.jar
            .cookies(&self.base.parse().unwrap())
            .map(|h| h.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    fn has_session(&self) -> bool {
        // The test server runs without `Secure`: the session cookie is `madoguchi`.
        self.cookies()
            .split("; ")
            .any(|c| c.starts_with("madoguchi="))
    }

    async fn password(&self, login: &str, password: &str) -> Page {
        self.post(
            "/login/password",
            &[("login", login), ("password", password)],
        )
        .await
    }

    async fn sign_out(&self) {
        let page = self.get("/").await;
        let token = csrf(&page.body);
        let p = self.post("/logout", &[("csrf_token", &token)]).await;
        assert_eq!(p.status, 200);
        assert!(!self.has_session(), "signed out");
    }
}

fn csrf(html: &str) -> String {
    between(html, "name=\"csrf_token\" value=\"", "\"").to_string()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let at = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not on the page: {html}"))
        + start.len();
    let len = html[at..].find(end).expect("end marker");
    &html[at..at + len]
}

/// Undoes HTML escaping (`&amp;`, `&#38;`, `&#x2f;` …).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let entity = &rest[i + 1..i + j];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..=i + j]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The TOTP secret the enrolment page shows as text, and the `Totp` built (by totp-rs) from
/// the `otpauth://` URI it shows; the two must agree.
fn enrolment(page: &str) -> (String, totp_rs::Totp) {
    let secret: String = between(page, "id=\"totp-secret\" class=\"secret-text\">", "</code>")
        .split_whitespace()
        .collect();
    assert_eq!(secret.len(), 32, "160-bit secret in base32: {secret}");
    let uri = unescape(between(
        page,
        "id=\"totp-uri\" class=\"secret-text\">",
        "</code>",
    ));
    assert!(
        uri.starts_with("otpauth://totp/Madoguchi:"),
        "otpauth URI: {uri}"
    );
    let totp = totp_rs::Totp::from_url(&uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
    assert_eq!(totp.secret().to_base32(), secret, "URI and text agree");
    assert_eq!(totp.digits(), 6);
    assert_eq!(totp.step(), 30);
    (secret, totp)
}

fn recovery_codes(page: &str) -> Vec<String> {
    let list = between(page, "id=\"recovery-codes\">", "</ol>");
    list.split("<code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_string())
        .collect()
}

async fn user_id(srv: &TestServer, login: &str) -> String {
    let mut tx = srv.app.db.begin_read().await.unwrap();
    let u = madoguchi_db::users::get_user_by_login(&mut tx, login)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    u.id
}

async fn audit_of_user(srv: &TestServer, login: &str) -> Vec<(String, String)> {
    let id = user_id(srv, login).await;
    let mut tx = srv.app.db.begin_read().await.unwrap();
    let rows = madoguchi_db::audit::of_object(&mut tx, "user", &id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows.into_iter().map(|r| (r.action, r.details)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_enrol_then_sign_in_with_codes_replay_refused_recovery_codes_once() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let b = Browser::new(&srv.base_url);

        // The sign-in page offers the staff sign-in; the pages are plain forms.
        let login = b.get("/login").await;
        assert!(
            login.body.contains("自治体職員のログイン")
                && login.body.contains("href=\"/login/password\""),
            "[{backend}] staff sign-in offered"
        );
        let form = b.get("/login/password").await;
        assert_eq!(form.status, 200);
        assert!(
            form.body
                .contains("<form method=\"post\" action=\"/login/password\"")
        );
        assert!(!form.body.contains("<script"), "no JavaScript");

        // 1. Password: on to the second factor. No session yet.
        let p = b.password("reviewer-131041", DEMO_STAFF_PASSWORD).await;
        assert_eq!(p.url, "/login/totp", "[{backend}] {}", p.body);
        assert!(p.body.contains("二要素認証の設定"));
        assert!(
            p.body.contains("<svg") && p.body.contains("qr-code"),
            "QR code"
        );
        assert!(!p.body.contains("<script"));
        assert!(
            !b.has_session(),
            "[{backend}] no session before the second factor"
        );
        assert!(b.cookies().contains("madoguchi-2fa="), "pending cookie");
        let (secret, totp) = enrolment(&p.body);
        assert_eq!(b.get("/inbox").await.url, "/login", "no access yet");

        // 2. Enrol with a code computed here: signed in, ten recovery codes shown once.
        let code = totp.generate(now_secs()).to_string();
        let p = b.post("/login/totp", &[("code", &code)]).await;
        assert_eq!(p.status, 200, "[{backend}] {}", p.body);
        assert!(p.body.contains("回復コードを控えてください"), "{}", p.body);
        let codes = recovery_codes(&p.body);
        assert_eq!(codes.len(), 10, "{codes:?}");
        assert!(
            b.has_session(),
            "[{backend}] session after the second factor"
        );
        assert!(
            !b.cookies().contains("madoguchi-2fa="),
            "pending cookie gone"
        );
        let inbox = b.get("/inbox").await;
        assert_eq!(inbox.url, "/inbox");
        assert_eq!(inbox.status, 200);
        let events = audit_of_user(&srv, "reviewer-131041").await;
        assert!(events.iter().any(|(a, _)| a == "user.totp_enrolled"));
        assert!(
            events
                .iter()
                .any(|(a, d)| a == "session.signed_in" && d.contains("password+totp")),
            "[{backend}] audited as password+totp: {events:?}"
        );
        for (_, d) in &events {
            assert!(!d.contains(DEMO_STAFF_PASSWORD) && !d.contains(&secret));
        }
        b.sign_out().await;

        // 3. Next sign-in: a later code (the enrolment's step is used up).
        let p = b.password("reviewer-131041", DEMO_STAFF_PASSWORD).await;
        assert_eq!(p.url, "/login/totp");
        assert!(p.body.contains("確認コードの入力") && !p.body.contains("totp-secret"));
        let later = totp.generate(now_secs() + 30).to_string();
        let p = b.post("/login/totp", &[("code", &later)]).await;
        assert_eq!(p.url, "/inbox", "[{backend}] {}", p.body);
        assert!(b.has_session());
        b.sign_out().await;

        // 4. The same code again: refused, no session.
        b.password("reviewer-131041", DEMO_STAFF_PASSWORD).await;
        let p = b.post("/login/totp", &[("code", &later)]).await;
        assert_eq!(p.status, 422, "[{backend}] replayed code refused");
        assert!(p.body.contains("すでに使われたコード"));
        assert!(!b.has_session());
        let events = audit_of_user(&srv, "reviewer-131041").await;
        assert!(
            events
                .iter()
                .any(|(a, d)| a == "session.sign_in_failed" && d.contains("replayed_code")),
            "{events:?}"
        );

        // 5. A recovery code instead (typed in lower case): signed in, nine left.
        let p = b
            .post("/login/totp", &[("code", &codes[0].to_lowercase())])
            .await;
        assert_eq!(p.status, 200, "[{backend}] {}", p.body);
        assert!(p.body.contains("回復コードでログインしました") && p.body.contains("残りは9個"));
        assert!(b.has_session());
        assert!(
            audit_of_user(&srv, "reviewer-131041")
                .await
                .iter()
                .any(|(a, d)| a == "session.signed_in" && d.contains("password+recovery_code"))
        );
        b.sign_out().await;

        // 6. The same recovery code again: refused.
        b.password("reviewer-131041", DEMO_STAFF_PASSWORD).await;
        let p = b.post("/login/totp", &[("code", &codes[0])]).await;
        assert_eq!(p.status, 422, "[{backend}] a recovery code works once");
        assert!(!b.has_session());
        assert!(madoguchi_core::audit::verify(&srv.app).await.is_ok());
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_refusals_look_alike_and_reveal_nothing() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let b = Browser::new(&srv.base_url);
        let same = |p: &Page, login: &str| p.body.replace(login, "LOGIN");

        let wrong = b.password("reviewer-131041", "not the demo password").await;
        assert_eq!(wrong.status, 422, "[{backend}]");
        assert_eq!(wrong.url, "/login/password");
        assert!(
            wrong
                .body
                .contains("ログインIDまたはパスワードが正しくありません")
        );
        let unknown = b.password("reviewer-999999", "not the demo password").await;
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(
            same(&unknown, "reviewer-999999"),
            same(&wrong, "reviewer-131041"),
            "[{backend}] unknown login and wrong password give the same page"
        );
        // A provider account has no password; a disabled account cannot sign in: same page.
        let provider = b.password("provider1", DEMO_STAFF_PASSWORD).await;
        assert_eq!(
            same(&provider, "provider1"),
            same(&wrong, "reviewer-131041")
        );
        madoguchi_core::auth::set_user_disabled(&srv.app, "admin-131041", true, "test")
            .await
            .unwrap();
        let disabled = b.password("admin-131041", DEMO_STAFF_PASSWORD).await;
        assert_eq!(
            same(&disabled, "admin-131041"),
            same(&wrong, "reviewer-131041")
        );
        assert!(!b.has_session() && !b.cookies().contains("madoguchi-2fa="));

        // Failures are audited for existing accounts, never with the password.
        let events = audit_of_user(&srv, "reviewer-131041").await;
        assert!(
            events
                .iter()
                .any(|(a, d)| a == "session.sign_in_failed" && d.contains("wrong_password")),
            "{events:?}"
        );
        assert!(events.iter().all(|(_, d)| !d.contains("not the demo")));

        // The right password alone opens no session and no page.
        let p = b.password("reviewer-131041", DEMO_STAFF_PASSWORD).await;
        assert_eq!(p.url, "/login/totp");
        assert!(!b.has_session());
        for path in ["/inbox", "/filings"] {
            assert_eq!(b.get(path).await.url, "/login", "{path}");
        }
        // Without the pending cookie the second-factor page sends the browser back.
        let other = Browser::new(&srv.base_url);
        assert_eq!(other.get("/login/totp").await.url, "/login/password");
        srv.stop().await;
    }
}

fn cli_set_password(srv: &TestServer, login: &str, stdin: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args([
            "--data-dir",
            &srv.db.dir.path().display().to_string(),
            "--database-url",
            &srv.db.url,
            "admin",
            "set-password",
            login,
        ])
        .env("MADOGUCHI_LOG_LEVEL", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn madoguchi");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_password_rules_and_the_admin_commands() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let app = &srv.app;
        let refusal = |r: Result<(), CoreError>| match r {
            Err(CoreError::Validation(e)) => (e[0].code.clone(), e[0].message.clone()),
            other => panic!("expected a refusal, got {other:?}"),
        };

        // Common passwords (any case), 7 characters, provider accounts: refused, in Japanese.
        for common in ["password1", "Baseball", "ILOVEYOU1", "ｑｗｅｒｔｙ１２３"] {
            let (code, message) =
                refusal(set_staff_password(app, "reviewer-131041", common, "test").await);
            assert_eq!(code, "password_common", "{common}");
            assert!(message.contains("よく使われている"), "{message}");
        }
        let (code, message) =
            refusal(set_staff_password(app, "reviewer-131041", "k7#Qz!p", "test").await);
        assert_eq!(code, "password_too_short");
        assert!(message.contains("8文字以上"), "{message}");
        let (code, _) = refusal(
            set_staff_password(app, "provider1", "a perfectly fine passphrase", "test").await,
        );
        assert_eq!(code, "not_staff");
        let (code, _) = refusal(
            set_staff_password(app, "nobody-here", "a perfectly fine passphrase", "test").await,
        );
        assert_eq!(code, "unknown_user");

        // A 100-character passphrase and a Japanese one are accepted, and sign in.
        let b = Browser::new(&srv.base_url);
        let long: String = "the quiet river under the old stone bridge keeps its own slow time; "
            .repeat(2)
            .chars()
            .take(100)
            .collect();
        assert_eq!(long.chars().count(), 100);
        set_staff_password(app, "reviewer-131130", &long, "test")
            .await
            .unwrap();
        assert_eq!(
            b.password("reviewer-131130", &long).await.url,
            "/login/totp"
        );
        let japanese = "春はあけぼの。やうやう白くなりゆく山ぎは、少しあかりて";
        set_staff_password(app, "reviewer-132012", japanese, "test")
            .await
            .unwrap();
        let other = Browser::new(&srv.base_url);
        assert_eq!(
            other.password("reviewer-132012", japanese).await.url,
            "/login/totp",
            "[{backend}] Unicode passphrase"
        );

        // The binary reads the new password from stdin (a pipe: one line), never a flag.
        let (ok, out) = cli_set_password(&srv, "reviewer-141003", "password\n");
        assert!(!ok, "common password refused by the CLI");
        assert!(out.contains("よく使われている"), "{out}");
        let (ok, out) = cli_set_password(&srv, "reviewer-141003", "short\n");
        assert!(!ok && out.contains("8文字以上"), "{out}");
        let chosen = "窓口の夜は静かで、コーヒーは冷めている";
        let (ok, out) = cli_set_password(&srv, "reviewer-141003", &format!("{chosen}\r\n"));
        assert!(ok, "[{backend}] {out}");
        let c = Browser::new(&srv.base_url);
        let p = c.password("reviewer-141003", chosen).await;
        assert_eq!(p.url, "/login/totp", "[{backend}] CLI password works");
        let (_, totp) = enrolment(&p.body);
        let p = c
            .post(
                "/login/totp",
                &[("code", &totp.generate(now_secs()).to_string())],
            )
            .await;
        assert_eq!(p.status, 200);
        assert!(c.has_session());

        // reset-totp: sessions end; the next sign-in enrols again with a new secret.
        let out = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
            .args([
                "--data-dir",
                &srv.db.dir.path().display().to_string(),
                "--database-url",
                &srv.db.url,
                "admin",
                "reset-totp",
                "reviewer-141003",
            ])
            .env("MADOGUCHI_LOG_LEVEL", "error")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            c.get("/inbox").await.url,
            "/login",
            "[{backend}] sessions ended"
        );
        let p = c.password("reviewer-141003", chosen).await;
        assert!(p.body.contains("二要素認証の設定"), "enrols again");
        let (_, again) = enrolment(&p.body);
        assert_ne!(again.secret().to_base32(), totp.secret().to_base32());
        let events = audit_of_user(&srv, "reviewer-141003").await;
        for action in ["user.password_set", "user.totp_reset"] {
            assert!(events.iter().any(|(a, _)| a == action), "{action}");
        }
        for (_, d) in &events {
            assert!(!d.contains(chosen));
        }
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_sign_ins_expire_and_wrong_codes_are_counted() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let config = Config::load(&DataArgs {
            config: None,
            data_dir: Some(db.dir.path().into()),
            database_url: Some(db.url.clone()),
        })
        .unwrap();
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 10).unwrap(),
        ));
        let app = madoguchi::server::open(&config, clock.clone())
            .await
            .unwrap();
        madoguchi_core::registry::demo::seed_if_empty(&app)
            .await
            .unwrap();
        let secs = || u64::try_from(app.now_ms() / 1000).unwrap();
        let pending = |s: PasswordStep| match s {
            PasswordStep::SecondFactor { pending_secret } => pending_secret,
            PasswordStep::Refused => panic!("password refused"),
        };

        // Enrol at 09:00:10.
        let p = pending(
            sign_in_with_password(&app, "reviewer-131041", DEMO_STAFF_PASSWORD)
                .await
                .unwrap(),
        );
        let PendingView::Enrol { secret_base32, .. } =
            staff::pending_sign_in(&app, &p).await.unwrap()
        else {
            panic!("enrolment expected")
        };
        let code = code_at(&secret_base32, secs()).unwrap();
        assert!(check_code(&secret_base32, &code, secs()).unwrap().is_some());
        assert!(matches!(
            complete_second_factor(&app, &p, &code).await.unwrap(),
            SecondFactorOutcome::SignedIn { recovery_codes: Some(ref c), .. } if c.len() == 10
        ));

        // A pending sign-in lives 10 minutes.
        let p = pending(
            sign_in_with_password(&app, "reviewer-131041", DEMO_STAFF_PASSWORD)
                .await
                .unwrap(),
        );
        clock.advance(Duration::minutes(11));
        let code = code_at(&secret_base32, secs()).unwrap();
        assert!(matches!(
            complete_second_factor(&app, &p, &code).await.unwrap(),
            SecondFactorOutcome::Restart
        ));
        assert!(matches!(
            staff::pending_sign_in(&app, &p).await,
            Err(CoreError::NotFound)
        ));

        // Codes one step old or new are accepted; two steps away are not.
        let p = pending(
            sign_in_with_password(&app, "reviewer-131041", DEMO_STAFF_PASSWORD)
                .await
                .unwrap(),
        );
        let stale = code_at(&secret_base32, secs() - 60).unwrap();
        if check_code(&secret_base32, &stale, secs())
            .unwrap()
            .is_none()
        {
            assert!(matches!(
                complete_second_factor(&app, &p, &stale).await.unwrap(),
                SecondFactorOutcome::WrongCode { attempts_left: 4 }
            ));
        }
        let previous = code_at(&secret_base32, secs() - 30).unwrap();
        assert!(matches!(
            complete_second_factor(&app, &p, &previous).await.unwrap(),
            SecondFactorOutcome::SignedIn {
                recovery_codes: None,
                ..
            }
        ));
        // The current step's code after the previous one: still fine (later step)...
        let p = pending(
            sign_in_with_password(&app, "reviewer-131041", DEMO_STAFF_PASSWORD)
                .await
                .unwrap(),
        );
        let current = code_at(&secret_base32, secs()).unwrap();
        assert!(matches!(
            complete_second_factor(&app, &p, &current).await.unwrap(),
            SecondFactorOutcome::SignedIn { .. }
        ));
        // ...but the previous step's code, now older than the last used: refused.
        let p = pending(
            sign_in_with_password(&app, "reviewer-131041", DEMO_STAFF_PASSWORD)
                .await
                .unwrap(),
        );
        assert!(matches!(
            complete_second_factor(&app, &p, &previous).await.unwrap(),
            SecondFactorOutcome::WrongCode { .. }
        ));

        // Five wrong codes end the pending sign-in (the first one above counted).
        let mut last = None;
        for _ in 0..4 {
            last = Some(complete_second_factor(&app, &p, "000000x").await.unwrap());
        }
        assert!(
            matches!(last, Some(SecondFactorOutcome::Restart)),
            "{last:?}"
        );
        let next = code_at(&secret_base32, secs() + 30).unwrap();
        assert!(matches!(
            complete_second_factor(&app, &p, &next).await.unwrap(),
            SecondFactorOutcome::Restart
        ));
        assert!(madoguchi_core::audit::verify(&app).await.is_ok());
    }
}
