//! The bridge between procedure definitions and HTML forms: definition + answers + errors →
//! sections of [`FieldView`]s to render; posted name/value pairs → [`FilingData`]; the add
//! and remove buttons of repeating groups; and the read-only display of answers beside the
//! registry's current values (for review).
//!
//! Names of inputs: `fields.<field id>` (top level), `establishments.<establishment id>.<field
//! id>` (per establishment), and inside the items of a repeating group
//! `<group path>.<index>.<field id>`, where the group path is `fields.<group id>` or
//! `establishments.<establishment id>.<group id>` — the same paths validation reports errors
//! at. Computed fields are shown as text and have no input.

use madoguchi_core::filings::view::{EstablishmentRef, Problem};
use madoguchi_domain::procedure::code_tables::WEEKDAYS;
use madoguchi_domain::procedure::{
    Field, FieldKind, FilingData, Group, ProcedureDefinition, Repeat,
};
use madoguchi_domain::registry::{Record, RegistrySnapshot};
use serde_json::Value;

use super::form_view::{ChoiceView, FieldView};

mod parse;
mod review;
#[cfg(test)]
mod tests;

pub use parse::{RepeatAction, apply_repeat_action, parse_pairs, repeat_action};
pub use review::{ReviewItem, ReviewRepeat, ReviewRow, ReviewSection, display, review};

/// One titled block of the form (a group, or a per-establishment group for one establishment).
pub struct SectionView {
    pub title: String,
    pub description: String,
    /// The questions of an ordinary group (empty for a repeating group).
    pub fields: Vec<FieldView>,
    /// The items of a repeating group.
    pub repeat: Option<RepeatView>,
}

impl SectionView {
    /// Every question of the section, those inside repeating items included.
    pub fn fields_mut(&mut self) -> impl Iterator<Item = &mut FieldView> {
        let items = self
            .repeat
            .iter_mut()
            .flat_map(|r| r.items.iter_mut())
            .flat_map(|i| i.fields.iter_mut());
        self.fields.iter_mut().chain(items)
    }
}

/// A repeating group (staff rows, 協力医療機関) laid out as items with add/remove buttons.
pub struct RepeatView {
    /// `fields.<group id>` or `establishments.<establishment id>.<group id>`: the value of the
    /// add button and of the `_present` marker, and where too few/many items are reported.
    pub path: String,
    /// Id of the block (target of the error summary link for the number of items, and of the
    /// redirect after removing an item).
    pub id: String,
    pub item_label: String,
    pub min: u32,
    pub max: u32,
    pub items: Vec<ItemView>,
    /// Fewer items than `max` are shown.
    pub can_add: bool,
    /// Too few/many items, or not a list.
    pub error: Option<String>,
}

impl RepeatView {
    /// How many items the group takes, in words.
    pub fn limits(&self) -> String {
        let label = &self.item_label;
        match (self.min, self.max) {
            (0, max) => format!("{label}は{max}件まで入力できます。"),
            (min, max) if min == max => format!("{label}を{min}件入力してください。"),
            (min, max) => format!("{label}を{min}件以上、{max}件まで入力してください。"),
        }
    }
}

/// One item of a repeating group: a sub-fieldset titled 「協力医療機関 2」.
pub struct ItemView {
    pub title: String,
    /// Id of the fieldset (the redirect after adding lands on the new item).
    pub id: String,
    /// `<group path>.<index>`: the value of its remove button.
    pub path: String,
    pub fields: Vec<FieldView>,
    /// More items than the minimum are shown, so this one may go.
    pub removable: bool,
    /// The item itself is malformed (not an object).
    pub error: Option<String>,
}

/// The HTML name of a field's input.
pub fn input_name(field: &Field, establishment_id: Option<&str>) -> String {
    match establishment_id {
        Some(e) => format!("establishments.{e}.{}", field.id),
        None => format!("fields.{}", field.id),
    }
}

/// The path of a repeating group's answers (and the prefix of its items' input names).
pub fn group_path(group: &Group, establishment_id: Option<&str>) -> String {
    match establishment_id {
        Some(e) => format!("establishments.{e}.{}", group.id),
        None => format!("fields.{}", group.id),
    }
}

/// The first problem reported at exactly this path.
fn error_at(problems: &[Problem], path: &str) -> Option<String> {
    problems
        .iter()
        .find(|p| p.field == path)
        .map(|p| p.message.clone())
}

/// Sections for the visible groups, with values, errors and prefill-source tags.
pub fn sections(
    def: &ProcedureDefinition,
    data: &FilingData,
    establishments: &[EstablishmentRef],
    problems: &[Problem],
    registry: &RegistrySnapshot,
) -> Vec<SectionView> {
    sections_where(def, data, establishments, problems, registry, |_| true)
}

/// [`sections`] for the groups `keep` selects (a 一括申請 lays out the shared groups and each
/// establishment's groups apart).
pub fn sections_where(
    def: &ProcedureDefinition,
    data: &FilingData,
    establishments: &[EstablishmentRef],
    problems: &[Problem],
    registry: &RegistrySnapshot,
    keep: impl Fn(&Group) -> bool,
) -> Vec<SectionView> {
    let mut out = Vec::new();
    for group in def
        .groups
        .iter()
        .filter(|g| keep(g) && def.is_group_visible(g, data))
    {
        let targets: Vec<Option<&EstablishmentRef>> = if group.per_establishment {
            establishments.iter().map(Some).collect()
        } else {
            vec![None]
        };
        for e in targets {
            let est = e.map(|e| e.id.as_str());
            let record = match est {
                Some(id) => data.establishments.get(id),
                None => Some(&data.fields),
            };
            let title = match e {
                Some(e) => format!("{}（{}）", group.title, e.name),
                None => group.title.clone(),
            };
            let (mut fields, repeat) = match &group.repeat {
                Some(r) => (
                    Vec::new(),
                    Some(repeat_view(group, r, record, est, problems)),
                ),
                None => (
                    group
                        .fields
                        .iter()
                        .map(|f| {
                            let value = record.and_then(|r| r.get(&f.id));
                            let name = input_name(f, est);
                            field_view(f, name, value, est, problems, Some(registry))
                        })
                        .collect(),
                    None,
                ),
            };
            if group.description.contains("自動で計算") {
                fields.iter_mut().for_each(|f| f.explained = true);
            }
            out.push(SectionView {
                title,
                description: group.description.clone(),
                fields,
                repeat,
            });
        }
    }
    out
}

/// Where a problem sits, for the error summary: the title of the repeating item holding
/// the path (「職種・勤務形態 2」), so messages about rows are told apart.
pub fn item_title_for(sections: &[SectionView], path: &str) -> Option<String> {
    sections
        .iter()
        .filter_map(|s| s.repeat.as_ref())
        .flat_map(|r| r.items.iter())
        .find(|i| path == i.path || path.starts_with(&format!("{}.", i.path)))
        .map(|i| i.title.clone())
}

/// The items of a repeating group: every stored item, and at least `max(min, 1)` (blank
/// ones to fill in when fewer are stored).
fn repeat_view(
    group: &Group,
    repeat: &Repeat,
    record: Option<&Record>,
    est: Option<&str>,
    problems: &[Problem],
) -> RepeatView {
    let path = group_path(group, est);
    let stored: &[Value] = match record.and_then(|r| r.get(&group.id)) {
        Some(Value::Array(items)) => items,
        _ => &[],
    };
    let floor = repeat.min.max(1) as usize;
    let shown = stored.len().max(floor);
    let blank = Record::new();
    let items = (0..shown)
        .map(|i| {
            let item = stored.get(i).and_then(Value::as_object).unwrap_or(&blank);
            let item_path = format!("{path}.{i}");
            let fields = group
                .fields
                .iter()
                .map(|f| {
                    let name = format!("{item_path}.{}", f.id);
                    field_view(f, name, item.get(&f.id), est, problems, None)
                })
                .collect();
            ItemView {
                title: format!("{} {}", repeat.item_label, i + 1),
                id: FieldView::id_for(&item_path),
                error: error_at(problems, &item_path),
                path: item_path,
                fields,
                removable: shown > floor,
            }
        })
        .collect();
    RepeatView {
        id: FieldView::id_for(&path),
        error: error_at(problems, &path),
        item_label: repeat.item_label.clone(),
        min: repeat.min,
        max: repeat.max,
        can_add: shown < repeat.max as usize,
        items,
        path,
    }
}

/// One question, ready to render. `registry` is given where prefill applies (not inside
/// repeating items, which have no registry keys).
fn field_view(
    f: &Field,
    name: String,
    value: Option<&Value>,
    est: Option<&str>,
    problems: &[Problem],
    registry: Option<&RegistrySnapshot>,
) -> FieldView {
    let mut v = FieldView::new(name, f.label.clone(), f.kind.as_str());
    v.computed = f.compute.is_some();
    v.required = f.required && !v.computed;
    v.help = f.help.clone();
    v.unit = f.unit.clone();
    v.local_rule = f.origin.authority_name.clone();
    v.error = error_at(problems, &v.name);
    if v.computed {
        v.display = display(f, value);
    }
    match value {
        Some(Value::Array(items)) => {
            v.values = items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        }
        Some(Value::String(s)) => v.value = s.clone(),
        Some(Value::Bool(b)) => v.value = b.to_string(),
        Some(Value::Number(n)) => v.value = number_text(n),
        _ => {}
    }
    let choice = |value: &str, label: &str| ChoiceView {
        value: value.to_owned(),
        label: label.to_owned(),
        checked: v.values.iter().any(|x| x == value) || v.value == value,
    };
    v.options = if f.kind == FieldKind::Weekdays {
        WEEKDAYS.iter().map(|(d, l)| choice(d, l)).collect()
    } else {
        f.options
            .iter()
            .map(|c| choice(&c.value, &c.label))
            .collect()
    };
    if let (Some(key), Some(val), Some(registry)) = (&f.prefill, value, registry)
        && registry.get(key, est).is_some_and(|r| r == val)
    {
        v.prefilled_from = Some("登録情報から".to_string());
    }
    v
}

/// The answers at one level: top level, or one establishment's.
pub(super) fn record<'a>(data: &'a FilingData, est: Option<&str>) -> Option<&'a Record> {
    match est {
        Some(e) => data.establishments.get(e),
        None => Some(&data.fields),
    }
}

/// A number as typed back into an input: no exponent, no trailing `.0`.
fn number_text(n: &serde_json::Number) -> String {
    if let Some(u) = n.as_u64() {
        u.to_string()
    } else if let Some(i) = n.as_i64() {
        i.to_string()
    } else {
        n.as_f64()
            .map(|f| f.to_string())
            .unwrap_or_else(|| n.to_string())
    }
}
