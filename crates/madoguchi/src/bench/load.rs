//! A small load generator: `clients` concurrent tasks in a closed loop (each starts its next
//! operation when the previous one ends), bounded by an operation count and a time limit;
//! or an open loop at a fixed rate (latency counted from the scheduled start, so a stalled
//! server is not hidden by fewer requests being sent). Every operation's latency is kept.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::quantile;

/// What a run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Operations that succeeded.
    pub ops: usize,
    /// Operations that failed (the first error is kept).
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latencies of the successful operations, sorted.
    pub latencies: Vec<Duration>,
}

impl Outcome {
    /// Successful operations per second.
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile of the latencies (zero when nothing succeeded).
    pub fn latency(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            Duration::ZERO
        } else {
            quantile(&self.latencies, q)
        }
    }

    /// Fails when any operation failed: a benchmark of failing requests measures nothing.
    pub fn check(&self, what: &str) -> anyhow::Result<()> {
        if self.errors > 0 {
            anyhow::bail!(
                "{what}: {} of {} operations failed; first: {}",
                self.errors,
                self.errors + self.ops,
                self.first_error.as_deref().unwrap_or("?")
            );
        }
        if self.ops == 0 {
            anyhow::bail!("{what}: no operation completed");
        }
        Ok(())
    }
}

fn collect(results: Vec<(Vec<Duration>, usize, Option<String>)>, elapsed: Duration) -> Outcome {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for (l, e, fe) in results {
        latencies.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = fe;
        }
    }
    latencies.sort();
    Outcome {
        ops: latencies.len(),
        errors,
        first_error,
        elapsed,
        latencies,
    }
}

/// Runs `op(seq)` from `clients` concurrent tasks until `count` operations have started or
/// `max_time` has passed, whichever comes first. `seq` numbers operations from 0.
pub async fn closed_loop<F, Fut>(clients: usize, count: usize, max_time: Duration, op: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let op = op.clone();
        let next = next.clone();
        tasks.spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut first = None;
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= count || start.elapsed() >= max_time {
                    break;
                }
                let t = Instant::now();
                match op(seq).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (lat, errors, first)
        });
    }
    let results = join_all(tasks).await;
    collect(results, start.elapsed())
}

/// Starts `op(seq)` at `rate` per second for `count` operations (or until `max_time` of
/// scheduling has passed), however slowly earlier ones finish; latency runs from each
/// operation's scheduled start.
pub async fn open_loop<F, Fut>(rate: f64, count: usize, max_time: Duration, op: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for seq in 0..count {
        let at = start + interval.mul_f64(seq as f64);
        if at.duration_since(start) >= max_time {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let op = op.clone();
        tasks.spawn(async move {
            match op(seq).await {
                Ok(()) => (vec![at.elapsed()], 0, None),
                Err(e) => (Vec::new(), 1, Some(format!("{e:#}"))),
            }
        });
    }
    let results = join_all(tasks).await;
    collect(results, start.elapsed())
}

async fn join_all<T: 'static>(mut tasks: tokio::task::JoinSet<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(v) => out.push(v),
            Err(e) => tracing::error!("load task failed: {e}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closed_loop_runs_each_sequence_number_once() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let out = closed_loop(4, 50, Duration::from_secs(10), move |seq| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(seq);
                if seq == 7 {
                    anyhow::bail!("boom");
                }
                Ok(())
            }
        })
        .await;
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert_eq!((out.ops, out.errors), (49, 1));
        assert!(out.check("x").is_err());
    }

    #[tokio::test]
    async fn open_loop_keeps_the_rate() {
        let out = open_loop(200.0, 20, Duration::from_secs(10), |_| async { Ok(()) }).await;
        assert_eq!(out.ops, 20);
        // 20 operations at 200/s are scheduled over 95 ms.
        assert!(out.elapsed >= Duration::from_millis(90));
    }
}
