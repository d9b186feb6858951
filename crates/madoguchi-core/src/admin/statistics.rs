//! Per-procedure statistics of an authority's cases over a period (default: the current fiscal
//! year, 4/1–3/31 JST). A case counts in the period it **arrived** (first submission, 到達):
//!
//! - received: cases that arrived in the period;
//! - pending: of those, still 提出済 or 差戻し;
//! - decided: of those, 受付完了 (withdrawn cases are counted apart: the authority decided
//!   nothing);
//! - median days to decide: median of (受付完了 − 到達) in days over the decided cases;
//! - return rate: decided cases returned at least once ÷ decided cases;
//! - satisfaction: average and number of the 1–5 ratings given to the filings behind the
//!   received cases.
//!
//! Medians and averages are computed here, in Rust, so both backends give the same figures.

use chrono::{Datelike, NaiveDate, TimeZone};
use madoguchi_db::statistics;
use madoguchi_domain::procedure::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

use super::authority_name;
use crate::clock::{jst, today_jst};
use crate::{Actor, App, CoreError, CoreResult};

/// One procedure's figures (or the total).
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct ProcedureStatistics {
    /// Procedure id; `null` on the total row.
    pub procedure_id: Option<String>,
    pub procedure_title: String,
    pub received: u64,
    pub pending: u64,
    pub decided: u64,
    pub withdrawn: u64,
    /// Median days from arrival to acceptance (`null` when nothing was decided).
    pub median_days_to_decide: Option<f64>,
    /// Decided cases returned at least once.
    pub decided_after_return: u64,
    /// `decided_after_return / decided` (0–1; `null` when nothing was decided).
    pub return_rate: Option<f64>,
    /// Average satisfaction score, 1–5 (`null` without ratings).
    pub satisfaction_average: Option<f64>,
    pub satisfaction_count: u64,
}

/// The statistics of an authority for a period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Statistics {
    pub authority_code: String,
    pub authority_name: String,
    /// First day of the period (JST), `YYYY-MM-DD`.
    pub from: String,
    /// Last day of the period (JST), inclusive.
    pub to: String,
    /// Every procedure of the catalog, in catalog order (zeros included).
    pub procedures: Vec<ProcedureStatistics>,
    pub total: ProcedureStatistics,
}

/// The fiscal year (4/1–3/31) holding `day`.
pub fn fiscal_year_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start_year = if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    };
    let from = NaiveDate::from_ymd_opt(start_year, 4, 1).unwrap_or(day);
    let to = NaiveDate::from_ymd_opt(start_year + 1, 3, 31).unwrap_or(day);
    (from, to)
}

fn bad_date(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        code: "invalid_date".into(),
        message: message.into(),
    }
}

/// Reads the period asked for: `from` and `to` as `YYYY-MM-DD` (either may be absent: the
/// current fiscal year's bound is used). The errors name `from` / `to`.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), Vec<FieldError>> {
    let (fy_from, fy_to) = fiscal_year_of(today);
    let parse = |v: Option<&str>, field: &str, label: &str, default: NaiveDate| match v
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Ok(default),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
            bad_date(
                field,
                &format!("{label}は「2026-04-01」の形の日付で入力してください。"),
            )
        }),
    };
    let from = parse(from, "from", "集計の開始日", fy_from);
    let to = parse(to, "to", "集計の終了日", fy_to);
    match (from, to) {
        (Ok(f), Ok(t)) if f > t => Err(vec![bad_date(
            "to",
            "集計の終了日は開始日と同じか、それより後の日付にしてください。",
        )]),
        (Ok(f), Ok(t)) if (t - f).num_days() > 366 * 10 => {
            Err(vec![bad_date("to", "集計の期間は10年以内にしてください。")])
        }
        (Ok(f), Ok(t)) => Ok((f, t)),
        (f, t) => Err([f.err(), t.err()].into_iter().flatten().collect()),
    }
}

/// Midnight JST at the start of `day`, in epoch milliseconds.
fn start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| jst().from_local_datetime(&t).single())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

/// The median of a non-empty list.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

#[derive(Default)]
struct Acc {
    received: u64,
    pending: u64,
    decided: u64,
    withdrawn: u64,
    days: Vec<f64>,
    decided_after_return: u64,
    scores: Vec<i64>,
}

impl Acc {
    fn add_case(&mut self, c: &statistics::CaseFigureRow) {
        self.received += 1;
        match c.status.as_str() {
            "accepted" => {
                self.decided += 1;
                if let Some(d) = c.decided_at {
                    self.days.push((d - c.submitted_at) as f64 / 86_400_000.0);
                }
                if c.returns > 0 {
                    self.decided_after_return += 1;
                }
            }
            "withdrawn" => self.withdrawn += 1,
            _ => self.pending += 1,
        }
    }

    fn finish(mut self, procedure_id: Option<String>, title: String) -> ProcedureStatistics {
        let ratings = self.scores.len() as u64;
        ProcedureStatistics {
            procedure_id,
            procedure_title: title,
            received: self.received,
            pending: self.pending,
            decided: self.decided,
            withdrawn: self.withdrawn,
            median_days_to_decide: median(&mut self.days),
            decided_after_return: self.decided_after_return,
            return_rate: (self.decided > 0)
                .then(|| self.decided_after_return as f64 / self.decided as f64),
            satisfaction_average: (ratings > 0)
                .then(|| self.scores.iter().sum::<i64>() as f64 / ratings as f64),
            satisfaction_count: ratings,
        }
    }
}

/// The statistics of the authority `code` for the period (`from`/`to` as `YYYY-MM-DD`, each
/// defaulting to the current fiscal year's bound).
pub async fn compute(
    app: &App,
    actor: &Actor,
    code: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> CoreResult<Statistics> {
    let mut tx = app.db.begin_read().await?;
    let name = authority_name(&mut tx, actor, code).await?;
    let (from, to) = match period(from, to, today_jst(app.clock.as_ref())) {
        Ok(p) => p,
        Err(e) => {
            tx.rollback().await?;
            return Err(CoreError::Validation(e));
        }
    };
    let lo = start_ms(from);
    let hi = start_ms(to.succ_opt().unwrap_or(to));
    let cases = statistics::cases_received(&mut tx, code, lo, hi).await?;
    let ratings = statistics::ratings_received(&mut tx, code, lo, hi).await?;
    tx.commit().await?;

    let mut per: std::collections::BTreeMap<String, Acc> = Default::default();
    let mut total = Acc::default();
    for c in &cases {
        per.entry(c.procedure_id.clone()).or_default().add_case(c);
        total.add_case(c);
    }
    for (procedure, score) in ratings {
        per.entry(procedure).or_default().scores.push(score);
        total.scores.push(score);
    }
    // Every procedure of the catalog, then any the catalog no longer holds.
    let mut procedures = Vec::new();
    for def in app.catalog.list_latest() {
        let acc = per.remove(&def.id).unwrap_or_default();
        procedures.push(acc.finish(Some(def.id.clone()), def.title.clone()));
    }
    for (id, acc) in per {
        procedures.push(acc.finish(Some(id.clone()), id));
    }
    Ok(Statistics {
        authority_code: code.to_owned(),
        authority_name: name,
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        procedures,
        total: total.finish(None, "合計".into()),
    })
}

/// Days with one decimal (「3.5」), or 「—」.
pub fn days_text(v: Option<f64>) -> String {
    v.map(|d| format!("{d:.1}")).unwrap_or_else(|| "—".into())
}

/// A rate as a percentage with one decimal (「25.0%」), or 「—」.
pub fn percent_text(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// An average score with two decimals (「4.33」), or 「—」.
pub fn score_text(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into())
}

/// The statistics as CSV (UTF-8 with a BOM, so spreadsheet software reads the Japanese; CRLF
/// line ends), one row per procedure and the total last.
pub fn to_csv(s: &Statistics) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let header = [
        "手続ID",
        "手続",
        "受付件数",
        "審査中",
        "受付完了",
        "取下げ",
        "処理日数の中央値",
        "差戻し後に受付完了",
        "差戻し率",
        "満足度の平均",
        "満足度の回答数",
    ];
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for p in s.procedures.iter().chain(std::iter::once(&s.total)) {
        let blank_dash = |t: String| if t == "—" { String::new() } else { t };
        let cells = [
            p.procedure_id.clone().unwrap_or_default(),
            p.procedure_title.clone(),
            p.received.to_string(),
            p.pending.to_string(),
            p.decided.to_string(),
            p.withdrawn.to_string(),
            blank_dash(days_text(p.median_days_to_decide)),
            p.decided_after_return.to_string(),
            blank_dash(percent_text(p.return_rate)),
            blank_dash(score_text(p.satisfaction_average)),
            p.satisfaction_count.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// One CSV cell: quoted when needed, and a leading `= + - @` neutralised with `'` so
/// spreadsheet software does not run it as a formula (as the ledger exports do).
fn csv_cell(text: &str) -> String {
    let text = madoguchi_domain::ledger::neutralize_formula(text);
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_fiscal_year_runs_from_april_to_march() {
        assert_eq!(
            fiscal_year_of(d("2026-05-10")),
            (d("2026-04-01"), d("2027-03-31"))
        );
        assert_eq!(
            fiscal_year_of(d("2027-03-31")),
            (d("2026-04-01"), d("2027-03-31"))
        );
        assert_eq!(
            fiscal_year_of(d("2026-04-01")),
            (d("2026-04-01"), d("2027-03-31"))
        );
    }

    #[test]
    fn periods_default_and_refuse_nonsense() {
        let today = d("2026-11-20");
        assert_eq!(
            period(None, None, today).unwrap(),
            (d("2026-04-01"), d("2027-03-31"))
        );
        assert_eq!(
            period(Some("2026-06-01"), Some(""), today).unwrap(),
            (d("2026-06-01"), d("2027-03-31"))
        );
        let e = period(Some("2026/06/01"), Some("x"), today).unwrap_err();
        assert_eq!(
            e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["from", "to"]
        );
        let e = period(Some("2026-06-02"), Some("2026-06-01"), today).unwrap_err();
        assert_eq!(e[0].field, "to");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 10.0]), Some(3.0));
    }

    #[test]
    fn periods_start_at_midnight_in_japan() {
        // 2026-04-01 00:00 JST is 2026-03-31 15:00 UTC.
        assert_eq!(start_ms(d("2026-04-01")), 1_774_969_200_000);
    }

    #[test]
    fn csv_has_a_bom_a_header_and_neutralised_cells() {
        let s = Statistics {
            authority_code: "131041".into(),
            authority_name: "新宿区".into(),
            from: "2026-04-01".into(),
            to: "2027-03-31".into(),
            procedures: vec![ProcedureStatistics {
                procedure_id: Some("change-notification".into()),
                procedure_title: "=変更,届出".into(),
                received: 4,
                decided: 2,
                median_days_to_decide: Some(2.5),
                return_rate: Some(0.5),
                ..Default::default()
            }],
            total: ProcedureStatistics {
                procedure_title: "合計".into(),
                ..Default::default()
            },
        };
        let text = String::from_utf8(to_csv(&s)).unwrap();
        assert!(text.starts_with("\u{feff}手続ID,手続,受付件数"));
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[1],
            "change-notification,\"'=変更,届出\",4,0,2,0,2.5,0,50.0%,,0"
        );
        assert_eq!(lines[2], ",合計,0,0,0,0,,0,,,0");
    }
}
