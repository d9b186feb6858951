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
    /// Time of day (JST, `HH:MM`) of the daily notification sweep; empty: no sweep.
    pub daily_sweep_at: String,
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
    /// Provider sign-in by OpenID Connect (GビズID or another provider).
    pub oidc: OidcConfig,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            data_dir: PathBuf::from("data"),
            base_url: "http://127.0.0.1:8080".into(),
            mail: MailConfig::default(),
            job_backoff_base_ms: 30_000,
            job_max_attempts: 8,
            daily_sweep_at: "07:00".into(),
            max_upload_bytes: 25 * 1024 * 1024,
            max_filing_bytes: 200 * 1024 * 1024,
            max_archive_unpacked_bytes: 100 * 1024 * 1024,
            max_archive_entries: 1000,
            max_archive_ratio: 100,
            clamd: None,
            clamd_timeout_ms: 30_000,
            oidc: OidcConfig::default(),
        }
    }
}

/// The OpenID Connect relying party (`[oidc]`): providers sign in at their OpenID provider
/// (GビズID in production, the development provider in demos and tests). An empty `issuer`
/// turns provider sign-in off.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct OidcConfig {
    /// Issuer identifier; discovery is read from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret (client_secret_basic); redacted when printed.
    pub client_secret: Secret,
    /// This service's callback, exactly as registered: `<base_url>/login/oidc/callback`.
    pub redirect_uri: String,
    /// Scopes requested, `openid` first; nothing beyond what sign-in needs.
    pub scopes: Vec<String>,
    /// The provider's name on the sign-in button.
    pub provider_name: String,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            redirect_uri: String::new(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            provider_name: "GビズID".into(),
        }
    }
}

impl OidcConfig {
    /// Whether provider sign-in is configured.
    pub fn enabled(&self) -> bool {
        !self.issuer.trim().is_empty()
    }
}

/// A configured secret: read from the configuration like any string, but never shown by
/// `Debug` or when the configuration is printed (`madoguchi print-config`).
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret([redacted])"
        })
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "[redacted]" })
    }
}
