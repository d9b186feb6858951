//! What a provider sees of a filing: answers, covered establishments, attachments, versions
//! and, per authority, the case status with the provider-visible messages only.

use madoguchi_db::{attachments, cases, filings, registry, users};
use madoguchi_domain::procedure::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

use super::{definition_of, load_own, parse_data};
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreResult};

/// A field-level problem, as the API reports it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Path of the field: `fields.<id>`, `establishments.<id>.<field>` or `attachments.<id>`.
    pub field: String,
    /// Machine code, e.g. `required`, `invalid_format`, `check_digit`.
    pub code: String,
    /// Japanese message naming the field and what to fix.
    pub message: String,
}

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Self {
        Problem {
            field: e.field,
            code: e.code,
            message: e.message,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// `submitted`, `resubmitted`, `returned`, `accepted`, `withdrawn`, `comment`, `internal_note`.
    pub kind: String,
    /// True for internal hand-over notes (never in a provider view).
    pub internal: bool,
    pub at: String,
    pub actor_name: String,
    pub message: String,
    /// Field paths a return points at.
    pub fields: Vec<String>,
    pub attachment_ids: Vec<String>,
    pub version_no: Option<i64>,
    /// For a return, once the correction was resubmitted: how each pinned item was answered
    /// (changed, and/or the provider's reply).
    pub answers: Vec<super::replies::ReturnAnswer>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub authority_code: String,
    pub authority_name: String,
    /// `submitted`, `returned`, `accepted`, `withdrawn`.
    pub status: String,
    /// 到達番号.
    pub reference: String,
    pub version_no: i64,
    pub submitted_at: String,
    pub decided_at: Option<String>,
    /// Due date (`YYYY-MM-DD`) by this authority's deadline.
    pub due_on: Option<String>,
    pub events: Vec<EventView>,
}

/// One authority the filing goes (or went) to, with what it asks.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AddresseeView {
    pub authority_code: String,
    pub authority_name: String,
    /// The authority's form number (its own when its local rules set one).
    pub form_number: String,
    /// How the deadline is said (変更後10日以内), when the procedure has one.
    pub deadline_label: Option<String>,
    /// Due date by this authority's deadline, once the date it counts from is answered.
    pub due_on: Option<String>,
    /// Whether this authority adds its own items (独自ルール).
    pub has_local_rules: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttachmentLinkView {
    pub attachment_id: String,
    pub requirement_id: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub content_type: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub id: String,
    pub version_no: i64,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EstablishmentRef {
    pub id: String,
    pub office_number: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FilingView {
    pub id: String,
    pub procedure_id: String,
    pub procedure_version: String,
    pub procedure_title: String,
    /// `draft`, `submitted`, `withdrawn`; per-authority detail is in `cases`.
    pub status: String,
    pub reference: Option<String>,
    pub establishments: Vec<EstablishmentRef>,
    /// The working answers (FilingData: `{ "fields": {…}, "establishments": {id: {…}} }`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub lock_version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub cases: Vec<CaseSummary>,
    pub attachments: Vec<AttachmentLinkView>,
    pub versions: Vec<VersionSummary>,
    /// What still stops submission (missing or invalid answers, missing attachments).
    pub problems: Vec<Problem>,
    /// Worth checking but not blocking: characters a Shift_JIS ledger cannot take or may
    /// refuse (機種依存文字), a 事業所番号 whose check digit cannot be verified.
    pub warnings: Vec<Problem>,
    /// The authorities concerned, with their deadlines and local rules.
    pub addressees: Vec<AddresseeView>,
    /// A newer form version a draft can move to (`POST …/migrate`).
    pub newer_version: Option<String>,
    /// Fields new in this form version since the version the draft was moved from.
    pub new_fields: Vec<String>,
    /// Answers filled in for the provider that still hold the value filled, with where it
    /// came from (「登録情報から」, 「前回の届出（到達番号 …）から」 …).
    pub prefill_sources: Vec<PrefillSourceView>,
    /// The batch the draft was prepared in (変更届 drafts of one change, or a 一括申請).
    pub batch_id: Option<String>,
}

/// Where a prefilled answer came from.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PrefillSourceView {
    /// `fields.<id>` or `establishments.<establishment id>.<id>`.
    pub path: String,
    /// `registry`, `previous` (an earlier filing), `change` (entered on マイページ) or `annex`
    /// (a 付表 copied from another filing).
    pub source: String,
    /// Shown beside the answer, e.g. 「前回の届出（到達番号 20260401-000001-01）から」.
    pub label: String,
}

/// The provider's view of one of its filings.
pub async fn get(app: &App, actor: &Actor, filing_id: &str) -> CoreResult<FilingView> {
    let mut tx = app.db.begin_read().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    let def = definition_of(app, &f)?;
    let data = parse_data(&f.data)?;
    let est_ids = filings::filing_establishments(&mut tx, filing_id).await?;
    let mut establishments = Vec::new();
    for id in &est_ids {
        let e = registry::get_establishment(&mut tx, id).await?;
        establishments.push(EstablishmentRef {
            id: e.id,
            office_number: e.office_number,
            name: e.name,
        });
    }
    let linked = attachments::of_filing(&mut tx, filing_id).await?;
    let present: Vec<String> = linked.iter().map(|a| a.requirement_id.clone()).collect();
    let to = super::addressees(app, &mut tx, &f, def, &data, &est_ids).await?;
    let addressees = to
        .codes()
        .iter()
        .map(|code| {
            let rules = app
                .catalog
                .local_rules_for(&def.id, std::slice::from_ref(code));
            let own = def.with_local_rules(&rules, &|_| None);
            AddresseeView {
                authority_code: code.clone(),
                authority_name: to.names.get(code).cloned().unwrap_or_default(),
                form_number: own.form_number.clone(),
                deadline_label: own.deadline.as_ref().map(|d| d.label.clone()),
                due_on: to.due_on(app, def, &data, code),
                has_local_rules: !rules.is_empty(),
            }
        })
        .collect();
    let newer_version = app
        .catalog
        .latest(&f.procedure_id)
        .filter(|l| f.status == "draft" && l.version > f.procedure_version)
        .map(|l| l.version.clone());
    let new_fields = f
        .migrated_from
        .as_deref()
        .and_then(|v| app.catalog.get(&f.procedure_id, v))
        .map(|old| def.fields_new_since(old))
        .unwrap_or_default();
    let def = &to.merged(app, def);
    let warnings = def.warnings(&data).into_iter().map(Into::into).collect();
    let mut problems: Vec<Problem> = def
        .validate(&data, &est_ids)
        .into_iter()
        .map(Into::into)
        .collect();
    problems.extend(
        def.missing_attachments(&data, &present)
            .into_iter()
            .map(Into::into),
    );
    let versions = filings::list_versions(&mut tx, filing_id).await?;
    let version_no = |id: &str| versions.iter().find(|v| v.id == id).map(|v| v.version_no);
    let mut case_views = Vec::new();
    for c in cases::cases_of_filing(&mut tx, filing_id).await? {
        let authority = registry::get_authority(&mut tx, &c.authority_code).await?;
        let events = events_view(&mut tx, &c.id, false, &versions).await?;
        case_views.push(CaseSummary {
            version_no: version_no(&c.current_version_id).unwrap_or(0),
            id: c.id,
            authority_code: c.authority_code,
            authority_name: authority.name,
            status: c.status,
            reference: c.reference,
            submitted_at: format_ms_jst(c.submitted_at),
            decided_at: c.decided_at.map(format_ms_jst),
            due_on: c.due_on,
            events,
        });
    }
    let prefill_sources = madoguchi_db::batches::prefill_sources(&mut tx, filing_id)
        .await?
        .into_iter()
        .filter(|p| {
            super::answer_at(&data, &p.path).is_some_and(|v| {
                serde_json::from_str::<serde_json::Value>(&p.value)
                    .ok()
                    .as_ref()
                    == Some(v)
            })
        })
        .map(|p| PrefillSourceView {
            path: p.path,
            source: p.source,
            label: p.label,
        })
        .collect();
    let batch_id = madoguchi_db::batches::batch_of_filing(&mut tx, filing_id).await?;
    tx.commit().await?;
    Ok(FilingView {
        id: f.id,
        procedure_id: f.procedure_id,
        procedure_version: f.procedure_version,
        procedure_title: def.title.clone(),
        status: f.status,
        reference: f.reference,
        establishments,
        data: serde_json::to_value(&data)?,
        lock_version: f.lock_version,
        created_at: format_ms_jst(f.created_at),
        updated_at: format_ms_jst(f.updated_at),
        submitted_at: f.submitted_at.map(format_ms_jst),
        cases: case_views,
        attachments: linked
            .into_iter()
            .map(|a| AttachmentLinkView {
                attachment_id: a.attachment_id,
                requirement_id: a.requirement_id,
                filename: a.filename,
                size_bytes: a.size_bytes,
                sha256: a.sha256,
                content_type: a.content_type,
            })
            .collect(),
        versions: versions
            .iter()
            .map(|v| VersionSummary {
                id: v.id.clone(),
                version_no: v.version_no,
                created_at: format_ms_jst(v.created_at),
            })
            .collect(),
        problems,
        warnings,
        addressees,
        newer_version,
        new_fields,
        prefill_sources,
        batch_id,
    })
}

/// A case's events; internal notes only when `include_internal` (authority staff).
pub(crate) async fn events_view(
    tx: &mut madoguchi_db::Tx,
    case_id: &str,
    include_internal: bool,
    versions: &[madoguchi_db::filings::FilingVersionRow],
) -> CoreResult<Vec<EventView>> {
    let mut out = Vec::new();
    for e in cases::events_of_case(tx, case_id, include_internal).await? {
        let actor_name = users::get_user(tx, &e.actor_id)
            .await
            .map(|u| u.display_name)
            .unwrap_or_default();
        let answers = if e.kind == "returned" {
            super::replies::answers_of_event(tx, &e.id).await?
        } else {
            Vec::new()
        };
        out.push(EventView {
            answers,
            version_no: e
                .version_id
                .as_deref()
                .and_then(|id| versions.iter().find(|v| v.id == id).map(|v| v.version_no)),
            id: e.id,
            kind: e.kind,
            internal: e.visibility == "internal",
            at: format_ms_jst(e.at),
            actor_name,
            message: e.message,
            fields: serde_json::from_str(&e.fields).unwrap_or_default(),
            attachment_ids: serde_json::from_str(&e.attachments).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Summary row of the provider's filing list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FilingListItem {
    pub id: String,
    pub procedure_id: String,
    pub procedure_title: String,
    pub status: String,
    pub reference: Option<String>,
    pub updated_at: String,
    /// Per-authority status: (authority name, status).
    pub cases: Vec<CaseStatusItem>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseStatusItem {
    pub case_id: String,
    pub authority_name: String,
    pub status: String,
}

/// The provider's filings, newest first.
pub async fn list(app: &App, actor: &Actor) -> CoreResult<Vec<FilingListItem>> {
    let corp = actor.require_provider()?;
    let mut tx = app.db.begin_read().await?;
    let rows = filings::list_filings_of(&mut tx, corp, 200).await?;
    let authorities = registry::list_authorities(&mut tx).await?;
    let mut out = Vec::new();
    for f in rows {
        let title = app
            .catalog
            .get(&f.procedure_id, &f.procedure_version)
            .map(|d| d.title.clone())
            .unwrap_or_else(|| f.procedure_id.clone());
        let cases = cases::cases_of_filing(&mut tx, &f.id)
            .await?
            .into_iter()
            .map(|c| CaseStatusItem {
                authority_name: authorities
                    .iter()
                    .find(|a| a.code == c.authority_code)
                    .map(|a| a.name.clone())
                    .unwrap_or(c.authority_code.clone()),
                case_id: c.id,
                status: c.status,
            })
            .collect();
        out.push(FilingListItem {
            id: f.id,
            procedure_id: f.procedure_id,
            procedure_title: title,
            status: f.status,
            reference: f.reference,
            updated_at: format_ms_jst(f.updated_at),
            cases,
        });
    }
    tx.commit().await?;
    Ok(out)
}
