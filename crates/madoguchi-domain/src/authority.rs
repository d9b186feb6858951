//! Kinds of authority (指定権者) and the designation routing rule: which authority designates
//! a service at an establishment in a given municipality. The mapping from service category to
//! rule is data (`designation-rules.toml`); this module only interprets it.

use serde::{Deserialize, Serialize};

use crate::ids::ServiceCategory;

/// What kind of local government an authority is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityKind {
    Prefecture,
    DesignatedCity,
    CoreCity,
    Municipality,
    SpecialWard,
    /// 広域連合 / 一部事務組合 acting for its member municipalities.
    Union,
}

impl AuthorityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorityKind::Prefecture => "prefecture",
            AuthorityKind::DesignatedCity => "designated_city",
            AuthorityKind::CoreCity => "core_city",
            AuthorityKind::Municipality => "municipality",
            AuthorityKind::SpecialWard => "special_ward",
            AuthorityKind::Union => "union",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "prefecture" => AuthorityKind::Prefecture,
            "designated_city" => AuthorityKind::DesignatedCity,
            "core_city" => AuthorityKind::CoreCity,
            "municipality" => AuthorityKind::Municipality,
            "special_ward" => AuthorityKind::SpecialWard,
            "union" => AuthorityKind::Union,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            AuthorityKind::Prefecture => "都道府県",
            AuthorityKind::DesignatedCity => "指定都市",
            AuthorityKind::CoreCity => "中核市",
            AuthorityKind::Municipality => "市町村",
            AuthorityKind::SpecialWard => "特別区",
            AuthorityKind::Union => "広域連合",
        }
    }

    /// How a form addresses the authority's head: 「東京都知事」「新宿区長」「横浜市長」
    /// (a 広域連合 or 一部事務組合 is addressed as 「…長」 too). The form adds 「殿」.
    pub fn head_title(self, authority_name: &str) -> String {
        match self {
            AuthorityKind::Prefecture => format!("{authority_name}知事"),
            _ => format!("{authority_name}長"),
        }
    }
}

/// Who designates a category of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Designator {
    /// The prefecture; inside a designated or core city, that city (介護保険法 §203-2 etc.).
    PrefectureOrCity,
    /// The municipality (or the 広域連合 it delegates to).
    Municipality,
}

/// The routing table: service category → designator, with per-prefecture exceptions
/// (e.g. 事務処理特例 handing a prefecture's designations to its towns).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignationRules {
    pub rule: Vec<CategoryRule>,
    #[serde(default)]
    pub exception: Vec<RuleException>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    pub category: ServiceCategory,
    pub designator: Designator,
}

/// In `municipality` (an authority code), `category` is designated by `designator` instead.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleException {
    pub municipality: String,
    pub category: ServiceCategory,
    pub designator: Designator,
}

/// The facts routing needs about the municipality where the establishment is.
#[derive(Clone, Debug)]
pub struct MunicipalityFacts<'a> {
    pub code: &'a str,
    pub kind: AuthorityKind,
    /// Code of the prefecture (PP000x).
    pub prefecture_code: &'a str,
    /// A 広域連合 that acts for this municipality, if any.
    pub delegate_code: Option<&'a str>,
}

/// Why a designation could not be routed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("no designation rule for service category {0:?}")]
    NoRule(ServiceCategory),
}

impl DesignationRules {
    /// Parses the rules file.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The authority code that designates `category` at an establishment in `m`.
    pub fn designating_authority(
        &self,
        category: ServiceCategory,
        m: &MunicipalityFacts<'_>,
    ) -> Result<String, RoutingError> {
        let designator = self
            .exception
            .iter()
            .find(|e| e.municipality == m.code && e.category == category)
            .map(|e| e.designator)
            .or_else(|| {
                self.rule
                    .iter()
                    .find(|r| r.category == category)
                    .map(|r| r.designator)
            })
            .ok_or(RoutingError::NoRule(category))?;
        Ok(match designator {
            Designator::PrefectureOrCity => match m.kind {
                AuthorityKind::DesignatedCity | AuthorityKind::CoreCity => m.code.to_string(),
                _ => m.prefecture_code.to_string(),
            },
            Designator::Municipality => m.delegate_code.unwrap_or(m.code).to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_address_the_head_of_the_authority() {
        assert_eq!(AuthorityKind::Prefecture.head_title("東京都"), "東京都知事");
        assert_eq!(AuthorityKind::SpecialWard.head_title("新宿区"), "新宿区長");
        assert_eq!(
            AuthorityKind::DesignatedCity.head_title("横浜市"),
            "横浜市長"
        );
        assert_eq!(AuthorityKind::CoreCity.head_title("八王子市"), "八王子市長");
        assert_eq!(
            AuthorityKind::Union.head_title("○○広域連合"),
            "○○広域連合長"
        );
    }

    const RULES: &str = include_str!("../../../reference-data/designation-rules.toml");

    fn m<'a>(
        code: &'a str,
        kind: AuthorityKind,
        delegate: Option<&'a str>,
    ) -> MunicipalityFacts<'a> {
        MunicipalityFacts {
            code,
            kind,
            prefecture_code: if code.starts_with("14") {
                "140007"
            } else {
                "130001"
            },
            delegate_code: delegate,
        }
    }

    #[test]
    fn shipped_rules_route_as_the_law_says() {
        let rules = DesignationRules::from_toml(RULES).unwrap();
        let shinjuku = m("131041", AuthorityKind::SpecialWard, None);
        let hachioji = m("132012", AuthorityKind::CoreCity, None);
        let yokohama = m("141003", AuthorityKind::DesignatedCity, None);
        let town = m("133035", AuthorityKind::Municipality, Some("139998"));
        use ServiceCategory::*;
        // 居宅サービス: the prefecture, unless a designated or core city.
        assert_eq!(
            rules.designating_authority(Home, &shinjuku).unwrap(),
            "130001"
        );
        assert_eq!(
            rules.designating_authority(Home, &hachioji).unwrap(),
            "132012"
        );
        assert_eq!(
            rules.designating_authority(Home, &yokohama).unwrap(),
            "141003"
        );
        assert_eq!(
            rules.designating_authority(Facility, &shinjuku).unwrap(),
            "130001"
        );
        // 地域密着型 and 居宅介護支援: the municipality, or the 広域連合 acting for it.
        assert_eq!(
            rules
                .designating_authority(CommunityBased, &shinjuku)
                .unwrap(),
            "131041"
        );
        assert_eq!(
            rules
                .designating_authority(CareManagement, &hachioji)
                .unwrap(),
            "132012"
        );
        assert_eq!(
            rules.designating_authority(CommunityBased, &town).unwrap(),
            "139998"
        );
    }

    #[test]
    fn exceptions_override_the_category_rule() {
        let text = format!(
            "{RULES}\n[[exception]]\nmunicipality = \"131041\"\ncategory = \"home\"\ndesignator = \"municipality\"\n"
        );
        let rules = DesignationRules::from_toml(&text).unwrap();
        assert_eq!(
            rules
                .designating_authority(
                    ServiceCategory::Home,
                    &m("131041", AuthorityKind::SpecialWard, None)
                )
                .unwrap(),
            "131041"
        );
        assert_eq!(
            rules
                .designating_authority(
                    ServiceCategory::Home,
                    &m("131130", AuthorityKind::SpecialWard, None)
                )
                .unwrap(),
            "130001"
        );
    }

    #[test]
    fn a_category_without_rule_is_an_error_not_a_guess() {
        let rules = DesignationRules::from_toml(
            "[[rule]]\ncategory = \"home\"\ndesignator = \"prefecture_or_city\"\n",
        )
        .unwrap();
        assert_eq!(
            rules.designating_authority(
                ServiceCategory::CommunityBased,
                &m("131041", AuthorityKind::SpecialWard, None)
            ),
            Err(RoutingError::NoRule(ServiceCategory::CommunityBased))
        );
    }
}
