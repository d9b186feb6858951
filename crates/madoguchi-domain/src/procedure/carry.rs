//! Reusing answers the provider already gave: carrying answers over from the previous filing
//! of the same procedure for the same establishment (where the registry has no value), and
//! copying a 付表 (annex) from another establishment's filing.
//!
//! Only answers that are valid for the field in this form version are taken, so a filing
//! made with an older form never brings in a value the current form would refuse.

use serde_json::Value;

use super::model::{Field, FilingData, Group, ProcedureDefinition};
use super::values::{check_value, is_blank};
use crate::registry::{Record, RegistrySnapshot};

impl ProcedureDefinition {
    /// Fills blank answers from an earlier filing of this procedure.
    ///
    /// What describes the corporation or the establishment is carried, what describes this
    /// act of filing is not: with `establishment = None`, top-level fields bound to the
    /// registry whose registry value is blank; with `Some(id)`, that establishment's answers
    /// in per-establishment groups that are always shown (conditional groups belong to the
    /// particular change or service being filed), except fields bound to a registry value
    /// the registry has. Computed fields are never carried. Returns the paths filled.
    pub fn carry_from_previous(
        &self,
        data: &mut FilingData,
        registry: &RegistrySnapshot,
        previous: &FilingData,
        establishment: Option<&str>,
    ) -> Vec<String> {
        let mut filled = Vec::new();
        match establishment {
            None => {
                let groups = self
                    .groups
                    .iter()
                    .filter(|g| !g.per_establishment && g.visible_when.is_none());
                for group in groups {
                    if group.repeat.is_some() {
                        continue;
                    }
                    for field in &group.fields {
                        let Some(key) = &field.prefill else { continue };
                        if !is_blank(registry.get(key, None)) {
                            continue;
                        }
                        if take(field, &mut data.fields, previous.fields.get(&field.id)) {
                            filled.push(format!("fields.{}", field.id));
                        }
                    }
                }
            }
            Some(est) => {
                let Some(source) = previous.establishments.get(est) else {
                    return filled;
                };
                let groups = self
                    .groups
                    .iter()
                    .filter(|g| g.per_establishment && g.visible_when.is_none());
                for group in groups {
                    let record = data.establishments.entry(est.to_owned()).or_default();
                    for path in take_group(group, record, source, registry, est, false) {
                        filled.push(format!("establishments.{est}.{path}"));
                    }
                }
                if data.establishments.get(est).is_some_and(|r| r.is_empty()) {
                    data.establishments.remove(est);
                }
            }
        }
        filled
    }

    /// The per-establishment groups of the 付表 of `service` (empty when the definition has
    /// no annexes or none for that service).
    pub fn annex_groups(&self, service: &str) -> Vec<&Group> {
        let Some(binding) = &self.annexes else {
            return Vec::new();
        };
        self.groups
            .iter()
            .filter(|g| {
                g.per_establishment
                    && matches!(&g.visible_when, Some(super::Condition::Includes { field, value })
                        if *field == binding.field && value == service)
            })
            .collect()
    }

    /// The services whose 付表 has answers for `establishment` in `data`.
    pub fn answered_annexes(&self, data: &FilingData, establishment: &str) -> Vec<String> {
        let Some(binding) = &self.annexes else {
            return Vec::new();
        };
        let Some(record) = data.establishments.get(establishment) else {
            return Vec::new();
        };
        let mut services = Vec::new();
        for choice in self
            .field(&binding.field)
            .map(|(_, f)| &f.options[..])
            .unwrap_or_default()
        {
            let answered = self.annex_groups(&choice.value).iter().any(|g| {
                if g.repeat.is_some() {
                    !is_blank(record.get(&g.id))
                } else {
                    g.fields.iter().any(|f| !is_blank(record.get(&f.id)))
                }
            });
            if answered {
                services.push(choice.value.clone());
            }
        }
        services
    }

    /// Copies the 付表 of `service` from `source_est` in `source` into `target_est` in
    /// `target`, replacing what was there, and selects the service if it was not. Fields
    /// bound to a registry value the target establishment has keep that value (they describe
    /// the target, e.g. its 利用定員). Returns the paths written (empty: nothing to copy).
    pub fn copy_annex(
        &self,
        target: &mut FilingData,
        target_est: &str,
        source: &FilingData,
        source_est: &str,
        service: &str,
        registry: &RegistrySnapshot,
    ) -> Vec<String> {
        let Some(binding) = &self.annexes else {
            return Vec::new();
        };
        let Some(from) = source.establishments.get(source_est) else {
            return Vec::new();
        };
        let mut written = Vec::new();
        let record = target
            .establishments
            .entry(target_est.to_owned())
            .or_default();
        for group in self.annex_groups(service) {
            for path in take_group(group, record, from, registry, target_est, true) {
                written.push(format!("establishments.{target_est}.{path}"));
            }
        }
        if written.is_empty() {
            return written;
        }
        let mut chosen = target.choices(&binding.field);
        if !chosen.iter().any(|c| c == service) {
            chosen.push(service.to_owned());
            target.fields.insert(
                binding.field.clone(),
                Value::Array(chosen.into_iter().map(Value::String).collect()),
            );
        }
        written
    }
}

/// Takes one group's answers from `from` into `record`: blank answers only, or every
/// answer (`replace`). Fields bound to a registry value the target has are left alone.
/// Returns the field ids (or the repeating group's id) written.
fn take_group(
    group: &Group,
    record: &mut Record,
    from: &Record,
    registry: &RegistrySnapshot,
    target_est: &str,
    replace: bool,
) -> Vec<String> {
    let mut written = Vec::new();
    if group.repeat.is_some() {
        let Some(Value::Array(items)) = from.get(&group.id) else {
            return written;
        };
        if items.is_empty() || (!replace && !is_blank(record.get(&group.id))) {
            return written;
        }
        let valid = items.iter().all(|item| {
            item.as_object().is_some_and(|item| {
                item.iter().all(|(id, v)| {
                    group
                        .fields
                        .iter()
                        .find(|f| &f.id == id)
                        .is_some_and(|f| is_blank(Some(v)) || check_value(f, v).is_ok())
                })
            })
        });
        if valid {
            record.insert(group.id.clone(), Value::Array(items.clone()));
            written.push(group.id.clone());
        }
        return written;
    }
    for field in &group.fields {
        if field.compute.is_some() {
            continue;
        }
        if let Some(key) = &field.prefill
            && !is_blank(registry.get(key, Some(target_est)))
        {
            continue;
        }
        if replace {
            if let Some(v) = from.get(&field.id).filter(|v| !is_blank(Some(v)))
                && check_value(field, v).is_ok()
            {
                record.insert(field.id.clone(), v.clone());
                written.push(field.id.clone());
            }
        } else if take(field, record, from.get(&field.id)) {
            written.push(field.id.clone());
        }
    }
    written
}

/// Writes a valid, non-blank `source` into a blank answer; true when written.
fn take(field: &Field, record: &mut Record, source: Option<&Value>) -> bool {
    let Some(source) = source.filter(|s| !is_blank(Some(s))) else {
        return false;
    };
    if field.compute.is_some() || !is_blank(record.get(&field.id)) {
        return false;
    }
    if check_value(field, source).is_err() {
        return false;
    }
    record.insert(field.id.clone(), source.clone());
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::procedure::parse_definition;

    fn def() -> ProcedureDefinition {
        parse_definition(
            "t.toml",
            r#"
id = "t"
version = "2026-04"
title = "t"
form_number = "f"
kind = "notification"
[targets]
min_establishments = 1

[[groups]]
id = "head"
title = "法人"
[[groups.fields]]
id = "corp_fax"
label = "FAX"
kind = "phone"
prefill = "corporation.fax"
[[groups.fields]]
id = "change_date"
label = "変更日"
kind = "date"

[[groups]]
id = "est"
title = "事業所"
per_establishment = true
[[groups.fields]]
id = "office_number"
label = "事業所番号"
kind = "office_number"
[[groups.fields]]
id = "capacity"
label = "定員"
kind = "integer"
prefill = "establishment.capacity"
[[groups.fields]]
id = "staff"
label = "職員数"
kind = "integer"

[[groups]]
id = "cond"
title = "条件付き"
per_establishment = true
visible_when = { field = "change_date", equals = "2026-01-01" }
[[groups.fields]]
id = "note"
label = "備考"
kind = "text"
"#,
        )
        .unwrap()
    }

    fn registry(capacity: Option<i64>) -> RegistrySnapshot {
        let mut r = RegistrySnapshot::default();
        let mut e = Record::new();
        if let Some(c) = capacity {
            e.insert("capacity".into(), json!(c));
        }
        r.establishments.insert("e1".into(), e);
        r
    }

    #[test]
    fn carries_establishment_facts_not_the_act() {
        let def = def();
        let previous: FilingData = serde_json::from_value(json!({
            "fields": { "corp_fax": "03-1111-2222", "change_date": "2025-01-01" },
            "establishments": { "e1": {
                "office_number": "1370400010", "capacity": 20, "staff": "not a number",
                "note": "前回だけのこと"
            } }
        }))
        .unwrap();
        let mut data = FilingData::default();
        let reg = registry(Some(30));
        let top = def.carry_from_previous(&mut data, &reg, &previous, None);
        assert_eq!(top, vec!["fields.corp_fax"]);
        assert_eq!(
            data.fields.get("change_date"),
            None,
            "the act is not carried"
        );
        let est = def.carry_from_previous(&mut data, &reg, &previous, Some("e1"));
        assert_eq!(est, vec!["establishments.e1.office_number"]);
        let e1 = &data.establishments["e1"];
        assert_eq!(e1.get("capacity"), None, "the registry has a capacity");
        assert_eq!(e1.get("staff"), None, "invalid answers are not carried");
        assert_eq!(e1.get("note"), None, "conditional groups are not carried");

        // Without a registry value the earlier answer is taken; answers given are kept.
        let mut data = FilingData::default();
        data.establishments
            .entry("e1".into())
            .or_default()
            .insert("office_number".into(), json!("1371300029"));
        let est = def.carry_from_previous(&mut data, &registry(None), &previous, Some("e1"));
        assert_eq!(est, vec!["establishments.e1.capacity"]);
        assert_eq!(data.establishments["e1"]["office_number"], "1371300029");
    }

    #[test]
    fn nothing_to_carry_leaves_no_empty_record() {
        let def = def();
        let mut data = FilingData::default();
        let filled = def.carry_from_previous(
            &mut data,
            &registry(None),
            &FilingData::default(),
            Some("e1"),
        );
        assert!(filled.is_empty());
        assert!(data.establishments.is_empty());
    }

    #[test]
    fn an_annex_is_copied_with_the_targets_own_registry_values() {
        let mut def = parse_definition(
            "a.toml",
            r#"
id = "a"
version = "2026-04"
title = "a"
form_number = "f"
kind = "application"
[targets]
min_establishments = 1
[annexes]
field = "services"
[[groups]]
id = "head"
title = "申請"
[[groups.fields]]
id = "services"
label = "サービス"
kind = "multi_select"
options = [ { value = "15", label = "通所介護" }, { value = "11", label = "訪問介護" } ]
"#,
        )
        .unwrap();
        let annex: crate::procedure::Annex = toml::from_str(
            r#"
service_type = "15"
title = "付表"
[[groups]]
id = "tk"
title = "通所介護"
[[groups.fields]]
id = "tk_area"
label = "実施地域"
kind = "text"
[[groups.fields]]
id = "tk_capacity"
label = "定員"
kind = "integer"
prefill = "establishment.capacity"
[[groups]]
id = "tk_staff"
title = "職員"
repeat = { min = 1, max = 5, item_label = "職員" }
[[groups.fields]]
id = "tk_count"
label = "人数"
kind = "integer"
"#,
        )
        .unwrap();
        def.attach_annexes(&[annex]);
        let source: FilingData = serde_json::from_value(json!({
            "fields": { "services": ["15"] },
            "establishments": { "e2": {
                "tk_area": "新宿区", "tk_capacity": 30, "tk_staff": [{ "tk_count": 3 }]
            } }
        }))
        .unwrap();
        assert_eq!(def.answered_annexes(&source, "e2"), ["15"]);
        assert!(def.answered_annexes(&source, "e1").is_empty());
        let mut target = FilingData::default();
        target
            .establishments
            .entry("e1".into())
            .or_default()
            .insert("tk_area".into(), json!("古い値"));
        let written = def.copy_annex(&mut target, "e1", &source, "e2", "15", &registry(Some(25)));
        assert_eq!(
            written,
            ["establishments.e1.tk_area", "establishments.e1.tk_staff"]
        );
        let e1 = &target.establishments["e1"];
        assert_eq!(e1["tk_area"], "新宿区", "copying replaces");
        assert_eq!(
            e1.get("tk_capacity"),
            None,
            "the target's registry value wins"
        );
        assert_eq!(e1["tk_staff"], json!([{ "tk_count": 3 }]));
        assert_eq!(
            target.fields["services"],
            json!(["15"]),
            "the service is chosen"
        );
        // Nothing to copy for a service without answers, or an unknown service.
        let mut other = FilingData::default();
        assert!(
            def.copy_annex(&mut other, "e1", &source, "e2", "11", &registry(None))
                .is_empty()
        );
        assert!(def.annex_groups("99").is_empty());
    }
}
