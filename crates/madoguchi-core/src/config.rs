//! Settings the use cases need. Loaded once by the binary and passed down; no globals.

use std::path::PathBuf;

use crate::mail::MailConfig;

/// Core settings (a section of the binary's configuration).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct CoreConfig {
    /// Where attachments (content-addressed blobs) and the SQLite file live.
    pub data_dir: PathBuf,
    /// Public base URL used in links inside e-mails, e.g. "http://127.0.0.1:8080".
    pub base_url: String,
    pub mail: MailConfig,
    /// First retry delay of a failed job; doubles each attempt (capped at one hour).
    pub job_backoff_base_ms: i64,
    /// Attempts before a job is given up (status `dead`).
    pub job_max_attempts: i64,
    /// Largest single upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Largest total of the distinct files linked to one filing, in bytes.
    pub max_filing_bytes: u64,
    /// Largest declared unpacked total of a ZIP or OOXML upload, in bytes.
    pub max_archive_unpacked_bytes: u64,
    /// Most entries (files and folders) a ZIP or OOXML upload may list.
    pub max_archive_entries: u64,
    /// Largest unpacked:packed ratio of one archive entry over 1 MiB unpacked.
    pub max_archive_ratio: u64,
    /// ClamAV daemon (`host:port` or `unix:/path`); `None` or empty: no virus scan. When set,
    /// an upload is refused unless clamd answers clean (fail closed).
    pub clamd: Option<String>,
    /// Time allowed for one whole clamd scan, in milliseconds.
    pub clamd_timeout_ms: u64,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            data_dir: PathBuf::from("data"),
            base_url: "http://127.0.0.1:8080".into(),
            mail: MailConfig::default(),
            job_backoff_base_ms: 30_000,
            job_max_attempts: 8,
            max_upload_bytes: 25 * 1024 * 1024,
            max_filing_bytes: 200 * 1024 * 1024,
            max_archive_unpacked_bytes: 100 * 1024 * 1024,
            max_archive_entries: 1000,
            max_archive_ratio: 100,
            clamd: None,
            clamd_timeout_ms: 30_000,
        }
    }
}
