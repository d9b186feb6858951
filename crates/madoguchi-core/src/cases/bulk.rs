//! Bulk acceptance (一括受付): several cases chosen in the inbox, each accepted by the same
//! [`super::accept`] use case in its own transaction, so one case that cannot be accepted
//! (already decided, withdrawn, another authority's) fails alone and the others go through.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::load_for_staff;
use crate::{Actor, App, CoreError, CoreResult};

/// The most cases one bulk acceptance may carry (two inbox pages).
pub const MAX_BULK: usize = 100;

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct BulkAcceptRequest {
    /// Ids of the cases to accept (1–100).
    pub case_ids: Vec<String>,
}

/// A case as the confirmation lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BulkCandidate {
    pub case_id: String,
    /// Absent when the case cannot be found for this authority.
    pub reference: Option<String>,
    pub procedure_title: Option<String>,
    pub corporation_name: Option<String>,
    pub status: Option<String>,
    /// Whether it can be accepted now (submitted and awaiting decision).
    pub acceptable: bool,
}

/// What happened to one case.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub case_id: String,
    pub reference: Option<String>,
    pub accepted: bool,
    /// Registry values changed by the acceptance.
    pub registry_changes: usize,
    /// Why it was not accepted: `not_found`, `conflict`, `forbidden`, `invalid` or `error`.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// The ids, checked: 1–100 of them, in the order given, each once.
fn checked_ids(ids: &[String]) -> CoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    if out.is_empty() {
        return Err(CoreError::field(
            "case_ids",
            "required",
            "受け付ける案件を一覧で選んでください。",
        ));
    }
    if out.len() > MAX_BULK {
        return Err(CoreError::field(
            "case_ids",
            "too_many",
            format!("一度に受け付けられるのは{MAX_BULK}件までです。選ぶ案件を減らしてください。"),
        ));
    }
    Ok(out)
}

/// The chosen cases as the confirmation page lists them (nothing changes).
pub async fn bulk_candidates(
    app: &App,
    actor: &Actor,
    ids: &[String],
) -> CoreResult<Vec<BulkCandidate>> {
    actor.require_authority_staff()?;
    let ids = checked_ids(ids)?;
    let mut tx = app.db.begin_read().await?;
    let mut out = Vec::new();
    for id in ids {
        match load_for_staff(&mut tx, actor, &id).await {
            Ok(c) => {
                let corp =
                    madoguchi_db::registry::get_corporation(&mut tx, &c.corporation_id).await?;
                out.push(BulkCandidate {
                    procedure_title: Some(
                        app.catalog
                            .latest(&c.procedure_id)
                            .map(|d| d.title.clone())
                            .unwrap_or(c.procedure_id.clone()),
                    ),
                    acceptable: c.status == "submitted",
                    case_id: c.id,
                    reference: Some(c.reference),
                    corporation_name: Some(corp.name),
                    status: Some(c.status),
                });
            }
            Err(CoreError::NotFound) => out.push(BulkCandidate {
                case_id: id,
                reference: None,
                procedure_title: None,
                corporation_name: None,
                status: None,
                acceptable: false,
            }),
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Accepts each chosen case in its own transaction; returns one result per case, in order.
pub async fn bulk_accept(app: &App, actor: &Actor, ids: &[String]) -> CoreResult<Vec<BulkResult>> {
    actor.require_authority_staff()?;
    let ids = checked_ids(ids)?;
    let mut out = Vec::new();
    for id in ids {
        let reference = {
            let mut tx = app.db.begin_read().await?;
            let r = load_for_staff(&mut tx, actor, &id)
                .await
                .ok()
                .map(|c| c.reference);
            tx.commit().await?;
            r
        };
        let outcome = super::accept(app, actor, &id).await;
        let (accepted, registry_changes, error) = match outcome {
            Ok(n) => (true, n, None),
            Err(CoreError::NotFound) => (
                false,
                0,
                Some((
                    "not_found",
                    "案件が見つかりません（この自治体の案件ではないか、存在しません）。".to_owned(),
                )),
            ),
            Err(CoreError::Conflict(m)) => (false, 0, Some(("conflict", m))),
            Err(CoreError::Forbidden(m)) => (false, 0, Some(("forbidden", m))),
            Err(CoreError::Validation(errs)) => (
                false,
                0,
                Some((
                    "invalid",
                    errs.into_iter()
                        .map(|e| e.message)
                        .collect::<Vec<_>>()
                        .join(" "),
                )),
            ),
            Err(e) => {
                tracing::error!(case = %id, error = %e, "bulk acceptance of one case failed");
                (
                    false,
                    0,
                    Some((
                        "error",
                        "システムの問題で受け付けられませんでした。時間をおいて、この案件だけもう一度お試しください。"
                            .to_owned(),
                    )),
                )
            }
        };
        if accepted {
            // Handled by this reviewer: not "unread" for them afterwards.
            super::inbox::mark_seen(app, actor, &id).await?;
        }
        out.push(BulkResult {
            case_id: id,
            reference,
            accepted,
            registry_changes,
            error_code: error.as_ref().map(|(c, _)| (*c).to_owned()),
            error_message: error.map(|(_, m)| m),
        });
    }
    Ok(out)
}
