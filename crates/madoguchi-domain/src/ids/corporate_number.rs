//! 法人番号 (corporate number): 13 digits assigned by the National Tax Agency, whose FIRST
//! digit is a check digit over the 12-digit base. Optional on corporations: some operators
//! (e.g. sole proprietors) have none, so callers model absence with `Option`.

use serde::{Deserialize, Serialize};

use super::{IdError, normalize_input};

const MSG_FORMAT: &str = "法人番号は13桁の数字で入力してください。";
const MSG_CHECK: &str = "法人番号のチェックディジットが一致しません。番号をご確認ください。";

/// A validated 法人番号: exactly 13 ASCII digits with a correct leading check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorporateNumber(String);

impl CorporateNumber {
    /// Parses user input: trims, folds full-width digits (１２…) to ASCII, then checks the
    /// length and the check digit. Separators such as hyphens are not accepted.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = normalize_input(input);
        if s.len() != 13 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::invalid(MSG_FORMAT));
        }
        if Self::check_digit(&s[1..]) != s.as_bytes()[0] - b'0' {
            return Err(IdError::invalid(MSG_CHECK));
        }
        Ok(Self(s))
    }

    /// The check digit (always 1–9) for a 12-digit base: number the digits n = 1..12 from the
    /// right, weight 1 for odd n and 2 for even n; check = 9 − (sum mod 9).
    ///
    /// # Panics
    /// If `base12` is not exactly 12 ASCII digits (a programming error; `parse` validates first).
    pub fn check_digit(base12: &str) -> u8 {
        assert!(
            base12.len() == 12 && base12.bytes().all(|b| b.is_ascii_digit()),
            "corporate number base must be 12 ASCII digits"
        );
        let sum: u32 = base12
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 2 })
            .sum();
        // sum % 9 is at most 8, so the result fits in 1..=9.
        (9 - sum % 9) as u8
    }

    /// The 13 digits, check digit first.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl_string_id!(CorporateNumber, CorporateNumber::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: [&str; 4] = [
        "7040005007253",
        "4011001098993",
        "2120901007402",
        "1180301018771",
    ];

    #[test]
    fn known_numbers_are_valid() {
        for n in VALID {
            let parsed = CorporateNumber::parse(n).unwrap();
            assert_eq!(parsed.as_str(), n);
            assert_eq!(parsed.to_string(), n);
        }
    }

    #[test]
    fn trims_and_folds_full_width_digits() {
        let parsed = CorporateNumber::parse("　７０４０００５００７２５３ ").unwrap();
        assert_eq!(parsed.as_str(), "7040005007253");
    }

    #[test]
    fn rejects_bad_shape_and_bad_check_digit() {
        for bad in [
            "",
            "704000500725",
            "70400050072531",
            "704000500725a",
            "7-040005007253",
        ] {
            assert_eq!(
                CorporateNumber::parse(bad),
                Err(IdError::invalid(MSG_FORMAT))
            );
        }
        assert_eq!(
            CorporateNumber::parse("8040005007253"),
            Err(IdError::invalid(MSG_CHECK))
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let n = CorporateNumber::parse(VALID[0]).unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"7040005007253\"");
        assert_eq!(serde_json::from_str::<CorporateNumber>(&json).unwrap(), n);
        let err = serde_json::from_str::<CorporateNumber>("\"8040005007253\"").unwrap_err();
        assert!(err.to_string().contains("チェックディジット"));
    }

    proptest! {
        #[test]
        fn computed_check_digit_is_accepted(base in "[0-9]{12}") {
            let check = CorporateNumber::check_digit(&base);
            prop_assert!((1..=9).contains(&check));
            let full = format!("{check}{base}");
            let parsed = CorporateNumber::parse(&full).unwrap();
            prop_assert_eq!(parsed.as_str(), full.as_str());
        }

        #[test]
        fn any_other_check_digit_is_rejected(base in "[0-9]{12}", wrong in 0u8..10) {
            prop_assume!(wrong != CorporateNumber::check_digit(&base));
            let input = format!("{wrong}{base}");
            prop_assert!(CorporateNumber::parse(&input).is_err());
        }

        #[test]
        fn parse_never_panics(input in "\\PC*") {
            let _ = CorporateNumber::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_digit_like_input(input in "[0-9０-９ 　a]{10,15}") {
            let _ = CorporateNumber::parse(&input);
        }
    }
}
