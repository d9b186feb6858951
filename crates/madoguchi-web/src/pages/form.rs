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

use std::collections::{BTreeMap, BTreeSet, HashSet};

use madoguchi_core::filings::view::{EstablishmentRef, Problem};
use madoguchi_domain::procedure::code_tables::WEEKDAYS;
use madoguchi_domain::procedure::{
    Field, FieldKind, FilingData, Group, ProcedureDefinition, Repeat,
};
use madoguchi_domain::registry::{Record, RegistrySnapshot};
use serde_json::Value;

use super::form_view::{ChoiceView, FieldView};

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

/// Builds answers from posted pairs, starting from `current`. Only fields the form rendered
/// (listed in `_present`) change, so hidden groups keep their answers and an all-unchecked
/// checkbox group is told apart from one that was not on the page. Computed fields are never
/// taken from the post: the server computes them when the answers are saved.
///
/// A repeating group is rebuilt when its path is listed in `_present`: one item per index
/// posted (`<group path>.<index>.<field id>` listed in `_present`), in index order, each
/// starting from the stored item at that index so nothing the form did not show is lost.
/// Blank items at the end are dropped as long as more than `min` remain: the form always
/// shows at least one item (and the one an add button appended), and an untouched blank
/// item should not become an answer that then fails as incomplete; blank items between
/// filled ones are kept, so what the user sees keeps its numbering.
pub fn parse_pairs(
    def: &ProcedureDefinition,
    pairs: &[(String, String)],
    current: &FilingData,
    establishment_ids: &[String],
) -> FilingData {
    let present: HashSet<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "_present")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut posted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in pairs {
        posted.entry(k.as_str()).or_default().push(v.as_str());
    }
    let value_of = |f: &Field, name: &str| {
        let values = posted.get(name).cloned().unwrap_or_default();
        to_value(f.kind, &values)
    };
    let mut data = current.clone();
    for group in &def.groups {
        let targets: Vec<Option<&str>> = if group.per_establishment {
            establishment_ids.iter().map(|e| Some(e.as_str())).collect()
        } else {
            vec![None]
        };
        for est in targets {
            if let Some(repeat) = &group.repeat {
                let path = group_path(group, est);
                if !present.contains(path.as_str()) {
                    continue;
                }
                let stored: Vec<Value> = record(&data, est)
                    .and_then(|r| r.get(&group.id))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut items: Vec<Value> = posted_items(group, &present, &path)
                    .into_iter()
                    .map(|i| {
                        let mut item = stored
                            .get(i)
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default();
                        for f in group.fields.iter().filter(|f| f.compute.is_none()) {
                            let name = format!("{path}.{i}.{}", f.id);
                            if present.contains(name.as_str()) {
                                match value_of(f, &name) {
                                    Some(v) => item.insert(f.id.clone(), v),
                                    None => item.remove(&f.id),
                                };
                            }
                        }
                        Value::Object(item)
                    })
                    .collect();
                while items.len() > repeat.min as usize
                    && items.last().is_some_and(|i| is_blank_item(group, i))
                {
                    items.pop();
                }
                if items.is_empty() {
                    if let Some(r) = record_mut(&mut data, est, false) {
                        r.remove(&group.id);
                    }
                } else if let Some(r) = record_mut(&mut data, est, true) {
                    r.insert(group.id.clone(), Value::Array(items));
                }
                continue;
            }
            for f in group.fields.iter().filter(|f| f.compute.is_none()) {
                let name = input_name(f, est);
                if !present.contains(name.as_str()) {
                    continue;
                }
                let value = value_of(f, &name);
                let Some(r) = record_mut(&mut data, est, value.is_some()) else {
                    continue;
                };
                match value {
                    Some(v) => r.insert(f.id.clone(), v),
                    None => r.remove(&f.id),
                };
            }
        }
    }
    data
}

/// The answers at one level: top level, or one establishment's.
fn record<'a>(data: &'a FilingData, est: Option<&str>) -> Option<&'a Record> {
    match est {
        Some(e) => data.establishments.get(e),
        None => Some(&data.fields),
    }
}

/// The answers at one level, created for an establishment when `create` is set.
fn record_mut<'a>(
    data: &'a mut FilingData,
    est: Option<&str>,
    create: bool,
) -> Option<&'a mut Record> {
    match est {
        Some(e) if create => Some(data.establishments.entry(e.to_owned()).or_default()),
        Some(e) => data.establishments.get_mut(e),
        None => Some(&mut data.fields),
    }
}

/// Indexes of the items of a repeating group the form showed, in order.
fn posted_items(group: &Group, present: &HashSet<&str>, path: &str) -> BTreeSet<usize> {
    let prefix = format!("{path}.");
    present
        .iter()
        .filter_map(|p| p.strip_prefix(&prefix)?.split_once('.'))
        .filter(|(_, id)| group.fields.iter().any(|f| f.id == *id))
        .filter_map(|(i, _)| i.parse().ok())
        .collect()
}

/// No field of the item is answered (computed values do not count).
fn is_blank_item(group: &Group, item: &Value) -> bool {
    group
        .fields
        .iter()
        .filter(|f| f.compute.is_none())
        .all(|f| match item.get(&f.id) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(_) => false,
        })
}

/// What an add or remove button of a repeating group asks for, besides saving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepeatAction {
    /// `_repeat_add=<group path>`: append a blank item.
    Add(String),
    /// `_repeat_remove=<group path>.<index>`: remove that item.
    Remove(String),
}

/// The add/remove button the form was submitted with, if any.
pub fn repeat_action(pairs: &[(String, String)]) -> Option<RepeatAction> {
    pairs.iter().find_map(|(k, v)| match k.as_str() {
        "_repeat_add" => Some(RepeatAction::Add(v.clone())),
        "_repeat_remove" => Some(RepeatAction::Remove(v.clone())),
        _ => None,
    })
}

/// Applies an add/remove button to answers just parsed from the same post. Returns the id to
/// return to (the new item, or the group after a removal); `None` when the path names no
/// repeating group of the filing.
///
/// Adding first brings the list back to the number of items the page showed (blank trailing
/// items were dropped by [`parse_pairs`]), so the user always sees one more item than before;
/// nothing is added at `max`.
pub fn apply_repeat_action(
    def: &ProcedureDefinition,
    data: &mut FilingData,
    action: &RepeatAction,
    pairs: &[(String, String)],
    establishment_ids: &[String],
) -> Option<String> {
    match action {
        RepeatAction::Add(path) => {
            let (group, est) = repeating_group_at(def, path, establishment_ids)?;
            let repeat = group.repeat.as_ref()?;
            let present: HashSet<&str> = pairs
                .iter()
                .filter(|(k, _)| k == "_present")
                .map(|(_, v)| v.as_str())
                .collect();
            let shown = posted_items(group, &present, path).len();
            let r = record_mut(data, est, true)?;
            let items = r
                .entry(group.id.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if items.is_null() {
                *items = Value::Array(Vec::new());
            }
            let items = items.as_array_mut()?;
            let max = repeat.max as usize;
            while items.len() < shown.min(max) {
                items.push(Value::Object(Record::new()));
            }
            if items.len() >= max {
                return Some(FieldView::id_for(path));
            }
            items.push(Value::Object(Record::new()));
            Some(FieldView::id_for(&format!("{path}.{}", items.len() - 1)))
        }
        RepeatAction::Remove(item_path) => {
            let (path, index) = item_path.rsplit_once('.')?;
            let index: usize = index.parse().ok()?;
            let (group, est) = repeating_group_at(def, path, establishment_ids)?;
            let r = record_mut(data, est, false)?;
            let items = r.get_mut(&group.id).and_then(Value::as_array_mut);
            if let Some(items) = items {
                if index < items.len() {
                    items.remove(index);
                }
                if items.is_empty() {
                    r.remove(&group.id);
                }
            }
            Some(FieldView::id_for(path))
        }
    }
}

/// The repeating group a path (`fields.<group id>` or `establishments.<id>.<group id>`)
/// names, with the establishment, when the filing covers it.
fn repeating_group_at<'a, 'b>(
    def: &'a ProcedureDefinition,
    path: &'b str,
    establishment_ids: &[String],
) -> Option<(&'a Group, Option<&'b str>)> {
    let (est, id) = match path.strip_prefix("fields.") {
        Some(id) => (None, id),
        None => {
            let (e, id) = path.strip_prefix("establishments.")?.rsplit_once('.')?;
            establishment_ids.iter().any(|x| x == e).then_some(())?;
            (Some(e), id)
        }
    };
    let group = def
        .groups
        .iter()
        .find(|g| g.id == id && g.repeat.is_some() && g.per_establishment == est.is_some())?;
    Some((group, est))
}

fn to_value(kind: FieldKind, values: &[&str]) -> Option<Value> {
    match kind {
        FieldKind::MultiSelect | FieldKind::Weekdays => {
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
                FieldKind::Number => decimal(v).unwrap_or_else(|| Value::String(v.into())),
                _ => Value::String(v.into()),
            })
        }
    }
}

/// `12`, `25.5` as JSON numbers; anything else (full-width digits, 「約3」) is left as text
/// for the server to tidy or report.
fn decimal(v: &str) -> Option<Value> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (v.contains('.') && frac.is_empty()) {
        return None;
    }
    if frac.is_empty() {
        return whole.parse::<u64>().ok().map(Value::from);
    }
    serde_json::Number::from_f64(v.parse().ok()?).map(Value::Number)
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

/// `3000000` → `3,000,000`; `1234.5` → `1,234.5`.
fn thousands(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (whole, frac) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A value for reading: option labels, はい/いいえ, 和暦 dates, 「月・火・水」, numbers with
/// thousands separators and units, 「09:00〜18:00」.
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
        (FieldKind::Weekdays, Value::Array(items)) => {
            let chosen: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            let mut days: Vec<&str> = WEEKDAYS
                .iter()
                .filter(|(d, _)| chosen.contains(d))
                .map(|(_, l)| *l)
                .collect();
            days.extend(
                chosen
                    .iter()
                    .filter(|c| !WEEKDAYS.iter().any(|(d, _)| d == *c)),
            );
            days.join("・")
        }
        (FieldKind::Select, Value::String(s)) => label_of_option(s),
        (FieldKind::YesNo, Value::Bool(b)) => if *b { "はい" } else { "いいえ" }.into(),
        (FieldKind::Date, Value::String(s)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(madoguchi_domain::wareki::format_date_ja)
            .unwrap_or_else(|_| s.clone()),
        (FieldKind::TimeRange, Value::String(s)) if s.matches('-').count() == 1 => {
            s.replace('-', "〜")
        }
        (_, Value::String(s)) => s.clone(),
        (_, Value::Number(n)) => format!(
            "{}{}",
            thousands(&number_text(n)),
            f.unit.as_deref().unwrap_or_default()
        ),
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

/// The items of a repeating group, for a table: one row per item, one column per field.
pub struct ReviewRepeat {
    /// The group's path (`fields.<group id>` or `establishments.<id>.<group id>`).
    pub path: String,
    pub item_label: String,
    /// The fields' labels, in order (the table's column headers).
    pub columns: Vec<String>,
    pub items: Vec<ReviewItem>,
}

/// One item: 「職種・勤務形態 1」 and a cell per field (`path` = the item field's path).
pub struct ReviewItem {
    pub title: String,
    pub cells: Vec<ReviewRow>,
}

pub struct ReviewSection {
    pub title: String,
    /// The answers of an ordinary group (empty for a repeating group).
    pub rows: Vec<ReviewRow>,
    /// The items of a repeating group.
    pub repeat: Option<ReviewRepeat>,
}

impl ReviewSection {
    /// Every answer of the section as `(path, displayed value)`, items included.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        let cells = self
            .repeat
            .iter()
            .flat_map(|r| r.items.iter())
            .flat_map(|i| i.cells.iter());
        self.rows
            .iter()
            .chain(cells)
            .map(|r| (r.path.as_str(), r.value.as_str()))
    }
}

/// The answers of a version, laid out by visible section for review.
pub fn review(
    def: &ProcedureDefinition,
    data: &FilingData,
    establishments: &[EstablishmentRef],
    registry: &RegistrySnapshot,
) -> Vec<ReviewSection> {
    let mut out = Vec::new();
    let row = |f: &Field, value: Option<&Value>, est: Option<&str>| {
        let key = f.effect.as_ref().or(f.prefill.as_ref());
        let current_raw = key.and_then(|k| registry.get(k, est));
        let current = key.map(|_| display(f, current_raw));
        let changed = key.is_some() && value.is_some() && current_raw != value;
        ReviewRow {
            path: input_name(f, est),
            label: f.label.clone(),
            value: display(f, value),
            current,
            changed,
        }
    };
    for g in def.groups.iter().filter(|g| def.is_group_visible(g, data)) {
        let targets: Vec<Option<&EstablishmentRef>> = if g.per_establishment {
            establishments.iter().map(Some).collect()
        } else {
            vec![None]
        };
        for e in targets {
            let est = e.map(|e| e.id.as_str());
            let rec = record(data, est);
            let title = match e {
                Some(e) => format!("{}（{}）", g.title, e.name),
                None => g.title.clone(),
            };
            let section = match &g.repeat {
                Some(repeat) => ReviewSection {
                    title,
                    rows: Vec::new(),
                    repeat: Some(review_items(g, repeat, rec, est)),
                },
                None => ReviewSection {
                    title,
                    rows: g
                        .fields
                        .iter()
                        .map(|f| row(f, rec.and_then(|r| r.get(&f.id)), est))
                        .collect(),
                    repeat: None,
                },
            };
            out.push(section);
        }
    }
    out
}

fn review_items(
    group: &Group,
    repeat: &Repeat,
    record: Option<&Record>,
    est: Option<&str>,
) -> ReviewRepeat {
    let path = group_path(group, est);
    let stored: &[Value] = match record.and_then(|r| r.get(&group.id)) {
        Some(Value::Array(items)) => items,
        _ => &[],
    };
    let items = stored
        .iter()
        .enumerate()
        .map(|(i, item)| ReviewItem {
            title: format!("{} {}", repeat.item_label, i + 1),
            cells: group
                .fields
                .iter()
                .map(|f| ReviewRow {
                    path: format!("{path}.{i}.{}", f.id),
                    label: f.label.clone(),
                    value: display(f, item.get(&f.id)),
                    current: None,
                    changed: false,
                })
                .collect(),
        })
        .collect();
    ReviewRepeat {
        path,
        item_label: repeat.item_label.clone(),
        columns: group.fields.iter().map(|f| f.label.clone()).collect(),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::Template;
    use serde_json::json;

    fn catalog() -> madoguchi_domain::procedure::ProcedureCatalog {
        madoguchi_core::catalog::embedded_catalog().unwrap()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn est(id: &str) -> EstablishmentRef {
        EstablishmentRef {
            id: id.into(),
            office_number: "1370400010".into(),
            name: "さくら訪問介護".into(),
        }
    }

    /// What a browser without JavaScript posts for the rendered sections: every rendered
    /// control's name with its value (checked boxes only), `_present` markers, nothing for
    /// computed fields.
    fn browser_post(sections: &[SectionView]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let field = |f: &FieldView, out: &mut Vec<(String, String)>| {
            if f.computed {
                return;
            }
            out.push(("_present".into(), f.name.clone()));
            match f.kind.as_str() {
                "multi_select" | "weekdays" => out.extend(
                    f.options
                        .iter()
                        .filter(|o| f.is_selected(o))
                        .map(|o| (f.name.clone(), o.value.clone())),
                ),
                "yes_no" if f.value.is_empty() => {}
                "select" => out.push((
                    f.name.clone(),
                    f.options
                        .iter()
                        .find(|o| f.is_selected(o))
                        .map(|o| o.value.clone())
                        .unwrap_or_default(),
                )),
                _ => out.push((f.name.clone(), f.value.clone())),
            }
        };
        for s in sections {
            for f in &s.fields {
                field(f, &mut out);
            }
            if let Some(r) = &s.repeat {
                out.push(("_present".into(), r.path.clone()));
                for item in &r.items {
                    for f in &item.fields {
                        field(f, &mut out);
                    }
                }
            }
        }
        out
    }

    /// Equal JSON, numbers compared by value (`1` = `1.0`).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }

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
            Some(json!(["a", "b"]))
        );
        assert_eq!(to_value(FieldKind::MultiSelect, &[]), None);
        assert_eq!(to_value(FieldKind::Text, &["  "]), None);
        assert_eq!(to_value(FieldKind::Number, &["25.5"]), Some(json!(25.5)));
        assert_eq!(to_value(FieldKind::Number, &["40"]), Some(json!(40)));
        for typed in ["２５．５", "25.", ".5", "1e3", "約3"] {
            assert_eq!(
                to_value(FieldKind::Number, &[typed]),
                Some(Value::String(typed.into())),
                "{typed} is left for the server to tidy or report"
            );
        }
        assert_eq!(
            to_value(FieldKind::Weekdays, &["mon", "sat", "holiday"]),
            Some(json!(["mon", "sat", "holiday"]))
        );
        assert_eq!(
            to_value(FieldKind::TimeRange, &[" 09:00-18:00 "]),
            Some(json!("09:00-18:00"))
        );
    }

    #[test]
    fn repeating_items_are_rebuilt_from_their_names_in_index_order() {
        let def = catalog().latest("designation-application").unwrap().clone();
        let ids = vec!["e1".to_string()];
        let mut current = FilingData::default();
        current.establishments.insert(
            "e1".into(),
            json!({ "hk_staff": [
                { "hk_job": "sp", "hk_headcount": 2 },
                { "hk_job": "helper", "hk_headcount": 5 },
            ], "hk_fte": 2.5, "hk_business_days": ["mon"] })
            .as_object()
            .unwrap()
            .clone(),
        );
        let p = "establishments.e1.hk_staff";
        let posted = pairs(&[
            ("_present", p),
            // Index 1 comes first in the post; order follows the index, not the post.
            ("_present", &format!("{p}.1.hk_job")),
            ("_present", &format!("{p}.1.hk_headcount")),
            ("_present", &format!("{p}.0.hk_job")),
            ("_present", &format!("{p}.0.hk_headcount")),
            ("_present", &format!("{p}.0.hk_weekly_hours")),
            ("_present", &format!("{p}.2.hk_job")),
            ("_present", &format!("{p}.2.hk_headcount")),
            (&format!("{p}.1.hk_job"), "helper"),
            (&format!("{p}.1.hk_headcount"), "6"),
            (&format!("{p}.0.hk_job"), "sp"),
            (&format!("{p}.0.hk_headcount"), ""),
            (&format!("{p}.0.hk_weekly_hours"), "37.5"),
            // A blank last item beyond `min` is dropped.
            (&format!("{p}.2.hk_job"), ""),
            (&format!("{p}.2.hk_headcount"), ""),
            ("_present", "establishments.e1.hk_business_days"),
            ("establishments.e1.hk_business_days", "tue"),
            ("establishments.e1.hk_business_days", "holiday"),
            // Computed fields are never taken from the post.
            ("_present", "establishments.e1.hk_fte"),
            ("establishments.e1.hk_fte", "99"),
        ]);
        let data = parse_pairs(&def, &posted, &current, &ids);
        let e1 = &data.establishments["e1"];
        assert_eq!(
            e1["hk_staff"],
            json!([
                { "hk_job": "sp", "hk_weekly_hours": 37.5 },
                { "hk_job": "helper", "hk_headcount": 6 },
            ])
        );
        assert_eq!(e1["hk_business_days"], json!(["tue", "holiday"]));
        assert_eq!(e1["hk_fte"], json!(2.5), "kept as stored, not as posted");

        // Without the group's marker the stored items stay as they are.
        let untouched = parse_pairs(&def, &posted[1..], &current, &ids);
        assert_eq!(
            untouched.establishments["e1"]["hk_staff"],
            current.establishments["e1"]["hk_staff"]
        );
        // Every item blank: `min` (1) of them stay, so the page shows what is missing.
        let mut blank = pairs(&[("_present", p)]);
        for i in 0..2 {
            for f in ["hk_job", "hk_headcount"] {
                blank.push(("_present".into(), format!("{p}.{i}.{f}")));
                blank.push((format!("{p}.{i}.{f}"), String::new()));
            }
        }
        let data = parse_pairs(&def, &blank, &current, &ids);
        assert_eq!(data.establishments["e1"]["hk_staff"], json!([{}]));
    }

    #[test]
    fn add_and_remove_buttons_change_the_items() {
        let def = catalog().latest("designation-application").unwrap().clone();
        let ids = vec!["e1".to_string()];
        let p = "establishments.e1.hk_staff";
        let mut posted = pairs(&[
            ("_present", p),
            ("_present", &format!("{p}.0.hk_job")),
            (&format!("{p}.0.hk_job"), "sp"),
            ("_repeat_add", p),
        ]);
        let mut data = parse_pairs(&def, &posted, &FilingData::default(), &ids);
        let action = repeat_action(&posted).unwrap();
        assert_eq!(action, RepeatAction::Add(p.into()));
        let back = apply_repeat_action(&def, &mut data, &action, &posted, &ids);
        assert_eq!(back.as_deref(), Some("f-establishments-e1-hk_staff-1"));
        assert_eq!(
            data.establishments["e1"]["hk_staff"],
            json!([{ "hk_job": "sp" }, {}])
        );

        // Adding again while the new item is still blank gives one more, not the same one.
        posted.extend(pairs(&[
            ("_present", &format!("{p}.1.hk_job")),
            (&format!("{p}.1.hk_job"), ""),
        ]));
        let mut again = parse_pairs(&def, &posted, &data, &ids);
        apply_repeat_action(&def, &mut again, &action, &posted, &ids);
        assert_eq!(
            again.establishments["e1"]["hk_staff"],
            json!([{ "hk_job": "sp" }, {}, {}])
        );

        let remove = RepeatAction::Remove(format!("{p}.0"));
        let back = apply_repeat_action(&def, &mut again, &remove, &[], &ids);
        assert_eq!(back.as_deref(), Some("f-establishments-e1-hk_staff"));
        assert_eq!(again.establishments["e1"]["hk_staff"], json!([{}, {}]));

        // Nothing past `max` (8), and nothing for paths that name no repeating group of
        // a covered establishment.
        let full: Vec<Value> = (0..8).map(|_| json!({ "hk_job": "sp" })).collect();
        data.establishments
            .get_mut("e1")
            .unwrap()
            .insert("hk_staff".into(), Value::Array(full));
        apply_repeat_action(&def, &mut data, &action, &[], &ids);
        assert_eq!(
            data.establishments["e1"]["hk_staff"]
                .as_array()
                .unwrap()
                .len(),
            8
        );
        for path in [
            "establishments.e2.hk_staff",
            "establishments.e1.hk_business_days",
            "fields.hk_staff",
            "establishments.e1",
        ] {
            let before = data.clone();
            let add = RepeatAction::Add(path.into());
            assert_eq!(apply_repeat_action(&def, &mut data, &add, &[], &ids), None);
            assert_eq!(data, before, "{path}");
        }
    }

    #[test]
    fn every_shipped_definition_round_trips_through_the_form() {
        let catalog = catalog();
        let registry = RegistrySnapshot::default();
        let mut checked = 0;
        for latest in catalog.list_latest() {
            for def in catalog.versions(&latest.id) {
                let (ids, ests) = match def.targets.max_establishments {
                    Some(0) => (vec![], vec![]),
                    _ => (vec!["e1".to_string()], vec![est("e1")]),
                };
                let mut data = def.sample_data(&ids);
                // (A definition without per-establishment groups has nothing to post there.)
                data.establishments.retain(|_, r| !r.is_empty());
                let sections = sections(def, &data, &ests, &[], &registry);
                let mut kinds = HashSet::new();
                for s in &sections {
                    let items = s.repeat.iter().flat_map(|r| r.items.iter());
                    for f in s.fields.iter().chain(items.flat_map(|i| i.fields.iter())) {
                        assert!(
                            super::super::form_view::FIELD_KINDS.contains(&f.kind.as_str()),
                            "{}: kind {} has no control",
                            def.id,
                            f.kind
                        );
                        kinds.insert(f.kind.clone());
                    }
                }
                let mut parsed =
                    parse_pairs(def, &browser_post(&sections), &FilingData::default(), &ids);
                def.normalize(&mut parsed);
                let (a, b) = (json!(parsed), json!(data));
                assert!(same(&a, &b), "{} {}:\n{a:#}\n{b:#}", def.id, def.version);
                assert_eq!(def.validate(&parsed, &ids), Vec::new(), "{}", def.id);
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn review_shows_items_days_numbers_and_computed_values() {
        let catalog = catalog();
        let def = catalog.latest("designation-application").unwrap();
        let ids = vec!["e1".to_string()];
        let mut data = def.sample_data(&ids);
        data.fields["service_types"] = json!(["11"]);
        let e1 = data.establishments.get_mut("e1").unwrap();
        e1.insert("hk_business_days".into(), json!(["sat", "mon", "holiday"]));
        e1.insert(
            "hk_staff".into(),
            json!([
                { "hk_job": "sp", "hk_employment": "full_time", "hk_dedication": "dedicated",
                  "hk_headcount": 2, "hk_weekly_hours": 80 },
                { "hk_job": "helper", "hk_employment": "part_time", "hk_dedication": "concurrent",
                  "hk_headcount": 4, "hk_weekly_hours": 62.5 },
            ]),
        );
        def.compute(&mut data);
        let sections = review(def, &data, &[est("e1")], &RegistrySnapshot::default());
        let value = |path: &str| {
            sections
                .iter()
                .flat_map(|s| s.values())
                .find(|(p, _)| *p == path)
                .map(|(_, v)| v.to_owned())
                .unwrap_or_else(|| panic!("{path}"))
        };
        assert_eq!(value("establishments.e1.hk_business_days"), "月・土・祝日");
        assert_eq!(value("establishments.e1.hk_business_hours"), "09:00〜18:00");
        assert_eq!(
            value("establishments.e1.hk_fte"),
            "3.56人",
            "142.5 ÷ 40, cut"
        );
        assert_eq!(
            value("establishments.e1.hk_staff.1.hk_weekly_hours"),
            "62.5時間"
        );
        assert_eq!(
            value("establishments.e1.hk_staff.1.hk_job"),
            "訪問介護員等（サービス提供責任者を除く）"
        );
        let staff = sections
            .iter()
            .find_map(|s| s.repeat.as_ref().filter(|r| r.path.ends_with("hk_staff")))
            .unwrap();
        assert_eq!(staff.items.len(), 2);
        assert_eq!(staff.items[1].title, "職種・勤務形態 2");
        assert_eq!(staff.columns[0], "職種");

        let ehr = catalog.latest("ehr-subsidy").unwrap();
        let mut data = ehr.sample_data(&[]);
        data.fields["institution_kind"] = json!("clinic");
        data.fields["beds"] = json!(0);
        ehr.compute(&mut data);
        let sections = review(ehr, &data, &[], &RegistrySnapshot::default());
        let base = sections
            .iter()
            .flat_map(|s| s.values())
            .find(|(p, _)| *p == "fields.base_amount")
            .unwrap()
            .1
            .to_owned();
        assert_eq!(base, "3,000,000円");
        assert_eq!(thousands("1234567.25"), "1,234,567.25");
        assert_eq!(thousands("999"), "999");
    }

    #[derive(Template)]
    #[template(
        source = r#"{% import "macros/form.html" as form %}{% for s in sections %}{% for f in s.fields %}{{ form::field(f) }}{% endfor %}{% if let Some(r) = s.repeat %}{{ form::repeat(r) }}{% endif %}{% endfor %}"#,
        ext = "html"
    )]
    struct Sections {
        sections: Vec<SectionView>,
    }

    #[test]
    fn repeating_groups_and_computed_fields_render_without_inputs_for_computed() {
        let catalog = catalog();
        let def = catalog.latest("designation-application").unwrap();
        let ids = vec!["e1".to_string()];
        let mut data = def.sample_data(&ids);
        data.fields["service_types"] = json!(["11"]);
        def.compute(&mut data);
        let problems = vec![
            Problem {
                field: "establishments.e1.hk_staff.0.hk_headcount".into(),
                code: "out_of_range".into(),
                message: "人数は1人以上で入力してください。".into(),
            },
            Problem {
                field: "establishments.e1.hk_fte".into(),
                code: "rule".into(),
                message: "常勤換算後の人数は2.5人以上が必要です。".into(),
            },
        ];
        let sections = sections(
            def,
            &data,
            &[est("e1")],
            &problems,
            &RegistrySnapshot::default(),
        );
        let html = Sections { sections }.render().unwrap();
        let p = "establishments.e1.hk_staff";
        assert!(html.contains(&format!(
            "<input type=\"hidden\" name=\"_present\" value=\"{p}\">"
        )));
        assert!(html.contains("<legend class=\"repeat-item__title\">職種・勤務形態 1</legend>"));
        assert!(html.contains(&format!(
            "name=\"_repeat_add\" value=\"{p}\">職種・勤務形態を追加</button>"
        )));
        assert!(
            !html.contains("_repeat_remove"),
            "one item, the minimum: nothing to remove"
        );
        assert!(html.contains(&format!("name=\"{p}.0.hk_headcount\"")));
        assert!(html.contains(
            "id=\"f-establishments-e1-hk_staff-0-hk_headcount\" name=\"establishments.e1.hk_staff.0.hk_headcount\" value=\"3\" inputmode=\"numeric\""
        ));
        assert!(html.contains("id=\"f-establishments-e1-hk_staff-0-hk_headcount-error\""));
        assert!(html.contains("inputmode=\"decimal\""), "number");
        assert!(html.contains("例: 09:00-18:00"), "time range hint");
        assert!(html.contains("choices--days"));
        assert!(html.contains("value=\"holiday\""));
        assert!(html.contains("<span>祝日</span>"));
        // The computed 常勤換算: labelled read-only text with its error, no input.
        assert!(!html.contains("name=\"establishments.e1.hk_fte\""));
        assert!(!html.contains("value=\"establishments.e1.hk_fte\""));
        assert!(html.contains("<label class=\"field__label\" for=\"f-establishments-e1-hk_fte\">"));
        assert!(
            html.contains("<output class=\"computed-value\" id=\"f-establishments-e1-hk_fte\"")
        );
        assert!(html.contains("常勤換算後の人数は2.5人以上が必要です。"));
        assert!(
            html.contains("aria-describedby=\"f-establishments-e1-hk_fte-error f-establishments-e1-hk_fte-help\">"),
            "the unit is part of the computed text, not a separate element"
        );
        assert!(html.contains("自動計算"));
    }
}
