//! The audit chain under concurrent appends: many writers, each in its own transaction,
//! still produce one gap-free chain that verifies; altering a stored row is caught at that row.

use madoguchi_db::{Db, audit};
use madoguchi_domain::audit::{ChainError, ChainVerifier};
use madoguchi_testing::{TestBackend, backends};
use serde_json::json;

use crate::migrated;

const TASKS: i64 = 8;
const PER_TASK: i64 = 25;

/// Appends `PER_TASK` events, one transaction each.
async fn writer(db: Db, backend: TestBackend, task: i64) {
    for i in 0..PER_TASK {
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] task {task} begin: {e}"));
        audit::append(
            &mut tx,
            1_700_000_000_000 + i,
            &format!("user-{task}"),
            "case.accepted",
            "case",
            &format!("case-{task}-{i}"),
            &json!({ "task": task, "i": i, "note": "受付" }),
        )
        .await
        .unwrap_or_else(|e| panic!("[{backend}] task {task} append {i}: {e}"));
        tx.commit()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] task {task} commit {i}: {e}"));
    }
}

/// Every stored event, in chain order.
async fn all_events(db: &Db) -> Vec<audit::AuditRow> {
    let mut tx = db.begin_read().await.expect("begin");
    let rows = audit::page(&mut tx, 0, 100_000).await.expect("page");
    tx.commit().await.expect("commit");
    rows
}

/// Streams the stored chain through the verifier, page by page, and checks the head.
async fn verify(db: &Db) -> Result<i64, ChainError> {
    let mut tx = db.begin_read().await.expect("begin");
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let rows = audit::page(&mut tx, after, 37).await.expect("page");
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            verifier.push(&row.record(), &row.prev_hash, &row.hash)?;
        }
    }
    let (head_seq, head_hash) = audit::head(&mut tx).await.expect("head");
    tx.commit().await.expect("commit");
    verifier.finish(head_seq, &head_hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_form_one_verifiable_chain_and_tampering_is_caught() {
    for backend in backends() {
        let (tdb, db) = migrated(backend).await;
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| tokio::spawn(writer(db.clone(), backend, t)))
            .collect();
        for t in tasks {
            t.await.expect("writer task");
        }
        let events = all_events(&db).await;
        let total = TASKS * PER_TASK;
        assert_eq!(
            events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=total).collect::<Vec<_>>(),
            "[{backend}] every append got its own sequence number, without gaps"
        );
        for task in 0..TASKS {
            let mine: Vec<i64> = events
                .iter()
                .filter(|e| e.actor == format!("user-{task}"))
                .map(|e| {
                    serde_json::from_str::<serde_json::Value>(&e.details).expect("details")["i"]
                        .as_i64()
                        .expect("i")
                })
                .collect();
            assert_eq!(
                mine,
                (0..PER_TASK).collect::<Vec<_>>(),
                "[{backend}] each of task {task}'s events is in the chain once, in its order"
            );
        }
        assert_eq!(
            verify(&db).await,
            Ok(total),
            "[{backend}] the chain verifies"
        );

        // Rewrite one event's details behind the product's back.
        assert_eq!(
            tdb.execute("UPDATE audit_events SET details = '{\"task\":0,\"i\":0,\"note\":\"改ざん\"}' WHERE seq = 123")
                .await,
            1,
            "[{backend}] one row altered"
        );
        assert_eq!(
            verify(&db).await,
            Err(ChainError::Tampered { seq: 123 }),
            "[{backend}] verification fails at the altered event"
        );
        db.close().await;
    }
}

async fn append(tx: &mut madoguchi_db::Tx, n: i64, action: &str) {
    audit::append(
        tx,
        1_700_000_000_000 + n,
        "u",
        action,
        "case",
        "c",
        &json!({ "n": n }),
    )
    .await
    .expect("append");
}

#[tokio::test]
async fn events_of_one_transaction_are_chained_in_order_at_commit_and_dropped_on_rollback() {
    for backend in backends() {
        let (_tdb, db) = migrated(backend).await;
        let mut tx = db.begin().await.expect("begin");
        for n in 0..3 {
            append(&mut tx, n, "case.submitted").await;
        }
        // Nothing is written before the commit: the chain's head is untouched.
        assert_eq!(
            audit::head(&mut tx).await.expect("head").0,
            0,
            "[{backend}] appended events wait for the commit"
        );
        tx.commit().await.expect("commit");

        let mut tx = db.begin().await.expect("begin");
        append(&mut tx, 9, "case.withdrawn").await;
        tx.rollback().await.expect("rollback");

        let events = all_events(&db).await;
        assert_eq!(
            events
                .iter()
                .map(|e| (e.seq, e.details.clone(), e.action.clone()))
                .collect::<Vec<_>>(),
            (0..3)
                .map(|n| (
                    n + 1,
                    json!({ "n": n }).to_string(),
                    "case.submitted".to_string()
                ))
                .collect::<Vec<_>>(),
            "[{backend}] three events in append order; the rolled-back one is not there"
        );
        assert_eq!(verify(&db).await, Ok(3), "[{backend}] the chain verifies");
        db.close().await;
    }
}
