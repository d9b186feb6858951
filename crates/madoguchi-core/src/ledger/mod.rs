//! Ledger linkage (台帳連携): how an authority's own establishment ledger keeps up with
//! Madoguchi. Four ways, one module each:
//!
//! - `feed`: the pull feed `GET /api/v1/authorities/{code}/changes?since=` — accepted
//!   registry changes and decided cases, numbered per authority without gaps, written in the
//!   transaction of the change;
//! - `webhooks`: the same entries pushed to the authority's endpoints by the job queue
//!   (HMAC-signed, every attempt recorded, exponential back-off, manual redelivery);
//! - `export`: CSV (UTF-8, UTF-8 with BOM, Shift_JIS/CP932) and .xlsx files of the
//!   authority's designations and accepted cases, streamed with constant memory and audited;
//! - `import`: loading an authority's existing ledger (CSV) into the registry, idempotently.
//!
//! The file format (columns, headers) is in `madoguchi_domain::ledger`; the CP932 rules in
//! `madoguchi_domain::cp932`. People's documentation: `docs/ledger.md`.

pub mod export;
pub mod feed;
pub mod import;
mod import_rows;
pub mod webhooks;

use serde_json::Value;

use crate::{Actor, CoreResult};

/// The authority whose ledger `actor` may work with through `/authorities/{code}/…`: its own
/// (the object rule lives in `policy::may_use_ledger`).
pub(crate) fn own_authority<'a>(actor: &Actor, code: &'a str) -> CoreResult<&'a str> {
    crate::policy::may_use_ledger(actor, code)?;
    Ok(code)
}

/// A registry value as a ledger cell: strings as they are, numbers and booleans written out,
/// absent or null as empty, anything else as its JSON text.
pub fn cell_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// Milliseconds as RFC 3339 UTC (`2026-11-22T05:03:00.123Z`), the feed's time format.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Milliseconds as a JST date-time with seconds (`2026-11-22 14:03:00`), for files people read.
pub fn jst_seconds(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&crate::clock::jst())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// What the ledger page shows a staff member: the feed's position and, for admins, the
/// webhook endpoints with their latest deliveries.
#[derive(Clone, Debug)]
pub struct Overview {
    pub authority_code: String,
    pub authority_name: String,
    /// Newest entry of the changes feed (0: none yet).
    pub latest_seq: i64,
    /// Admins only (empty for reviewers).
    pub endpoints: Vec<EndpointOverview>,
    pub is_admin: bool,
}

#[derive(Clone, Debug)]
pub struct EndpointOverview {
    pub endpoint: webhooks::EndpointView,
    /// Newest first.
    pub deliveries: Vec<webhooks::DeliveryView>,
}

/// Deliveries shown per endpoint on the ledger page.
const OVERVIEW_DELIVERIES: i64 = 20;

/// The ledger page's facts for the actor's own authority.
pub async fn overview(app: &crate::App, actor: &Actor) -> CoreResult<Overview> {
    let code = actor.require_authority_staff()?.to_string();
    let is_admin = matches!(actor.role, crate::Role::AuthorityAdmin { .. });
    let mut tx = app.db.begin_read().await?;
    let authority = madoguchi_db::registry::get_authority(&mut tx, &code).await?;
    let latest_seq = madoguchi_db::ledger::feed::latest_seq(&mut tx, &code).await?;
    tx.commit().await?;
    let mut endpoints = Vec::new();
    if is_admin {
        for e in webhooks::list_endpoints(app, actor, &code).await? {
            let deliveries =
                webhooks::list_deliveries(app, actor, &code, &e.id, None, OVERVIEW_DELIVERIES)
                    .await?;
            endpoints.push(EndpointOverview {
                endpoint: e,
                deliveries,
            });
        }
    }
    Ok(Overview {
        authority_code: code,
        authority_name: authority.name,
        latest_seq,
        endpoints,
        is_admin,
    })
}
