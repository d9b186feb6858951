//! Editing one authority's local rules (独自ルール) through forms instead of by typing TOML:
//! the authority admin's screens add a field, a document or a deadline override, or remove
//! one, and each edit rewrites the rule's TOML document. The document is the same format as
//! `procedures/local-rules/<code>/<procedure>.toml` (`docs/procedures.md`), so what an admin
//! publishes is checked by the same loader as the files
//! ([`super::ProcedureCatalog::check_local_rules`]) and can be copied into a file.
//!
//! The editor works on the document as generic TOML, so whatever a file-based rule holds
//! (conditions, groups with descriptions, cross-field rules) survives an edit made through
//! the forms; comments do not.

use toml::{Table, Value};

use super::model::{Choice, FieldKind};

/// The group the admin's fields are added to, one per authority: `x<code>_added`.
pub fn added_group_id(authority: &str) -> String {
    format!("x{authority}_added")
}

/// A field to add.
#[derive(Clone, Debug, PartialEq)]
pub struct NewField {
    /// Unique across the merged definition (`^[a-z][a-z0-9_]*$`); the caller makes it.
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub help: String,
    /// For `select` / `multi_select`.
    pub options: Vec<Choice>,
}

/// A document to add.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAttachment {
    pub id: String,
    pub label: String,
    pub required: bool,
    pub help: String,
}

/// The TOML document of one authority's local rules for one procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalRulesDoc(Table);

impl LocalRulesDoc {
    /// A rule that adds nothing yet.
    pub fn new(authority: &str, procedure: &str, summary: &str) -> Self {
        let mut t = Table::new();
        t.insert("authority".into(), Value::String(authority.into()));
        t.insert("procedure".into(), Value::String(procedure.into()));
        t.insert("summary".into(), Value::String(summary.into()));
        LocalRulesDoc(t)
    }

    /// Reads a document (a file's text or a stored one); the message of a syntax error.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.parse::<Table>()
            .map(LocalRulesDoc)
            .map_err(|e| e.message().trim().to_owned())
    }

    /// The document as TOML text.
    pub fn to_toml(&self) -> String {
        // A `Table` always serialises; keep an empty document rather than panic if not.
        toml::to_string(&self.0).unwrap_or_default()
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    pub fn summary(&self) -> &str {
        self.text("summary").unwrap_or_default()
    }

    pub fn set_summary(&mut self, summary: &str) {
        self.0
            .insert("summary".into(), Value::String(summary.trim().into()));
    }

    /// Sets or (with `None` or blank) removes the authority's own form number.
    pub fn set_form_number(&mut self, number: Option<&str>) {
        match number.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => {
                self.0.insert("form_number".into(), Value::String(n.into()));
            }
            None => {
                self.0.remove("form_number");
            }
        }
    }

    fn array_mut(&mut self, key: &str) -> &mut Vec<Value> {
        let slot = self
            .0
            .entry(key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        match slot {
            Value::Array(items) => items,
            _ => unreachable!("just made an array"),
        }
    }

    /// Adds a field to the authority's own group (created, titled `group_title`, when absent).
    pub fn add_field(&mut self, group_id: &str, group_title: &str, f: &NewField) {
        let mut field = Table::new();
        field.insert("id".into(), Value::String(f.id.clone()));
        field.insert("label".into(), Value::String(f.label.trim().into()));
        field.insert("kind".into(), Value::String(f.kind.as_str().into()));
        if f.required {
            field.insert("required".into(), Value::Boolean(true));
        }
        if !f.help.trim().is_empty() {
            field.insert("help".into(), Value::String(f.help.trim().into()));
        }
        if !f.options.is_empty() {
            let options = f
                .options
                .iter()
                .map(|o| {
                    let mut t = Table::new();
                    t.insert("value".into(), Value::String(o.value.clone()));
                    t.insert("label".into(), Value::String(o.label.clone()));
                    Value::Table(t)
                })
                .collect();
            field.insert("options".into(), Value::Array(options));
        }
        let groups = self.array_mut("groups");
        let existing = groups.iter_mut().find_map(|g| match g {
            Value::Table(t) if t.get("id").and_then(Value::as_str) == Some(group_id) => Some(t),
            _ => None,
        });
        let group = match existing {
            Some(g) => g,
            None => {
                let mut g = Table::new();
                g.insert("id".into(), Value::String(group_id.into()));
                g.insert("title".into(), Value::String(group_title.into()));
                groups.push(Value::Table(g));
                match groups.last_mut() {
                    Some(Value::Table(t)) => t,
                    _ => unreachable!("just pushed a table"),
                }
            }
        };
        let fields = group
            .entry("fields")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = fields {
            items.push(Value::Table(field));
        } else {
            *fields = Value::Array(vec![Value::Table(field)]);
        }
    }

    /// Adds a document requirement.
    pub fn add_attachment(&mut self, a: &NewAttachment) {
        let mut t = Table::new();
        t.insert("id".into(), Value::String(a.id.clone()));
        t.insert("label".into(), Value::String(a.label.trim().into()));
        if a.required {
            t.insert("required".into(), Value::Boolean(true));
        }
        if !a.help.trim().is_empty() {
            t.insert("help".into(), Value::String(a.help.trim().into()));
        }
        self.array_mut("attachments").push(Value::Table(t));
    }

    /// Sets the authority's deadline: `days` days after the date in the top-level date field
    /// `after`, said to people as `label`.
    pub fn set_deadline_after(&mut self, label: &str, after: &str, days: u32) {
        let mut t = Table::new();
        t.insert("label".into(), Value::String(label.trim().into()));
        t.insert("after".into(), Value::String(after.into()));
        t.insert("days".into(), Value::Integer(i64::from(days)));
        self.0.insert("deadline".into(), Value::Table(t));
    }

    /// Removes the authority's deadline; whether there was one.
    pub fn remove_deadline(&mut self) -> bool {
        self.0.remove("deadline").is_some()
    }

    /// Removes the field or document with this id (a group left without fields goes too);
    /// whether one was found.
    pub fn remove_item(&mut self, id: &str) -> bool {
        let is = |v: &Value| v.get("id").and_then(Value::as_str) == Some(id);
        let mut found = false;
        if let Some(Value::Array(groups)) = self.0.get_mut("groups") {
            for g in groups.iter_mut() {
                if let Some(Value::Array(fields)) = g.get_mut("fields") {
                    let before = fields.len();
                    fields.retain(|f| !is(f));
                    found |= fields.len() != before;
                }
            }
            groups.retain(|g| match g.get("fields") {
                Some(Value::Array(fields)) => !fields.is_empty(),
                _ => g.get("rules").is_some(),
            });
            if groups.is_empty() {
                self.0.remove("groups");
            }
        }
        if let Some(Value::Array(attachments)) = self.0.get_mut("attachments") {
            let before = attachments.len();
            attachments.retain(|a| !is(a));
            found |= attachments.len() != before;
            if attachments.is_empty() {
                self.0.remove("attachments");
            }
        }
        found
    }

    /// Every field and document id the document declares.
    pub fn item_ids(&self) -> Vec<String> {
        let ids = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut out: Vec<String> = self
            .0
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|g| ids(g.get("fields")))
            .collect();
        out.extend(ids(self.0.get("attachments")));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::{LocalRules, ProcedureCatalog};

    const DEF: &str = r#"
id = "change-notification"
version = "2026-04"
title = "変更届出書"
form_number = "別紙様式第一号（五）"
kind = "notification"
[targets]
min_establishments = 1
[[groups]]
id = "change"
title = "変更の内容"
[[groups.fields]]
id = "change_date"
label = "変更年月日"
kind = "date"
required = true
[[groups.fields]]
id = "change_items"
label = "変更があった事項"
kind = "multi_select"
options = [{ value = "a", label = "名称" }, { value = "b", label = "建物" }]
"#;

    const FILE: &str = r#"
# a comment the editor drops
authority = "131041"
procedure = "change-notification"
summary = "写真をお願いします。"
form_number = "新宿区様式第5号"

[[groups]]
id = "shinjuku_contact"
title = "届出担当者（新宿区）"
description = "任意です。"

[[groups.fields]]
id = "shinjuku_contact_name"
label = "届出担当者の氏名"
kind = "text"
max_length = 50

[[attachments]]
id = "shinjuku_photos"
label = "事業所の写真"
required_when = { field = "change_items", any_of = ["a", "b"] }
"#;

    const FILE_NAME: &str = "local-rules/131041/change-notification.toml";

    fn catalog() -> ProcedureCatalog {
        ProcedureCatalog::from_sources([("change-notification/2026-04.toml", DEF)]).unwrap()
    }

    fn load(doc: &LocalRulesDoc) -> LocalRules {
        catalog()
            .check_local_rules(FILE_NAME, &doc.to_toml())
            .unwrap_or_else(|e| panic!("{e:?}\n{}", doc.to_toml()))
    }

    fn text_field(id: &str, required: bool) -> NewField {
        NewField {
            id: id.into(),
            label: "担当者のメールアドレス".into(),
            kind: FieldKind::Email,
            required,
            help: " 連絡に使います。 ".into(),
            options: vec![],
        }
    }

    #[test]
    fn a_file_survives_the_round_trip_and_takes_additions() {
        let mut doc = LocalRulesDoc::parse(FILE).unwrap();
        let before = load(&doc);
        assert_eq!(before.groups.len(), 1);
        doc.add_field(
            &added_group_id("131041"),
            "新宿区の追加項目",
            &text_field("x1", true),
        );
        doc.add_field(
            &added_group_id("131041"),
            "新宿区の追加項目",
            &NewField {
                id: "x2".into(),
                label: "区内の拠点".into(),
                kind: FieldKind::Select,
                required: false,
                help: String::new(),
                options: vec![
                    Choice {
                        value: "1".into(),
                        label: "あり".into(),
                    },
                    Choice {
                        value: "2".into(),
                        label: "なし".into(),
                    },
                ],
            },
        );
        doc.add_attachment(&NewAttachment {
            id: "x3".into(),
            label: "区の確認書".into(),
            required: true,
            help: String::new(),
        });
        doc.set_deadline_after("変更後5日以内（新宿区）", "change_date", 5);
        let after = load(&doc);
        // What the file had is still there, conditions included.
        assert_eq!(after.groups[0], before.groups[0]);
        assert_eq!(after.attachments[0], before.attachments[0]);
        assert_eq!(after.form_number.as_deref(), Some("新宿区様式第5号"));
        // The additions, in one group of their own.
        assert_eq!(after.groups.len(), 2);
        let added = &after.groups[1];
        assert_eq!(added.id, "x131041_added");
        assert_eq!(added.title, "新宿区の追加項目");
        assert_eq!(added.fields.len(), 2);
        assert!(added.fields[0].required);
        assert_eq!(added.fields[0].kind, FieldKind::Email);
        assert_eq!(added.fields[0].help, "連絡に使います。");
        assert_eq!(added.fields[1].options.len(), 2);
        assert!(!added.fields[1].required);
        assert_eq!(after.attachments[1].id, "x3");
        assert!(after.attachments[1].required);
        let d = after.deadline.unwrap();
        assert_eq!((d.after.as_deref(), d.days), (Some("change_date"), Some(5)));
        assert_eq!(
            doc.item_ids(),
            ["shinjuku_contact_name", "x1", "x2", "shinjuku_photos", "x3"]
        );
    }

    #[test]
    fn removing_items_drops_emptied_groups_and_the_deadline() {
        let mut doc = LocalRulesDoc::parse(FILE).unwrap();
        doc.set_deadline_after("変更後5日以内", "change_date", 5);
        assert!(doc.remove_item("shinjuku_contact_name"));
        assert!(doc.remove_item("shinjuku_photos"));
        assert!(!doc.remove_item("shinjuku_photos"), "already gone");
        assert!(!doc.remove_item("nothing"));
        assert!(doc.remove_deadline());
        assert!(!doc.remove_deadline());
        doc.set_form_number(Some("  "));
        let rules = load(&doc);
        assert!(rules.groups.is_empty() && rules.attachments.is_empty());
        assert!(rules.is_empty(), "nothing is added any more");
        assert!(doc.item_ids().is_empty());
    }

    #[test]
    fn a_new_document_loads_and_the_loader_refuses_what_does_not_fit() {
        let mut doc = LocalRulesDoc::new("131041", "change-notification", "独自の項目です。");
        assert!(load(&doc).is_empty());
        doc.set_summary("  変更しました。 ");
        assert_eq!(doc.summary(), "変更しました。");
        // A deadline counted from a field that is not a date is the loader's to refuse.
        doc.set_deadline_after("x", "change_items", 3);
        let errs = catalog()
            .check_local_rules(FILE_NAME, &doc.to_toml())
            .unwrap_err();
        assert!(
            errs.iter().any(|e| e.message.contains("must be a date")),
            "{errs:?}"
        );
        doc.remove_deadline();
        // A duplicate id with the standard is refused too.
        doc.add_field("g", "追加", &text_field("change_date", false));
        assert!(
            catalog()
                .check_local_rules(FILE_NAME, &doc.to_toml())
                .is_err()
        );
        // A select without options is refused.
        let mut doc = LocalRulesDoc::new("131041", "change-notification", "s");
        doc.add_field(
            "g",
            "追加",
            &NewField {
                kind: FieldKind::Select,
                ..text_field("x9", false)
            },
        );
        let errs = catalog()
            .check_local_rules(FILE_NAME, &doc.to_toml())
            .unwrap_err();
        assert!(errs.iter().any(|e| e.message.contains("needs options")));
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(LocalRulesDoc::parse("summary = ").is_err());
    }
}
