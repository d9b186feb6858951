//! When the provider is reminded: a deadline coming up (an unsubmitted draft or a returned case
//! due within 7 days, then within 1 day) and a designation running out (3 months, then 1 week
//! before its last valid day). Pure date arithmetic on JST dates; the sweep that writes the
//! notifications passes "today" in.
//!
//! Each reminder is a *stage*. The sweep asks for the stage that applies today and writes one
//! notification per stage (deduplicated by a key naming the stage), so running it twice a day
//! or skipping a day never doubles or loses a reminder: a sweep that first sees a draft 1 day
//! before its due date writes only the 1-day reminder.

use chrono::{Days, Months, NaiveDate};

/// How close a due date is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadlineStage {
    /// Due within 7 days (2 to 7 days left).
    Week,
    /// Due today or tomorrow.
    Day,
}

impl DeadlineStage {
    /// Short key used in deduplication keys (`7d`, `1d`).
    pub fn key(self) -> &'static str {
        match self {
            DeadlineStage::Week => "7d",
            DeadlineStage::Day => "1d",
        }
    }
}

/// The reminder stage of a due date as of `today`: `None` when more than 7 days are left or
/// the date has passed (an overdue item is shown as overdue, not reminded of again).
pub fn deadline_stage(due: NaiveDate, today: NaiveDate) -> Option<DeadlineStage> {
    if due < today {
        return None;
    }
    let left = (due - today).num_days();
    match left {
        0..=1 => Some(DeadlineStage::Day),
        2..=7 => Some(DeadlineStage::Week),
        _ => None,
    }
}

/// How close a designation's end is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryStage {
    /// From 3 months before the last valid day.
    ThreeMonths,
    /// From 1 week before the last valid day.
    OneWeek,
}

impl ExpiryStage {
    /// Short key used in deduplication keys (`3m`, `1w`).
    pub fn key(self) -> &'static str {
        match self {
            ExpiryStage::ThreeMonths => "3m",
            ExpiryStage::OneWeek => "1w",
        }
    }
}

/// The day 3 months before `valid_until`: the same day of the month, or the month's last day
/// when that month is shorter (05-31 → 02-28, or 02-29 in a leap year).
pub fn three_months_before(valid_until: NaiveDate) -> Option<NaiveDate> {
    valid_until.checked_sub_months(Months::new(3))
}

/// The day 1 week before `valid_until`.
pub fn one_week_before(valid_until: NaiveDate) -> Option<NaiveDate> {
    valid_until.checked_sub_days(Days::new(7))
}

/// The reminder stage of a designation valid until `valid_until` (its last valid day) as of
/// `today`: `None` before the 3-month mark and after the designation ended.
pub fn expiry_stage(valid_until: NaiveDate, today: NaiveDate) -> Option<ExpiryStage> {
    if today > valid_until {
        return None;
    }
    if one_week_before(valid_until).is_some_and(|d| today >= d) {
        return Some(ExpiryStage::OneWeek);
    }
    if three_months_before(valid_until).is_some_and(|d| today >= d) {
        return Some(ExpiryStage::ThreeMonths);
    }
    None
}

/// Days from `today` to `date` (negative when past).
pub fn days_until(date: NaiveDate, today: NaiveDate) -> i64 {
    (date - today).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn deadline_stages_by_days_left() {
        let due = d("2026-12-10");
        assert_eq!(deadline_stage(due, d("2026-12-01")), None, "9 days left");
        assert_eq!(deadline_stage(due, d("2026-12-02")), None, "8 days left");
        assert_eq!(
            deadline_stage(due, d("2026-12-03")),
            Some(DeadlineStage::Week)
        );
        assert_eq!(
            deadline_stage(due, d("2026-12-08")),
            Some(DeadlineStage::Week)
        );
        assert_eq!(
            deadline_stage(due, d("2026-12-09")),
            Some(DeadlineStage::Day)
        );
        assert_eq!(
            deadline_stage(due, d("2026-12-10")),
            Some(DeadlineStage::Day),
            "due today"
        );
        assert_eq!(deadline_stage(due, d("2026-12-11")), None, "overdue");
    }

    #[test]
    fn deadline_stage_crosses_month_and_year_ends() {
        assert_eq!(
            deadline_stage(d("2027-01-02"), d("2026-12-27")),
            Some(DeadlineStage::Week)
        );
        assert_eq!(
            deadline_stage(d("2027-01-01"), d("2026-12-31")),
            Some(DeadlineStage::Day)
        );
        assert_eq!(
            deadline_stage(d("2028-03-01"), d("2028-02-28")),
            Some(DeadlineStage::Week),
            "2028 is a leap year: two days left"
        );
        assert_eq!(
            deadline_stage(d("2027-03-01"), d("2027-02-28")),
            Some(DeadlineStage::Day)
        );
    }

    #[test]
    fn three_months_before_clamps_to_month_end() {
        assert_eq!(three_months_before(d("2026-05-31")), Some(d("2026-02-28")));
        assert_eq!(three_months_before(d("2028-05-31")), Some(d("2028-02-29")));
        assert_eq!(three_months_before(d("2026-03-31")), Some(d("2025-12-31")));
        assert_eq!(three_months_before(d("2026-01-15")), Some(d("2025-10-15")));
        assert_eq!(three_months_before(d("2026-07-31")), Some(d("2026-04-30")));
        assert_eq!(three_months_before(d("2026-12-31")), Some(d("2026-09-30")));
    }

    #[test]
    fn one_week_before_crosses_month_ends() {
        assert_eq!(one_week_before(d("2026-03-03")), Some(d("2026-02-24")));
        assert_eq!(one_week_before(d("2028-03-03")), Some(d("2028-02-25")));
        assert_eq!(one_week_before(d("2027-01-05")), Some(d("2026-12-29")));
    }

    #[test]
    fn expiry_stages() {
        let until = d("2027-03-31");
        assert_eq!(expiry_stage(until, d("2026-12-30")), None);
        assert_eq!(
            expiry_stage(until, d("2026-12-31")),
            Some(ExpiryStage::ThreeMonths),
            "3 months before 03-31 is 12-31"
        );
        assert_eq!(
            expiry_stage(until, d("2027-03-23")),
            Some(ExpiryStage::ThreeMonths)
        );
        assert_eq!(
            expiry_stage(until, d("2027-03-24")),
            Some(ExpiryStage::OneWeek)
        );
        assert_eq!(
            expiry_stage(until, d("2027-03-31")),
            Some(ExpiryStage::OneWeek),
            "the last valid day"
        );
        assert_eq!(expiry_stage(until, d("2027-04-01")), None, "ended");
    }

    #[test]
    fn expiry_three_months_mark_of_a_month_end_in_a_short_month() {
        // Valid until 2026-05-31: the 3-month mark is 02-28 (no 02-31).
        let until = d("2026-05-31");
        assert_eq!(expiry_stage(until, d("2026-02-27")), None);
        assert_eq!(
            expiry_stage(until, d("2026-02-28")),
            Some(ExpiryStage::ThreeMonths)
        );
        // A designation ending on 08-31 is reminded from 05-31.
        assert_eq!(expiry_stage(d("2026-08-31"), d("2026-05-30")), None);
        assert_eq!(
            expiry_stage(d("2026-08-31"), d("2026-05-31")),
            Some(ExpiryStage::ThreeMonths)
        );
    }

    #[test]
    fn days_until_counts_calendar_days() {
        assert_eq!(days_until(d("2026-12-10"), d("2026-12-03")), 7);
        assert_eq!(days_until(d("2026-12-01"), d("2026-12-03")), -2);
        assert_eq!(days_until(d("2029-03-01"), d("2028-02-28")), 367);
    }
}
