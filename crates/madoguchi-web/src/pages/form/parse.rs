//! Posted name/value pairs → answers ([`FilingData`]), and the add and remove buttons of
//! repeating groups.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use madoguchi_domain::procedure::{Field, FieldKind, FilingData, Group, ProcedureDefinition};
use madoguchi_domain::registry::Record;
use serde_json::Value;

use super::*;

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

pub(super) fn to_value(kind: FieldKind, values: &[&str]) -> Option<Value> {
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
