//! `madoguchi bench server` cannot rot: each workload runs a few operations against the real
//! binary and every submission and every limit write lands. No timing is asserted.

use std::time::Duration;

use madoguchi::bench::server::BenchBackend;
use madoguchi::bench::suite::{Options, run};

async fn smoke(backend: BenchBackend) {
    let name = backend.name();
    let opts = Options {
        backends: vec![backend],
        rounds: 1,
        duration: Duration::from_secs(60),
        count: 3,
        clients: vec![1, 2],
        bin: env!("CARGO_BIN_EXE_madoguchi").into(),
        open_loop_count: 3,
    };
    let report = run(&opts).await.expect("bench server runs");
    // Warm-up: 3 × (one-request + 5-request flow), with and without the file; then
    // 2 client counts × 2 workloads × 3; the Open Forms flow 3; the open loop 3.
    assert_eq!(
        report.submitted,
        vec![(name, 2 * 3 * 2 + 2 * 2 * 3 + 3 + 3)]
    );
    // The limits: 2 client counts × 2 workloads × 3, and 3 beside the Open Forms flow.
    assert_eq!(report.limit_rows, vec![(name, 2 * 2 * 3 + 3)]);
    let rated: Vec<_> = report.rows.iter().filter(|r| r.figure.is_none()).collect();
    // 2 workloads × 2 client counts, the Open Forms row, the open loop.
    assert_eq!(rated.len(), 6);
    for r in rated {
        assert!(r.ours_rate() > 0.0, "{}", r.workload);
        assert!(r.latency(0.99) > Duration::ZERO, "{}", r.workload);
        if !r.limit.is_empty() {
            assert!(
                r.limit_rate() > 0.0 && r.median_ratio() > 0.0,
                "{}",
                r.workload
            );
        }
    }
    assert!(report.idle[0].1.rss > 0);
    assert!(report.loaded[0].1.peak >= report.loaded[0].1.rss);
    assert_eq!(report.rows.iter().filter(|r| r.figure.is_some()).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_server_smoke_sqlite() {
    smoke(BenchBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_server_smoke_postgres() {
    let Ok(url) = std::env::var("MADOGUCHI_TEST_DATABASE_URL") else {
        return;
    };
    smoke(BenchBackend::Postgres {
        admin_url: url,
        prefix: "madoguchi_bench_smoke".into(),
    })
    .await;
}
