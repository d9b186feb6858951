//! Assigning (担当者の割当て): a case of the authority goes to one of its active staff, or to
//! nobody. The hand-over is recorded as an internal event (never shown to the provider).

use madoguchi_db::cases::CaseEventRow;
use madoguchi_db::{cases, inbox, new_id};
use madoguchi_domain::case::CaseStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::load_for_staff;
use crate::{Actor, App, CoreError, CoreResult};

/// A colleague a case can be assigned to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Colleague {
    pub id: String,
    pub display_name: String,
}

/// The active reviewers and admins of the actor's authority, by name.
pub async fn colleagues(app: &App, actor: &Actor) -> CoreResult<Vec<Colleague>> {
    let authority = actor.require_authority_staff()?;
    let mut tx = app.db.begin_read().await?;
    let staff = inbox::authority_staff(&mut tx, authority).await?;
    tx.commit().await?;
    Ok(staff
        .into_iter()
        .map(|(id, display_name)| Colleague { id, display_name })
        .collect())
}

/// Whom to assign.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// A colleague's user id; `null` leaves the case unassigned.
    pub assignee_id: Option<String>,
}

/// Assigns a case to a colleague of the same authority (or to nobody). Assigning it to whom
/// it already has changes nothing. Finished cases (accepted, withdrawn) keep their assignee.
pub async fn assign(
    app: &App,
    actor: &Actor,
    case_id: &str,
    assignee_id: Option<&str>,
) -> CoreResult<()> {
    let assignee_id = assignee_id.map(str::trim).filter(|s| !s.is_empty());
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let c = load_for_staff(&mut tx, actor, case_id).await?;
    if c.assignee_id.as_deref() == assignee_id {
        tx.rollback().await?;
        return Ok(());
    }
    if CaseStatus::parse(&c.status).is_some_and(CaseStatus::is_final) {
        return Err(CoreError::Conflict(
            "処理が終わった案件には担当者を割り当てられません。".into(),
        ));
    }
    let message = match assignee_id {
        Some(id) => {
            let staff = inbox::authority_staff(&mut tx, &c.authority_code).await?;
            let Some((_, name)) = staff.iter().find(|(sid, _)| sid == id) else {
                return Err(CoreError::field(
                    "assignee_id",
                    "unknown_colleague",
                    "担当者には、同じ自治体の職員を選んでください。",
                ));
            };
            format!("担当者を{name}さんにしました。")
        }
        None => "担当者の割当てを外しました。".to_owned(),
    };
    cases::set_assignee(&mut tx, case_id, assignee_id, now).await?;
    cases::insert_event(
        &mut tx,
        &CaseEventRow {
            id: new_id(),
            case_id: case_id.into(),
            kind: "assigned".into(),
            visibility: "internal".into(),
            actor_id: actor.user_id.clone(),
            at: now,
            version_id: Some(c.current_version_id.clone()),
            message,
            fields: "[]".into(),
            attachments: "[]".into(),
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "case.assigned",
        "case",
        case_id,
        &serde_json::json!({ "from": c.assignee_id, "to": assignee_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
