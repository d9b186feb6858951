//! Returning (差戻し): the reviewer sends the case back with a message to the provider,
//! optionally pinning fields and attaching files; the provider corrects and resubmits.

use madoguchi_db::cases::CaseEventRow;
use madoguchi_db::{attachments, cases, filings, new_id};
use madoguchi_domain::case::{CaseAction, CaseStatus};

use super::{load_for_staff, notice_facts};
use crate::jobs::notify;
use crate::{Actor, App, CoreError, CoreResult};

/// A return: the message to the provider, the fields it is about, files sent with it.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReturnRequest {
    /// Message to the provider (required): what to correct and why.
    pub message: String,
    /// Field paths the message is about, e.g. `fields.representative_name`.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Ids of files (uploaded by this authority) sent with the return.
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

/// The message, checked: required, at most 4,000 characters.
fn checked_message(req: &ReturnRequest) -> CoreResult<&str> {
    let message = req.message.trim();
    if message.is_empty() {
        return Err(CoreError::field(
            "message",
            "required",
            "差戻しの理由（事業者へのメッセージ）を入力してください。",
        ));
    }
    if message.chars().count() > 4000 {
        return Err(CoreError::field(
            "message",
            "too_long",
            "メッセージは4000文字以内で入力してください。",
        ));
    }
    Ok(message)
}

/// The definition this authority reviews with (its local rules included) and the labels of
/// the pinned fields; refuses unknown fields and files that are not this authority's.
async fn checked_pins(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    c: &madoguchi_db::cases::CaseRow,
    req: &ReturnRequest,
) -> CoreResult<(
    madoguchi_domain::procedure::ProcedureDefinition,
    Vec<String>,
)> {
    let f = filings::get_filing(tx, &c.filing_id).await?;
    let standard = app
        .catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| CoreError::Internal("procedure missing".into()))?;
    // The reviewer may pin what this authority's local rules add, too (as they stood when
    // the version under review arrived).
    let version = filings::get_version(tx, &c.current_version_id).await?;
    let rules = crate::local_rules::in_force_for_case(
        app,
        tx,
        &c.authority_code,
        &standard.id,
        version.created_at,
    )
    .await?;
    let def = standard.with_local_rules(&rules, &|_| None);
    let mut labels = Vec::new();
    for path in &req.fields {
        match field_label(&def, path) {
            Some(l) => labels.push(l),
            None => {
                return Err(CoreError::field(
                    "fields",
                    "unknown_field",
                    format!("「{path}」はこの手続の項目ではありません。"),
                ));
            }
        }
    }
    for id in &req.attachment_ids {
        let a = attachments::get_attachment(tx, id).await.map_err(|_| {
            CoreError::field(
                "attachment_ids",
                "unknown_attachment",
                "添付するファイルが見つかりません。",
            )
        })?;
        if a.authority_code.as_deref() != Some(c.authority_code.as_str()) {
            return Err(CoreError::field(
                "attachment_ids",
                "unknown_attachment",
                "添付するファイルが見つかりません。",
            ));
        }
    }
    Ok((def, labels))
}

/// Checks a return as [`return_case`] would, changing nothing (for the confirmation page):
/// the labels of the pinned fields, or the first problem. A case that cannot be returned
/// now (already decided) is a `Conflict`.
pub async fn check_return(
    app: &App,
    actor: &Actor,
    case_id: &str,
    req: &ReturnRequest,
) -> CoreResult<Vec<String>> {
    checked_message(req)?;
    let mut tx = app.db.begin_read().await?;
    let c = load_for_staff(&mut tx, actor, case_id).await?;
    let (_, labels) = checked_pins(app, &mut tx, &c, req).await?;
    tx.commit().await?;
    if !CaseStatus::parse(&c.status).is_some_and(|s| s.allows(CaseAction::Return)) {
        return Err(CoreError::Conflict(
            "この案件は差し戻せる状態ではありません（すでに処理されています）。画面を更新してください。".into(),
        ));
    }
    Ok(labels)
}

/// Returns a case to the provider.
pub async fn return_case(
    app: &App,
    actor: &Actor,
    case_id: &str,
    req: ReturnRequest,
) -> CoreResult<()> {
    let message = checked_message(&req)?;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let c = load_for_staff(&mut tx, actor, case_id).await?;
    let (def, labels) = checked_pins(app, &mut tx, &c, &req).await?;
    let from: Vec<&str> = CaseStatus::sources(CaseAction::Return)
        .iter()
        .map(|s| s.as_str())
        .collect();
    cases::transition(&mut tx, case_id, &from, CaseStatus::Returned.as_str(), None, None, now)
        .await
        .map_err(|e| match e {
            madoguchi_db::DbError::Conflict { .. } => CoreError::Conflict("この案件は差し戻せる状態ではありません（すでに処理されています）。画面を更新してください。".into()),
            other => other.into(),
        })?;
    let event_id = new_id();
    cases::insert_event(
        &mut tx,
        &CaseEventRow {
            id: event_id.clone(),
            case_id: case_id.into(),
            kind: "returned".into(),
            visibility: "provider".into(),
            actor_id: actor.user_id.clone(),
            at: now,
            version_id: Some(c.current_version_id.clone()),
            message: message.into(),
            fields: serde_json::to_string(&req.fields)?,
            attachments: serde_json::to_string(&req.attachment_ids)?,
        },
    )
    .await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "case.returned",
        "case",
        case_id,
        &serde_json::json!({ "fields": req.fields, "attachments": req.attachment_ids }),
    )
    .await?;
    // Ledger linkage (issue #6): the return enters the authority's changes feed.
    crate::ledger::feed::record_decision(
        app,
        &mut tx,
        &c,
        crate::ledger::feed::Decision::Returned,
        now,
    )
    .await?;
    // Every user of the corporation is notified (in-app, and by e-mail as each prefers).
    let facts = notice_facts(app, &mut tx, &c, &def.title).await?;
    let mail =
        notify::returned_to_provider(Vec::new(), &facts.notice(&c.reference), message, &labels);
    let notice = crate::notifications::Notice {
        kind: "case_returned",
        title: format!(
            "「{}」が{}から差し戻されました",
            def.title, facts.authority_name
        ),
        body: if labels.is_empty() {
            format!(
                "到達番号 {}。{}からのメッセージ：{message}",
                c.reference, facts.authority_name
            )
        } else {
            format!(
                "到達番号 {}。{}からのメッセージ：{message}（修正をお願いする項目：{}）",
                c.reference,
                facts.authority_name,
                labels.join("、")
            )
        },
        href: format!("/filings/{}", facts.filing_id),
        dedupe_key: format!("case:{case_id}:returned:{event_id}"),
    };
    crate::notifications::notify_corporation(
        app,
        &mut tx,
        &c.corporation_id,
        &notice,
        Some(mail),
        &facts.org_emails,
        None,
    )
    .await?;
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(())
}

/// The label of a field path (`fields.<id>`, `establishments.<est>.<id>`, or inside a
/// repeating group `….<group>.<index>.<id>` → 「協力医療機関 2：名称」, or the group itself
/// `….<group>` → 「協力医療機関」), if the procedure has that field.
pub fn field_label(
    def: &madoguchi_domain::procedure::ProcedureDefinition,
    path: &str,
) -> Option<String> {
    let rest = if let Some(rest) = path.strip_prefix("fields.") {
        rest
    } else if let Some(rest) = path.strip_prefix("establishments.") {
        rest.split_once('.')?.1
    } else if let Some(rest) = path.strip_prefix("attachments.") {
        return def.attachment(rest).map(|a| a.label.clone());
    } else {
        return None;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let repeating = |id: &str| {
        def.groups
            .iter()
            .find(|g| g.id == id)
            .and_then(|g| g.repeat.as_ref().map(|r| (g, r)))
    };
    match parts.as_slice() {
        [id] => def
            .field(id)
            .map(|(_, f)| f.label.clone())
            .or_else(|| repeating(id).map(|(_, r)| r.item_label.clone())),
        [group, index, id] => {
            let (g, r) = repeating(group)?;
            let n: usize = index.parse().ok()?;
            let f = g.fields.iter().find(|f| f.id == *id)?;
            Some(format!("{} {}：{}", r.item_label, n + 1, f.label))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::field_label;

    #[test]
    fn labels_name_rows_of_repeating_groups() {
        let catalog = crate::catalog::embedded_catalog().unwrap();
        let def = catalog.latest("designation-application").unwrap();
        assert_eq!(
            field_label(def, "establishments.e1.tf_medical.1.tf_medical_name").as_deref(),
            Some("協力医療機関 2：協力医療機関の名称")
        );
        assert_eq!(
            field_label(def, "establishments.e1.tf_medical").as_deref(),
            Some("協力医療機関")
        );
        assert_eq!(field_label(def, "fields.no_such_field"), None);
        assert_eq!(
            field_label(def, "establishments.e1.tf_medical.x.tf_medical_name"),
            None
        );
    }
}
