//! Concurrent writers: on SQLite they take turns in this process's write queue. Every commit
//! lands, a transaction that fails (or is dropped) lets the next writer go, and readers are
//! not held up by a writer.

use std::time::Duration;

use madoguchi_db::{Db, Tx};
use madoguchi_testing::backends;

async fn exec(tx: &mut Tx, sql: &'static str, key: Option<&str>) -> Result<(), sqlx::Error> {
    match tx {
        Tx::Sqlite(t) => sqlx::query(sql)
            .bind(key)
            .execute(&mut **t)
            .await
            .map(|_| ()),
        Tx::Postgres(t) => sqlx::query(sql)
            .bind(key)
            .execute(&mut **t)
            .await
            .map(|_| ()),
    }
}

async fn count(db: &Db) -> i64 {
    let mut tx = db.begin_read().await.unwrap();
    let n = match &mut tx {
        Tx::Sqlite(t) => sqlx::query_scalar("SELECT COUNT(*) FROM w")
            .fetch_one(&mut **t)
            .await
            .unwrap(),
        Tx::Postgres(t) => sqlx::query_scalar("SELECT COUNT(*) FROM w")
            .fetch_one(&mut **t)
            .await
            .unwrap(),
    };
    tx.rollback().await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_all_land_and_a_failing_one_takes_none_down() {
    for backend in backends() {
        let (_tdb, db) = crate::migrated(backend).await;
        let mut tx = db.begin().await.unwrap();
        exec(&mut tx, "CREATE TABLE w (k TEXT PRIMARY KEY)", None)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // 64 writers at once; every 8th inserts a duplicate key and fails mid-transaction,
        // every 16th (of those that succeed) is dropped without commit or rollback.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..64usize {
            let db = db.clone();
            tasks.spawn(async move {
                let e = |e: &dyn std::fmt::Display| e.to_string();
                let mut tx = db.begin().await.map_err(|x| e(&x))?;
                let key = format!("k{i}");
                exec(&mut tx, "INSERT INTO w (k) VALUES ($1)", Some(&key))
                    .await
                    .map_err(|x| e(&x))?;
                if i % 8 == 7 {
                    exec(&mut tx, "INSERT INTO w (k) VALUES ($1)", Some(&key))
                        .await
                        .map_err(|x| e(&x))?;
                }
                if i % 16 == 3 {
                    drop(tx);
                    return Ok::<_, String>(false);
                }
                tx.commit().await.map_err(|x| e(&x))?;
                Ok(true)
            });
        }
        let (mut committed, mut failed, mut dropped) = (0, 0, 0);
        while let Some(r) = tasks.join_next().await {
            match r.expect("writer task") {
                Ok(true) => committed += 1,
                Ok(false) => dropped += 1,
                Err(_) => failed += 1,
            }
        }
        assert_eq!((committed, failed, dropped), (52, 8, 4), "[{backend}]");
        assert_eq!(count(&db).await, 52, "[{backend}]");

        // A reader is not queued behind an open writer.
        let mut writer = db.begin().await.unwrap();
        exec(&mut writer, "INSERT INTO w (k) VALUES ($1)", Some("open"))
            .await
            .unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(5), count(&db))
            .await
            .expect("a read while a write is open");
        assert_eq!(seen, 52, "[{backend}] the open write is not visible");
        writer.commit().await.unwrap();
        assert_eq!(count(&db).await, 53, "[{backend}]");
    }
}
