//! Filings generated from a definition itself: a valid answer for every field
//! (its `example`, else one made for its kind), used by the loader to
//! type-check expressions, by the test suite to fill every shipped definition,
//! and by the benchmark.

use serde_json::{Value, json};

use super::model::{Field, FieldKind, FilingData, Group, ProcedureDefinition};
use crate::registry::Record;

/// A valid answer for the field: its `example`, or one made for its kind.
pub fn sample_answer(field: &Field) -> Value {
    if let Some(example) = &field.example {
        return example.clone();
    }
    let mid = match (field.min, field.max) {
        (Some(min), Some(max)) => (min + max) / 2.0,
        (Some(min), None) => min.max(1.0),
        (None, Some(max)) => max.min(1.0),
        (None, None) => 1.0,
    };
    match field.kind {
        FieldKind::Text | FieldKind::TextArea => json!("テスト"),
        FieldKind::Kana => json!("テスト"),
        FieldKind::Date => json!("2026-04-01"),
        FieldKind::Integer => json!(mid.ceil() as u64),
        FieldKind::Number => json!(mid),
        FieldKind::PostalCode => json!("160-0023"),
        FieldKind::Phone => json!("03-5321-1111"),
        FieldKind::Email => json!("info@example.jp"),
        FieldKind::Select => json!(field.options.first().map(|o| o.value.as_str())),
        FieldKind::MultiSelect => {
            Value::Array(field.options.iter().map(|o| json!(o.value)).collect())
        }
        FieldKind::YesNo => json!(true),
        FieldKind::CorporateNumber => json!("7040005007253"),
        FieldKind::OfficeNumber => json!("1171201369"),
        FieldKind::TimeRange => json!("09:00-18:00"),
        FieldKind::Weekdays => json!(["mon", "tue", "wed", "thu", "fri"]),
        FieldKind::Address => json!("東京都新宿区西新宿2-8-1"),
    }
}

/// The answers of one group level: every non-computed field of the given
/// groups; a repeating group gets `max(min, 1)` items.
fn sample_record<'a>(groups: impl Iterator<Item = &'a Group>) -> Record {
    let mut out = Record::new();
    for group in groups {
        let fields = sample_fields(group);
        match &group.repeat {
            Some(r) => {
                let n = r.min.max(1) as usize;
                out.insert(
                    group.id.clone(),
                    Value::Array(vec![Value::Object(fields); n]),
                );
            }
            None => out.extend(fields),
        }
    }
    out
}

fn sample_fields(group: &Group) -> Record {
    group
        .fields
        .iter()
        .filter(|f| f.compute.is_none())
        .map(|f| (f.id.clone(), sample_answer(f)))
        .collect()
}

impl ProcedureDefinition {
    /// A filing answering every field (every option of a multi-select, so
    /// that every conditional group shows), for these establishments, with
    /// computed fields computed. Valid when each field's `example` respects
    /// the definition's rules.
    pub fn sample_data(&self, establishment_ids: &[String]) -> FilingData {
        let mut data = FilingData {
            fields: sample_record(self.groups.iter().filter(|g| !g.per_establishment)),
            establishments: Default::default(),
        };
        let own = sample_record(self.groups.iter().filter(|g| g.per_establishment));
        for id in establishment_ids {
            data.establishments.insert(id.clone(), own.clone());
        }
        self.compute(&mut data);
        data
    }
}
