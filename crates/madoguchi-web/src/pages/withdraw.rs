//! Withdrawal (取下げ) with a confirmation step: `GET /filings/{id}/withdraw` asks for the
//! reason and shows which authorities it reaches; `POST /filings/{id}/withdraw` checks the
//! reason and shows it back for confirmation (it cannot be undone), and only the confirmed
//! form (`confirm=yes`) withdraws. The withdrawal history is on the filing's page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::filings::{self, view::FilingView};
use serde::Deserialize;

use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/withdraw.html")]
struct WithdrawPage {
    layout: Layout,
    filing: FilingView,
    /// The authorities still deciding, which the withdrawal reaches.
    open: Vec<String>,
    /// Authorities that already decided (not affected).
    decided: Vec<String>,
    reason: String,
    error: Option<String>,
    /// Second step: the reason is fine, ask to confirm.
    confirming: bool,
}

async fn page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
) -> Result<WithdrawPage, PageError> {
    let filing = filings::view::get(&s.app, &session.actor, id).await?;
    let open = filing
        .cases
        .iter()
        .filter(|c| c.status == "submitted" || c.status == "returned")
        .map(|c| c.authority_name.clone())
        .collect();
    let decided = filing
        .cases
        .iter()
        .filter(|c| c.status == "accepted")
        .map(|c| c.authority_name.clone())
        .collect();
    let mut layout = layout_for(session, "届出の取下げ", "/filings");
    layout.breadcrumbs = vec![
        NavItem::new("/filings", "届出・申請の一覧"),
        NavItem::new(format!("/filings/{id}"), filing.procedure_title.clone()),
        NavItem::new("", "取下げ").current(true),
    ];
    Ok(WithdrawPage {
        layout,
        filing,
        open,
        decided,
        reason: String::new(),
        error: None,
        confirming: false,
    })
}

/// `GET /filings/{id}/withdraw`: the reason.
pub async fn form(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render(&page(&s, &session, &id).await?))
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    csrf_token: String,
    #[serde(default)]
    reason: String,
    /// `yes` on the confirmation step.
    #[serde(default)]
    confirm: String,
}

/// `POST /filings/{id}/withdraw`: check and confirm, then withdraw.
pub async fn submit(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<WithdrawForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let mut p = page(&s, &session, &id).await?;
    p.reason = f.reason.clone();
    match filings::check_withdraw_reason(&f.reason) {
        Err(CoreError::Validation(errs)) => {
            p.error = errs.into_iter().next().map(|e| e.message);
            let mut r = render(&p);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
        Ok(_) if f.confirm != "yes" => {
            p.confirming = true;
            p.layout.title = "取下げの確認".into();
            return Ok(render(&p));
        }
        Ok(_) => {}
    }
    filings::withdraw(&s.app, &session.actor, &id, &f.reason).await?;
    Ok(Redirect::to(&format!("/filings/{id}?done=withdrawn#withdrawals")).into_response())
}

/// One withdrawal as the filing's page lists it: who, when, why, from which authorities.
pub struct WithdrawalEntry {
    pub at: String,
    pub actor_name: String,
    pub reason: String,
    pub authorities: Vec<String>,
}

/// The withdrawal history of a filing, from its cases' provider-visible `withdrawn` events
/// (one withdrawal reaches several authorities at the same moment, by the same person, with
/// the same reason), oldest first.
pub fn history(filing: &FilingView) -> Vec<WithdrawalEntry> {
    let mut out: Vec<WithdrawalEntry> = Vec::new();
    for c in &filing.cases {
        for e in c
            .events
            .iter()
            .filter(|e| e.kind == "withdrawn" && !e.internal)
        {
            match out
                .iter_mut()
                .find(|w| w.at == e.at && w.actor_name == e.actor_name && w.reason == e.message)
            {
                Some(w) => w.authorities.push(c.authority_name.clone()),
                None => out.push(WithdrawalEntry {
                    at: e.at.clone(),
                    actor_name: e.actor_name.clone(),
                    reason: e.message.clone(),
                    authorities: vec![c.authority_name.clone()],
                }),
            }
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at));
    out
}
