//! Filings: a provider's act of filing one procedure for one or more of its establishments.
//! One action per file: `create`, `update`, `attach`, `submit`, `withdraw`; `view` assembles
//! what the provider sees.

mod attach;
mod create;
mod download;
pub(crate) mod submit;
mod update;
pub mod view;
mod withdraw;

pub use attach::{detach, link_attachment, upload};
pub use create::{NewFiling, create};
pub use download::download;
pub use submit::{SubmitOutcome, submit};
pub use update::update;
pub use withdraw::withdraw;

use madoguchi_db::filings::FilingRow;
use madoguchi_db::{DbError, Tx, filings};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};

use crate::{Actor, App, CoreError, CoreResult};

/// Loads a filing the actor's corporation owns; any other filing is `NotFound`.
pub(crate) async fn load_own(tx: &mut Tx, actor: &Actor, filing_id: &str) -> CoreResult<FilingRow> {
    actor.require_provider()?;
    filings::lock(tx, filing_id).await?;
    match filings::get_filing(tx, filing_id).await {
        Ok(f) => crate::policy::may_access_filing(actor, &f.corporation_id).map(|()| f),
        Err(DbError::NotFound) => Err(CoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// The definition version a filing was started with.
pub(crate) fn definition_of<'a>(
    app: &'a App,
    f: &FilingRow,
) -> CoreResult<&'a ProcedureDefinition> {
    app.catalog
        .get(&f.procedure_id, &f.procedure_version)
        .ok_or_else(|| {
            CoreError::Internal(format!(
                "procedure {}@{} missing from catalog",
                f.procedure_id, f.procedure_version
            ))
        })
}

pub(crate) fn parse_data(text: &str) -> CoreResult<FilingData> {
    Ok(serde_json::from_str(text)?)
}
