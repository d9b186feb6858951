//! The choices a provider starts a filing from: the procedures (radio buttons) and the
//! corporation's establishments with their designations (checkboxes). Shared by
//! 「新しい届出・申請」 (`filings.rs`) and 「一括申請」 (`bulk.rs`).

use madoguchi_core::Actor;
use madoguchi_domain::procedure::{FieldError, ProcedureDefinition};

use super::PageError;
use super::form_view::ErrorSummaryItem;
use crate::AppState;

pub struct ProcedureChoice {
    pub id: String,
    pub title: String,
    pub form_number: String,
    pub summary: String,
}

pub struct EstablishmentChoice {
    pub id: String,
    pub name: String,
    pub office_number: String,
    /// Its designations, 「通所介護：東京都指定（2028-03-31まで）、…」.
    pub services: String,
}

/// The latest version of every procedure that `keep` admits, in the catalog's order.
pub fn procedures(
    s: &AppState,
    keep: impl Fn(&ProcedureDefinition) -> bool,
) -> Vec<ProcedureChoice> {
    s.app
        .catalog
        .list_latest()
        .into_iter()
        .filter(|d| keep(d))
        .map(|d| ProcedureChoice {
            id: d.id.clone(),
            title: d.title.clone(),
            form_number: d.form_number.clone(),
            summary: d.summary.clone(),
        })
        .collect()
}

/// The establishments the actor may file for, each with its designations and their validity.
pub async fn establishments(
    s: &AppState,
    actor: &Actor,
) -> Result<Vec<EstablishmentChoice>, PageError> {
    Ok(madoguchi_core::registry::view::list(&s.app, actor)
        .await?
        .into_iter()
        .map(|e| EstablishmentChoice {
            name: e.name,
            office_number: e.office_number,
            services: e
                .designations
                .iter()
                .map(|d| {
                    format!(
                        "{}：{}指定（{}まで）",
                        d.service_name, d.authority_name, d.valid_until
                    )
                })
                .collect::<Vec<_>>()
                .join("、"),
            id: e.id,
        })
        .collect())
}

/// The messages of a refused start, at the control they concern: the procedure choice
/// (`#procedure`) or the establishment choice (`#establishments`).
pub fn summary_items(errors: Vec<FieldError>) -> Vec<ErrorSummaryItem> {
    errors
        .into_iter()
        .map(|e| ErrorSummaryItem {
            field_id: if e.field == "procedure_id" {
                "procedure".into()
            } else {
                "establishments".into()
            },
            message: e.message,
        })
        .collect()
}
