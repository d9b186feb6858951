//! Server-rendered pages (askama templates under `templates/pages/`). Every page works without
//! JavaScript; forms post back and redirect. One module per area, grouped below by who uses
//! it; `form` turns procedure definitions into form fields and posted pairs back into answers.

// Everyone: the home and static pages, sign-in (GビズID for providers, password and second
// factor for staff), the published local rules, and the building blocks of every page.
pub mod form;
pub mod form_view;
pub(crate) mod home;
pub mod layout;
pub(crate) mod local_rules;
pub(crate) mod oidc;
pub(crate) mod staff_login;

// Providers: マイページ and change once, starting and editing filings (alone or 一括申請),
// batches of drafts, the receipt, tracking, returns answered item by item, withdrawal,
// notifications.
pub(crate) mod batches;
pub(crate) mod bulk;
pub(crate) mod choices;
pub(crate) mod drafts;
pub(crate) mod filing_detail;
pub(crate) mod filings;
pub(crate) mod my;
pub(crate) mod notifications;
pub(crate) mod receipt;
pub(crate) mod return_pins;
pub(crate) mod tracking;
pub(crate) mod withdraw;

// Both: the form set of a case (print view and .xlsx), under the case's access rules.
pub(crate) mod form_set;
pub(crate) mod form_sheet_xlsx;

// Authority staff: the inbox, the case view and decisions, ledger linkage, and the admin's
// 「管理」 area.
pub(crate) mod admin;
pub(crate) mod case_view;
pub(crate) mod decisions;
pub(crate) mod inbox;
pub(crate) mod ledger;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use madoguchi_core::Role;
use madoguchi_core::auth::Session;

use crate::error::AppError;
use layout::{ErrorPage, Flash, FlashKind, Layout, NavItem, UserBadge};

/// The frame for a signed-in user: header badge, role navigation, CSRF token.
pub fn layout_for(session: &Session, title: &str, current: &str) -> Layout {
    let a = &session.actor;
    let nav: Vec<(&str, &str)> = match a.role {
        Role::Provider { .. } => vec![
            ("/my", "法人・事業所"),
            ("/filings", "届出・申請の一覧"),
            ("/filings/new", "新しい届出・申請"),
            // Provider portal, part B: notifications.
            ("/notifications", "お知らせ"),
            ("/bulk/new", "一括申請"),
        ],
        Role::Reviewer { .. } => {
            vec![("/inbox", "受付箱"), ("/ledger", "台帳連携")]
        }
        // Authority admin (issue #4, workspace part B): the 「管理」 area.
        Role::AuthorityAdmin { .. } => {
            vec![
                ("/inbox", "受付箱"),
                ("/ledger", "台帳連携"),
                ("/admin", "管理"),
            ]
        }
        Role::Operator => vec![("/", "ホーム")],
    };
    let mut layout = Layout::new(title);
    if matches!(a.role, Role::Provider { .. }) {
        layout.notifications_unread = Some(session.unread_notifications);
    }
    layout
        .with_user(
            UserBadge {
                display_name: a.display_name.clone(),
                org_name: String::new(),
                role_label: a.role.label().into(),
            },
            session.csrf_token.clone(),
        )
        .with_nav(
            nav.into_iter()
                .map(|(href, label)| NavItem {
                    href: href.into(),
                    label: label.into(),
                    current: href == current,
                })
                .collect(),
        )
}

/// A flash message chosen by a fixed key in the query string (`?done=saved`), so redirects
/// can carry it without server state and no user text is ever reflected.
pub fn flash_for(key: Option<&str>) -> Option<Flash> {
    let (kind, message) = match key? {
        "created" => (
            FlashKind::Success,
            "下書きを作成しました。登録情報から入力済みの項目をご確認ください。",
        ),
        "saved" => (FlashKind::Success, "保存しました。"),
        "uploaded" => (FlashKind::Success, "ファイルを添付しました。"),
        "submitted" => (
            FlashKind::Success,
            "提出しました。到達番号と届いた自治体は下の受付票のとおりです。",
        ),
        "withdrawn" => (
            FlashKind::Info,
            "取り下げました。提出先の自治体に通知しました。",
        ),
        "accepted" => (
            FlashKind::Success,
            "受付を完了しました。登録情報に反映し、事業者に通知しました。",
        ),
        "returned" => (FlashKind::Info, "差し戻しました。事業者に通知しました。"),
        "commented" => (FlashKind::Success, "コメントを登録しました。"),
        // Provider portal, part B.
        "rated" => (
            FlashKind::Success,
            "アンケートにご回答いただき、ありがとうございました。",
        ),
        "read" => (FlashKind::Success, "お知らせを既読にしました。"),
        "settings_saved" => (
            FlashKind::Success,
            "メールでのお知らせの設定を保存しました。",
        ),
        // Authority workspace.
        "assigned" => (FlashKind::Success, "担当者を変更しました。"),
        "filter_saved" => (
            FlashKind::Success,
            "条件を保存しました。「保存した条件」から、いつでもこの表示に戻れます。",
        ),
        "filter_deleted" => (FlashKind::Info, "保存した条件を削除しました。"),
        "bulk_none" => (
            FlashKind::Error,
            "受け付ける案件が選ばれていません。一覧の左の欄で「審査待ち」の案件を選んでください。",
        ),
        "migrated" => (
            FlashKind::Success,
            "新しい様式に切り替えました。入力済みの内容は引き継いでいます。「新しい様式で追加」の項目をご確認ください。",
        ),
        _ => return None,
    };
    Some(Flash {
        kind,
        message: message.into(),
    })
}

/// Japanese heading of a history event (`submitted`, `returned`, `comment`, …).
pub fn event_label(kind: &str) -> &'static str {
    match kind {
        "submitted" => "提出",
        "resubmitted" => "再提出",
        "returned" => "差戻し",
        "accepted" => "受付完了",
        "withdrawn" => "取下げ",
        "comment" => "コメント",
        "internal_note" => "内部メモ",
        "assigned" => "担当者の変更",
        _ => "その他の記録",
    }
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(session: &Session, token: &str) -> Result<(), AppError> {
    if madoguchi_core::auth::secrets_equal(&session.csrf_token, token) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "画面の有効期限が切れました。画面を開き直してから、もう一度操作してください。".into(),
        ))
    }
}

/// Renders a template, or an error page if rendering fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(AppError::Internal(format!("template: {e}"))),
    }
}

/// The HTML error page for an error.
pub fn error_page(e: AppError) -> Response {
    e.log();
    let heading = match &e {
        AppError::NotFound => "ページが見つかりません",
        AppError::Unauthorized => "ログインしてください",
        AppError::Forbidden(_) => "この操作はできません",
        AppError::Conflict(_) => "操作を完了できませんでした",
        AppError::Validation(_) | AppError::BadRequest { .. } => "入力内容を確認してください",
        AppError::PayloadTooLarge => "ファイルが大きすぎます",
        AppError::Internal(_) => "システムで問題が発生しました",
    };
    let page = ErrorPage {
        layout: Layout::new(heading),
        heading: heading.into(),
        message: e.message(),
    };
    let html = page.render().unwrap_or_else(|_| "<!doctype html><html lang=\"ja\"><title>エラー</title><p>エラーが発生しました。</p></html>".into());
    (e.status(), Html(html)).into_response()
}

/// Page handlers return this: an error becomes the HTML error page.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<madoguchi_core::CoreError> for PageError {
    fn from(e: madoguchi_core::CoreError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0)
    }
}

pub type PageResult = Result<Response, PageError>;

/// The fallback for unknown paths.
pub async fn not_found() -> Response {
    let mut r = error_page(AppError::NotFound);
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
