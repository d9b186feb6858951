//! Answering a return item by item (差戻しへの回答). Each pinned field or file of an open
//! return must be changed in the correction or answered with a short reply before the
//! resubmission is accepted: [`save`] stores replies while the provider corrects,
//! [`open_returns`] shows each pinned item with its state, and the resubmission calls
//! [`check_and_record`], which refuses naming the open items, or records how each was
//! answered (visible to the reviewer in the case history and in the API).

use std::collections::BTreeMap;

use madoguchi_db::cases::CaseRow;
use madoguchi_db::filings::FilingRow;
use madoguchi_db::returns::{self as store, ReplyRow};
use madoguchi_db::{Tx, attachments, cases, filings, registry};
use madoguchi_domain::case::CaseStatus;
use madoguchi_domain::procedure::{FieldError, FilingData, ProcedureDefinition};
use madoguchi_domain::returns::{FileRef, MAX_REPLY_CHARS, Snapshot, changed, open_items};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{definition_of, load_own, parse_data};
use crate::clock::format_ms_jst;
use crate::{Actor, App, CoreError, CoreResult};

/// One pinned item of an open return, as the provider sees it while correcting.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PinnedItem {
    /// The pinned path (`fields.x`, `establishments.<id>.x`, `attachments.<requirement>` …).
    pub item: String,
    /// The item's name on the form (「代表者の氏名」, 「協力医療機関 2：名称」).
    pub label: String,
    /// The correction changed it since the returned version.
    pub changed: bool,
    /// The reply written so far (empty: none).
    pub reply: String,
    /// Neither changed nor answered: the resubmission waits for it.
    pub open: bool,
}

/// An open return (the latest return of a case now waiting for the provider).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OpenReturn {
    pub case_id: String,
    /// The return event; replies are keyed by it.
    pub event_id: String,
    pub authority_name: String,
    pub at: String,
    pub message: String,
    pub items: Vec<PinnedItem>,
}

/// One reply to one pinned item.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ReplyInput {
    /// The return event (`OpenReturn.event_id`).
    pub event_id: String,
    /// The pinned path.
    pub item: String,
    /// The reply (回答); empty clears it. At most 1000 characters.
    #[serde(default)]
    pub reply: String,
}

/// A return being answered: the case, its latest return event and the pinned paths.
struct Pending {
    case: CaseRow,
    event_id: String,
    at: i64,
    message: String,
    version_id: Option<String>,
    pins: Vec<String>,
}

/// The open returns of a filing (cases in `returned`, each with its latest return).
async fn pending(tx: &mut Tx, filing_id: &str) -> CoreResult<Vec<Pending>> {
    let mut out = Vec::new();
    for c in cases::cases_of_filing(tx, filing_id).await? {
        if c.status != CaseStatus::Returned.as_str() {
            continue;
        }
        let events = cases::events_of_case(tx, &c.id, false).await?;
        let Some(e) = events.into_iter().rev().find(|e| e.kind == "returned") else {
            continue;
        };
        out.push(Pending {
            event_id: e.id,
            at: e.at,
            message: e.message,
            version_id: e.version_id,
            pins: serde_json::from_str(&e.fields).unwrap_or_default(),
            case: c,
        });
    }
    Ok(out)
}

fn file_refs(rows: &[attachments::FilingAttachmentRow]) -> Vec<FileRef> {
    rows.iter()
        .map(|a| FileRef {
            requirement_id: a.requirement_id.clone(),
            attachment_id: a.attachment_id.clone(),
        })
        .collect()
}

/// The answers and files of a submitted version.
async fn version_snapshot(
    tx: &mut Tx,
    version_id: Option<&str>,
) -> CoreResult<(FilingData, Vec<FileRef>)> {
    let Some(id) = version_id else {
        return Ok((FilingData::default(), Vec::new()));
    };
    let v = filings::get_version(tx, id).await?;
    let refs: Vec<serde_json::Value> = serde_json::from_str(&v.attachments)?;
    let files = refs
        .iter()
        .filter_map(|r| {
            Some(FileRef {
                attachment_id: r["attachment_id"].as_str()?.to_string(),
                requirement_id: r["requirement_id"].as_str()?.to_string(),
            })
        })
        .collect();
    Ok((parse_data(&v.data)?, files))
}

/// The filing's form (with every addressee's local rules) for naming pinned items.
async fn form_of(
    app: &App,
    tx: &mut Tx,
    f: &FilingRow,
    data: &FilingData,
) -> CoreResult<ProcedureDefinition> {
    let def = definition_of(app, f)?;
    let ests = filings::filing_establishments(tx, &f.id).await?;
    let to = super::addressees(app, tx, f, def, data, &ests).await?;
    Ok(to.merged(app, def))
}

fn label_of(def: &ProcedureDefinition, path: &str) -> String {
    crate::cases::field_label(def, path).unwrap_or_else(|| "入力内容".into())
}

/// Every open return of the filing with the state of each pinned item.
pub async fn open_returns(
    app: &App,
    actor: &Actor,
    filing_id: &str,
) -> CoreResult<Vec<OpenReturn>> {
    let mut tx = app.db.begin_read().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    let data = parse_data(&f.data)?;
    let def = form_of(app, &mut tx, &f, &data).await?;
    let now_files = file_refs(&attachments::of_filing(&mut tx, filing_id).await?);
    let after = Snapshot {
        data: &data,
        files: &now_files,
    };
    let mut out = Vec::new();
    for p in pending(&mut tx, filing_id).await? {
        let (before_data, before_files) =
            version_snapshot(&mut tx, p.version_id.as_deref()).await?;
        let before = Snapshot {
            data: &before_data,
            files: &before_files,
        };
        let replies: BTreeMap<String, String> = store::of_event(&mut tx, &p.event_id)
            .await?
            .into_iter()
            .map(|r| (r.item, r.reply))
            .collect();
        let open = open_items(&p.pins, before, after, &replies);
        let authority = registry::get_authority(&mut tx, &p.case.authority_code).await?;
        out.push(OpenReturn {
            items: p
                .pins
                .iter()
                .map(|item| PinnedItem {
                    label: label_of(&def, item),
                    changed: changed(before, after, item),
                    reply: replies.get(item).cloned().unwrap_or_default(),
                    open: open.contains(&item.as_str()),
                    item: item.clone(),
                })
                .collect(),
            case_id: p.case.id,
            event_id: p.event_id,
            authority_name: authority.name,
            at: format_ms_jst(p.at),
            message: p.message,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Saves replies to pinned items of the filing's open returns (an empty reply clears one).
pub async fn save(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    replies: &[ReplyInput],
) -> CoreResult<()> {
    if replies.is_empty() {
        return Ok(());
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    let open = pending(&mut tx, filing_id).await?;
    let mut errors = Vec::new();
    for r in replies {
        let Some(p) = open
            .iter()
            .find(|p| p.event_id == r.event_id && p.pins.contains(&r.item))
        else {
            errors.push(FieldError {
                field: r.item.clone(),
                code: "not_pinned".into(),
                message: "回答できるのは、差し戻された届出で修正を求められている項目だけです。画面を開き直してください。".into(),
            });
            continue;
        };
        if r.reply.chars().count() > MAX_REPLY_CHARS {
            errors.push(FieldError {
                field: r.item.clone(),
                code: "too_long".into(),
                message: format!("回答は{MAX_REPLY_CHARS}文字以内で入力してください。"),
            });
            continue;
        }
        store::save_draft(
            &mut tx,
            &ReplyRow {
                event_id: p.event_id.clone(),
                case_id: p.case.id.clone(),
                item: r.item.clone(),
                reply: r.reply.trim().to_string(),
                changed: 0,
                user_id: actor.user_id.clone(),
                updated_at: now,
                sent_version_id: None,
            },
        )
        .await?;
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "filing.return_replies_saved",
        "filing",
        &f.id,
        &serde_json::json!({ "items": replies.iter().map(|r| &r.item).collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// At resubmission: refuses (naming each open item, with its path as the field) unless every
/// pinned item of every open return was changed or answered; otherwise records how each was
/// answered with `version_id` and returns, per case id, the summary for the case history.
pub(crate) async fn check_and_record(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    f: &FilingRow,
    version_id: &str,
    now: i64,
) -> CoreResult<BTreeMap<String, String>> {
    let data = parse_data(&f.data)?;
    let now_files = file_refs(&attachments::of_filing(tx, &f.id).await?);
    let after = Snapshot {
        data: &data,
        files: &now_files,
    };
    let def = form_of(app, tx, f, &data).await?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut summaries = BTreeMap::new();
    for p in pending(tx, &f.id).await? {
        let (before_data, before_files) = version_snapshot(tx, p.version_id.as_deref()).await?;
        let before = Snapshot {
            data: &before_data,
            files: &before_files,
        };
        let replies: BTreeMap<String, String> = store::of_event(tx, &p.event_id)
            .await?
            .into_iter()
            .map(|r| (r.item, r.reply))
            .collect();
        let authority = registry::get_authority(tx, &p.case.authority_code).await?;
        for item in open_items(&p.pins, before, after, &replies) {
            problems.push(FieldError {
                field: item.to_string(),
                code: "return_item_open".into(),
                message: format!(
                    "「{}」は{}から修正を求められています。内容を修正するか、回答を入力してください。",
                    label_of(&def, item),
                    authority.name
                ),
            });
        }
        let mut lines = Vec::new();
        for item in &p.pins {
            let was_changed = changed(before, after, item);
            let reply = replies.get(item).cloned().unwrap_or_default();
            let label = label_of(&def, item);
            lines.push(match (was_changed, reply.is_empty()) {
                (true, true) => format!("・{label}：修正しました"),
                (true, false) => format!("・{label}：修正しました（回答：{reply}）"),
                (false, _) => format!("・{label}：修正せず、回答しました（回答：{reply}）"),
            });
            rows.push(ReplyRow {
                event_id: p.event_id.clone(),
                case_id: p.case.id.clone(),
                item: item.clone(),
                reply,
                changed: i64::from(was_changed),
                user_id: actor.user_id.clone(),
                updated_at: now,
                sent_version_id: Some(version_id.to_string()),
            });
        }
        if !lines.is_empty() {
            summaries.insert(
                p.case.id.clone(),
                format!("修正を求められた項目への対応：\n{}", lines.join("\n")),
            );
        }
    }
    if !problems.is_empty() {
        return Err(CoreError::Validation(problems));
    }
    for row in &rows {
        store::record_sent(tx, row).await?;
    }
    Ok(summaries)
}

/// How the provider answered the pins of one return (for the reviewer's case view and the
/// API), once resubmitted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReturnAnswer {
    pub item: String,
    pub changed: bool,
    pub reply: String,
}

/// The answers sent for a return event (empty while not resubmitted).
pub(crate) async fn answers_of_event(tx: &mut Tx, event_id: &str) -> CoreResult<Vec<ReturnAnswer>> {
    Ok(store::of_event(tx, event_id)
        .await?
        .into_iter()
        .filter(|r| r.sent_version_id.is_some())
        .map(|r| ReturnAnswer {
            item: r.item,
            changed: r.changed != 0,
            reply: r.reply,
        })
        .collect())
}
