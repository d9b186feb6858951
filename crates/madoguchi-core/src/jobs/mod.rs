//! Durable background jobs. A use case calls [`enqueue_mail`] inside its transaction; the
//! runner ([`runner`]) claims due jobs, performs them, records each attempt and retries with
//! exponential backoff. Job handlers are idempotent: a mail job whose attempt outcome was lost
//! may send again, never lose the mail.

pub mod notify;
pub mod runner;

use madoguchi_db::{Tx, jobs};

use crate::mail::OutgoingMail;
use crate::{App, CoreResult};

/// Kinds of job.
pub const KIND_MAIL: &str = "mail";

/// Enqueues an e-mail in the caller's transaction. `dedup_key` makes the enqueue idempotent.
pub async fn enqueue_mail(
    app: &App,
    tx: &mut Tx,
    mail: &OutgoingMail,
    dedup_key: Option<&str>,
) -> CoreResult<()> {
    if mail.to.is_empty() {
        return Ok(());
    }
    let now = app.now_ms();
    let payload = serde_json::to_string(mail)?;
    jobs::enqueue(
        tx,
        KIND_MAIL,
        &payload,
        dedup_key,
        now,
        app.config.job_max_attempts,
        now,
    )
    .await?;
    Ok(())
}

/// Delay before retry number `attempt` (1-based): base × 2^(attempt-1), at most one hour.
pub fn backoff_ms(base_ms: i64, attempt: i64) -> i64 {
    let shift = (attempt - 1).clamp(0, 20) as u32;
    base_ms.saturating_mul(1i64 << shift).min(3_600_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(super::backoff_ms(1000, 1), 1000);
        assert_eq!(super::backoff_ms(1000, 2), 2000);
        assert_eq!(super::backoff_ms(1000, 4), 8000);
        assert_eq!(super::backoff_ms(30_000, 30), 3_600_000);
    }
}
