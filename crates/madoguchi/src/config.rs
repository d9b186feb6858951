//! Configuration: embedded documented defaults (`config/madoguchi.example.toml`) → optional
//! TOML file → `MADOGUCHI_…` environment → command-line flags. Loaded once, validated, then
//! passed down; nothing reads configuration later.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use madoguchi_core::config::{CoreConfig, OidcConfig};
use madoguchi_core::mail::MailConfig;
use madoguchi_web::WebConfig;
use serde::{Deserialize, Serialize};

const DEFAULTS: &str = include_str!("../../../config/madoguchi.example.toml");

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub server: ServerConfig,
    pub web: WebConfig,
    pub mail: MailConfig,
    pub jobs: JobsConfig,
    pub uploads: UploadsConfig,
    pub log: LogConfig,
    /// Provider sign-in by OpenID Connect (the client secret is redacted when printed).
    pub oidc: OidcConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ServerConfig {
    pub addr: String,
    pub base_url: String,
    pub run_worker: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct JobsConfig {
    pub backoff_base_ms: i64,
    pub max_attempts: i64,
    /// Time of day (JST, `HH:MM`) of the daily notification sweep; empty: off.
    #[serde(default)]
    pub daily_sweep_at: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct UploadsConfig {
    pub max_bytes: u64,
    pub max_filing_bytes: u64,
    pub max_archive_unpacked_bytes: u64,
    pub max_archive_entries: u64,
    pub max_archive_ratio: u64,
    /// clamd address; empty: no virus scan.
    pub clamd: String,
    pub clamd_timeout_secs: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct LogConfig {
    pub format: String,
}

/// Flags that override the configuration (shared by every subcommand that touches data).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct DataArgs {
    /// Configuration file (TOML).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database and attachments).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
}

impl Config {
    /// Loads the layers and validates the result.
    pub fn load(args: &DataArgs) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = &args.config {
            anyhow::ensure!(
                path.exists(),
                "configuration file {} does not exist",
                path.display()
            );
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(
            Env::prefixed("MADOGUCHI_")
                .split("__")
                .ignore(&["test_database_url", "log_level"]),
        );
        let mut c: Config = fig.extract()?;
        if let Some(d) = &args.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(u) = &args.database_url {
            c.database_url = u.clone();
        }
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.server.addr.parse::<std::net::SocketAddr>().is_ok(),
            "server.addr must be HOST:PORT, got {:?}",
            self.server.addr
        );
        anyhow::ensure!(
            self.jobs.max_attempts >= 1,
            "jobs.max_attempts must be at least 1"
        );
        anyhow::ensure!(
            self.jobs.backoff_base_ms >= 0,
            "jobs.backoff_base_ms must not be negative"
        );
        anyhow::ensure!(
            self.jobs.daily_sweep_at.trim().is_empty()
                || chrono::NaiveTime::parse_from_str(self.jobs.daily_sweep_at.trim(), "%H:%M")
                    .is_ok(),
            "jobs.daily_sweep_at must be HH:MM (Japan time) or empty, got {:?}",
            self.jobs.daily_sweep_at
        );
        anyhow::ensure!(
            self.uploads.max_bytes >= 1024,
            "uploads.max_bytes is too small"
        );
        anyhow::ensure!(
            self.uploads.max_filing_bytes >= self.uploads.max_bytes,
            "uploads.max_filing_bytes must be at least uploads.max_bytes"
        );
        anyhow::ensure!(
            self.uploads.max_archive_entries >= 1
                && self.uploads.max_archive_ratio >= 1
                && self.uploads.max_archive_unpacked_bytes >= 1024,
            "uploads.max_archive_* limits are too small"
        );
        let clamd = self.uploads.clamd.trim();
        anyhow::ensure!(
            clamd.is_empty()
                || clamd.starts_with("unix:/")
                || clamd
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()),
            "uploads.clamd must be HOST:PORT or unix:/path, got {clamd:?}"
        );
        anyhow::ensure!(
            self.uploads.clamd_timeout_secs >= 1,
            "uploads.clamd_timeout_secs must be at least 1"
        );
        anyhow::ensure!(
            matches!(self.log.format.as_str(), "text" | "json"),
            "log.format must be text or json"
        );
        anyhow::ensure!(
            self.web.session_idle_minutes > 0 && self.web.session_absolute_hours > 0,
            "session timeouts must be positive"
        );
        if self.oidc.enabled() {
            let url = |v: &str| v.starts_with("https://") || v.starts_with("http://");
            anyhow::ensure!(
                url(self.oidc.issuer.trim()),
                "oidc.issuer must be an http(s) URL, got {:?}",
                self.oidc.issuer
            );
            anyhow::ensure!(
                url(self.oidc.redirect_uri.trim()),
                "oidc.redirect_uri must be an http(s) URL (<base_url>/login/oidc/callback)"
            );
            anyhow::ensure!(
                !self.oidc.client_id.trim().is_empty(),
                "oidc.client_id is required when oidc.issuer is set"
            );
            anyhow::ensure!(
                self.oidc.scopes.first().map(String::as_str) == Some("openid"),
                "oidc.scopes must start with \"openid\""
            );
        }
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file inside the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            sqlite_url(&self.data_dir.join("madoguchi.db"))
        } else {
            self.database_url.clone()
        }
    }

    pub fn base_url(&self) -> String {
        if self.server.base_url.is_empty() {
            format!("http://{}", self.server.addr)
        } else {
            self.server.base_url.trim_end_matches('/').to_string()
        }
    }

    /// The use cases' part of the configuration.
    pub fn core(&self) -> CoreConfig {
        CoreConfig {
            data_dir: self.data_dir.clone(),
            base_url: self.base_url(),
            mail: self.mail.clone(),
            job_backoff_base_ms: self.jobs.backoff_base_ms,
            job_max_attempts: self.jobs.max_attempts,
            daily_sweep_at: self.jobs.daily_sweep_at.trim().to_string(),
            max_upload_bytes: self.uploads.max_bytes,
            max_filing_bytes: self.uploads.max_filing_bytes,
            max_archive_unpacked_bytes: self.uploads.max_archive_unpacked_bytes,
            max_archive_entries: self.uploads.max_archive_entries,
            max_archive_ratio: self.uploads.max_archive_ratio,
            clamd: Some(self.uploads.clamd.trim().to_string()).filter(|a| !a.is_empty()),
            clamd_timeout_ms: self.uploads.clamd_timeout_secs.saturating_mul(1000),
            oidc: self.oidc.clone(),
        }
    }
}

/// `sqlite://` URL of a database file.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_load_and_validate() {
        let c = Config::load(&DataArgs::default()).unwrap();
        assert_eq!(c.server.addr, "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://data/madoguchi.db");
        assert!(c.web.cookie_secure);
    }

    #[test]
    fn the_oidc_client_secret_is_never_printed() {
        let mut c = Config::load(&DataArgs::default()).unwrap();
        assert!(!c.oidc.enabled(), "provider sign-in is off by default");
        c.oidc.client_secret = madoguchi_core::config::Secret::new("s3cr3t-value");
        assert!(!toml::to_string_pretty(&c).unwrap().contains("s3cr3t-value"));
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
        assert_eq!(c.oidc.client_secret.expose(), "s3cr3t-value");
    }

    #[test]
    fn flags_override_defaults() {
        let args = DataArgs {
            data_dir: Some("/tmp/x".into()),
            database_url: None,
            config: None,
        };
        let c = Config::load(&args).unwrap();
        assert_eq!(c.database_url(), "sqlite:///tmp/x/madoguchi.db");
    }
}
