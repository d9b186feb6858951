//! Integration tests of the whole product over real HTTP (server on 127.0.0.1:0), each run
//! on SQLite and, when `MADOGUCHI_TEST_DATABASE_URL` is set, on PostgreSQL.

mod backup;
mod bad_input;
mod common;
mod concurrency;
mod durability;
mod forms;
mod ledger;
mod mail_retry;
mod oidc;
mod openapi;
mod pages;
mod procedures;
mod rate_limits;
mod sessions;
mod staff_login;
mod story;
mod sweeps;
mod tenancy;
mod withdraw;
