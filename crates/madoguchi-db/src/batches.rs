//! Drafts prepared together (`filing_batches`: the 変更届 drafts of one registry change, or a
//! 一括申請 for several establishments), where each prefilled answer came from
//! (`filing_prefill_sources`), and the look-ups that prefill needs from earlier filings.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BatchRow {
    pub id: String,
    pub corporation_id: String,
    /// `change` or `bulk`.
    pub kind: String,
    pub procedure_id: String,
    /// JSON (see the migration).
    pub summary: String,
    pub created_by: String,
    pub created_at: i64,
}

/// One answer filled in for the provider, and from where.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PrefillSourceRow {
    /// `fields.<id>` or `establishments.<establishment id>.<id>`.
    pub path: String,
    /// `registry`, `previous`, `change` or `annex`.
    pub source: String,
    pub source_ref: String,
    /// What the form shows beside the answer, e.g. 「登録情報から」.
    pub label: String,
    /// The answer as filled (JSON).
    pub value: String,
}

/// An earlier filing's submitted answers (its latest version).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EarlierFilingRow {
    pub filing_id: String,
    pub reference: Option<String>,
    pub data: String,
}

pub async fn insert_batch(tx: &mut Tx, b: &BatchRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO filing_batches (id, corporation_id, kind, procedure_id, summary, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&b.id).bind(&b.corporation_id).bind(&b.kind).bind(&b.procedure_id)
        .bind(&b.summary).bind(&b.created_by).bind(b.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn add_member(
    tx: &mut Tx,
    batch_id: &str,
    filing_id: &str,
    position: i64,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO filing_batch_members (batch_id, filing_id, position) VALUES ($1, $2, $3)")
        .bind(batch_id).bind(filing_id).bind(position)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_batch(tx: &mut Tx, id: &str) -> DbResult<BatchRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, BatchRow>(
        "SELECT id, corporation_id, kind, procedure_id, summary, created_by, created_at
         FROM filing_batches WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

/// A corporation's batches of one kind, newest first.
pub async fn batches_of(
    tx: &mut Tx,
    corporation_id: &str,
    kind: &str,
    limit: i64,
) -> DbResult<Vec<BatchRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, BatchRow>(
        "SELECT id, corporation_id, kind, procedure_id, summary, created_by, created_at
         FROM filing_batches WHERE corporation_id = $1 AND kind = $2
         ORDER BY created_at DESC, id DESC LIMIT $3")
        .bind(corporation_id).bind(kind).bind(limit).fetch_all(c).await)?)
}

/// The filings of a batch, in the order they were prepared.
pub async fn members(tx: &mut Tx, batch_id: &str) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT filing_id FROM filing_batch_members WHERE batch_id = $1 ORDER BY position, filing_id")
        .bind(batch_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The batch a filing was prepared in, if any.
pub async fn batch_of_filing(tx: &mut Tx, filing_id: &str) -> DbResult<Option<String>> {
    let r: Option<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT batch_id FROM filing_batch_members WHERE filing_id = $1")
        .bind(filing_id).fetch_optional(c).await)?;
    Ok(r.map(|r| r.0))
}

/// Records where answers came from; a path recorded again takes the new source.
pub async fn put_prefill_sources(
    tx: &mut Tx,
    filing_id: &str,
    rows: &[PrefillSourceRow],
) -> DbResult<()> {
    for r in rows {
        with_conn!(tx, c => sqlx::query(
            "INSERT INTO filing_prefill_sources (filing_id, path, source, source_ref, label, value)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (filing_id, path) DO UPDATE SET source = excluded.source,
                 source_ref = excluded.source_ref, label = excluded.label, value = excluded.value")
            .bind(filing_id).bind(&r.path).bind(&r.source).bind(&r.source_ref).bind(&r.label).bind(&r.value)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn prefill_sources(tx: &mut Tx, filing_id: &str) -> DbResult<Vec<PrefillSourceRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, PrefillSourceRow>(
        "SELECT path, source, source_ref, label, value FROM filing_prefill_sources
         WHERE filing_id = $1 ORDER BY path")
        .bind(filing_id).fetch_all(c).await)?)
}

/// The corporation's most recently submitted filing of a procedure that covers the
/// establishment (not withdrawn, not `except`), with the answers of its latest version.
pub async fn latest_submitted_for(
    tx: &mut Tx,
    corporation_id: &str,
    procedure_id: &str,
    establishment_id: &str,
    except: &str,
) -> DbResult<Option<EarlierFilingRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, EarlierFilingRow>(
        "SELECT f.id AS filing_id, f.reference, v.data
         FROM filings f
         JOIN filing_establishments fe ON fe.filing_id = f.id
         JOIN filing_versions v ON v.filing_id = f.id
         WHERE f.corporation_id = $1 AND f.procedure_id = $2 AND fe.establishment_id = $3
           AND f.status = 'submitted' AND f.id <> $4
         ORDER BY f.submitted_at DESC, f.id DESC, v.version_no DESC
         LIMIT 1")
        .bind(corporation_id).bind(procedure_id).bind(establishment_id).bind(except)
        .fetch_optional(c).await)?)
}

/// A filing of the corporation that covers an establishment, as a source of 付表 answers.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AnnexSourceRow {
    pub filing_id: String,
    pub procedure_id: String,
    pub procedure_version: String,
    pub status: String,
    pub reference: Option<String>,
    pub data: String,
    pub updated_at: i64,
    pub establishment_id: String,
    pub establishment_name: String,
}

/// The corporation's filings of these procedures (drafts included, withdrawn ones not),
/// one row per establishment each covers, most recently changed first.
pub async fn filings_covering(
    tx: &mut Tx,
    corporation_id: &str,
    procedure_id: &str,
    limit: i64,
) -> DbResult<Vec<AnnexSourceRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AnnexSourceRow>(
        "SELECT f.id AS filing_id, f.procedure_id, f.procedure_version, f.status, f.reference, f.data,
                f.updated_at, e.id AS establishment_id, e.name AS establishment_name
         FROM filings f
         JOIN filing_establishments fe ON fe.filing_id = f.id
         JOIN establishments e ON e.id = fe.establishment_id
         WHERE f.corporation_id = $1 AND f.procedure_id = $2 AND f.status <> 'withdrawn'
         ORDER BY f.updated_at DESC, f.id DESC, e.office_number
         LIMIT $3")
        .bind(corporation_id).bind(procedure_id).bind(limit).fetch_all(c).await)?)
}

/// Where each of a corporation's uploads is linked (filing id, requirement), for offering
/// them again with the context of their earlier use.
pub async fn upload_uses(
    tx: &mut Tx,
    corporation_id: &str,
) -> DbResult<Vec<(String, String, String)>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, (String, String, String)>(
        "SELECT fa.attachment_id, fa.filing_id, fa.requirement_id
         FROM filing_attachments fa JOIN attachments a ON a.id = fa.attachment_id
         WHERE a.corporation_id = $1 ORDER BY fa.added_at DESC")
        .bind(corporation_id).fetch_all(c).await)?,
    )
}
