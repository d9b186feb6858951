//! Home, sign-in and the static pages. The development sign-in lists demo users and exists
//! only with `--demo`; production sign-in is OpenID Connect (see the security issue).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use madoguchi_core::Role;
use serde::Deserialize;

use super::layout::Layout;
use super::{PageResult, layout_for, render};
use crate::auth::{MaybeSignedIn, SignedIn};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    layout: Layout,
    demo: bool,
}

/// `/`: signed-in users go to their work; others see what the service is.
pub async fn home(State(s): State<AppState>, MaybeSignedIn(session): MaybeSignedIn) -> Response {
    if let Some(session) = session {
        let to = match session.actor.role {
            Role::Provider { .. } => "/filings",
            Role::Reviewer { .. } | Role::AuthorityAdmin { .. } => "/inbox",
            Role::Operator => "/about",
        };
        return Redirect::to(to).into_response();
    }
    render(&HomePage {
        layout: Layout::new("福祉・介護・保健医療の申請・届出窓口"),
        demo: s.web.demo,
    })
}

struct DemoUser {
    login: String,
    display_name: String,
}

/// Demo users of one kind (事業者, 審査担当 …), shown under one heading.
struct DemoGroup {
    title: &'static str,
    description: &'static str,
    users: Vec<DemoUser>,
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage {
    layout: Layout,
    demo: bool,
    groups: Vec<DemoGroup>,
    error: Option<String>,
    /// Label of the provider sign-in button (OpenID Connect), when configured.
    oidc_button: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    error: Option<String>,
}

/// `/login`: the sign-in page.
pub async fn login_page(State(s): State<AppState>, Query(q): Query<LoginQuery>) -> PageResult {
    // Providers sign in through the OpenID provider (in demos, the development provider); the
    // demo list offers authority and platform staff only.
    let mut groups = vec![
        DemoGroup {
            title: "自治体の審査担当",
            description: "届いた届出・申請を審査し、受け付けるか差し戻します。",
            users: Vec::new(),
        },
        DemoGroup {
            title: "自治体の管理者",
            description: "自治体の担当者と設定を管理します。",
            users: Vec::new(),
        },
        DemoGroup {
            title: "窓口の運営者",
            description: "このサービスを運営します。",
            users: Vec::new(),
        },
    ];
    if s.web.demo {
        let mut tx = s
            .app
            .db
            .begin_read()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        for u in madoguchi_db::users::list_users(&mut tx)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
        {
            if u.disabled_at.is_some() {
                continue;
            }
            let Ok(actor) = madoguchi_core::actor::load_actor(&mut tx, &u.id).await else {
                continue;
            };
            let d = DemoUser {
                login: u.login,
                display_name: u.display_name,
            };
            let group = match actor.role {
                Role::Provider { .. } => continue,
                Role::Reviewer { .. } => 0,
                Role::AuthorityAdmin { .. } => 1,
                Role::Operator => 2,
            };
            groups[group].users.push(d);
        }
        tx.commit()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let oidc_button = s.app.oidc.as_ref().map(|rp| {
        let demo = if s.web.demo { "（デモ）" } else { "" };
        format!("{}でログイン{demo}", rp.provider_name())
    });
    let error = q.error.as_deref().map(|e| match (e, &oidc_button) {
        ("provider", Some(b)) => format!("事業者の方は「{b}」からログインしてください。"),
        _ => "ログインできませんでした。もう一度お試しください。".to_string(),
    });
    Ok(render(&LoginPage {
        layout: Layout::new("ログイン"),
        demo: s.web.demo,
        groups: groups.into_iter().filter(|g| !g.users.is_empty()).collect(),
        error,
        oidc_button,
    }))
}

#[derive(Deserialize)]
pub struct DemoLoginForm {
    login: String,
}

/// `POST /login/demo`: signs in as a demo user (demo mode only).
pub async fn demo_login(
    State(s): State<AppState>,
    jar: CookieJar,
    Form(f): Form<DemoLoginForm>,
) -> PageResult {
    if !s.web.demo {
        return Err(AppError::NotFound.into());
    }
    let mut tx = s
        .app
        .db
        .begin_read()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let user = madoguchi_db::users::get_user_by_login(&mut tx, f.login.trim()).await;
    tx.commit()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let Ok(user) = user else {
        return Ok(Redirect::to("/login?error=1").into_response());
    };
    // Providers sign in through the OpenID provider, even in demos: no bypass for them here.
    let mut tx = s
        .app
        .db
        .begin_read()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let actor = madoguchi_core::actor::load_actor(&mut tx, &user.id).await;
    tx.commit()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if matches!(actor, Ok(ref a) if matches!(a.role, Role::Provider { .. })) {
        return Ok(Redirect::to("/login?error=provider").into_response());
    }
    let (secret, _) = madoguchi_core::auth::create_session(&s.app, &user.id, "demo").await?;
    let cookie = Cookie::build((s.web.cookie_name(), secret))
        .path("/")
        .http_only(true)
        .secure(s.web.cookie_secure)
        .same_site(SameSite::Lax)
        .build();
    Ok((jar.add(cookie), Redirect::to("/")).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// `POST /logout`: ends the session everywhere this cookie was used.
pub async fn logout(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    super::check_csrf(&session, &f.csrf_token)?;
    if let Some(c) = jar.get(s.web.cookie_name()) {
        madoguchi_core::auth::end_session(&s.app, c.value()).await?;
    }
    let removal = Cookie::build((s.web.cookie_name(), ""))
        .path("/")
        .secure(s.web.cookie_secure)
        .http_only(true)
        .build();
    Ok((
        jar.remove(removal),
        [(header::LOCATION, "/")],
        axum::http::StatusCode::SEE_OTHER,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "pages/static.html")]
struct StaticPage {
    layout: Layout,
    heading: String,
    paragraphs: Vec<String>,
}

fn static_layout(session: Option<&madoguchi_core::auth::Session>, title: &str) -> Layout {
    match session {
        Some(s) => layout_for(s, title, ""),
        None => Layout::new(title),
    }
}

/// `/about`.
pub async fn about(MaybeSignedIn(s): MaybeSignedIn) -> Response {
    render(&StaticPage {
        layout: static_layout(s.as_ref(), "このサイトについて"),
        heading: "このサイトについて".into(),
        paragraphs: vec![
            "窓口は、福祉・介護・保健医療の事業者が、自治体への申請や届出を一か所から一度の入力で行うためのサービスです。".into(),
            "事業所の情報は一度登録すれば次の届出に引き継がれます。法人の代表者の変更のように複数の自治体へ届け出る必要がある変更も、一回の提出で関係するすべての自治体に届きます。".into(),
            "自治体の担当者は、届いた案件を画面上で確認し、受付または差戻しを行います。受け付けた内容は登録情報に反映されます。".into(),
        ],
    })
}

/// `/accessibility`.
pub async fn accessibility(MaybeSignedIn(s): MaybeSignedIn) -> Response {
    render(&StaticPage {
        layout: static_layout(s.as_ref(), "アクセシビリティ"),
        heading: "アクセシビリティ".into(),
        paragraphs: vec![
            "このサイトは、JIS X 8341-3:2016 および WCAG 2.1 のレベル AA に対応することを目標にしています。".into(),
            "JavaScript を使わなくてもすべての手続が行えます。文字の大きさはブラウザーの設定で拡大できます。".into(),
            "使いにくい点がありましたら、ご利用の自治体の窓口までお知らせください。".into(),
        ],
    })
}
