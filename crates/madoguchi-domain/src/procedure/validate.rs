//! Checking and tidying a filing's answers against its definition.
//!
//! Only visible groups are checked; answers in hidden groups are kept but
//! ignored (they come back if the user re-selects the item). Answers for
//! establishments the filing does not cover are ignored likewise.

use std::collections::BTreeSet;

use serde_json::Value;

use super::expr::Vars;
use super::model::{FieldError, FilingData, Group, ProcedureDefinition};
use super::values::{check_value, is_blank, normalize_value, required_message};
use crate::registry::Record;

impl ProcedureDefinition {
    /// Validates answers for the covered establishments (ids); returns every
    /// error, in form order (empty = valid).
    pub fn validate(&self, data: &FilingData, establishment_ids: &[String]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let covered = unique(establishment_ids);
        self.check_targets(covered.len(), &mut errors);

        self.unknown_fields(&data.fields, false, "fields", &mut errors);
        for group in self.groups.iter().filter(|g| !g.per_establishment) {
            if self.is_group_visible(group, data) {
                self.check_group(group, data, &data.fields, "fields", &mut errors);
            }
        }
        let top = self.scope_vars(data, &data.fields, false);
        let base = Vars::new().with(&self.constants).with(&top);
        self.check_rules(&self.rules, &base, "fields", &mut errors);
        self.check_group_rules(data, &data.fields, false, &base, "fields", &mut errors);

        let empty = Record::new();
        for id in covered {
            let record = data.establishments.get(id).unwrap_or(&empty);
            let prefix = format!("establishments.{id}");
            self.unknown_fields(record, true, &prefix, &mut errors);
            for group in self.groups.iter().filter(|g| g.per_establishment) {
                if self.is_group_visible(group, data) {
                    self.check_group(group, data, record, &prefix, &mut errors);
                }
            }
            let own = self.scope_vars(data, record, true);
            let vars = base.with(&own);
            self.check_group_rules(data, record, true, &vars, &prefix, &mut errors);
        }
        errors
    }

    /// Normalises answers in place before storing: trims text, turns フリガナ
    /// into full-width katakana and full-width digits of numbers, postal codes,
    /// phone numbers and identifiers into ASCII. Never changes meaning; values
    /// it cannot tidy are left for [`validate`](Self::validate) to report.
    ///
    /// Then recomputes every computed field (see [`compute`](Self::compute)).
    pub fn normalize(&self, data: &mut FilingData) {
        self.normalize_record(&mut data.fields, false);
        for record in data.establishments.values_mut() {
            self.normalize_record(record, true);
        }
        self.compute(data);
    }

    fn normalize_record(&self, record: &mut Record, per_establishment: bool) {
        for (id, value) in record.iter_mut() {
            if let Some(group) = self.repeating_group(id, per_establishment) {
                let Value::Array(items) = value else { continue };
                for item in items.iter_mut() {
                    let Value::Object(item) = item else { continue };
                    for (fid, v) in item.iter_mut() {
                        if let Some(field) = group.fields.iter().find(|f| &f.id == fid)
                            && let Some(tidy) = normalize_value(field.kind, v)
                        {
                            *v = tidy;
                        }
                    }
                }
                continue;
            }
            let Some((group, field)) = self.field(id) else {
                continue;
            };
            if group.per_establishment == per_establishment
                && group.repeat.is_none()
                && let Some(tidy) = normalize_value(field.kind, value)
            {
                *value = tidy;
            }
        }
    }

    /// The repeating group with this id at this level of the form.
    pub(crate) fn repeating_group(&self, id: &str, per_establishment: bool) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.id == id && g.repeat.is_some() && g.per_establishment == per_establishment)
    }

    fn check_targets(&self, count: usize, errors: &mut Vec<FieldError>) {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let t = &self.targets;
        if count < t.min_establishments {
            let message = format!(
                "対象の事業所を{}件以上選択してください。",
                t.min_establishments
            );
            errors.push(FieldError::new(
                "establishments".into(),
                "too_few_establishments",
                message,
            ));
        }
        if let Some(max) = t.max_establishments.filter(|&max| count > max) {
            let message = format!("対象の事業所は{max}件までです。");
            errors.push(FieldError::new(
                "establishments".into(),
                "too_many_establishments",
                message,
            ));
        }
    }

    /// Answers whose id is not a field of this level of the form.
    fn unknown_fields(
        &self,
        record: &Record,
        per_est: bool,
        prefix: &str,
        errors: &mut Vec<FieldError>,
    ) {
        for id in record.keys() {
            let known = self.repeating_group(id, per_est).is_some()
                || self
                    .field(id)
                    .is_some_and(|(g, _)| g.per_establishment == per_est && g.repeat.is_none());
            if !known {
                let message = format!("「{id}」はこの手続の項目ではありません。");
                errors.push(FieldError::new(
                    format!("{prefix}.{id}"),
                    "unknown_field",
                    message,
                ));
            }
        }
    }

    fn check_group(
        &self,
        group: &Group,
        data: &FilingData,
        record: &Record,
        prefix: &str,
        errors: &mut Vec<FieldError>,
    ) {
        if let Some(repeat) = &group.repeat {
            let path = format!("{prefix}.{}", group.id);
            let items: &[Value] = match record.get(&group.id) {
                None | Some(Value::Null) => &[],
                Some(Value::Array(items)) => items,
                Some(_) => {
                    let message = format!("{}の入力が正しくありません。", repeat.item_label);
                    errors.push(FieldError::new(path, "invalid_format", message));
                    return;
                }
            };
            if (items.len() as u64) < u64::from(repeat.min) {
                let message = format!(
                    "{}を{}件以上入力してください。",
                    repeat.item_label, repeat.min
                );
                errors.push(FieldError::new(path.clone(), "too_few_items", message));
            }
            if items.len() as u64 > u64::from(repeat.max) {
                let message = format!("{}は{}件までです。", repeat.item_label, repeat.max);
                errors.push(FieldError::new(path.clone(), "too_many_items", message));
            }
            let empty = Record::new();
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}.{i}");
                let item = match item {
                    Value::Object(item) => item,
                    _ => {
                        let message = format!("{}の入力が正しくありません。", repeat.item_label);
                        errors.push(FieldError::new(
                            item_path.clone(),
                            "invalid_format",
                            message,
                        ));
                        &empty
                    }
                };
                for id in item.keys() {
                    if !group.fields.iter().any(|f| &f.id == id) {
                        let message = format!("「{id}」はこの手続の項目ではありません。");
                        let at = format!("{item_path}.{id}");
                        errors.push(FieldError::new(at, "unknown_field", message));
                    }
                }
                self.check_fields(group, data, item, &item_path, errors);
            }
            return;
        }
        self.check_fields(group, data, record, prefix, errors);
    }

    fn check_fields(
        &self,
        group: &Group,
        data: &FilingData,
        record: &Record,
        prefix: &str,
        errors: &mut Vec<FieldError>,
    ) {
        for field in &group.fields {
            let path = format!("{prefix}.{}", field.id);
            let value: Option<&Value> = record.get(&field.id);
            if is_blank(value) {
                let required = field.required
                    || field
                        .required_when
                        .as_ref()
                        .is_some_and(|c| self.condition_holds(c, data));
                if required {
                    errors.push(FieldError::new(path, "required", required_message(field)));
                }
                continue;
            }
            if let Some(value) = value
                && let Err((code, message)) = check_value(field, value)
            {
                errors.push(FieldError::new(path, code, message));
            }
        }
    }
}

/// The ids in order, without repeats.
fn unique(ids: &[String]) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect()
}
