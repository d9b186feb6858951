//! The shape of a procedure definition (手続の定義) and of a filing's answers.
//!
//! These types are deserialised straight from the TOML definition files (see
//! `docs/procedures.md`); unknown keys are refused so a typo never silently
//! drops a rule. The same types serialise to JSON for the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use crate::registry::{Record, RegistryKey};

/// One version of one procedure type, e.g. 変更届出書 as of 2026-04.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureDefinition {
    /// Stable procedure type key (`change-notification`); filings and local
    /// rules refer to it, so it never changes once published.
    pub id: String,
    /// Form version `YYYY-MM` (or `YYYY-MM-DD`); versions of one id sort as text.
    pub version: String,
    /// Form title shown to users (変更届出書).
    pub title: String,
    /// MHLW standard form number (別紙様式第一号（五）); authorities may renumber.
    pub form_number: String,
    pub kind: ProcedureKind,
    #[serde(default)]
    pub summary: String,
    pub targets: Targets,
    #[serde(default)]
    pub fanout: Fanout,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub attachments: Vec<AttachmentRequirement>,
}

/// What the authority does with a filing of this procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcedureKind {
    /// 申請: asks for a decision (指定, 更新, 許可, 補助金).
    Application,
    /// 届出: informs the authority (変更, 廃止・休止, 再開).
    Notification,
    /// 報告: reports a fact (事故報告).
    Report,
}

/// How many of the corporation's establishments one filing covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// At least this many (0 for corporation-level procedures).
    pub min_establishments: u32,
    /// At most this many; `None` = no limit.
    #[serde(default)]
    pub max_establishments: Option<u32>,
}

/// When a filing concerns every establishment of the corporation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fanout {
    /// When this holds (e.g. 代表者 or 主たる事務所 changed) the filing covers all
    /// establishments, hence every authority that designated one of them.
    #[serde(default)]
    pub corporation_wide_when: Option<Condition>,
}

/// A block of the form. A `per_establishment` group is a 付表-like block
/// answered once per covered establishment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub per_establishment: bool,
    /// Shown (and validated, and applied) only when this holds.
    #[serde(default)]
    pub visible_when: Option<Condition>,
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// One question of the form. Field ids are unique across the whole definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub id: String,
    /// Japanese label; validation messages name the field by it.
    pub label: String,
    pub kind: FieldKind,
    /// Must be answered whenever its group is visible.
    #[serde(default)]
    pub required: bool,
    /// Must be answered when this holds (and the group is visible).
    #[serde(default)]
    pub required_when: Option<Condition>,
    #[serde(default)]
    pub help: String,
    /// Choices of `select` / `multi_select` fields.
    #[serde(default)]
    pub options: Vec<Choice>,
    /// Maximum length in characters (text kinds only).
    #[serde(default)]
    pub max_length: Option<u32>,
    /// Registry value that prefills this field in a new filing.
    #[serde(default)]
    pub prefill: Option<RegistryKey>,
    /// Registry value this answer replaces once the filing is accepted.
    #[serde(default)]
    pub effect: Option<RegistryKey>,
    /// Unit shown after an integer input (人, ㎡).
    #[serde(default)]
    pub unit: Option<String>,
}

/// One choice of a select field: stored `value`, displayed `label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The type of a field, which fixes the JSON shape of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text (string).
    Text,
    /// Several lines of text (string).
    #[serde(rename = "textarea")]
    TextArea,
    /// フリガナ, full-width katakana (string).
    Kana,
    /// `YYYY-MM-DD` (string).
    Date,
    /// Whole number ≥ 0 (number).
    Integer,
    /// `123-4567` or `1234567` (string).
    PostalCode,
    /// Digits and hyphens, 10–11 digits (string).
    Phone,
    /// E-mail address (string).
    Email,
    /// One of `options` (string).
    Select,
    /// Several of `options` (array of strings).
    MultiSelect,
    /// はい/いいえ (bool).
    YesNo,
    /// 法人番号, 13 digits with check digit (string).
    CorporateNumber,
    /// 介護保険事業所番号, 10 characters with check digit (string).
    OfficeNumber,
}

impl FieldKind {
    /// The name used in definition files.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::TextArea => "textarea",
            FieldKind::Kana => "kana",
            FieldKind::Date => "date",
            FieldKind::Integer => "integer",
            FieldKind::PostalCode => "postal_code",
            FieldKind::Phone => "phone",
            FieldKind::Email => "email",
            FieldKind::Select => "select",
            FieldKind::MultiSelect => "multi_select",
            FieldKind::YesNo => "yes_no",
            FieldKind::CorporateNumber => "corporate_number",
            FieldKind::OfficeNumber => "office_number",
        }
    }

    /// Kinds answered by choosing among `options`.
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::MultiSelect)
    }

    /// Kinds answered with free text, where `max_length` applies.
    pub fn is_free_text(self) -> bool {
        matches!(
            self,
            FieldKind::Text | FieldKind::TextArea | FieldKind::Kana
        )
    }
}

/// A document the filing must (or may) carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequirement {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub required_when: Option<Condition>,
}

/// The answers of a filing, stored as-is and sent by the API:
/// `{ "fields": { "<field id>": <value> }, "establishments": { "<establishment id>": { "<field id>": <value> } } }`.
///
/// Values: text kinds → string; integer → number; yes_no → bool;
/// multi_select → array of strings; date → `"YYYY-MM-DD"`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FilingData {
    /// Answers to fields of top-level groups.
    #[serde(default)]
    pub fields: Record,
    /// Answers to fields of per-establishment groups, by establishment id.
    #[serde(default)]
    pub establishments: BTreeMap<String, Record>,
}

/// One problem with a filing's answers or attachments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `fields.<id>`, `establishments.<establishment id>.<id>`, `attachments.<id>`
    /// or `establishments` (for the number of covered establishments).
    pub field: String,
    /// Machine code: `required`, `invalid_format`, `too_long`, `out_of_range`,
    /// `unknown_option`, `unknown_field`, `check_digit`, `too_few_establishments`,
    /// `too_many_establishments`.
    pub code: String,
    /// Japanese, names the field by its label and says what to fix.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: String, code: &str, message: String) -> Self {
        FieldError {
            field,
            code: code.to_owned(),
            message,
        }
    }
}
