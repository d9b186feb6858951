//! The rows of the ledger exports, streamed from the database one at a time (sqlx `fetch`), so
//! an export of any size needs constant memory. Both streams are in a stable order.

use futures::stream::{BoxStream, StreamExt};

use crate::{Backend, DbError, DbResult, Tx, with_conn};

/// One designation of the authority with its establishment and corporation.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DesignationExportRow {
    pub office_number: String,
    pub service_code: String,
    pub valid_from: String,
    pub valid_until: String,
    pub municipality_code: String,
    /// The establishment's profile (JSON text).
    pub establishment_profile: String,
    pub corporate_number: Option<String>,
    /// The corporation's profile (JSON text).
    pub corporation_profile: String,
}

/// One accepted case of the authority.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseExportRow {
    pub reference: String,
    pub procedure_id: String,
    pub status: String,
    pub corporate_number: Option<String>,
    pub corporation_name: String,
    /// The office numbers the case concerns, space-separated, sorted.
    pub office_numbers: Option<String>,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    pub registry_changes: i64,
}

/// The authority's designations, by office number then service code.
pub fn designations<'a>(
    tx: &'a mut Tx,
    authority_code: &'a str,
) -> BoxStream<'a, DbResult<DesignationExportRow>> {
    with_conn!(tx, c => sqlx::query_as::<_, DesignationExportRow>(
        "SELECT e.office_number, d.service_code, d.valid_from, d.valid_until, e.municipality_code,
                e.profile AS establishment_profile, co.corporate_number, co.profile AS corporation_profile
         FROM designations d
         JOIN establishments e ON e.id = d.establishment_id
         JOIN corporations co ON co.id = e.corporation_id
         WHERE d.authority_code = $1
         ORDER BY e.office_number, d.service_code")
        .bind(authority_code).fetch(c).map(|r| r.map_err(DbError::from)).boxed())
}

/// The authority's accepted cases, in the order they were decided.
pub fn accepted_cases<'a>(
    tx: &'a mut Tx,
    authority_code: &'a str,
) -> BoxStream<'a, DbResult<CaseExportRow>> {
    // Aggregating the office numbers is the one place the dialects differ.
    let sql = match tx.backend() {
        Backend::Sqlite => {
            "SELECT c.reference, c.procedure_id, c.status, co.corporate_number, co.name AS corporation_name,
                (SELECT group_concat(office_number, ' ') FROM (
                    SELECT DISTINCT e.office_number FROM case_designations cd
                    JOIN designations d ON d.id = cd.designation_id JOIN establishments e ON e.id = d.establishment_id
                    WHERE cd.case_id = c.id ORDER BY e.office_number)) AS office_numbers,
                c.submitted_at, c.decided_at,
                (SELECT COUNT(*) FROM registry_changes rc WHERE rc.case_id = c.id) AS registry_changes
             FROM cases c JOIN corporations co ON co.id = c.corporation_id
             WHERE c.authority_code = $1 AND c.status = 'accepted'
             ORDER BY c.decided_at, c.id"
        }
        Backend::Postgres => {
            "SELECT c.reference, c.procedure_id, c.status, co.corporate_number, co.name AS corporation_name,
                (SELECT string_agg(DISTINCT e.office_number, ' ' ORDER BY e.office_number) FROM case_designations cd
                    JOIN designations d ON d.id = cd.designation_id JOIN establishments e ON e.id = d.establishment_id
                    WHERE cd.case_id = c.id) AS office_numbers,
                c.submitted_at, c.decided_at,
                (SELECT COUNT(*) FROM registry_changes rc WHERE rc.case_id = c.id) AS registry_changes
             FROM cases c JOIN corporations co ON co.id = c.corporation_id
             WHERE c.authority_code = $1 AND c.status = 'accepted'
             ORDER BY c.decided_at, c.id"
        }
    };
    with_conn!(tx, c => sqlx::query_as::<_, CaseExportRow>(sql)
        .bind(authority_code).fetch(c).map(|r| r.map_err(DbError::from)).boxed())
}
