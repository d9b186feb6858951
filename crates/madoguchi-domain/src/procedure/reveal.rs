//! What choosing an option reveals: the groups a top-level select shows for each of its
//! options, and the registry values those groups write. This is how the portal knows, from
//! the 変更届 definition alone, that a new 管理者 is the 「管理者の氏名、生年月日及び住所」
//! item and a new 代表者 the 「代表者…」 item — no list of items is kept in code.

use super::model::{Choice, FilingData, Group, ProcedureDefinition};
use crate::registry::RegistryKey;

/// One option of a select field with the conditional groups it shows.
#[derive(Clone, Debug)]
pub struct Revealed<'a> {
    pub choice: &'a Choice,
    /// Groups with a `visible_when` that holds when only this option is chosen.
    pub groups: Vec<&'a Group>,
}

impl Revealed<'_> {
    /// Registry keys written (on acceptance) by the fields of the revealed groups.
    pub fn effects(&self) -> Vec<&RegistryKey> {
        self.groups
            .iter()
            .flat_map(|g| g.fields.iter())
            .filter_map(|f| f.effect.as_ref())
            .collect()
    }
}

impl ProcedureDefinition {
    /// For each option of the top-level select `field_id`, the conditional groups shown when
    /// that option alone is chosen (empty when the field is not a top-level select).
    pub fn revealed_by(&self, field_id: &str) -> Vec<Revealed<'_>> {
        let Some((group, field)) = self.field(field_id) else {
            return Vec::new();
        };
        if group.per_establishment || !field.kind.has_options() {
            return Vec::new();
        }
        field
            .options
            .iter()
            .map(|choice| {
                let mut data = FilingData::default();
                let answer = match field.kind {
                    super::FieldKind::MultiSelect => {
                        serde_json::Value::Array(vec![choice.value.clone().into()])
                    }
                    _ => choice.value.clone().into(),
                };
                data.fields.insert(field.id.clone(), answer);
                let groups = self
                    .groups
                    .iter()
                    .filter(|g| g.visible_when.is_some() && self.is_group_visible(g, &data))
                    .collect();
                Revealed { choice, groups }
            })
            .collect()
    }

    /// The option of `field_id` whose groups write this registry key, if any.
    pub fn option_writing(&self, field_id: &str, key: &RegistryKey) -> Option<&Choice> {
        self.revealed_by(field_id)
            .into_iter()
            .find(|r| r.effects().contains(&key))
            .map(|r| r.choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::parse_definition;

    #[test]
    fn options_reveal_their_groups_and_effects() {
        let def = parse_definition(
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
id = "change"
title = "変更"
[[groups.fields]]
id = "items"
label = "事項"
kind = "multi_select"
options = [ { value = "manager", label = "管理者" }, { value = "building", label = "建物" } ]
[[groups]]
id = "manager"
title = "管理者"
per_establishment = true
visible_when = { field = "items", includes = "manager" }
[[groups.fields]]
id = "manager_name"
label = "氏名"
kind = "text"
prefill = "establishment.manager_name"
effect = "establishment.manager_name"
"#,
        )
        .unwrap();
        let revealed = def.revealed_by("items");
        assert_eq!(revealed.len(), 2);
        assert_eq!(revealed[0].choice.value, "manager");
        assert_eq!(revealed[0].groups.len(), 1);
        assert!(revealed[1].groups.is_empty(), "建物 reveals nothing");
        let key: RegistryKey = "establishment.manager_name".parse().unwrap();
        assert_eq!(def.option_writing("items", &key).unwrap().label, "管理者");
        let other: RegistryKey = "establishment.phone".parse().unwrap();
        assert!(def.option_writing("items", &other).is_none());
        assert!(def.revealed_by("manager_name").is_empty());
    }
}
