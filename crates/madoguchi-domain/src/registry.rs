//! The registry: the once-only record of a corporation and its establishments.
//!
//! Data a provider enters once (代表者, 管理者, 所在地 …) is kept here as flat
//! `key → JSON value` maps, one for the corporation and one per establishment.
//! Procedure definitions bind their fields to these keys: a binding *prefills* a
//! new filing from the record, and an *effect* writes the accepted answer back.
//! The set of keys is closed (listed below) so that definitions are checked at
//! load time and the record never grows keys nobody reads.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which record a key lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryScope {
    /// The corporation (法人): one record.
    Corporation,
    /// An establishment (事業所): one record per establishment.
    Establishment,
}

impl RegistryScope {
    /// The prefix used in the written form of a key.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryScope::Corporation => "corporation",
            RegistryScope::Establishment => "establishment",
        }
    }

    /// The known keys of this scope with their Japanese labels.
    pub fn keys(self) -> &'static [(&'static str, &'static str)] {
        match self {
            RegistryScope::Corporation => CORPORATION_KEYS,
            RegistryScope::Establishment => ESTABLISHMENT_KEYS,
        }
    }
}

/// A key of the registry, written `corporation.representative_name` or
/// `establishment.manager_name`. Parsing accepts only the keys listed in
/// [`CORPORATION_KEYS`] / [`ESTABLISHMENT_KEYS`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryKey {
    pub scope: RegistryScope,
    pub key: String,
}

/// Keys of the corporation record (key, Japanese label).
pub const CORPORATION_KEYS: &[(&str, &str)] = &[
    ("name", "法人の名称"),
    ("name_kana", "法人の名称（フリガナ）"),
    ("corp_kind", "法人等の種類"),
    ("postal_code", "主たる事務所の郵便番号"),
    ("address", "主たる事務所の所在地"),
    ("phone", "法人の電話番号"),
    ("fax", "法人のFAX番号"),
    ("email", "法人の電子メールアドレス"),
    ("representative_title", "代表者の職名"),
    ("representative_name", "代表者の氏名"),
    ("representative_kana", "代表者の氏名（フリガナ）"),
    ("representative_birth_date", "代表者の生年月日"),
    ("representative_address", "代表者の住所"),
];

/// Keys of an establishment record (key, Japanese label).
pub const ESTABLISHMENT_KEYS: &[(&str, &str)] = &[
    ("name", "事業所の名称"),
    ("name_kana", "事業所の名称（フリガナ）"),
    ("postal_code", "事業所の郵便番号"),
    ("address", "事業所の所在地"),
    ("phone", "事業所の電話番号"),
    ("fax", "事業所のFAX番号"),
    ("email", "事業所の電子メールアドレス"),
    ("manager_name", "管理者の氏名"),
    ("manager_kana", "管理者の氏名（フリガナ）"),
    ("manager_birth_date", "管理者の生年月日"),
    ("manager_address", "管理者の住所"),
    ("capacity", "利用定員"),
    ("business_days", "営業日"),
    ("business_hours", "営業時間"),
    ("operating_rules_revised_on", "運営規程の改定日"),
];

/// The Japanese label of a key, `None` for a key outside the known lists.
pub fn label_of(key: &RegistryKey) -> Option<&'static str> {
    key.scope
        .keys()
        .iter()
        .find(|(k, _)| *k == key.key)
        .map(|(_, label)| *label)
}

/// The shape of the JSON value a registry key holds; a field bound to the key
/// must produce that shape (checked when definitions load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryValueKind {
    /// Free text (JSON string).
    Text,
    /// フリガナ in full-width katakana (JSON string).
    Kana,
    /// A calendar date `YYYY-MM-DD` (JSON string).
    Date,
    /// A non-negative whole number (JSON number).
    Integer,
    /// 郵便番号 (JSON string).
    PostalCode,
    /// Telephone or FAX number (JSON string).
    Phone,
    /// E-mail address (JSON string).
    Email,
}

/// The value shape of a key; `None` for unknown keys.
pub fn value_kind_of(key: &RegistryKey) -> Option<RegistryValueKind> {
    label_of(key)?;
    let k = key.key.as_str();
    Some(if k.ends_with("_kana") {
        RegistryValueKind::Kana
    } else if k.ends_with("birth_date") || k.ends_with("_on") {
        RegistryValueKind::Date
    } else if k == "capacity" {
        RegistryValueKind::Integer
    } else if k == "postal_code" {
        RegistryValueKind::PostalCode
    } else if k == "phone" || k == "fax" {
        RegistryValueKind::Phone
    } else if k == "email" {
        RegistryValueKind::Email
    } else {
        RegistryValueKind::Text
    })
}

impl RegistryKey {
    /// A corporation key (not checked against the known list).
    pub fn corporation(key: &str) -> Self {
        RegistryKey {
            scope: RegistryScope::Corporation,
            key: key.to_owned(),
        }
    }

    /// An establishment key (not checked against the known list).
    pub fn establishment(key: &str) -> Self {
        RegistryKey {
            scope: RegistryScope::Establishment,
            key: key.to_owned(),
        }
    }
}

impl fmt::Display for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.scope.as_str(), self.key)
    }
}

/// Why a written registry key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid registry key `{written}`: {reason}")]
pub struct RegistryKeyError {
    pub written: String,
    pub reason: String,
}

impl FromStr for RegistryKey {
    type Err = RegistryKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| RegistryKeyError {
            written: s.to_owned(),
            reason,
        };
        let (scope, key) = s
            .split_once('.')
            .ok_or_else(|| fail("expected `corporation.<key>` or `establishment.<key>`".into()))?;
        let scope = match scope {
            "corporation" => RegistryScope::Corporation,
            "establishment" => RegistryScope::Establishment,
            other => return Err(fail(format!("unknown scope `{other}`"))),
        };
        let parsed = RegistryKey {
            scope,
            key: key.to_owned(),
        };
        if label_of(&parsed).is_none() {
            let known: Vec<&str> = scope.keys().iter().map(|(k, _)| *k).collect();
            return Err(fail(format!(
                "unknown {} key `{key}` (known: {})",
                scope.as_str(),
                known.join(", ")
            )));
        }
        Ok(parsed)
    }
}

impl Serialize for RegistryKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RegistryKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let written = String::deserialize(deserializer)?;
        written.parse().map_err(serde::de::Error::custom)
    }
}

/// One record: registry key (without scope) → JSON value.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// The registry of one corporation as the domain sees it.
#[derive(Default, Clone, Debug)]
pub struct RegistrySnapshot {
    pub corporation: Record,
    /// Establishment id → record.
    pub establishments: BTreeMap<String, Record>,
}

impl RegistrySnapshot {
    /// The value of a key; establishment keys need the establishment id.
    pub fn get(
        &self,
        key: &RegistryKey,
        establishment_id: Option<&str>,
    ) -> Option<&serde_json::Value> {
        match key.scope {
            RegistryScope::Corporation => self.corporation.get(&key.key),
            RegistryScope::Establishment => {
                self.establishments.get(establishment_id?)?.get(&key.key)
            }
        }
    }

    /// Applies accepted effects in order (later effects win).
    pub fn apply(&mut self, effects: &[RegistryEffect]) {
        for effect in effects {
            let record = match &effect.target {
                EffectTarget::Corporation => &mut self.corporation,
                EffectTarget::Establishment(id) => {
                    self.establishments.entry(id.clone()).or_default()
                }
            };
            record.insert(effect.key.clone(), effect.value.clone());
        }
    }
}

/// A change to the registry that an accepted filing asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryEffect {
    pub target: EffectTarget,
    /// Key within the target's record (without the scope prefix).
    pub key: String,
    pub value: serde_json::Value,
}

/// Which record an effect writes to. JSON: `{"kind":"corporation"}` or
/// `{"kind":"establishment","id":"<establishment id>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum EffectTarget {
    Corporation,
    Establishment(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_written_form() {
        for scope in [RegistryScope::Corporation, RegistryScope::Establishment] {
            for (k, _) in scope.keys() {
                let written = format!("{}.{k}", scope.as_str());
                let key: RegistryKey = written.parse().unwrap();
                assert_eq!(key.to_string(), written);
                assert!(label_of(&key).is_some());
                assert!(value_kind_of(&key).is_some());
            }
        }
    }

    #[test]
    fn unknown_keys_and_scopes_are_refused() {
        assert!("corporation.manager_name".parse::<RegistryKey>().is_err());
        assert!("office.name".parse::<RegistryKey>().is_err());
        assert!("name".parse::<RegistryKey>().is_err());
    }

    #[test]
    fn value_kinds_follow_the_key() {
        let k = |s: &str| value_kind_of(&s.parse().unwrap()).unwrap();
        assert_eq!(k("establishment.capacity"), RegistryValueKind::Integer);
        assert_eq!(
            k("corporation.representative_birth_date"),
            RegistryValueKind::Date
        );
        assert_eq!(
            k("establishment.operating_rules_revised_on"),
            RegistryValueKind::Date
        );
        assert_eq!(k("establishment.manager_kana"), RegistryValueKind::Kana);
        assert_eq!(k("corporation.fax"), RegistryValueKind::Phone);
        assert_eq!(
            k("corporation.representative_name"),
            RegistryValueKind::Text
        );
    }

    #[test]
    fn effect_target_json_shape() {
        let t = EffectTarget::Establishment("e1".into());
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"kind":"establishment","id":"e1"}"#
        );
        let c = serde_json::to_string(&EffectTarget::Corporation).unwrap();
        assert_eq!(c, r#"{"kind":"corporation"}"#);
        let back: EffectTarget = serde_json::from_str(&c).unwrap();
        assert_eq!(back, EffectTarget::Corporation);
        let key: RegistryKey = serde_json::from_str(r#""establishment.manager_name""#).unwrap();
        assert_eq!(
            serde_json::to_string(&key).unwrap(),
            r#""establishment.manager_name""#
        );
    }

    #[test]
    fn apply_writes_effects_to_their_records() {
        let mut snap = RegistrySnapshot::default();
        snap.apply(&[
            RegistryEffect {
                target: EffectTarget::Corporation,
                key: "representative_name".into(),
                value: "山田 花子".into(),
            },
            RegistryEffect {
                target: EffectTarget::Establishment("e1".into()),
                key: "capacity".into(),
                value: 25.into(),
            },
        ]);
        let rep = RegistryKey::corporation("representative_name");
        assert_eq!(snap.get(&rep, None), Some(&"山田 花子".into()));
        let cap = RegistryKey::establishment("capacity");
        assert_eq!(snap.get(&cap, Some("e1")), Some(&25.into()));
    }
}
