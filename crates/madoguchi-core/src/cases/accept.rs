//! Accepting (受付完了): the case moves from submitted to accepted exactly once (a second
//! reviewer's accept gets a conflict), the accepted version's registry effects are applied to
//! the records this case concerns, and the provider is told.

use madoguchi_db::{cases, filings};
use madoguchi_domain::case::{CaseAction, CaseStatus};

use super::{load_for_staff, notice_facts};
use crate::jobs::notify;
use crate::{Actor, App, CoreError, CoreResult};

/// Accepts a case; returns how many registry values changed.
pub async fn accept(app: &App, actor: &Actor, case_id: &str) -> CoreResult<usize> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let c = load_for_staff(&mut tx, actor, case_id).await?;
    let from: Vec<&str> = CaseStatus::sources(CaseAction::Accept)
        .iter()
        .map(|s| s.as_str())
        .collect();
    cases::transition(
        &mut tx,
        case_id,
        &from,
        CaseStatus::Accepted.as_str(),
        None,
        Some(now),
        now,
    )
    .await
    .map_err(|e| match e {
        madoguchi_db::DbError::Conflict { .. } => CoreError::Conflict(format!(
            "この案件はすでに処理されています（現在の状態: {}）。画面を更新してください。",
            CaseStatus::parse(&c.status)
                .map(|s| s.label())
                .unwrap_or("不明")
        )),
        other => other.into(),
    })?;
    let f = filings::get_filing(&mut tx, &c.filing_id).await?;
    let def = app
        .catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| {
            CoreError::Internal(format!(
                "procedure {}@{} missing",
                f.procedure_id, f.procedure_version
            ))
        })?;
    let version = filings::get_version(&mut tx, &c.current_version_id).await?;
    let data = crate::filings::parse_data(&version.data)?;
    let covered: Vec<String> = serde_json::from_str(&version.establishments)?;
    // Establishment effects apply to the establishments this authority's designations cover.
    let scope: Vec<String> = cases::case_designations(&mut tx, case_id)
        .await?
        .into_iter()
        .map(|d| d.establishment_id)
        .filter(|e| covered.contains(e))
        .collect();
    let effects = def.effects(&data, &covered);
    let changed = crate::registry::apply_effects(
        &mut tx,
        &c.corporation_id,
        &effects,
        &scope,
        case_id,
        &c.authority_code,
        now,
    )
    .await?;
    let mut changed = changed;
    if let (Some(designates), Some(annexes)) = (&def.designates, &def.annexes) {
        let services = data.choices(&annexes.field);
        changed += designate(
            app,
            &mut tx,
            designates,
            &services,
            &data,
            &covered,
            &c.id,
            &c.authority_code,
            now,
        )
        .await?;
    }
    if let Some(renewal) = &def.renews {
        changed +=
            renew_designations(&mut tx, renewal, &data, case_id, &c.authority_code, now).await?;
    }
    crate::filings::submit::record_event(
        &mut tx,
        case_id,
        "accepted",
        actor,
        now,
        Some(&c.current_version_id),
        "",
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "case.accepted",
        "case",
        case_id,
        &serde_json::json!({ "version_id": c.current_version_id, "registry_changes": changed }),
    )
    .await?;
    // Ledger linkage (issue #6): the decision and its registry changes enter the changes
    // feeds (and their webhook deliveries) in this transaction.
    crate::ledger::feed::record_decision(
        app,
        &mut tx,
        &c,
        crate::ledger::feed::Decision::Accepted,
        now,
    )
    .await?;
    // Every user of the corporation is notified (in-app, and by e-mail as each prefers).
    let facts = notice_facts(app, &mut tx, &c, &def.title).await?;
    let mail = notify::accepted_to_provider(Vec::new(), &facts.notice(&c.reference));
    let notice = crate::notifications::Notice {
        kind: "case_accepted",
        title: format!(
            "「{}」が{}で受け付けられました",
            def.title, facts.authority_name
        ),
        body: format!(
            "到達番号 {}。{}での受付が完了し、届け出た内容は登録情報に反映されています。",
            c.reference, facts.authority_name
        ),
        href: format!("/filings/{}", facts.filing_id),
        dedupe_key: format!("case:{case_id}:accepted"),
    };
    crate::notifications::notify_corporation(
        app,
        &mut tx,
        &c.corporation_id,
        &notice,
        Some(mail),
        &facts.org_emails,
        Some(&format!("mail:{case_id}:accepted")),
    )
    .await?;
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(changed)
}

/// 指定更新: each designation of this case for a renewed service gets its next period (from
/// the day after it ends, for the definition's number of years), recorded as registry changes
/// so the ledger feed carries them. Returns how many values changed.
async fn renew_designations(
    tx: &mut madoguchi_db::Tx,
    renewal: &madoguchi_domain::procedure::Renewal,
    data: &madoguchi_domain::procedure::FilingData,
    case_id: &str,
    authority_code: &str,
    now: i64,
) -> CoreResult<usize> {
    let services = renewal.services(data);
    let mut changed = 0;
    for d in cases::case_designations(tx, case_id).await? {
        if d.authority_code != authority_code || !services.contains(&d.service_code) {
            continue;
        }
        let until = chrono::NaiveDate::parse_from_str(&d.valid_until, "%Y-%m-%d")
            .map_err(|e| CoreError::Internal(format!("designation {}: {e}", d.id)))?;
        let (from, until) = renewal
            .next_period(until)
            .ok_or_else(|| CoreError::Internal(format!("designation {}: no next period", d.id)))?;
        let (from, until) = (from.to_string(), until.to_string());
        madoguchi_db::registry::set_designation_period(tx, &d.id, &from, &until).await?;
        for (key, old, new) in [
            ("valid_from", &d.valid_from, &from),
            ("valid_until", &d.valid_until, &until),
        ] {
            madoguchi_db::registry::insert_registry_change(
                tx,
                case_id,
                authority_code,
                "designation",
                &d.id,
                key,
                &serde_json::Value::String(old.clone()),
                &serde_json::Value::String(new.clone()),
                now,
            )
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// 指定申請: each service applied for that this case's authority designates at a covered
/// establishment becomes a designation from the start date, for the definition's years
/// (a service already designated there is left as it is). Recorded as registry changes and
/// linked to the case.
#[allow(clippy::too_many_arguments)]
async fn designate(
    app: &crate::App,
    tx: &mut madoguchi_db::Tx,
    designates: &madoguchi_domain::procedure::Designates,
    services: &[String],
    data: &madoguchi_domain::procedure::FilingData,
    establishments: &[String],
    case_id: &str,
    authority_code: &str,
    now: i64,
) -> CoreResult<usize> {
    let Some(start) = data
        .fields
        .get(&designates.start_field)
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    else {
        return Ok(0);
    };
    let (from, until) = madoguchi_domain::procedure::designation_period(start, designates.years)
        .ok_or_else(|| CoreError::Internal("designation period out of the calendar".into()))?;
    let mut changed = 0;
    for e in establishments {
        let existing = madoguchi_db::registry::designations_of_establishment(tx, e).await?;
        for service in services {
            let designator = crate::filings::designator(app, tx, e, service).await?;
            if designator.as_deref() != Some(authority_code)
                || existing.iter().any(|d| &d.service_code == service)
            {
                continue;
            }
            let row = madoguchi_db::registry::DesignationRow {
                id: madoguchi_db::new_id(),
                establishment_id: e.clone(),
                service_code: service.clone(),
                authority_code: authority_code.to_owned(),
                valid_from: from.to_string(),
                valid_until: until.to_string(),
            };
            madoguchi_db::registry::insert_designation(tx, &row).await?;
            cases::insert_case_designation(tx, case_id, &row.id).await?;
            for (key, value) in [
                ("service_code", &row.service_code),
                ("valid_from", &row.valid_from),
                ("valid_until", &row.valid_until),
            ] {
                madoguchi_db::registry::insert_registry_change(
                    tx,
                    case_id,
                    authority_code,
                    "designation",
                    &row.id,
                    key,
                    &serde_json::Value::Null,
                    &serde_json::Value::String(value.clone()),
                    now,
                )
                .await?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}
