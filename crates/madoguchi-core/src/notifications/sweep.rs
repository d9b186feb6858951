//! The daily sweep: reminders of deadlines (a draft or a returned case due within 7 days, then
//! within 1 day) and of designations running out (3 months, then 1 week before their last
//! valid day), then the daily digest mails. Run as a job (`notifications_sweep`) that
//! schedules itself: the worker enqueues the day's run at start ([`schedule`]), and each run
//! first enqueues the next day's, under the dedup key `sweep:<JST date>` so there is one run a
//! day however many workers start. Running it again the same day changes nothing: every
//! reminder is deduplicated per user by a key naming its stage, and the digest per user and
//! day by its mail job's key.

use chrono::{Days, Months, NaiveDate, NaiveTime, TimeZone};
use madoguchi_db::{filings, jobs, notifications as store};
use madoguchi_domain::reminders::{self, ExpiryStage};
use madoguchi_domain::wareki::format_date_ja;

use super::Notice;
use crate::clock::{jst, today_jst};
use crate::{App, CoreError, CoreResult};

/// Job kind of the daily sweep.
pub const KIND_SWEEP: &str = "notifications_sweep";

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Notifications written (one per user and reminder).
    pub notifications: usize,
    /// Digest mails enqueued.
    pub digests: usize,
}

/// The configured time of day (JST) of the sweep, or `None` when the sweep is off.
pub fn sweep_time(app: &App) -> CoreResult<Option<NaiveTime>> {
    let t = app.config.daily_sweep_at.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveTime::parse_from_str(t, "%H:%M")
        .map(Some)
        .map_err(|_| CoreError::Internal(format!("daily_sweep_at {t:?} is not HH:MM")))
}

/// Epoch milliseconds of `time` (JST) on `date`.
fn at_jst(date: NaiveDate, time: NaiveTime) -> i64 {
    jst()
        .from_local_datetime(&date.and_time(time))
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

/// Enqueues the sweep of `date` at its time (or now, if that is past). A day's run is
/// enqueued once: its dedup key names the date.
async fn enqueue_run(app: &App, date: NaiveDate, time: NaiveTime) -> CoreResult<()> {
    let now = app.now_ms();
    let run_at = at_jst(date, time).max(now);
    let mut tx = app.db.begin().await?;
    jobs::enqueue(
        &mut tx,
        KIND_SWEEP,
        "{}",
        Some(&format!("sweep:{date}")),
        run_at,
        app.config.job_max_attempts,
        now,
    )
    .await?;
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(())
}

/// Makes sure today's sweep is queued (the worker calls this when it starts). Nothing
/// happens when the sweep is off or today's run already exists.
pub async fn schedule(app: &App) -> CoreResult<()> {
    if let Some(time) = sweep_time(app)? {
        enqueue_run(app, today_jst(app.clock.as_ref()), time).await?;
    }
    Ok(())
}

/// The job: queue tomorrow's run first (so a failing sweep never stops the schedule), then
/// sweep.
pub async fn run_job(app: &App) -> Result<(), (String, bool)> {
    let next = async {
        if let Some(time) = sweep_time(app)? {
            let tomorrow = today_jst(app.clock.as_ref()) + Days::new(1);
            enqueue_run(app, tomorrow, time).await?;
        }
        Ok::<_, CoreError>(())
    };
    next.await.map_err(|e| (e.to_string(), true))?;
    let report = sweep(app).await.map_err(|e| (e.to_string(), true))?;
    tracing::info!(
        notifications = report.notifications,
        digests = report.digests,
        "daily notification sweep done"
    );
    Ok(())
}

/// Writes today's reminders, then sends the daily digests.
pub async fn sweep(app: &App) -> CoreResult<SweepReport> {
    let today = today_jst(app.clock.as_ref());
    let notifications = reminders_for(app, today).await?;
    let digests = send_digests(app, today).await?;
    Ok(SweepReport {
        notifications,
        digests,
    })
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_ymd(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// 「あと3日」, 「明日」, 「本日」.
fn days_left_ja(due: NaiveDate, today: NaiveDate) -> String {
    match reminders::days_until(due, today) {
        0 => "本日".into(),
        1 => "明日".into(),
        n => format!("あと{n}日"),
    }
}

async fn reminders_for(app: &App, today: NaiveDate) -> CoreResult<usize> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let mut written = 0;

    // Drafts due soon: the earliest due date among the authorities the draft goes to.
    for f in store::drafts(&mut tx).await? {
        let Some(def) = app.catalog.get(&f.procedure_id, &f.procedure_version) else {
            continue;
        };
        let Ok(data) = crate::filings::parse_data(&f.data) else {
            continue;
        };
        let ests = filings::filing_establishments(&mut tx, &f.id).await?;
        let to = crate::filings::addressees(app, &mut tx, &f, def, &data, &ests).await?;
        let due = to
            .codes()
            .iter()
            .filter_map(|code| to.due_on(app, def, &data, code))
            .filter_map(|d| parse_ymd(&d))
            .min();
        let Some(due) = due else { continue };
        let Some(stage) = reminders::deadline_stage(due, today) else {
            continue;
        };
        let notice = Notice {
            kind: "deadline",
            title: format!(
                "「{}」の提出期限が近づいています（{}）",
                def.title,
                days_left_ja(due, today)
            ),
            body: format!(
                "下書きの「{}」は、提出期限が{}です。まだ提出されていません。入力を終えて提出してください。",
                def.title,
                format_date_ja(due)
            ),
            href: format!("/filings/{}", f.id),
            dedupe_key: format!("deadline:filing:{}:{}:{}", f.id, ymd(due), stage.key()),
        };
        written +=
            super::notify_corporation(app, &mut tx, &f.corporation_id, &notice, None, &[], None)
                .await?;
    }

    // Returned cases due soon.
    let horizon = today + Days::new(7);
    for c in store::returned_cases_due(&mut tx, &ymd(today), &ymd(horizon)).await? {
        let Some(due) = parse_ymd(&c.due_on) else {
            continue;
        };
        let Some(stage) = reminders::deadline_stage(due, today) else {
            continue;
        };
        let title = app
            .catalog
            .latest(&c.procedure_id)
            .map(|d| d.title.clone())
            .unwrap_or_else(|| c.procedure_id.clone());
        let notice = Notice {
            kind: "deadline",
            title: format!(
                "差し戻された「{title}」の期限が近づいています（{}）",
                days_left_ja(due, today)
            ),
            body: format!(
                "{}から差し戻された「{title}」（到達番号 {}）の期限は{}です。内容を修正して再提出してください。",
                c.authority_name,
                c.reference,
                format_date_ja(due)
            ),
            href: format!("/filings/{}", c.filing_id),
            dedupe_key: format!("deadline:case:{}:{}:{}", c.id, ymd(due), stage.key()),
        };
        written +=
            super::notify_corporation(app, &mut tx, &c.corporation_id, &notice, None, &[], None)
                .await?;
    }

    // Designations ending within about 3 months (the exact mark is checked per row: 3 months
    // before a month's end can be fewer days away than today + 3 months).
    let until = today
        .checked_add_months(Months::new(3))
        .and_then(|d| d.checked_add_days(Days::new(4)))
        .unwrap_or(today);
    for d in store::designations_ending(&mut tx, &ymd(today), &ymd(until)).await? {
        let Some(valid_until) = parse_ymd(&d.valid_until) else {
            continue;
        };
        let Some(stage) = reminders::expiry_stage(valid_until, today) else {
            continue;
        };
        let service = madoguchi_domain::ids::find_service_type(&d.service_code)
            .map(|s| s.name.to_string())
            .unwrap_or_else(|| d.service_code.clone());
        let when = match stage {
            ExpiryStage::ThreeMonths => "3か月以内",
            ExpiryStage::OneWeek => "1週間以内",
        };
        let notice = Notice {
            kind: "designation_expiry",
            title: format!(
                "{}（{}）の指定の有効期間が{}に終わります",
                d.establishment_name, service, when
            ),
            body: format!(
                "{}（事業所番号 {}）の{}の指定（{}）は、{}で有効期間が終わります。引き続きサービスを提供するには、有効期間が終わる前に指定更新申請を提出してください。",
                d.establishment_name,
                d.office_number,
                service,
                d.authority_name,
                format_date_ja(valid_until)
            ),
            href: "/filings/new".into(),
            dedupe_key: format!("expiry:{}:{}:{}", d.id, d.valid_until, stage.key()),
        };
        written +=
            super::notify_corporation(app, &mut tx, &d.corporation_id, &notice, None, &[], None)
                .await?;
    }

    if written > 0 {
        madoguchi_db::audit::append(
            &mut tx,
            now,
            "system",
            "notifications.swept",
            "notifications",
            &ymd(today),
            &serde_json::json!({ "written": written }),
        )
        .await?;
    }
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(written)
}

/// One digest mail per user who chose the daily digest and has notifications not yet mailed,
/// at most one per user and day.
async fn send_digests(app: &App, today: NaiveDate) -> CoreResult<usize> {
    let mut tx = app.db.begin_read().await?;
    let recipients = store::digest_recipients(&mut tx).await?;
    tx.commit().await?;
    let mut sent = 0;
    for r in recipients {
        let now = app.now_ms();
        let key = format!("mail:digest:{}:{}", r.user_id, ymd(today));
        let mut tx = app.db.begin().await?;
        if jobs::exists_with_dedup_key(&mut tx, &key).await? {
            // Today's digest already went; what came since waits for tomorrow's.
            tx.rollback().await?;
            continue;
        }
        let items = store::unmailed_of_user(&mut tx, &r.user_id).await?;
        if items.is_empty() || r.email.trim().is_empty() {
            tx.rollback().await?;
            continue;
        }
        let mail = crate::jobs::notify::digest_mail(
            vec![r.email.clone()],
            &r.display_name,
            today,
            &items,
            &app.config.base_url,
        );
        crate::jobs::enqueue_mail(app, &mut tx, &mail, Some(&key)).await?;
        for n in &items {
            store::set_mailed(&mut tx, &n.id, now).await?;
        }
        madoguchi_db::audit::append(
            &mut tx,
            now,
            "system",
            "notifications.digest_sent",
            "user",
            &r.user_id,
            &serde_json::json!({ "notifications": items.len(), "date": ymd(today) }),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    if sent > 0 {
        app.jobs_waker.notify_one();
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_time_is_jst() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let t = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        // 07:00 JST is 22:00 UTC the day before.
        let expected = chrono::Utc
            .with_ymd_and_hms(2026, 11, 21, 22, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(at_jst(d, t), expected);
    }

    #[test]
    fn days_left_in_words() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 30).unwrap();
        assert_eq!(days_left_ja(today, today), "本日");
        assert_eq!(days_left_ja(today + Days::new(1), today), "明日");
        assert_eq!(days_left_ja(today + Days::new(5), today), "あと5日");
    }
}
