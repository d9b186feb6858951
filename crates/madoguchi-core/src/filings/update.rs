//! Saving answers: the working copy of a draft, or of a filing with returned cases being
//! corrected. Incomplete answers are fine here (drafts are saved as typed); only answers to
//! fields the form does not have are refused. Submission is where completeness is checked.

use madoguchi_db::{cases, filings};
use madoguchi_domain::case::{CaseStatus, FilingStatus};
use madoguchi_domain::procedure::FilingData;

use super::{definition_of, load_own};
use crate::{Actor, App, CoreError, CoreResult};

/// Replaces the working answers. `expected_lock` (the `lock_version` the client read) guards
/// against overwriting someone else's save; `None` skips the check.
pub async fn update(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    data: FilingData,
    expected_lock: Option<i64>,
) -> CoreResult<()> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    update_in(app, &mut tx, actor, filing_id, data, expected_lock, now).await?;
    tx.commit().await?;
    Ok(())
}

/// [`update`] in the caller's transaction (a batch saves several drafts at once).
pub(crate) async fn update_in(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    actor: &Actor,
    filing_id: &str,
    mut data: FilingData,
    expected_lock: Option<i64>,
    now: i64,
) -> CoreResult<()> {
    let f = load_own(tx, actor, filing_id).await?;
    let editable = match FilingStatus::parse(&f.status) {
        Some(FilingStatus::Draft) => true,
        Some(FilingStatus::Submitted) => cases::cases_of_filing(tx, filing_id)
            .await?
            .iter()
            .any(|c| c.status == CaseStatus::Returned.as_str()),
        _ => false,
    };
    if !editable {
        return Err(CoreError::Conflict(
            "提出済みの届出は、差戻しを受けたときだけ修正できます。".into(),
        ));
    }
    let standard = definition_of(app, &f)?;
    let ids = filings::filing_establishments(tx, filing_id).await?;
    data.establishments.retain(|k, _| ids.contains(k));
    // The form includes the local rules of every authority the filing goes to.
    let to = super::addressees(app, tx, &f, standard, &data, &ids).await?;
    let def = &to.merged(app, standard);
    // Answers to fields an authority has since removed from its local rules go quietly.
    super::drop_retired_answers(def, &mut data, Some(&super::parse_data(&f.data)?), &ids);
    super::create::reject_unknown(def, &data, &ids)?;
    def.normalize(&mut data);
    let lock = expected_lock.unwrap_or(f.lock_version);
    filings::update_filing_data(tx, filing_id, &serde_json::to_string(&data)?, lock, now)
        .await
        .map_err(|e| {
            match e {
        madoguchi_db::DbError::Conflict { .. } => CoreError::Conflict(
            "ほかの画面や端末で先に保存されました。最新の内容を開き直してから修正してください。"
                .into(),
        ),
        other => other.into(),
    }
        })?;
    madoguchi_db::audit::append(
        tx,
        now,
        &actor.user_id,
        "filing.updated",
        "filing",
        filing_id,
        &serde_json::json!({ "lock_version": lock + 1 }),
    )
    .await?;
    Ok(())
}
