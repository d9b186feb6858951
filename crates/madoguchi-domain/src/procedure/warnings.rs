//! Notices that do not stop a filing: characters a Shift_JIS (CP932) ledger cannot take or
//! may refuse (the authority re-keys or rejects them otherwise), and 事業所番号 whose letter
//! at position 3 makes the check digit uncertain. Shown beside the field; never blocking.

use serde_json::Value;

use super::model::{Field, FieldError, FieldKind, FilingData, Group, ProcedureDefinition};
use crate::cp932::{self, CharClass};
use crate::ids::OfficeNumber;
use crate::registry::Record;

impl ProcedureDefinition {
    /// Warnings for the answers of visible groups, in form order.
    pub fn warnings(&self, data: &FilingData) -> Vec<FieldError> {
        let mut out = Vec::new();
        for group in self
            .groups
            .iter()
            .filter(|g| self.is_group_visible(g, data))
        {
            if group.per_establishment {
                for (est, record) in &data.establishments {
                    let prefix = format!("establishments.{est}");
                    warn_group(group, record, &prefix, &mut out);
                }
            } else {
                warn_group(group, &data.fields, "fields", &mut out);
            }
        }
        out
    }
}

fn warn_group(group: &Group, record: &Record, prefix: &str, out: &mut Vec<FieldError>) {
    if group.repeat.is_some() {
        let Some(Value::Array(items)) = record.get(&group.id) else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            if let Some(item) = item.as_object() {
                let at = format!("{prefix}.{}.{i}", group.id);
                for f in &group.fields {
                    warn_field(f, item.get(&f.id), &at, out);
                }
            }
        }
        return;
    }
    for f in &group.fields {
        warn_field(f, record.get(&f.id), prefix, out);
    }
}

fn warn_field(f: &Field, value: Option<&Value>, prefix: &str, out: &mut Vec<FieldError>) {
    let Some(Value::String(text)) = value else {
        return;
    };
    let path = format!("{prefix}.{}", f.id);
    if f.kind == FieldKind::OfficeNumber {
        if let Ok(parsed) = OfficeNumber::parse(text)
            && let Some(w) = parsed.warning
        {
            out.push(FieldError::new(
                path,
                "office_number_unverified",
                format!("{}：{w}", f.label),
            ));
        }
        return;
    }
    if !matches!(
        f.kind,
        FieldKind::Text | FieldKind::TextArea | FieldKind::Kana | FieldKind::Address
    ) {
        return;
    }
    let report = cp932::check(text);
    let unmappable: Vec<String> = report.unmappable().map(|x| x.describe()).collect();
    if !unmappable.is_empty() {
        out.push(FieldError::new(
            path.clone(),
            "cp932_unmappable",
            format!(
                "{}の{}は、自治体の台帳（Shift_JIS）で扱えない文字です。提出はできますが、台帳では別の字に置き換えられることがあります。",
                f.label,
                unmappable.join("、")
            ),
        ));
    }
    let vendor: Vec<String> = report
        .findings
        .iter()
        .filter(|x| x.class == CharClass::VendorSpecific)
        .map(|x| x.describe())
        .collect();
    if !vendor.is_empty() {
        out.push(FieldError::new(
            path,
            "cp932_vendor_specific",
            format!(
                "{}の{}は機種依存文字です。受け付けない台帳システムがあるため、できれば別の書き方（例: ㈱ → （株））にしてください。",
                f.label,
                vendor.join("、")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::procedure::{FilingData, parse_definition};

    #[test]
    fn characters_a_shift_jis_ledger_cannot_take_are_warned_not_refused() {
        let def = parse_definition(
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
id = "g"
title = "g"
[[groups.fields]]
id = "name"
label = "氏名"
kind = "text"
[[groups.fields]]
id = "office"
label = "事業所番号"
kind = "office_number"
"#,
        )
        .unwrap();
        let data: FilingData = serde_json::from_value(json!({ "fields": {
            "name": "𠮷田㈱〜", "office": "13A0000001"
        }}))
        .unwrap();
        assert!(
            def.validate(&data, &[])
                .iter()
                .all(|e| e.field != "fields.name")
        );
        let w = def.warnings(&data);
        let codes: Vec<&str> = w.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "cp932_unmappable",
                "cp932_vendor_specific",
                "office_number_unverified"
            ]
        );
        assert!(w[0].message.contains("𠮷（U+20BB7）"), "{}", w[0].message);
        assert!(
            !w[0].message.contains('〜'),
            "〜 has a standard mapping: no warning"
        );
        assert!(w[1].message.contains("㈱"));
        let clean: FilingData =
            serde_json::from_value(json!({ "fields": { "name": "吉田〜" } })).unwrap();
        assert!(def.warnings(&clean).is_empty());
    }
}
