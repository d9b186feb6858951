//! The job worker loop: claim one due job, run it, record the attempt, repeat; sleep until
//! woken by an enqueue or until the next job is due. Runs inside `serve` by default, or alone
//! as `madoguchi worker`.

use std::time::Duration;

use madoguchi_db::jobs::{self, JobRow};

use crate::mail::{MailError, Mailer, OutgoingMail};
use crate::{App, CoreResult};

/// How long a claimed job is leased before another worker may take it over.
const LEASE_MS: i64 = 5 * 60_000;
/// Longest idle sleep (a safety net; enqueues wake the worker at once).
const MAX_IDLE: Duration = Duration::from_secs(5);

/// What running one job did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    Nothing,
    Succeeded,
    Failed,
}

/// Claims and runs at most one due job.
pub async fn run_once(app: &App, mailer: &Mailer) -> CoreResult<Ran> {
    let started = app.now_ms();
    let mut tx = app.db.begin().await?;
    let job = jobs::claim(&mut tx, started, started + LEASE_MS).await?;
    tx.commit().await?;
    let Some(job) = job else {
        return Ok(Ran::Nothing);
    };
    let result = perform(app, mailer, &job).await;
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let ran = match result {
        Ok(()) => {
            jobs::finish(&mut tx, &job, started, now, None, None).await?;
            Ran::Succeeded
        }
        Err((msg, retryable)) => {
            let retry_at = (retryable && job.attempts < job.max_attempts)
                .then(|| now + super::backoff_ms(app.config.job_backoff_base_ms, job.attempts));
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %msg, "job attempt failed");
            jobs::finish(&mut tx, &job, started, now, Some(&msg), retry_at).await?;
            Ran::Failed
        }
    };
    tx.commit().await?;
    Ok(ran)
}

/// Runs jobs until every due job is done (tests and the CLI use this to drain the queue).
pub async fn drain(app: &App, mailer: &Mailer) -> CoreResult<usize> {
    let mut n = 0;
    while run_once(app, mailer).await? != Ran::Nothing {
        n += 1;
    }
    Ok(n)
}

/// The worker loop; returns when `shutdown` resolves.
pub async fn run_forever(
    app: App,
    mailer: Mailer,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // The daily notification sweep schedules itself from its first run on.
    if let Err(e) = crate::notifications::sweep::schedule(&app).await {
        tracing::error!(error = %e, "could not schedule the daily notification sweep");
    }
    loop {
        match run_once(&app, &mailer).await {
            Ok(Ran::Nothing) => {
                let wait = idle_wait(&app).await;
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = app.jobs_waker.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "job runner failed; retrying shortly");
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

async fn idle_wait(app: &App) -> Duration {
    let next = async {
        let mut tx = app.db.begin_read().await?;
        let n = jobs::next_run_at(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, madoguchi_db::DbError>(n)
    };
    match next.await {
        Ok(Some(at)) => {
            Duration::from_millis((at - app.now_ms()).clamp(10, MAX_IDLE.as_millis() as i64) as u64)
        }
        _ => MAX_IDLE,
    }
}

/// Performs a job; Err carries the message and whether a retry may help.
async fn perform(app: &App, mailer: &Mailer, job: &JobRow) -> Result<(), (String, bool)> {
    match job.kind.as_str() {
        crate::ledger::webhooks::KIND_WEBHOOK => crate::ledger::webhooks::deliver(app, job).await,
        crate::notifications::sweep::KIND_SWEEP => crate::notifications::sweep::run_job(app).await,
        super::KIND_MAIL => {
            let mail: OutgoingMail = serde_json::from_str(&job.payload)
                .map_err(|e| (format!("bad payload: {e}"), false))?;
            mailer.send(&mail).await.map_err(|e| match e {
                MailError::Transient(m) => (m, true),
                MailError::Permanent(m) => (m, false),
                MailError::Address(m) => (m, false),
            })
        }
        other => Err((format!("unknown job kind {other}"), false)),
    }
}
