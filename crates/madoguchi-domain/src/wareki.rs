//! 和暦 (Japanese era calendar): conversion, strict parsing and display.
//!
//! Forms and authorities write dates as 「令和8年11月22日」; the first year of an era is
//! 元年. Parsing is strict: a date outside its era (平成31年5月1日, 昭和64年1月8日) is an
//! error rather than being rolled over. Only the Gregorian calendar is modelled, so dates
//! before 明治 (1868-10-23 here) have no 和暦; Japan adopted the Gregorian calendar on
//! 明治6年1月1日 (1873-01-01), and dates before that are proleptic Gregorian.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::kana::fold_full_width_ascii;

/// A Japanese era from 明治 onwards, in chronological order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// 明治 (M), from 1868-10-23.
    Meiji,
    /// 大正 (T), from 1912-07-30.
    Taisho,
    /// 昭和 (S), from 1926-12-25.
    Showa,
    /// 平成 (H), from 1989-01-08.
    Heisei,
    /// 令和 (R), from 2019-05-01.
    Reiwa,
}

impl Era {
    /// All eras, oldest first.
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// The era name, e.g. 「令和」.
    pub fn name(self) -> &'static str {
        match self {
            Self::Meiji => "明治",
            Self::Taisho => "大正",
            Self::Showa => "昭和",
            Self::Heisei => "平成",
            Self::Reiwa => "令和",
        }
    }

    /// The one-letter abbreviation used in 「R8.11.22」.
    pub fn abbreviation(self) -> char {
        match self {
            Self::Meiji => 'M',
            Self::Taisho => 'T',
            Self::Showa => 'S',
            Self::Heisei => 'H',
            Self::Reiwa => 'R',
        }
    }

    /// The first day of the era (元年 starts here).
    pub fn first_day(self) -> NaiveDate {
        let (y, m, d) = match self {
            Self::Meiji => (1868, 10, 23),
            Self::Taisho => (1912, 7, 30),
            Self::Showa => (1926, 12, 25),
            Self::Heisei => (1989, 1, 8),
            Self::Reiwa => (2019, 5, 1),
        };
        NaiveDate::from_ymd_opt(y, m, d).expect("era start dates are valid")
    }

    /// The last day of the era, or `None` for the current one.
    pub fn last_day(self) -> Option<NaiveDate> {
        let next = Self::ALL.get(self as usize + 1)?;
        next.first_day().pred_opt()
    }

    /// The era a date falls in, or `None` before 明治.
    pub fn of(date: NaiveDate) -> Option<Era> {
        Self::ALL.into_iter().rev().find(|e| date >= e.first_day())
    }

    fn contains(self, date: NaiveDate) -> bool {
        date >= self.first_day() && self.last_day().is_none_or(|last| date <= last)
    }

    /// 「平成は1989年1月8日から2019年4月30日まで」, used in error messages.
    fn period_ja(self) -> String {
        let from = gregorian_ja(self.first_day());
        match self.last_day() {
            Some(last) => format!("{}は{from}から{}まで", self.name(), gregorian_ja(last)),
            None => format!("{}は{from}から", self.name()),
        }
    }
}

/// A date written in 和暦. Fields are as written; [`Wareki::to_date`] checks that they
/// denote a real day inside the era.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Wareki {
    /// The era.
    pub era: Era,
    /// Year within the era, 1 = 元年.
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31.
    pub day: u32,
}

impl Wareki {
    /// The Gregorian date, if this is a real day inside its era.
    pub fn to_date(self) -> Result<NaiveDate, WarekiError> {
        if self.year == 0 {
            return Err(WarekiError::OutsideEra(self));
        }
        let year = i32::try_from(self.year)
            .ok()
            .and_then(|y| self.era.first_day().year().checked_add(y - 1))
            .ok_or(WarekiError::OutsideEra(self))?;
        let date = NaiveDate::from_ymd_opt(year, self.month, self.day)
            .ok_or(WarekiError::InvalidDate(self))?;
        if self.era.contains(date) {
            Ok(date)
        } else {
            Err(WarekiError::OutsideEra(self))
        }
    }
}

/// 「令和元年5月1日」, 「平成31年4月30日」.
impl fmt::Display for Wareki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.era.name())?;
        if self.year == 1 {
            f.write_str("元")?;
        } else {
            write!(f, "{}", self.year)?;
        }
        write!(f, "年{}月{}日", self.month, self.day)
    }
}

/// Why a 和暦 string was rejected; the message is Japanese and can be shown as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarekiError {
    /// Not recognisable as a 和暦 date.
    #[error("和暦の日付は「令和8年11月22日」または「R8.11.22」の形式で入力してください。")]
    Format,
    /// No such day in the calendar (e.g. 令和5年2月30日).
    #[error("{0}は存在しない日付です。")]
    InvalidDate(Wareki),
    /// A real day, but not inside the named era (e.g. 平成31年5月1日).
    #[error("{0}は存在しません（{period}）。", period = .0.era.period_ja())]
    OutsideEra(Wareki),
}

/// The 和暦 of a date, or `None` before 明治 (1868-10-23).
pub fn to_wareki(date: NaiveDate) -> Option<Wareki> {
    let era = Era::of(date)?;
    Some(Wareki {
        era,
        year: (date.year() - era.first_day().year() + 1) as u32,
        month: date.month(),
        day: date.day(),
    })
}

/// Parses 「令和8年11月22日」, 「令和元年5月1日」 or 「R8.11.22」 / 「H31/4/30」
/// (abbreviations M, T, S, H, R in either case). Full-width digits and letters and spaces
/// are accepted. Strict: the date must exist and lie inside the named era.
pub fn parse_wareki(s: &str) -> Result<NaiveDate, WarekiError> {
    let folded: String = fold_full_width_ascii(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let named = Era::ALL
        .into_iter()
        .find_map(|e| Some((e, folded.strip_prefix(e.name())?)));
    let (era, rest, separators) = match named {
        Some((era, rest)) => (era, rest, ["年", "月", "日"]),
        None => {
            let mut chars = folded.chars();
            let letter = chars
                .next()
                .ok_or(WarekiError::Format)?
                .to_ascii_uppercase();
            let era = Era::ALL
                .into_iter()
                .find(|e| e.abbreviation() == letter)
                .ok_or(WarekiError::Format)?;
            let rest = chars.as_str();
            // Either "R8.11.22" or "R8/11/22"; the day has no trailing marker.
            let sep = if rest.contains('/') { "/" } else { "." };
            (era, rest, [sep, sep, ""])
        }
    };
    parse_parts(era, rest, separators)?.to_date()
}

/// Splits 「8年11月22日」 (or 「8.11.22」) into a [`Wareki`] without range checks.
fn parse_parts(era: Era, rest: &str, separators: [&str; 3]) -> Result<Wareki, WarekiError> {
    let (year, rest) = rest.split_once(separators[0]).ok_or(WarekiError::Format)?;
    let (month, rest) = rest.split_once(separators[1]).ok_or(WarekiError::Format)?;
    let day = if separators[2].is_empty() {
        rest
    } else {
        rest.strip_suffix(separators[2])
            .ok_or(WarekiError::Format)?
    };
    let year = if year == "元" { 1 } else { number(year)? };
    Ok(Wareki {
        era,
        year,
        month: number(month)?,
        day: number(day)?,
    })
}

/// A 1–4 digit decimal number.
fn number(s: &str) -> Result<u32, WarekiError> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WarekiError::Format);
    }
    s.parse().map_err(|_| WarekiError::Format)
}

/// 「2026年11月22日」.
fn gregorian_ja(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// 「令和8年11月22日（2026年11月22日）」; dates before 明治 are shown in Gregorian only.
pub fn format_date_ja(date: NaiveDate) -> String {
    match to_wareki(date) {
        Some(w) => format!("{w}（{}）", gregorian_ja(date)),
        None => gregorian_ja(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn era_boundaries() {
        let cases = [
            (ymd(1868, 10, 22), None),
            (ymd(1868, 10, 23), Some("明治元年10月23日")),
            (ymd(1912, 7, 29), Some("明治45年7月29日")),
            (ymd(1912, 7, 30), Some("大正元年7月30日")),
            (ymd(1926, 12, 24), Some("大正15年12月24日")),
            (ymd(1926, 12, 25), Some("昭和元年12月25日")),
            (ymd(1989, 1, 7), Some("昭和64年1月7日")),
            (ymd(1989, 1, 8), Some("平成元年1月8日")),
            (ymd(2019, 4, 30), Some("平成31年4月30日")),
            (ymd(2019, 5, 1), Some("令和元年5月1日")),
            (ymd(2026, 11, 22), Some("令和8年11月22日")),
        ];
        for (date, expected) in cases {
            let shown = to_wareki(date).map(|w| w.to_string());
            assert_eq!(shown.as_deref(), expected, "{date}");
            if let Some(text) = expected {
                assert_eq!(parse_wareki(text), Ok(date), "{text}");
            }
        }
        assert_eq!(Era::Heisei.last_day(), Some(ymd(2019, 4, 30)));
        assert_eq!(Era::Reiwa.last_day(), None);
    }

    #[test]
    fn accepted_forms() {
        let d = ymd(2026, 11, 22);
        for s in [
            "令和8年11月22日",
            "令和８年１１月２２日",
            " 令和 8年 11月 22日 ",
            "R8.11.22",
            "r08.11.22",
            "Ｒ８．１１．２２",
            "R8/11/22",
        ] {
            assert_eq!(parse_wareki(s), Ok(d), "{s}");
        }
        assert_eq!(parse_wareki("令和元年5月1日"), Ok(ymd(2019, 5, 1)));
        assert_eq!(parse_wareki("令和1年5月1日"), Ok(ymd(2019, 5, 1)));
        assert_eq!(parse_wareki("H31.4.30"), Ok(ymd(2019, 4, 30)));
        assert_eq!(parse_wareki("S64.1.7"), Ok(ymd(1989, 1, 7)));
        assert_eq!(parse_wareki("T1.7.30"), Ok(ymd(1912, 7, 30)));
        assert_eq!(parse_wareki("M45.7.29"), Ok(ymd(1912, 7, 29)));
    }

    #[test]
    fn strict_rejections() {
        for s in [
            "平成31年5月1日",
            "令和1年4月30日",
            "昭和64年1月8日",
            "令和0年5月1日",
            "明治元年1月1日",
            "H32.1.1",
        ] {
            assert!(
                matches!(parse_wareki(s), Err(WarekiError::OutsideEra(_))),
                "{s}"
            );
        }
        for s in [
            "令和5年2月29日",
            "令和6年13月1日",
            "令和6年4月31日",
            "R6.2.30",
        ] {
            assert!(
                matches!(parse_wareki(s), Err(WarekiError::InvalidDate(_))),
                "{s}"
            );
        }
        assert_eq!(parse_wareki("令和6年2月29日"), Ok(ymd(2024, 2, 29)));
        for s in [
            "",
            "令和",
            "2026年11月22日",
            "令和八年1月1日",
            "R8.11",
            "X8.1.1",
            "令和8年11月22",
            "R8-11-22",
            "R8.11.22日",
        ] {
            assert_eq!(parse_wareki(s), Err(WarekiError::Format), "{s}");
        }
    }

    #[test]
    fn error_messages_are_japanese() {
        assert_eq!(
            parse_wareki("平成31年5月1日").unwrap_err().to_string(),
            "平成31年5月1日は存在しません（平成は1989年1月8日から2019年4月30日まで）。"
        );
        assert_eq!(
            parse_wareki("令和1年4月30日").unwrap_err().to_string(),
            "令和元年4月30日は存在しません（令和は2019年5月1日から）。"
        );
        assert_eq!(
            parse_wareki("R6.2.30").unwrap_err().to_string(),
            "令和6年2月30日は存在しない日付です。"
        );
    }

    #[test]
    fn format_date_ja_shows_both_calendars() {
        assert_eq!(
            format_date_ja(ymd(2026, 11, 22)),
            "令和8年11月22日（2026年11月22日）"
        );
        assert_eq!(
            format_date_ja(ymd(2019, 5, 1)),
            "令和元年5月1日（2019年5月1日）"
        );
        assert_eq!(format_date_ja(ymd(1868, 1, 1)), "1868年1月1日");
    }

    #[test]
    fn every_day_round_trips() {
        let mut d = ymd(1868, 10, 23);
        while d <= ymd(2100, 12, 31) {
            let w = to_wareki(d).unwrap();
            assert_eq!(parse_wareki(&w.to_string()), Ok(d));
            d = d.succ_opt().unwrap();
        }
    }

    proptest! {
        #[test]
        fn round_trip(offset in 0i64..=(ymd(2100, 12, 31) - ymd(1873, 1, 1)).num_days()) {
            let d = ymd(1873, 1, 1) + chrono::Duration::days(offset);
            let w = to_wareki(d).unwrap();
            prop_assert_eq!(parse_wareki(&w.to_string()), Ok(d));
            let short = format!("{}{}.{}.{}", w.era.abbreviation(), w.year, w.month, w.day);
            prop_assert_eq!(parse_wareki(&short), Ok(d));
        }

        #[test]
        fn parse_never_panics(input in "\\PC*") {
            let _ = parse_wareki(&input);
        }

        #[test]
        fn parse_never_panics_on_near_misses(input in "(令和|平成|R|h)[0-9元]{1,6}[年.][0-9]{1,3}[月.][0-9]{1,3}日?") {
            let _ = parse_wareki(&input);
        }
    }
}
