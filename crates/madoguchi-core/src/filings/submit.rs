//! Submitting: the first submission fans a filing out into one case per authority concerned
//! (from the designations it touches); later submissions resubmit the returned cases. Each
//! submission freezes an immutable version. Honours an idempotency key: the same key from the
//! same user answers with the first outcome instead of submitting again.

use std::collections::BTreeMap;

use madoguchi_db::cases::{CaseEventRow, CaseRow};
use madoguchi_db::filings::{FilingRow, FilingVersionRow};
use madoguchi_db::{Tx, attachments, cases, filings, new_id, registry, users};
use madoguchi_domain::case::{CaseAction, CaseStatus, FilingStatus};
use madoguchi_domain::procedure::ProcedureDefinition;

use super::{definition_of, load_own, parse_data};
use crate::jobs::notify::{self, CaseNotice};
use crate::{Actor, App, CoreError, CoreResult};

/// What a submit call did.
#[derive(Clone, Debug)]
pub struct SubmitOutcome {
    pub filing_id: String,
    /// Ids of the cases created or resubmitted by this call.
    pub case_ids: Vec<String>,
    pub version_no: i64,
    /// True when the idempotency key had been used: nothing new was submitted.
    pub replayed: bool,
}

/// Submits (or resubmits) a filing.
pub async fn submit(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    idempotency_key: Option<&str>,
) -> CoreResult<SubmitOutcome> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let out = submit_in(app, &mut tx, actor, filing_id, idempotency_key, now).await?;
    if out.replayed {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        app.jobs_waker.notify_one();
    }
    Ok(out)
}

/// [`submit`] in the caller's transaction; the caller commits (and wakes the job worker)
/// unless the outcome is a replay.
pub(crate) async fn submit_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    filing_id: &str,
    idempotency_key: Option<&str>,
    now: i64,
) -> CoreResult<SubmitOutcome> {
    let f = load_own(tx, actor, filing_id).await?;
    actor.require_can_submit()?;
    if let Some(key) = idempotency_key {
        if key.is_empty() || key.len() > 200 {
            return Err(CoreError::field(
                "Idempotency-Key",
                "invalid",
                "Idempotency-Key は1〜200文字で指定してください。",
            ));
        }
        if let Some(previous) = filings::idempotency_lookup(tx, &actor.user_id, key).await? {
            if previous != filing_id {
                return Err(CoreError::Conflict(
                    "この Idempotency-Key は別の届出の提出に使われています。".into(),
                ));
            }
            let version_no = filings::next_version_no(tx, filing_id).await? - 1;
            return Ok(SubmitOutcome {
                filing_id: filing_id.into(),
                case_ids: Vec::new(),
                version_no,
                replayed: true,
            });
        }
    }
    let def = definition_of(app, &f)?;
    let mut data = parse_data(&f.data)?;
    let ests = filings::filing_establishments(tx, filing_id).await?;
    let linked = attachments::of_filing(tx, filing_id).await?;
    let present: Vec<String> = linked.iter().map(|a| a.requirement_id.clone()).collect();
    // The union of what every authority concerned asks (their local rules included).
    let to = super::addressees(app, tx, &f, def, &data, &ests).await?;
    let merged = to.merged(app, def);
    // Answers to fields an authority has since removed from its local rules are ignored.
    super::drop_retired_answers(&merged, &mut data, None, &ests);
    let mut errors = merged.validate(&data, &ests);
    errors.extend(merged.missing_attachments(&data, &present));
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let version_no = filings::next_version_no(tx, filing_id).await?;
    let version_id = new_id();
    let attachment_refs: Vec<_> = linked.iter().map(|a| serde_json::json!({ "attachment_id": a.attachment_id, "requirement_id": a.requirement_id })).collect();
    filings::insert_version(
        tx,
        &FilingVersionRow {
            id: version_id.clone(),
            filing_id: filing_id.into(),
            version_no,
            data: f.data.clone(),
            attachments: serde_json::Value::Array(attachment_refs).to_string(),
            establishments: serde_json::to_string(&ests)?,
            created_by: actor.user_id.clone(),
            created_at: now,
        },
    )
    .await?;
    let case_ids = match FilingStatus::parse(&f.status) {
        Some(FilingStatus::Draft) => {
            first_submission(app, tx, actor, &f, def, &data, to, &version_id, now).await?
        }
        Some(FilingStatus::Submitted) => {
            resubmission(app, tx, actor, &f, def, &version_id, now).await?
        }
        _ => {
            return Err(CoreError::Conflict(
                "取り下げた届出は提出できません。".into(),
            ));
        }
    };
    if let Some(key) = idempotency_key {
        filings::idempotency_record(tx, &actor.user_id, key, filing_id, now).await?;
    }
    madoguchi_db::audit::append(
        tx,
        now,
        &actor.user_id,
        "filing.submitted",
        "filing",
        filing_id,
        &serde_json::json!({ "version": version_no, "cases": case_ids }),
    )
    .await?;
    Ok(SubmitOutcome {
        filing_id: filing_id.into(),
        case_ids,
        version_no,
        replayed: false,
    })
}

/// Takes the next 到達番号 of the day (`YYYYMMDD-NNNNNN`) in the caller's transaction:
/// gap-free among committed submissions. This locks the day's counter row until commit (on
/// PostgreSQL a lock every submission of the day waits for), so it is taken as late as the
/// cases need it. The audit chain's head is locked only at commit, after it, so the two are
/// always taken in the same order.
async fn take_reference(app: &App, tx: &mut Tx) -> CoreResult<String> {
    let day = crate::clock::today_jst(app.clock.as_ref())
        .format("%Y%m%d")
        .to_string();
    let seq = filings::next_counter(tx, &format!("reference-{day}")).await?;
    Ok(format!("{day}-{seq:06}"))
}

async fn first_submission(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    f: &FilingRow,
    def: &ProcedureDefinition,
    data: &madoguchi_domain::procedure::FilingData,
    to: super::Addressees,
    version_id: &str,
    now: i64,
) -> CoreResult<Vec<String>> {
    let due: BTreeMap<String, Option<String>> = to
        .by_authority
        .keys()
        .map(|code| (code.clone(), to.due_on(app, def, data, code)))
        .collect();
    let groups = to.by_authority;
    if groups.is_empty() {
        return Err(CoreError::field(
            "establishment_ids",
            "no_designation",
            "選んだ事業所には指定がないため、提出先の自治体が決まりません。事業所の指定内容をご確認ください。",
        ));
    }
    let reference = take_reference(app, tx).await?;
    let corp = registry::get_corporation(tx, &f.corporation_id).await?;
    let mut case_ids = Vec::new();
    for (i, (authority_code, designations)) in groups.into_iter().enumerate() {
        let case_id = new_id();
        let case_ref = format!("{reference}-{:02}", i + 1);
        cases::insert_case(
            tx,
            &CaseRow {
                id: case_id.clone(),
                filing_id: f.id.clone(),
                corporation_id: f.corporation_id.clone(),
                authority_code: authority_code.clone(),
                procedure_id: f.procedure_id.clone(),
                status: CaseStatus::Submitted.as_str().into(),
                current_version_id: version_id.into(),
                reference: case_ref.clone(),
                assignee_id: None,
                submitted_at: now,
                updated_at: now,
                decided_at: None,
                due_on: due.get(&authority_code).cloned().flatten(),
            },
        )
        .await?;
        for d in &designations {
            cases::insert_case_designation(tx, &case_id, &d.id).await?;
        }
        // The inbox's search text and service types (authority workspace).
        crate::cases::listing::record(
            app,
            tx,
            &case_id,
            &case_ref,
            &authority_code,
            def,
            data,
            &f.id,
            &corp,
            &designations,
        )
        .await?;
        record_event(tx, &case_id, "submitted", actor, now, Some(version_id), "").await?;
        madoguchi_db::audit::append(tx, now, &actor.user_id, "case.submitted", "case", &case_id, &serde_json::json!({ "authority": authority_code, "version_id": version_id, "reference": case_ref })).await?;
        notify_authority(
            app,
            tx,
            &authority_code,
            &case_id,
            &case_ref,
            def,
            &corp.name,
            false,
        )
        .await?;
        case_ids.push(case_id);
    }
    filings::set_filing_status(
        tx,
        &f.id,
        FilingStatus::Submitted.as_str(),
        Some(&reference),
        Some(now),
        now,
    )
    .await?;
    Ok(case_ids)
}

async fn resubmission(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    f: &FilingRow,
    def: &ProcedureDefinition,
    version_id: &str,
    now: i64,
) -> CoreResult<Vec<String>> {
    let returned: Vec<CaseRow> = cases::cases_of_filing(tx, &f.id)
        .await?
        .into_iter()
        .filter(|c| c.status == CaseStatus::Returned.as_str())
        .collect();
    if returned.is_empty() {
        return Err(CoreError::Conflict(
            "この届出は提出済みです。差戻しを受けた場合にだけ再提出できます。".into(),
        ));
    }
    // Every pinned item of every open return must be changed or answered (回答).
    let answered = super::replies::check_and_record(app, tx, actor, f, version_id, now).await?;
    let corp = registry::get_corporation(tx, &f.corporation_id).await?;
    let from: Vec<&str> = CaseStatus::sources(CaseAction::Resubmit)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let mut ids = Vec::new();
    for c in returned {
        cases::transition(
            tx,
            &c.id,
            &from,
            CaseStatus::target(CaseAction::Resubmit).as_str(),
            Some(version_id),
            None,
            now,
        )
        .await?;
        let summary = answered.get(&c.id).map(String::as_str).unwrap_or("");
        record_event(
            tx,
            &c.id,
            "resubmitted",
            actor,
            now,
            Some(version_id),
            summary,
        )
        .await?;
        madoguchi_db::audit::append(
            tx,
            now,
            &actor.user_id,
            "case.resubmitted",
            "case",
            &c.id,
            &serde_json::json!({ "version_id": version_id }),
        )
        .await?;
        notify_authority(
            app,
            tx,
            &c.authority_code,
            &c.id,
            &c.reference,
            def,
            &corp.name,
            true,
        )
        .await?;
        ids.push(c.id);
    }
    Ok(ids)
}

/// Appends a provider-visible event to a case.
pub(crate) async fn record_event(
    tx: &mut Tx,
    case_id: &str,
    kind: &str,
    actor: &Actor,
    now: i64,
    version_id: Option<&str>,
    message: &str,
) -> CoreResult<()> {
    cases::insert_event(
        tx,
        &CaseEventRow {
            id: new_id(),
            case_id: case_id.into(),
            kind: kind.into(),
            visibility: "provider".into(),
            actor_id: actor.user_id.clone(),
            at: now,
            version_id: version_id.map(Into::into),
            message: message.into(),
            fields: "[]".into(),
            attachments: "[]".into(),
        },
    )
    .await?;
    Ok(())
}

/// Enqueues the arrival notice to an authority's staff.
pub(crate) async fn notify_authority(
    app: &App,
    tx: &mut Tx,
    authority_code: &str,
    case_id: &str,
    reference: &str,
    def: &ProcedureDefinition,
    corporation_name: &str,
    resubmitted: bool,
) -> CoreResult<()> {
    let authority = registry::get_authority(tx, authority_code).await?;
    let mut to = users::authority_staff_emails(tx, authority_code).await?;
    if !authority.email.is_empty() && !to.contains(&authority.email) {
        to.insert(0, authority.email.clone());
    }
    let url = format!("{}/cases/{case_id}", app.config.base_url);
    let mail = notify::submitted_to_authority(
        to,
        &CaseNotice {
            reference,
            procedure_title: &def.title,
            corporation_name,
            authority_name: &authority.name,
            case_url: &url,
        },
        resubmitted,
    );
    let key = format!(
        "mail:{case_id}:{}:{reference}",
        if resubmitted {
            "resubmitted"
        } else {
            "submitted"
        }
    );
    crate::jobs::enqueue_mail(app, tx, &mail, if resubmitted { None } else { Some(&key) }).await
}
