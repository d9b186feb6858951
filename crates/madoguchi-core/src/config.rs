//! Settings the use cases need. Loaded once by the binary and passed down; no globals.

use std::path::PathBuf;

use crate::mail::MailConfig;

/// Core settings (a section of the binary's configuration).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
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
        }
    }
}
