//! The provider's page of one filing: where it stands with each authority (in words, with
//! the authority's messages and the fields they point at), what is still missing, and the
//! answers laid out for review. Starting and editing a filing is `filings`.

use askama::Template;
use axum::extract::{Path, Query, State};
use madoguchi_core::filings::{
    self,
    view::{CaseSummary, FilingView},
};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};

use super::filings::{DoneQuery, FieldLink, crumbs, definition, field_anchor, field_links};
use super::form::{ReviewSection, review};
use super::layout::Layout;
use super::{PageResult, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

/// One authority's case as the provider sees it: where it stands, in words, and what the
/// authority wrote.
struct AuthorityCase {
    /// The case id (its form set: `/cases/{id}/form`).
    id: String,
    authority_name: String,
    status: String,
    reference: String,
    version_no: i64,
    submitted_at: String,
    decided_at: Option<String>,
    /// What the status means for the provider, in one sentence.
    explanation: String,
    messages: Vec<AuthorityMessage>,
}

struct AuthorityMessage {
    label: &'static str,
    at: String,
    message: String,
    fields: Vec<FieldLink>,
    /// The return the provider still has to answer (highlighted).
    open: bool,
}

fn authority_case(def: &ProcedureDefinition, filing_id: &str, c: &CaseSummary) -> AuthorityCase {
    let explanation = match c.status.as_str() {
        "submitted" if c.version_no > 1 => format!(
            "修正した内容（第{}版）が届いています。自治体の審査をお待ちください。",
            c.version_no
        ),
        "submitted" => "自治体で審査しています。結果が出るまでお待ちください。".to_string(),
        "returned" => "修正の依頼があります。内容を修正して、再提出してください。".to_string(),
        "accepted" => "受け付けられました。届け出た内容は登録情報に反映されています。".to_string(),
        "withdrawn" => "取り下げました。この自治体での手続は終了しています。".to_string(),
        _ => String::new(),
    };
    let last_return = c.events.iter().rposition(|e| e.kind == "returned");
    let messages = c
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.message.trim().is_empty() && !e.internal)
        .map(|(i, e)| AuthorityMessage {
            label: match e.kind.as_str() {
                "returned" => "修正の依頼",
                "comment" => "自治体からのコメント",
                "accepted" => "受付時のコメント",
                "withdrawn" => "取下げの理由",
                _ => super::event_label(&e.kind),
            },
            at: e.at.clone(),
            message: e.message.clone(),
            fields: field_links(def, filing_id, &e.fields),
            open: c.status == "returned" && Some(i) == last_return,
        })
        .collect();
    AuthorityCase {
        id: c.id.clone(),
        authority_name: c.authority_name.clone(),
        status: c.status.clone(),
        reference: c.reference.clone(),
        version_no: c.version_no,
        submitted_at: c.submitted_at.clone(),
        decided_at: c.decided_at.clone(),
        explanation,
        messages,
    }
}

#[derive(Template)]
#[template(path = "pages/filing_detail.html")]
struct DetailPage {
    layout: Layout,
    filing: FilingView,
    form_number: String,
    review: Vec<ReviewSection>,
    editable: bool,
    can_submit: bool,
    can_withdraw: bool,
    requirement_labels: Vec<(String, String)>,
    authorities: Vec<AuthorityCase>,
    /// e.g. 「審査中 3か所、差戻し 1か所、受付完了 1か所」.
    status_counts: String,
    /// Authorities that asked for corrections (the resubmission goes to them only).
    returned_by: Vec<String>,
    /// What still stops submission, with a link to where to fix it.
    problems: Vec<FieldLink>,
    /// Who withdrew, when, why and from which authorities.
    withdrawals: Vec<super::withdraw::WithdrawalEntry>,
}

/// `GET /filings/{id}`: status per authority, messages, answers, files.
pub async fn detail(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let filing = filings::view::get(&s.app, &session.actor, &id).await?;
    let def = &definition(&s, &filing)?;
    let data: FilingData = serde_json::from_value(filing.data.clone())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let corp = session.actor.require_provider()?;
    let registry = madoguchi_core::registry::view::snapshot_for(&s.app, corp).await?;
    let any_returned = filing.cases.iter().any(|c| c.status == "returned");
    let editable = filing.status == "draft" || any_returned;
    let can_submit = editable && filing.problems.is_empty();
    let can_withdraw = filing
        .cases
        .iter()
        .any(|c| c.status == "submitted" || c.status == "returned");
    let mut layout = layout_for(&session, &def.title, "/filings");
    layout.breadcrumbs = crumbs(&[("/filings", "届出・申請の一覧"), ("", &def.title)]);
    layout.flash = flash_for(q.done.as_deref());
    let review = review(def, &data, &filing.establishments, &registry);
    let requirement_labels = def
        .attachments
        .iter()
        .map(|a| (a.id.clone(), a.label.clone()))
        .collect();
    // Authorities waiting for the provider come first.
    let mut authorities: Vec<AuthorityCase> = filing
        .cases
        .iter()
        .map(|c| authority_case(def, &filing.id, c))
        .collect();
    authorities.sort_by_key(|c| c.status != "returned");
    let status_counts = [
        ("returned", "差戻し"),
        ("submitted", "審査中"),
        ("accepted", "受付完了"),
        ("withdrawn", "取下げ"),
    ]
    .iter()
    .filter_map(|(status, label)| {
        let n = filing.cases.iter().filter(|c| c.status == *status).count();
        (n > 0).then(|| format!("{label} {n}か所"))
    })
    .collect::<Vec<_>>()
    .join("、");
    let returned_by = filing
        .cases
        .iter()
        .filter(|c| c.status == "returned")
        .map(|c| c.authority_name.clone())
        .collect();
    let problems = filing
        .problems
        .iter()
        .map(|p| FieldLink {
            label: p.message.clone(),
            href: format!("/filings/{}/edit{}", filing.id, field_anchor(&p.field)),
        })
        .collect();
    let withdrawals = super::withdraw::history(&filing);
    Ok(render(&DetailPage {
        withdrawals,
        layout,
        form_number: def.form_number.clone(),
        filing,
        review,
        editable,
        can_submit,
        can_withdraw,
        requirement_labels,
        authorities,
        status_counts,
        returned_by,
        problems,
    }))
}
