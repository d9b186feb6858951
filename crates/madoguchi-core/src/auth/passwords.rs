//! Staff passwords: the rules a new password must meet, and Argon2id hashing.
//!
//! Rules (NIST SP 800-63B §3.1.1, OWASP ASVS 5.0 V6.2): at least 8 characters; long
//! passphrases welcome (up to 1,024 characters, any Unicode, never truncated); not on the list
//! of common passwords; not the login ID itself; no composition rules and no expiry. Passwords
//! are NFKC-normalised before they are checked, hashed or verified, so full-width and
//! half-width input from a Japanese IME give the same password; length counts Unicode
//! characters (code points) after normalisation.
//!
//! Hashing is Argon2id with the crate's default parameters (19 MiB, 2 passes, 1 lane), run on
//! the blocking thread pool behind a semaphore so that a burst of sign-ins cannot take every
//! core or an unbounded amount of memory.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::{OnceCell, Semaphore};
use unicode_normalization::UnicodeNormalization;

use crate::{CoreError, CoreResult};

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 8;
/// Most characters a password may have (a bound on work, far above any passphrase).
pub const MAX_CHARS: usize = 1024;

/// 19,640 common passwords from Django's `CommonPasswordValidator` (PyPI `django` 5.2.19,
/// BSD-3-Clause); source, hashes and licence in `reference-data/common-passwords/README.md`.
const COMMON_PASSWORDS: &str =
    include_str!("../../../../reference-data/common-passwords/common-passwords.txt");

/// The embedded list, folded for comparison. Built once from compiled-in data (constant, not
/// configuration or state).
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .map(fold)
        .filter(|s| !s.is_empty())
        .collect()
});

/// The form a password is hashed in: NFKC.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// The form compared with the common-password list: NFKC, then lower case.
fn fold(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

/// Number of entries of the embedded common-password list.
pub fn common_password_count() -> usize {
    COMMON.len()
}

/// True when `password` is on the common-password list (case-insensitively, after NFKC).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(&fold(password))
}

/// Why a new password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    ControlCharacter,
    SameAsLogin,
    Common,
}

impl PasswordProblem {
    /// Stable code (API, logs).
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password_too_short",
            PasswordProblem::TooLong => "password_too_long",
            PasswordProblem::ControlCharacter => "password_control_character",
            PasswordProblem::SameAsLogin => "password_same_as_login",
            PasswordProblem::Common => "password_common",
        }
    }

    /// What is wrong, in Japanese, for the person choosing the password.
    pub fn message(self) -> String {
        match self {
            PasswordProblem::TooShort => format!(
                "パスワードが短すぎます。{MIN_CHARS}文字以上にしてください。記号や数字を混ぜる必要はありません。覚えやすい長い文（パスフレーズ）をおすすめします。"
            ),
            PasswordProblem::TooLong => {
                format!("パスワードが長すぎます。{MAX_CHARS}文字以内にしてください。")
            }
            PasswordProblem::ControlCharacter => {
                "パスワードに改行やタブなどの制御文字は使えません。".into()
            }
            PasswordProblem::SameAsLogin => {
                "ログインIDと同じパスワードは使えません。別のパスワードにしてください。".into()
            }
            PasswordProblem::Common => "このパスワードはよく使われているため、推測されやすく使えません。別のパスワードにしてください。".into(),
        }
    }
}

/// Checks a new password for `login` against the rules; the first problem found.
pub fn check_new_password(password: &str, login: &str) -> Result<(), PasswordProblem> {
    let normalized = normalize(password);
    if normalized.chars().any(char::is_control) {
        return Err(PasswordProblem::ControlCharacter);
    }
    let chars = normalized.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    if fold(&normalized) == fold(login.trim()) {
        return Err(PasswordProblem::SameAsLogin);
    }
    if is_common(&normalized) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

/// Argon2id hashing and verification off the async threads, at most `concurrency` at once.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the account is unknown so that the
    /// answer takes as long as for a known one.
    dummy: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

impl PasswordHasher {
    /// Allows `concurrency` hashes at once (at least one).
    pub fn new(concurrency: usize) -> PasswordHasher {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// The Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a password, with a
    /// fresh random salt.
    pub async fn hash(&self, password: &str) -> CoreResult<String> {
        let password = normalize(password);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| CoreError::Internal(format!("password hasher closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| CoreError::Internal(format!("password hashing task: {e}")))?
        .map_err(|e| CoreError::Internal(format!("password hashing: {e}")))
    }

    /// True when `password` matches the PHC string `phc`. A malformed hash is an error.
    pub async fn verify(&self, password: &str, phc: &str) -> CoreResult<bool> {
        let password = normalize(password);
        let phc = phc.to_string();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| CoreError::Internal(format!("password hasher closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            match Argon2::default().verify_password(password.as_bytes(), phc.as_str()) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(e) => Err(CoreError::Internal(format!("stored password hash: {e}"))),
            }
        })
        .await
        .map_err(|e| CoreError::Internal(format!("password hashing task: {e}")))?
    }

    /// Spends the time of one verification without an account (unknown login, no password
    /// set), so that timing does not tell whether a login exists.
    pub async fn verify_dummy(&self, password: &str) -> CoreResult<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let random = super::random_secret()?;
                self.hash(&random).await
            })
            .await?
            .clone();
        let _ = self.verify(password, &dummy).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_is_real_and_large() {
        assert!(
            common_password_count() >= 10_000,
            "{} entries",
            common_password_count()
        );
        for p in ["password", "123456", "qwerty", "iloveyou", "пароль"] {
            assert!(is_common(p), "{p} is common");
        }
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case_or_width() {
        for p in [
            "password1",
            "PASSWORD1",
            "PassWord1",
            "ｐａｓｓｗｏｒｄ１",
            "iloveyou",
            "baseball",
        ] {
            assert_eq!(
                check_new_password(p, "reviewer-131041"),
                Err(PasswordProblem::Common),
                "{p}"
            );
        }
    }

    #[test]
    fn length_rules() {
        assert_eq!(
            check_new_password("k7#Qz!p", "x"),
            Err(PasswordProblem::TooShort),
            "7 characters"
        );
        assert_eq!(check_new_password("k7#Qz!pw", "x"), Ok(()), "8 characters");
        // Composition is not required: 8 lower-case letters that are not common are fine.
        assert_eq!(check_new_password("zqxwvkjh", "x"), Ok(()));
        let passphrase =
            "correct horse battery staple and a quiet walk by the kamo river at dusk with tea "
                .repeat(2);
        let passphrase = &passphrase[..100];
        assert_eq!(passphrase.chars().count(), 100);
        assert_eq!(
            check_new_password(passphrase, "x"),
            Ok(()),
            "100 characters"
        );
        let long = "あ".repeat(MAX_CHARS);
        assert_eq!(check_new_password(&long, "x"), Ok(()));
        let too_long = "あ".repeat(MAX_CHARS + 1);
        assert_eq!(
            check_new_password(&too_long, "x"),
            Err(PasswordProblem::TooLong)
        );
        // Length counts characters, not bytes: 7 kanji (21 bytes) are too short.
        assert_eq!(
            check_new_password("東西南北春夏秋", "x"),
            Err(PasswordProblem::TooShort)
        );
    }

    #[test]
    fn unicode_passphrases_and_other_rules() {
        assert_eq!(
            check_new_password("春はあけぼの。やうやう白くなりゆく山ぎは", "x"),
            Ok(())
        );
        assert_eq!(
            check_new_password("パスワードは猫の名前🐈です", "x"),
            Ok(())
        );
        assert_eq!(
            check_new_password("reviewer-131041", "reviewer-131041"),
            Err(PasswordProblem::SameAsLogin)
        );
        assert_eq!(
            check_new_password("line one\nline two", "x"),
            Err(PasswordProblem::ControlCharacter)
        );
        // Half-width kana are the same password as full-width after NFKC.
        assert_eq!(normalize("ﾊﾟｽﾜｰﾄﾞ"), normalize("パスワード"));
        for p in [
            PasswordProblem::TooShort,
            PasswordProblem::TooLong,
            PasswordProblem::ControlCharacter,
            PasswordProblem::SameAsLogin,
            PasswordProblem::Common,
        ] {
            assert!(p.message().contains("パスワード"));
        }
    }

    #[tokio::test]
    async fn argon2id_hash_verifies_only_the_same_password() {
        let h = PasswordHasher::new(2);
        let phc = h.hash("春はあけぼの、やうやう白くなりゆく").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            h.verify("春はあけぼの、やうやう白くなりゆく", &phc)
                .await
                .unwrap()
        );
        assert!(
            !h.verify("春はあけぼの、やうやう白くなりゆく。", &phc)
                .await
                .unwrap()
        );
        // No truncation: a long passphrase differing only in its last character fails.
        let long = "x".repeat(200) + "a";
        let phc = h.hash(&long).await.unwrap();
        assert!(h.verify(&long, &phc).await.unwrap());
        assert!(!h.verify(&("x".repeat(200) + "b"), &phc).await.unwrap());
        // Width variants are one password (NFKC before hashing).
        let phc = h.hash("ﾊﾟｽﾜｰﾄﾞは長いほうがよい").await.unwrap();
        assert!(h.verify("パスワードは長いほうがよい", &phc).await.unwrap());
        assert!(h.verify("x", "not a phc string").await.is_err());
        h.verify_dummy("anything").await.unwrap();
    }
}
