//! サービス種類コード (service type code) and the static code table.
//!
//! Claims and designations use 2-character codes (11 訪問介護, 78 地域密着型通所介護, A2 …),
//! while the public 介護サービス情報公表システム uses 3-digit codes (110, 780, …). The table
//! keeps both so imports from either side can be mapped. It is not exhaustive:
//! [`ServiceTypeCode`] accepts any well-formed code, and [`find_service_type`] says whether
//! the table knows it.

use serde::{Deserialize, Serialize};

use super::{IdError, normalize_input};

const MSG_FORMAT: &str = "サービス種類コードは英数字2桁で入力してください。";

/// A well-formed サービス種類コード: 2 upper-case ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceTypeCode(String);

impl ServiceTypeCode {
    /// Parses user input: trims, folds full-width characters, upper-cases letters.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = normalize_input(input).to_ascii_uppercase();
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::invalid(MSG_FORMAT));
        }
        Ok(Self(s))
    }

    /// The 2 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The table entry for this code, if the table knows it.
    pub fn service_type(&self) -> Option<&'static ServiceType> {
        find_service_type(&self.0)
    }
}

impl_string_id!(ServiceTypeCode, ServiceTypeCode::parse);

/// Which family a service belongs to; decides who designates it (see DOMAIN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceCategory {
    /// 居宅サービス
    Home,
    /// 介護予防サービス
    HomePrevention,
    /// 施設サービス
    Facility,
    /// 地域密着型サービス (including 地域密着型介護予防サービス)
    CommunityBased,
    /// 居宅介護支援・介護予防支援
    CareManagement,
    /// 介護予防・日常生活支援総合事業
    Comprehensive,
}

impl ServiceCategory {
    /// The Japanese name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Self::Home => "居宅サービス",
            Self::HomePrevention => "介護予防サービス",
            Self::Facility => "施設サービス",
            Self::CommunityBased => "地域密着型サービス",
            Self::CareManagement => "居宅介護支援・介護予防支援",
            Self::Comprehensive => "総合事業",
        }
    }
}

/// One row of the service type table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceType {
    /// The 2-character サービス種類コード.
    pub code: &'static str,
    /// The 3-digit code of 介護サービス情報公表システム; empty when it has no own code.
    pub public_code: &'static str,
    /// The Japanese service name.
    pub name: &'static str,
    /// The family the service belongs to.
    pub category: ServiceCategory,
}

const fn row(
    code: &'static str,
    public_code: &'static str,
    name: &'static str,
    category: ServiceCategory,
) -> ServiceType {
    ServiceType {
        code,
        public_code,
        name,
        category,
    }
}

use ServiceCategory::{
    CareManagement, CommunityBased, Comprehensive, Facility, Home, HomePrevention,
};

static SERVICE_TYPES: &[ServiceType] = &[
    row("11", "110", "訪問介護", Home),
    row("12", "120", "訪問入浴介護", Home),
    row("13", "130", "訪問看護", Home),
    row("14", "140", "訪問リハビリテーション", Home),
    row("15", "150", "通所介護", Home),
    row("16", "160", "通所リハビリテーション", Home),
    row("17", "170", "福祉用具貸与", Home),
    row("21", "210", "短期入所生活介護", Home),
    row("22", "220", "短期入所療養介護（介護老人保健施設）", Home),
    row("23", "230", "短期入所療養介護（病院等）", Home),
    row("31", "310", "居宅療養管理指導", Home),
    row("33", "330", "特定施設入居者生活介護", Home),
    row("24", "", "介護予防短期入所生活介護", HomePrevention),
    row("34", "", "介護予防居宅療養管理指導", HomePrevention),
    row("35", "", "介護予防特定施設入居者生活介護", HomePrevention),
    row("62", "", "介護予防訪問入浴介護", HomePrevention),
    row("63", "", "介護予防訪問看護", HomePrevention),
    row("64", "", "介護予防訪問リハビリテーション", HomePrevention),
    row("66", "", "介護予防通所リハビリテーション", HomePrevention),
    row("67", "", "介護予防福祉用具貸与", HomePrevention),
    row("51", "510", "介護老人福祉施設", Facility),
    row("52", "520", "介護老人保健施設", Facility),
    row("55", "550", "介護医療院", Facility),
    row("32", "320", "認知症対応型共同生活介護", CommunityBased),
    row(
        "36",
        "360",
        "地域密着型特定施設入居者生活介護",
        CommunityBased,
    ),
    row(
        "54",
        "540",
        "地域密着型介護老人福祉施設入所者生活介護",
        CommunityBased,
    ),
    row("71", "710", "夜間対応型訪問介護", CommunityBased),
    row("72", "720", "認知症対応型通所介護", CommunityBased),
    row("73", "730", "小規模多機能型居宅介護", CommunityBased),
    row(
        "76",
        "760",
        "定期巡回・随時対応型訪問介護看護",
        CommunityBased,
    ),
    row("77", "770", "看護小規模多機能型居宅介護", CommunityBased),
    row("78", "780", "地域密着型通所介護", CommunityBased),
    row("43", "430", "居宅介護支援", CareManagement),
    row("46", "460", "介護予防支援", CareManagement),
    row("A2", "", "訪問型サービス（独自）", Comprehensive),
    row("A6", "", "通所型サービス（独自）", Comprehensive),
];

/// Every service type the table knows, grouped by category.
pub fn service_types() -> &'static [ServiceType] {
    SERVICE_TYPES
}

/// Looks a 2-character code up in the table (exact, upper-case match).
pub fn find_service_type(code: &str) -> Option<&'static ServiceType> {
    SERVICE_TYPES.iter().find(|t| t.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut public = HashSet::new();
        for t in service_types() {
            assert!(codes.insert(t.code), "duplicate code {}", t.code);
            assert_eq!(ServiceTypeCode::parse(t.code).unwrap().as_str(), t.code);
            if !t.public_code.is_empty() {
                assert!(
                    t.public_code.len() == 3 && t.public_code.bytes().all(|b| b.is_ascii_digit())
                );
                assert!(
                    public.insert(t.public_code),
                    "duplicate public code {}",
                    t.public_code
                );
            }
        }
    }

    #[test]
    fn lookups() {
        let t = find_service_type("78").unwrap();
        assert_eq!(
            (t.public_code, t.name, t.category),
            ("780", "地域密着型通所介護", CommunityBased)
        );
        assert_eq!(
            find_service_type("43").unwrap().category.label(),
            "居宅介護支援・介護予防支援"
        );
        assert_eq!(find_service_type("A6").unwrap().category, Comprehensive);
        assert!(find_service_type("99").is_none());
        let code = ServiceTypeCode::parse(" ａ２ ").unwrap();
        assert_eq!(code.as_str(), "A2");
        assert_eq!(code.service_type().unwrap().name, "訪問型サービス（独自）");
    }

    #[test]
    fn rejections_and_serde() {
        for bad in ["", "1", "123", "1-", "訪問"] {
            assert_eq!(
                ServiceTypeCode::parse(bad),
                Err(IdError::invalid(MSG_FORMAT))
            );
        }
        let json = serde_json::to_string(&ServiceTypeCode::parse("15").unwrap()).unwrap();
        assert_eq!(json, "\"15\"");
        assert!(serde_json::from_str::<ServiceTypeCode>("\"1\"").is_err());
        assert_eq!(
            serde_json::to_string(&Comprehensive).unwrap(),
            "\"comprehensive\""
        );
        assert_eq!(
            serde_json::to_string(&HomePrevention).unwrap(),
            "\"home_prevention\""
        );
    }

    proptest! {
        #[test]
        fn well_formed_codes_parse(code in "[0-9A-Z]{2}") {
            let parsed = ServiceTypeCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
        }

        #[test]
        fn parse_never_panics(input in "\\PC*") {
            let _ = ServiceTypeCode::parse(&input);
        }
    }
}
