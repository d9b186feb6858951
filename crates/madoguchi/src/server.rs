//! Opening the data directory and database, building the application, and serving HTTP
//! (with the job worker in-process unless configured apart), until a shutdown signal.

use std::sync::Arc;

use madoguchi_core::App;
use madoguchi_core::clock::{Clock, SystemClock};
use madoguchi_db::Db;
use madoguchi_web::{AppState, WebConfig};

use crate::config::Config;

/// Connects, migrates and builds the application.
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db = Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    let app = App::new(db, config.core(), clock)?;
    // Local rules authority admins published apply from the start.
    madoguchi_core::admin::local_rules::load_published(&app).await?;
    Ok(app)
}

/// Opens with the system clock.
pub async fn open_default(config: &Config) -> anyhow::Result<App> {
    open(config, Arc::new(SystemClock)).await
}

/// Serves on an already bound listener until `shutdown` completes; runs the worker too when
/// `run_worker`.
pub async fn serve(
    app: App,
    web: WebConfig,
    listener: tokio::net::TcpListener,
    run_worker: bool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(
        app,
        web,
        listener,
        run_worker,
        shutdown,
        axum::Router::new(),
    )
    .await
}

/// Like [`serve`], with `extra` routes beside the application's (`serve --demo` mounts the
/// development OpenID provider this way: [`crate::devidp::mount_for_demo`]).
pub async fn serve_with(
    app: App,
    web: WebConfig,
    listener: tokio::net::TcpListener,
    run_worker: bool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    extra: axum::Router,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = if run_worker {
        let mailer = madoguchi_core::mail::Mailer::new(&app.config.mail)?;
        let mut rx = stop_rx.clone();
        let app = app.clone();
        Some(tokio::spawn(madoguchi_core::jobs::runner::run_forever(
            app,
            mailer,
            async move {
                let _ = rx.wait_for(|v| *v).await;
            },
        )))
    } else {
        None
    };
    let state = AppState::new(app, web);
    let router = madoguchi_web::router_with(state, extra);
    // Connect info gives the rate limiter the peer address.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
