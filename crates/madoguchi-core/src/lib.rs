//! Use cases of Madoguchi. Every state change is one function here (`filings::submit`,
//! `cases::accept`, …), shared by the HTML pages, the JSON API, the CLI and jobs. Each runs in
//! one database transaction that also appends its audit event and enqueues the jobs for its
//! outside effects (mail, webhooks), so a change and its consequences commit or vanish together.

pub mod actor;
// Authority admin (issue #4, workspace part B).
pub mod admin;
pub mod audit;
pub mod auth;
pub mod blobs;
pub mod cases;
pub mod catalog;
pub mod clock;
pub mod config;
mod error;
pub mod filings;
pub mod jobs;
pub mod ledger;
pub mod local_rules;
pub mod mail;
// Provider portal, part B (issue #4): in-app notifications, e-mail preferences, daily sweep.
pub mod notifications;
pub mod policy;
pub mod registry;
pub mod uploads;

use std::sync::Arc;

pub use actor::{Actor, Role};
pub use error::{CoreError, CoreResult};

use madoguchi_db::Db;
use madoguchi_domain::authority::DesignationRules;

/// Argon2id hashes computed at once (each takes ~19 MiB and one core for tens of ms); more
/// sign-ins wait their turn rather than starve the server.
const PASSWORD_HASH_CONCURRENCY: usize = 2;

/// Everything a use case needs, built once at start-up and shared (cheap to clone).
#[derive(Clone)]
pub struct App {
    pub db: Db,
    /// Procedures (fixed) and local rules (live: files overlaid with published admin rules).
    pub catalog: Arc<catalog::Catalog>,
    pub rules: Arc<DesignationRules>,
    pub blobs: blobs::BlobStore,
    pub clock: Arc<dyn clock::Clock>,
    pub config: Arc<config::CoreConfig>,
    /// Wakes the in-process job worker when a transaction enqueued work.
    pub jobs_waker: Arc<tokio::sync::Notify>,
    /// Provider sign-in by OpenID Connect, when `[oidc]` is configured.
    pub oidc: Option<Arc<auth::oidc::RelyingParty>>,
    /// Argon2id hashing of staff passwords, off the async threads, two at a time.
    pub passwords: auth::PasswordHasher,
    /// The HTTP client of webhook deliveries (built on first use).
    pub webhooks: ledger::webhooks::WebhookClient,
}

impl App {
    /// Builds the application on an already migrated database, loading the embedded
    /// procedure definitions and designation rules (a broken definition is a start-up error).
    pub fn new(
        db: Db,
        config: config::CoreConfig,
        clock: Arc<dyn clock::Clock>,
    ) -> CoreResult<App> {
        let catalog = catalog::embedded_catalog()?;
        let rules = catalog::embedded_rules()?;
        let blobs = blobs::BlobStore::new(config.data_dir.join("blobs"));
        let oidc = auth::oidc::relying_party(&config.oidc)?;
        Ok(App {
            db,
            catalog: Arc::new(catalog::Catalog::new(catalog)),
            rules: Arc::new(rules),
            blobs,
            clock,
            config: Arc::new(config),
            jobs_waker: Arc::new(tokio::sync::Notify::new()),
            oidc,
            passwords: auth::PasswordHasher::new(PASSWORD_HASH_CONCURRENCY),
            webhooks: ledger::webhooks::WebhookClient::default(),
        })
    }

    /// Milliseconds since the Unix epoch, from the injected clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }
}
