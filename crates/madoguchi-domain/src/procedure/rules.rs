//! Cross-field rules and computed values, both written in CEL (see `expr`).
//!
//! Scopes: a rule or computed field sees the constants, the top-level answers,
//! and, when it sits in a per-establishment group, that establishment's
//! answers; inside a repeating group, also the item's answers. Only answered
//! fields of visible groups are bound; a repeating group is bound as a list of
//! its items (empty when hidden).
//!
//! A rule is checked only when every name it uses is bound and no field it
//! uses already has an error (blank and malformed answers are reported by the
//! field checks, once). A computed field is blank until every name it uses is
//! bound.

use std::collections::BTreeSet;

use serde_json::Value;

use super::expr::{Expr, Vars};
use super::model::{Field, FieldError, FieldKind, FilingData, Group, ProcedureDefinition, Rule};
use crate::registry::Record;

impl ProcedureDefinition {
    /// The variables answered at one level of the form: top level
    /// (`per_establishment = false`, `record` = `data.fields`) or one
    /// establishment's record.
    pub(crate) fn scope_vars(&self, data: &FilingData, record: &Record, per_est: bool) -> Record {
        let mut out = Record::new();
        for group in self
            .groups
            .iter()
            .filter(|g| g.per_establishment == per_est)
        {
            let visible = self.is_group_visible(group, data);
            if group.repeat.is_some() {
                let items = match record.get(&group.id) {
                    Some(Value::Array(items)) if visible => Value::Array(
                        items
                            .iter()
                            .filter(|i| i.is_object())
                            .map(|i| Value::Object(answered_only(i.as_object().unwrap())))
                            .collect(),
                    ),
                    _ => Value::Array(Vec::new()),
                };
                out.insert(group.id.clone(), items);
                continue;
            }
            if !visible {
                continue;
            }
            for field in &group.fields {
                if let Some(v) = record.get(&field.id).filter(|v| is_answered(v)) {
                    out.insert(field.id.clone(), v.clone());
                }
            }
        }
        out
    }

    pub(crate) fn check_rules(
        &self,
        rules: &[Rule],
        vars: &Vars<'_>,
        prefix: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let flagged: BTreeSet<String> = errors.iter().map(|e| e.field.clone()).collect();
        for rule in rules {
            let uses = |e: &Expr| e.variables().into_iter().all(|n| vars.get(&n).is_some());
            let untouched = rule.check.variables().iter().all(|n| {
                !flagged.contains(&format!("{prefix}.{n}"))
                    && !flagged
                        .iter()
                        .any(|f| f.starts_with(&format!("{prefix}.{n}.")))
            });
            if !uses(&rule.check) || !untouched {
                continue;
            }
            if let Some(when) = &rule.when
                && !(uses(when) && when.eval_bool(vars).unwrap_or(false))
            {
                continue;
            }
            if rule.check.eval_bool(vars) != Ok(true) {
                errors.push(FieldError::new(
                    format!("{prefix}.{}", rule.field),
                    "rule",
                    rule.message.clone(),
                ));
            }
        }
    }

    /// Rules of the visible groups at one level (per item for repeating groups).
    pub(crate) fn check_group_rules(
        &self,
        data: &FilingData,
        record: &Record,
        per_est: bool,
        vars: &Vars<'_>,
        prefix: &str,
        errors: &mut Vec<FieldError>,
    ) {
        for group in self
            .groups
            .iter()
            .filter(|g| g.per_establishment == per_est)
        {
            if group.rules.is_empty() || !self.is_group_visible(group, data) {
                continue;
            }
            if group.repeat.is_none() {
                self.check_rules(&group.rules, vars, prefix, errors);
                continue;
            }
            let Some(Value::Array(items)) = record.get(&group.id) else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let Some(item) = item.as_object() else {
                    continue;
                };
                let item = answered_only(item);
                let item_vars = vars.with(&item);
                let path = format!("{prefix}.{}.{i}", group.id);
                self.check_rules(&group.rules, &item_vars, &path, errors);
            }
        }
    }

    /// Recomputes every computed field from the other answers, top level
    /// first, then each establishment, then each item of repeating groups.
    /// A computed field whose inputs are not all answered is left blank.
    pub fn compute(&self, data: &mut FilingData) {
        let computed: Vec<(&Group, &Field)> = self
            .groups
            .iter()
            .flat_map(|g| g.fields.iter().map(move |f| (g, f)))
            .filter(|(_, f)| f.compute.is_some())
            .collect();
        if computed.is_empty() {
            return;
        }
        // Computed fields may use each other (never in a cycle: a load error),
        // so passes repeat until nothing changes.
        for _ in 0..=computed.len() {
            let before = data.clone();
            let top = self.scope_vars(data, &data.fields, false);
            for (group, field) in computed.iter().filter(|(g, _)| !g.per_establishment) {
                let vars = Vars::new().with(&self.constants).with(&top);
                if group.repeat.is_some() {
                    compute_items(group, field, &vars, &mut data.fields);
                } else {
                    set(&mut data.fields, field, eval(field, &vars));
                }
            }
            let ids: Vec<String> = data.establishments.keys().cloned().collect();
            for id in ids {
                let record = data.establishments[&id].clone();
                let own = self.scope_vars(data, &record, true);
                let record = data.establishments.get_mut(&id).expect("listed above");
                for (group, field) in computed.iter().filter(|(g, _)| g.per_establishment) {
                    let vars = Vars::new().with(&self.constants).with(&top).with(&own);
                    if group.repeat.is_some() {
                        compute_items(group, field, &vars, record);
                    } else {
                        set(record, field, eval(field, &vars));
                    }
                }
            }
            if *data == before {
                break;
            }
        }
    }
}

fn compute_items(group: &Group, field: &Field, vars: &Vars<'_>, record: &mut Record) {
    let Some(Value::Array(items)) = record.get_mut(&group.id) else {
        return;
    };
    for item in items.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let own = answered_only(item);
        let value = eval(field, &vars.with(&own));
        set(item, field, value);
    }
}

/// The computed value of a field, shaped to its kind; `None` = blank.
fn eval(field: &Field, vars: &Vars<'_>) -> Option<Value> {
    let expr = field.compute.as_ref()?;
    if !expr.variables().iter().all(|n| vars.get(n).is_some()) {
        return None;
    }
    let value = expr.eval(vars).ok()?;
    shape(field, value)
}

/// Integer results are truncated toward zero; numbers are cut (not rounded)
/// to the field's decimals, as 常勤換算 is.
pub(crate) fn shape(field: &Field, value: Value) -> Option<Value> {
    match (field.kind, &value) {
        (FieldKind::Integer, Value::Number(n)) => {
            let f = n.as_f64()?;
            (f.is_finite() && f >= 0.0).then(|| Value::from(f.trunc() as u64))
        }
        (FieldKind::Number, Value::Number(n)) => {
            let f = n.as_f64()?;
            let scale = 10f64.powi(field.decimals.unwrap_or(2) as i32);
            let cut = ((f * scale) + 1e-9).floor() / scale;
            (f.is_finite() && f >= 0.0)
                .then(|| serde_json::Number::from_f64(cut).map(Value::Number))
                .flatten()
        }
        (FieldKind::YesNo, Value::Bool(_)) => Some(value),
        (FieldKind::Integer | FieldKind::Number | FieldKind::YesNo, _) => None,
        (_, Value::String(_)) => Some(value),
        _ => None,
    }
}

fn set(record: &mut Record, field: &Field, value: Option<Value>) {
    match value {
        Some(v) => {
            record.insert(field.id.clone(), v);
        }
        None => {
            record.remove(&field.id);
        }
    }
}

fn is_answered(v: &Value) -> bool {
    !super::values::is_blank(Some(v))
}

fn answered_only(item: &Record) -> Record {
    item.iter()
        .filter(|(_, v)| is_answered(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
