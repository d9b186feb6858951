//! Test support (dev-only): a fresh database per test on SQLite or PostgreSQL ([`TestDb`]),
//! the real server started in-process on 127.0.0.1:0 with demo data and a real SMTP sink
//! ([`TestServer`]), a small API client ([`Api`]), and a larger random world for
//! authorization tests ([`World`]). Fakes live only at the edge: the SMTP sink stands in for
//! the mail relay; everything else is the product.

pub mod api;
pub mod db;
pub mod server;
pub mod smtp_sink;
pub mod world;

pub use api::Api;
pub use db::{TestBackend, TestDb, backends};
pub use server::TestServer;
pub use world::{Rng, World, WorldSpec};
