//! 全国地方公共団体コード (local government code): 6 digits identifying a prefecture,
//! municipality, special ward, 広域連合 or 一部事務組合. Two prefecture digits, three
//! digits for the body (000 for the prefecture itself), and a check digit.

use serde::{Deserialize, Serialize};

use super::{IdError, is_prefecture_code, normalize_input};

const MSG_FORMAT: &str = "地方公共団体コードは6桁の数字で入力してください。";
const MSG_FORMAT_BASE: &str = "地方公共団体コード（検査数字なし）は5桁の数字で入力してください。";
const MSG_PREFECTURE: &str =
    "地方公共団体コードの上2桁（都道府県コード）は01から47の範囲で入力してください。";
const MSG_CHECK: &str =
    "地方公共団体コードのチェックディジットが一致しません。番号をご確認ください。";

/// A validated 全国地方公共団体コード, e.g. `130001` 東京都, `131041` 新宿区.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalGovCode(String);

impl LocalGovCode {
    /// Parses a 6-digit code: trims, folds full-width digits, checks the prefecture part
    /// (01–47) and the check digit.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = normalize_input(input);
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::invalid(MSG_FORMAT));
        }
        if !is_prefecture_code(&s[..2]) {
            return Err(IdError::invalid(MSG_PREFECTURE));
        }
        if Self::check_digit(&s[..5]) != s.as_bytes()[5] - b'0' {
            return Err(IdError::invalid(MSG_CHECK));
        }
        Ok(Self(s))
    }

    /// Builds a code from the 5-digit form without check digit (common in statistics
    /// tables and older ledgers), appending the computed check digit.
    pub fn from_five_digits(input: &str) -> Result<Self, IdError> {
        let s = normalize_input(input);
        if s.len() != 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::invalid(MSG_FORMAT_BASE));
        }
        let check = Self::check_digit(&s);
        Self::parse(&format!("{s}{check}"))
    }

    /// The check digit for a 5-digit base: weights 6,5,4,3,2; r = sum mod 11;
    /// check = (11 − r) mod 10.
    ///
    /// # Panics
    /// If `base5` is not exactly 5 ASCII digits (a programming error; `parse` validates first).
    pub fn check_digit(base5: &str) -> u8 {
        assert!(
            base5.len() == 5 && base5.bytes().all(|b| b.is_ascii_digit()),
            "local government code base must be 5 ASCII digits"
        );
        let sum: u32 = base5
            .bytes()
            .zip([6u32, 5, 4, 3, 2])
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        ((11 - sum % 11) % 10) as u8
    }

    /// The 6 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 2-digit prefecture code (01 北海道 … 13 東京都 … 47 沖縄県).
    pub fn prefecture_code(&self) -> &str {
        &self.0[..2]
    }

    /// Whether this code denotes a prefecture itself (digits 3–5 are `000`, e.g. `130001`).
    pub fn is_prefecture(&self) -> bool {
        &self.0[2..5] == "000"
    }
}

impl_string_id!(LocalGovCode, LocalGovCode::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: [&str; 8] = [
        "130001", "131041", "131130", "011002", "271004", "132012", "140007", "141003",
    ];

    #[test]
    fn known_codes_are_valid() {
        for code in VALID {
            assert_eq!(LocalGovCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn prefecture_accessors() {
        let tokyo = LocalGovCode::parse("130001").unwrap();
        assert_eq!(tokyo.prefecture_code(), "13");
        assert!(tokyo.is_prefecture());
        let shinjuku = LocalGovCode::parse("１３１０４１").unwrap();
        assert_eq!(shinjuku.prefecture_code(), "13");
        assert!(!shinjuku.is_prefecture());
    }

    #[test]
    fn five_digit_form_gets_its_check_digit() {
        assert_eq!(
            LocalGovCode::from_five_digits("13104").unwrap().as_str(),
            "131041"
        );
        assert!(LocalGovCode::from_five_digits("131041").is_err());
    }

    #[test]
    fn rejections() {
        assert_eq!(
            LocalGovCode::parse("13104"),
            Err(IdError::invalid(MSG_FORMAT))
        );
        assert_eq!(
            LocalGovCode::parse("13104a"),
            Err(IdError::invalid(MSG_FORMAT))
        );
        assert_eq!(
            LocalGovCode::parse("131042"),
            Err(IdError::invalid(MSG_CHECK))
        );
        assert_eq!(
            LocalGovCode::parse("990001"),
            Err(IdError::invalid(MSG_PREFECTURE))
        );
    }

    #[test]
    fn serde_validates() {
        let json = serde_json::to_string(&LocalGovCode::parse("011002").unwrap()).unwrap();
        assert_eq!(json, "\"011002\"");
        assert!(serde_json::from_str::<LocalGovCode>(&json).is_ok());
        assert!(serde_json::from_str::<LocalGovCode>("\"011003\"").is_err());
    }

    proptest! {
        #[test]
        fn computed_check_digit_is_accepted(pref in 1u8..=47, rest in "[0-9]{3}") {
            let base = format!("{pref:02}{rest}");
            let full = format!("{base}{}", LocalGovCode::check_digit(&base));
            let parsed = LocalGovCode::parse(&full).unwrap();
            prop_assert_eq!(parsed.as_str(), full.as_str());
        }

        #[test]
        fn any_other_check_digit_is_rejected(pref in 1u8..=47, rest in "[0-9]{3}", wrong in 0u8..10) {
            let base = format!("{pref:02}{rest}");
            prop_assume!(wrong != LocalGovCode::check_digit(&base));
            let input = format!("{base}{wrong}");
            prop_assert!(LocalGovCode::parse(&input).is_err());
        }

        #[test]
        fn parse_never_panics(input in "\\PC*") {
            let _ = LocalGovCode::parse(&input);
            let _ = LocalGovCode::from_five_digits(&input);
        }
    }
}
