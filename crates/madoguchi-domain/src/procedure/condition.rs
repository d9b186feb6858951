//! Conditions: when a group is shown, a field or attachment is required, or a
//! filing concerns the whole corporation.
//!
//! A condition looks at one top-level field. Written in TOML as an inline table
//! with `field` and exactly one operator:
//! `{ field = "change_items", includes = "manager" }`,
//! `{ field = "change_items", any_of = ["representative", "head_office"] }`,
//! `{ field = "kind", equals = "abolition" }`. The same shape is used in JSON.
//! Anything more is a CEL expression: `{ expr = "beds >= 20 && kind == 'hospital'" }`
//! (see `expr`), which holds only when every field it names is answered.
//! A field inside a hidden group counts as unanswered, so conditions may chain
//! (the loader refuses cycles).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::expr::{Expr, Vars};
use super::model::{FilingData, Group, ProcedureDefinition};
use crate::registry::Record;

/// A test on the answer of one top-level field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConditionRepr", into = "ConditionRepr")]
pub enum Condition {
    /// The answer is `value` or, for a multi_select, contains it.
    Includes { field: String, value: String },
    /// The answer is one of `values` or, for a multi_select, contains one of them.
    AnyOf { field: String, values: Vec<String> },
    /// The answer equals `value` exactly (string, number or bool).
    Equals { field: String, value: Value },
    /// A CEL expression over top-level fields and constants.
    Expr(Expr),
}

/// The written form: `field` plus exactly one operator key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expr: Option<Expr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    includes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Value>,
}

impl TryFrom<ConditionRepr> for Condition {
    type Error = String;

    fn try_from(repr: ConditionRepr) -> Result<Self, Self::Error> {
        if let Some(expr) = repr.expr {
            if repr.field.is_some()
                || repr.includes.is_some()
                || repr.any_of.is_some()
                || repr.equals.is_some()
            {
                return Err("a condition with `expr` takes no other key".to_owned());
            }
            return Ok(Condition::Expr(expr));
        }
        let Some(field) = repr.field else {
            return Err("a condition needs `field` and one operator, or `expr`".to_owned());
        };
        match (repr.includes, repr.any_of, repr.equals) {
            (Some(value), None, None) => Ok(Condition::Includes { field, value }),
            (None, Some(values), None) => Ok(Condition::AnyOf { field, values }),
            (None, None, Some(value)) => Ok(Condition::Equals { field, value }),
            _ => Err(format!(
                "condition on `{field}` needs exactly one of `includes`, `any_of`, `equals`"
            )),
        }
    }
}

impl From<Condition> for ConditionRepr {
    fn from(c: Condition) -> Self {
        let mut repr = ConditionRepr {
            field: c.field().map(str::to_owned),
            expr: None,
            includes: None,
            any_of: None,
            equals: None,
        };
        match c {
            Condition::Includes { value, .. } => repr.includes = Some(value),
            Condition::AnyOf { values, .. } => repr.any_of = Some(values),
            Condition::Equals { value, .. } => repr.equals = Some(value),
            Condition::Expr(e) => repr.expr = Some(e),
        }
        repr
    }
}

/// Guards evaluation of hand-built definitions with cyclic conditions (the
/// loader refuses cycles, so loaded definitions never get near it).
const MAX_DEPTH: usize = 16;

impl Condition {
    /// The id of the field a simple condition looks at (`None` for `expr`).
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Includes { field, .. }
            | Condition::AnyOf { field, .. }
            | Condition::Equals { field, .. } => Some(field),
            Condition::Expr(_) => None,
        }
    }

    /// Every name the condition refers to (fields, groups, constants).
    pub fn names(&self) -> Vec<String> {
        match self {
            Condition::Expr(e) => e.variables(),
            other => other.field().map(str::to_owned).into_iter().collect(),
        }
    }

    /// Whether the answer (`None` = unanswered) satisfies the condition.
    pub fn matches(&self, answer: Option<&Value>) -> bool {
        let Some(answer) = answer else { return false };
        let has = |wanted: &str| match answer {
            Value::String(s) => s == wanted,
            Value::Array(items) => items.iter().any(|v| v.as_str() == Some(wanted)),
            _ => false,
        };
        match self {
            Condition::Includes { value, .. } => has(value),
            Condition::AnyOf { values, .. } => values.iter().any(|v| has(v)),
            Condition::Equals { value, .. } => answer == value,
            Condition::Expr(_) => false,
        }
    }
}

impl ProcedureDefinition {
    /// Whether `condition` holds for these answers.
    pub fn condition_holds(&self, condition: &Condition, data: &FilingData) -> bool {
        self.holds_at(condition, data, 0)
    }

    /// Whether the group is shown for these answers.
    pub fn is_group_visible(&self, group: &Group, data: &FilingData) -> bool {
        self.visible_at(group, data, 0)
    }

    /// Whether the filing concerns every establishment of the corporation.
    pub fn is_corporation_wide(&self, data: &FilingData) -> bool {
        self.fanout
            .corporation_wide_when
            .as_ref()
            .is_some_and(|c| self.condition_holds(c, data))
    }

    fn holds_at(&self, condition: &Condition, data: &FilingData, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let Some(name) = condition.field() else {
            let Condition::Expr(expr) = condition else {
                return false;
            };
            let mut bound = Record::new();
            for name in expr.variables() {
                if self.constants.contains_key(&name) {
                    continue;
                }
                match self.visible_answer(&name, data, depth) {
                    Some(v) => {
                        bound.insert(name, v.clone());
                    }
                    None => return false,
                }
            }
            let constants = &self.constants;
            let vars = Vars::new().with(constants).with(&bound);
            return expr.eval_bool(&vars).unwrap_or(false);
        };
        condition.matches(self.visible_answer(name, data, depth))
    }

    /// The answer of a top-level field or repeating group, if its group is
    /// visible and it is answered (a repeating group is always "answered": a
    /// list, empty when hidden).
    fn visible_answer<'d>(
        &self,
        name: &str,
        data: &'d FilingData,
        depth: usize,
    ) -> Option<&'d Value> {
        static EMPTY: Value = Value::Array(Vec::new());
        if let Some(group) = self
            .groups
            .iter()
            .find(|g| g.id == name && g.repeat.is_some())
        {
            if group.per_establishment || !self.visible_at(group, data, depth + 1) {
                return Some(&EMPTY);
            }
            return Some(
                data.fields
                    .get(name)
                    .filter(|v| v.is_array())
                    .unwrap_or(&EMPTY),
            );
        }
        let (group, _) = self.field(name)?;
        if group.per_establishment
            || group.repeat.is_some()
            || !self.visible_at(group, data, depth + 1)
        {
            return None;
        }
        data.fields
            .get(name)
            .filter(|v| !super::values::is_blank(Some(v)))
    }

    fn visible_at(&self, group: &Group, data: &FilingData, depth: usize) -> bool {
        match &group.visible_when {
            None => true,
            Some(condition) => self.holds_at(condition, data, depth),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn written_forms_parse_and_round_trip() {
        let c: Condition =
            serde_json::from_value(json!({"field": "k", "any_of": ["a", "b"]})).unwrap();
        assert_eq!(
            c,
            Condition::AnyOf {
                field: "k".into(),
                values: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"field": "k", "any_of": ["a", "b"]})
        );
        let c: Condition = toml::from_str::<toml::Table>("c = { field = \"k\", equals = true }")
            .unwrap()["c"]
            .clone()
            .try_into()
            .unwrap();
        assert_eq!(
            c,
            Condition::Equals {
                field: "k".into(),
                value: json!(true)
            }
        );
    }

    #[test]
    fn exactly_one_operator_is_required() {
        let both = json!({"field": "k", "includes": "a", "equals": "a"});
        assert!(serde_json::from_value::<Condition>(both).is_err());
        assert!(serde_json::from_value::<Condition>(json!({"field": "k"})).is_err());
        assert!(serde_json::from_value::<Condition>(json!({"field": "k", "is": "a"})).is_err());
    }

    #[test]
    fn matching_strings_and_arrays() {
        let inc = Condition::Includes {
            field: "k".into(),
            value: "a".into(),
        };
        assert!(inc.matches(Some(&json!(["b", "a"]))));
        assert!(inc.matches(Some(&json!("a"))));
        assert!(!inc.matches(Some(&json!(["b"]))));
        assert!(!inc.matches(None));
        let any = Condition::AnyOf {
            field: "k".into(),
            values: vec!["x".into(), "a".into()],
        };
        assert!(any.matches(Some(&json!(["a"]))));
        assert!(!any.matches(Some(&json!([]))));
        let eq = Condition::Equals {
            field: "k".into(),
            value: json!(3),
        };
        assert!(eq.matches(Some(&json!(3))));
        assert!(!eq.matches(Some(&json!("3"))));
    }
}
