//! Files: uploading (stored content-addressed, durable before the row commits) and linking an
//! uploaded file to a filing's attachment requirement. One upload may serve many filings.

use madoguchi_db::attachments::{self, AttachmentRow};
use madoguchi_db::new_id;

use super::{definition_of, load_own};
use crate::{Actor, App, CoreError, CoreResult};

/// Stores an uploaded file for the actor's organisation; returns the attachment id.
pub async fn upload(
    app: &App,
    actor: &Actor,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> CoreResult<String> {
    let row = store(app, actor, filename, content_type, bytes).await?;
    let mut tx = app.db.begin().await?;
    record_upload(&mut tx, actor, &row).await?;
    tx.commit().await?;
    Ok(row.id)
}

/// Checks an upload and writes its bytes durably (file and directory fsynced) to the blob
/// store; returns the row to record with [`record_upload`]. Done before the transaction, so
/// the disk write does not hold the database's write lock.
pub(crate) async fn store(
    app: &App,
    actor: &Actor,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> CoreResult<AttachmentRow> {
    let filename = sanitize_filename(filename);
    if bytes.is_empty() {
        return Err(CoreError::field(
            "file",
            "empty",
            "ファイルが空です。内容のあるファイルを選んでください。",
        ));
    }
    if bytes.len() as u64 > app.config.max_upload_bytes {
        return Err(CoreError::field(
            "file",
            "too_large",
            format!(
                "ファイルが大きすぎます（上限 {} MB）。",
                app.config.max_upload_bytes / 1024 / 1024
            ),
        ));
    }
    let (corporation_id, authority_code) = match (actor.corporation_id(), actor.authority_code()) {
        (Some(c), _) => (Some(c.to_string()), None),
        (None, Some(a)) => (None, Some(a.to_string())),
        _ => {
            return Err(CoreError::Forbidden(
                "ファイルを登録できるのは事業者または自治体の担当者です。".into(),
            ));
        }
    };
    // Type, macros, archive limits and the optional virus scan, before anything is stored.
    let policy = crate::uploads::UploadPolicy::from_config(&app.config);
    let bytes = crate::uploads::check(&policy, &filename, bytes).await?;
    let size = bytes.len() as i64;
    let sha = app.blobs.put(bytes).await?;
    Ok(AttachmentRow {
        id: new_id(),
        sha256: sha,
        size_bytes: size,
        content_type: content_type.chars().take(100).collect(),
        filename,
        corporation_id,
        authority_code,
        uploaded_by: actor.user_id.clone(),
        created_at: app.now_ms(),
    })
}

/// Records a stored upload (row and audit event) in the caller's transaction.
pub(crate) async fn record_upload(
    tx: &mut madoguchi_db::Tx,
    actor: &Actor,
    row: &AttachmentRow,
) -> CoreResult<()> {
    attachments::insert_attachment(tx, row).await?;
    madoguchi_db::audit::append(
        tx,
        row.created_at,
        &actor.user_id,
        "attachment.uploaded",
        "attachment",
        &row.id,
        &serde_json::json!({ "sha256": row.sha256, "size": row.size_bytes }),
    )
    .await?;
    Ok(())
}

/// Links one of the corporation's uploads to a filing for a requirement of its procedure.
pub async fn link_attachment(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    attachment_id: &str,
    requirement_id: &str,
) -> CoreResult<()> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    link_in(
        app,
        &mut tx,
        actor,
        filing_id,
        attachment_id,
        requirement_id,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`link_attachment`] in the caller's transaction.
pub(crate) async fn link_in(
    app: &App,
    tx: &mut madoguchi_db::Tx,
    actor: &Actor,
    filing_id: &str,
    attachment_id: &str,
    requirement_id: &str,
    now: i64,
) -> CoreResult<()> {
    let f = load_own(tx, actor, filing_id).await?;
    let standard = definition_of(app, &f)?;
    // Requirements include those of every addressee's local rules.
    let data = super::parse_data(&f.data)?;
    let ests = madoguchi_db::filings::filing_establishments(tx, filing_id).await?;
    let to = super::addressees(app, tx, &f, standard, &data, &ests).await?;
    let def = to.merged(app, standard);
    if def.attachment(requirement_id).is_none() {
        return Err(CoreError::field(
            "requirement_id",
            "unknown_requirement",
            "添付書類の種類が正しくありません。",
        ));
    }
    let a = attachments::get_attachment(tx, attachment_id)
        .await
        .map_err(|_| {
            CoreError::field(
                "attachment_id",
                "unknown_attachment",
                "指定されたファイルが見つかりません。",
            )
        })?;
    if a.corporation_id.as_deref() != Some(f.corporation_id.as_str()) {
        return Err(CoreError::field(
            "attachment_id",
            "unknown_attachment",
            "指定されたファイルが見つかりません。",
        ));
    }
    // Per-filing total: each distinct file counts once, however many requirements it serves.
    let linked = attachments::of_filing(tx, filing_id).await?;
    if !linked.iter().any(|l| l.attachment_id == a.id) {
        let mut seen = std::collections::HashSet::new();
        let total: u64 = linked
            .iter()
            .filter(|l| seen.insert(l.attachment_id.as_str()))
            .map(|l| l.size_bytes.max(0) as u64)
            .sum();
        if total + a.size_bytes.max(0) as u64 > app.config.max_filing_bytes {
            return Err(CoreError::field(
                "file",
                "filing_too_large",
                format!(
                    "この申請の添付ファイルの合計が上限 {} MB を超えるため、「{}」を添付できません。",
                    app.config.max_filing_bytes / 1024 / 1024,
                    a.filename
                ),
            ));
        }
    }
    attachments::link(tx, filing_id, attachment_id, requirement_id, now).await?;
    madoguchi_db::audit::append(
        tx,
        now,
        &actor.user_id,
        "filing.attachment_linked",
        "filing",
        filing_id,
        &serde_json::json!({ "attachment": attachment_id, "requirement": requirement_id }),
    )
    .await?;
    Ok(())
}

/// Removes a file from a filing's requirement (the upload itself is kept).
pub async fn detach(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    attachment_id: &str,
    requirement_id: &str,
) -> CoreResult<()> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    load_own(&mut tx, actor, filing_id).await?;
    if attachments::unlink(&mut tx, filing_id, attachment_id, requirement_id).await? == 0 {
        return Err(CoreError::NotFound);
    }
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "filing.attachment_unlinked",
        "filing",
        filing_id,
        &serde_json::json!({ "attachment": attachment_id, "requirement": requirement_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Keeps a display name only: no directories, no control characters, bounded length.
fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "file".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames_lose_paths_and_controls() {
        assert_eq!(super::sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(super::sanitize_filename("C:\\x\\平面図.pdf"), "平面図.pdf");
        assert_eq!(super::sanitize_filename("a\u{0}b\n.pdf"), "ab.pdf");
        assert_eq!(super::sanitize_filename(""), "file");
    }
}
