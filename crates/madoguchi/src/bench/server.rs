//! The real server as a child process for the server workloads: the same binary, `serve
//! --demo` over a temporary data directory (and, for PostgreSQL, a database created for the
//! run and dropped at the end), upload rate limits raised, a provider's bearer token issued
//! through `madoguchi token issue`. Its memory is read from `/proc/<pid>/status`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::AssertSqlSafe;

/// Which database the server (and the limits) use.
#[derive(Clone, Debug)]
pub enum BenchBackend {
    Sqlite,
    /// A database created for the run on this PostgreSQL server (URL of the database to
    /// connect to for `CREATE DATABASE`), named `<prefix>_<pid>`.
    Postgres {
        admin_url: String,
        prefix: String,
    },
}

impl BenchBackend {
    pub fn name(&self) -> &'static str {
        match self {
            BenchBackend::Sqlite => "SQLite",
            BenchBackend::Postgres { .. } => "PostgreSQL",
        }
    }
}

/// A PostgreSQL database created for the run; dropped by [`ScratchDb::drop_now`].
pub struct ScratchDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl ScratchDb {
    pub async fn create(admin_url: &str, name: &str) -> anyhow::Result<ScratchDb> {
        use sqlx::Connection;
        // The name goes into the statement (identifiers cannot be bound): plain ones only.
        anyhow::ensure!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "database name must be lower-case letters, digits and _: {name:?}"
        );
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .with_context(|| format!("connect to {admin_url}"))?;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
            .execute(&mut conn)
            .await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(ScratchDb {
            admin_url: admin_url.to_string(),
            name: name.to_string(),
            url: replace_db_name(admin_url, name)?,
        })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url).await?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}

/// `postgres://user@host:port/db?x` with the database replaced by `name`.
fn replace_db_name(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").context("database URL without ://")? + 3;
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(p) => &base[..p],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    })
}

/// The server child process; killed on drop.
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    bin: PathBuf,
}

impl ServerProcess {
    /// Starts `bin serve --demo --no-worker` (mail delivery is another system; the job worker
    /// would only retry against a missing SMTP server) and waits for `/healthz`.
    pub async fn start(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<ServerProcess> {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(data_dir.with_extension("log"))?;
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--demo", "--no-worker", "--addr", &addr])
            .arg("--data-dir")
            .arg(data_dir)
            .env(
                "MADOGUCHI_WEB__RATE_LIMITS__UPLOADS_PER_MINUTE",
                "100000000",
            )
            .env("MADOGUCHI_WEB__RATE_LIMITS__SEARCH_PER_MINUTE", "100000000")
            .env("MADOGUCHI_LOG__FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(u) = database_url {
            cmd.arg("--database-url").arg(u);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let mut server = ServerProcess {
            child,
            base_url: format!("http://{addr}"),
            data_dir: data_dir.to_path_buf(),
            database_url: database_url.map(str::to_string),
            bin: bin.to_path_buf(),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}); log: {}",
                    data_dir.with_extension("log").display()
                );
            }
            let ok = client
                .get(format!("{}/healthz", server.base_url))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            if Instant::now() > deadline {
                bail!("the server did not answer /healthz within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A bearer token for `login`, issued by `madoguchi token issue` (as an operator would).
    pub fn issue_token(&self, login: &str) -> anyhow::Result<String> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["token", "issue", login, "--label", "bench"])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("RUST_LOG", "warn");
        if let Some(u) = &self.database_url {
            cmd.arg("--database-url").arg(u);
        }
        let out = cmd.output()?;
        if !out.status.success() {
            bail!(
                "token issue failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = String::from_utf8(out.stdout)?;
        let token = text.lines().last().unwrap_or("").trim().to_string();
        if token.is_empty() {
            bail!("token issue printed nothing");
        }
        Ok(token)
    }

    /// The child's memory now and at its peak.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        read_memory(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process, in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// VmRSS: resident now.
    pub rss: u64,
    /// VmHWM: the peak resident size since start.
    pub peak: u64,
}

/// Reads VmRSS and VmHWM from `/proc/<pid>/status` (Linux).
pub fn read_memory(pid: u32) -> anyhow::Result<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("read /proc/<pid>/status (Linux only)")?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    };
    Ok(Memory {
        rss: field("VmRSS:").context("no VmRSS")?,
        peak: field("VmHWM:").context("no VmHWM")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_db_name("postgres://postgres@127.0.0.1:5432/postgres", "x_1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x_1"
        );
        assert_eq!(
            replace_db_name("postgres://u@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            replace_db_name("postgres://u@h", "x").unwrap(),
            "postgres://u@h/x"
        );
    }

    #[test]
    fn own_memory_is_read() {
        let m = read_memory(std::process::id()).unwrap();
        assert!(m.rss > 0 && m.peak >= m.rss);
    }
}
