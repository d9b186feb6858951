//! Subcommands. Every command that touches data takes the same `--config`, `--data-dir` and
//! `--database-url` flags.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, DataArgs};
use crate::server;

#[derive(Parser, Debug)]
#[command(
    name = "madoguchi",
    version,
    about = "窓口 — one window for welfare, care and health filings"
)]
pub struct Cli {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application (and run the job worker in-process).
    Serve {
        /// Load demo data into an empty data directory and enable the demo sign-in.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (HOST:PORT).
        #[arg(long)]
        addr: Option<String>,
        /// Do not run the job worker in this process (run `madoguchi worker` instead).
        #[arg(long)]
        no_worker: bool,
    },
    /// Run only the job worker (mail delivery).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Load the demo data into an empty database and print the demo sign-ins.
    Seed,
    /// Back up into an empty directory: SQLite database snapshot (safe while serving),
    /// attachment blobs (hash-checked) and MANIFEST.json. See docs/operations.md.
    Backup {
        /// Target directory (created if missing; must be empty).
        out: PathBuf,
        /// Only the attachment blobs and the manifest (PostgreSQL installs, after pg_dump or
        /// pg_basebackup).
        #[arg(long)]
        blobs_only: bool,
    },
    /// Restore a backup into the data directory, then verify the audit chain and every
    /// attachment blob; exits non-zero on any failure.
    Restore {
        /// Backup directory (written by `madoguchi backup`).
        from: PathBuf,
        /// Move a non-empty data directory aside to <data_dir>.before-restore-<timestamp>.
        #[arg(long)]
        force: bool,
    },
    /// Account administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Load an authority's existing ledger (CSV) into the registry. See docs/ledger.md.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write an authority's ledger files (CSV or .xlsx). See docs/ledger.md.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Print the effective configuration (secrets redacted).
    PrintConfig,
    /// Benchmarks that generate their own data and print a table (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Serve the development OpenID provider alone (demos and tests only, never production):
    /// demo GビズID accounts to pick, for the `[oidc]` client of the configuration.
    DevIdp {
        /// Address to listen on (HOST:PORT).
        #[arg(long, default_value = "127.0.0.1:8081")]
        addr: String,
        /// Issuer identifier to announce. Default: http://<addr>
        #[arg(long)]
        issuer: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Load many procedure definitions and validate many filings against them.
    Procedures {
        #[arg(long, default_value_t = 1000)]
        definitions: usize,
        #[arg(long, default_value_t = 10_000)]
        filings: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Server workloads: submissions over HTTP (with and without a 200 KB file, 1 and 8
    /// clients, an open loop at half the peak rate), the Open Forms flow and the server's
    /// memory, each against the same durable writes done directly on the storage.
    Server {
        /// sqlite, postgres or both. PostgreSQL: `--database-url` or
        /// MADOGUCHI_BENCH_DATABASE_URL names a server where a database is created and dropped.
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendChoice,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Time limit of each measured run, in seconds.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// Operation limit of each measured run.
        #[arg(long, default_value_t = 5000)]
        count: usize,
        /// Client counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,8")]
        clients: Vec<usize>,
        /// Submissions of each open-loop round (at half the peak rate).
        #[arg(long, default_value_t = 300)]
        open_loop_count: usize,
        /// Name prefix of the PostgreSQL databases created for the run (`<prefix>_<pid>`).
        #[arg(long, default_value = "madoguchi_bench")]
        db_prefix: String,
    },
    /// The authority inbox (a page of 50, several filters) against the raw indexed query.
    Inbox {
        #[command(flatten)]
        data: BenchDataArgs,
        /// Cases to generate (default: 1,000,000 on SQLite, 10,000,000 on PostgreSQL).
        #[arg(long, default_value_t = 0)]
        cases: u64,
        /// Establishments the cases are spread over.
        #[arg(long, default_value_t = 100_000)]
        establishments: u64,
        /// Requests per combination, reader count and round.
        #[arg(long, default_value_t = 400)]
        iterations: usize,
    },
    /// The Shift_JIS establishments export against the database's CSV output through iconv.
    Export {
        #[command(flatten)]
        data: BenchDataArgs,
        #[arg(long, default_value_t = 1_000_000)]
        establishments: u64,
    },
    /// The ledger import with validation against the database's raw bulk load.
    Import {
        #[command(flatten)]
        data: BenchDataArgs,
        #[arg(long, default_value_t = 250_000)]
        establishments: u64,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

/// What the data benchmarks share.
#[derive(clap::Args, Debug)]
pub struct BenchDataArgs {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Scratch directory (default: a new one under the system's temporary directory).
    #[arg(long)]
    pub work_dir: Option<std::path::PathBuf>,
    /// Name prefix of the PostgreSQL databases created and dropped (`<prefix>_<pid>_<what>`).
    /// The server is `--database-url`, else MADOGUCHI_BENCH_DATABASE_URL, else the local one.
    #[arg(long, default_value = "madoguchi_bench")]
    pub db_prefix: String,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a bearer token for a user and print it.
    Issue {
        /// The user's login, e.g. provider1 or reviewer-131041.
        login: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Disable a user: ends all their sessions and stops their API tokens.
    DisableUser { login: String },
    /// Re-enable a disabled user.
    EnableUser { login: String },
    /// Set a staff member's password, read from standard input (asked twice without echo on a
    /// terminal; one line from a pipe). Ends all their sessions.
    SetPassword { login: String },
    /// Remove a staff member's authenticator app and recovery codes (lost phone): they enrol
    /// again at their next sign-in. Ends all their sessions.
    ResetTotp { login: String },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Establishments and designations, one row per designation (the columns of the export;
    /// header names and aliases in docs/ledger.md). Checks every row (check digits, dates,
    /// designating authority) and reports each bad one with its line number; writes nothing
    /// unless every row is good. Re-running the same file changes nothing.
    Establishments {
        /// The CSV file.
        csv: PathBuf,
        /// The importing authority's 全国地方公共団体コード (6 digits).
        #[arg(long)]
        authority: String,
        /// auto (UTF-8 if the bytes are UTF-8, else Shift_JIS), utf-8 or shift_jis.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// Check and report only.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Establishments and designations of the authority, one row per designation.
    Establishments(ExportArgs),
    /// Accepted cases of the authority.
    Cases(ExportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The authority's 全国地方公共団体コード.
    #[arg(long)]
    pub authority: String,
    /// Output file (`-`: standard output).
    #[arg(long, short)]
    pub out: PathBuf,
    /// csv or xlsx.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// CSV: utf-8, utf-8-bom or shift_jis.
    #[arg(long, default_value = "utf-8")]
    pub encoding: String,
    /// Shift_JIS: leave out rows with characters it cannot hold (default: refuse and list them).
    #[arg(long)]
    pub skip_unmappable: bool,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Verify every link of the audit hash chain; exits non-zero on tampering.
    Verify,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(&cli.data)?;
    init_logging(&config.log.format);
    match cli.command {
        Command::Serve {
            demo,
            addr,
            no_worker,
        } => {
            if let Some(a) = addr {
                config.server.addr = a;
            }
            if no_worker {
                config.server.run_worker = false;
            }
            if config.base_url().starts_with("https://") {
                config.web.hsts = true;
            }
            if demo {
                config.web.demo = true;
                if config.base_url().starts_with("http://") && config.web.cookie_secure {
                    tracing::warn!("demo over plain HTTP: session cookie without Secure");
                    config.web.cookie_secure = false;
                }
            }
            // Demo: providers sign in through the development OpenID provider on this server.
            let extra = if demo {
                crate::devidp::mount_for_demo(&mut config)?.1
            } else {
                axum::Router::new()
            };
            let app = server::open_default(&config).await?;
            if demo {
                print_logins(&madoguchi_core::registry::demo::seed_if_empty(&app).await?);
                println!(
                    "事業者はログイン画面の「GビズIDでログイン（デモ）」から、デモ用 GビズID（{}）のアカウントを選んでログインします。",
                    crate::devidp::MOUNT
                );
            }
            let listener = tokio::net::TcpListener::bind(&config.server.addr).await?;
            println!(
                "窓口 Madoguchi: {} で待ち受けています（データ: {}）",
                config.base_url(),
                config.data_dir.display()
            );
            server::serve_with(
                app,
                config.web.clone(),
                listener,
                config.server.run_worker,
                server::shutdown_signal(),
                extra,
            )
            .await?;
        }
        Command::Worker => {
            let app = server::open_default(&config).await?;
            let mailer = madoguchi_core::mail::Mailer::new(&app.config.mail)?;
            madoguchi_core::jobs::runner::run_forever(app, mailer, server::shutdown_signal()).await;
        }
        Command::Migrate => {
            server::open_default(&config).await?;
            println!("migrations applied");
        }
        Command::Seed => {
            let app = server::open_default(&config).await?;
            let logins = madoguchi_core::registry::demo::seed_if_empty(&app).await?;
            if logins.is_empty() {
                println!("the database already holds data; nothing loaded");
            }
            print_logins(&logins);
        }
        Command::Token {
            command: TokenCommand::Issue { login, label },
        } => {
            let app = server::open_default(&config).await?;
            match madoguchi_core::auth::issue_token(&app, &login, &label).await {
                Ok(t) => println!("{t}"),
                Err(madoguchi_core::CoreError::Validation(e)) => {
                    eprintln!(
                        "{}",
                        e.first().map(|e| e.message.as_str()).unwrap_or("invalid")
                    );
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let app = server::open_default(&config).await?;
            match madoguchi_core::audit::verify(&app).await {
                Ok(n) => println!("audit chain OK: {n} events verified"),
                Err(e) => {
                    eprintln!("AUDIT CHAIN BROKEN: {e}");
                    return Ok(ExitCode::from(3));
                }
            }
        }
        Command::Admin { command } => {
            let app = server::open_default(&config).await?;
            let (login, disabled) = match &command {
                AdminCommand::DisableUser { login } => (login, true),
                AdminCommand::EnableUser { login } => (login, false),
                AdminCommand::SetPassword { login } => {
                    return crate::admin::set_password(&app, login).await;
                }
                AdminCommand::ResetTotp { login } => {
                    return crate::admin::reset_totp(&app, login).await;
                }
            };
            match madoguchi_core::auth::set_user_disabled(&app, login, disabled, "cli").await {
                Ok(()) => println!(
                    "{login}: {}",
                    if disabled {
                        "disabled; all sessions ended"
                    } else {
                        "enabled"
                    }
                ),
                Err(madoguchi_core::CoreError::Validation(e)) => {
                    eprintln!(
                        "{}",
                        e.first().map(|e| e.message.as_str()).unwrap_or("invalid")
                    );
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Backup { out, blobs_only } => {
            return crate::backup::backup(&config, &out, blobs_only).await;
        }
        Command::Restore { from, force } => {
            return crate::backup::restore(&config, &from, force).await;
        }
        Command::DevIdp { addr, issuer } => {
            crate::devidp::serve_alone(&config, &addr, issuer).await?;
        }
        Command::Import {
            command:
                ImportCommand::Establishments {
                    csv,
                    authority,
                    encoding,
                    dry_run,
                },
        } => {
            let app = server::open_default(&config).await?;
            return crate::ledger::import_establishments(
                &app, &csv, &authority, &encoding, dry_run,
            )
            .await;
        }
        Command::Export { command } => {
            let app = server::open_default(&config).await?;
            let (kind, args) = match &command {
                ExportCommand::Establishments(a) => (
                    madoguchi_core::ledger::export::ExportKind::Establishments,
                    a,
                ),
                ExportCommand::Cases(a) => (madoguchi_core::ledger::export::ExportKind::Cases, a),
            };
            return crate::ledger::export(&app, kind, args).await;
        }
        Command::Bench {
            command:
                BenchCommand::Procedures {
                    definitions,
                    filings,
                    rounds,
                },
        } => {
            crate::bench::procedures::run(definitions, filings, rounds)?;
        }
        Command::Bench {
            command:
                BenchCommand::Server {
                    backend,
                    rounds,
                    duration,
                    count,
                    clients,
                    open_loop_count,
                    db_prefix,
                },
        } => {
            anyhow::ensure!(
                !db_prefix.is_empty()
                    && db_prefix
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "--db-prefix には英小文字・数字・_ だけを使ってください"
            );
            anyhow::ensure!(
                duration.is_finite() && duration > 0.0,
                "--duration は正の秒数で指定してください"
            );
            let pg_url = cli
                .data
                .database_url
                .clone()
                .or_else(|| std::env::var("MADOGUCHI_BENCH_DATABASE_URL").ok());
            let mut backends = Vec::new();
            if backend != BackendChoice::Postgres {
                backends.push(crate::bench::server::BenchBackend::Sqlite);
            }
            if backend != BackendChoice::Sqlite {
                let admin_url = pg_url.context(
                    "PostgreSQL: --database-url か MADOGUCHI_BENCH_DATABASE_URL でサーバーを指定してください",
                )?;
                backends.push(crate::bench::server::BenchBackend::Postgres {
                    admin_url,
                    prefix: db_prefix,
                });
            }
            let opts = crate::bench::suite::Options {
                backends,
                rounds: rounds.max(1),
                duration: std::time::Duration::from_secs_f64(duration),
                count: count.max(1),
                clients: if clients.is_empty() {
                    vec![1, 8]
                } else {
                    clients
                },
                bin: std::env::current_exe()?,
                open_loop_count: open_loop_count.max(1),
            };
            crate::bench::suite::run(&opts).await?;
        }
        Command::Bench { command } => {
            return crate::bench::run_data(command, cli.data.database_url.clone()).await;
        }
        Command::PrintConfig => {
            println!("{}", toml::to_string_pretty(&config)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_logins(logins: &[madoguchi_core::registry::demo::DemoLogin]) {
    if logins.is_empty() {
        return;
    }
    println!("デモデータを読み込みました。ログイン画面（/login）で次の利用者を選べます:");
    for l in logins {
        println!(
            "  {:<20} {}（{}・{}）",
            l.login, l.display_name, l.organisation, l.role_label
        );
    }
    println!(
        "自治体職員・運営者は「自治体職員のログイン」からパスワード {} でもログインできます（初回に認証アプリを登録します）。",
        madoguchi_core::registry::demo::DEMO_STAFF_PASSWORD
    );
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MADOGUCHI_LOG_LEVEL")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
