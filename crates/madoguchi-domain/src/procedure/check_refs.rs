//! Load-time checks of the references inside a definition: conditions (which
//! field, which values), registry bindings (scope and value shape) and cycles
//! in group visibility.

use serde_json::Value;

use super::check::{Checker, Seg};
use super::check_exprs::Want;
use super::condition::Condition;
use super::model::{Field, FieldKind};
use crate::registry::{RegistryKey, RegistryScope, RegistryValueKind, value_kind_of};

use Seg::{Index, Key};

impl Checker<'_> {
    /// A prefill/effect key must belong to the group's scope and hold values
    /// of the field's shape.
    pub(super) fn binding(
        &mut self,
        f: &Field,
        key: &RegistryKey,
        what: &str,
        per_est: bool,
        path: Vec<Seg>,
    ) {
        let scope_ok = match key.scope {
            RegistryScope::Corporation => !per_est,
            RegistryScope::Establishment => per_est,
        };
        if !scope_ok {
            let place = if per_est {
                "a per-establishment group"
            } else {
                "a top-level group"
            };
            self.problem(
                path.clone(),
                format!(
                    "{what} `{key}` of field `{}` cannot be used in {place}",
                    f.id
                ),
            );
        }
        let Some(vk) = value_kind_of(key) else { return };
        let compatible = match vk {
            RegistryValueKind::Text => matches!(
                f.kind,
                FieldKind::Text | FieldKind::TextArea | FieldKind::Select
            ),
            RegistryValueKind::Kana => f.kind == FieldKind::Kana,
            RegistryValueKind::Date => f.kind == FieldKind::Date,
            RegistryValueKind::Integer => f.kind == FieldKind::Integer,
            RegistryValueKind::PostalCode => f.kind == FieldKind::PostalCode,
            RegistryValueKind::Phone => f.kind == FieldKind::Phone,
            RegistryValueKind::Email => f.kind == FieldKind::Email,
        };
        if !compatible {
            self.problem(
                path,
                format!(
                    "{what} `{key}` holds {vk:?} values; field `{}` of kind {} cannot hold it",
                    f.id,
                    f.kind.as_str()
                ),
            );
        }
    }

    /// A condition must name an existing top-level field and compare it with
    /// values that field can take.
    pub(super) fn condition(&mut self, c: &Condition, path: Vec<Seg>) {
        let Some(name) = c.field() else {
            if let Condition::Expr(e) = c {
                self.expr(e, None, Want::Bool, path);
            }
            return;
        };
        let Some((group, field)) = self.def.field(name) else {
            self.problem(path, format!("condition refers to unknown field `{name}`"));
            return;
        };
        if group.per_establishment || group.repeat.is_some() {
            self.problem(path, format!("condition refers to `{name}` in {} group `{}`; only top-level fields may be used", if group.per_establishment { "per-establishment" } else { "repeating" }, group.id));
            return;
        }
        let known = |v: &str| field.options.iter().any(|o| o.value == v);
        let listed: Vec<&str> = match c {
            Condition::Includes { value, .. } => vec![value.as_str()],
            Condition::AnyOf { values, .. } => values.iter().map(String::as_str).collect(),
            Condition::Expr(_) => return,
            Condition::Equals { value, .. } => {
                let fits = match (field.kind, value) {
                    (FieldKind::Select, Value::String(s)) => known(s),
                    (FieldKind::MultiSelect, _) => false,
                    (FieldKind::YesNo, Value::Bool(_)) => true,
                    (FieldKind::Integer, Value::Number(n)) => n.is_u64(),
                    (FieldKind::Select | FieldKind::YesNo | FieldKind::Integer, _) => false,
                    (_, v) => v.is_string(),
                };
                if !fits {
                    self.problem(
                        path,
                        format!(
                            "`equals = {value}` cannot match field `{name}` of kind {}{}",
                            field.kind.as_str(),
                            if field.kind == FieldKind::MultiSelect {
                                " (use includes / any_of)"
                            } else {
                                ""
                            }
                        ),
                    );
                }
                return;
            }
        };
        if !field.kind.has_options() {
            self.problem(
                path,
                format!(
                    "includes / any_of need a select or multi_select field; `{name}` is {}",
                    field.kind.as_str()
                ),
            );
            return;
        }
        if listed.is_empty() {
            self.problem(
                path.clone(),
                "any_of must list at least one value".to_owned(),
            );
        }
        for v in listed.into_iter().filter(|v| !known(v)) {
            self.problem(
                path.clone(),
                format!("condition value `{v}` is not an option of field `{name}`"),
            );
        }
    }

    /// Group visibility may depend on fields of other conditional groups, but
    /// never on itself, directly or through others.
    pub(super) fn cycles(&mut self) {
        let groups = &self.def.groups;
        let group_of = |name: &str| {
            groups
                .iter()
                .position(|g| g.id == name && g.repeat.is_some())
                .or_else(|| {
                    groups
                        .iter()
                        .position(|t| t.fields.iter().any(|f| f.id == name))
                })
        };
        let edges: Vec<Vec<usize>> = groups
            .iter()
            .map(|g| {
                g.visible_when
                    .as_ref()
                    .map(|c| c.names().iter().filter_map(|n| group_of(n)).collect())
                    .unwrap_or_default()
            })
            .collect();
        for (start, group) in groups.iter().enumerate() {
            if reaches(&edges, start, start) {
                self.problem(
                    vec![Key("groups"), Index(start), Key("visible_when")],
                    format!("visibility of group `{}` depends on itself", group.id),
                );
            }
        }
    }
}

/// Whether `target` can be reached from `from` in one or more steps.
pub(super) fn reaches(edges: &[Vec<usize>], from: usize, target: usize) -> bool {
    let mut seen = vec![false; edges.len()];
    let mut stack: Vec<usize> = edges[from].clone();
    while let Some(at) = stack.pop() {
        if at == target {
            return true;
        }
        if !std::mem::replace(&mut seen[at], true) {
            stack.extend(edges[at].iter().copied());
        }
    }
    false
}
