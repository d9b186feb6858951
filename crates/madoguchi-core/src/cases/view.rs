//! What authority staff see of one case: its version's answers, the registry's current
//! values, attachments, the designations concerned, the assignee and the full history
//! including internal notes. (The inbox is `inbox`, the version comparison `diff`.)

use madoguchi_db::{attachments, cases, filings, registry};
use serde::Serialize;
use utoipa::ToSchema;

use super::load_for_staff;
use crate::clock::format_ms_jst;
use crate::filings::view::{
    AttachmentLinkView, EstablishmentRef, EventView, VersionSummary, events_view,
};
use crate::{Actor, App, CoreError, CoreResult};
use madoguchi_db::Tx;
use madoguchi_db::filings::FilingVersionRow;

/// How many days ahead "due soon" looks.
pub const DUE_SOON_DAYS: u64 = 7;

/// `overdue` / `due_soon` for an open case with a due date, as of `today`.
pub fn due_state(status: &str, due_on: Option<&str>, today: chrono::NaiveDate) -> Option<String> {
    let due = chrono::NaiveDate::parse_from_str(due_on?, "%Y-%m-%d").ok()?;
    if !matches!(status, "submitted" | "returned") {
        return None;
    }
    if due < today {
        Some("overdue".into())
    } else if due <= today + chrono::Days::new(DUE_SOON_DAYS) {
        Some("due_soon".into())
    } else {
        None
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DesignationView {
    pub establishment_id: String,
    pub office_number: String,
    pub establishment_name: String,
    pub service_code: String,
    pub service_name: String,
    pub valid_until: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    pub filing_id: String,
    pub reference: String,
    pub status: String,
    pub authority_code: String,
    pub authority_name: String,
    pub corporation_id: String,
    pub corporation_name: String,
    pub corporate_number: Option<String>,
    pub procedure_id: String,
    pub procedure_version: String,
    pub procedure_title: String,
    pub version_id: String,
    pub version_no: i64,
    /// Answers of the version under review (FilingData).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The corporation's registry record now (to compare with the answers).
    #[schema(value_type = Object)]
    pub corporation_record: serde_json::Value,
    pub establishments: Vec<EstablishmentRef>,
    pub designations: Vec<DesignationView>,
    pub attachments: Vec<AttachmentLinkView>,
    pub versions: Vec<VersionSummary>,
    /// Full history, internal notes included (`internal: true`).
    pub events: Vec<EventView>,
    pub submitted_at: String,
    pub decided_at: Option<String>,
    /// The colleague handling the case (内部の担当者), if assigned.
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    /// Due date by this authority's deadline, and how the deadline is said.
    pub due_on: Option<String>,
    pub due_state: Option<String>,
    pub deadline_label: Option<String>,
    /// This authority's form number (its own when its local rules set one).
    pub form_number: String,
    /// A report that is only received (事故報告): the decision is 受理, not approval.
    pub receipt_only: bool,
    /// The documents this authority requires for these answers (its local rules included),
    /// with whether the version under review carries one.
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChecklistItem {
    pub requirement_id: String,
    pub label: String,
    pub present: bool,
    /// Set when the requirement comes from this authority's local rules.
    pub local_rule: bool,
}

/// One case for its authority's staff; `version_no` picks an earlier version to look at.
pub async fn get(
    app: &App,
    actor: &Actor,
    case_id: &str,
    version_no: Option<i64>,
) -> CoreResult<CaseView> {
    let mut tx = app.db.begin_read().await?;
    let c = load_for_staff(&mut tx, actor, case_id).await?;
    let f = filings::get_filing(&mut tx, &c.filing_id).await?;
    let def = crate::filings::definition_of(app, &f)?;
    let versions = filings::list_versions(&mut tx, &c.filing_id).await?;
    let events = events_view(&mut tx, case_id, true, &versions).await?;
    let mine = case_versions(&c, &versions, &events);
    let version = match version_no {
        Some(n) => mine
            .iter()
            .find(|v| v.version_no == n)
            .cloned()
            .ok_or(CoreError::NotFound)?,
        None => filings::get_version(&mut tx, &c.current_version_id).await?,
    };
    let corp = registry::get_corporation(&mut tx, &c.corporation_id).await?;
    let authority = registry::get_authority(&mut tx, &c.authority_code).await?;
    let est_ids: Vec<String> = serde_json::from_str(&version.establishments)?;
    let mut establishments = Vec::new();
    for id in &est_ids {
        let e = registry::get_establishment(&mut tx, id).await?;
        establishments.push(EstablishmentRef {
            id: e.id,
            office_number: e.office_number,
            name: e.name,
        });
    }
    let mut designations = Vec::new();
    for d in cases::case_designations(&mut tx, case_id).await? {
        let e = registry::get_establishment(&mut tx, &d.establishment_id).await?;
        let service_name = madoguchi_domain::ids::find_service_type(&d.service_code)
            .map(|s| s.name.to_string())
            .unwrap_or_default();
        designations.push(DesignationView {
            establishment_id: e.id,
            office_number: e.office_number,
            establishment_name: e.name,
            service_code: d.service_code,
            service_name,
            valid_until: d.valid_until,
        });
    }
    let atts = attachment_links(&mut tx, &version).await?;
    let assignee_name = match &c.assignee_id {
        Some(id) => Some(
            madoguchi_db::users::get_user(&mut tx, id)
                .await?
                .display_name,
        ),
        None => None,
    };
    // The authority's rule as it stood when this version arrived (a later publication does
    // not change what the case was checked against).
    let rules = crate::local_rules::in_force_for_case(
        app,
        &mut tx,
        &c.authority_code,
        &def.id,
        version.created_at,
    )
    .await?;
    tx.commit().await?;
    let own = def.with_local_rules(&rules, &|_| Some(authority.name.clone()));
    let answers: madoguchi_domain::procedure::FilingData = serde_json::from_str(&version.data)?;
    let checklist = own
        .required_attachments(&answers)
        .into_iter()
        .map(|a| ChecklistItem {
            requirement_id: a.id.clone(),
            label: a.label.clone(),
            present: atts.iter().any(|x| x.requirement_id == a.id),
            local_rule: !a.origin.is_standard(),
        })
        .collect();
    let today = crate::clock::today_jst(app.clock.as_ref());
    Ok(CaseView {
        due_state: due_state(&c.status, c.due_on.as_deref(), today),
        due_on: c.due_on,
        deadline_label: own.deadline.as_ref().map(|d| d.label.clone()),
        form_number: own.form_number.clone(),
        receipt_only: own.review == madoguchi_domain::procedure::Review::Receipt,
        checklist,
        id: c.id,
        filing_id: c.filing_id,
        reference: c.reference,
        status: c.status,
        authority_code: c.authority_code,
        authority_name: authority.name,
        corporation_id: corp.id,
        corporation_name: corp.name,
        corporate_number: corp.corporate_number,
        procedure_id: f.procedure_id,
        procedure_version: f.procedure_version,
        procedure_title: def.title.clone(),
        version_id: version.id,
        version_no: version.version_no,
        data: serde_json::from_str(&version.data)?,
        corporation_record: serde_json::from_str(&corp.profile)?,
        establishments,
        designations,
        attachments: atts,
        versions: mine
            .iter()
            .map(|v| VersionSummary {
                id: v.id.clone(),
                version_no: v.version_no,
                created_at: format_ms_jst(v.created_at),
            })
            .collect(),
        events,
        submitted_at: format_ms_jst(c.submitted_at),
        decided_at: c.decided_at.map(format_ms_jst),
        assignee_id: c.assignee_id,
        assignee_name,
    })
}

/// The versions a case was submitted with (its current one and those its history names),
/// oldest first.
pub(crate) fn case_versions(
    c: &madoguchi_db::cases::CaseRow,
    versions: &[FilingVersionRow],
    events: &[crate::filings::view::EventView],
) -> Vec<FilingVersionRow> {
    let mut mine: Vec<_> = versions
        .iter()
        .filter(|v| {
            v.id == c.current_version_id
                || events.iter().any(|e| e.version_no == Some(v.version_no))
        })
        .cloned()
        .collect();
    mine.sort_by_key(|v| v.version_no);
    mine
}

/// The files a version carries, each with the requirement it answers.
pub(crate) async fn attachment_links(
    tx: &mut Tx,
    version: &FilingVersionRow,
) -> CoreResult<Vec<AttachmentLinkView>> {
    let refs: Vec<serde_json::Value> = serde_json::from_str(&version.attachments)?;
    let mut atts = Vec::new();
    for r in refs {
        let (Some(aid), Some(req)) = (r["attachment_id"].as_str(), r["requirement_id"].as_str())
        else {
            continue;
        };
        let a = attachments::get_attachment(tx, aid).await?;
        atts.push(AttachmentLinkView {
            attachment_id: a.id,
            requirement_id: req.into(),
            filename: a.filename,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
            content_type: a.content_type,
        });
    }
    Ok(atts)
}
