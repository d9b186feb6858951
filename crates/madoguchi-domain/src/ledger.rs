//! The ledger file format (事業所台帳): the columns of the establishments/designations CSV
//! that Madoguchi exports and imports, how import headers are recognised, how dates are read,
//! and how spreadsheet formula injection is neutralised (and undone on import, so an export
//! imports back unchanged). Pure rules; the CSV and encoding plumbing lives in the core crate.
//! The column list is documented for people in `docs/ledger.md`.

use std::borrow::Cow;

use chrono::NaiveDate;

/// Where a column's value lives in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// 介護保険事業所番号 (the establishment's key).
    OfficeNumber,
    /// サービス種類コード (with the office number, the designation's key).
    ServiceCode,
    /// The service's name from the code table: exported for people, ignored on import.
    ServiceName,
    /// 指定年月日 (`YYYY-MM-DD`).
    ValidFrom,
    /// 有効期間満了日 (`YYYY-MM-DD`).
    ValidUntil,
    /// The establishment's 全国地方公共団体コード.
    MunicipalityCode,
    /// A key of the establishment record (`registry::ESTABLISHMENT_KEYS`).
    Establishment(&'static str),
    /// 法人番号 (the corporation's key when it has one).
    CorporateNumber,
    /// A key of the corporation record (`registry::CORPORATION_KEYS`).
    Corporation(&'static str),
}

/// One column of the establishments file.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The header Madoguchi writes.
    pub header: &'static str,
    /// Other headers recognised on import (common names in authorities' own ledgers).
    pub aliases: &'static [&'static str],
    pub source: Source,
    /// An import without this column is refused.
    pub required: bool,
}

const fn col(header: &'static str, aliases: &'static [&'static str], source: Source) -> Column {
    Column {
        header,
        aliases,
        source,
        required: false,
    }
}

const fn required(
    header: &'static str,
    aliases: &'static [&'static str],
    source: Source,
) -> Column {
    Column {
        header,
        aliases,
        source,
        required: true,
    }
}

/// The establishments/designations file: one row per designation, in this column order.
/// Personal data beyond what a ledger needs (managers' and representatives' birth dates and
/// home addresses) is left out.
pub const ESTABLISHMENT_COLUMNS: &[Column] = &[
    required(
        "事業所番号",
        &["介護保険事業所番号", "事業所番号（介護保険）"],
        Source::OfficeNumber,
    ),
    required(
        "サービス種類コード",
        &["サービス種類", "サービスコード"],
        Source::ServiceCode,
    ),
    col("サービス種類名", &["サービス名"], Source::ServiceName),
    required(
        "指定年月日",
        &["指定日", "指定年月日（開始）"],
        Source::ValidFrom,
    ),
    col(
        "有効期間満了日",
        &["有効期限", "指定有効期間満了日", "有効期間終了日"],
        Source::ValidUntil,
    ),
    required(
        "事業所名",
        &["事業所名称", "事業所の名称"],
        Source::Establishment("name"),
    ),
    col(
        "事業所名フリガナ",
        &["事業所名称フリガナ", "事業所名（フリガナ）"],
        Source::Establishment("name_kana"),
    ),
    required(
        "所在市区町村コード",
        &["市区町村コード", "所在地市区町村コード"],
        Source::MunicipalityCode,
    ),
    col(
        "事業所郵便番号",
        &["郵便番号"],
        Source::Establishment("postal_code"),
    ),
    col(
        "事業所所在地",
        &["所在地", "事業所の所在地"],
        Source::Establishment("address"),
    ),
    col(
        "事業所電話番号",
        &["電話番号"],
        Source::Establishment("phone"),
    ),
    col(
        "事業所FAX番号",
        &["FAX番号", "ファクシミリ番号"],
        Source::Establishment("fax"),
    ),
    col(
        "事業所メールアドレス",
        &["メールアドレス"],
        Source::Establishment("email"),
    ),
    col(
        "管理者氏名",
        &["管理者名"],
        Source::Establishment("manager_name"),
    ),
    col(
        "管理者氏名フリガナ",
        &["管理者名フリガナ"],
        Source::Establishment("manager_kana"),
    ),
    col("利用定員", &["定員"], Source::Establishment("capacity")),
    col("法人番号", &[], Source::CorporateNumber),
    required(
        "法人名",
        &["法人名称", "申請者名称", "開設者名称"],
        Source::Corporation("name"),
    ),
    col(
        "法人名フリガナ",
        &["法人名称フリガナ"],
        Source::Corporation("name_kana"),
    ),
    col(
        "法人等の種類",
        &["法人種別", "法人の種類"],
        Source::Corporation("corp_kind"),
    ),
    col(
        "主たる事務所所在地",
        &["法人所在地"],
        Source::Corporation("address"),
    ),
    col(
        "代表者職名",
        &["代表者の職名"],
        Source::Corporation("representative_title"),
    ),
    col(
        "代表者氏名",
        &["代表者名", "代表者の氏名"],
        Source::Corporation("representative_name"),
    ),
];

/// The decided-cases file (one row per accepted case), in this column order.
pub const CASE_COLUMNS: &[&str] = &[
    "到達番号",
    "手続",
    "状態",
    "法人番号",
    "法人名",
    "事業所番号",
    "提出日時",
    "受付完了日時",
    "登録情報の変更件数",
];

/// How the header row of an import maps onto [`ESTABLISHMENT_COLUMNS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each position of the file, the column it holds (`None`: not ours, ignored).
    pub positions: Vec<Option<Source>>,
    /// Headers not recognised (ignored, reported as a warning).
    pub unknown: Vec<String>,
    /// Required columns the file lacks (the import is refused).
    pub missing: Vec<&'static str>,
    /// Columns named twice (the import is refused: which one would count?).
    pub duplicated: Vec<&'static str>,
}

impl HeaderMap {
    /// Whether the header row is usable.
    pub fn is_usable(&self) -> bool {
        self.missing.is_empty() && self.duplicated.is_empty()
    }
}

/// Recognises a header row: exact headers or aliases, ignoring surrounding and inner spaces,
/// full-width ASCII and a byte-order mark.
pub fn map_headers<S: AsRef<str>>(headers: &[S]) -> HeaderMap {
    let mut map = HeaderMap::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for h in headers {
        let key = header_key(h.as_ref());
        let column = ESTABLISHMENT_COLUMNS.iter().find(|c| {
            header_key(c.header) == key || c.aliases.iter().any(|a| header_key(a) == key)
        });
        match column {
            Some(c) => {
                if seen.contains(&c.header) {
                    if !map.duplicated.contains(&c.header) {
                        map.duplicated.push(c.header);
                    }
                    map.positions.push(None);
                } else {
                    seen.push(c.header);
                    map.positions.push(Some(c.source));
                }
            }
            None => {
                if !key.is_empty() {
                    map.unknown.push(h.as_ref().trim().to_string());
                }
                map.positions.push(None);
            }
        }
    }
    map.missing = ESTABLISHMENT_COLUMNS
        .iter()
        .filter(|c| c.required && !seen.contains(&c.header))
        .map(|c| c.header)
        .collect();
    map
}

fn header_key(h: &str) -> String {
    crate::kana::fold_full_width_ascii(h.trim_start_matches('\u{FEFF}'))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

/// Reads a ledger date: `2022-04-01`, `2022/4/1`, `20220401` or 和暦 (`令和4年4月1日`,
/// `R4.4.1`); full-width digits accepted. The message is Japanese.
pub fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let s: String = crate::kana::fold_full_width_ascii(input.trim())
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bad = || {
        format!(
            "日付「{}」を読み取れません（例: 2022-04-01、2022/4/1、令和4年4月1日）。",
            input.trim()
        )
    };
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&s, "%Y%m%d").map_err(|_| bad());
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let parts: Vec<&str> = s.split(['-', '/']).collect();
        if parts.len() == 3
            && parts[0].len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let n = |p: &str| p.parse::<u32>().map_err(|_| bad());
            return NaiveDate::from_ymd_opt(n(parts[0])? as i32, n(parts[1])?, n(parts[2])?)
                .ok_or_else(bad);
        }
        return Err(bad());
    }
    crate::wareki::parse_wareki(&s).map_err(|_| bad())
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` would be read as a formula, or would be after [`restore_formula`] removed a
/// leading quote: a run of `'` followed by a trigger character.
fn needs_quote(cell: &str) -> bool {
    let rest = cell.trim_start_matches('\'');
    rest.starts_with(FORMULA_TRIGGERS)
}

/// Neutralises spreadsheet formula injection: a cell starting with `=` `+` `-` `@`, tab or CR
/// gets a leading `'` (shown as text by Excel and LibreOffice). Cells that already start with
/// quotes before such a character get one more, so [`restore_formula`] is an exact inverse.
pub fn neutralize_formula(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`neutralize_formula`] on import: removes the one quote it added.
pub fn restore_formula(cell: &str) -> Cow<'_, str> {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => Cow::Borrowed(rest),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_quoted_and_restored() {
        for (raw, out) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+81-3-1234", "'+81-3-1234"),
            ("-1", "'-1"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("'quoted", "'quoted"),
            ("03-1234-5678", "03-1234-5678"),
            ("さくら", "さくら"),
            ("", ""),
        ] {
            assert_eq!(neutralize_formula(raw), out, "{raw:?}");
            assert_eq!(restore_formula(out), raw, "{out:?}");
        }
    }

    #[test]
    fn headers_are_recognised_by_name_or_alias() {
        let m = map_headers(&[
            "\u{FEFF}介護保険事業所番号",
            " サービス種類コード ",
            "指定日",
            "事業所名称",
            "市区町村コード",
            "法人名",
            "備考",
            "ＦＡＸ番号",
        ]);
        assert!(m.is_usable(), "{m:?}");
        assert_eq!(m.positions[0], Some(Source::OfficeNumber));
        assert_eq!(m.positions[7], Some(Source::Establishment("fax")));
        assert_eq!(m.unknown, vec!["備考".to_string()]);
        let m = map_headers(&["事業所番号", "事業所番号"]);
        assert!(!m.is_usable());
        assert_eq!(m.duplicated, vec!["事業所番号"]);
        assert!(m.missing.contains(&"指定年月日"));
    }

    #[test]
    fn every_export_header_maps_to_its_own_column() {
        let headers: Vec<&str> = ESTABLISHMENT_COLUMNS.iter().map(|c| c.header).collect();
        let m = map_headers(&headers);
        assert!(m.is_usable() && m.unknown.is_empty(), "{m:?}");
        for (i, c) in ESTABLISHMENT_COLUMNS.iter().enumerate() {
            assert_eq!(m.positions[i], Some(c.source));
        }
    }

    #[test]
    fn dates_in_ledger_spellings() {
        let d = NaiveDate::from_ymd_opt(2022, 4, 1).unwrap();
        for s in [
            "2022-04-01",
            "2022/4/1",
            "２０２２／０４／０１",
            "20220401",
            "令和4年4月1日",
            "R4.4.1",
        ] {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        for s in [
            "2022-02-30",
            "22/4/1",
            "令和4年",
            "",
            "平成31年5月1日",
            "2022-4",
        ] {
            assert!(parse_date(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn neutralized_cells_never_start_a_formula_and_restore_exactly(s in "['=+\\-@\\t\\ra-zあ]{0,3}\\PC{0,8}") {
            let n = neutralize_formula(&s);
            prop_assert!(!n.starts_with(FORMULA_TRIGGERS));
            let back = restore_formula(&n);
            prop_assert_eq!(back.as_ref(), s.as_str());
        }
    }
}
