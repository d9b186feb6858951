//! The authority admin's area (管理), for `admin-<code>` accounts: an overview and four
//! sections reached from its own menu — staff accounts and roles (`staff`), the authority's
//! local rules with a preview before publishing (`local_rules`, `preview`), master data
//! (`master`) and per-procedure statistics with a CSV download (`statistics`). Every page acts
//! for the signed-in admin's own authority; the use cases in `madoguchi_core::admin` apply the
//! policy again.

pub(crate) mod local_rules;
pub(crate) mod master;
pub(crate) mod preview;
pub(crate) mod staff;
pub(crate) mod statistics;

use askama::Template;
use axum::extract::State;
use madoguchi_core::CoreError;
use madoguchi_core::auth::Session;
use madoguchi_domain::procedure::FieldError;

use super::form_view::ErrorSummaryItem;
use super::layout::{Layout, NavItem};
use super::{PageResult, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

/// The sections of the admin area, in menu order.
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "/admin/staff",
        "職員とアカウント",
        "職員の追加、役割（審査担当・管理者）の変更、アカウントの停止と再開、認証アプリの再登録、パスワードの再設定。",
    ),
    (
        "/admin/local-rules",
        "独自ルール",
        "標準様式に加える入力項目・添付書類・提出期限。入力画面で追加し、プレビューで確かめてから公開します。",
    ),
    (
        "/admin/master",
        "マスタ",
        "事業者に表示する名称・連絡先・所在地と、サービス種類などのコード表。",
    ),
    (
        "/admin/statistics",
        "統計",
        "手続ごとの受付件数、審査中、処理日数の中央値、差戻し率、満足度。CSV で保存できます。",
    ),
];

/// The admin menu with `current` marked.
pub(crate) fn admin_nav(current: &str) -> Vec<NavItem> {
    SECTIONS
        .iter()
        .map(|(href, label, _)| NavItem::new(*href, *label).current(*href == current))
        .collect()
}

/// The frame of an admin page: 「管理」 current in the main menu, breadcrumbs through the
/// section (and `extra` levels below it).
pub(crate) fn admin_layout(
    session: &Session,
    title: &str,
    section: &str,
    extra: Vec<NavItem>,
) -> Layout {
    let mut crumbs = vec![NavItem::new("/admin", "管理")];
    if let Some((href, label, _)) = SECTIONS.iter().find(|(h, _, _)| *h == section) {
        crumbs.push(NavItem::new(*href, *label).current(extra.is_empty()));
    }
    crumbs.extend(extra);
    layout_for(session, title, "/admin").with_breadcrumbs(crumbs)
}

/// The authority the signed-in admin acts for.
pub(crate) fn authority_of(session: &Session) -> Result<String, AppError> {
    Ok(session.actor.require_authority_staff()?.to_owned())
}

/// Form errors of one page: the summary at the top and the message beside each control
/// (control ids are `<form prefix>-<field>`).
#[derive(Default)]
pub(crate) struct FormErrors(pub Vec<ErrorSummaryItem>);

impl FormErrors {
    /// From a use case's field errors, for the form whose control ids start with `prefix`.
    pub(crate) fn from_fields(prefix: &str, errors: Vec<FieldError>) -> Self {
        FormErrors(
            errors
                .into_iter()
                .map(|e| ErrorSummaryItem {
                    field_id: format!("{prefix}-{}", e.field),
                    message: e.message,
                })
                .collect(),
        )
    }

    /// A use case's refusal: field errors of the form, or `Err` for anything else.
    pub(crate) fn from_core(prefix: &str, e: CoreError) -> Result<Self, AppError> {
        match e {
            CoreError::Validation(errors) => Ok(Self::from_fields(prefix, errors)),
            other => Err(other.into()),
        }
    }

    /// The message for one control.
    pub(crate) fn get(&self, id: &str) -> Option<&str> {
        crate::pages::form_view::message_for(&self.0, id)
    }

    pub(crate) fn items(&self) -> &Vec<ErrorSummaryItem> {
        &self.0
    }
}

/// A page answered with 422 (the form had errors).
pub(crate) fn unprocessable(mut r: axum::response::Response) -> axum::response::Response {
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}

struct Section {
    href: &'static str,
    label: &'static str,
    description: &'static str,
}

#[derive(Template)]
#[template(path = "pages/admin/index.html")]
struct IndexPage {
    layout: Layout,
    authority_name: String,
    sections: Vec<Section>,
}

/// `GET /admin`: the sections of the admin area.
pub async fn index(State(s): State<AppState>, SignedIn(session): SignedIn) -> PageResult {
    let code = authority_of(&session)?;
    let details = madoguchi_core::admin::authority::details(&s.app, &session.actor, &code).await?;
    let layout = layout_for(&session, "管理", "/admin")
        .with_breadcrumbs(vec![NavItem::new("/admin", "管理").current(true)]);
    Ok(render(&IndexPage {
        layout,
        authority_name: details.contact.name,
        sections: SECTIONS
            .iter()
            .map(|(href, label, description)| Section {
                href,
                label,
                description,
            })
            .collect(),
    }))
}
