//! Browser tests: the real server (in-process, demo world) driven by real headless Chromium
//! through ChromeDriver. Every page a flow visits is screenshotted at 1280 px and 390 px
//! (`target/screenshots/`), checked for sideways scrolling at 390 px, and checked with
//! axe-core. How to run and extend: docs/testing.md.
//!
//! One file per flow; the harness (`harness/`) is shared. Tests take turns on one Chromium.

// Not every flow uses every helper; the harness is for the flows other files add too.
#[allow(dead_code)]
mod harness;

mod all_pages;
mod bulk_filing;
mod change_once;
mod harness_checks;
mod inbox_filters;
mod print_view;
mod return_flow;
mod withdrawal;
mod without_js;
