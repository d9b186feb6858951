//! The changes feed of an authority: what its ledger must apply, in order, each entry once.
//!
//! Entries are written in the transaction that decides a case (or imports a ledger), numbered
//! per authority by `madoguchi_db::ledger::feed::next_seq` — so the numbers are dense and
//! commit in order, and a reader polling `since=<last seq>` can neither miss nor repeat an
//! entry. Kinds:
//!
//! - `case.accepted`: a case of this authority was accepted; `changes` are the registry values
//!   that acceptance changed (old and new);
//! - `case.returned`: a case of this authority was returned to the provider (no changes);
//! - `registry.changed`: another authority's acceptance changed a record this authority's
//!   ledger holds (a corporation with an establishment it designates, or such an establishment);
//! - `registry.imported`: a ledger import created or completed records this authority holds.
//!
//! Every entry is also pushed to the authority's active webhook endpoints (`webhooks`).

use std::collections::BTreeMap;

use madoguchi_db::Tx;
use madoguchi_db::cases::CaseRow;
use madoguchi_db::ledger::feed::{self as db, FeedRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::{Actor, App, CoreError, CoreResult};

/// Largest page of the feed.
pub const MAX_PAGE: i64 = 500;
/// Page size when the caller does not say.
pub const DEFAULT_PAGE: i64 = 100;

/// One registry value that changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedChange {
    /// `corporation`, `establishment` or `designation`.
    pub target: String,
    /// The record's id in Madoguchi.
    pub target_id: String,
    /// 法人番号 of the corporation (corporation targets; absent for corporations without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
    /// 事業所番号 (establishment and designation targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_number: Option<String>,
    /// サービス種類コード (designation targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<String>,
    /// The registry key (`representative_name`, `manager_name`, `valid_until`, …).
    pub key: String,
    /// The value before (null: none).
    pub old: Value,
    /// The value after (null: removed).
    pub new: Value,
}

/// The case an entry is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedCase {
    pub id: String,
    /// 到達番号.
    pub reference: String,
    pub procedure_id: String,
    /// `accepted` or `returned`.
    pub status: String,
    pub corporation_id: String,
    pub corporate_number: Option<String>,
    pub corporation_name: String,
    /// 事業所番号 of the establishments the case concerns, sorted.
    pub office_numbers: Vec<String>,
}

/// One entry of the feed, as pulled and as pushed (the webhook body is exactly this JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedEntry {
    pub authority_code: String,
    /// 1, 2, 3 … per authority, without gaps.
    pub seq: i64,
    /// `case.accepted`, `case.returned`, `registry.changed` or `registry.imported`.
    pub kind: String,
    /// When the change was committed (RFC 3339, UTC).
    pub at: String,
    #[serde(default)]
    pub case: Option<FeedCase>,
    /// `registry.changed`: the authority whose acceptance made the change.
    #[serde(default)]
    pub source_authority_code: Option<String>,
    pub changes: Vec<FeedChange>,
}

/// A page of the feed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedPage {
    pub entries: Vec<FeedEntry>,
    /// Pass as `since` to get what follows (the same cursor again when nothing is new).
    pub next_cursor: String,
    /// More entries are waiting beyond this page.
    pub has_more: bool,
}

/// Reads the cursor of `?since=`: empty or absent is the beginning; otherwise the decimal
/// `seq` of the last entry applied (treat it as opaque).
pub fn parse_cursor(since: Option<&str>) -> CoreResult<i64> {
    match since.map(str::trim) {
        None | Some("") => Ok(0),
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            CoreError::field(
                "since",
                "invalid_cursor",
                "since には前回の応答の next_cursor の値を指定してください。",
            )
        }),
    }
}

/// `GET /api/v1/authorities/{code}/changes`: entries after the cursor, oldest first.
pub async fn page(
    app: &App,
    actor: &Actor,
    authority_code: &str,
    since: Option<&str>,
    limit: Option<i64>,
) -> CoreResult<FeedPage> {
    let code = super::own_authority(actor, authority_code)?;
    let after = parse_cursor(since)?;
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            return Err(CoreError::field(
                "limit",
                "out_of_range",
                format!("limit は1から{MAX_PAGE}の範囲で指定してください。"),
            ));
        }
    };
    let mut tx = app.db.begin_read().await?;
    // One more than asked tells whether more are waiting.
    let mut rows = db::entries_after(&mut tx, code, after, limit + 1).await?;
    tx.commit().await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().map_or(after, |r| r.seq).to_string();
    let entries = rows
        .iter()
        .map(|r| Ok(serde_json::from_str(&r.payload)?))
        .collect::<CoreResult<Vec<FeedEntry>>>()?;
    Ok(FeedPage {
        entries,
        next_cursor,
        has_more,
    })
}

/// How a case was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Accepted,
    Returned,
}

/// Records a decided case in the feeds, in the deciding transaction: a `case.accepted` or
/// `case.returned` entry for the case's authority and, for an acceptance that changed records
/// other authorities hold, a `registry.changed` entry for each of them. Call after the
/// registry effects were applied and after the audit event was appended (the audit head is
/// locked first everywhere, so counters never deadlock).
pub async fn record_decision(
    app: &App,
    tx: &mut Tx,
    case: &CaseRow,
    decision: Decision,
    now: i64,
) -> CoreResult<()> {
    let changes = match decision {
        Decision::Accepted => case_changes(tx, &case.id).await?,
        Decision::Returned => Vec::new(),
    };
    let corp = madoguchi_db::registry::get_corporation(tx, &case.corporation_id).await?;
    let mut office_numbers: Vec<String> = Vec::new();
    for d in madoguchi_db::cases::case_designations(tx, &case.id).await? {
        let e = madoguchi_db::registry::get_establishment(tx, &d.establishment_id).await?;
        if !office_numbers.contains(&e.office_number) {
            office_numbers.push(e.office_number);
        }
    }
    office_numbers.sort();
    let (kind, status) = match decision {
        Decision::Accepted => ("case.accepted", "accepted"),
        Decision::Returned => ("case.returned", "returned"),
    };
    let summary = FeedCase {
        id: case.id.clone(),
        reference: case.reference.clone(),
        procedure_id: case.procedure_id.clone(),
        status: status.into(),
        corporation_id: case.corporation_id.clone(),
        corporate_number: corp.corporate_number.clone(),
        corporation_name: corp.name.clone(),
        office_numbers,
    };
    let mut by_authority = spread(tx, &changes).await?;
    by_authority.remove(&case.authority_code);
    let mut drafts: BTreeMap<String, Draft> = by_authority
        .into_iter()
        .map(|(code, changes)| {
            let draft = Draft {
                kind: "registry.changed",
                case: None,
                source_authority_code: Some(case.authority_code.clone()),
                changes,
            };
            (code, draft)
        })
        .collect();
    drafts.insert(
        case.authority_code.clone(),
        Draft {
            kind,
            case: Some(summary),
            source_authority_code: None,
            changes,
        },
    );
    publish(app, tx, drafts, Some(&case.id), now).await
}

/// Records registry changes made by a ledger import as `registry.imported` entries, one for
/// each authority holding a changed record. Call after the import's audit event.
pub async fn record_import(
    app: &App,
    tx: &mut Tx,
    importing_authority: &str,
    changes: Vec<FeedChange>,
    now: i64,
) -> CoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let drafts = spread(tx, &changes)
        .await?
        .into_iter()
        .map(|(code, changes)| {
            let draft = Draft {
                kind: "registry.imported",
                case: None,
                source_authority_code: Some(importing_authority.to_string()),
                changes,
            };
            (code, draft)
        })
        .collect();
    publish(app, tx, drafts, None, now).await
}

/// An entry before it has its number.
struct Draft {
    kind: &'static str,
    case: Option<FeedCase>,
    source_authority_code: Option<String>,
    changes: Vec<FeedChange>,
}

/// Numbers and stores entries (in authority-code order, so concurrent writers take the
/// counters in the same order) and enqueues their webhook deliveries.
async fn publish(
    app: &App,
    tx: &mut Tx,
    drafts: BTreeMap<String, Draft>,
    case_id: Option<&str>,
    now: i64,
) -> CoreResult<()> {
    for (authority_code, d) in drafts {
        let seq = db::next_seq(tx, &authority_code).await?;
        let entry = FeedEntry {
            authority_code: authority_code.clone(),
            seq,
            kind: d.kind.into(),
            at: super::rfc3339(now),
            case: d.case,
            source_authority_code: d.source_authority_code,
            changes: d.changes,
        };
        db::insert_entry(
            tx,
            &FeedRow {
                authority_code: authority_code.clone(),
                seq,
                kind: entry.kind.clone(),
                case_id: case_id.map(Into::into),
                at: now,
                payload: serde_json::to_string(&entry)?,
            },
        )
        .await?;
        super::webhooks::enqueue_deliveries(app, tx, &authority_code, seq, now).await?;
    }
    Ok(())
}

/// Which authorities hold each changed record, and so which changes each must see.
async fn spread(
    tx: &mut Tx,
    changes: &[FeedChange],
) -> CoreResult<BTreeMap<String, Vec<FeedChange>>> {
    let mut holders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<FeedChange>> = BTreeMap::new();
    for c in changes {
        let key = (c.target.clone(), c.target_id.clone());
        if !holders.contains_key(&key) {
            let codes = match c.target.as_str() {
                "corporation" => db::authorities_covering_corporation(tx, &c.target_id).await?,
                "establishment" => db::authorities_covering_establishment(tx, &c.target_id).await?,
                _ => designation_authority(tx, c).await?,
            };
            holders.insert(key.clone(), codes);
        }
        for code in &holders[&key] {
            out.entry(code.clone()).or_default().push(c.clone());
        }
    }
    Ok(out)
}

/// The authority of a designation (only it holds the designation in its ledger).
async fn designation_authority(tx: &mut Tx, c: &FeedChange) -> CoreResult<Vec<String>> {
    let (Some(office), Some(service)) = (&c.office_number, &c.service_code) else {
        return Ok(Vec::new());
    };
    let Some(e) = madoguchi_db::ledger::import::establishment_by_office_number(tx, office).await?
    else {
        return Ok(Vec::new());
    };
    Ok(
        madoguchi_db::ledger::import::designation_of(tx, &e.id, service)
            .await?
            .map(|d| vec![d.authority_code])
            .unwrap_or_default(),
    )
}

/// The registry changes an acceptance recorded, with the records' natural keys.
async fn case_changes(tx: &mut Tx, case_id: &str) -> CoreResult<Vec<FeedChange>> {
    let mut out = Vec::new();
    let mut corporate_numbers: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut office_numbers: BTreeMap<String, String> = BTreeMap::new();
    for r in db::registry_changes_of_case(tx, case_id).await? {
        let mut service_code = None;
        let (corporate_number, office_number) = match r.target_kind.as_str() {
            "designation" => {
                let d = madoguchi_db::registry::get_designation(tx, &r.target_id).await?;
                let e = madoguchi_db::registry::get_establishment(tx, &d.establishment_id).await?;
                service_code = Some(d.service_code);
                (None, Some(e.office_number))
            }
            "corporation" => {
                if !corporate_numbers.contains_key(&r.target_id) {
                    let c = madoguchi_db::registry::get_corporation(tx, &r.target_id).await?;
                    corporate_numbers.insert(r.target_id.clone(), c.corporate_number);
                }
                (corporate_numbers[&r.target_id].clone(), None)
            }
            _ => {
                if !office_numbers.contains_key(&r.target_id) {
                    let e = madoguchi_db::registry::get_establishment(tx, &r.target_id).await?;
                    office_numbers.insert(r.target_id.clone(), e.office_number);
                }
                (None, Some(office_numbers[&r.target_id].clone()))
            }
        };
        out.push(FeedChange {
            target: r.target_kind,
            target_id: r.target_id,
            corporate_number,
            office_number,
            service_code,
            key: r.field_key,
            old: serde_json::from_str(&r.old_value)?,
            new: serde_json::from_str(&r.new_value)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_decimal_sequence_numbers() {
        assert_eq!(parse_cursor(None).unwrap(), 0);
        assert_eq!(parse_cursor(Some("")).unwrap(), 0);
        assert_eq!(parse_cursor(Some("42")).unwrap(), 42);
        for bad in ["-1", "x", "1.5", "99999999999999999999"] {
            match parse_cursor(Some(bad)) {
                Err(CoreError::Validation(e)) => assert_eq!(e[0].field, "since"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_entry_serialises_without_empty_keys() {
        let e = FeedEntry {
            authority_code: "131041".into(),
            seq: 3,
            kind: "case.accepted".into(),
            at: "2026-11-22T05:00:00.000Z".into(),
            case: None,
            source_authority_code: None,
            changes: vec![FeedChange {
                target: "corporation".into(),
                target_id: "c".into(),
                corporate_number: Some("7040005007253".into()),
                office_number: None,
                service_code: None,
                key: "representative_name".into(),
                old: "山田　太郎".into(),
                new: "佐々木　一郎".into(),
            }],
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains("office_number"), "{text}");
        assert_eq!(serde_json::from_str::<FeedEntry>(&text).unwrap(), e);
    }
}
