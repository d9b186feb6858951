//! The receipt after a submission (`GET /filings/{id}/receipt`): 到達番号, time of arrival in
//! 和暦 and 西暦 (JST), each authority reached with its due date, what happens next — and the
//! optional satisfaction question (`POST /filings/{id}/satisfaction`), which never stands
//! in the way: it can be skipped, and answering again replaces the answer.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::filings::receipt::{ReceiptView, receipt};
use serde::Deserialize;

use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

/// The five answers of the satisfaction question.
pub const SCORES: [(i64, &str); 5] = [
    (5, "満足"),
    (4, "やや満足"),
    (3, "どちらともいえない"),
    (2, "やや不満"),
    (1, "不満"),
];

#[derive(Template)]
#[template(path = "pages/receipt.html")]
struct ReceiptPage {
    layout: Layout,
    r: ReceiptView,
    scores: Vec<(i64, &'static str)>,
    /// The score shown as chosen (the saved one, or the one just posted).
    chosen: i64,
    comment: String,
    score_error: Option<String>,
    comment_error: Option<String>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    done: Option<&str>,
) -> Result<ReceiptPage, PageError> {
    let r = receipt(&s.app, &session.actor, id).await?;
    let title = if r.resubmission {
        "再提出を受け付けました"
    } else {
        "提出を受け付けました"
    };
    let mut layout = layout_for(session, title, "/filings");
    layout.breadcrumbs = vec![
        NavItem::new("/filings", "届出・申請の一覧"),
        NavItem::new(format!("/filings/{id}"), r.procedure_title.clone()),
        NavItem::new("", "受付票").current(true),
    ];
    layout.flash = flash_for(done);
    Ok(ReceiptPage {
        layout,
        chosen: r.rating.unwrap_or(0),
        comment: r.rating_comment.clone(),
        r,
        scores: SCORES.to_vec(),
        score_error: None,
        comment_error: None,
    })
}

/// `GET /filings/{id}/receipt`.
pub async fn show(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    Ok(render(&page(&s, &session, &id, q.done.as_deref()).await?))
}

#[derive(Deserialize)]
pub struct RateForm {
    csrf_token: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
}

/// `POST /filings/{id}/satisfaction`.
pub async fn rate(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RateForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    // No choice (or a forged value) is the same polite message as an out-of-range score.
    let score = f.score.trim().parse::<i64>().unwrap_or(0);
    match madoguchi_core::filings::rate::rate(&s.app, &session.actor, &id, score, &f.comment).await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/filings/{id}/receipt?done=rated#satisfaction")).into_response(),
        ),
        Err(CoreError::Validation(errs)) => {
            let mut p = page(&s, &session, &id, None).await?;
            p.chosen = score;
            p.comment = f.comment;
            for e in errs {
                if e.field == "comment" {
                    p.comment_error = Some(e.message);
                } else {
                    p.score_error = Some(e.message);
                }
            }
            let mut r = render(&p);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
