//! View models for form fields rendered from a procedure definition, and the helpers the
//! macros in `templates/macros/form.html` call.
//!
//! A handler turns each field of a definition (plus the draft's value, the registry prefill
//! and any validation error) into a [`FieldView`]; the template calls
//! `{{ form::field(f) }}` for it. All HTML attributes that depend on the kind (input
//! type, `inputmode`, `autocomplete`, width) are decided here so the template stays simple
//! and the choices are unit-tested.
//!
//! Controls carry `aria-required`, not the HTML `required` attribute: a draft must be savable
//! while incomplete, and the server's Japanese messages are the single source of validation.

/// One form field, ready to render.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldView {
    /// The HTML input name, e.g. `fields.manager_name`.
    pub name: String,
    /// A safe HTML id derived from `name` (see [`FieldView::id_for`]); error summary links
    /// point here, and for checkbox/radio groups it is the id of the first option.
    pub id: String,
    pub label: String,
    /// One of [`FIELD_KINDS`]; anything else renders as a plain text input.
    pub kind: String,
    /// Current value (single-valued kinds); dates are ISO `YYYY-MM-DD`; yes/no is
    /// `"true"`/`"false"`.
    pub value: String,
    /// Selected values for `multi_select`.
    pub values: Vec<String>,
    /// Choices for `select` and `multi_select`.
    pub options: Vec<ChoiceView>,
    pub required: bool,
    /// Help text under the label (empty: none).
    pub help: String,
    /// Validation message for this field, in Japanese.
    pub error: Option<String>,
    /// Label of the registry source the value was prefilled from (「登録情報から」, 「前回の届出（到達番号 …）から」 …).
    pub prefilled_from: Option<String>,
    /// Unit shown after the control, e.g. 「人」.
    pub unit: Option<String>,
    /// Name of the authority whose local rules add this field (「新宿区の独自項目」).
    pub local_rule: Option<String>,
    /// New in this form version since the draft was moved to it.
    pub is_new: bool,
    /// Computed by the server from the other answers: shown as read-only text (`display`),
    /// never as an input, and never posted.
    pub computed: bool,
    /// The value as read (units, thousands separators) for computed fields; empty while
    /// the inputs it needs are not all answered.
    pub display: String,
    /// The section already says its values are computed: no note under each one.
    pub explained: bool,
    /// An authority's return pinned this field: the request and the reply box beside it.
    pub pins: Vec<PinView>,
}

/// A pinned item of an open return, shown beside the field (or file) concerned with a box
/// for the reply (回答) the provider may give instead of changing it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PinView {
    pub authority_name: String,
    /// The input's name: `_reply.<return event id>.<pinned path>`.
    pub input_name: String,
    pub input_id: String,
    pub reply: String,
    /// Changed since the returned version.
    pub changed: bool,
    /// Neither changed nor answered yet.
    pub open: bool,
}

impl PinView {
    /// 「修正済み」「回答済み」「未対応」.
    pub fn state_label(&self) -> &'static str {
        if self.changed {
            "修正済み"
        } else if !self.reply.trim().is_empty() {
            "回答済み"
        } else {
            "未対応"
        }
    }
}

/// One choice of a `select` or `multi_select` field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
    /// Selected; alternatively the field's `value` / `values` may name it.
    pub checked: bool,
}

/// One line of the error summary at the top of a form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorSummaryItem {
    /// The `id` of the control to jump to (without `#`).
    pub field_id: String,
    pub message: String,
}

/// The message of the summary line for the control `id`, shown beside that control.
pub fn message_for<'a>(errors: &'a [ErrorSummaryItem], id: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field_id == id)
        .map(|e| e.message.as_str())
}

/// The field kinds the macros know.
pub const FIELD_KINDS: &[&str] = &[
    "text",
    "textarea",
    "kana",
    "date",
    "integer",
    "postal_code",
    "phone",
    "email",
    "select",
    "multi_select",
    "yes_no",
    "corporate_number",
    "office_number",
    "number",
    "time_range",
    "weekdays",
    "address",
];

impl FieldView {
    /// A field with its id derived from `name`; set the remaining public fields directly.
    pub fn new(name: impl Into<String>, label: impl Into<String>, kind: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            id: Self::id_for(&name),
            name,
            label: label.into(),
            kind: kind.into(),
            ..Self::default()
        }
    }

    /// `fields.manager_name` → `f-fields-manager_name`: ASCII letters, digits, `-` and `_`
    /// only (other characters become `-`, non-ASCII become their code point), always
    /// starting with a letter so it is valid in CSS selectors and URL fragments.
    pub fn id_for(name: &str) -> String {
        let mut id = String::from("f-");
        for c in name.chars() {
            match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => id.push(c),
                c if c.is_ascii() => id.push('-'),
                c => id.push_str(&format!("u{:x}", u32::from(c))),
            }
        }
        id
    }

    /// Checkbox/radio groups are rendered as a `<fieldset>` with a `<legend>`.
    pub fn is_grouped(&self) -> bool {
        !self.computed && matches!(self.kind.as_str(), "multi_select" | "yes_no" | "weekdays")
    }

    /// Short checkbox labels (月, 火, …) sit on one line.
    pub fn inline_choices(&self) -> bool {
        self.kind == "weekdays"
    }

    /// A format example shown under the label for kinds with a fixed notation, unless the
    /// help text already gives one.
    pub fn hint(&self) -> Option<&'static str> {
        match self.kind.as_str() {
            "time_range" if !self.help.contains("例") => Some("例: 09:00-18:00"),
            _ => None,
        }
    }

    pub fn hint_id(&self) -> String {
        format!("{}-hint", self.id)
    }

    /// The note under a computed value; left out when the help text already says it.
    pub fn computed_note(&self) -> Option<&'static str> {
        (self.computed && !self.explained && !self.help.contains("自動で計算"))
            .then_some("入力内容から自動で計算します（保存すると計算し直します）。")
    }

    pub fn note_id(&self) -> String {
        format!("{}-note", self.id)
    }

    pub fn help_id(&self) -> String {
        format!("{}-help", self.id)
    }

    pub fn error_id(&self) -> String {
        format!("{}-error", self.id)
    }

    pub fn source_id(&self) -> String {
        format!("{}-source", self.id)
    }

    pub fn unit_id(&self) -> String {
        format!("{}-unit", self.id)
    }

    /// The id of the n-th (0-based) option of a group: the first one is the field's own id,
    /// so error summary links land on it.
    pub fn option_id(&self, index: &usize) -> String {
        match index {
            0 => self.id.clone(),
            n => format!("{}-{}", self.id, n + 1),
        }
    }

    /// Value of `aria-describedby`: error, help, source tag (single controls only; in
    /// groups the tag sits inside the legend) and unit, in reading order.
    pub fn described_by(&self) -> Option<String> {
        let mut ids = Vec::new();
        if self.error.is_some() {
            ids.push(self.error_id());
        }
        if !self.help.is_empty() {
            ids.push(self.help_id());
        }
        if self.hint().is_some() {
            ids.push(self.hint_id());
        }
        if self.computed_note().is_some() {
            ids.push(self.note_id());
        }
        if self.prefilled_from.is_some() && !self.is_grouped() {
            ids.push(self.source_id());
        }
        if self.unit.is_some() && !self.is_grouped() && !self.computed {
            ids.push(self.unit_id());
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    /// Whether a `select`/`multi_select` choice is selected.
    pub fn is_selected(&self, choice: &ChoiceView) -> bool {
        choice.checked
            || (self.kind == "select" && !choice.value.is_empty() && choice.value == self.value)
            || self.values.contains(&choice.value)
    }

    /// `type` of the `<input>` for single-line kinds.
    ///
    /// `integer` and `number` are `type="text"` + `inputmode="numeric"`/`"decimal"`, not
    /// `type="number"`: a number input silently empties a value it cannot parse (「１２人」,
    /// "abc"), so after a validation error the user would no longer see what they typed; it also changes on
    /// scroll and drops leading zeros. The numeric keypad comes from `inputmode`.
    pub fn input_type(&self) -> &'static str {
        match self.kind.as_str() {
            "date" => "date",
            "email" => "email",
            _ => "text",
        }
    }

    /// Virtual keyboard hint. There is no standard value for katakana (the old `kana`
    /// values were dropped from HTML), so `kana` gets none.
    pub fn input_mode(&self) -> Option<&'static str> {
        match self.kind.as_str() {
            "integer" | "postal_code" | "corporate_number" | "office_number" => Some("numeric"),
            "number" => Some("decimal"),
            "phone" => Some("tel"),
            "email" => Some("email"),
            _ => None,
        }
    }

    /// `autocomplete` token; identifiers and names of other people are not autofilled.
    /// `address` gets none: it is mostly someone else's address (協力医療機関, the
    /// establishment), where the user's own `street-address` would be the wrong suggestion.
    pub fn autocomplete(&self) -> Option<&'static str> {
        match self.kind.as_str() {
            "postal_code" => Some("postal-code"),
            "phone" => Some("tel"),
            "email" => Some("email"),
            "kana" | "corporate_number" | "office_number" | "time_range" => Some("off"),
            _ => None,
        }
    }

    /// Codes and kana readings are not words: no spell checking.
    pub fn no_spellcheck(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "kana"
                | "integer"
                | "number"
                | "time_range"
                | "postal_code"
                | "phone"
                | "email"
                | "corporate_number"
                | "office_number"
        )
    }

    /// Width modifier matching the expected length of the answer.
    pub fn width_class(&self) -> &'static str {
        match self.kind.as_str() {
            "integer" | "number" => "input--xs",
            "postal_code" | "time_range" => "input--s",
            "date" | "phone" | "corporate_number" | "office_number" => "input--m",
            _ => "input--l",
        }
    }
}

/// The error summary lines for every field that has an error, in form order.
pub fn error_summary(fields: &[FieldView]) -> Vec<ErrorSummaryItem> {
    fields
        .iter()
        .filter_map(|f| {
            f.error.as_ref().map(|message| ErrorSummaryItem {
                field_id: f.id.clone(),
                message: message.clone(),
            })
        })
        .collect()
}

/// Japanese label of a case/filing status as used by the API (`draft`, `submitted`, …).
pub fn status_label(status: &str) -> &str {
    match status {
        "draft" => "作成中",
        "submitted" => "提出済",
        "returned" => "差戻し",
        "accepted" => "受付完了",
        "withdrawn" => "取下げ",
        other => other,
    }
}

/// Badge modifier class for a status (`status status--…` in `app.css`).
pub fn status_class(status: &str) -> &'static str {
    match status {
        "draft" => "status--draft",
        "submitted" => "status--submitted",
        "returned" => "status--returned",
        "accepted" => "status--accepted",
        "withdrawn" => "status--withdrawn",
        _ => "status--unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::Template;

    /// Renders each macro once so the templates are compiled and checked.
    #[derive(Template)]
    #[template(
        source = r#"{% import "macros/form.html" as form %}{% import "macros/ui.html" as ui %}
{{- form::error_summary(items) }}
{%- for f in fields %}{{ form::field(f) }}{% endfor %}
{%- for s in statuses %}{{ form::status_badge(s) }}{% endfor %}
<dl class="summary-list">{{ ui::summary_row("管理者", "山田") }}{{ ui::summary_row("定員", "") }}</dl>
{{- ui::post_button("/cases/1/accept", "受け付ける", "tok", "button--danger") }}
{{- ui::source_tag("登録情報") }}
{%- call ui::table_wrap("申請一覧") %}<table class="table"></table>{% endcall %}"#,
        ext = "html"
    )]
    struct Sample {
        items: Vec<ErrorSummaryItem>,
        fields: Vec<FieldView>,
        statuses: Vec<&'static str>,
    }

    fn choices(pairs: &[(&str, &str)]) -> Vec<ChoiceView> {
        pairs
            .iter()
            .map(|(value, label)| ChoiceView {
                value: (*value).into(),
                label: (*label).into(),
                checked: false,
            })
            .collect()
    }

    fn all_kinds() -> Vec<FieldView> {
        FIELD_KINDS
            .iter()
            .map(|kind| {
                let mut f = FieldView::new(format!("fields.{kind}"), format!("項目 {kind}"), *kind);
                f.options = choices(&[("a", "選択肢A"), ("b", "選択肢B"), ("c", "選択肢C")]);
                f
            })
            .collect()
    }

    fn render(fields: Vec<FieldView>) -> String {
        let sample = Sample {
            items: error_summary(&fields),
            fields,
            statuses: vec![
                "draft",
                "submitted",
                "returned",
                "accepted",
                "withdrawn",
                "odd<",
            ],
        };
        sample.render().unwrap()
    }

    #[test]
    fn ids_are_safe_and_unique_enough() {
        assert_eq!(
            FieldView::id_for("fields.manager_name"),
            "f-fields-manager_name"
        );
        assert_eq!(FieldView::id_for("a b\"<>"), "f-a-b---");
        assert_eq!(FieldView::id_for("氏名"), "f-u6c0fu540d");
    }

    #[test]
    fn every_kind_renders_its_control_with_a_label() {
        let html = render(all_kinds());
        for kind in FIELD_KINDS {
            assert!(html.contains(&format!("項目 {kind}")), "label of {kind}");
            assert!(
                html.contains(&format!("id=\"f-fields-{kind}\"")),
                "id of {kind}"
            );
        }
        for (kind, needle) in [
            ("text", "type=\"text\" id=\"f-fields-text\""),
            ("kana", "type=\"text\" id=\"f-fields-kana\""),
            ("date", "type=\"date\" id=\"f-fields-date\""),
            (
                "integer",
                "type=\"text\" id=\"f-fields-integer\" name=\"fields.integer\" value=\"\" inputmode=\"numeric\"",
            ),
            ("email", "type=\"email\" id=\"f-fields-email\""),
            (
                "textarea",
                "<textarea class=\"textarea\" id=\"f-fields-textarea\"",
            ),
            ("select", "<select class=\"select\" id=\"f-fields-select\""),
            (
                "postal",
                "inputmode=\"numeric\" autocomplete=\"postal-code\"",
            ),
            ("phone", "inputmode=\"tel\" autocomplete=\"tel\""),
            (
                "number",
                "id=\"f-fields-number\" name=\"fields.number\" value=\"\" inputmode=\"decimal\"",
            ),
            (
                "time_range",
                "name=\"fields.time_range\" value=\"\" autocomplete=\"off\" spellcheck=\"false\" aria-describedby=\"f-fields-time_range-hint\"",
            ),
            (
                "time_range hint",
                "id=\"f-fields-time_range-hint\">例: 09:00-18:00</p>",
            ),
            (
                "weekdays",
                "<div class=\"choices choices--inline choices--days\">",
            ),
            ("address", "type=\"text\" id=\"f-fields-address\""),
            ("multi", "type=\"checkbox\" id=\"f-fields-multi_select-3\""),
            ("yes_no", "role=\"radiogroup\""),
            ("yes", "value=\"true\"><span>はい</span>"),
            ("no", "value=\"false\"><span>いいえ</span>"),
        ] {
            assert!(html.contains(needle), "{kind}: {needle}\n{html}");
        }
        assert!(html.contains("<label class=\"field__label\" for=\"f-fields-text\">"));
        assert!(html.contains("<legend class=\"field__legend\">"));
        assert!(html.contains("<option value=\"\">選択してください</option>"));
        assert!(!html.contains("error-summary"), "no errors, no summary");
        assert!(
            !html.contains(" required"),
            "no browser validation: drafts save incomplete"
        );
    }

    #[test]
    fn errors_help_units_and_sources_are_wired_for_assistive_tech() {
        let mut f = FieldView::new("fields.capacity", "利用定員", "integer");
        f.required = true;
        f.help = "登録している定員を入力してください。".into();
        f.error = Some("利用定員を入力してください。".into());
        f.unit = Some("人".into());
        f.prefilled_from = Some("登録情報から".into());
        let html = render(vec![f]);
        assert!(html.contains("<span class=\"tag tag--required\">必須</span>"));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("aria-required=\"true\""));
        assert!(html.contains(
            "aria-describedby=\"f-fields-capacity-error f-fields-capacity-help \
             f-fields-capacity-source f-fields-capacity-unit\""
        ));
        assert!(html.contains("id=\"f-fields-capacity-error\""));
        assert!(html.contains("id=\"f-fields-capacity-help\""));
        assert!(
            html.contains("<span class=\"field__unit\" id=\"f-fields-capacity-unit\">人</span>")
        );
        assert!(html.contains("入力元：</span>登録情報から"));
        assert!(html.contains("class=\"field field--error\""));
        assert!(html.contains("role=\"alert\" tabindex=\"-1\""));
        assert!(html.contains("入力内容を確認してください"));
        assert!(html.contains("<a href=\"#f-fields-capacity\">利用定員を入力してください。</a>"));
    }

    #[test]
    fn values_and_selections_are_kept_and_escaped() {
        let mut text = FieldView::new("fields.name", "名称<b>", "text");
        text.value = "<script>alert(1)</script>\" onfocus=\"x".into();
        let mut area = FieldView::new("fields.note", "備考", "textarea");
        area.value = "</textarea><script>x</script>".into();
        let mut select = FieldView::new("fields.kind", "種類", "select");
        select.options = choices(&[("a", "A"), ("b", "B<i>")]);
        select.value = "b".into();
        let mut multi = FieldView::new("fields.services", "サービス", "multi_select");
        multi.options = choices(&[("11", "訪問介護"), ("15", "通所介護")]);
        multi.values = vec!["15".into()];
        multi.error = Some("選んでください。".into());
        let mut yes_no = FieldView::new("fields.ok", "同意", "yes_no");
        yes_no.value = "false".into();
        let html = render(vec![text, area, select, multi, yes_no]);

        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>") && !html.contains("<i>"));
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#34; onfocus=&#34;x"));
        assert!(html.contains("<option value=\"b\" selected>B&#60;i&#62;</option>"));
        assert!(html.contains("<option value=\"a\">A</option>"));
        assert!(html.contains("value=\"15\" checked aria-invalid=\"true\"><span>通所介護</span>"));
        assert!(html.contains("value=\"11\" aria-invalid=\"true\"><span>訪問介護</span>"));
        assert!(html.contains("value=\"false\" checked><span>いいえ</span>"));
        assert!(html.contains("value=\"true\"><span>はい</span>"));
        // The group's error summary link targets the first checkbox.
        assert!(html.contains("<a href=\"#f-fields-services\">"));
        assert!(html.contains("type=\"checkbox\" id=\"f-fields-services\""));
    }

    #[test]
    fn status_badges_have_japanese_text_and_a_class() {
        let html = render(Vec::new());
        for (class, label) in [
            ("status--draft", "作成中"),
            ("status--submitted", "提出済"),
            ("status--returned", "差戻し"),
            ("status--accepted", "受付完了"),
            ("status--withdrawn", "取下げ"),
            ("status--unknown", "odd&#60;"),
        ] {
            assert!(
                html.contains(&format!("<span class=\"status {class}\">{label}</span>")),
                "{label}"
            );
        }
    }

    #[test]
    fn ui_macros_render() {
        let html = render(Vec::new());
        assert!(html.contains("<dt>管理者</dt>\n  <dd>山田</dd>"));
        assert!(html.contains("（未入力）"));
        assert!(html.contains("action=\"/cases/1/accept\""));
        assert!(html.contains("class=\"button button--danger\">受け付ける</button>"));
        assert!(html.contains("role=\"region\" aria-label=\"申請一覧\" tabindex=\"0\"><table"));
    }
}
