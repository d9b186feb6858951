//! Drafts prepared together and submitted together: the 変更届 drafts one registry change
//! calls for (`change_once`), or one procedure for several establishments (`bulk`). The batch
//! is only a grouping: each draft stays an ordinary filing (its own form, attachments, cases
//! and 到達番号), and "submit all" submits each draft on its own, all-or-nothing per draft.

use madoguchi_db::batches::{self, BatchRow};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::view::{AttachmentLinkView, FilingView, Problem};
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreError, CoreResult};

/// `change` (変更届 drafts of one registry change) or `bulk` (一括申請).
pub const KIND_CHANGE: &str = "change";
pub const KIND_BULK: &str = "bulk";

/// One registry value a change batch changes, as entered on マイページ.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeLine {
    /// `corporation` or `establishment`.
    pub target: String,
    /// The establishment's id (empty for the corporation).
    pub target_id: String,
    /// 「法人」 or the establishment's name.
    pub target_name: String,
    /// Registry key, e.g. `manager_name`.
    pub key: String,
    /// Its Japanese label, e.g. 「管理者の氏名」.
    pub label: String,
    /// The registry's value when the change was entered.
    pub before: serde_json::Value,
    /// The new value.
    pub after: serde_json::Value,
}

/// What one authority will receive of a draft: its form number, due date and own additions.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuthorityPlan {
    pub authority_code: String,
    pub authority_name: String,
    /// The authority's form number (its own when its local rules set one).
    pub form_number: String,
    pub deadline_label: Option<String>,
    /// Due date (`YYYY-MM-DD`) by this authority's deadline.
    pub due_on: Option<String>,
    /// The authority's description of its local rules (empty: none).
    pub local_summary: String,
    /// Fields and documents the authority adds to the standard form.
    pub local_additions: Vec<LocalAddition>,
    /// Once submitted: the case's status and 到達番号 at this authority.
    pub case_status: Option<String>,
    pub case_reference: Option<String>,
}

/// One field or document an authority's local rules add.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LocalAddition {
    /// `field` or `attachment`.
    pub kind: String,
    pub label: String,
    /// Must be answered or attached for this draft (given its answers).
    pub required_here: bool,
}

/// A document the draft needs (or may carry), with the files attached so far.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequirementStatus {
    pub id: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    /// The authority whose local rules ask for it (`None`: the standard form).
    pub authority_name: Option<String>,
    pub files: Vec<AttachmentLinkView>,
}

/// One draft of a batch.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchDraft {
    /// e.g. 「変更届出書（さくらデイサービス新宿）」.
    pub title: String,
    /// For 変更届: the items ticked (「管理者の氏名、生年月日及び住所」 …).
    pub items: Vec<String>,
    pub authorities: Vec<AuthorityPlan>,
    /// Documents required for these answers, then those already attached.
    pub requirements: Vec<RequirementStatus>,
    /// Nothing stops its submission.
    pub ready: bool,
    pub filing: FilingView,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchView {
    pub id: String,
    /// `change` or `bulk`.
    pub kind: String,
    pub procedure_id: String,
    pub procedure_title: String,
    pub created_at: String,
    /// For `change`: the registry values changed.
    pub changes: Vec<ChangeLine>,
    pub drafts: Vec<BatchDraft>,
    /// Drafts still to be submitted, and how many of them are ready.
    pub pending: usize,
    pub ready: usize,
}

/// Loads a batch of the actor's corporation; any other batch is `NotFound`.
pub(crate) async fn load_own(
    tx: &mut madoguchi_db::Tx,
    actor: &Actor,
    batch_id: &str,
) -> CoreResult<BatchRow> {
    actor.require_provider()?;
    let b = batches::get_batch(tx, batch_id).await?;
    crate::policy::may_access_filing(actor, &b.corporation_id)?;
    Ok(b)
}

/// The filing ids of a batch the actor may see.
pub async fn members(app: &App, actor: &Actor, batch_id: &str) -> CoreResult<Vec<String>> {
    let mut tx = app.db.begin_read().await?;
    load_own(&mut tx, actor, batch_id).await?;
    let ids = batches::members(&mut tx, batch_id).await?;
    tx.commit().await?;
    Ok(ids)
}

/// A batch with every draft, what each authority will receive, and what is still missing.
pub async fn get(app: &App, actor: &Actor, batch_id: &str) -> CoreResult<BatchView> {
    let mut tx = app.db.begin_read().await?;
    let b = load_own(&mut tx, actor, batch_id).await?;
    let ids = batches::members(&mut tx, batch_id).await?;
    tx.commit().await?;
    let changes: Vec<ChangeLine> = if b.kind == KIND_CHANGE {
        serde_json::from_str(&b.summary).unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut drafts = Vec::new();
    for id in &ids {
        let filing = super::view::get(app, actor, id).await?;
        drafts.push(draft_view(app, filing)?);
    }
    let procedure_title = app
        .catalog
        .latest(&b.procedure_id)
        .map(|d| d.title.clone())
        .unwrap_or_else(|| b.procedure_id.clone());
    let pending = drafts.iter().filter(|d| d.filing.status == "draft").count();
    let ready = drafts
        .iter()
        .filter(|d| d.filing.status == "draft" && d.ready)
        .count();
    Ok(BatchView {
        id: b.id,
        kind: b.kind,
        procedure_id: b.procedure_id,
        procedure_title,
        created_at: format_ms_jst(b.created_at),
        changes,
        drafts,
        pending,
        ready,
    })
}

/// The form of a filing as its addressees see it: its version with their local rules.
pub(crate) fn merged_definition(app: &App, f: &FilingView) -> CoreResult<ProcedureDefinition> {
    let def = app
        .catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| CoreError::Internal(format!("procedure {} missing", f.procedure_id)))?;
    let codes: Vec<String> = f
        .addressees
        .iter()
        .map(|a| a.authority_code.clone())
        .collect();
    let rules = app.catalog.local_rules_for(&def.id, &codes);
    let name = |code: &str| {
        f.addressees
            .iter()
            .find(|a| a.authority_code == code)
            .map(|a| a.authority_name.clone())
    };
    Ok(def.with_local_rules(&rules, &name))
}

fn draft_view(app: &App, filing: FilingView) -> CoreResult<BatchDraft> {
    let def = merged_definition(app, &filing)?;
    let data: FilingData = serde_json::from_value(filing.data.clone())?;
    let required: Vec<&str> = def
        .required_attachments(&data)
        .into_iter()
        .map(|a| a.id.as_str())
        .collect();
    let requirements = def
        .attachments
        .iter()
        .map(|a| RequirementStatus {
            id: a.id.clone(),
            label: a.label.clone(),
            help: a.help.clone(),
            required: required.contains(&a.id.as_str()),
            authority_name: a.origin.authority_name.clone(),
            files: filing
                .attachments
                .iter()
                .filter(|l| l.requirement_id == a.id)
                .cloned()
                .collect(),
        })
        .filter(|r| r.required || !r.files.is_empty())
        .collect();
    let authorities = filing
        .addressees
        .iter()
        .map(|a| {
            let rules = app
                .catalog
                .local_rules_for(&def.id, std::slice::from_ref(&a.authority_code));
            let mut local_additions = Vec::new();
            for r in &rules {
                for f in r.groups.iter().flat_map(|g| g.fields.iter()) {
                    local_additions.push(LocalAddition {
                        kind: "field".into(),
                        label: f.label.clone(),
                        required_here: f.required,
                    });
                }
                for att in &r.attachments {
                    local_additions.push(LocalAddition {
                        kind: "attachment".into(),
                        label: att.label.clone(),
                        required_here: required.contains(&att.id.as_str()),
                    });
                }
            }
            let case = filing
                .cases
                .iter()
                .find(|c| c.authority_code == a.authority_code);
            AuthorityPlan {
                authority_code: a.authority_code.clone(),
                authority_name: a.authority_name.clone(),
                form_number: a.form_number.clone(),
                deadline_label: a.deadline_label.clone(),
                due_on: case.and_then(|c| c.due_on.clone()).or(a.due_on.clone()),
                local_summary: rules
                    .iter()
                    .map(|r| r.summary.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                local_additions,
                case_status: case.map(|c| c.status.clone()),
                case_reference: case.map(|c| c.reference.clone()),
            }
        })
        .collect();
    // The items a 変更届 ticks, by their labels (any multi-select revealing groups).
    let items = def
        .groups
        .iter()
        .filter(|g| !g.per_establishment)
        .flat_map(|g| g.fields.iter())
        .find(|f| !def.revealed_by(&f.id).is_empty() && f.kind.has_options())
        .map(|f| {
            data.choices(&f.id)
                .iter()
                .filter_map(|v| f.options.iter().find(|o| &o.value == v))
                .map(|o| o.label.clone())
                .collect()
        })
        .unwrap_or_default();
    let names: Vec<&str> = filing
        .establishments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let target = match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [first, rest @ ..] if def.is_corporation_wide(&data) => {
            format!("法人のすべての事業所：{first} ほか{}か所", rest.len())
        }
        [first, rest @ ..] => format!("{first} ほか{}か所", rest.len()),
    };
    let title = if target.is_empty() {
        def.title.clone()
    } else {
        format!("{}（{target}）", def.title)
    };
    Ok(BatchDraft {
        title,
        items,
        authorities,
        requirements,
        ready: filing.problems.is_empty(),
        filing,
    })
}

/// What "submit all" did with one draft.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DraftOutcome {
    pub filing_id: String,
    /// `submitted` (now), `already_submitted`, or `not_submitted`.
    pub result: String,
    /// 到達番号 of the filing, once submitted.
    pub reference: Option<String>,
    /// Cases created by this call.
    pub case_ids: Vec<String>,
    /// Why it was not submitted: what to answer or attach.
    pub problems: Vec<Problem>,
    /// Why it was not submitted, when not a problem of the answers.
    pub message: Option<String>,
}

/// Submits every draft of the batch still to be submitted, each on its own (a draft with
/// problems is left as it is and reported; the others go). Retrying is safe: each draft is
/// keyed by its batch, id and the version of its answers.
pub async fn submit_all(app: &App, actor: &Actor, batch_id: &str) -> CoreResult<Vec<DraftOutcome>> {
    actor.require_can_submit()?;
    let mut tx = app.db.begin_read().await?;
    load_own(&mut tx, actor, batch_id).await?;
    let ids = batches::members(&mut tx, batch_id).await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for id in ids {
        let before = super::view::get(app, actor, &id).await?;
        if before.status != "draft" {
            out.push(DraftOutcome {
                filing_id: id,
                result: "already_submitted".into(),
                reference: before.reference,
                case_ids: Vec::new(),
                problems: Vec::new(),
                message: None,
            });
            continue;
        }
        let key = format!("batch-{batch_id}-{id}-{}", before.lock_version);
        let outcome = match super::submit(app, actor, &id, Some(&key)).await {
            Ok(o) => {
                let after = super::view::get(app, actor, &id).await?;
                DraftOutcome {
                    filing_id: id,
                    result: "submitted".into(),
                    reference: after.reference,
                    case_ids: o.case_ids,
                    problems: Vec::new(),
                    message: None,
                }
            }
            Err(CoreError::Validation(errors)) => DraftOutcome {
                filing_id: id,
                result: "not_submitted".into(),
                reference: None,
                case_ids: Vec::new(),
                problems: errors.into_iter().map(Into::into).collect(),
                message: None,
            },
            Err(CoreError::Conflict(message)) => DraftOutcome {
                filing_id: id,
                result: "not_submitted".into(),
                reference: None,
                case_ids: Vec::new(),
                problems: Vec::new(),
                message: Some(message),
            },
            Err(e) => return Err(e),
        };
        out.push(outcome);
    }
    Ok(out)
}

/// A batch in a list (マイページ, 一括申請).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchSummary {
    pub id: String,
    pub kind: String,
    pub procedure_title: String,
    pub created_at: String,
    /// What it is about: the changed values' labels, or the establishments' names.
    pub subject: String,
    pub drafts: usize,
    pub submitted: usize,
}

/// The corporation's recent batches of one kind, newest first.
pub async fn list(app: &App, actor: &Actor, kind: &str) -> CoreResult<Vec<BatchSummary>> {
    let corp = actor.require_provider()?;
    let mut tx = app.db.begin_read().await?;
    let rows = batches::batches_of(&mut tx, corp, kind, 20).await?;
    let mut out = Vec::new();
    for b in rows {
        let ids = batches::members(&mut tx, &b.id).await?;
        let mut submitted = 0;
        let mut names = Vec::new();
        for id in &ids {
            let f = madoguchi_db::filings::get_filing(&mut tx, id).await?;
            if f.status != "draft" {
                submitted += 1;
            }
            if b.kind == KIND_BULK {
                for e in madoguchi_db::filings::filing_establishments(&mut tx, id).await? {
                    names.push(
                        madoguchi_db::registry::get_establishment(&mut tx, &e)
                            .await?
                            .name,
                    );
                }
            }
        }
        let subject = if b.kind == KIND_CHANGE {
            let lines: Vec<ChangeLine> = serde_json::from_str(&b.summary).unwrap_or_default();
            let mut labels: Vec<String> = Vec::new();
            for l in lines {
                let text = format!("{}：{}", l.target_name, l.label);
                if !labels.contains(&text) {
                    labels.push(text);
                }
            }
            labels.join("、")
        } else {
            names.join("、")
        };
        out.push(BatchSummary {
            procedure_title: app
                .catalog
                .latest(&b.procedure_id)
                .map(|d| d.title.clone())
                .unwrap_or_else(|| b.procedure_id.clone()),
            id: b.id,
            kind: b.kind,
            created_at: format_ms_jst(b.created_at),
            subject,
            drafts: ids.len(),
            submitted,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Links an uploaded file to a requirement of one draft of the batch and, with
/// `also_others`, to every other draft of the batch that needs that document and has none
/// yet. Returns the ids of the filings it was linked to.
pub async fn attach(
    app: &App,
    actor: &Actor,
    batch_id: &str,
    filing_id: &str,
    requirement_id: &str,
    attachment_id: &str,
    also_others: bool,
) -> CoreResult<Vec<String>> {
    let ids = members(app, actor, batch_id).await?;
    if !ids.iter().any(|i| i == filing_id) {
        return Err(CoreError::NotFound);
    }
    super::link_attachment(app, actor, filing_id, attachment_id, requirement_id).await?;
    let mut linked = vec![filing_id.to_string()];
    if !also_others {
        return Ok(linked);
    }
    for other in ids.iter().filter(|i| *i != filing_id) {
        let f = super::view::get(app, actor, other).await?;
        let needs = f
            .problems
            .iter()
            .any(|p| p.field == format!("attachments.{requirement_id}"));
        if f.status == "draft" && needs {
            super::link_attachment(app, actor, other, attachment_id, requirement_id).await?;
            linked.push(other.clone());
        }
    }
    Ok(linked)
}
