//! What changed between two versions of a filing, field by field: answers changed, given or
//! taken away, and items of repeating groups added or removed. Items are compared by position
//! (the second 協力医療機関 with the second), which is how returns pin them too.
//!
//! A blank answer (absent, `null`, `""` or `[]`) is the same as no answer, so saving an empty
//! form field is not a change.

use serde_json::Value;

use super::model::{Field, FilingData, Group, ProcedureDefinition};
use crate::registry::Record;

/// How an answer changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Answered in both, differently.
    Changed,
    /// Answered only in the later version.
    Added,
    /// Answered only in the earlier version.
    Removed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Changed => "changed",
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One answer that differs.
#[derive(Clone, Debug)]
pub struct FieldChange<'d> {
    /// `fields.<id>`, `establishments.<est>.<id>`, or `….<group>.<index>.<id>` in an item.
    pub path: String,
    pub group: &'d Group,
    pub field: &'d Field,
    pub establishment_id: Option<String>,
    /// The item's position (from 0) when the field is inside a repeating group.
    pub item: Option<usize>,
    pub kind: ChangeKind,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// An item of a repeating group present in only one of the versions.
#[derive(Clone, Debug)]
pub struct ItemChange<'d> {
    /// `….<group>.<index>`.
    pub path: String,
    pub group: &'d Group,
    pub establishment_id: Option<String>,
    pub index: usize,
    /// `Added` or `Removed`.
    pub kind: ChangeKind,
    /// The item's answers (each field of the group, in order).
    pub values: Vec<(&'d Field, Option<Value>)>,
}

#[derive(Clone, Debug, Default)]
pub struct FilingDiff<'d> {
    pub fields: Vec<FieldChange<'d>>,
    pub items: Vec<ItemChange<'d>>,
}

impl FilingDiff<'_> {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.items.is_empty()
    }
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn kind_of(before: Option<&Value>, after: Option<&Value>) -> Option<ChangeKind> {
    match (is_blank(before), is_blank(after)) {
        (true, true) => None,
        (true, false) => Some(ChangeKind::Added),
        (false, true) => Some(ChangeKind::Removed),
        (false, false) => (before != after).then_some(ChangeKind::Changed),
    }
}

fn non_blank(v: Option<&Value>) -> Option<Value> {
    (!is_blank(v)).then(|| v.cloned()).flatten()
}

/// The differences from `before` to `after`, in the definition's order: groups as the form
/// has them, per-establishment groups for each establishment of either version (those of
/// `establishments` first, in its order).
pub fn diff<'d>(
    def: &'d ProcedureDefinition,
    before: &FilingData,
    after: &FilingData,
    establishments: &[String],
) -> FilingDiff<'d> {
    let mut ests: Vec<&str> = establishments.iter().map(String::as_str).collect();
    for e in before
        .establishments
        .keys()
        .chain(after.establishments.keys())
    {
        if !ests.contains(&e.as_str()) {
            ests.push(e);
        }
    }
    let mut out = FilingDiff::default();
    for g in &def.groups {
        let scopes: Vec<Option<&str>> = if g.per_establishment {
            ests.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        for est in scopes {
            let rec = |d: &FilingData| -> Option<Record> {
                match est {
                    Some(e) => d.establishments.get(e).cloned(),
                    None => Some(d.fields.clone()),
                }
            };
            let (b, a) = (rec(before), rec(after));
            let prefix = match est {
                Some(e) => format!("establishments.{e}"),
                None => "fields".to_string(),
            };
            group_diff(&mut out, g, est, &prefix, b.as_ref(), a.as_ref());
        }
    }
    out
}

fn group_diff<'d>(
    out: &mut FilingDiff<'d>,
    g: &'d Group,
    est: Option<&str>,
    prefix: &str,
    before: Option<&Record>,
    after: Option<&Record>,
) {
    let est_id = est.map(str::to_owned);
    if g.repeat.is_none() {
        for f in &g.fields {
            let (b, a) = (
                before.and_then(|r| r.get(&f.id)),
                after.and_then(|r| r.get(&f.id)),
            );
            if let Some(kind) = kind_of(b, a) {
                out.fields.push(FieldChange {
                    path: format!("{prefix}.{}", f.id),
                    group: g,
                    field: f,
                    establishment_id: est_id.clone(),
                    item: None,
                    kind,
                    before: non_blank(b),
                    after: non_blank(a),
                });
            }
        }
        return;
    }
    let items = |r: Option<&Record>| -> Vec<Value> {
        match r.and_then(|r| r.get(&g.id)) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        }
    };
    let (b, a) = (items(before), items(after));
    for i in 0..b.len().max(a.len()) {
        let path = format!("{prefix}.{}.{i}", g.id);
        match (b.get(i), a.get(i)) {
            (Some(bi), Some(ai)) => {
                for f in &g.fields {
                    let (bv, av) = (bi.get(&f.id), ai.get(&f.id));
                    if let Some(kind) = kind_of(bv, av) {
                        out.fields.push(FieldChange {
                            path: format!("{path}.{}", f.id),
                            group: g,
                            field: f,
                            establishment_id: est_id.clone(),
                            item: Some(i),
                            kind,
                            before: non_blank(bv),
                            after: non_blank(av),
                        });
                    }
                }
            }
            (only, None) | (None, only) => {
                let Some(item) = only else { continue };
                out.items.push(ItemChange {
                    path,
                    group: g,
                    establishment_id: est_id.clone(),
                    index: i,
                    kind: if i < b.len() {
                        ChangeKind::Removed
                    } else {
                        ChangeKind::Added
                    },
                    values: g
                        .fields
                        .iter()
                        .map(|f| (f, non_blank(item.get(&f.id))))
                        .collect(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::parse_definition;
    use serde_json::json;

    fn definition() -> ProcedureDefinition {
        parse_definition(
            "procedures/t/2026-04.toml",
            r#"
id = "t"
version = "2026-04"
title = "t"
form_number = "t"
kind = "notification"
[targets]
min_establishments = 0
[[groups]]
id = "rep"
title = "代表者"
[[groups.fields]]
id = "title"
label = "職名"
kind = "text"
[[groups.fields]]
id = "name"
label = "氏名"
kind = "text"
[[groups.fields]]
id = "kana"
label = "フリガナ"
kind = "text"
[[groups]]
id = "doctors"
title = "協力医療機関"
per_establishment = true
[groups.repeat]
max = 5
item_label = "協力医療機関"
[[groups.fields]]
id = "doctor_name"
label = "名称"
kind = "text"
"#,
        )
        .unwrap()
    }

    fn data(v: Value) -> FilingData {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn changed_added_and_removed_answers_are_told_apart() {
        let def = definition();
        let before = data(json!({ "fields": {
            "title": "理事長", "name": "山田　太郎", "kana": ""
        }}));
        let after = data(json!({ "fields": {
            "name": "山田　花子", "kana": "ヤマダ　ハナコ"
        }}));
        let d = diff(&def, &before, &after, &[]);
        let got: Vec<(&str, ChangeKind)> =
            d.fields.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            got,
            [
                ("fields.title", ChangeKind::Removed),
                ("fields.name", ChangeKind::Changed),
                ("fields.kana", ChangeKind::Added),
            ]
        );
        assert_eq!(d.fields[1].before, Some(json!("山田　太郎")));
        assert_eq!(d.fields[1].after, Some(json!("山田　花子")));
        assert_eq!(d.fields[0].after, None);
        assert!(diff(&def, &before, &before, &[]).is_empty());
        // An empty answer saved from a form is no answer.
        let blank = data(json!({ "fields": { "title": "", "name": null } }));
        assert!(diff(&def, &data(json!({})), &blank, &[]).is_empty());
    }

    #[test]
    fn items_of_repeating_groups_are_compared_by_position() {
        let def = definition();
        let before = data(json!({ "establishments": { "e1": { "doctors": [
            { "doctor_name": "さくら病院" }, { "doctor_name": "もみじ診療所" }
        ]}}}));
        let after = data(json!({ "establishments": { "e1": { "doctors": [
            { "doctor_name": "さくら総合病院" }
        ]}}}));
        let d = diff(&def, &before, &after, &["e1".into()]);
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].path, "establishments.e1.doctors.0.doctor_name");
        assert_eq!(d.fields[0].item, Some(0));
        assert_eq!(d.fields[0].establishment_id.as_deref(), Some("e1"));
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].kind, ChangeKind::Removed);
        assert_eq!(d.items[0].path, "establishments.e1.doctors.1");
        assert_eq!(d.items[0].values[0].1, Some(json!("もみじ診療所")));
        // The other way round, the second item is added.
        let d = diff(&def, &after, &before, &["e1".into()]);
        assert_eq!(d.items[0].kind, ChangeKind::Added);
        assert_eq!(d.items[0].index, 1);
    }
}
