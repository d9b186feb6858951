//! Mail delivery survives a relay that refuses messages for a while: each refused attempt is
//! recorded as `retry`, the job waits out an exponential backoff, and every notice is finally
//! delivered exactly once. The servers here run without the in-process worker, so the test
//! runs every job itself (`run_once`) and sees each attempt in order.

use std::collections::BTreeMap;
use std::time::Duration;

use madoguchi_core::App;
use madoguchi_core::jobs::runner::{Ran, run_once};
use madoguchi_core::jobs::{backoff_ms, enqueue_mail};
use madoguchi_core::mail::{Mailer, OutgoingMail};
use madoguchi_db::jobs::{self, JobAttemptRow, JobRow};
use madoguchi_testing::smtp_sink::SmtpSink;
use madoguchi_testing::{TestBackend, TestServer, backends};

use crate::common::representative_change;

/// Runs due jobs until none is queued any more, sleeping until the next retry is due in
/// between. Bounded: panics if the queue has not emptied within ten seconds.
async fn run_jobs_until_idle(app: &App, backend: TestBackend) {
    let mailer = Mailer::new(&app.config.mail).expect("mailer");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "[{backend}] jobs still queued after 10 s"
        );
        let ran = run_once(app, &mailer)
            .await
            .unwrap_or_else(|e| panic!("[{backend}] run_once: {e}"));
        if ran != Ran::Nothing {
            continue;
        }
        let mut tx = app.db.begin_read().await.expect("begin");
        let next = jobs::next_run_at(&mut tx).await.expect("next_run_at");
        tx.commit().await.expect("commit");
        let Some(next) = next else { return };
        let wait = (next - app.now_ms()).clamp(1, 200);
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
}

/// Every mail job with its attempts, oldest job first.
async fn mail_jobs(app: &App) -> Vec<(JobRow, Vec<JobAttemptRow>)> {
    let mut tx = app.db.begin_read().await.expect("begin");
    let mut out = Vec::new();
    for job in jobs::list_jobs(&mut tx, 1000).await.expect("list jobs") {
        if job.kind == madoguchi_core::jobs::KIND_MAIL {
            let attempts = jobs::attempts_of(&mut tx, &job.id).await.expect("attempts");
            out.push((job, attempts));
        }
    }
    tx.commit().await.expect("commit");
    out.reverse();
    out
}

/// Checks one job's attempt history: numbered 1.., only `retry` before a final `ok`, each
/// retry started no earlier than its backoff allowed, and `run_at` moved to the last retry time.
fn assert_backed_off(app: &App, backend: TestBackend, job: &JobRow, attempts: &[JobAttemptRow]) {
    let base = app.config.job_backoff_base_ms;
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    let (last, retries) = outcomes.split_last().expect("at least one attempt");
    assert!(
        *last == "ok" && retries.iter().all(|o| *o == "retry"),
        "[{backend}] job {}: retries then one success, got {outcomes:?}",
        job.id
    );
    assert_eq!(job.status, "done", "[{backend}] job {}", job.id);
    assert_eq!(
        job.attempts,
        attempts.len() as i64,
        "[{backend}] job {}",
        job.id
    );
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.attempt_no, i as i64 + 1, "[{backend}] attempt numbering");
    }
    for pair in attempts.windows(2) {
        let due = pair[0].finished_at + backoff_ms(base, pair[0].attempt_no);
        assert!(
            pair[1].started_at >= due,
            "[{backend}] attempt {} started at {}, before its backoff ended at {due}",
            pair[1].attempt_no,
            pair[1].started_at
        );
    }
    if let Some(failed) = attempts.iter().rev().find(|a| a.outcome == "retry") {
        let retry_at = failed.finished_at + backoff_ms(base, failed.attempt_no);
        assert_eq!(
            job.run_at, retry_at,
            "[{backend}] run_at moved to the retry time after the last refusal"
        );
        assert!(
            job.run_at > job.created_at,
            "[{backend}] run_at moved forward"
        );
    } else {
        assert_eq!(job.run_at, job.created_at, "[{backend}] never rescheduled");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_notices_refused_by_the_relay_are_retried_and_all_delivered() {
    for backend in backends() {
        let sink = SmtpSink::start_failing_first(2).await;
        let srv = TestServer::start_without_worker(backend, sink).await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = p1
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/filings/{fid}/submit"),
                None,
                &[("Idempotency-Key", "mail-retry-1")],
            )
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);

        run_jobs_until_idle(&srv.app, backend).await;

        assert_eq!(
            srv.sink.rejected_attempts(),
            2,
            "[{backend}] the relay refused the first two messages"
        );
        let mails = srv.sink.messages();
        let arrivals = mails
            .iter()
            .filter(|m| m.subject.contains("が提出されました"))
            .count();
        assert_eq!(
            arrivals, 5,
            "[{backend}] all five arrival notices delivered"
        );
        assert_eq!(mails.len(), 5, "[{backend}] and nothing twice");

        let jobs = mail_jobs(&srv.app).await;
        assert_eq!(jobs.len(), 5, "[{backend}] one mail job per authority");
        for (job, attempts) in &jobs {
            assert_backed_off(&srv.app, backend, job, attempts);
        }
        let mut outcomes = BTreeMap::new();
        for a in jobs.iter().flat_map(|(_, a)| a) {
            *outcomes.entry(a.outcome.as_str()).or_insert(0) += 1;
        }
        assert_eq!(
            outcomes,
            BTreeMap::from([("ok", 5), ("retry", 2)]),
            "[{backend}] two refused attempts, five deliveries"
        );
        // A refused job steps aside rather than blocking the queue: the next due job takes the
        // second refusal, so two jobs each show `retry`, `ok`.
        let retried: Vec<Vec<&str>> = jobs
            .iter()
            .filter(|(_, a)| a.len() > 1)
            .map(|(_, a)| a.iter().map(|x| x.outcome.as_str()).collect())
            .collect();
        assert_eq!(
            retried,
            [["retry", "ok"], ["retry", "ok"]],
            "[{backend}] the two refusals hit two jobs"
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_refused_twice_backs_off_twice_then_is_delivered() {
    for backend in backends() {
        let sink = SmtpSink::start_failing_first(2).await;
        let srv = TestServer::start_without_worker(backend, sink).await;
        let mail = OutgoingMail {
            to: vec!["kimura@sakura-fukushi.example.jp".into()],
            subject: "【窓口】再送のテスト".into(),
            body_text: "本文".into(),
        };
        let mut tx = srv.app.db.begin().await.expect("begin");
        enqueue_mail(&srv.app, &mut tx, &mail, Some("mail-retry-single"))
            .await
            .unwrap_or_else(|e| panic!("[{backend}] enqueue: {e}"));
        tx.commit().await.expect("commit");

        run_jobs_until_idle(&srv.app, backend).await;

        assert_eq!(srv.sink.rejected_attempts(), 2, "[{backend}] two refusals");
        let mails = srv.sink.messages();
        assert_eq!(mails.len(), 1, "[{backend}] delivered once");
        assert_eq!(mails[0].subject, "【窓口】再送のテスト");
        let jobs = mail_jobs(&srv.app).await;
        assert_eq!(jobs.len(), 1, "[{backend}] one job");
        let (job, attempts) = &jobs[0];
        let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
        assert_eq!(
            outcomes,
            ["retry", "retry", "ok"],
            "[{backend}] every attempt recorded"
        );
        assert!(
            attempts[0].error.as_deref().is_some_and(|e| !e.is_empty()),
            "[{backend}] the refusal is kept: {:?}",
            attempts[0].error
        );
        // Backoff doubles: base after the first refusal, twice the base after the second.
        assert_backed_off(&srv.app, backend, job, attempts);
        let base = srv.app.config.job_backoff_base_ms;
        assert!(
            attempts[2].started_at - attempts[1].finished_at >= 2 * base,
            "[{backend}] the second wait is at least twice the base"
        );
        srv.stop().await;
    }
}
