//! Notifications (お知らせ): the list (`GET /notifications`, unread first to the eye, newest
//! first in order), opening one (`POST /notifications/open`: marks it read and goes where it
//! leads), marking read (`POST /notifications/read`, one or all), and the e-mail settings
//! (`GET`/`POST /settings/notifications`: immediate, daily digest or none). Opening is a
//! POST so that reading state never changes on a GET.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::notifications::{self, EmailMode, NotificationView};
use serde::Deserialize;

use super::layout::{Layout, NavItem, Pager};
use super::{PageResult, check_csrf, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    unread: String,
    page: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/notifications.html")]
struct ListPage {
    layout: Layout,
    items: Vec<NotificationView>,
    unread_only: bool,
    total: i64,
    unread: i64,
    pager: Option<Pager>,
    mode_label: &'static str,
}

/// `GET /notifications`.
pub async fn list(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let unread_only = q.unread == "1";
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 100_000);
    let result = notifications::list(&s.app, &session.actor, unread_only, page).await?;
    let mode = notifications::preference(&s.app, &session.actor).await?;
    let mut session = session;
    // The header shows the count as it is now (opening the list marks nothing read).
    session.unread_notifications = result.unread;
    let mut layout = layout_for(&session, "お知らせ", "/notifications");
    layout.flash = flash_for(q.done.as_deref());
    let pages = ((result.total + result.per_page - 1) / result.per_page).max(1);
    Ok(render(&ListPage {
        layout,
        items: result.items,
        unread_only,
        total: result.total,
        unread: result.unread,
        pager: Pager::new(
            "/notifications",
            if unread_only { &[("unread", "1")] } else { &[] },
            result.page,
            pages,
        ),
        mode_label: mode.label(),
    }))
}

#[derive(Deserialize)]
pub struct OpenForm {
    csrf_token: String,
    #[serde(default)]
    id: String,
}

/// `POST /notifications/open`: marks the notification read and goes to what it is about.
pub async fn open(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<OpenForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let to = notifications::open(&s.app, &session.actor, f.id.trim()).await?;
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct ReadForm {
    csrf_token: String,
    /// One notification; absent or empty with `all=1`: every unread one.
    #[serde(default)]
    id: String,
    #[serde(default)]
    all: String,
}

/// `POST /notifications/read`.
pub async fn mark_read(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<ReadForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let id = f.id.trim();
    if id.is_empty() && f.all != "1" {
        return Err(
            CoreError::field("id", "required", "既読にするお知らせを選んでください。").into(),
        );
    }
    let target = (!id.is_empty()).then_some(id);
    notifications::mark_read(&s.app, &session.actor, target).await?;
    Ok(Redirect::to("/notifications?done=read").into_response())
}

#[derive(Template)]
#[template(path = "pages/notification_settings.html")]
struct SettingsPage {
    layout: Layout,
    modes: Vec<EmailMode>,
    current: EmailMode,
    email: String,
    error: Option<String>,
}

fn settings_layout(session: &madoguchi_core::auth::Session) -> Layout {
    let mut layout = layout_for(session, "メールでのお知らせの設定", "/notifications");
    layout.breadcrumbs = vec![
        NavItem::new("/notifications", "お知らせ"),
        NavItem::new("", "メールでのお知らせの設定").current(true),
    ];
    layout
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    done: Option<String>,
}

/// `GET /settings/notifications`.
pub async fn settings(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<SettingsQuery>,
) -> PageResult {
    let current = notifications::preference(&s.app, &session.actor).await?;
    let mut layout = settings_layout(&session);
    layout.flash = flash_for(q.done.as_deref());
    Ok(render(&SettingsPage {
        layout,
        modes: EmailMode::ALL.to_vec(),
        current,
        email: session.actor.email.clone(),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf_token: String,
    #[serde(default)]
    email_mode: String,
}

/// `POST /settings/notifications`.
pub async fn save_settings(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    match notifications::set_preference(&s.app, &session.actor, f.email_mode.trim()).await {
        Ok(_) => Ok(Redirect::to("/settings/notifications?done=settings_saved").into_response()),
        Err(CoreError::Validation(errs)) => {
            let current = notifications::preference(&s.app, &session.actor).await?;
            let mut r = render(&SettingsPage {
                layout: settings_layout(&session),
                modes: EmailMode::ALL.to_vec(),
                current,
                email: session.actor.email.clone(),
                error: errs.into_iter().next().map(|e| e.message),
            });
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
