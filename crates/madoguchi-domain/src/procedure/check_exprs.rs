//! Load-time checks of the CEL parts of a definition: every name an
//! expression uses must be in its scope, and the expression must evaluate,
//! on a sample answer of every declared type, to the type its place needs
//! (true/false for rules and conditions, the field's kind for a computed
//! value). CEL here is dynamically typed, so evaluating on typed samples is
//! how a type error (`beds + "x"`, `name > 3`) is found before any filing
//! meets it. Also: rules, computed-field cycles, constants, repeating groups
//! and deadlines.

use std::collections::BTreeSet;

use serde_json::Value;

use super::check::{Checker, Seg};
use super::check_refs::reaches;
use super::expr::{EvalError, Expr, Vars};
use super::model::{FieldKind, Group, Rule};
use super::rules::shape;
use super::sample::sample_answer;
use super::values::check_value;
use crate::registry::Record;

use Seg::{Index, Key};

/// What an expression must produce.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Want {
    Bool,
    Kind(FieldKind),
}

/// Sample answers of the groups at one level (repeating groups as a list of one item).
fn level_sample<'a>(groups: impl Iterator<Item = &'a Group>) -> Record {
    let mut out = Record::new();
    for g in groups {
        let fields: Record = g
            .fields
            .iter()
            .map(|f| (f.id.clone(), typed_sample(f)))
            .collect();
        if g.repeat.is_some() {
            out.insert(g.id.clone(), Value::Array(vec![Value::Object(fields)]));
        } else {
            out.extend(fields);
        }
    }
    out
}

/// A sample of the field's type (computed fields get one of their kind).
fn typed_sample(f: &super::model::Field) -> Value {
    if f.compute.is_some() {
        let mut plain = f.clone();
        plain.example = None;
        return sample_answer(&plain);
    }
    sample_answer(f)
}

impl Checker<'_> {
    /// Checks one expression written at a place whose scope is the top level
    /// (`group = None`) or the given group.
    pub(super) fn expr(&mut self, e: &Expr, group: Option<&Group>, want: Want, path: Vec<Seg>) {
        let def = self.def;
        let top = level_sample(def.groups.iter().filter(|g| !g.per_establishment));
        let est = match group {
            Some(g) if g.per_establishment => {
                level_sample(def.groups.iter().filter(|g| g.per_establishment))
            }
            _ => Record::new(),
        };
        let item = match group {
            Some(g) if g.repeat.is_some() => level_sample(std::iter::once(&Group {
                repeat: None,
                ..g.clone()
            })),
            _ => Record::new(),
        };
        // The repeating group itself is not a name inside its own items.
        let mut top = top;
        let mut est = est;
        if let Some(g) = group.filter(|g| g.repeat.is_some()) {
            top.remove(&g.id);
            est.remove(&g.id);
        }
        let vars = Vars::new()
            .with(&def.constants)
            .with(&top)
            .with(&est)
            .with(&item);
        let mut unknown = false;
        for name in e.variables() {
            if vars.get(&name).is_none() {
                unknown = true;
                let hint = if def.field(&name).is_some() || def.groups.iter().any(|g| g.id == name)
                {
                    " (it is not in scope here: per-establishment and repeating-group fields are only visible inside their group)"
                } else {
                    ""
                };
                self.problem(
                    path.clone(),
                    format!(
                        "expression `{}` refers to unknown name `{name}`{hint}",
                        e.source()
                    ),
                );
            }
        }
        if unknown {
            return;
        }
        match (e.eval(&vars), want) {
            (Err(EvalError::Type(m)), _) => self.problem(
                path,
                format!("type error in expression `{}`: {m}", e.source()),
            ),
            (Err(other), _) => self.problem(
                path,
                format!(
                    "expression `{}` fails on sample answers: {other}",
                    e.source()
                ),
            ),
            (Ok(Value::Bool(_)), Want::Bool) => {}
            (Ok(v), Want::Bool) => self.problem(
                path,
                format!("expression `{}` must be true or false, not {v}", e.source()),
            ),
            (Ok(v), Want::Kind(kind)) => {
                let ok = match kind {
                    FieldKind::Integer | FieldKind::Number => v.is_number(),
                    FieldKind::YesNo => v.is_boolean(),
                    FieldKind::MultiSelect | FieldKind::Weekdays => false,
                    _ => v.is_string(),
                };
                if !ok {
                    self.problem(
                        path,
                        format!(
                            "expression `{}` gives {v}, which a {} field cannot hold",
                            e.source(),
                            kind.as_str()
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn rules(&mut self, rules: &[Rule], group: Option<&Group>, at: Vec<Seg>) {
        let mut ids = BTreeSet::new();
        for (ri, rule) in rules.iter().enumerate() {
            let rat =
                |k: &'static str| [at.clone(), vec![Key("rules"), Index(ri), Key(k)]].concat();
            if !ids.insert(rule.id.as_str()) {
                self.problem(rat("id"), format!("duplicate rule id `{}`", rule.id));
            }
            if rule.message.trim().is_empty() {
                self.problem(
                    rat("message"),
                    format!("rule `{}` needs a message", rule.id),
                );
            }
            let in_scope = match group {
                Some(g) => g.fields.iter().any(|f| f.id == rule.field),
                None => self
                    .def
                    .field(&rule.field)
                    .is_some_and(|(g, _)| !g.per_establishment && g.repeat.is_none()),
            };
            if !in_scope {
                self.problem(
                    rat("field"),
                    format!(
                        "rule `{}` shows its message at `{}`, which is not a field of {}",
                        rule.id,
                        rule.field,
                        group.map_or("the top level".to_owned(), |g| format!("group `{}`", g.id))
                    ),
                );
            }
            self.expr(&rule.check, group, Want::Bool, rat("check"));
            if let Some(when) = &rule.when {
                self.expr(when, group, Want::Bool, rat("when"));
            }
        }
    }

    /// Repeating groups, computed fields, examples, number attributes and
    /// code tables of one group.
    pub(super) fn group_extras(&mut self, gi: usize) {
        let def = self.def;
        let group = &def.groups[gi];
        let at = |rest: &[Seg]| [&[Key("groups"), Index(gi)], rest].concat();
        if let Some(r) = &group.repeat {
            if r.max == 0 || r.max < r.min {
                self.problem(
                    at(&[Key("repeat")]),
                    format!("repeat of group `{}`: max must be ≥ 1 and ≥ min", group.id),
                );
            }
            if r.item_label.trim().is_empty() {
                self.problem(
                    at(&[Key("repeat")]),
                    "repeat needs an item_label".to_owned(),
                );
            }
            if def.field(&group.id).is_some() {
                self.problem(
                    at(&[Key("id")]),
                    format!("repeating group `{}` has the id of a field", group.id),
                );
            }
        }
        if !group.rules.is_empty() {
            self.rules(&group.rules, Some(group), at(&[]));
        }
        for (fi, f) in group.fields.iter().enumerate() {
            let fat = |k: &'static str| at(&[Key("fields"), Index(fi), Key(k)]);
            if group.repeat.is_some() && (f.prefill.is_some() || f.effect.is_some()) {
                self.problem(
                    fat("prefill"),
                    format!(
                        "field `{}` of a repeating group cannot have prefill or effect",
                        f.id
                    ),
                );
            }
            if (f.min.is_some() || f.max.is_some()) && !f.kind.is_numeric() {
                self.problem(
                    fat("min"),
                    format!("min/max of field `{}` need a number kind", f.id),
                );
            }
            if let (Some(min), Some(max)) = (f.min, f.max)
                && min > max
            {
                self.problem(
                    fat("min"),
                    format!("min of field `{}` is above its max", f.id),
                );
            }
            if f.decimals.is_some() && f.kind != FieldKind::Number {
                self.problem(
                    fat("decimals"),
                    format!("decimals of field `{}` need kind number", f.id),
                );
            }
            if let Some(table) = &f.code_table {
                if !f.kind.has_options() {
                    self.problem(
                        fat("code_table"),
                        format!("code_table of field `{}` needs a select kind", f.id),
                    );
                } else if super::code_tables::options(table).is_none() {
                    self.problem(
                        fat("code_table"),
                        format!(
                            "unknown code table `{table}` (known: {})",
                            super::code_tables::TABLES.join(", ")
                        ),
                    );
                }
            }
            if let Some(e) = &f.compute {
                if f.required || f.required_when.is_some() || f.prefill.is_some() {
                    self.problem(
                        fat("compute"),
                        format!("computed field `{}` cannot be required or prefilled", f.id),
                    );
                }
                if !matches!(
                    f.kind,
                    FieldKind::Integer | FieldKind::Number | FieldKind::YesNo | FieldKind::Text
                ) {
                    self.problem(
                        fat("compute"),
                        format!(
                            "computed field `{}` must be integer, number, yes_no or text",
                            f.id
                        ),
                    );
                } else {
                    self.expr(e, Some(group), Want::Kind(f.kind), fat("compute"));
                }
            }
            if let Some(example) = &f.example {
                let shaped = if f.kind.is_numeric() {
                    shape(f, example.clone()).is_some()
                } else {
                    true
                };
                if let (false, _) | (_, Err(_)) = (shaped, check_value(f, example)) {
                    self.problem(
                        fat("example"),
                        format!(
                            "example of field `{}` is not a valid answer: {example}",
                            f.id
                        ),
                    );
                }
            }
        }
    }

    /// Constants, top-level rules, the deadline and computed-field cycles.
    pub(super) fn definition_extras(&mut self) {
        let def = self.def;
        for (name, value) in &def.constants {
            if def.field(name).is_some() || def.groups.iter().any(|g| &g.id == name) {
                self.problem(
                    vec![Key("constants")],
                    format!("constant `{name}` has the name of a field or group"),
                );
            }
            if !(value.is_number() || value.is_string()) {
                self.problem(
                    vec![Key("constants")],
                    format!("constant `{name}` must be a number or a text"),
                );
            }
        }
        if !def.rules.is_empty() {
            self.rules(&def.rules, None, vec![]);
        }
        if let Some(d) = &def.deadline {
            for p in d.problems(def) {
                self.problem(vec![Key("deadline")], p);
            }
        }
        // Computed fields that use each other must not go round in a circle.
        let computed: Vec<(usize, usize)> = def
            .groups
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| {
                g.fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.compute.is_some())
                    .map(move |(fi, _)| (gi, fi))
            })
            .collect();
        let field_at = |(gi, fi): (usize, usize)| &def.groups[gi].fields[fi];
        let edges: Vec<Vec<usize>> = computed
            .iter()
            .map(|&at| {
                let uses = field_at(at)
                    .compute
                    .as_ref()
                    .map(Expr::variables)
                    .unwrap_or_default();
                computed
                    .iter()
                    .enumerate()
                    .filter(|(_, other)| uses.contains(&field_at(**other).id))
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        for (i, &(gi, fi)) in computed.iter().enumerate() {
            if reaches(&edges, i, i) {
                self.problem(
                    vec![
                        Key("groups"),
                        Index(gi),
                        Key("fields"),
                        Index(fi),
                        Key("compute"),
                    ],
                    format!(
                        "computed field `{}` depends on itself",
                        field_at((gi, fi)).id
                    ),
                );
            }
        }
    }
}
