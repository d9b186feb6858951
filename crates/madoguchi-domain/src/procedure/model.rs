//! The shape of a procedure definition (手続の定義) and of a filing's answers.
//!
//! These types are deserialised straight from the TOML definition files (see
//! `docs/procedures.md`); unknown keys are refused so a typo never silently
//! drops a rule. The same types serialise to JSON for the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::deadline::Deadline;
use super::expr::Expr;
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
    /// Cross-field rules over top-level fields (each must hold).
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Named figures of this version (rates, unit amounts) usable in expressions.
    /// A fiscal year's figures are data: a new year is a new version.
    #[serde(default)]
    pub constants: Record,
    /// When the filing is due (national default; authorities may override).
    #[serde(default)]
    pub deadline: Option<Deadline>,
    /// What the authority's decision does: `receipt` (受理のみ: reports) or
    /// `decision` (審査して受付 / 決定). Informational for the workspace.
    #[serde(default)]
    pub review: Review,
    /// Accepting the filing designates the services applied for (指定申請; needs `[annexes]`).
    #[serde(default)]
    pub designates: Option<Designates>,
    /// Accepting the filing renews the designations of the chosen services (指定更新).
    #[serde(default)]
    pub renews: Option<Renewal>,
    /// A fixed addressee (subsidies, reports to one government) instead of the
    /// authorities that designated the establishments concerned.
    #[serde(default)]
    pub routing: Option<Routing>,
    /// Per-service 付表 from `procedures/annexes/` (see `local_rules`).
    #[serde(default)]
    pub annexes: Option<super::local_rules::AnnexBinding>,
    /// Set on definitions merged with an authority's local rules: the codes of
    /// the authorities whose additions are included (display only).
    #[serde(default, skip_deserializing)]
    pub local_rules_of: Vec<String>,
}

/// `[renews]`: what accepting a renewal does to the designations it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// The top-level select (or multi-select) naming the service(s) renewed; the filing goes
    /// only to the authorities that designated those services.
    pub service_field: String,
    /// 指定の有効期間 (6 years under the Long-Term Care Insurance Act).
    pub years: u32,
}

impl Renewal {
    /// The services the answers name.
    pub fn services(&self, data: &FilingData) -> Vec<String> {
        data.choices(&self.service_field)
    }

    /// The next period of a designation that ends on `valid_until`: from the day after, for
    /// `years` years (ending the day before the anniversary).
    pub fn next_period(
        &self,
        valid_until: chrono::NaiveDate,
    ) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        designation_period(valid_until.succ_opt()?, self.years)
    }
}

/// `[designates]`: accepting a 指定申請 creates the designations applied for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Designates {
    /// The top-level date field the designation starts on (事業開始予定日).
    pub start_field: String,
    /// 指定の有効期間 in years (6).
    pub years: u32,
}

/// A designation period of `years` years starting on `from` (ending the day before the
/// anniversary).
pub fn designation_period(
    from: chrono::NaiveDate,
    years: u32,
) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let until = from
        .checked_add_months(chrono::Months::new(years.checked_mul(12)?))?
        .pred_opt()?;
    Some((from, until))
}

/// `[routing]`: where every filing of the procedure goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// 地方公共団体コード of the authority that receives every filing.
    pub authority: String,
}

/// How an authority handles a filing of this procedure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Reviewed and accepted or returned (届出・申請).
    #[default]
    Decision,
    /// Only received; no approval (事故報告: first report, follow-up report).
    Receipt,
}

/// A cross-field rule: `check` must be true whenever every field it refers to
/// is answered (blank fields are the business of `required`) and `when`, if
/// given, holds. The message is shown at `field`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    /// CEL expression that must evaluate to true.
    pub check: Expr,
    /// Only checked when this CEL expression is true.
    #[serde(default)]
    pub when: Option<Expr>,
    /// The field the message is shown at (in the rule's scope).
    pub field: String,
    /// Japanese message naming the field and what to fix.
    pub message: String,
    /// Answers that break the rule when laid over a valid filing (in the
    /// rule's scope; for a repeating group, over its first item): the test
    /// suite proves with them that every rule can fail.
    #[serde(default)]
    pub fails_with: Record,
}

/// Bounds of a repeating group (協力医療機関, 単位, staff rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    #[serde(default)]
    pub min: u32,
    pub max: u32,
    /// What one item is called (協力医療機関), for 「協力医療機関 2」 and the add button.
    pub item_label: String,
}

/// Where an added item came from: the standard, or an authority's local rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// Authority code of the local rule that added it; `None` = standard form.
    pub authority: Option<String>,
    /// Authority name, for the label shown beside the item.
    pub authority_name: Option<String>,
}

impl Origin {
    pub fn is_standard(&self) -> bool {
        self.authority.is_none()
    }
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
    /// A repeating group: answered as a list of items (see `Repeat`).
    #[serde(default)]
    pub repeat: Option<Repeat>,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Cross-field rules over this group's fields (per item when repeating,
    /// per establishment when `per_establishment`), plus top-level fields.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Standard form or an authority's addition.
    #[serde(default, skip_deserializing)]
    pub origin: Origin,
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
    /// Unit shown after a number input (人, ㎡, 円).
    #[serde(default)]
    pub unit: Option<String>,
    /// Smallest and largest allowed value (integer, number).
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Digits allowed after the decimal point (number; default 2).
    #[serde(default)]
    pub decimals: Option<u32>,
    /// Options taken from a built-in code table (`service_types`, `prefectures`,
    /// `corporation_types`) instead of `options`; filled in when loaded.
    #[serde(default)]
    pub code_table: Option<String>,
    /// Computed value (CEL): the field is read-only and its answer is
    /// recomputed from the other answers whenever the filing is saved.
    #[serde(default)]
    pub compute: Option<Expr>,
    /// A valid answer, used to generate test filings from the definition
    /// (checked against the field's kind when loaded).
    #[serde(default)]
    pub example: Option<serde_json::Value>,
    /// Standard form or an authority's addition.
    #[serde(default, skip_deserializing)]
    pub origin: Origin,
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
    /// Decimal number ≥ 0 with at most `decimals` digits after the point (number).
    Number,
    /// `HH:MM-HH:MM`, e.g. 営業時間 (string).
    TimeRange,
    /// Days of the week (and 祝日): array of `mon` … `sun`, `holiday`.
    Weekdays,
    /// 所在地 starting with the 都道府県 (string).
    Address,
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
            FieldKind::Number => "number",
            FieldKind::TimeRange => "time_range",
            FieldKind::Weekdays => "weekdays",
            FieldKind::Address => "address",
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
            FieldKind::Text | FieldKind::TextArea | FieldKind::Kana | FieldKind::Address
        )
    }

    /// Kinds answered with a number.
    pub fn is_numeric(self) -> bool {
        matches!(self, FieldKind::Integer | FieldKind::Number)
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
    /// Standard form or an authority's addition.
    #[serde(default, skip_deserializing)]
    pub origin: Origin,
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

impl FilingData {
    /// The chosen values of a top-level select (one) or multi-select (several) answer.
    pub fn choices(&self, field: &str) -> Vec<String> {
        match self.fields.get(field) {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
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
