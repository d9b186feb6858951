//! Test support (dev-only): a fresh database per test on SQLite or PostgreSQL ([`TestDb`]),
//! the real server started in-process on 127.0.0.1:0 with demo data and a real SMTP sink
//! ([`TestServer`]), and a small API client ([`Api`]). Fakes live only at the edge: the SMTP
//! sink stands in for the mail relay; everything else is the product.

pub mod api;
pub mod db;
pub mod server;
pub mod smtp_sink;

pub use api::Api;
pub use db::{TestBackend, TestDb, backends};
pub use server::TestServer;
