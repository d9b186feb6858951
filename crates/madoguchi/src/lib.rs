//! The `madoguchi` binary's library: command-line interface, configuration and the server
//! start-up, kept in a library so tests can start the same server in-process.

pub mod admin;
pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod devidp;
pub mod ledger;
pub mod server;
