//! The edits an authority admin makes to a local rule through the forms (and the API): each
//! is checked in Japanese, field by field, then applied to the rule's TOML document
//! ([`madoguchi_domain::procedure::local_rules_edit`]); the caller then loads the result with
//! the loader of the files.

use madoguchi_domain::procedure::local_rules_edit::{
    LocalRulesDoc, NewAttachment, NewField, added_group_id,
};
use madoguchi_domain::procedure::{Choice, FieldError, FieldKind};
use serde::Deserialize;
use utoipa::ToSchema;

use super::local_rules::date_fields;
use super::required_text;
use crate::App;

/// The field kinds an admin can choose, with their names in the forms.
pub const FIELD_KINDS: &[(FieldKind, &str)] = &[
    (FieldKind::Text, "文字（1行）"),
    (FieldKind::TextArea, "文章（複数行）"),
    (FieldKind::Kana, "フリガナ"),
    (FieldKind::Date, "日付"),
    (FieldKind::Integer, "整数"),
    (FieldKind::Number, "数値（小数を含む）"),
    (FieldKind::PostalCode, "郵便番号"),
    (FieldKind::Phone, "電話番号"),
    (FieldKind::Email, "メールアドレス"),
    (FieldKind::Address, "所在地"),
    (FieldKind::Select, "選択肢から1つ"),
    (FieldKind::MultiSelect, "選択肢から複数"),
    (FieldKind::YesNo, "はい・いいえ"),
    (FieldKind::TimeRange, "時間帯（09:00-18:00）"),
    (FieldKind::Weekdays, "曜日"),
    (FieldKind::CorporateNumber, "法人番号"),
    (FieldKind::OfficeNumber, "介護保険事業所番号"),
];

/// The name of a kind in the forms.
pub fn kind_label(kind: FieldKind) -> &'static str {
    FIELD_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or("文字")
}

/// One edit of a draft (the forms' and the API's).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LocalRuleEdit {
    /// Adds a field to the authority's own section of the form.
    AddField {
        #[serde(default)]
        label: String,
        /// `text`, `textarea`, `date`, `select`, … (see the admin page).
        #[serde(default)]
        kind: String,
        #[serde(default)]
        required: bool,
        #[serde(default)]
        help: String,
        /// The choices of `select` / `multi_select`, one per item.
        #[serde(default)]
        options: Vec<String>,
    },
    /// Adds a document to attach.
    AddAttachment {
        #[serde(default)]
        label: String,
        #[serde(default)]
        required: bool,
        #[serde(default)]
        help: String,
    },
    /// The authority's own deadline: `days` days after the date in the top-level date field
    /// `after`.
    SetDeadline {
        #[serde(default)]
        after: String,
        #[serde(default)]
        days: i64,
        /// How it is said to providers; default 「（項目名）から（N）日以内（自治体名）」.
        #[serde(default)]
        label: String,
    },
    /// Back to the standard deadline.
    RemoveDeadline,
    /// Removes a field or document by id.
    RemoveItem {
        #[serde(default)]
        id: String,
    },
    /// What the rule is and why (published), and the authority's own form number (blank: the
    /// standard's).
    SetSummary {
        #[serde(default)]
        summary: String,
        #[serde(default)]
        form_number: String,
    },
}

fn field_error(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// A fresh id for an admin's item: `x<code>_<f|a><time in hex>`, made unique in the document.
fn new_item_id(doc: &LocalRulesDoc, code: &str, letter: char, now: i64) -> String {
    let taken = doc.item_ids();
    let mut n = now.max(0);
    loop {
        let id = format!("x{code}_{letter}{n:x}");
        if !taken.contains(&id) {
            return id;
        }
        n += 1;
    }
}

/// Applies one edit to the document (input checks in Japanese, per field).
pub(crate) fn apply(
    app: &App,
    doc: &mut LocalRulesDoc,
    edit: &LocalRuleEdit,
    code: &str,
    authority: &str,
    procedure: &str,
    now: i64,
) -> Result<String, Vec<FieldError>> {
    match edit {
        LocalRuleEdit::AddField {
            label,
            kind,
            required,
            help,
            options,
        } => {
            let mut errors = Vec::new();
            let label = required_text("label", "項目名", label, 100)
                .map_err(|e| errors.push(e))
                .unwrap_or_default();
            let kind = FIELD_KINDS
                .iter()
                .find(|(k, _)| k.as_str() == kind.trim())
                .map(|(k, _)| *k);
            if kind.is_none() {
                errors.push(field_error(
                    "kind",
                    "invalid_choice",
                    "入力の種類を一覧から選んでください。",
                ));
            }
            if help.chars().count() > 500 {
                errors.push(field_error(
                    "help",
                    "too_long",
                    "説明は500文字以内で入力してください。",
                ));
            }
            let mut choices: Vec<Choice> = Vec::new();
            if kind.is_some_and(FieldKind::has_options) {
                for o in options.iter().flat_map(|o| o.lines()) {
                    let o = o.trim();
                    if !o.is_empty() && !choices.iter().any(|c| c.label == o) {
                        choices.push(Choice {
                            value: (choices.len() + 1).to_string(),
                            label: o.to_owned(),
                        });
                    }
                }
                if choices.is_empty() {
                    errors.push(field_error(
                        "options",
                        "required",
                        "選択肢を1行に1つずつ入力してください。",
                    ));
                } else if choices.len() > 50
                    || choices.iter().any(|c| c.label.chars().count() > 100)
                {
                    errors.push(field_error(
                        "options",
                        "too_long",
                        "選択肢は50個まで、1つ100文字以内で入力してください。",
                    ));
                }
            }
            let Some(kind) = kind.filter(|_| errors.is_empty()) else {
                return Err(errors);
            };
            doc.add_field(
                &added_group_id(code),
                &format!("{authority}の追加項目"),
                &NewField {
                    id: new_item_id(doc, code, 'f', now),
                    label: label.clone(),
                    kind,
                    required: *required,
                    help: help.clone(),
                    options: choices,
                },
            );
            Ok(format!("add_field {label}"))
        }
        LocalRuleEdit::AddAttachment {
            label,
            required,
            help,
        } => {
            let label = required_text("label", "書類の名称", label, 100).map_err(|e| vec![e])?;
            if help.chars().count() > 500 {
                return Err(vec![field_error(
                    "help",
                    "too_long",
                    "説明は500文字以内で入力してください。",
                )]);
            }
            doc.add_attachment(&NewAttachment {
                id: new_item_id(doc, code, 'a', now),
                label: label.clone(),
                required: *required,
                help: help.clone(),
            });
            Ok(format!("add_attachment {label}"))
        }
        LocalRuleEdit::SetDeadline { after, days, label } => {
            let fields = date_fields(app, procedure);
            let mut errors = Vec::new();
            let field = fields.iter().find(|f| f.id == after.trim());
            if field.is_none() {
                errors.push(field_error(
                    "after",
                    "invalid_choice",
                    "期限を数える日付の項目を一覧から選んでください。",
                ));
            }
            if !(1..=365).contains(days) {
                errors.push(field_error(
                    "days",
                    "out_of_range",
                    "日数は1から365までの整数で入力してください。",
                ));
            }
            if label.chars().count() > 100 || label.chars().any(char::is_control) {
                errors.push(field_error(
                    "deadline_label",
                    "too_long",
                    "期限の表示は改行を含めず100文字以内で入力してください。",
                ));
            }
            let Some(field) = field.filter(|_| errors.is_empty()) else {
                return Err(errors);
            };
            let label = match label.trim() {
                "" => format!("{}から{days}日以内（{authority}）", field.label),
                l => l.to_owned(),
            };
            doc.set_deadline_after(&label, &field.id, u32::try_from(*days).unwrap_or(1));
            Ok(format!("set_deadline {label}"))
        }
        LocalRuleEdit::RemoveDeadline => {
            if doc.remove_deadline() {
                Ok("remove_deadline".into())
            } else {
                Err(vec![field_error(
                    "deadline",
                    "not_found",
                    "独自の提出期限は設定されていません。",
                )])
            }
        }
        LocalRuleEdit::RemoveItem { id } => {
            if doc.remove_item(id.trim()) {
                Ok(format!("remove_item {}", id.trim()))
            } else {
                Err(vec![field_error(
                    "id",
                    "not_found",
                    "削除する項目が見つかりません。画面を更新してください。",
                )])
            }
        }
        LocalRuleEdit::SetSummary {
            summary,
            form_number,
        } => {
            let mut errors = Vec::new();
            let s = required_text("summary", "ルールの説明", summary, 1000)
                .map_err(|e| errors.push(e))
                .unwrap_or_default();
            let n = form_number.trim();
            if n.chars().count() > 50 || n.chars().any(char::is_control) {
                errors.push(field_error(
                    "form_number",
                    "too_long",
                    "様式番号は改行を含めず50文字以内で入力してください。",
                ));
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            doc.set_summary(&s);
            doc.set_form_number(Some(n));
            Ok("set_summary".into())
        }
    }
}
