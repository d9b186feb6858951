//! JSON API v1. Bearer-token authentication; every error is a JSON problem naming the field.
//! One file per resource; `openapi` assembles the OpenAPI document served at
//! `/api/v1/openapi.json`.

// Authority admin (issue #4, workspace part B).
pub(crate) mod admin;
// Provider portal part A: マイページ, change once, 一括申請, batches, 付表 copy.
pub(crate) mod batches;
pub(crate) mod cases;
pub(crate) mod establishments;
mod extract;
pub(crate) mod filings;
// Provider portal, part B: receipt, answers to returns, satisfaction, notifications.
pub(crate) mod followup;
pub(crate) mod inbox;
pub(crate) mod ledger;
pub(crate) mod local_rules;
pub use filings::{content_disposition, file_response, multipart_error};
pub(crate) mod me;
pub mod openapi;
pub(crate) mod procedures;
// One-request submission (issue #6: a submission's durable work in one commit).
pub(crate) mod submissions;

pub use extract::{ApiJson, ApiMultipart, ApiQuery};
