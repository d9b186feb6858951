//! The durable job queue on both backends: claim order, leases, retry and dead outcomes with
//! their attempt rows, dedup keys, and several claimers racing over one queue. Times are
//! explicit milliseconds chosen by the test, so nothing waits on the wall clock.

use std::collections::BTreeMap;

use madoguchi_db::Db;
use madoguchi_db::jobs::{self, JobRow};
use madoguchi_testing::{TestBackend, backends};

use crate::migrated;

/// A lease long enough never to run out during a test.
const LEASE: i64 = 60_000;

async fn enqueue(db: &Db, payload: &str, dedup_key: Option<&str>, run_at: i64) {
    let mut tx = db.begin().await.expect("begin");
    jobs::enqueue(&mut tx, "mail", payload, dedup_key, run_at, 3, 0)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
}

async fn claim(db: &Db, now: i64, lease_until: i64) -> Option<JobRow> {
    let mut tx = db.begin().await.expect("begin");
    let job = jobs::claim(&mut tx, now, lease_until).await.expect("claim");
    tx.commit().await.expect("commit");
    job
}

async fn finish(db: &Db, job: &JobRow, now: i64, error: Option<&str>, retry_at: Option<i64>) {
    let mut tx = db.begin().await.expect("begin");
    jobs::finish(&mut tx, job, now, now, error, retry_at)
        .await
        .expect("finish");
    tx.commit().await.expect("commit");
}

async fn all_jobs(db: &Db) -> Vec<JobRow> {
    let mut tx = db.begin_read().await.expect("begin");
    let rows = jobs::list_jobs(&mut tx, 1000).await.expect("list jobs");
    tx.commit().await.expect("commit");
    rows
}

async fn job(db: &Db, id: &str) -> JobRow {
    all_jobs(db)
        .await
        .into_iter()
        .find(|j| j.id == id)
        .expect("job exists")
}

/// (attempt_no, outcome) of each attempt of a job, in order.
async fn attempts(db: &Db, id: &str) -> Vec<(i64, String)> {
    let mut tx = db.begin_read().await.expect("begin");
    let rows = jobs::attempts_of(&mut tx, id).await.expect("attempts");
    tx.commit().await.expect("commit");
    rows.into_iter()
        .map(|a| (a.attempt_no, a.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_returns_due_jobs_in_run_at_order() {
    for backend in backends() {
        let (_tdb, db) = migrated(backend).await;
        enqueue(&db, "third", None, 300).await;
        enqueue(&db, "first", None, 100).await;
        enqueue(&db, "not-yet-due", None, 5_000).await;
        enqueue(&db, "second", None, 200).await;
        let mut claimed = Vec::new();
        while let Some(j) = claim(&db, 1_000, 1_000 + LEASE).await {
            assert_eq!(j.status, "running", "[{backend}] a claimed job runs");
            assert_eq!(j.attempts, 1, "[{backend}] claiming counts an attempt");
            assert_eq!(j.locked_until, Some(1_000 + LEASE), "[{backend}] leased");
            claimed.push(j.payload);
        }
        assert_eq!(
            claimed,
            ["first", "second", "third"],
            "[{backend}] due jobs in run_at order, the future one left alone"
        );
        let later = claim(&db, 5_000, 5_000 + LEASE).await;
        assert_eq!(
            later.map(|j| j.payload).as_deref(),
            Some("not-yet-due"),
            "[{backend}] a job becomes claimable at its run_at"
        );
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leased_job_is_claimable_again_only_after_its_lease_expires() {
    for backend in backends() {
        let (_tdb, db) = migrated(backend).await;
        enqueue(&db, "p", None, 0).await;
        let first = claim(&db, 1_000, 2_000).await.expect("claimable");
        for now in [1_000, 1_500, 2_000] {
            assert!(
                claim(&db, now, now + LEASE).await.is_none(),
                "[{backend}] still leased at {now} (lease until 2000)"
            );
        }
        let again = claim(&db, 2_001, 3_000)
            .await
            .unwrap_or_else(|| panic!("[{backend}] an expired lease makes the job claimable"));
        assert_eq!(again.id, first.id, "[{backend}] the same job");
        assert_eq!(again.attempts, 2, "[{backend}] the takeover counts");
        assert_eq!(again.locked_until, Some(3_000), "[{backend}] a new lease");
        assert!(
            claim(&db, 2_500, 2_500 + LEASE).await.is_none(),
            "[{backend}] the new lease holds"
        );
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finish_with_retry_requeues_and_without_retry_marks_dead() {
    for backend in backends() {
        let (_tdb, db) = migrated(backend).await;
        enqueue(&db, "p", None, 0).await;
        let j = claim(&db, 1_000, 1_000 + LEASE).await.expect("claimable");
        finish(&db, &j, 1_100, Some("451 try again"), Some(5_000)).await;
        let row = job(&db, &j.id).await;
        assert_eq!(row.status, "queued", "[{backend}] back in the queue");
        assert_eq!(row.run_at, 5_000, "[{backend}] at the retry time");
        assert_eq!(row.locked_until, None, "[{backend}] lease released");
        assert_eq!(row.last_error.as_deref(), Some("451 try again"));
        assert_eq!(
            attempts(&db, &j.id).await,
            [(1, "retry".to_string())],
            "[{backend}] the attempt is recorded"
        );
        assert!(
            claim(&db, 4_999, 4_999 + LEASE).await.is_none(),
            "[{backend}] not before the retry time"
        );
        let j = claim(&db, 5_000, 5_000 + LEASE)
            .await
            .unwrap_or_else(|| panic!("[{backend}] claimable at the retry time"));
        assert_eq!(j.attempts, 2, "[{backend}] second attempt");
        finish(&db, &j, 5_100, Some("550 no such user"), None).await;
        let row = job(&db, &j.id).await;
        assert_eq!(row.status, "dead", "[{backend}] no retry: dead");
        assert_eq!(row.last_error.as_deref(), Some("550 no such user"));
        assert_eq!(
            attempts(&db, &j.id).await,
            [(1, "retry".to_string()), (2, "failed".to_string())],
            "[{backend}] both attempts recorded"
        );
        assert!(
            claim(&db, i64::MAX / 2, i64::MAX / 2 + LEASE)
                .await
                .is_none(),
            "[{backend}] a dead job is never claimed"
        );

        enqueue(&db, "ok", None, 0).await;
        let j = claim(&db, 6_000, 6_000 + LEASE).await.expect("claimable");
        finish(&db, &j, 6_100, None, None).await;
        assert_eq!(job(&db, &j.id).await.status, "done", "[{backend}] success");
        assert_eq!(attempts(&db, &j.id).await, [(1, "ok".to_string())]);
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_enqueue_with_the_same_dedup_key_is_a_no_op() {
    for backend in backends() {
        let (_tdb, db) = migrated(backend).await;
        enqueue(&db, "original", Some("mail:case-1:submitted"), 100).await;
        enqueue(&db, "duplicate", Some("mail:case-1:submitted"), 50).await;
        let rows = all_jobs(&db).await;
        assert_eq!(rows.len(), 1, "[{backend}] one job per dedup key");
        assert_eq!(
            rows[0].payload, "original",
            "[{backend}] the first one wins"
        );
        assert_eq!(rows[0].run_at, 100);
        // Also after the job ran: the key still blocks a re-enqueue.
        let j = claim(&db, 1_000, 1_000 + LEASE).await.expect("claimable");
        finish(&db, &j, 1_000, None, None).await;
        enqueue(&db, "again", Some("mail:case-1:submitted"), 0).await;
        assert_eq!(all_jobs(&db).await.len(), 1, "[{backend}] still one job");
        // Jobs without a key never collide.
        enqueue(&db, "a", None, 0).await;
        enqueue(&db, "a", None, 0).await;
        assert_eq!(all_jobs(&db).await.len(), 3, "[{backend}] keyless jobs");
        db.close().await;
    }
}

/// One claimer: claims and finishes jobs until the queue has none left; returns the ids it ran.
async fn claimer(db: Db, backend: TestBackend, now: i64) -> Vec<String> {
    let mut ran = Vec::new();
    loop {
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] begin claim: {e}"));
        let job = jobs::claim(&mut tx, now, now + LEASE)
            .await
            .unwrap_or_else(|e| panic!("[{backend}] claim: {e}"));
        tx.commit()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] commit claim: {e}"));
        let Some(job) = job else {
            return ran;
        };
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] begin finish: {e}"));
        jobs::finish(&mut tx, &job, now, now, None, None)
            .await
            .unwrap_or_else(|e| panic!("[{backend}] finish: {e}"));
        tx.commit()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] commit finish: {e}"));
        ran.push(job.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claimers_run_every_job_exactly_once() {
    const JOBS: usize = 50;
    const CLAIMERS: usize = 4;
    for backend in backends() {
        let (_tdb, db) = migrated(backend).await;
        for i in 0..JOBS {
            enqueue(&db, &format!("job-{i}"), None, i as i64).await;
        }
        let tasks: Vec<_> = (0..CLAIMERS)
            .map(|_| tokio::spawn(claimer(db.clone(), backend, 1_000)))
            .collect();
        let mut ran: Vec<String> = Vec::new();
        for t in tasks {
            ran.extend(t.await.expect("claimer task"));
        }
        assert_eq!(
            ran.len(),
            JOBS,
            "[{backend}] {JOBS} jobs run in total, none twice"
        );

        let rows = all_jobs(&db).await;
        assert_eq!(rows.len(), JOBS);
        let mut tx = db.begin_read().await.expect("begin");
        let mut attempts_per_job = BTreeMap::new();
        for j in &rows {
            assert_eq!(j.status, "done", "[{backend}] job {} done", j.payload);
            assert_eq!(j.attempts, 1, "[{backend}] job {} claimed once", j.payload);
            let n = jobs::attempts_of(&mut tx, &j.id)
                .await
                .expect("attempts")
                .len();
            attempts_per_job.insert(j.payload.clone(), n);
        }
        tx.commit().await.expect("commit");
        let wrong: Vec<_> = attempts_per_job.iter().filter(|(_, n)| **n != 1).collect();
        assert!(
            wrong.is_empty(),
            "[{backend}] every job has exactly one attempt row; not so: {wrong:?}"
        );
        db.close().await;
    }
}
