//! Uploaded files' metadata. The bytes live content-addressed (by SHA-256) in the blob store;
//! a row here is one upload by one party, and links tie it to the filings it serves.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub filename: String,
    /// Owner on the provider side (None for files an authority uploaded).
    pub corporation_id: Option<String>,
    /// Owner on the authority side (files sent with a return).
    pub authority_code: Option<String>,
    pub uploaded_by: String,
    pub created_at: i64,
}

/// An attachment as linked to a filing for one requirement of its procedure.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FilingAttachmentRow {
    pub attachment_id: String,
    pub requirement_id: String,
    pub filename: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub added_at: i64,
}

pub async fn insert_attachment(tx: &mut Tx, a: &AttachmentRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO attachments (id, sha256, size_bytes, content_type, filename, corporation_id, authority_code, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&a.id).bind(&a.sha256).bind(a.size_bytes).bind(&a.content_type).bind(&a.filename)
        .bind(&a.corporation_id).bind(&a.authority_code).bind(&a.uploaded_by).bind(a.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_attachment(tx: &mut Tx, id: &str) -> DbResult<AttachmentRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AttachmentRow>(
        "SELECT id, sha256, size_bytes, content_type, filename, corporation_id, authority_code, uploaded_by, created_at
         FROM attachments WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

/// Files a corporation has uploaded, newest first (for reuse in another filing).
pub async fn list_of_corporation(
    tx: &mut Tx,
    corporation_id: &str,
) -> DbResult<Vec<AttachmentRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AttachmentRow>(
        "SELECT id, sha256, size_bytes, content_type, filename, corporation_id, authority_code, uploaded_by, created_at
         FROM attachments WHERE corporation_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(corporation_id).fetch_all(c).await)?)
}

/// Links a file to a filing for a requirement; linking twice is a no-op.
pub async fn link(
    tx: &mut Tx,
    filing_id: &str,
    attachment_id: &str,
    requirement_id: &str,
    now: i64,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO filing_attachments (filing_id, attachment_id, requirement_id, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (filing_id, attachment_id, requirement_id) DO NOTHING")
        .bind(filing_id).bind(attachment_id).bind(requirement_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn unlink(
    tx: &mut Tx,
    filing_id: &str,
    attachment_id: &str,
    requirement_id: &str,
) -> DbResult<u64> {
    let r = with_conn!(tx, c => sqlx::query(
        "DELETE FROM filing_attachments WHERE filing_id = $1 AND attachment_id = $2 AND requirement_id = $3")
        .bind(filing_id).bind(attachment_id).bind(requirement_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(r)
}

pub async fn of_filing(tx: &mut Tx, filing_id: &str) -> DbResult<Vec<FilingAttachmentRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, FilingAttachmentRow>(
        "SELECT fa.attachment_id, fa.requirement_id, a.filename, a.sha256, a.size_bytes, a.content_type, fa.added_at
         FROM filing_attachments fa JOIN attachments a ON a.id = fa.attachment_id
         WHERE fa.filing_id = $1 ORDER BY fa.requirement_id, fa.added_at, a.id")
        .bind(filing_id).fetch_all(c).await)?,
    )
}

/// Every distinct blob hash referenced (for integrity checks and backups).
pub async fn all_hashes(tx: &mut Tx) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT DISTINCT sha256 FROM attachments ORDER BY sha256").fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Whether an authority may see a file: it uploaded it, or a case addressed to it concerns a
/// filing that links the file now or linked it in a submitted version. `attachment_id` must
/// be a plain id (the caller validates it; it is used inside a LIKE pattern).
pub async fn visible_to_authority(
    tx: &mut Tx,
    attachment_id: &str,
    authority_code: &str,
) -> DbResult<bool> {
    let pattern = format!("%\"{attachment_id}\"%");
    let r: Option<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT a.id FROM attachments a WHERE a.id = $1 AND a.authority_code = $2
         UNION ALL
         SELECT fa.attachment_id FROM filing_attachments fa JOIN cases c ON c.filing_id = fa.filing_id
         WHERE fa.attachment_id = $1 AND c.authority_code = $2
         UNION ALL
         SELECT v.id FROM filing_versions v JOIN cases c ON c.filing_id = v.filing_id
         WHERE c.authority_code = $2 AND v.attachments LIKE $3
         LIMIT 1")
        .bind(attachment_id).bind(authority_code).bind(&pattern).fetch_optional(c).await)?;
    Ok(r.is_some())
}

/// Whether a corporation may see a file: it uploaded it, or an authority sent it with a
/// provider-visible event on one of the corporation's cases.
pub async fn visible_to_corporation(
    tx: &mut Tx,
    attachment_id: &str,
    corporation_id: &str,
) -> DbResult<bool> {
    let pattern = format!("%\"{attachment_id}\"%");
    let r: Option<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT a.id FROM attachments a WHERE a.id = $1 AND a.corporation_id = $2
         UNION ALL
         SELECT e.id FROM case_events e JOIN cases c ON c.id = e.case_id
         WHERE c.corporation_id = $2 AND e.visibility = 'provider' AND e.attachments LIKE $3
         LIMIT 1")
        .bind(attachment_id).bind(corporation_id).bind(&pattern).fetch_optional(c).await)?;
    Ok(r.is_some())
}
