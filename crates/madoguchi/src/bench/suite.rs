//! `madoguchi bench server`: the server workloads of issue #6 on SQLite and PostgreSQL, each
//! against its limit measured in the same run, limit and ours alternating round by round.
//!
//! - submit a filing with a 200 KB file (5 requests) vs. file write + fsync (file and
//!   directory) + one 2 KB row in one committed transaction, at 1 and 8 clients;
//! - the same without the file (3 requests) vs. one committed 2 KB row insert;
//! - p99 of the submission with a file in an open loop at half the peak rate;
//! - the server's resident memory at idle and its peak under the load;
//! - the Open Forms comparison: the 5-request flow at 8 clients, ≥ 660/s and p95 ≤ 180 ms.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::limits::Limits;
use super::load::{Outcome, closed_loop, open_loop};
use super::server::{BenchBackend, Memory, ScratchDb, ServerProcess};
use super::submit::{Submitter, answers, pdf_200k};

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub backends: Vec<BenchBackend>,
    pub rounds: usize,
    /// Time limit of each measured run.
    pub duration: Duration,
    /// Operation limit of each measured run.
    pub count: usize,
    pub clients: Vec<usize>,
    /// The server binary (this executable, unless a test names it).
    pub bin: PathBuf,
    /// Operations of the open-loop run at half the peak rate.
    pub open_loop_count: usize,
}

/// One measured workload at one client count, all rounds.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: String,
    pub backend: &'static str,
    pub clients: String,
    pub ours: Vec<Outcome>,
    pub limit: Vec<Outcome>,
    pub target: String,
    /// `None`: no verdict possible (nothing measured).
    pub pass: Option<bool>,
    /// For rows that are not rates (memory, open loop): the figure shown as "ours".
    pub figure: Option<String>,
}

/// Everything a run measured (the smoke test checks it).
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Submissions the server accepted, per backend, counted through the API after the run.
    pub submitted: Vec<(&'static str, usize)>,
    /// Rows the limits wrote, per backend, counted in their table.
    pub limit_rows: Vec<(&'static str, i64)>,
    pub idle: Vec<(&'static str, Memory)>,
    pub loaded: Vec<(&'static str, Memory)>,
}

fn median_f(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl Row {
    pub fn ratios(&self) -> Vec<f64> {
        self.ours
            .iter()
            .zip(&self.limit)
            .map(|(o, l)| o.rate() / l.rate().max(1e-9))
            .collect()
    }
    pub fn median_ratio(&self) -> f64 {
        median_f(self.ratios())
    }
    pub fn ours_rate(&self) -> f64 {
        median_f(self.ours.iter().map(Outcome::rate).collect())
    }
    pub fn limit_rate(&self) -> f64 {
        median_f(self.limit.iter().map(Outcome::rate).collect())
    }
    /// Median over the rounds of the `q`-quantile of our latencies.
    pub fn latency(&self, q: f64) -> Duration {
        let mut v: Vec<Duration> = self.ours.iter().map(|o| o.latency(q)).collect();
        if v.is_empty() {
            return Duration::ZERO;
        }
        super::median(&mut v)
    }
}

/// Runs every backend; prints the table; returns what was measured.
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for backend in &opts.backends {
        run_backend(opts, backend, &mut report).await?;
    }
    print(&report, opts);
    Ok(report)
}

async fn run_backend(
    opts: &Options,
    backend: &BenchBackend,
    report: &mut Report,
) -> anyhow::Result<()> {
    let name = backend.name();
    let work = tempfile::Builder::new()
        .prefix("madoguchi-bench-")
        .tempdir()?;
    let data_dir = work.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let (server_db, limit_db) = match backend {
        BenchBackend::Sqlite => (None, None),
        BenchBackend::Postgres { admin_url, prefix } => {
            let pid = std::process::id();
            let s = ScratchDb::create(admin_url, &format!("{prefix}_{pid}")).await?;
            let l = ScratchDb::create(admin_url, &format!("{prefix}_{pid}_limit")).await?;
            (Some(s), Some(l))
        }
    };
    let result = measure(
        opts,
        name,
        work.path(),
        &data_dir,
        server_db.as_ref().map(|d| d.url.as_str()),
        limit_db.as_ref().map(|d| d.url.as_str()),
        report,
    )
    .await;
    for db in [server_db, limit_db].into_iter().flatten() {
        if let Err(e) = db.drop_now().await {
            eprintln!("could not drop the benchmark database: {e:#}");
        }
    }
    result
}

async fn measure(
    opts: &Options,
    name: &'static str,
    work: &std::path::Path,
    data_dir: &std::path::Path,
    server_url: Option<&str>,
    limit_url: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("[{name}] starting the server");
    let server = ServerProcess::start(&opts.bin, data_dir, server_url).await?;
    let token = server.issue_token("provider1")?;
    let sub = Arc::new(Submitter::new(&server.base_url, &token).await?);
    let limit_url = match limit_url {
        Some(u) => u.to_string(),
        None => madoguchi_core_sqlite_url(&work.join("limit.db")),
    };
    let row_json = answers().to_string();
    let limits =
        Arc::new(Limits::open(&limit_url, work.join("limit-files"), row_json, pdf_200k()).await?);

    // Warm-up: a few submissions of each kind, then memory at idle.
    let warm = 10.min(opts.count.max(1));
    for with_file in [false, true] {
        let s = sub.clone();
        // Sequence numbers (idempotency keys, file contents) apart from the measured runs'.
        let base = if with_file {
            2_000_000_000
        } else {
            1_000_000_000
        };
        closed_loop(2, warm, opts.duration, move |seq| {
            let s = s.clone();
            async move {
                s.submit_one(base + seq, with_file).await?;
                s.submit(base + seq, with_file).await
            }
        })
        .await
        .check("warm-up")?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = server.memory()?;
    report.idle.push((name, idle));

    let mut seq_base = 0usize;
    let mut peak = 0.0f64;
    let max_clients = *opts.clients.iter().max().unwrap_or(&1);
    let ctx = Ctx {
        opts,
        name,
        sub: &sub,
        limits: &limits,
    };
    for &clients in &opts.clients {
        for with_file in [true, false] {
            let workload = if with_file {
                Work::One { file: true }
            } else {
                Work::One { file: false }
            };
            let mut row = ctx
                .rounds(workload, clients, with_file, &mut seq_base)
                .await?;
            let need = if with_file { 0.70 } else { 0.60 };
            row.target = format!("≥ {:.0}% of limit", need * 100.0);
            row.pass = Some(row.median_ratio() >= need);
            if with_file && clients == max_clients {
                peak = row.ours_rate();
            }
            report.rows.push(row);
        }
    }
    // The Open Forms comparison: its flow shape (5 requests) at 8 clients.
    let mut of = ctx
        .rounds(Work::Flow5, max_clients, true, &mut seq_base)
        .await?;
    of.target = "≥ 660/s and p95 ≤ 180 ms".into();
    of.pass = Some(of.ours_rate() >= 660.0 && of.latency(0.95) <= Duration::from_millis(180));
    report.rows.push(of);
    let peak_8 = peak;

    // p99 at half the peak rate (open loop).
    if peak_8 > 0.0 {
        let rate = peak_8 / 2.0;
        let mut row = Row {
            workload: format!("submit + file (1 request), open loop at {rate:.1}/s = half peak"),
            backend: name,
            clients: "open".into(),
            ours: Vec::new(),
            limit: Vec::new(),
            target: "p99 < 50 ms".into(),
            pass: None,
            figure: None,
        };
        for round in 0..opts.rounds {
            eprintln!("[{name}] open loop round {}", round + 1);
            seq_base += opts.open_loop_count + 1;
            let base = seq_base;
            let s = sub.clone();
            let out = open_loop(rate, opts.open_loop_count, opts.duration * 2, move |seq| {
                let s = s.clone();
                async move { s.submit(base + seq, true).await }
            })
            .await;
            out.check("open loop")?;
            row.ours.push(out);
        }
        row.pass = Some(row.latency(0.99) < Duration::from_millis(50));
        report.rows.push(row);
    }

    let loaded = server.memory()?;
    report.loaded.push((name, loaded));
    let mb = |b: u64| b as f64 / 1024.0 / 1024.0;
    report.rows.push(memory_row(
        name,
        "RSS at idle (after warm-up)",
        mb(idle.rss),
        60.0,
    ));
    report.rows.push(memory_row(
        name,
        "RSS peak under the submit load (VmHWM)",
        mb(loaded.peak),
        300.0,
    ));

    report.submitted.push((name, sub.submitted_count().await?));
    report.limit_rows.push((name, limits.count().await?));
    limits.close().await;
    drop(server);
    Ok(())
}

/// What "ours" runs.
#[derive(Clone, Copy)]
enum Work {
    /// `POST /api/v1/submissions`, with or without the file.
    One { file: bool },
    /// The 5-request flow of the step-by-step API.
    Flow5,
}

impl Work {
    fn label(self) -> &'static str {
        match self {
            Work::One { file: true } => "submit + 200 KB file (1 request)",
            Work::One { file: false } => "submit, no file (1 request)",
            Work::Flow5 => "Open Forms flow (5 requests, 200 KB PDF)",
        }
    }
}

struct Ctx<'a> {
    opts: &'a Options,
    name: &'static str,
    sub: &'a Arc<Submitter>,
    limits: &'a Arc<Limits>,
}

impl Ctx<'_> {
    /// `rounds` × (limit, ours), the order alternating per round; the limit writes a file
    /// and a row (`with_file`) or a row.
    async fn rounds(
        &self,
        work: Work,
        clients: usize,
        with_file: bool,
        seq_base: &mut usize,
    ) -> anyhow::Result<Row> {
        let opts = self.opts;
        let mut row = Row {
            workload: work.label().into(),
            backend: self.name,
            clients: clients.to_string(),
            ours: Vec::new(),
            limit: Vec::new(),
            target: String::new(),
            pass: None,
            figure: None,
        };
        for round in 0..opts.rounds {
            eprintln!(
                "[{}] {} clients={clients} round {}",
                self.name,
                row.workload,
                round + 1
            );
            for order in 0..2 {
                *seq_base += opts.count + 1;
                let base = *seq_base;
                if (round + order) % 2 == 0 {
                    let l = self.limits.clone();
                    let out = closed_loop(clients, opts.count, opts.duration, move |seq| {
                        let l = l.clone();
                        async move {
                            let key = format!("k{}", base + seq);
                            if with_file {
                                l.file_and_row(&key).await
                            } else {
                                l.insert_row(&key).await
                            }
                        }
                    })
                    .await;
                    out.check("limit")?;
                    row.limit.push(out);
                } else {
                    let s = self.sub.clone();
                    let out = closed_loop(clients, opts.count, opts.duration, move |seq| {
                        let s = s.clone();
                        async move {
                            match work {
                                Work::One { file } => s.submit_one(base + seq, file).await,
                                Work::Flow5 => s.submit(base + seq, true).await,
                            }
                        }
                    })
                    .await;
                    out.check(&row.workload)?;
                    row.ours.push(out);
                }
            }
        }
        Ok(row)
    }
}

fn memory_row(backend: &'static str, what: &str, mb: f64, max: f64) -> Row {
    Row {
        workload: what.into(),
        backend,
        clients: "—".into(),
        ours: Vec::new(),
        limit: Vec::new(),
        target: format!("< {max:.0} MB"),
        pass: Some(mb < max),
        figure: Some(format!("{mb:.1} MB")),
    }
}

fn madoguchi_core_sqlite_url(path: &std::path::Path) -> String {
    crate::config::sqlite_url(path)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn print(report: &Report, opts: &Options) {
    println!(
        "server workloads: median of {} rounds, each ≤ {} operations or ≤ {:.0} s; limit and ours alternating",
        opts.rounds,
        opts.count,
        opts.duration.as_secs_f64()
    );
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            let rated = r.figure.is_none() && !r.ours.is_empty();
            let has_limit = !r.limit.is_empty();
            vec![
                r.workload.clone(),
                r.backend.to_string(),
                r.clients.clone(),
                match &r.figure {
                    Some(f) => f.clone(),
                    None if rated => format!("{:.1}/s", r.ours_rate()),
                    None => "—".into(),
                },
                if has_limit {
                    format!("{:.1}/s", r.limit_rate())
                } else {
                    "—".into()
                },
                if has_limit {
                    r.ratios()
                        .iter()
                        .map(|x| format!("{:.0}%", x * 100.0))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    "—".into()
                },
                if has_limit {
                    format!("{:.0}%", r.median_ratio() * 100.0)
                } else {
                    "—".into()
                },
                if rated {
                    format!(
                        "{}/{}/{}",
                        ms(r.latency(0.5)),
                        ms(r.latency(0.95)),
                        ms(r.latency(0.99))
                    )
                } else {
                    "—".into()
                },
                r.target.clone(),
                match r.pass {
                    Some(true) => "PASS".into(),
                    Some(false) => "MISS".into(),
                    None => "—".into(),
                },
            ]
        })
        .collect();
    super::print_table(
        &[
            "workload",
            "backend",
            "clients",
            "ours (median)",
            "limit (median)",
            "ratio per round",
            "ratio",
            "p50/p95/p99 ms",
            "target",
            "result",
        ],
        &rows,
    );
    for (b, m) in &report.idle {
        println!("{b}: idle RSS {:.1} MB", m.rss as f64 / 1048576.0);
    }
    let ops: usize = report
        .rows
        .iter()
        .flat_map(|r| r.ours.iter().chain(&r.limit))
        .map(|o| o.ops)
        .sum();
    println!("{ops} measured operations, every one answered 2xx (limits: committed)");
}
