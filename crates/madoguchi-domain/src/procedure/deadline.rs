//! Deadlines as data: when a filing is due, counted from a date the filing
//! states (変更年月日, 廃止予定日, 算定開始月, 指定有効期間満了日).
//!
//! ```toml
//! [deadline]                      # 変更届: within 10 days after the change
//! label = "変更後10日以内"
//! after = "change_date"
//! days = 10
//!
//! [deadline]                      # 廃止・休止届: 1 month before
//! label = "廃止・休止の1か月前まで"
//! before = "planned_date"
//! months = 1
//!
//! [deadline]                      # 加算届: by the 15th of the previous month
//! label = "算定開始月の前月15日まで"
//! before = "start_date"
//! day_of_previous_month = 15
//! ```
//!
//! An authority's local rules may replace the deadline for its own cases.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::model::{FieldKind, FilingData, ProcedureDefinition};

/// When a filing is due, relative to one top-level date field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// How the deadline is said to people (変更後10日以内).
    pub label: String,
    /// Due this long **after** the date in this field.
    #[serde(default)]
    pub after: Option<String>,
    /// Due this long **before** the date in this field.
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub months: Option<u32>,
    /// Due on this day of the month before the field's month (1–28).
    #[serde(default)]
    pub day_of_previous_month: Option<u32>,
}

impl Deadline {
    /// The field the deadline counts from.
    pub fn field(&self) -> Option<&str> {
        self.after.as_deref().or(self.before.as_deref())
    }

    /// The due date counted from `date`; `None` if out of the calendar.
    pub fn due_from(&self, date: NaiveDate) -> Option<NaiveDate> {
        if self.after.is_some() {
            return match (self.days, self.months) {
                (Some(d), None) => date.checked_add_days(Days::new(d.into())),
                (None, Some(m)) => date.checked_add_months(Months::new(m)),
                _ => None,
            };
        }
        match (self.days, self.months, self.day_of_previous_month) {
            (Some(d), None, None) => date.checked_sub_days(Days::new(d.into())),
            (None, Some(m), None) => date.checked_sub_months(Months::new(m)),
            (None, None, Some(day)) => {
                let first = date.with_day(1)?;
                let previous = first.checked_sub_months(Months::new(1))?;
                previous.with_day(day)
            }
            _ => None,
        }
    }

    /// Load-time problems (English, for definition authors).
    pub(crate) fn problems(&self, def: &ProcedureDefinition) -> Vec<String> {
        let mut out = Vec::new();
        if self.label.trim().is_empty() {
            out.push("deadline label must not be empty".to_owned());
        }
        match (&self.after, &self.before) {
            (Some(_), Some(_)) | (None, None) => {
                out.push("deadline needs exactly one of `after` and `before`".to_owned())
            }
            _ => {}
        }
        let amounts = [
            self.days.is_some(),
            self.months.is_some(),
            self.day_of_previous_month.is_some(),
        ];
        if amounts.iter().filter(|a| **a).count() != 1 {
            out.push(
                "deadline needs exactly one of `days`, `months`, `day_of_previous_month`"
                    .to_owned(),
            );
        }
        if self.after.is_some() && self.day_of_previous_month.is_some() {
            out.push("`day_of_previous_month` goes with `before`".to_owned());
        }
        if let Some(day) = self.day_of_previous_month
            && !(1..=28).contains(&day)
        {
            out.push(format!("day_of_previous_month {day} must be 1–28"));
        }
        if let Some(name) = self.field() {
            match def.field(name) {
                None => out.push(format!("deadline refers to unknown field `{name}`")),
                Some((g, f)) if g.per_establishment || g.repeat.is_some() => out.push(format!(
                    "deadline field `{}` must be a top-level field, not in group `{}`",
                    f.id, g.id
                )),
                Some((_, f)) if f.kind != FieldKind::Date => out.push(format!(
                    "deadline field `{name}` must be a date, not {}",
                    f.kind.as_str()
                )),
                Some(_) => {}
            }
        }
        out
    }
}

impl ProcedureDefinition {
    /// The due date of a filing with these answers, when the definition has a
    /// deadline and the date it counts from is answered.
    pub fn due_date(&self, data: &FilingData) -> Option<NaiveDate> {
        let deadline = self.deadline.as_ref()?;
        let raw = data.fields.get(deadline.field()?)?.as_str()?;
        let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
        deadline.due_from(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn deadline(toml: &str) -> Deadline {
        toml::from_str(&format!("label = \"x\"\n{toml}")).unwrap()
    }

    #[test]
    fn the_national_defaults() {
        let ten_days_after = deadline("after = \"f\"\ndays = 10");
        assert_eq!(
            ten_days_after.due_from(d("2026-04-25")),
            Some(d("2026-05-05"))
        );
        let month_before = deadline("before = \"f\"\nmonths = 1");
        assert_eq!(
            month_before.due_from(d("2026-03-31")),
            Some(d("2026-02-28"))
        );
        let fifteenth = deadline("before = \"f\"\nday_of_previous_month = 15");
        assert_eq!(fifteenth.due_from(d("2026-04-01")), Some(d("2026-03-15")));
        assert_eq!(fifteenth.due_from(d("2026-01-20")), Some(d("2025-12-15")));
        let day_before = deadline("before = \"f\"\ndays = 1");
        assert_eq!(day_before.due_from(d("2032-03-31")), Some(d("2032-03-30")));
    }
}

#[cfg(test)]
mod renewal_tests {
    use chrono::NaiveDate;

    use crate::procedure::Renewal;

    #[test]
    fn a_renewal_runs_six_years_from_the_day_after_expiry() {
        let r = Renewal {
            service_field: "s".into(),
            years: 6,
        };
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            r.next_period(d("2028-03-31")),
            Some((d("2028-04-01"), d("2034-03-31")))
        );
        // Ending on 28 February of a year before a leap year.
        assert_eq!(
            r.next_period(d("2027-02-28")),
            Some((d("2027-03-01"), d("2033-02-28")))
        );
    }
}
