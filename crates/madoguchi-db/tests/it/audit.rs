//! The audit chain under concurrent appends: many writers, each in its own transaction,
//! still produce one gap-free chain that verifies; altering a stored row is caught at that row.

use madoguchi_db::{Db, audit};
use madoguchi_domain::audit::{ChainError, ChainVerifier};
use madoguchi_testing::{TestBackend, backends};
use serde_json::json;

use crate::migrated;

const TASKS: i64 = 8;
const PER_TASK: i64 = 25;

/// Appends `PER_TASK` events, one transaction each; returns the sequence numbers received.
async fn writer(db: Db, backend: TestBackend, task: i64) -> Vec<i64> {
    let mut seqs = Vec::new();
    for i in 0..PER_TASK {
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] task {task} begin: {e}"));
        let seq = audit::append(
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
        seqs.push(seq);
    }
    seqs
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
        let mut all = Vec::new();
        for t in tasks {
            let seqs = t.await.expect("writer task");
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "[{backend}] a writer's own events are ordered: {seqs:?}"
            );
            all.extend(seqs);
        }
        all.sort_unstable();
        let total = TASKS * PER_TASK;
        assert_eq!(
            all,
            (1..=total).collect::<Vec<_>>(),
            "[{backend}] every append got its own sequence number, without gaps"
        );
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
