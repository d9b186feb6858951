//! Staff sign-in pages (no JavaScript; plain form posts and redirects):
//!
//! - `GET/POST /login/password`: login ID and password. Any refusal shows the same message.
//!   Success sets the short-lived *pending* cookie (HttpOnly, SameSite=Strict, `__Host-` when
//!   Secure; a browser-session cookie, the server ends the pending sign-in after 10 minutes)
//!   and redirects to the second factor; no session exists yet.
//! - `GET/POST /login/totp`: at first sign-in, enrolment (secret as base32 text, the
//!   `otpauth://` URI and a QR code as inline SVG) and a code to confirm it, then the ten
//!   recovery codes, shown once; afterwards, a code from the app or a recovery code. Success
//!   creates the session (a new token) and sets the session cookie.
//!
//! The use cases are `madoguchi_core::auth::staff`.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use madoguchi_core::auth::staff::{self, PasswordStep, PendingView, SecondFactorOutcome};
use serde::Deserialize;

use super::layout::{Flash, Layout, NavItem};
use super::{PageResult, render};
use crate::auth::MaybeSignedIn;
use crate::state::{AppState, WebConfig};

/// The pending sign-in cookie (between password and second factor).
fn pending_cookie_name(web: &WebConfig) -> &'static str {
    if web.cookie_secure {
        "__Host-madoguchi-2fa"
    } else {
        "madoguchi-2fa"
    }
}

fn pending_cookie(web: &WebConfig, secret: String) -> Cookie<'static> {
    Cookie::build((pending_cookie_name(web), secret))
        .path("/")
        .http_only(true)
        .secure(web.cookie_secure)
        .same_site(SameSite::Strict)
        .build()
}

fn removal(name: &'static str, web: &WebConfig) -> Cookie<'static> {
    Cookie::build((name, ""))
        .path("/")
        .http_only(true)
        .secure(web.cookie_secure)
        .build()
}

fn session_cookie(web: &WebConfig, secret: String) -> Cookie<'static> {
    Cookie::build((web.cookie_name(), secret))
        .path("/")
        .http_only(true)
        .secure(web.cookie_secure)
        .same_site(SameSite::Lax)
        .build()
}

fn crumbs(current: &str) -> Vec<NavItem> {
    vec![
        NavItem::new("/", "ホーム"),
        NavItem::new("/login", "ログイン"),
        NavItem::new("", current).current(true),
    ]
}

const REFUSED: &str = "ログインIDまたはパスワードが正しくありません。入力し直してください。";
const EXPIRED: &str = "ログインの手続きの有効期限が切れたか、確認コードの誤りが続いたため、最初からやり直してください。";

#[derive(Template)]
#[template(path = "pages/login_password.html")]
struct PasswordPage {
    layout: Layout,
    login: String,
    error: Option<String>,
    demo_password: Option<&'static str>,
}

impl PasswordPage {
    fn new(s: &AppState, login: String, error: Option<String>) -> PasswordPage {
        PasswordPage {
            layout: Layout::new("自治体職員のログイン")
                .with_breadcrumbs(crumbs("自治体職員のログイン")),
            login,
            error,
            demo_password: s
                .web
                .demo
                .then_some(madoguchi_core::registry::demo::DEMO_STAFF_PASSWORD),
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordQuery {
    expired: Option<String>,
}

/// `GET /login/password`.
pub async fn password_page(
    State(s): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    Query(q): Query<PasswordQuery>,
) -> Response {
    if session.is_some() {
        return Redirect::to("/").into_response();
    }
    let mut page = PasswordPage::new(&s, String::new(), None);
    if q.expired.is_some() {
        page.layout = page.layout.with_flash(Some(Flash::info(EXPIRED)));
    }
    render(&page)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// `POST /login/password`.
pub async fn password_submit(
    State(s): State<AppState>,
    jar: CookieJar,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    match staff::sign_in_with_password(&s.app, &f.login, &f.password).await? {
        PasswordStep::SecondFactor { pending_secret } => Ok((
            jar.add(pending_cookie(&s.web, pending_secret)),
            Redirect::to("/login/totp"),
        )
            .into_response()),
        PasswordStep::Refused => {
            let page = PasswordPage::new(&s, f.login.trim().to_string(), Some(REFUSED.into()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "pages/login_totp.html")]
struct TotpPage {
    layout: Layout,
    display_name: String,
    enrol: Option<Enrolment>,
    recovery_codes_left: i64,
    error: Option<String>,
}

struct Enrolment {
    /// The secret in groups of four, for typing.
    secret_grouped: String,
    otpauth_uri: String,
    /// Inline SVG of the QR code (generated here from the URI; no text of the user's).
    qr_svg: Option<String>,
}

impl TotpPage {
    fn new(view: PendingView, error: Option<String>) -> TotpPage {
        match view {
            PendingView::Enrol {
                display_name,
                secret_base32,
                otpauth_uri,
                ..
            } => TotpPage {
                layout: Layout::new("二要素認証の設定")
                    .with_breadcrumbs(crumbs("二要素認証の設定")),
                display_name,
                enrol: Some(Enrolment {
                    secret_grouped: group(&secret_base32),
                    qr_svg: qr_svg(&otpauth_uri),
                    otpauth_uri,
                }),
                recovery_codes_left: 0,
                error,
            },
            PendingView::Verify {
                display_name,
                recovery_codes_left,
                ..
            } => TotpPage {
                layout: Layout::new("確認コードの入力")
                    .with_breadcrumbs(crumbs("確認コードの入力")),
                display_name,
                enrol: None,
                recovery_codes_left,
                error,
            },
        }
    }
}

fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code of an `otpauth://` URI as an inline `<svg>` (no XML prolog, no namespace URL).
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg")?;
    Some(
        svg[start..]
            .replacen(
                " xmlns=\"http://www.w3.org/2000/svg\"",
                " class=\"qr-code\" role=\"img\" aria-label=\"認証アプリで読み取る QR コード\"",
                1,
            )
            .replacen(" version=\"1.1\"", "", 1),
    )
}

fn pending_secret(jar: &CookieJar, web: &WebConfig) -> Option<String> {
    jar.get(pending_cookie_name(web))
        .map(|c| c.value().to_string())
}

fn restart(jar: CookieJar, web: &WebConfig) -> Response {
    (
        jar.remove(removal(pending_cookie_name(web), web)),
        Redirect::to("/login/password?expired=1"),
    )
        .into_response()
}

/// `GET /login/totp`.
pub async fn totp_page(State(s): State<AppState>, jar: CookieJar) -> PageResult {
    let Some(secret) = pending_secret(&jar, &s.web) else {
        return Ok(Redirect::to("/login/password").into_response());
    };
    match staff::pending_sign_in(&s.app, &secret).await {
        Ok(view) => Ok(render(&TotpPage::new(view, None))),
        Err(madoguchi_core::CoreError::NotFound) => Ok(restart(jar, &s.web)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "pages/login_done.html")]
struct DonePage {
    layout: Layout,
    display_name: String,
    /// Fresh recovery codes (at enrolment).
    recovery_codes: Vec<String>,
    /// After a recovery-code sign-in: how many remain.
    recovery_codes_left: Option<i64>,
}

/// `POST /login/totp`.
pub async fn totp_submit(
    State(s): State<AppState>,
    jar: CookieJar,
    Form(f): Form<CodeForm>,
) -> PageResult {
    let Some(secret) = pending_secret(&jar, &s.web) else {
        return Ok(restart(jar, &s.web));
    };
    match staff::complete_second_factor(&s.app, &secret, &f.code).await? {
        SecondFactorOutcome::SignedIn {
            session_secret,
            session,
            recovery_codes,
            recovery_codes_left,
        } => {
            // A session this browser held before (another account) ends here.
            if let Some(old) = jar.get(s.web.cookie_name()) {
                let _ = madoguchi_core::auth::end_session(&s.app, old.value()).await;
            }
            let jar = jar
                .remove(removal(pending_cookie_name(&s.web), &s.web))
                .add(session_cookie(&s.web, session_secret));
            if recovery_codes.is_none() && recovery_codes_left.is_none() {
                return Ok((jar, Redirect::to("/")).into_response());
            }
            let page = DonePage {
                layout: super::layout_for(&session, "ログインしました", ""),
                display_name: session.actor.display_name.clone(),
                recovery_codes: recovery_codes.unwrap_or_default(),
                recovery_codes_left,
            };
            Ok((jar, render(&page)).into_response())
        }
        SecondFactorOutcome::WrongCode { attempts_left } => {
            let message = format!(
                "確認コードが正しくないか、すでに使われたコードです。認証アプリに表示されている最新のコード、または未使用の回復コードを入力してください（あと{attempts_left}回まで入力できます）。"
            );
            match staff::pending_sign_in(&s.app, &secret).await {
                Ok(view) => Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(&TotpPage::new(view, Some(message))),
                )
                    .into_response()),
                Err(madoguchi_core::CoreError::NotFound) => Ok(restart(jar, &s.web)),
                Err(e) => Err(e.into()),
            }
        }
        SecondFactorOutcome::Restart => Ok(restart(jar, &s.web)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_code_is_inline_svg_without_external_references() {
        let svg = qr_svg(
            "otpauth://totp/Madoguchi:reviewer-131041?secret=JBSWY3DPEHPK3PXP&issuer=Madoguchi",
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(!svg.contains("http://") && !svg.contains("https://"));
        assert!(!svg.contains("style="), "no inline styles (CSP)");
        assert!(svg.contains("role=\"img\""));
        assert_eq!(group("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
