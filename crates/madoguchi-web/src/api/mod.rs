//! JSON API v1. Bearer-token authentication; every error is a JSON problem naming the field.
//! One file per resource; `openapi` assembles the OpenAPI document served at
//! `/api/v1/openapi.json`.

mod cases;
mod establishments;
mod extract;
mod filings;
pub use filings::{file_response, multipart_error};
mod me;
pub mod openapi;
mod procedures;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub use extract::{ApiJson, ApiQuery};

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me::get_me))
        .route("/procedures", get(procedures::list_procedures))
        .route("/procedures/{id}", get(procedures::get_procedure))
        .route("/corporation", get(establishments::get_corporation))
        .route("/establishments", get(establishments::list_establishments))
        .route(
            "/establishments/{id}",
            get(establishments::get_establishment),
        )
        .route(
            "/filings",
            get(filings::list_filings).post(filings::create_filing),
        )
        .route(
            "/filings/{id}",
            get(filings::get_filing).put(filings::update_filing),
        )
        .route("/filings/{id}/submit", post(filings::submit_filing))
        .route("/filings/{id}/withdraw", post(filings::withdraw_filing))
        .route("/filings/{id}/attachments", post(filings::link_attachment))
        .route("/attachments/{id}", get(filings::download_attachment))
        .route("/cases", get(cases::list_cases))
        .route("/cases/{id}", get(cases::get_case))
        .route("/cases/{id}/accept", post(cases::accept_case))
        .route("/cases/{id}/return", post(cases::return_case))
        .route("/cases/{id}/comments", post(cases::comment_case))
        .route("/openapi.json", get(openapi::openapi_json))
}

/// The upload route, mounted separately because it takes a larger body limit.
pub use filings::upload_attachment as upload_route;
