//! The reviewer's decisions from the pages: accept and return (each asks for confirmation on
//! a page of its own first: neither can be undone), assign, comment or internal note, and
//! bulk acceptance from the inbox (confirmation listing the cases, then one result per case).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::cases::bulk::{BulkCandidate, BulkResult};
use madoguchi_core::cases::{self, ReturnRequest};
use serde::Deserialize;

use super::case_view::case_page;
use super::form_view::ErrorSummaryItem;
use super::inbox::ConfirmPage;
use super::layout::{Layout, NavItem};
use super::{PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

fn with_status(mut r: axum::response::Response) -> axum::response::Response {
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// The case page again, with the problems beside the controls they concern (422).
async fn case_with_errors(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    field_id: &str,
    errs: Vec<madoguchi_domain::procedure::FieldError>,
    return_message: Option<String>,
) -> PageResult {
    let e = errs
        .into_iter()
        .map(|e| ErrorSummaryItem {
            field_id: field_id.into(),
            message: e.message,
        })
        .collect();
    let mut page = case_page(s, session, id, None, e, None).await?;
    if let Some(m) = return_message {
        page.return_message = m;
    }
    Ok(with_status(render(&page)))
}

fn breadcrumbs(case_id: &str, reference: &str, here: &str) -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/inbox".into(),
            label: "受付箱".into(),
            current: false,
        },
        NavItem {
            href: format!("/cases/{case_id}"),
            label: reference.into(),
            current: false,
        },
        NavItem {
            href: String::new(),
            label: here.into(),
            current: true,
        },
    ]
}

#[derive(Deserialize)]
pub struct AcceptForm {
    csrf_token: String,
    confirm: Option<String>,
}

/// `POST /cases/{id}/accept`: without `confirm=yes`, the confirmation page (acceptance
/// cannot be undone); with it, accepts.
pub async fn accept(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<AcceptForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    if f.confirm.as_deref() != Some("yes") {
        let case = cases::view::get(&s.app, &session.actor, &id, None).await?;
        let verb = if case.receipt_only {
            "受理"
        } else {
            "受付"
        };
        let mut layout = layout_for(&session, &format!("{verb}の確認"), "/inbox");
        layout.breadcrumbs = breadcrumbs(&id, &case.reference, &format!("{verb}の確認"));
        let lead = if case.receipt_only {
            "この報告を受理し、事業者に通知します。受理は取り消せません。".to_owned()
        } else {
            "届出の内容を登録情報に反映し、事業者に受付完了を通知します。受付は取り消せません。"
                .to_owned()
        };
        let mut details = vec![
            ("到達番号".to_owned(), case.reference.clone()),
            ("手続".to_owned(), case.procedure_title.clone()),
            ("事業者".to_owned(), case.corporation_name.clone()),
            ("版".to_owned(), format!("第{}版", case.version_no)),
        ];
        if case.status != "submitted" {
            details.push((
                "注意".to_owned(),
                "この案件は審査待ちではありません。受け付けられない場合は理由が表示されます。"
                    .to_owned(),
            ));
        }
        return Ok(render(&ConfirmPage {
            layout,
            heading: if case.receipt_only {
                "この報告を受理しますか".into()
            } else {
                "この届出を受け付けますか".into()
            },
            lead,
            details,
            list_title: String::new(),
            list: Vec::new(),
            message: None,
            action: format!("/cases/{id}/accept"),
            hidden: Vec::new(),
            confirm_label: if case.receipt_only {
                "受理する".into()
            } else {
                "受付を完了する".into()
            },
            cancel_href: format!("/cases/{id}"),
            cancel_label: "案件の画面へ戻る".into(),
        }));
    }
    cases::accept(&s.app, &session.actor, &id).await?;
    Ok(Redirect::to(&format!("/cases/{id}?done=accepted")).into_response())
}

#[derive(Deserialize)]
pub struct ReturnForm {
    csrf_token: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    fields: Vec<String>,
    confirm: Option<String>,
}

/// `POST /cases/{id}/return`: checks the message and pinned fields, shows what the provider
/// will receive and asks for confirmation; with `confirm=yes`, returns the case.
pub async fn return_case(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ReturnForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let req = ReturnRequest {
        message: f.message.clone(),
        fields: f.fields.clone(),
        attachment_ids: Vec::new(),
    };
    if f.confirm.as_deref() != Some("yes") {
        let labels = match cases::check_return(&s.app, &session.actor, &id, &req).await {
            Ok(l) => l,
            Err(CoreError::Validation(errs)) => {
                return case_with_errors(
                    &s,
                    &session,
                    &id,
                    "return-message",
                    errs,
                    Some(f.message),
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        };
        let case = cases::view::get(&s.app, &session.actor, &id, None).await?;
        let mut layout = layout_for(&session, "差戻しの確認", "/inbox");
        layout.breadcrumbs = breadcrumbs(&id, &case.reference, "差戻しの確認");
        let mut hidden = vec![("message".to_owned(), f.message.clone())];
        hidden.extend(f.fields.iter().map(|p| ("fields".to_owned(), p.clone())));
        return Ok(render(&ConfirmPage {
            layout,
            heading: "この内容で差し戻しますか".into(),
            lead: "事業者に修正を依頼し、メールで通知します。送った差戻しは取り消せません。".into(),
            details: vec![
                ("到達番号".to_owned(), case.reference.clone()),
                ("手続".to_owned(), case.procedure_title.clone()),
                ("事業者".to_owned(), case.corporation_name.clone()),
            ],
            list_title: if labels.is_empty() {
                String::new()
            } else {
                "修正を求める項目".into()
            },
            list: labels,
            message: Some(f.message.trim().to_owned()),
            action: format!("/cases/{id}/return"),
            hidden,
            confirm_label: "差し戻す".into(),
            cancel_href: format!("/cases/{id}#decide"),
            cancel_label: "案件の画面へ戻る（入力した理由は保存されません）".into(),
        }));
    }
    match cases::return_case(&s.app, &session.actor, &id, req).await {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=returned")).into_response()),
        Err(CoreError::Validation(errs)) => {
            case_with_errors(&s, &session, &id, "return-message", errs, Some(f.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    csrf_token: String,
    /// A colleague's id, `me`, or empty (unassign).
    #[serde(default)]
    assignee_id: String,
}

/// `POST /cases/{id}/assign`: hands the case to a colleague, to oneself, or to nobody (can be
/// changed again at any time, so no confirmation).
pub async fn assign(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let target = match f.assignee_id.trim() {
        "" => None,
        "me" => Some(session.actor.user_id.clone()),
        other => Some(other.to_owned()),
    };
    match cases::assign(&s.app, &session.actor, &id, target.as_deref()).await {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=assigned#assign")).into_response()),
        Err(CoreError::Validation(errs)) => {
            case_with_errors(&s, &session, &id, "assignee", errs, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    csrf_token: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    internal: Option<String>,
}

/// `POST /cases/{id}/comments`: an internal note or a message to the provider.
pub async fn comment(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CommentForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let internal = f.internal.as_deref() == Some("true");
    match cases::comment(&s.app, &session.actor, &id, &f.message, internal).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=commented")).into_response()),
        Err(CoreError::Validation(errs)) => {
            let field_id = if internal {
                "note-message"
            } else {
                "comment-message"
            };
            case_with_errors(&s, &session, &id, field_id, errs, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/bulk_accept.html")]
struct BulkPage {
    layout: Layout,
    /// The confirmation (before) or the results (after).
    candidates: Vec<BulkCandidate>,
    results: Vec<BulkResult>,
    acceptable: usize,
    accepted: usize,
    /// The inbox query to keep (posted again) and the link back to that inbox view.
    return_to: String,
    back: String,
}

#[derive(Deserialize)]
pub struct BulkForm {
    csrf_token: String,
    #[serde(default)]
    case_ids: Vec<String>,
    confirm: Option<String>,
    /// The inbox query to go back to.
    #[serde(default)]
    return_to: String,
}

/// `POST /inbox/bulk-accept`: lists the chosen cases and asks for confirmation; with
/// `confirm=yes`, accepts each in turn and shows what happened to each.
pub async fn bulk_accept(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Form(f): Form<BulkForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    // Only an inbox query string goes back into the link (never a URL of elsewhere).
    let return_to = madoguchi_core::cases::inbox::InboxQuery::parse(&f.return_to).canonical();
    let back = if return_to.is_empty() {
        "/inbox".to_owned()
    } else {
        format!("/inbox?{return_to}")
    };
    let confirmed = f.confirm.as_deref() == Some("yes");
    let title = if confirmed {
        "一括受付の結果"
    } else {
        "一括受付の確認"
    };
    let mut layout = layout_for(&session, title, "/inbox");
    layout.breadcrumbs = vec![
        NavItem {
            href: back.clone(),
            label: "受付箱".into(),
            current: false,
        },
        NavItem {
            href: String::new(),
            label: title.into(),
            current: true,
        },
    ];
    let page = if confirmed {
        let results = match cases::bulk_accept(&s.app, &session.actor, &f.case_ids).await {
            Ok(r) => r,
            Err(CoreError::Validation(_)) => {
                let sep = if back.contains('?') { '&' } else { '?' };
                return Ok(Redirect::to(&format!("{back}{sep}done=bulk_none")).into_response());
            }
            Err(e) => return Err(e.into()),
        };
        BulkPage {
            layout,
            candidates: Vec::new(),
            accepted: results.iter().filter(|r| r.accepted).count(),
            acceptable: 0,
            results,
            return_to,
            back,
        }
    } else {
        let candidates = match cases::bulk_candidates(&s.app, &session.actor, &f.case_ids).await {
            Ok(c) => c,
            Err(CoreError::Validation(_)) => {
                let sep = if back.contains('?') { '&' } else { '?' };
                return Ok(Redirect::to(&format!("{back}{sep}done=bulk_none")).into_response());
            }
            Err(e) => return Err(e.into()),
        };
        BulkPage {
            layout,
            acceptable: candidates.iter().filter(|c| c.acceptable).count(),
            candidates,
            results: Vec::new(),
            accepted: 0,
            return_to,
            back,
        }
    };
    Ok(render(&page))
}
