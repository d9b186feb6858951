//! Identifiers of the care-insurance domain, each a validated string newtype.
//!
//! Every identifier is stored as a string (leading zeros and letters matter) and can only be
//! built through its `parse`, which trims the input, folds full-width digits and letters to
//! ASCII and verifies the check digit where one exists. Serde goes through the same `parse`,
//! so a deserialised identifier is as trustworthy as a parsed one. Error messages are Japanese
//! and meant to be shown to the person who typed the value.

/// Implements the string plumbing shared by every identifier newtype: `Display`, `AsRef<str>`,
/// `From<T> for String` (serde `into`), and `TryFrom<String>` / `FromStr` through `$parse`.
macro_rules! impl_string_id {
    ($ty:ident, $parse:expr) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::ids::IdError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                ($parse)(value.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::ids::IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ($parse)(s)
            }
        }
    };
}

mod corporate_number;
mod local_gov_code;
mod office_number;
mod service_type;

pub use corporate_number::CorporateNumber;
pub use local_gov_code::LocalGovCode;
pub use office_number::{OfficeCategory, OfficeNumber, ParsedOfficeNumber};
pub use service_type::{
    ServiceCategory, ServiceType, ServiceTypeCode, find_service_type, service_types,
};

/// Why an identifier was rejected.
///
/// The message is Japanese, complete and safe to show to the user as is
/// (e.g. 「法人番号は13桁の数字で入力してください。」).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The input is not a valid identifier; the string says why, in Japanese.
    #[error("{0}")]
    Invalid(String),
}

impl IdError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

/// Prefecture codes run 01 (北海道) to 47 (沖縄県); both 地方公共団体コード and
/// 介護保険事業所番号 start with one.
pub(crate) fn is_prefecture_code(two_digits: &str) -> bool {
    matches!(two_digits.parse::<u8>(), Ok(1..=47)) && two_digits.len() == 2
}

/// Normalises raw input for identifiers: trims (including full-width spaces) and folds
/// full-width ASCII (０–９, Ａ–Ｚ, …) to ASCII.
pub(crate) fn normalize_input(input: &str) -> String {
    crate::kana::fold_full_width_ascii(input.trim())
}
