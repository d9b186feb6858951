//! Downloading a file: the uploader's organisation, or an authority whose case concerns it.

use madoguchi_db::attachments::{self, AttachmentRow};

use crate::{Actor, App, CoreError, CoreResult, Role};

/// The file's metadata and verified bytes, or `NotFound` if the actor may not see it.
pub async fn download(
    app: &App,
    actor: &Actor,
    attachment_id: &str,
) -> CoreResult<(AttachmentRow, Vec<u8>)> {
    if !is_plain_id(attachment_id) {
        return Err(CoreError::NotFound);
    }
    let mut tx = app.db.begin_read().await?;
    let row = attachments::get_attachment(&mut tx, attachment_id).await?;
    let visible = match &actor.role {
        Role::Provider { corporation_id } => {
            attachments::visible_to_corporation(&mut tx, attachment_id, corporation_id).await?
        }
        Role::Reviewer { authority_code } | Role::AuthorityAdmin { authority_code } => {
            attachments::visible_to_authority(&mut tx, attachment_id, authority_code).await?
        }
        Role::Operator => false,
    };
    tx.commit().await?;
    if !visible {
        return Err(CoreError::NotFound);
    }
    let bytes = app.blobs.get(&row.sha256).await?;
    tracing::info!(actor = %actor.user_id, attachment = %attachment_id, "attachment downloaded");
    Ok((row, bytes))
}

/// Ids are UUIDs: hex digits and hyphens only (anything else cannot exist).
fn is_plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}
