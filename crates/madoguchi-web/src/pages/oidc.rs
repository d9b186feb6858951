//! Provider sign-in by OpenID Connect (GビズID, or the development provider in demos):
//! `GET /login/oidc` starts it, `GET /login/oidc/callback` completes it. The protocol and its
//! checks live in `madoguchi_core::auth::oidc`; this module handles the cookies, redirects and
//! the polite pages shown when a sign-in is refused.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use madoguchi_core::auth::oidc::{CallbackParams, OidcRefusal, REQUEST_TTL};

use super::layout::Layout;
use super::{PageResult, error_page, render};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/login_refused.html")]
struct RefusedPage {
    layout: Layout,
    heading: String,
    paragraphs: Vec<String>,
}

/// Name of the cookie binding a sign-in in flight to this browser (`__Host-` when Secure).
fn request_cookie_name(s: &AppState) -> &'static str {
    if s.web.cookie_secure {
        "__Host-madoguchi-oidc"
    } else {
        "madoguchi-oidc"
    }
}

fn request_cookie_removal(s: &AppState) -> Cookie<'static> {
    Cookie::build((request_cookie_name(s), ""))
        .path("/")
        .secure(s.web.cookie_secure)
        .http_only(true)
        .same_site(SameSite::Lax)
        .build()
}

/// `GET /login/oidc`: sends the browser to the provider. The request in flight is stored
/// server-side under a random value the browser keeps in a short-lived HttpOnly, SameSite=Lax
/// cookie (Lax: the provider's redirect back is a top-level navigation, which carries it).
pub async fn start(State(s): State<AppState>, jar: CookieJar) -> PageResult {
    let Some(rp) = s.app.oidc.clone() else {
        return Err(AppError::NotFound.into());
    };
    match rp.begin(&s.app).await {
        Ok((key, url)) => {
            // Max-Age in seconds (cookie's builder would need the `time` crate for it).
            let cookie = Cookie::parse(format!(
                "{}={key}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
                request_cookie_name(&s),
                REQUEST_TTL.as_secs(),
                if s.web.cookie_secure { "; Secure" } else { "" }
            ))
            .map_err(|e| AppError::Internal(format!("sign-in cookie: {e}")))?;
            Ok((jar.add(cookie), Redirect::to(&url)).into_response())
        }
        Err(refusal) => Ok(refused(refusal, rp.provider_name())),
    }
}

/// `GET /login/oidc/callback`: completes the sign-in (every check is in the core) and opens a
/// session with a new cookie; or shows why not, with no session.
pub async fn callback(
    State(s): State<AppState>,
    jar: CookieJar,
    Query(params): Query<CallbackParams>,
) -> PageResult {
    let Some(rp) = s.app.oidc.clone() else {
        return Err(AppError::NotFound.into());
    };
    let key = jar
        .get(request_cookie_name(&s))
        .map(|c| c.value().to_string());
    let jar = jar.remove(request_cookie_removal(&s));
    match rp.finish(&s.app, key.as_deref(), &params).await {
        Ok((secret, _session)) => {
            let cookie = Cookie::build((s.web.cookie_name(), secret))
                .path("/")
                .http_only(true)
                .secure(s.web.cookie_secure)
                .same_site(SameSite::Lax)
                .build();
            Ok((jar.add(cookie), Redirect::to("/")).into_response())
        }
        Err(refusal) => Ok((jar, refused(refusal, rp.provider_name())).into_response()),
    }
}

/// The page for a refused sign-in; the technical reason goes to the log only.
fn refused(refusal: OidcRefusal, provider: &str) -> Response {
    let (status, heading, paragraphs): (StatusCode, &str, Vec<String>) = match refusal {
        OidcRefusal::Failed(why) => {
            tracing::warn!(reason = %why, "OIDC sign-in refused");
            (
                StatusCode::BAD_REQUEST,
                "ログインできませんでした",
                vec![
                    format!("{provider}からの応答を確認できなかったため、ログインを中止しました。"),
                    "お手数ですが、ログイン画面からもう一度お試しください。何度も続く場合は、ブラウザーを開き直してからお試しください。".into(),
                ],
            )
        }
        OidcRefusal::Unavailable(why) => {
            tracing::error!(reason = %why, "OpenID provider unavailable");
            (
                StatusCode::BAD_GATEWAY,
                "ログインできませんでした",
                vec![format!(
                    "{provider}に接続できませんでした。しばらく時間をおいてから、もう一度お試しください。"
                )],
            )
        }
        OidcRefusal::NoCorporateNumber => (
            StatusCode::FORBIDDEN,
            "この窓口をご利用いただけないアカウントです",
            vec![
                format!("ログインした{provider}のアカウントに法人番号が登録されていません。"),
                "この窓口は、法人番号をお持ちの事業者（法人）の方がご利用いただけます。".into(),
            ],
        ),
        OidcRefusal::NotRegistered { corporate_number } => (
            StatusCode::FORBIDDEN,
            "この窓口をご利用いただけないアカウントです",
            vec![
                format!(
                    "法人番号 {corporate_number} の法人は、この窓口に登録されていません。"
                ),
                "法人番号が正しいか、ご利用の自治体の窓口までお問い合わせください。法人番号が変わった場合は、自治体での登録の更新が必要です。".into(),
            ],
        ),
        OidcRefusal::Disabled => {
            tracing::warn!("OIDC sign-in of a disabled account refused");
            (
                StatusCode::FORBIDDEN,
                "このアカウントは利用を停止しています",
                vec!["ご利用の自治体の窓口までお問い合わせください。".into()],
            )
        }
        OidcRefusal::Internal(e) => return error_page(e.into()),
    };
    let page = RefusedPage {
        layout: Layout::new(heading),
        heading: heading.into(),
        paragraphs,
    };
    (status, render(&page)).into_response()
}
