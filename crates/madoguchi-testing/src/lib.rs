//! madoguchi-testing
pub mod smtp_sink;
