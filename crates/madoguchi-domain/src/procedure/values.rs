//! Per-kind rules for one answer: what shape it must have, how it is tidied
//! before storing, and the Japanese message when it is wrong.

use chrono::NaiveDate;
use serde_json::Value;

use super::code_tables::{WEEKDAYS, starts_with_prefecture};
use super::model::{Field, FieldKind};
use crate::ids::{CorporateNumber, OfficeNumber};
use crate::kana::{fold_full_width_ascii, normalize_kana};

/// A failed check: machine code and Japanese message.
pub(crate) type Failure = (&'static str, String);

/// Whether the answer counts as "not answered": missing, null, blank text or an
/// empty list.
pub(crate) fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// The message for a required field left blank.
pub(crate) fn required_message(field: &Field) -> String {
    let ask = match field.kind {
        FieldKind::Select | FieldKind::MultiSelect | FieldKind::YesNo | FieldKind::Weekdays => {
            format!("{}を選択してください。", field.label)
        }
        _ => format!("{}を入力してください。", field.label),
    };
    match &field.origin.authority_name {
        Some(name) => format!("{ask}（{name}の独自ルール）"),
        None => ask,
    }
}

/// Checks a non-blank answer against the field's kind and options.
pub(crate) fn check_value(field: &Field, value: &Value) -> Result<(), Failure> {
    let label = &field.label;
    let invalid = |message: String| Err(("invalid_format", message));
    let text = match (field.kind, value) {
        (FieldKind::Integer, Value::Number(n)) => {
            return match (n.as_u64(), n.as_i64()) {
                (Some(v), _) => check_range(field, v as f64),
                (None, Some(_)) => Err((
                    "out_of_range",
                    format!("{label}は0以上の整数で入力してください。"),
                )),
                _ => invalid(format!("{label}は整数で入力してください。")),
            };
        }
        (FieldKind::Integer, _) => return invalid(format!("{label}は整数で入力してください。")),
        (FieldKind::Number, Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if !(v.is_finite() && v >= 0.0) {
                return Err((
                    "out_of_range",
                    format!("{label}は0以上の数値で入力してください。"),
                ));
            }
            let decimals = field.decimals.unwrap_or(2);
            let scaled = v * 10f64.powi(decimals as i32);
            if (scaled - scaled.round()).abs() > 1e-6 {
                return invalid(format!(
                    "{label}は小数点以下{decimals}桁までで入力してください。"
                ));
            }
            return check_range(field, v);
        }
        (FieldKind::Number, _) => return invalid(format!("{label}は数値で入力してください。")),
        (FieldKind::Weekdays, Value::Array(items)) => {
            for item in items {
                match item.as_str() {
                    Some(v) if WEEKDAYS.iter().any(|(d, _)| *d == v) => {}
                    _ => {
                        return Err((
                            "unknown_option",
                            format!("{label}は曜日（月〜日、祝日）から選んでください。"),
                        ));
                    }
                }
            }
            return Ok(());
        }
        (FieldKind::Weekdays, _) => {
            return invalid(format!("{label}は曜日から選んでください。"));
        }
        (FieldKind::YesNo, Value::Bool(_)) => return Ok(()),
        (FieldKind::YesNo, _) => {
            return invalid(format!("{label}は「はい」か「いいえ」で答えてください。"));
        }
        (FieldKind::MultiSelect, Value::Array(items)) => {
            for item in items {
                match item.as_str() {
                    Some(v) if is_option(field, v) => {}
                    _ => {
                        return Err((
                            "unknown_option",
                            format!("{label}は選択肢から選んでください。"),
                        ));
                    }
                }
            }
            return Ok(());
        }
        (FieldKind::MultiSelect, _) => {
            return invalid(format!("{label}は選択肢から選んでください。"));
        }
        (_, Value::String(s)) => s.as_str(),
        (_, _) => return invalid(format!("{label}は文字で入力してください。")),
    };
    match field.kind {
        FieldKind::Text | FieldKind::TextArea => check_length(field, text),
        FieldKind::Kana => match normalize_kana(text) {
            Ok(_) => check_length(field, text),
            Err(_) => invalid(format!("{label}はカタカナで入力してください。")),
        },
        FieldKind::Date => check_date(label, text),
        FieldKind::PostalCode if is_postal_code(text) => Ok(()),
        FieldKind::PostalCode => {
            invalid(format!("{label}は「123-4567」の形式で入力してください。"))
        }
        FieldKind::Phone if is_phone(text) => Ok(()),
        FieldKind::Phone => invalid(format!(
            "{label}は数字とハイフンで入力してください（10〜11桁）。"
        )),
        FieldKind::Email if is_email(text) => Ok(()),
        FieldKind::Email => invalid(format!(
            "{label}の形式が正しくありません（例: info@example.jp）。"
        )),
        FieldKind::Select if is_option(field, text) => Ok(()),
        FieldKind::Select => Err((
            "unknown_option",
            format!("{label}は選択肢から選んでください。"),
        )),
        FieldKind::CorporateNumber => check_corporate_number(label, text),
        FieldKind::OfficeNumber => check_office_number(label, text),
        FieldKind::TimeRange => check_time_range(label, text),
        FieldKind::Address if starts_with_prefecture(text) => check_length(field, text),
        FieldKind::Address => invalid(format!(
            "{label}は都道府県名から入力してください（例: 東京都新宿区西新宿2-8-1）。"
        )),
        FieldKind::Integer
        | FieldKind::Number
        | FieldKind::Weekdays
        | FieldKind::YesNo
        | FieldKind::MultiSelect => Ok(()),
    }
}

fn check_range(field: &Field, v: f64) -> Result<(), Failure> {
    let label = &field.label;
    let unit = field.unit.as_deref().unwrap_or("");
    let show = |x: f64| {
        if x.fract() == 0.0 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    };
    match (field.min, field.max) {
        (Some(min), _) if v < min => Err((
            "out_of_range",
            format!("{label}は{}{unit}以上で入力してください。", show(min)),
        )),
        (_, Some(max)) if v > max => Err((
            "out_of_range",
            format!("{label}は{}{unit}以下で入力してください。", show(max)),
        )),
        _ => Ok(()),
    }
}

/// `HH:MM-HH:MM`, start before end (a range past midnight is written up to 24:00).
pub(crate) fn parse_time_range(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
    };
    let (start, end) = (minutes(a)?, minutes(b)?);
    (start < end).then_some((start, end))
}

fn check_time_range(label: &str, text: &str) -> Result<(), Failure> {
    match parse_time_range(text) {
        Some(_) => Ok(()),
        None => Err((
            "invalid_format",
            format!("{label}は「09:00-18:00」の形式で、開始を終了より前にして入力してください。"),
        )),
    }
}

fn is_option(field: &Field, value: &str) -> bool {
    field.options.iter().any(|o| o.value == value)
}

fn check_length(field: &Field, text: &str) -> Result<(), Failure> {
    let count = text.chars().count();
    match field.max_length {
        Some(max) if count > max as usize => Err((
            "too_long",
            format!(
                "{}は{max}文字以内で入力してください（現在{count}文字）。",
                field.label
            ),
        )),
        _ => Ok(()),
    }
}

fn check_date(label: &str, text: &str) -> Result<(), Failure> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err((
            "invalid_format",
            format!("{label}は日付（例: 2026-04-01）で入力してください。"),
        ));
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(_) => Ok(()),
        Err(_) => Err((
            "invalid_format",
            format!("{label}に存在しない日付が入力されています。"),
        )),
    }
}

/// `123-4567` or `1234567`.
pub(crate) fn is_postal_code(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        7 => digits(b),
        8 => b[3] == b'-' && digits(&b[..3]) && digits(&b[4..]),
        _ => false,
    }
}

/// Digits and single inner hyphens, 10–11 digits in all.
pub fn is_phone(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && (10..=11).contains(&digits)
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A basic shape check: `local@domain.tld`, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_corporate_number(label: &str, text: &str) -> Result<(), Failure> {
    if CorporateNumber::parse(text).is_ok() {
        return Ok(());
    }
    let folded = fold_full_width_ascii(text.trim());
    if folded.len() == 13 && folded.bytes().all(|b| b.is_ascii_digit()) {
        Err((
            "check_digit",
            format!("{label}のチェックディジットが一致しません。番号をご確認ください。"),
        ))
    } else {
        Err((
            "invalid_format",
            format!("{label}は13桁の数字で入力してください。"),
        ))
    }
}

fn check_office_number(label: &str, text: &str) -> Result<(), Failure> {
    let Err(error) = OfficeNumber::parse(text) else {
        return Ok(());
    };
    let folded = fold_full_width_ascii(text.trim());
    let all_digits = folded.len() == 10 && folded.bytes().all(|b| b.is_ascii_digit());
    if all_digits && OfficeNumber::check_digit(&folded[..9]) != folded.as_bytes()[9] - b'0' {
        Err((
            "check_digit",
            format!("{label}のチェックディジットが一致しません。番号をご確認ください。"),
        ))
    } else {
        Err(("invalid_format", format!("{label}：{error}")))
    }
}

/// Dashes people type in numbers (‐ − – — ― － ー ｰ), all meaning `-`.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}' | '\u{30FC}' | '\u{FF70}'
    )
}

/// Tidies one answer without changing its meaning; `None` = leave as is.
pub(crate) fn normalize_value(kind: FieldKind, value: &Value) -> Option<Value> {
    let Value::String(raw) = value else {
        return None;
    };
    let s = raw.trim();
    if kind == FieldKind::Number {
        let folded = fold_full_width_ascii(s).replace(',', "");
        return match folded.parse::<f64>() {
            Ok(n) if n.is_finite() && folded.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
                serde_json::Number::from_f64(n).map(Value::Number)
            }
            _ => (folded != *raw).then_some(Value::String(folded)),
        };
    }
    let folded = || fold_full_width_ascii(s);
    let out = match kind {
        FieldKind::TimeRange => folded()
            .chars()
            .map(|c| match c {
                '〜' | '～' | '~' => '-',
                '：' => ':',
                c if is_dash(c) => '-',
                c => c,
            })
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .split('-')
            .map(|t| match t.split_once(':') {
                Some((h, m)) if h.len() == 1 => format!("0{h}:{m}"),
                _ => t.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("-"),
        FieldKind::Address => s.to_owned(),
        FieldKind::Text | FieldKind::TextArea | FieldKind::Date => {
            if kind == FieldKind::Date {
                folded()
            } else {
                s.to_owned()
            }
        }
        FieldKind::Kana => normalize_kana(s).unwrap_or_else(|_| s.to_owned()),
        FieldKind::Email => folded(),
        FieldKind::Integer => {
            let digits = folded();
            return match digits.parse::<u64>() {
                Ok(n) if digits.bytes().all(|b| b.is_ascii_digit()) => Some(Value::from(n)),
                _ => (digits != *raw).then_some(Value::String(digits)),
            };
        }
        FieldKind::PostalCode => {
            let p: String = folded()
                .chars()
                .map(|c| if is_dash(c) { '-' } else { c })
                .collect();
            if p.len() == 7 && is_postal_code(&p) {
                format!("{}-{}", &p[..3], &p[3..])
            } else {
                p
            }
        }
        FieldKind::Phone => normalize_phone(&folded()),
        FieldKind::CorporateNumber => CorporateNumber::parse(s)
            .map(|n| n.as_str().to_owned())
            .unwrap_or_else(|_| s.to_owned()),
        FieldKind::OfficeNumber => OfficeNumber::parse(s)
            .map(|p| p.number.as_str().to_owned())
            .unwrap_or_else(|_| s.to_owned()),
        FieldKind::Select
        | FieldKind::MultiSelect
        | FieldKind::YesNo
        | FieldKind::Weekdays
        | FieldKind::Number => return None,
    };
    (out != *raw).then_some(Value::String(out))
}

/// `03(3333)4444` / `０３－３３３３－４４４４` → `03-3333-4444`.
fn normalize_phone(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if is_dash(c) || matches!(c, '(' | ')' | '（' | '）') {
            '-'
        } else {
            c
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Full-width form of ASCII digits and hyphens, as people type them on Japanese keyboards.
    fn widen(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap(),
                '-' => 'ー',
                c => c,
            })
            .collect()
    }

    proptest! {
        /// Published shape: 〒 123-4567. Any 7 digits, typed with or without a hyphen, in
        /// half- or full-width, normalise to `123-4567` and pass.
        #[test]
        fn postal_codes_normalise_and_pass(d in "[0-9]{7}", dash in any::<bool>(), wide in any::<bool>()) {
            let typed = if dash { format!("{}-{}", &d[..3], &d[3..]) } else { d.clone() };
            let typed = if wide { widen(&typed) } else { typed };
            let v = normalize_value(FieldKind::PostalCode, &json!(typed)).unwrap_or(json!(typed));
            let s = v.as_str().unwrap();
            prop_assert_eq!(s, format!("{}-{}", &d[..3], &d[3..]));
            prop_assert!(is_postal_code(s));
        }

        /// Any other digit count is refused.
        #[test]
        fn wrong_postal_lengths_fail(d in "[0-9]{1,12}") {
            prop_assume!(d.len() != 7);
            prop_assert!(!is_postal_code(&d));
        }

        /// 10–11 digit numbers in any of the usual shapes (03(1234)5678, ０３－…) keep their
        /// digits and pass; fewer or more digits fail.
        #[test]
        fn phone_numbers_keep_their_digits(d in "0[0-9]{9,10}", cut in 1usize..5, parens in any::<bool>(), wide in any::<bool>()) {
            let (a, b) = d.split_at(cut.min(d.len() - 5) + 1);
            let (b, c) = b.split_at(4.min(b.len() - 1));
            let typed = if parens { format!("{a}({b}){c}") } else { format!("{a}-{b}-{c}") };
            let typed = if wide { widen(&typed) } else { typed };
            let v = normalize_value(FieldKind::Phone, &json!(typed)).unwrap_or(json!(typed));
            let s = v.as_str().unwrap();
            prop_assert!(is_phone(s), "{} → {}", typed, s);
            prop_assert_eq!(s.replace('-', ""), d);
        }

        #[test]
        fn short_or_long_phone_numbers_fail(d in "[0-9]{1,9}|[0-9]{12,15}") {
            prop_assert!(!is_phone(&d));
        }

        /// A time range normalises to `HH:MM-HH:MM` and parses back to the same minutes.
        #[test]
        fn time_ranges_round_trip(s in 0u32..1439, len in 1u32..600, wide in any::<bool>()) {
            let e = (s + len).min(1440);
            let fmt = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            let typed = format!("{}～{}", fmt(s), fmt(e));
            let typed = if wide { widen(&typed) } else { typed };
            let v = normalize_value(FieldKind::TimeRange, &json!(typed)).unwrap();
            prop_assert_eq!(parse_time_range(v.as_str().unwrap()), Some((s, e)));
        }
    }

    #[test]
    fn time_ranges() {
        assert_eq!(parse_time_range("09:00-18:00"), Some((540, 1080)));
        assert_eq!(parse_time_range("00:00-24:00"), Some((0, 1440)));
        assert_eq!(parse_time_range("18:00-09:00"), None);
        assert_eq!(parse_time_range("9:00-18:00"), None);
        assert_eq!(parse_time_range("24:30-25:00"), None);
    }

    #[test]
    fn shapes() {
        assert!(is_postal_code("160-0023") && is_postal_code("1600023"));
        assert!(!is_postal_code("160-002") && !is_postal_code("16-00023"));
        assert!(is_phone("03-3333-4444") && is_phone("09012345678"));
        assert!(!is_phone("03-3333-444") && !is_phone("-0333334444") && !is_phone("03--33334444"));
        assert!(is_email("info@example.jp"));
        assert!(!is_email("info@example") && !is_email("in fo@example.jp") && !is_email("@x.jp"));
    }

    #[test]
    fn normalisation_keeps_meaning() {
        let n = |k, v: &str| normalize_value(k, &json!(v));
        assert_eq!(n(FieldKind::Integer, "２５"), Some(json!(25)));
        assert_eq!(n(FieldKind::Integer, "25"), Some(json!(25)));
        assert_eq!(n(FieldKind::Integer, "abc"), None);
        assert_eq!(
            n(FieldKind::PostalCode, "１６０－００２３"),
            Some(json!("160-0023"))
        );
        assert_eq!(n(FieldKind::PostalCode, "1600023"), Some(json!("160-0023")));
        assert_eq!(
            n(FieldKind::Phone, "０３（３３３３）４４４４"),
            Some(json!("03-3333-4444"))
        );
        assert_eq!(
            n(FieldKind::Kana, " ﾔﾏﾀﾞ ﾀﾛｳ "),
            Some(json!("ヤマダ　タロウ"))
        );
        assert_eq!(n(FieldKind::Text, "  新宿区  "), Some(json!("新宿区")));
        assert_eq!(n(FieldKind::Text, "ｶﾅ"), None);
        assert_eq!(
            n(FieldKind::Date, "２０２６-０４-０１"),
            Some(json!("2026-04-01"))
        );
        assert_eq!(
            n(FieldKind::TimeRange, "９:００～１８：００"),
            Some(json!("09:00-18:00"))
        );
        assert_eq!(n(FieldKind::Number, "２.５"), Some(json!(2.5)));
        assert_eq!(n(FieldKind::Number, "1,200"), Some(json!(1200.0)));
        assert_eq!(
            n(FieldKind::CorporateNumber, "７０４０００５００７２５３"),
            Some(json!("7040005007253"))
        );
    }
}
