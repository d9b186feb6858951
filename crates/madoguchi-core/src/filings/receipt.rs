//! The receipt (受付票) of a filing's latest submission: its 到達番号, when it arrived (JST,
//! in 和暦 and 西暦), each authority it reached with that case's number and due date, and the
//! provider's satisfaction rating of it, if given.

use chrono::{DateTime, Utc};
use madoguchi_db::{cases, filings, registry, satisfaction};
use madoguchi_domain::case::FilingStatus;
use madoguchi_domain::wareki::format_date_ja;
use serde::Serialize;
use utoipa::ToSchema;

use super::{definition_of, load_own};
use crate::clock::jst;
use crate::{Actor, App, CoreError, CoreResult};

/// One authority a submission reached.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReceiptCase {
    pub authority_name: String,
    /// This case's 到達番号.
    pub reference: String,
    /// `submitted` until the authority decides.
    pub status: String,
    /// Due date (`YYYY-MM-DD`) by this authority's deadline.
    pub due_on: Option<String>,
    /// The due date in 和暦 and 西暦.
    pub due_on_ja: Option<String>,
    /// Where to ask about this case: the authority's contact e-mail, postal address and
    /// telephone (the last two empty when its admin has not given them).
    pub contact: crate::admin::authority::AuthorityContact,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    pub filing_id: String,
    pub procedure_title: String,
    pub form_number: String,
    /// 到達番号 of the filing (its cases add `-01`, `-02` …).
    pub reference: String,
    /// 1 for the first submission; more for a corrected resubmission.
    pub version_no: i64,
    pub resubmission: bool,
    /// Arrival, e.g. 「令和8年11月22日（2026年11月22日）14時05分」 (JST).
    pub arrived_at_ja: String,
    /// Arrival as ISO 8601 with the JST offset.
    pub arrived_at: String,
    pub establishments: Vec<String>,
    /// The authorities this submission reached.
    pub cases: Vec<ReceiptCase>,
    /// The signed-in user's rating of this filing (1–5), if given.
    pub rating: Option<i64>,
    pub rating_comment: String,
}

/// 「令和8年11月22日（2026年11月22日）14時05分」 for epoch milliseconds, in JST.
pub fn format_ms_ja(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => {
            let t = t.with_timezone(&jst());
            format!("{}{}", format_date_ja(t.date_naive()), t.format("%H時%M分"))
        }
        None => String::new(),
    }
}

/// The receipt of the filing's latest submission; `Conflict` for a filing not submitted.
pub async fn receipt(app: &App, actor: &Actor, filing_id: &str) -> CoreResult<ReceiptView> {
    let mut tx = app.db.begin_read().await?;
    let f = load_own(&mut tx, actor, filing_id).await?;
    let def = definition_of(app, &f)?;
    let versions = filings::list_versions(&mut tx, filing_id).await?;
    let (Some(reference), Some(latest)) = (f.reference.clone(), versions.last()) else {
        return Err(CoreError::Conflict(
            "この届出はまだ提出されていないため、受付票はありません。".into(),
        ));
    };
    if f.status == FilingStatus::Draft.as_str() {
        return Err(CoreError::Conflict(
            "この届出はまだ提出されていないため、受付票はありません。".into(),
        ));
    }
    let mut reached = Vec::new();
    for c in cases::cases_of_filing(&mut tx, filing_id).await? {
        if c.current_version_id != latest.id {
            continue;
        }
        let (contact, _, _) =
            crate::admin::authority::load_contact(&mut tx, &c.authority_code).await?;
        let due_on_ja = c
            .due_on
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(format_date_ja);
        reached.push(ReceiptCase {
            authority_name: contact.name.clone(),
            reference: c.reference,
            status: c.status,
            due_on: c.due_on,
            due_on_ja,
            contact,
        });
    }
    let mut establishments = Vec::new();
    for id in filings::filing_establishments(&mut tx, filing_id).await? {
        establishments.push(registry::get_establishment(&mut tx, &id).await?.name);
    }
    let rating = satisfaction::get(&mut tx, filing_id, &actor.user_id).await?;
    tx.commit().await?;
    let arrived = DateTime::<Utc>::from_timestamp_millis(latest.created_at)
        .map(|t| t.with_timezone(&jst()).to_rfc3339())
        .unwrap_or_default();
    Ok(ReceiptView {
        filing_id: f.id,
        procedure_title: def.title.clone(),
        form_number: def.form_number.clone(),
        reference,
        version_no: latest.version_no,
        resubmission: latest.version_no > 1,
        arrived_at_ja: format_ms_ja(latest.created_at),
        arrived_at: arrived,
        establishments,
        cases: reached,
        rating_comment: rating
            .as_ref()
            .map(|r| r.comment.clone())
            .unwrap_or_default(),
        rating: rating.map(|r| r.score),
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn arrival_is_written_in_jst_with_wareki() {
        // 2026-11-22 23:30 UTC is 2026-11-23 08:30 in Japan.
        let ms = utc_ms(2026, 11, 22, 23, 30);
        assert_eq!(
            super::format_ms_ja(ms),
            "令和8年11月23日（2026年11月23日）08時30分"
        );
    }

    fn utc_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        chrono::Utc
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .timestamp_millis()
    }
}
