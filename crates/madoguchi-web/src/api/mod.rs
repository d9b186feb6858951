//! JSON API v1. Bearer-token authentication; every error is a JSON problem naming the field.
//! One file per resource; `openapi` assembles the OpenAPI document served at
//! `/api/v1/openapi.json`.

pub(crate) mod cases;
pub(crate) mod establishments;
mod extract;
pub(crate) mod filings;
pub(crate) mod ledger;
pub(crate) mod local_rules;
pub use filings::{file_response, multipart_error};
pub(crate) mod me;
pub mod openapi;
pub(crate) mod procedures;

pub use extract::{ApiJson, ApiMultipart, ApiQuery};
