//! The second factor of staff accounts: TOTP (RFC 6238 with the parameters every authenticator
//! app understands — HMAC-SHA-1, 6 digits, 30-second steps — accepting one step either side for
//! clock drift) and single-use recovery codes.
//!
//! Replay: a code is accepted only if its step is later than the last accepted step (stored
//! per user), so a code, once used, is dead for the rest of its window and earlier codes too.
//! Recovery codes carry 120 random bits, so a plain SHA-256 is an adequate stored form (ASVS
//! 5.0 V6.5.2: secrets of 112 bits or more need no password hash); each is used at most once.

use totp_rs::{Algorithm, Builder, Secret, Totp};
use unicode_normalization::UnicodeNormalization;

use crate::blobs::sha256_hex;
use crate::{CoreError, CoreResult};

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Madoguchi";
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// A fresh TOTP secret: 160 random bits, base32 (RFC 4648, no padding), as apps expect.
pub fn new_secret() -> CoreResult<String> {
    let mut buf = [0u8; 20];
    getrandom::fill(&mut buf).map_err(|e| CoreError::Internal(format!("no randomness: {e}")))?;
    Ok(Secret::from(buf).to_base32())
}

fn totp(secret_base32: &str, account: &str) -> CoreResult<Totp> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|e| CoreError::Internal(format!("stored TOTP secret: {e}")))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| CoreError::Internal(format!("TOTP: {e}")))
}

/// The `otpauth://totp/…` URI an authenticator app imports (as a QR code or pasted).
pub fn otpauth_uri(secret_base32: &str, account: &str) -> CoreResult<String> {
    totp(secret_base32, account)?
        .to_url()
        .map_err(|e| CoreError::Internal(format!("TOTP URI: {e}")))
}

/// The step (Unix seconds / 30) a 6-digit `code` belongs to, if it is valid at `now_secs`
/// within one step of drift. `code` must already be normalised ([`normalize_code`]).
pub fn check_code(secret_base32: &str, code: &str, now_secs: u64) -> CoreResult<Option<i64>> {
    let t = totp(secret_base32, "check")?;
    Ok(t.check(code, now_secs).and_then(|s| i64::try_from(s).ok()))
}

/// The code for a time (tests and the development tools).
pub fn code_at(secret_base32: &str, secs: u64) -> CoreResult<String> {
    Ok(totp(secret_base32, "code")?.generate(secs).to_string())
}

/// What the person typed, tidied: NFKC (full-width digits and letters become ASCII), without
/// spaces and hyphens.
pub fn normalize_code(input: &str) -> String {
    input
        .nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '−' | 'ー' | '_'))
        .collect()
}

/// True when a normalised input has the shape of a TOTP code (6 ASCII digits).
pub fn looks_like_totp(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// Ten fresh recovery codes, as shown to the person (`ABCD-EFGH-…`, 24 base32 characters =
/// 120 bits each).
pub fn new_recovery_codes() -> CoreResult<Vec<String>> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut buf = [0u8; 15];
            getrandom::fill(&mut buf)
                .map_err(|e| CoreError::Internal(format!("no randomness: {e}")))?;
            // RFC 4648 base32 of 15 bytes: exactly 24 characters from A–Z and 2–7.
            let plain = Secret::from(buf).to_base32();
            Ok(plain
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-"))
        })
        .collect()
}

/// The stored form of a recovery code as typed (any case or width, with or without hyphens;
/// the digits 0, 1 and 8, absent from base32, are read as O, I and B). `None` when the input
/// cannot be a recovery code.
pub fn recovery_code_hash(input: &str) -> Option<String> {
    let code: String = normalize_code(input)
        .to_uppercase()
        .chars()
        .map(|c| match c {
            '0' => 'O',
            '1' => 'I',
            '8' => 'B',
            c => c,
        })
        .collect();
    let ok = code.len() == 24
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    ok.then(|| sha256_hex(format!("madoguchi-recovery-code:{code}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA-1 secret "12345678901234567890", truncated to 6 digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (t, expected) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(&secret, t).unwrap(), expected, "t={t}");
        }
    }

    #[test]
    fn one_step_of_drift_either_way_and_no_more() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let now = 1_800_000_000u64;
        let step = (now / 30) as i64;
        for (offset, expected) in [
            (-60i64, None),
            (-30, Some(step - 1)),
            (0, Some(step)),
            (30, Some(step + 1)),
            (60, None),
        ] {
            let code = code_at(&secret, (now as i64 + offset) as u64).unwrap();
            let found = check_code(&secret, &code, now).unwrap();
            // A code of another step may collide by chance (1 in a million): allow it only
            // where none is expected.
            if expected.is_some() {
                assert_eq!(found, expected, "offset {offset}");
            }
        }
        assert_eq!(check_code(&secret, "12345", now).unwrap(), None);
        assert_eq!(check_code(&secret, "abcdef", now).unwrap(), None);
    }

    #[test]
    fn otpauth_uri_carries_the_secret_and_parameters() {
        let secret = new_secret().unwrap();
        let uri = otpauth_uri(&secret, "reviewer-131041").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Madoguchi:reviewer-131041?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={secret}")));
        assert!(uri.contains("issuer=Madoguchi"));
        let parsed = Totp::from_url(&uri).unwrap();
        assert_eq!(
            parsed.generate(1_800_000_000).to_string(),
            code_at(&secret, 1_800_000_000).unwrap()
        );
    }

    #[test]
    fn codes_typed_in_full_width_or_with_spaces_are_read() {
        assert_eq!(normalize_code(" １２３ ４５６ "), "123456");
        assert!(looks_like_totp(&normalize_code("123 456")));
        assert!(!looks_like_totp("12345a"));
    }

    #[test]
    fn recovery_codes_are_long_distinct_and_forgiving_to_type() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 29, "{c}");
            let h = recovery_code_hash(c).unwrap();
            assert_eq!(recovery_code_hash(&c.to_lowercase()).as_ref(), Some(&h));
            assert_eq!(recovery_code_hash(&c.replace('-', " ")).as_ref(), Some(&h));
            let wide: String = c
                .chars()
                .map(|ch| char::from_u32(ch as u32 + 0xFEE0).unwrap_or(ch))
                .collect();
            assert_eq!(recovery_code_hash(&wide).as_ref(), Some(&h), "{wide}");
        }
        assert_eq!(
            recovery_code_hash("ABCD-EFGH-IJKL-MN0P-QRST-UVWX"),
            recovery_code_hash("ABCD-EFGH-IJKL-MNOP-QRST-UVWX")
        );
        assert_eq!(recovery_code_hash("123456"), None);
        assert_eq!(recovery_code_hash("ABCD"), None);
    }
}
