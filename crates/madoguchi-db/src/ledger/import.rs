//! Look-ups and updates the ledger import needs beyond the registry module: records by their
//! natural keys (事業所番号, 法人番号, (establishment, service)), and a designation's dates.

use crate::registry::{CorporationRow, DesignationRow, EstablishmentRow};
use crate::{DbResult, Tx, with_conn};

pub async fn establishment_by_office_number(
    tx: &mut Tx,
    office_number: &str,
) -> DbResult<Option<EstablishmentRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, EstablishmentRow>(
        "SELECT id, corporation_id, office_number, municipality_code, name, profile, created_at, updated_at
         FROM establishments WHERE office_number = $1")
        .bind(office_number).fetch_optional(c).await)?)
}

pub async fn corporation_by_number(
    tx: &mut Tx,
    corporate_number: &str,
) -> DbResult<Option<CorporationRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CorporationRow>(
        "SELECT id, corporate_number, name, profile, created_at, updated_at FROM corporations WHERE corporate_number = $1")
        .bind(corporate_number).fetch_optional(c).await)?)
}

/// A corporation without 法人番号 is known by its exact name (the first one, if several).
pub async fn corporation_without_number_by_name(
    tx: &mut Tx,
    name: &str,
) -> DbResult<Option<CorporationRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CorporationRow>(
        "SELECT id, corporate_number, name, profile, created_at, updated_at FROM corporations
         WHERE corporate_number IS NULL AND name = $1 ORDER BY created_at, id LIMIT 1")
        .bind(name).fetch_optional(c).await)?)
}

pub async fn designation_of(
    tx: &mut Tx,
    establishment_id: &str,
    service_code: &str,
) -> DbResult<Option<DesignationRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DesignationRow>(
        "SELECT id, establishment_id, service_code, authority_code, valid_from, valid_until
         FROM designations WHERE establishment_id = $1 AND service_code = $2")
        .bind(establishment_id).bind(service_code).fetch_optional(c).await)?)
}

pub async fn set_designation_dates(
    tx: &mut Tx,
    id: &str,
    valid_from: &str,
    valid_until: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE designations SET valid_from = $1, valid_until = $2 WHERE id = $3")
        .bind(valid_from).bind(valid_until).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
