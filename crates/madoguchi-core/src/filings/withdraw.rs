//! Withdrawing (取下げ): the provider takes back every case not yet decided; each authority
//! concerned is told. A draft is simply marked withdrawn.

use madoguchi_db::{cases, filings, registry, users};
use madoguchi_domain::case::{CaseAction, CaseStatus, FilingStatus};

use super::{definition_of, load_own};
use crate::jobs::notify::{self, CaseNotice};
use crate::{Actor, App, CoreError, CoreResult};

/// The withdrawal reason as it will be recorded (trimmed), or why it is refused. The
/// confirmation page checks with this before asking to confirm.
pub fn check_reason(reason: &str) -> CoreResult<&str> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CoreError::field(
            "reason",
            "required",
            "取下げの理由を入力してください。",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(CoreError::field(
            "reason",
            "too_long",
            "取下げの理由は2000文字以内で入力してください。",
        ));
    }
    Ok(reason)
}

/// Withdraws a filing's open cases with a reason; returns the ids of the withdrawn cases.
pub async fn withdraw(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    reason: &str,
) -> CoreResult<Vec<String>> {
    let reason = check_reason(reason)?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    actor.require_can_submit()?;
    let def = definition_of(app, &f)?;
    let all = cases::cases_of_filing(&mut tx, filing_id).await?;
    let from: Vec<&str> = CaseStatus::sources(CaseAction::Withdraw)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let open: Vec<_> = all
        .iter()
        .filter(|c| from.contains(&c.status.as_str()))
        .collect();
    if f.status == FilingStatus::Withdrawn.as_str()
        || (f.status == FilingStatus::Submitted.as_str() && open.is_empty())
    {
        return Err(CoreError::Conflict(
            "取り下げられる手続がありません（受付完了または取下げ済みです）。".into(),
        ));
    }
    let corp = registry::get_corporation(&mut tx, &f.corporation_id).await?;
    let mut ids = Vec::new();
    for c in open {
        cases::transition(
            &mut tx,
            &c.id,
            &from,
            CaseStatus::Withdrawn.as_str(),
            None,
            Some(now),
            now,
        )
        .await?;
        super::submit::record_event(&mut tx, &c.id, "withdrawn", actor, now, None, reason).await?;
        madoguchi_db::audit::append(
            &mut tx,
            now,
            &actor.user_id,
            "case.withdrawn",
            "case",
            &c.id,
            &serde_json::json!({ "reason": reason }),
        )
        .await?;
        let authority = registry::get_authority(&mut tx, &c.authority_code).await?;
        let mut to = users::authority_staff_emails(&mut tx, &c.authority_code).await?;
        if !authority.email.is_empty() && !to.contains(&authority.email) {
            to.insert(0, authority.email.clone());
        }
        let url = format!("{}/cases/{}", app.config.base_url, c.id);
        let mail = notify::withdrawn_to_authority(
            to,
            &CaseNotice {
                reference: &c.reference,
                procedure_title: &def.title,
                corporation_name: &corp.name,
                authority_name: &authority.name,
                case_url: &url,
            },
            reason,
        );
        crate::jobs::enqueue_mail(
            app,
            &mut tx,
            &mail,
            Some(&format!("mail:{}:withdrawn", c.id)),
        )
        .await?;
        ids.push(c.id.clone());
    }
    let any_accepted = all
        .iter()
        .any(|c| c.status == CaseStatus::Accepted.as_str());
    if !any_accepted {
        filings::set_filing_status(
            &mut tx,
            filing_id,
            FilingStatus::Withdrawn.as_str(),
            None,
            None,
            now,
        )
        .await?;
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "filing.withdrawn",
        "filing",
        filing_id,
        &serde_json::json!({ "cases": ids, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(ids)
}
