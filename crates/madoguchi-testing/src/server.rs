//! The real server, started in-process on 127.0.0.1:0 over a fresh database with the demo
//! world loaded, mail going to a real SMTP sink, and the job worker running.

use std::sync::Arc;

use madoguchi::config::{Config, DataArgs};
use madoguchi_core::App;
use madoguchi_core::clock::SystemClock;

use crate::api::Api;
use crate::db::{TestBackend, TestDb};
use crate::smtp_sink::SmtpSink;

pub struct TestServer {
    pub base_url: String,
    pub app: App,
    pub sink: SmtpSink,
    pub db: TestDb,
    pub config: Config,
    /// The development OpenID provider mounted under `/dev-idp` (as `serve --demo` does); the
    /// relying party points at it. Tests make it misbehave to prove the checks.
    pub idp: madoguchi_devidp::DevIdp,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with demo data on `backend`.
    pub async fn start(backend: TestBackend) -> TestServer {
        Self::launch(backend, SmtpSink::start().await, true, |_| {}).await
    }

    /// Like [`TestServer::start`], with the configuration adjusted by `tweak` before the
    /// server opens (e.g. raised rate limits for a test that sends thousands of requests, or
    /// `server.run_worker = false` to leave queued mail alone).
    pub async fn start_with(backend: TestBackend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::launch(backend, SmtpSink::start().await, true, tweak).await
    }

    /// Like [`TestServer::start`], but mail goes to `sink` (e.g. one that refuses the first
    /// messages, to exercise retries).
    pub async fn start_with_sink(backend: TestBackend, sink: SmtpSink) -> TestServer {
        Self::launch(backend, sink, true, |_| {}).await
    }

    /// Like [`TestServer::start_with_sink`], but without the in-process job worker: jobs run
    /// only when the test runs them ([`TestServer::drain_jobs`] or
    /// `madoguchi_core::jobs::runner::run_once`), so it can observe every attempt in order.
    pub async fn start_without_worker(backend: TestBackend, sink: SmtpSink) -> TestServer {
        Self::launch(backend, sink, false, |_| {}).await
    }

    async fn launch(
        backend: TestBackend,
        sink: SmtpSink,
        run_worker: bool,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let db = TestDb::new(backend).await;
        let mut config = Config::load(&DataArgs {
            config: None,
            data_dir: Some(db.dir.path().to_path_buf()),
            database_url: Some(db.url.clone()),
        })
        .expect("config");
        config.mail = sink.mail_config();
        config.jobs.backoff_base_ms = 20;
        // The daily notification sweep runs on the system clock; tests that want it turn it
        // on in their tweak or call `madoguchi_core::notifications::sweep::sweep` themselves.
        config.jobs.daily_sweep_at = String::new();
        config.web.demo = true;
        config.web.cookie_secure = false;
        // Tests sign in many times from 127.0.0.1; the rate-limit test sets its own limit.
        config.web.rate_limits.sign_in_per_minute = 1000;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.server.addr = addr.to_string();
        config.server.base_url = format!("http://{addr}");
        tweak(&mut config);
        // A tweak may turn the in-process worker off (`config.server.run_worker = false`).
        let run_worker = run_worker && config.server.run_worker;
        let (idp, idp_router) = madoguchi::devidp::mount_for_demo(&mut config).expect("dev idp");
        let app = madoguchi::server::open(&config, Arc::new(SystemClock))
            .await
            .expect("open app");
        madoguchi_core::registry::demo::seed_if_empty(&app)
            .await
            .expect("seed demo");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serve_app = app.clone();
        let web = config.web.clone();
        let handle = tokio::spawn(async move {
            madoguchi::server::serve_with(
                serve_app,
                web,
                listener,
                run_worker,
                async move {
                    let _ = rx.await;
                },
                idp_router,
            )
            .await
            .expect("server");
        });
        TestServer {
            base_url: format!("http://{addr}"),
            app,
            sink,
            db,
            config,
            idp,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// An API client authenticated as `login` (a fresh bearer token).
    pub async fn api(&self, login: &str) -> Api {
        let token = madoguchi_core::auth::issue_token(&self.app, login, "test")
            .await
            .expect("token");
        Api::new(&self.base_url, Some(token))
    }

    /// An API client without credentials.
    pub fn anonymous(&self) -> Api {
        Api::new(&self.base_url, None)
    }

    /// Runs every due job now (mail delivery) instead of waiting for the worker.
    pub async fn drain_jobs(&self) {
        let mailer = madoguchi_core::mail::Mailer::new(&self.app.config.mail).expect("mailer");
        madoguchi_core::jobs::runner::drain(&self.app, &mailer)
            .await
            .expect("drain");
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}
