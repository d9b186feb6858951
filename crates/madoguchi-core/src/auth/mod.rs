//! Credentials: API bearer tokens (for scripts and ledger systems), browser sessions, and
//! staff passwords with their second factor (`staff`, `passwords`, `second_factor`).
//! Secrets are random 256-bit values shown once; only their SHA-256 is stored.

mod accounts;
pub mod oidc;
pub mod passwords;
pub mod second_factor;
mod sessions;
pub mod staff;
mod tokens;

pub(crate) use accounts::disable_in;
pub use accounts::set_user_disabled;
pub use passwords::PasswordHasher;
pub use staff::{reset_totp, set_staff_password};

pub use sessions::{Session, create_session, end_session, resolve_session};
pub use tokens::{authenticate_token, issue_token};

use crate::{CoreError, CoreResult};

/// A fresh random secret, hex-encoded (256 bits).
pub fn random_secret() -> CoreResult<String> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| CoreError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// Constant-time comparison of two secrets.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
