//! Integration tests of the whole product over real HTTP (server on 127.0.0.1:0), each run
//! on SQLite and, when `MADOGUCHI_TEST_DATABASE_URL` is set, on PostgreSQL.

// Authority admin (issue #4, workspace part B).
mod admin_local_rules;
mod admin_staff;
mod statistics;

mod backup;
mod bad_input;
mod bench_server;
// Provider portal part A.
mod bulk;
mod bulk_accept;
mod case_view;
mod change_once;
mod common;
mod concurrency;
mod drafts_reuse;
mod durability;
mod form_set;
mod forms;
mod inbox;
mod internal_notes;
mod ledger;
mod mail_retry;
mod my_page;
mod notifications;
mod oidc;
mod openapi;
mod pages;
mod portal_web;
mod procedures;
mod rate_limits;
mod returns;
mod satisfaction;
mod sessions;
mod staff_login;
mod story;
mod submissions;
mod sweeps;
mod tenancy;
mod tracking;
mod withdraw;
