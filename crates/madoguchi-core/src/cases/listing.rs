//! What the inbox filters a case on, written when the case is created (in the submitting
//! transaction): its search text and its service types.

use madoguchi_db::registry::{CorporationRow, DesignationRow};
use madoguchi_db::{Tx, filings, inbox, registry};
use madoguchi_domain::procedure::{FilingData, ProcedureDefinition};

use super::inbox::normalize_search;
use crate::{App, CoreResult};

/// Fills a new case's search text (到達番号, the corporation's name, reading and 法人番号, each
/// establishment's name, reading and 事業所番号, normalised) and service codes: those of the
/// designations it concerns; for a 指定申請, the services applied for that this authority
/// designates; for a procedure routed to one authority, those of the establishments.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    app: &App,
    tx: &mut Tx,
    case_id: &str,
    reference: &str,
    authority_code: &str,
    def: &ProcedureDefinition,
    data: &FilingData,
    filing_id: &str,
    corporation: &CorporationRow,
    designations: &[DesignationRow],
) -> CoreResult<()> {
    let ests = filings::filing_establishments(tx, filing_id).await?;
    let mut parts: Vec<String> = vec![reference.to_owned(), corporation.name.clone()];
    parts.extend(corporation.corporate_number.clone());
    parts.extend(reading(&corporation.profile));
    let mut services: Vec<String> = designations
        .iter()
        .map(|d| d.service_code.clone())
        .collect();
    for e in &ests {
        let est = registry::get_establishment(tx, e).await?;
        parts.push(est.name.clone());
        parts.push(est.office_number.clone());
        parts.extend(reading(&est.profile));
        if !designations.is_empty() {
            continue;
        }
        if let Some(annexes) = &def.annexes {
            for code in data.choices(&annexes.field) {
                if crate::filings::designator(app, tx, e, &code)
                    .await?
                    .as_deref()
                    == Some(authority_code)
                {
                    services.push(code);
                }
            }
        } else {
            for d in registry::designations_of_establishment(tx, e).await? {
                services.push(d.service_code);
            }
        }
    }
    services.sort();
    services.dedup();
    let search_text = normalize_search(&parts.join("\n"));
    let codes = if services.is_empty() {
        String::new()
    } else {
        format!(",{},", services.join(","))
    };
    inbox::set_listing(tx, case_id, &search_text, &codes).await?;
    Ok(())
}

/// The reading (`name_kana`) of a registry profile, if it has one.
fn reading(profile: &str) -> Option<String> {
    registry::parse_profile(profile)
        .ok()?
        .get("name_kana")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
