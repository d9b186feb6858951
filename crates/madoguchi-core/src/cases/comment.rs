//! Comments on a case: authority staff write internal hand-over notes (never shown to the
//! provider) or messages to the provider; providers write messages to the authority.

use madoguchi_db::cases::CaseEventRow;
use madoguchi_db::{DbError, cases, new_id};

use crate::{Actor, App, CoreError, CoreResult};

/// Adds a comment; `internal` is allowed for authority staff only. Returns the event id.
pub async fn comment(
    app: &App,
    actor: &Actor,
    case_id: &str,
    message: &str,
    internal: bool,
) -> CoreResult<String> {
    let message = message.trim();
    if message.is_empty() {
        return Err(CoreError::field(
            "message",
            "required",
            "コメントを入力してください。",
        ));
    }
    if message.chars().count() > 4000 {
        return Err(CoreError::field(
            "message",
            "too_long",
            "コメントは4000文字以内で入力してください。",
        ));
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let c = match cases::get_case(&mut tx, case_id).await {
        Ok(c) => c,
        Err(DbError::NotFound) => return Err(CoreError::NotFound),
        Err(e) => return Err(e.into()),
    };
    crate::policy::may_comment_case(actor, &c.authority_code, &c.corporation_id)?;
    let is_staff = actor.authority_code() == Some(c.authority_code.as_str());
    if internal && !is_staff {
        return Err(CoreError::field(
            "internal",
            "forbidden",
            "内部メモは自治体の担当者だけが書けます。",
        ));
    }
    let id = new_id();
    cases::insert_event(
        &mut tx,
        &CaseEventRow {
            id: id.clone(),
            case_id: case_id.into(),
            kind: if internal { "internal_note" } else { "comment" }.into(),
            visibility: if internal { "internal" } else { "provider" }.into(),
            actor_id: actor.user_id.clone(),
            at: now,
            version_id: Some(c.current_version_id.clone()),
            message: message.into(),
            fields: "[]".into(),
            attachments: "[]".into(),
        },
    )
    .await?;
    // The note's text stays out of the audit details: the chain is readable by operators.
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        if internal {
            "case.internal_note"
        } else {
            "case.comment"
        },
        "case",
        case_id,
        &serde_json::json!({ "event": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
