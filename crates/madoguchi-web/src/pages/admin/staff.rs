//! 職員とアカウント: the authority's staff with role, second factor and state; adding an
//! account; and, per account, changing the role, disabling or enabling it, resetting its
//! second factor and setting a new password. Irreversible actions ask for a confirmation
//! (a checkbox the server checks, so it works without JavaScript).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::admin::staff::{self, NewStaff, StaffMember};
use serde::Deserialize;

use super::{FormErrors, admin_layout, admin_nav, authority_of, unprocessable};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::pages::layout::{Flash, Layout, NavItem};
use crate::pages::{PageResult, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin/staff.html")]
struct StaffPage {
    layout: Layout,
    nav: Vec<NavItem>,
    members: Vec<StaffMember>,
    errors: FormErrors,
    login: String,
    display_name: String,
    email: String,
    role: String,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn flash(done: Option<&str>) -> Option<Flash> {
    Some(match done? {
        "created" => Flash::success(
            "職員のアカウントを追加しました。初回のログインで認証アプリを登録するよう、本人にお伝えください。",
        ),
        "role" => Flash::success("役割を変更しました。"),
        "disabled" => {
            Flash::info("アカウントを停止しました。ログイン中の画面もすべて終了しました。")
        }
        "enabled" => Flash::success("アカウントを再開しました。"),
        "second_factor" => {
            Flash::success("認証アプリの登録を取り消しました。次回のログインで登録し直します。")
        }
        "password" => Flash::success(
            "パスワードを設定しました。ログイン中の画面はすべて終了しました。本人に安全な方法でお伝えください。",
        ),
        _ => return None,
    })
}

async fn list_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
) -> Result<StaffPage, AppError> {
    let code = authority_of(session)?;
    let members = staff::list(&s.app, &session.actor, &code).await?;
    Ok(StaffPage {
        layout: admin_layout(session, "職員とアカウント", "/admin/staff", vec![]),
        nav: admin_nav("/admin/staff"),
        members,
        errors: FormErrors::default(),
        login: String::new(),
        display_name: String::new(),
        email: String::new(),
        role: "reviewer".into(),
    })
}

/// `GET /admin/staff`.
pub async fn list(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut p = list_page(&s, &session).await?;
    p.layout.flash = flash(q.done.as_deref());
    Ok(render(&p))
}

/// `POST /admin/staff`: adds an account.
pub async fn create(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<NewStaff>,
) -> PageResult {
    let code = authority_of(&session)?;
    match staff::create(&s.app, &session.actor, &code, &f).await {
        Ok(_) => Ok(Redirect::to("/admin/staff?done=created").into_response()),
        Err(e) => {
            let errors = FormErrors::from_core("new", e)?;
            let mut p = list_page(&s, &session).await?;
            p.errors = errors;
            p.login = f.login;
            p.display_name = f.display_name;
            p.email = f.email;
            p.role = f.role;
            Ok(unprocessable(render(&p)))
        }
    }
}

#[derive(Template)]
#[template(path = "pages/admin/staff_member.html")]
struct MemberPage {
    layout: Layout,
    nav: Vec<NavItem>,
    m: StaffMember,
    errors: FormErrors,
}

impl MemberPage {
    fn totp_text(&self) -> &'static str {
        if self.m.second_factor_enrolled {
            "登録済み"
        } else {
            "未登録（次回のログインで登録します）"
        }
    }

    fn password_text(&self) -> &'static str {
        if self.m.password_set {
            "設定済み"
        } else {
            "未設定"
        }
    }

    fn state_text(&self) -> &'static str {
        if self.m.disabled {
            "停止中"
        } else {
            "利用中"
        }
    }
}

async fn member_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
) -> Result<MemberPage, AppError> {
    let code = authority_of(session)?;
    let m = staff::get(&s.app, &session.actor, &code, id).await?;
    let title = format!("{}（{}）", m.display_name, m.login);
    Ok(MemberPage {
        layout: admin_layout(
            session,
            &title,
            "/admin/staff",
            vec![NavItem::new(format!("/admin/staff/{}", m.user_id), &title).current(true)],
        ),
        nav: admin_nav("/admin/staff"),
        m,
        errors: FormErrors::default(),
    })
}

/// `GET /admin/staff/{id}`.
pub async fn member(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut p = member_page(&s, &session, &id).await?;
    p.layout.flash = flash(q.done.as_deref());
    Ok(render(&p))
}

/// The member page again with the refusal shown: field errors beside their control, a
/// conflict (the last admin) as a message at the top.
async fn refused(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    prefix: &str,
    e: CoreError,
) -> PageResult {
    let (errors, flash, status) = match e {
        CoreError::Conflict(m) => (
            FormErrors::default(),
            Some(Flash::error(m)),
            axum::http::StatusCode::CONFLICT,
        ),
        other => (
            FormErrors::from_core(prefix, other)?,
            None,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let mut p = member_page(s, session, id).await?;
    p.errors = errors;
    p.layout.flash = flash;
    let mut r = render(&p);
    *r.status_mut() = status;
    Ok(r)
}

fn done(id: &str, what: &str) -> PageResult {
    Ok(Redirect::to(&format!("/admin/staff/{id}?done={what}")).into_response())
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/staff/{id}/role`.
pub async fn set_role(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> PageResult {
    let code = authority_of(&session)?;
    match staff::set_role(&s.app, &session.actor, &code, &id, &f.role).await {
        Ok(_) => done(&id, "role"),
        Err(e) => refused(&s, &session, &id, "role", e).await,
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    /// `1` to disable, `0` to enable.
    #[serde(default)]
    disabled: String,
    #[serde(default)]
    confirm: String,
}

fn unconfirmed(prefix: &str, message: &str) -> CoreError {
    CoreError::field(&format!("{prefix}confirm"), "not_confirmed", message)
}

/// `POST /admin/staff/{id}/disabled`.
pub async fn set_disabled(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<DisableForm>,
) -> PageResult {
    let code = authority_of(&session)?;
    let disabled = match f.disabled.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(AppError::BadRequest {
                code: "bad_request",
                message: "停止か再開かを選んでください。".into(),
            }
            .into());
        }
    };
    if disabled && f.confirm != "1" {
        let e = unconfirmed(
            "",
            "アカウントを停止するときは、確認のチェックを入れてください。",
        );
        return refused(&s, &session, &id, "disable", e).await;
    }
    match staff::set_disabled(&s.app, &session.actor, &code, &id, disabled).await {
        Ok(_) if disabled && id == session.actor.user_id => {
            // Disabling oneself ends one's own sessions: back to the sign-in page.
            Ok(Redirect::to("/login").into_response())
        }
        Ok(_) => done(&id, if disabled { "disabled" } else { "enabled" }),
        Err(e) => refused(&s, &session, &id, "disable", e).await,
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/staff/{id}/second-factor`: forgets the authenticator (lost phone).
pub async fn reset_second_factor(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> PageResult {
    let code = authority_of(&session)?;
    if f.confirm != "1" {
        let e = unconfirmed(
            "",
            "認証アプリの登録を取り消すときは、確認のチェックを入れてください。",
        );
        return refused(&s, &session, &id, "totp", e).await;
    }
    match staff::reset_second_factor(&s.app, &session.actor, &code, &id).await {
        Ok(_) if id == session.actor.user_id => Ok(Redirect::to("/login").into_response()),
        Ok(_) => done(&id, "second_factor"),
        Err(e) => refused(&s, &session, &id, "totp", e).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// `POST /admin/staff/{id}/password`: sets a new password (every session of the account ends).
pub async fn set_password(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    let code = authority_of(&session)?;
    match staff::set_password(&s.app, &session.actor, &code, &id, &f.password).await {
        Ok(_) if id == session.actor.user_id => Ok(Redirect::to("/login").into_response()),
        Ok(_) => done(&id, "password"),
        Err(e) => refused(&s, &session, &id, "pw", e).await,
    }
}
