//! The pure domain of Madoguchi: identifiers and their check digits, Japanese dates and kana,
//! the registry record model, procedure definitions and their evaluation, designation routing,
//! case status tracks, the audit-chain hashing rule, and the ledger file rules (CP932 text,
//! the establishments file's columns, formula neutralisation). No I/O, no database, no HTTP: every
//! function here is deterministic given its arguments (callers pass "now" in).

pub mod audit;
pub mod authority;
pub mod case;
pub mod cp932;
pub mod ids;
pub mod kana;
pub mod ledger;
pub mod procedure;
pub mod registry;
// Provider portal, part B (issue #4): reminder stages and answering returns item by item.
pub mod reminders;
pub mod returns;
pub mod wareki;
