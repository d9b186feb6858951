//! 介護保険事業所番号 (care-insurance establishment number): 10 characters.
//! Positions 1–2 prefecture, 3 category (the only position that may be a letter:
//! uppercase A–Z without I, O, Q), 4–5 郡市区 code, 6–9 serial, 10 check digit.
//!
//! The letter values used by the check digit (A=10 … Z=32, skipping I, O, Q) are inferred,
//! not published. So a number whose third character is a letter and whose check digit does
//! not match is accepted with a warning instead of being rejected; all-digit numbers are
//! checked strictly.

use serde::{Deserialize, Serialize};

use super::{IdError, is_prefecture_code, normalize_input};

const MSG_LENGTH: &str = "介護保険事業所番号は10桁で入力してください。";
const MSG_FORMAT: &str =
    "介護保険事業所番号は数字10桁（3桁目のみ英大文字も可）で入力してください。";
const MSG_LETTER: &str = "介護保険事業所番号の3桁目にI・O・Qは使用できません。";
const MSG_PREFECTURE: &str =
    "介護保険事業所番号の上2桁（都道府県コード）は01から47の範囲で入力してください。";
const MSG_CHECK: &str =
    "介護保険事業所番号のチェックディジットが一致しません。番号をご確認ください。";
const WARN_CHECK: &str = "3桁目が英字の事業所番号はチェックディジットを確認できませんでした。番号に誤りがないかご確認ください。";

/// A 介護保険事業所番号 that passed [`OfficeNumber::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficeNumber(String);

/// The result of parsing: the number, plus a Japanese warning to show the user when the
/// input was accepted but corrected (lower-case letter) or could not be fully verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedOfficeNumber {
    /// The normalised number.
    pub number: OfficeNumber,
    /// Set when the user should double-check what they typed.
    pub warning: Option<String>,
}

/// The category digit (position 3) of an establishment number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfficeCategory {
    /// `0`: 地域包括支援センター and transitional numbers.
    Transitional,
    /// `7`: 指定 (designated) establishments.
    Designated,
    /// `8`: 基準該当 (meets-the-standard, not designated).
    StandardEquivalent,
    /// `9`: 地域密着型 (community-based) services.
    CommunityBased,
    /// `A`: 総合事業 (comprehensive prevention programme).
    Comprehensive,
    /// Any other category character.
    Other(char),
}

impl OfficeCategory {
    /// The category as written at position 3.
    pub fn as_char(self) -> char {
        match self {
            Self::Transitional => '0',
            Self::Designated => '7',
            Self::StandardEquivalent => '8',
            Self::CommunityBased => '9',
            Self::Comprehensive => 'A',
            Self::Other(c) => c,
        }
    }
}

impl OfficeNumber {
    /// Parses user input: trims, folds full-width characters, upper-cases a letter at
    /// position 3 (with a warning) and verifies the check digit (strict for digits-only
    /// numbers, a warning when position 3 is a letter).
    pub fn parse(input: &str) -> Result<ParsedOfficeNumber, IdError> {
        let mut chars: Vec<char> = normalize_input(input).chars().collect();
        if chars.len() != 10 {
            return Err(IdError::invalid(MSG_LENGTH));
        }
        let mut warnings = Vec::new();
        for (i, c) in chars.iter_mut().enumerate() {
            if i == 2 && c.is_ascii_alphabetic() {
                if c.is_ascii_lowercase() {
                    let upper = c.to_ascii_uppercase();
                    warnings.push(format!(
                        "事業所番号の3桁目「{c}」を大文字「{upper}」に変換しました。"
                    ));
                    *c = upper;
                }
                if matches!(c, 'I' | 'O' | 'Q') {
                    return Err(IdError::invalid(MSG_LETTER));
                }
            } else if !c.is_ascii_digit() {
                return Err(IdError::invalid(MSG_FORMAT));
            }
        }
        let s: String = chars.iter().collect();
        if !is_prefecture_code(&s[..2]) {
            return Err(IdError::invalid(MSG_PREFECTURE));
        }
        if Self::check_digit(&s[..9]) != s.as_bytes()[9] - b'0' {
            if chars[2].is_ascii_digit() {
                return Err(IdError::invalid(MSG_CHECK));
            }
            warnings.push(WARN_CHECK.to_owned());
        }
        Ok(ParsedOfficeNumber {
            number: Self(s),
            warning: (!warnings.is_empty()).then(|| warnings.concat()),
        })
    }

    /// The check digit for the first 9 characters: letters map to A=10 … Z=32 (skipping
    /// I, O, Q); from the right apply weights 2,1,2,1,…; add the decimal digits of each
    /// product; check = (10 − sum mod 10) mod 10.
    ///
    /// # Panics
    /// If `base9` is not 9 characters of digits and allowed upper-case letters
    /// (a programming error; `parse` validates first).
    pub fn check_digit(base9: &str) -> u8 {
        assert!(base9.len() == 9, "office number base must be 9 characters");
        let sum: u32 = base9
            .chars()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let value = char_value(c).expect("office number base: digit or A-Z without I/O/Q");
                let product = value * if i % 2 == 0 { 2 } else { 1 };
                product / 10 + product % 10
            })
            .sum();
        ((10 - sum % 10) % 10) as u8
    }

    /// The 10 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 2-digit prefecture code.
    pub fn prefecture_code(&self) -> &str {
        &self.0[..2]
    }

    /// The category encoded at position 3.
    pub fn category(&self) -> OfficeCategory {
        match self.0.as_bytes()[2] {
            b'0' => OfficeCategory::Transitional,
            b'7' => OfficeCategory::Designated,
            b'8' => OfficeCategory::StandardEquivalent,
            b'9' => OfficeCategory::CommunityBased,
            b'A' => OfficeCategory::Comprehensive,
            other => OfficeCategory::Other(char::from(other)),
        }
    }
}

/// Numeric value of one character for the check digit; `None` for anything not allowed.
fn char_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        'I' | 'O' | 'Q' => None,
        'A'..='Z' => {
            let skipped = ['I', 'O', 'Q'].iter().filter(|&&s| s < c).count() as u32;
            Some(10 + (c as u32 - 'A' as u32) - skipped)
        }
        _ => None,
    }
}

impl_string_id!(OfficeNumber, |s: &str| OfficeNumber::parse(s)
    .map(|parsed| parsed.number));

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: [&str; 4] = ["1171201369", "2670500137", "4472500448", "1270302175"];

    #[test]
    fn known_numbers_are_valid_without_warning() {
        for n in VALID {
            let parsed = OfficeNumber::parse(n).unwrap();
            assert_eq!(parsed.number.as_str(), n);
            assert_eq!(parsed.warning, None);
        }
        assert_eq!(
            OfficeNumber::parse("1171201369").unwrap().number.category(),
            OfficeCategory::Designated
        );
    }

    #[test]
    fn letter_values_skip_i_o_q() {
        assert_eq!(char_value('A'), Some(10));
        assert_eq!(char_value('H'), Some(17));
        assert_eq!(char_value('J'), Some(18));
        assert_eq!(char_value('P'), Some(23));
        assert_eq!(char_value('R'), Some(24));
        assert_eq!(char_value('Z'), Some(32));
        assert_eq!(char_value('O'), None);
    }

    #[test]
    fn letters_at_position_three() {
        let base = "13A000001";
        let good = format!("{base}{}", OfficeNumber::check_digit(base));
        let parsed = OfficeNumber::parse(&good).unwrap();
        assert_eq!(parsed.warning, None);
        assert_eq!(parsed.number.category(), OfficeCategory::Comprehensive);

        let lower = OfficeNumber::parse(&good.to_lowercase()).unwrap();
        assert_eq!(lower.number.as_str(), good);
        assert!(lower.warning.unwrap().contains("大文字"));

        let wrong = (OfficeNumber::check_digit(base) + 1) % 10;
        let unverified = OfficeNumber::parse(&format!("{base}{wrong}")).unwrap();
        assert!(unverified.warning.unwrap().contains("チェックディジット"));

        assert_eq!(
            OfficeNumber::parse("13O0000010"),
            Err(IdError::invalid(MSG_LETTER))
        );
        assert_eq!(
            OfficeNumber::parse("1A70000010"),
            Err(IdError::invalid(MSG_FORMAT))
        );
    }

    #[test]
    fn rejections() {
        assert_eq!(
            OfficeNumber::parse("117120136"),
            Err(IdError::invalid(MSG_LENGTH))
        );
        assert_eq!(
            OfficeNumber::parse("1171201368"),
            Err(IdError::invalid(MSG_CHECK))
        );
        assert_eq!(
            OfficeNumber::parse("4871201360"),
            Err(IdError::invalid(MSG_PREFECTURE))
        );
    }

    #[test]
    fn serde_ignores_warning_but_validates() {
        let n: OfficeNumber = serde_json::from_str("\"１１７１２０１３６９\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"1171201369\"");
        assert!(serde_json::from_str::<OfficeNumber>("\"1171201368\"").is_err());
    }

    fn category_char() -> impl Strategy<Value = char> {
        prop::sample::select(
            "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
                .chars()
                .collect::<Vec<_>>(),
        )
    }

    proptest! {
        #[test]
        fn computed_check_digit_is_accepted(
            pref in 1u8..=47, cat in category_char(), rest in "[0-9]{6}",
        ) {
            let base = format!("{pref:02}{cat}{rest}");
            let full = format!("{base}{}", OfficeNumber::check_digit(&base));
            let parsed = OfficeNumber::parse(&full).unwrap();
            prop_assert_eq!(parsed.number.as_str(), full.as_str());
            prop_assert_eq!(parsed.warning, None);
        }

        #[test]
        fn other_check_digit_rejected_when_all_digits(
            base in "(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{7}", wrong in 0u8..10,
        ) {
            prop_assume!(wrong != OfficeNumber::check_digit(&base));
            let input = format!("{base}{wrong}");
            prop_assert!(OfficeNumber::parse(&input).is_err());
        }

        #[test]
        fn other_check_digit_warns_when_letter(
            base in "(0[1-9]|[1-3][0-9]|4[0-7])[A-HJ-NPR-Z][0-9]{6}", wrong in 0u8..10,
        ) {
            prop_assume!(wrong != OfficeNumber::check_digit(&base));
            let parsed = OfficeNumber::parse(&format!("{base}{wrong}")).unwrap();
            prop_assert!(parsed.warning.is_some());
        }

        #[test]
        fn parse_never_panics(input in "\\PC*") {
            let _ = OfficeNumber::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_near_misses(input in "[0-9a-zA-Z０-９Ａｉ 　]{9,11}") {
            let _ = OfficeNumber::parse(&input);
        }
    }
}
