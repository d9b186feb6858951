//! Moving a draft to a newer form version (forms change every April and
//! October): every answer whose field still exists, with the same kind and (for
//! choices) a value the new form still offers, is carried across; the fields the
//! new version adds are listed so the form can mark them.

use serde_json::Value;

use super::model::{Field, FilingData, Group, ProcedureDefinition};
use super::values::check_value;
use crate::registry::Record;

/// The outcome of [`ProcedureDefinition::migrate_from`].
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    /// The answers under the new version.
    pub data: FilingData,
    /// Paths of the answers carried across unchanged.
    pub carried: Vec<String>,
    /// Paths of answers that could not be carried (field gone, kind changed,
    /// option withdrawn), with the old label, for the user to re-check.
    pub dropped: Vec<(String, String)>,
    /// Ids of the fields this version has and the old one had not.
    pub new_fields: Vec<String>,
}

impl ProcedureDefinition {
    /// Field ids of this version that `old` does not have (or has with another kind).
    pub fn fields_new_since(&self, old: &ProcedureDefinition) -> Vec<String> {
        self.groups
            .iter()
            .flat_map(|g| g.fields.iter())
            .filter(|f| !old.field(&f.id).is_some_and(|(_, o)| o.kind == f.kind))
            .map(|f| f.id.clone())
            .collect()
    }

    /// Carries a draft's answers from `old` to this version.
    pub fn migrate_from(&self, old: &ProcedureDefinition, data: &FilingData) -> Migration {
        let mut m = Migration {
            data: FilingData::default(),
            carried: Vec::new(),
            dropped: Vec::new(),
            new_fields: self.fields_new_since(old),
        };
        m.data.fields = self.carry_level(old, &data.fields, false, "fields", &mut m);
        for (est, record) in &data.establishments {
            let prefix = format!("establishments.{est}");
            let carried = self.carry_level(old, record, true, &prefix, &mut m);
            m.data.establishments.insert(est.clone(), carried);
        }
        self.compute(&mut m.data);
        m
    }

    fn carry_level(
        &self,
        old: &ProcedureDefinition,
        record: &Record,
        per_est: bool,
        prefix: &str,
        m: &mut Migration,
    ) -> Record {
        let mut out = Record::new();
        for (id, value) in record {
            let path = format!("{prefix}.{id}");
            // A repeating group: carry item by item, field by field.
            if let Some(new_group) = self.repeating_group(id, per_est) {
                let old_group = old.repeating_group(id, per_est);
                let (Some(old_group), Value::Array(items)) = (old_group, value) else {
                    m.dropped.push((path, id.clone()));
                    continue;
                };
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let empty = Record::new();
                        let item = item.as_object().unwrap_or(&empty);
                        let mut kept = Record::new();
                        for (fid, v) in item {
                            let at = format!("{path}.{i}.{fid}");
                            match (field_in(new_group, fid), field_in(old_group, fid)) {
                                (Some(n), Some(o)) if carries(n, o, v) => {
                                    kept.insert(fid.clone(), v.clone());
                                    m.carried.push(at);
                                }
                                (_, o) => m.dropped.push((at, label(o, fid))),
                            }
                        }
                        Value::Object(kept)
                    })
                    .collect();
                out.insert(id.clone(), Value::Array(items));
                continue;
            }
            let new_field = self
                .field(id)
                .filter(|(g, _)| g.per_establishment == per_est && g.repeat.is_none());
            let old_field = old
                .field(id)
                .filter(|(g, _)| g.per_establishment == per_est && g.repeat.is_none());
            match (new_field, old_field) {
                (Some((_, n)), Some((_, o))) if carries(n, o, value) => {
                    out.insert(id.clone(), value.clone());
                    m.carried.push(path);
                }
                (_, o) => m.dropped.push((path, label(o.map(|(_, f)| f), id))),
            }
        }
        out
    }
}

fn field_in<'g>(group: &'g Group, id: &str) -> Option<&'g Field> {
    group.fields.iter().find(|f| f.id == id)
}

/// Same kind, not computed, and the answer is still acceptable (for choices:
/// still offered). Blank answers carry trivially.
fn carries(new: &Field, old: &Field, value: &Value) -> bool {
    new.kind == old.kind
        && new.compute.is_none()
        && (super::values::is_blank(Some(value))
            || !new.kind.has_options()
            || check_value(new, value).is_ok())
}

fn label(field: Option<&Field>, id: &str) -> String {
    field.map_or_else(|| id.to_owned(), |f| f.label.clone())
}
