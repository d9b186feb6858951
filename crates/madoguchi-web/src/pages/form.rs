//! The bridge between procedure definitions and HTML forms: definition + answers + errors →
//! sections of [`FieldView`]s to render; posted name/value pairs → [`FilingData`]; and the
//! read-only display of answers beside the registry's current values (for review).

use std::collections::BTreeMap;

use madoguchi_core::filings::view::{EstablishmentRef, Problem};
use madoguchi_domain::procedure::{Field, FieldKind, FilingData, Group, ProcedureDefinition};
use madoguchi_domain::registry::{RegistrySnapshot, label_of};
use serde_json::Value;

use super::form_view::{ChoiceView, FieldView};

/// One titled block of the form (a group, or a per-establishment group for one establishment).
pub struct SectionView {
    pub title: String,
    pub description: String,
    pub fields: Vec<FieldView>,
}

/// The HTML name of a field's input.
pub fn input_name(field: &Field, establishment_id: Option<&str>) -> String {
    match establishment_id {
        Some(e) => format!("establishments.{e}.{}", field.id),
        None => format!("fields.{}", field.id),
    }
}

/// Sections for the visible groups, with values, errors and prefill-source tags.
pub fn sections(
    def: &ProcedureDefinition,
    data: &FilingData,
    establishments: &[EstablishmentRef],
    problems: &[Problem],
    registry: &RegistrySnapshot,
) -> Vec<SectionView> {
    let mut out = Vec::new();
    for group in def.groups.iter().filter(|g| def.is_group_visible(g, data)) {
        if group.per_establishment {
            for e in establishments {
                let record = data.establishments.get(&e.id);
                let fields = group
                    .fields
                    .iter()
                    .map(|f| {
                        field_view(
                            f,
                            record.and_then(|r| r.get(&f.id)),
                            Some(&e.id),
                            problems,
                            registry,
                        )
                    })
                    .collect();
                out.push(SectionView {
                    title: format!("{}（{}）", group.title, e.name),
                    description: group.description.clone(),
                    fields,
                });
            }
        } else {
            let fields = group
                .fields
                .iter()
                .map(|f| field_view(f, data.fields.get(&f.id), None, problems, registry))
                .collect();
            out.push(SectionView {
                title: group.title.clone(),
                description: group.description.clone(),
                fields,
            });
        }
    }
    out
}

fn field_view(
    f: &Field,
    value: Option<&Value>,
    est: Option<&str>,
    problems: &[Problem],
    registry: &RegistrySnapshot,
) -> FieldView {
    let name = input_name(f, est);
    let mut v = FieldView::new(name.clone(), f.label.clone(), f.kind.as_str());
    v.required = f.required;
    v.help = f.help.clone();
    v.unit = f.unit.clone();
    v.local_rule = f.origin.authority_name.clone();
    v.error = problems
        .iter()
        .find(|p| p.field == name)
        .map(|p| p.message.clone());
    match value {
        Some(Value::Array(items)) => {
            v.values = items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        }
        Some(Value::String(s)) => v.value = s.clone(),
        Some(Value::Bool(b)) => v.value = b.to_string(),
        Some(Value::Number(n)) => v.value = n.to_string(),
        _ => {}
    }
    v.options = f
        .options
        .iter()
        .map(|c| ChoiceView {
            value: c.value.clone(),
            label: c.label.clone(),
            checked: v.values.contains(&c.value) || v.value == c.value,
        })
        .collect();
    if let (Some(key), Some(val)) = (&f.prefill, value)
        && registry.get(key, est).is_some_and(|r| r == val)
    {
        v.prefilled_from = Some(format!("登録情報（{}）", label_of(key).unwrap_or("")));
    }
    v
}

/// Builds answers from posted pairs, starting from `current`. Only fields the form rendered
/// (listed in `_present`) change, so hidden groups keep their answers and an all-unchecked
/// checkbox group is told apart from one that was not on the page.
pub fn parse_pairs(
    def: &ProcedureDefinition,
    pairs: &[(String, String)],
    current: &FilingData,
    establishment_ids: &[String],
) -> FilingData {
    let present: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "_present")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut posted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in pairs {
        posted.entry(k.as_str()).or_default().push(v.as_str());
    }
    let mut data = current.clone();
    for group in &def.groups {
        let targets: Vec<Option<&String>> = if group.per_establishment {
            establishment_ids.iter().map(Some).collect()
        } else {
            vec![None]
        };
        for est in targets {
            for f in &group.fields {
                let name = input_name(f, est.map(String::as_str));
                if !present.contains(&name.as_str()) {
                    continue;
                }
                let values = posted.get(name.as_str()).cloned().unwrap_or_default();
                let record = match est {
                    Some(e) => data.establishments.entry(e.clone()).or_default(),
                    None => &mut data.fields,
                };
                match to_value(f.kind, &values) {
                    Some(v) => record.insert(f.id.clone(), v),
                    None => record.remove(&f.id),
                };
            }
        }
    }
    data
}

fn to_value(kind: FieldKind, values: &[&str]) -> Option<Value> {
    match kind {
        FieldKind::MultiSelect => {
            let items: Vec<Value> = values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| Value::String((*v).into()))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        _ => {
            let v = values.iter().rev().find(|v| !v.trim().is_empty())?.trim();
            Some(match kind {
                FieldKind::YesNo => match v {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    other => Value::String(other.into()),
                },
                FieldKind::Integer => v
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(v.into())),
                _ => Value::String(v.into()),
            })
        }
    }
}

/// A value for reading: option labels, はい/いいえ, 和暦 dates, units.
pub fn display(f: &Field, value: Option<&Value>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    let label_of_option = |s: &str| {
        f.options
            .iter()
            .find(|c| c.value == s)
            .map(|c| c.label.clone())
            .unwrap_or_else(|| s.to_string())
    };
    match (f.kind, value) {
        (_, Value::Null) => String::new(),
        (FieldKind::MultiSelect, Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(label_of_option)
            .collect::<Vec<_>>()
            .join("、"),
        (FieldKind::Select, Value::String(s)) => label_of_option(s),
        (FieldKind::YesNo, Value::Bool(b)) => if *b { "はい" } else { "いいえ" }.into(),
        (FieldKind::Date, Value::String(s)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(madoguchi_domain::wareki::format_date_ja)
            .unwrap_or_else(|_| s.clone()),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Number(n)) => format!("{n}{}", f.unit.clone().unwrap_or_default()),
        (_, other) => other.to_string(),
    }
}

/// One answer laid out for review, with the registry's current value beside it.
pub struct ReviewRow {
    pub path: String,
    pub label: String,
    pub value: String,
    /// The registry's current value for the field's registry key, when it has one.
    pub current: Option<String>,
    /// The answer differs from the registry (the change being notified).
    pub changed: bool,
}

pub struct ReviewSection {
    pub title: String,
    pub rows: Vec<ReviewRow>,
}

/// The answers of a version, laid out by visible section for review.
pub fn review(
    def: &ProcedureDefinition,
    data: &FilingData,
    establishments: &[EstablishmentRef],
    registry: &RegistrySnapshot,
) -> Vec<ReviewSection> {
    let mut out = Vec::new();
    let row = |g: &Group, f: &Field, value: Option<&Value>, est: Option<&str>| {
        let key = f.effect.as_ref().or(f.prefill.as_ref());
        let current_raw = key.and_then(|k| registry.get(k, est));
        let current = key.map(|_| display(f, current_raw));
        let changed = key.is_some() && value.is_some() && current_raw != value;
        let _ = g;
        ReviewRow {
            path: input_name(f, est),
            label: f.label.clone(),
            value: display(f, value),
            current,
            changed,
        }
    };
    for g in def.groups.iter().filter(|g| def.is_group_visible(g, data)) {
        if g.per_establishment {
            for e in establishments {
                let rec = data.establishments.get(&e.id);
                out.push(ReviewSection {
                    title: format!("{}（{}）", g.title, e.name),
                    rows: g
                        .fields
                        .iter()
                        .map(|f| row(g, f, rec.and_then(|r| r.get(&f.id)), Some(&e.id)))
                        .collect(),
                });
            }
        } else {
            out.push(ReviewSection {
                title: g.title.clone(),
                rows: g
                    .fields
                    .iter()
                    .map(|f| row(g, f, data.fields.get(&f.id), None))
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posted_values_become_typed_answers() {
        assert_eq!(to_value(FieldKind::Integer, &["30"]), Some(Value::from(30)));
        assert_eq!(
            to_value(FieldKind::Integer, &["三十"]),
            Some(Value::String("三十".into()))
        );
        assert_eq!(
            to_value(FieldKind::YesNo, &["false"]),
            Some(Value::Bool(false))
        );
        assert_eq!(
            to_value(FieldKind::MultiSelect, &["a", "b"]),
            Some(serde_json::json!(["a", "b"]))
        );
        assert_eq!(to_value(FieldKind::MultiSelect, &[]), None);
        assert_eq!(to_value(FieldKind::Text, &["  "]), None);
    }
}
