//! Integration tests of madoguchi-core: the upload gate against a generated corpus of benign
//! and hostile files, its memory bound, the per-filing size limit on a SQLite database with
//! the demo world, and the ClamAV client against a fake clamd (and, opt-in, a real one with a
//! signature database built here).

mod clamd;
mod corpus;
mod filing_limits;
mod formats;
mod ole;
mod uploads;
mod zipw;
