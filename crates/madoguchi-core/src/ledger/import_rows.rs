//! Reading an establishments file into checked rows, before anything touches the database:
//! the text encoding, the CSV records, the header, and each row's identifiers (check digits),
//! dates, kana and numbers. Every problem is reported with its line number; nothing stops at
//! the first one.

use madoguchi_domain::cp932;
use madoguchi_domain::ids::{CorporateNumber, LocalGovCode, OfficeNumber, find_service_type};
use madoguchi_domain::ledger::{HeaderMap, Source, map_headers, parse_date, restore_formula};
use madoguchi_domain::registry::{RegistryKey, RegistryValueKind, value_kind_of};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{CoreError, CoreResult};

/// How the file is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputEncoding {
    /// UTF-8 when the bytes are valid UTF-8 (with or without BOM), else Shift_JIS (CP932).
    Auto,
    Utf8,
    ShiftJis,
}

impl InputEncoding {
    /// `auto`, `utf-8`, `shift_jis` (also `sjis`, `cp932`, `windows-31j`).
    pub fn parse(s: &str) -> CoreResult<InputEncoding> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" | "" => Ok(InputEncoding::Auto),
            "utf-8" | "utf8" | "utf-8-bom" => Ok(InputEncoding::Utf8),
            "shift-jis" | "sjis" | "cp932" | "windows-31j" => Ok(InputEncoding::ShiftJis),
            _ => Err(CoreError::field(
                "encoding",
                "invalid_encoding",
                "文字コードは auto、utf-8、shift_jis のいずれかを指定してください。",
            )),
        }
    }
}

/// A problem (or warning) in the file, where a person can find it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowIssue {
    /// Line of the file (the header is line 1).
    pub line: u64,
    /// The column's header as written in the file, when one column is at fault.
    pub column: Option<String>,
    pub message: String,
}

/// One checked row: a designation with its establishment's and corporation's values.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub line: u64,
    pub office_number: String,
    pub service_code: String,
    pub valid_from: String,
    pub valid_until: String,
    pub municipality_code: String,
    pub corporate_number: Option<String>,
    /// Establishment record values given in the row (empty cells are absent).
    pub establishment: Map<String, Value>,
    /// Corporation record values given in the row (empty cells are absent).
    pub corporation: Map<String, Value>,
}

/// The file read and checked: rows that passed, and every problem found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<LedgerRow>,
    /// Data rows in the file (good or bad).
    pub records: u64,
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
}

fn file_error(message: impl Into<String>) -> CoreError {
    CoreError::field("file", "unreadable_file", message)
}

/// Turns the bytes into text. A file that is not text at all, or not in the encoding named,
/// is a clear error (not a list of broken rows).
pub fn decode(bytes: &[u8], encoding: InputEncoding) -> CoreResult<(String, &'static str)> {
    if bytes.is_empty() {
        return Err(file_error("ファイルが空です。"));
    }
    if bytes.contains(&0) {
        return Err(file_error(
            "CSV ファイルではないようです（テキストではないデータを含みます）。Excel 形式の場合は CSV で保存し直してください。",
        ));
    }
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let utf8 = |b: &[u8]| {
        std::str::from_utf8(b).map(str::to_string).map_err(|e| {
            let line = b[..e.valid_up_to()].iter().filter(|c| **c == b'\n').count() + 1;
            file_error(format!(
                "{line}行目に UTF-8 として読み取れない文字があります。Shift_JIS のファイルなら文字コードに shift_jis を指定してください。"
            ))
        })
    };
    match encoding {
        InputEncoding::Utf8 => Ok((
            utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))?,
            "utf-8",
        )),
        InputEncoding::ShiftJis => cp932::decode(bytes).map(|s| (s, "shift_jis")).map_err(|e| {
            file_error(format!(
                "{e}UTF-8 のファイルなら文字コードに utf-8 を指定してください。"
            ))
        }),
        InputEncoding::Auto if bom => Ok((utf8(&bytes[3..])?, "utf-8")),
        InputEncoding::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((s.to_string(), "utf-8")),
            Err(_) => cp932::decode(bytes).map(|s| (s, "shift_jis")).map_err(|_| {
                file_error("文字コードを判別できません（UTF-8 でも Shift_JIS でもありません）。")
            }),
        },
    }
}

/// Reads the records and checks every row.
pub fn parse(text: &str) -> CoreResult<Parsed> {
    // Line numbers are counted here from byte offsets (a quoted cell may span lines). csv may
    // report a record as starting at the line end (or blank lines) before it: skip those.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let bytes = text.as_bytes();
    let line_at = |p: Option<&csv::Position>| -> u64 {
        let Some(p) = p else { return 0 };
        let mut start = usize::try_from(p.byte())
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        newlines.partition_point(|n| *n < start) as u64 + 1
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = loop {
        match records.next() {
            None => {
                return Err(file_error(
                    "ヘッダー行がありません。1行目に列名を書いてください。",
                ));
            }
            Some(Err(e)) => return Err(file_error(csv_message(&e, line_at(e.position())))),
            Some(Ok(r)) if r.iter().all(|f| f.trim().is_empty()) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let headers: Vec<String> = header.iter().map(str::to_string).collect();
    let map = map_headers(&headers);
    if !map.is_usable() {
        let mut errors = Vec::new();
        for m in &map.missing {
            errors.push(madoguchi_domain::procedure::FieldError {
                field: "header".into(),
                code: "missing_column".into(),
                message: format!("必須の列「{m}」がありません（列名の一覧は docs/ledger.md）。"),
            });
        }
        for d in &map.duplicated {
            errors.push(madoguchi_domain::procedure::FieldError {
                field: "header".into(),
                code: "duplicated_column".into(),
                message: format!("列「{d}」が2回以上あります。"),
            });
        }
        return Err(CoreError::Validation(errors));
    }
    let mut parsed = Parsed::default();
    let header_line = line_at(header.position());
    for u in &map.unknown {
        parsed.warnings.push(RowIssue {
            line: header_line,
            column: Some(u.clone()),
            message: format!("列「{u}」は取り込みの対象外のため無視しました。"),
        });
    }
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                parsed.records += 1;
                let line = line_at(e.position());
                parsed.errors.push(RowIssue {
                    line,
                    column: None,
                    message: csv_message(&e, line),
                });
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        parsed.records += 1;
        let line = line_at(record.position());
        let (row, errors, warnings) = check_row(&map, &headers, &record, line);
        parsed.errors.extend(errors);
        parsed.warnings.extend(warnings);
        if let Some(r) = row {
            parsed.rows.push(r);
        }
    }
    if parsed.records == 0 {
        return Err(file_error("データの行がありません（ヘッダー行だけです）。"));
    }
    check_consistency(&mut parsed);
    Ok(parsed)
}

fn csv_message(e: &csv::Error, line: u64) -> String {
    format!(
        "{line}行目を CSV として読み取れません（{}）。",
        e.kind_text()
    )
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::UnequalLengths { .. } => "列の数が合いません".into(),
            csv::ErrorKind::Utf8 { .. } => "文字コードが正しくありません".into(),
            _ => "形式の誤り".into(),
        }
    }
}

/// Checks one record; returns the row (when every required value is usable), its errors and
/// its warnings.
fn check_row(
    map: &HeaderMap,
    headers: &[String],
    record: &csv::StringRecord,
    line: u64,
) -> (Option<LedgerRow>, Vec<RowIssue>, Vec<RowIssue>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let issue = |column: &str, message: String| RowIssue {
        line,
        column: Some(column.to_string()),
        message: format!("{line}行目「{column}」: {message}"),
    };
    if record.len() != headers.len() {
        errors.push(RowIssue {
            line,
            column: None,
            message: format!(
                "{line}行目: 列の数がヘッダーと異なります（ヘッダー{}列、この行{}列）。",
                headers.len(),
                record.len()
            ),
        });
        return (None, errors, warnings);
    }
    let mut row = LedgerRow {
        line,
        office_number: String::new(),
        service_code: String::new(),
        valid_from: String::new(),
        valid_until: String::new(),
        municipality_code: String::new(),
        corporate_number: None,
        establishment: Map::new(),
        corporation: Map::new(),
    };
    let mut valid_until_given = None;
    for (i, source) in map.positions.iter().enumerate() {
        let Some(source) = source else { continue };
        let column = headers[i].trim();
        let raw = record.get(i).unwrap_or_default();
        let cell = restore_formula(raw).into_owned();
        if let Some(c) = cell.chars().find(|c| cp932::is_private_use(*c)) {
            errors.push(issue(
                column,
                format!(
                    "外字（利用者定義文字 {}）は取り込めません。標準の文字に置き換えてください。",
                    cp932::describe_char(c)
                ),
            ));
            continue;
        }
        let value = cell.trim();
        match *source {
            Source::OfficeNumber => match OfficeNumber::parse(value) {
                Ok(p) => {
                    if let Some(w) = p.warning {
                        warnings.push(issue(column, w));
                    }
                    row.office_number = p.number.as_str().to_string();
                }
                Err(e) => errors.push(issue(column, e.to_string())),
            },
            Source::ServiceCode => {
                let code =
                    madoguchi_domain::kana::fold_full_width_ascii(value).to_ascii_uppercase();
                match find_service_type(&code) {
                    Some(t) => row.service_code = t.code.to_string(),
                    None if code.is_empty() => errors.push(issue(
                        column,
                        "サービス種類コードを入力してください。".into(),
                    )),
                    None => errors.push(issue(
                        column,
                        format!("サービス種類コード「{value}」は窓口のコード表にありません。"),
                    )),
                }
            }
            Source::ServiceName => {}
            Source::ValidFrom => match parse_date(value) {
                Ok(d) => row.valid_from = d.to_string(),
                Err(m) if value.is_empty() => {
                    let _ = m;
                    errors.push(issue(column, "指定年月日を入力してください。".into()))
                }
                Err(m) => errors.push(issue(column, m)),
            },
            Source::ValidUntil => {
                if !value.is_empty() {
                    match parse_date(value) {
                        Ok(d) => valid_until_given = Some((d, column.to_string())),
                        Err(m) => errors.push(issue(column, m)),
                    }
                }
            }
            Source::MunicipalityCode => match LocalGovCode::parse(value) {
                Ok(c) => row.municipality_code = c.as_str().to_string(),
                Err(e) => errors.push(issue(column, e.to_string())),
            },
            Source::CorporateNumber => {
                if !value.is_empty() {
                    match CorporateNumber::parse(value) {
                        Ok(n) => row.corporate_number = Some(n.as_str().to_string()),
                        Err(e) => errors.push(issue(column, e.to_string())),
                    }
                }
            }
            Source::Establishment(key) => {
                match registry_value(RegistryKey::establishment(key), &cell) {
                    Ok(Some(v)) => {
                        row.establishment.insert(key.into(), v);
                    }
                    Ok(None) => {}
                    Err(m) => errors.push(issue(column, m)),
                }
            }
            Source::Corporation(key) => {
                match registry_value(RegistryKey::corporation(key), &cell) {
                    Ok(Some(v)) => {
                        row.corporation.insert(key.into(), v);
                    }
                    Ok(None) => {}
                    Err(m) => errors.push(issue(column, m)),
                }
            }
        }
    }
    for (key, header) in [("name", "事業所名"), ("name", "法人名")] {
        let values = if header == "事業所名" {
            &row.establishment
        } else {
            &row.corporation
        };
        if !values.contains_key(key) && !errors.iter().any(|e| e.column.as_deref() == Some(header))
        {
            errors.push(RowIssue {
                line,
                column: Some(header.into()),
                message: format!("{line}行目「{header}」: 入力してください。"),
            });
        }
    }
    if let Ok(from) = chrono::NaiveDate::parse_from_str(&row.valid_from, "%Y-%m-%d") {
        match valid_until_given {
            Some((until, column)) if until < from => errors.push(issue(
                &column,
                "有効期間満了日が指定年月日より前です。".into(),
            )),
            Some((until, _)) => row.valid_until = until.to_string(),
            // Designations are valid six years: to the day before the same date six years on.
            None => {
                row.valid_until = from
                    .checked_add_months(chrono::Months::new(72))
                    .and_then(|d| d.pred_opt())
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            }
        }
    }
    if errors.is_empty() {
        (Some(row), errors, warnings)
    } else {
        (None, errors, warnings)
    }
}

/// A cell as a registry value of the key's kind (`None` for an empty cell).
fn registry_value(key: RegistryKey, cell: &str) -> Result<Option<Value>, String> {
    if cell.trim().is_empty() {
        return Ok(None);
    }
    match value_kind_of(&key) {
        Some(RegistryValueKind::Integer) => {
            let folded = madoguchi_domain::kana::fold_full_width_ascii(cell.trim());
            folded
                .parse::<u64>()
                .map(|n| Some(Value::from(n)))
                .map_err(|_| format!("「{}」は0以上の整数で入力してください。", cell.trim()))
        }
        Some(RegistryValueKind::Kana) => madoguchi_domain::kana::normalize_kana(cell)
            .map(|k| Some(Value::from(k)))
            .map_err(|m| m.to_string()),
        _ => Ok(Some(Value::from(cell))),
    }
}

/// Rows of one establishment (one office number) must agree on the establishment and its
/// corporation, and a designation (office number, service) may appear once.
fn check_consistency(parsed: &mut Parsed) {
    let mut first: std::collections::BTreeMap<&str, &LedgerRow> = Default::default();
    let mut designations: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    let mut errors = Vec::new();
    for r in &parsed.rows {
        if let Some(line) = designations.insert((&r.office_number, &r.service_code), r.line) {
            errors.push(RowIssue {
                line: r.line,
                column: Some("サービス種類コード".into()),
                message: format!(
                    "{}行目: 事業所番号 {}・サービス種類 {} は{}行目にもあります。",
                    r.line, r.office_number, r.service_code, line
                ),
            });
        }
        match first.get(r.office_number.as_str()) {
            None => {
                first.insert(&r.office_number, r);
            }
            Some(f) => {
                for (differs, what) in [
                    (f.establishment != r.establishment, "事業所の項目"),
                    (f.corporation != r.corporation, "法人の項目"),
                    (f.corporate_number != r.corporate_number, "法人番号"),
                    (
                        f.municipality_code != r.municipality_code,
                        "所在市区町村コード",
                    ),
                ] {
                    if differs {
                        errors.push(RowIssue {
                            line: r.line,
                            column: None,
                            message: format!(
                                "{}行目: 事業所番号 {} の{}が{}行目と異なります（同じ事業所の行は同じ内容にしてください）。",
                                r.line, r.office_number, what, f.line
                            ),
                        });
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        let bad: std::collections::BTreeSet<u64> = errors.iter().map(|e| e.line).collect();
        parsed.rows.retain(|r| !bad.contains(&r.line));
        parsed.errors.extend(errors);
        parsed.errors.sort_by_key(|e| e.line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "事業所番号,サービス種類コード,指定年月日,事業所名,所在市区町村コード,法人番号,法人名,利用定員,管理者氏名フリガナ";

    fn parse_text(body: &str) -> Parsed {
        parse(&format!("{HEADER}\r\n{body}")).expect("parsed")
    }

    #[test]
    fn good_rows_pass_and_get_six_years() {
        let p = parse_text(
            "1370400010,15,2022-04-01,さくら,131041,7040005007253,社会福祉法人　さくら福祉会,30,ｻﾄｳ ﾊﾅｺ\r\n",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let r = &p.rows[0];
        assert_eq!(r.valid_until, "2028-03-31");
        assert_eq!(r.establishment["capacity"], 30);
        assert_eq!(r.establishment["manager_kana"], "サトウ　ハナコ");
        assert_eq!(r.line, 2);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let p = parse_text(concat!(
            "1370400011,15,2022-04-01,a,131041,,法人A,,\r\n",
            "1370400010,99,2022-02-30,b,131041,7040005007254,法人B,三十,カナ\r\n",
            "1370400010,15\r\n",
            "\r\n",
            "1370400010,15,2022-04-01,c,131040,,法人C,,\r\n",
        ));
        let lines: Vec<u64> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 3, 3, 3, 4, 6], "{:#?}", p.errors);
        assert!(
            p.errors[0].message.contains("チェックディジット"),
            "{:?}",
            p.errors[0]
        );
        assert!(p.rows.is_empty());
        assert_eq!(p.records, 4);
    }

    #[test]
    fn rows_of_one_establishment_must_agree() {
        let p = parse_text(concat!(
            "1370400010,15,2022-04-01,さくら,131041,,法人A,,\r\n",
            "1370400010,78,2022-04-01,さくら新宿,131041,,法人A,,\r\n",
            "1370400010,15,2022-04-01,さくら,131041,,法人A,,\r\n",
        ));
        assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
        assert!(p.errors.iter().all(|e| e.line == 3 || e.line == 4));
    }

    #[test]
    fn formulas_are_restored_and_outsider_characters_refused() {
        let p = parse_text("1370400010,15,2022-04-01,'=さくら,131041,,法人\u{E000},,\r\n");
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(p.errors[0].message.contains("外字"));
        let p = parse_text("1370400010,15,2022-04-01,'=さくら,131041,,法人,,\r\n");
        assert_eq!(p.rows[0].establishment["name"], "=さくら");
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(
            decode(b"", InputEncoding::Auto),
            Err(CoreError::Validation(_))
        ));
        assert!(matches!(
            decode(b"PK\x03\x04\x00\x00", InputEncoding::Auto),
            Err(CoreError::Validation(_))
        ));
        assert!(matches!(
            decode(b"\xff\xfe\xfd", InputEncoding::Auto),
            Err(CoreError::Validation(_))
        ));
        let (text, enc) =
            decode(&cp932::encode("事業所番号").unwrap(), InputEncoding::Auto).unwrap();
        assert_eq!((text.as_str(), enc), ("事業所番号", "shift_jis"));
        let (text, enc) = decode("\u{FEFF}事業所番号".as_bytes(), InputEncoding::Auto).unwrap();
        assert_eq!((text.as_str(), enc), ("事業所番号", "utf-8"));
        assert!(
            matches!(parse("a,b\r\n1,2\r\n"), Err(CoreError::Validation(e)) if e.iter().any(|e| e.code == "missing_column"))
        );
        assert!(matches!(
            parse(&format!("{HEADER}\r\n")),
            Err(CoreError::Validation(_))
        ));
    }
}
