//! A complete submission in one request, as system-to-system clients send it (the shape of
//! Altinn's and Open Forms' submission APIs): the answers, the files and the submit together.
//! The files are checked and written durably first (file and directory fsynced, outside the
//! database's write lock); then the draft, the files' rows, their links and the submission
//! commit in one transaction. Nothing is acknowledged before both are durable; a refusal
//! (validation, unknown establishment, missing document) commits nothing.

use madoguchi_db::filings;

use super::NewFiling;
use super::attach::{link_in, record_upload, store};
use super::create::create_in;
use super::submit::{SubmitOutcome, submit_in};
use crate::{Actor, App, CoreError, CoreResult};

/// A file sent with a submission, for one attachment requirement of the procedure.
#[derive(Clone, Debug)]
pub struct SubmittedFile {
    /// Which requirement it answers, e.g. `registry_certificate`.
    pub requirement_id: String,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Creates a filing with `new`'s answers (laid over the registry's prefill), attaches
/// `files` and submits it, in one commit. With an idempotency key already used by this user,
/// answers with the first outcome (`replayed`) and stores nothing.
pub async fn submit_complete(
    app: &App,
    actor: &Actor,
    new: NewFiling,
    files: Vec<SubmittedFile>,
    idempotency_key: Option<&str>,
) -> CoreResult<SubmitOutcome> {
    actor.require_provider()?;
    actor.require_can_submit()?;
    if let Some(key) = idempotency_key {
        if key.is_empty() || key.len() > 200 {
            return Err(CoreError::field(
                "Idempotency-Key",
                "invalid",
                "Idempotency-Key は1〜200文字で指定してください。",
            ));
        }
        let mut tx = app.db.begin_read().await?;
        if let Some(previous) = filings::idempotency_lookup(&mut tx, &actor.user_id, key).await? {
            let version_no = filings::next_version_no(&mut tx, &previous).await? - 1;
            tx.rollback().await?;
            return Ok(SubmitOutcome {
                filing_id: previous,
                case_ids: Vec::new(),
                version_no,
                replayed: true,
            });
        }
        tx.rollback().await?;
    }
    let mut stored = Vec::with_capacity(files.len());
    for f in files {
        let row = store(app, actor, &f.filename, &f.content_type, f.bytes).await?;
        stored.push((f.requirement_id, row));
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let id = create_in(app, &mut tx, actor, new).await?;
    for (requirement_id, row) in &stored {
        record_upload(&mut tx, actor, row).await?;
        link_in(app, &mut tx, actor, &id, &row.id, requirement_id, now).await?;
    }
    let out = submit_in(app, &mut tx, actor, &id, idempotency_key, now).await?;
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(out)
}
