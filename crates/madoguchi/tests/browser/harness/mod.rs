//! The browser test harness (see docs/testing.md): real headless Chromium driven through
//! ChromeDriver (`driver`), a person's actions on the pages (`browser`), screenshots and the
//! narrow-screen check (`shots`), axe-core (`axe`), and the servers under test (`server`).
//! Flow files next to `main.rs` use it:
//!
//! ```ignore
//! #[test]
//! fn my_flow() {
//!     harness::run("my_flow", || async {
//!         let srv = harness::server::start(TestBackend::Sqlite).await;
//!         let b = Browser::open(&srv.base_url).await;
//!         b.sign_in_provider("provider1").await;
//!         b.shoot("provider-filings").await;
//!         srv.stop().await;
//!     });
//! }
//! ```

pub mod axe;
mod browser;
pub mod driver;
pub mod server;
pub mod shots;

pub use browser::Browser;
pub use driver::run;
