//! Cases: one authority's handling of a submitted filing. One action per file: `accept`,
//! `return_case`, `comment`, `assign`, `bulk` (bulk acceptance), `saved_filters`; `view`
//! assembles the reviewer's case view, `diff` compares two of its versions, `inbox` lists
//! the authority's cases (with read markers), `listing` fills what the inbox filters on;
//! `form_set` the standard form of a case for either party (print view, .xlsx).

mod accept;
pub mod assign;
pub mod bulk;
mod comment;
pub mod diff;
pub mod form_set;
pub mod inbox;
pub(crate) mod listing;
mod return_case;
pub mod saved_filters;
pub mod view;

pub use accept::accept;
pub use assign::{assign, colleagues};
pub use bulk::{bulk_accept, bulk_candidates};
pub use comment::comment;
pub use inbox::{inbox, mark_seen};
pub use return_case::{ReturnRequest, check_return, field_label, return_case};
pub use saved_filters::{delete_filter, save_filter, saved_filters};

use madoguchi_db::cases::CaseRow;
use madoguchi_db::{DbError, Tx, cases};

use crate::jobs::notify::CaseNotice;
use crate::{Actor, App, CoreError, CoreResult};

/// Loads a case addressed to the actor's authority; any other case is `NotFound`.
pub(crate) async fn load_for_staff(
    tx: &mut Tx,
    actor: &Actor,
    case_id: &str,
) -> CoreResult<CaseRow> {
    actor.require_authority_staff()?;
    match cases::get_case(tx, case_id).await {
        Ok(c) => crate::policy::may_handle_case(actor, &c.authority_code).map(|()| c),
        Err(DbError::NotFound) => Err(CoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Owned facts for a provider notice about a case.
pub(crate) struct NoticeFacts {
    pub title: String,
    pub corporation_name: String,
    pub authority_name: String,
    pub url: String,
    /// The corporation's own contact address (registry), told of every decision; the users
    /// are told by their notification preference (`notifications::notify_corporation`).
    pub org_emails: Vec<String>,
    pub filing_id: String,
}

impl NoticeFacts {
    pub fn notice<'a>(&'a self, reference: &'a str) -> CaseNotice<'a> {
        CaseNotice {
            reference,
            procedure_title: &self.title,
            corporation_name: &self.corporation_name,
            authority_name: &self.authority_name,
            case_url: &self.url,
        }
    }
}

/// Gathers what a notice to the provider needs (the users are found by
/// `notifications::notify_corporation`; here the corporation's own contact address).
pub(crate) async fn notice_facts(
    app: &App,
    tx: &mut Tx,
    c: &CaseRow,
    title: &str,
) -> CoreResult<NoticeFacts> {
    let f = madoguchi_db::filings::get_filing(tx, &c.filing_id).await?;
    let corp = madoguchi_db::registry::get_corporation(tx, &c.corporation_id).await?;
    let authority = madoguchi_db::registry::get_authority(tx, &c.authority_code).await?;
    let mut org = vec![];
    let profile = madoguchi_db::registry::parse_profile(&corp.profile)?;
    if let Some(e) = profile.get("email").and_then(|v| v.as_str())
        && !e.is_empty()
    {
        org.push(e.to_string());
    }
    Ok(NoticeFacts {
        title: title.to_string(),
        corporation_name: corp.name,
        authority_name: authority.name,
        url: format!("{}/filings/{}", app.config.base_url, c.filing_id),
        org_emails: org,
        filing_id: f.id,
    })
}
