//! The HTTP face of Madoguchi: server-rendered Japanese pages (no JavaScript required) and the
//! JSON API v1, over the same use cases. Assets are embedded; nothing is loaded from outside.

pub mod api;
pub mod assets;
mod auth;
mod error;
pub mod pages;
pub mod ratelimit;
pub mod routes;
mod security;
mod state;

use axum::Router;
use axum::extract::State;

pub use error::{AppError, ErrorBody};
pub use state::{AppState, WebConfig};

/// The whole application router.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application router with `extra` routes merged in front of the fallback and under the
/// same security headers (the development OpenID provider under `/dev-idp` in demo mode).
/// `extra` is not part of the route table: it must not be product functionality.
pub fn router_with(state: AppState, extra: Router) -> Router {
    Router::new()
        .merge(routes::build(&state))
        .merge(assets::router())
        .with_state(state.clone())
        .merge(extra)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_string();
                    tracing::info_span!(
                        "http",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %request_id,
                        actor = tracing::field::Empty,
                        tenant = tracing::field::Empty
                    )
                })
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
}

/// Liveness and database reachability.
pub(crate) async fn healthz(
    State(s): State<AppState>,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    let mut tx = s
        .app
        .db
        .begin_read()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    madoguchi_db::audit::head(&mut tx)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}

/// Unknown paths: a JSON problem under `/api/`, the HTML page elsewhere.
async fn fallback(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        axum::response::IntoResponse::into_response(AppError::NotFound)
    } else {
        pages::not_found().await
    }
}
