//! Answers laid out for reading: [`display`] of one value (option labels, 和暦, units) and
//! the review sections with the registry's current value beside each answer.

use madoguchi_core::filings::view::EstablishmentRef;
use madoguchi_domain::procedure::code_tables::WEEKDAYS;
use madoguchi_domain::procedure::{
    Field, FieldKind, FilingData, Group, ProcedureDefinition, Repeat,
};
use madoguchi_domain::registry::{Record, RegistrySnapshot};
use serde_json::Value;

use super::*;

/// `3000000` → `3,000,000`; `1234.5` → `1,234.5`.
pub(super) fn thousands(text: &str) -> String {
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
