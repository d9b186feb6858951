//! `madoguchi bench …`: benchmarks that generate their own data and print a table. Figures
//! and the commands that reproduce them are in BENCHMARKS.md. Each workload runs a bounded
//! number of rounds and reports the median, so a noisy machine shows as spread, not as a
//! wrong number.

pub mod datagen;
pub mod export;
pub mod import;
pub mod inbox;
pub mod limits;
pub mod load;
pub mod procedures;
pub mod server;
pub mod submit;
pub mod suite;

use std::path::{Path, PathBuf};
use std::time::Duration;

use madoguchi_core::App;
use madoguchi_db::Backend;

use crate::config::{Config, DataArgs};

/// Where the PostgreSQL benchmarks create their databases when no URL is given.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which backends a data benchmark runs on.
#[derive(Clone, Debug)]
pub struct Backends {
    pub sqlite: bool,
    /// The server to create the benchmark databases on (`None`: no PostgreSQL run).
    pub postgres: Option<String>,
    /// Scratch directory (SQLite files, data directories, CSV files).
    pub work_dir: PathBuf,
    /// Name prefix of the PostgreSQL databases created (`<prefix>_<pid>_<tag>`).
    pub db_prefix: String,
}

impl Backends {
    /// `sqlite`, `postgres` or `both`; the PostgreSQL URL from the flag, else
    /// `MADOGUCHI_BENCH_DATABASE_URL`, else the local server.
    pub fn parse(
        backend: &str,
        url: Option<String>,
        work_dir: Option<PathBuf>,
        db_prefix: &str,
    ) -> anyhow::Result<Backends> {
        let (sqlite, postgres) = match backend {
            "sqlite" => (true, false),
            "postgres" => (false, true),
            "both" => (true, true),
            other => anyhow::bail!("--backend は sqlite、postgres、both のいずれかです（{other}）"),
        };
        let url = url
            .filter(|u| u.starts_with("postgres"))
            .or_else(|| std::env::var("MADOGUCHI_BENCH_DATABASE_URL").ok())
            .unwrap_or_else(|| DEFAULT_PG_URL.to_string());
        let work_dir = work_dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("madoguchi-bench-{}", std::process::id()))
        });
        anyhow::ensure!(
            db_prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "--db-prefix は英小文字・数字・_ で指定してください"
        );
        Ok(Backends {
            sqlite,
            postgres: postgres.then_some(url),
            work_dir,
            db_prefix: db_prefix.to_string(),
        })
    }

    /// The backends to run, in order.
    pub fn list(&self) -> Vec<Backend> {
        let mut out = Vec::new();
        if self.sqlite {
            out.push(Backend::Sqlite);
        }
        if self.postgres.is_some() {
            out.push(Backend::Postgres);
        }
        out
    }

    /// Creates an empty instance (data directory, and a database on PostgreSQL) named `tag`.
    pub async fn create(&self, backend: Backend, tag: &str) -> anyhow::Result<Instance> {
        let data_dir = self
            .work_dir
            .join(format!("{}-{tag}", backend_name(backend)));
        if data_dir.exists() {
            std::fs::remove_dir_all(&data_dir)?;
        }
        std::fs::create_dir_all(&data_dir)?;
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", data_dir.join("madoguchi.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = self
                    .postgres
                    .clone()
                    .unwrap_or_else(|| DEFAULT_PG_URL.into());
                // An unquoted identifier: letters, digits and `_` only.
                let name = format!(
                    "{}_{}_{}",
                    self.db_prefix,
                    std::process::id(),
                    tag.replace('-', "_")
                );
                pg_admin(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )
                .await?;
                pg_admin(
                    &admin,
                    &format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"),
                )
                .await?;
                (replace_db_name(&admin, &name)?, Some((admin, name)))
            }
        };
        Ok(Instance {
            backend,
            data_dir,
            url,
            pg,
        })
    }
}

/// `sqlite` or `postgres`.
pub fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// One database (and data directory) the benchmarks created.
#[derive(Clone, Debug)]
pub struct Instance {
    pub backend: Backend,
    pub data_dir: PathBuf,
    /// The application's database URL.
    pub url: String,
    /// (server URL, database name) on PostgreSQL.
    pg: Option<(String, String)>,
}

impl Instance {
    pub fn config(&self) -> anyhow::Result<Config> {
        Config::load(&DataArgs {
            config: None,
            data_dir: Some(self.data_dir.clone()),
            database_url: Some(self.url.clone()),
        })
    }

    /// Opens the application on it (migrating an empty database).
    pub async fn open(&self) -> anyhow::Result<App> {
        crate::server::open_default(&self.config()?).await
    }

    /// The SQLite file.
    pub fn sqlite_file(&self) -> PathBuf {
        self.data_dir.join("madoguchi.db")
    }

    /// The arguments that point a `madoguchi` child process at this instance.
    pub fn cli_args(&self) -> Vec<String> {
        vec![
            "--data-dir".into(),
            self.data_dir.display().to_string(),
            "--database-url".into(),
            self.url.clone(),
        ]
    }

    /// Drops the database and removes the data directory.
    pub async fn destroy(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = &self.pg {
            pg_admin(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
        Ok(())
    }
}

/// Runs one statement on the PostgreSQL server (outside any transaction).
async fn pg_admin(url: &str, sql: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut c)
        .await?;
    c.close().await?;
    Ok(())
}

/// The URL with another database name.
fn replace_db_name(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = &base[scheme_end..];
    let prefix = match host_part.find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    })
}

/// Today in Japan (the application's clock), `YYYY-MM-DD`.
pub fn today(app: &App) -> String {
    madoguchi_core::clock::today_jst(app.clock.as_ref())
        .format("%Y-%m-%d")
        .to_string()
}

/// Ratio `a / b`, formatted.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "—".into()
    }
}

/// Median of plain numbers.
pub fn median_f(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// A rate as text: `12,345/s`.
pub fn per_second(v: f64) -> String {
    format!("{}/s", thousands(v.round() as u64))
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The columns of the data workloads' table.
pub const DATA_HEADER: &[&str] = &[
    "workload",
    "backend",
    "size",
    "ours (median)",
    "limit (median)",
    "ratio per round",
    "median ratio",
    "p50/p95/p99",
    "target",
    "result",
];

/// `madoguchi bench inbox|export|import`: runs, prints the table, cleans up.
pub async fn run_data(
    command: crate::cli::BenchCommand,
    database_url: Option<String>,
) -> anyhow::Result<std::process::ExitCode> {
    use crate::cli::BenchCommand;
    let exe = std::env::current_exe()?;
    /// The data workload asked for, with its own sizes.
    enum Workload {
        Inbox {
            cases: u64,
            establishments: u64,
            iterations: usize,
        },
        Export(u64),
        Import(u64),
    }
    let (data, workload) = match &command {
        BenchCommand::Inbox {
            data,
            cases,
            establishments,
            iterations,
        } => (
            data,
            Workload::Inbox {
                cases: *cases,
                establishments: *establishments,
                iterations: *iterations,
            },
        ),
        BenchCommand::Export {
            data,
            establishments,
        } => (data, Workload::Export(*establishments)),
        BenchCommand::Import {
            data,
            establishments,
        } => (data, Workload::Import(*establishments)),
        BenchCommand::Procedures { .. } | BenchCommand::Server { .. } => {
            anyhow::bail!("not a data benchmark")
        }
    };
    let backends = Backends::parse(
        &data.backend,
        database_url,
        data.work_dir.clone(),
        &data.db_prefix,
    )?;
    std::fs::create_dir_all(&backends.work_dir)?;
    let rounds = data.rounds.max(1);
    let result = match workload {
        Workload::Inbox {
            cases,
            establishments,
            iterations,
        } => {
            inbox::run(
                &backends,
                &inbox::Options {
                    cases,
                    establishments,
                    rounds,
                    iterations: iterations.max(2),
                },
            )
            .await
        }
        Workload::Export(establishments) => {
            export::run(
                &exe,
                &backends,
                &export::Options {
                    establishments,
                    rounds,
                },
            )
            .await
        }
        Workload::Import(establishments) => {
            import::run(
                &exe,
                &backends,
                &import::Options {
                    establishments,
                    rounds,
                },
            )
            .await
        }
    };
    clean_work_dir(&backends.work_dir);
    let rows = result?;
    println!(
        "median of {rounds} rounds; ratio = ours / limit (throughput), per round in run order"
    );
    print_table(DATA_HEADER, &rows);
    Ok(std::process::ExitCode::SUCCESS)
}

/// Removes the scratch directory if nothing but what the benchmarks removed was in it.
pub fn clean_work_dir(dir: &Path) {
    let _ = std::fs::remove_dir(dir);
}

/// Median of the samples (sorted in place).
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The `q`-quantile (0.0–1.0) of sorted samples.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints a plain-text table: a header row and rows of cells, columns padded.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i] - width(c))))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!("{}", line(header.to_vec()));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    for row in rows {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
}
