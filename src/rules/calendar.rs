//! Date arithmetic for the notice deadlines.
//!
//! Reference § 3: all periods are **calendar days** counted from the discovery date
//! (day 0); the day 60 days later is the last permitted day; there is no weekend or
//! holiday roll-forward. Arithmetic saturates at the ends of chrono's range instead of
//! panicking (no realistic date gets near them).

use chrono::{Datelike, Days, Months, NaiveDate};

pub use crate::domain::BusinessDays;

/// "Without unreasonable delay and in no case later than 60 calendar days after discovery",
/// 164.404(b), 164.406(b), 164.408(b), 164.410(b).
pub const NOTICE_DAYS: u64 = 60;
/// Substitute web posting and toll-free number: at least 90 days, 164.404(d)(2)(ii).
pub const SUBSTITUTE_WINDOW_DAYS: u64 = 90;
/// An oral law-enforcement statement delays notice no longer than 30 days, 164.412(b).
pub const ORAL_DELAY_DAYS: u64 = 30;
/// Documentation is kept 6 years, 164.530(j)(2).
pub const RETENTION_YEARS: u32 = 6;

/// `d + n` calendar days, saturating at the end of the calendar.
pub fn plus_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

/// `d + n` calendar days for a signed `n`, saturating at both ends.
pub fn plus_days_signed(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        plus_days(d, n.unsigned_abs())
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
            .unwrap_or(NaiveDate::MIN)
    }
}

/// Signed number of days from `from` to `to`.
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Last permitted day of a 60-day notice: discovery + 60 calendar days.
pub fn sixty_days(discovered: NaiveDate) -> NaiveDate {
    plus_days(discovered, NOTICE_DAYS)
}

/// The annual HHS log for breaches of fewer than 500, 164.408(c): within 60 days after the
/// end of the calendar year of **discovery**, i.e. Dec 31 + 60 days = March 1, or February
/// 29 when the following year is a leap year.
pub fn hhs_annual_due(discovered: NaiveDate) -> NaiveDate {
    match NaiveDate::from_ymd_opt(discovered.year(), 12, 31) {
        Some(dec31) => plus_days(dec31, NOTICE_DAYS),
        None => NaiveDate::MAX,
    }
}

/// Retention, 164.530(j)(2): six years from the date last in effect. A Feb 29 start ends on
/// Feb 28 (chrono clamps to the last day of the month), which never shortens the period
/// below six calendar years by more than the missing leap day.
pub fn retention_until(last_in_effect: NaiveDate) -> NaiveDate {
    last_in_effect
        .checked_add_months(Months::new(12 * RETENTION_YEARS))
        .unwrap_or(NaiveDate::MAX)
}

/// Counting business days under the policy ([`BusinessDays`], a domain value set per
/// organization or per what-if): the anchor day is day 0 and is not counted; each following
/// day that is a business day counts one; the due date is the day the count reaches N. A
/// due date is therefore always a business day.
impl BusinessDays {
    pub fn is_business_day(self, d: NaiveDate) -> bool {
        let weekend = matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        match self {
            BusinessDays::WeekendsOnly => !weekend,
            BusinessDays::FederalHolidays => !weekend && !is_federal_holiday(d),
        }
    }

    /// The `n`-th business day after `from` (`from` itself is day 0). Saturates at the end
    /// of the calendar.
    pub fn add(self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return NaiveDate::MAX,
            }
            if self.is_business_day(d) {
                left -= 1;
            }
        }
        d
    }
}

/// The federal legal public holidays of `year` (5 U.S.C. 6103(a)) on their observed days
/// (6103(b); Executive Order 11582). New Year's Day of `year + 1` falling on a Saturday is
/// observed on December 31 of `year` and is included.
pub fn federal_holidays(year: i32) -> Vec<NaiveDate> {
    use chrono::Weekday::{Mon, Thu};
    let fixed = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let nth =
        |m: u32, wd: chrono::Weekday, n: u8| NaiveDate::from_weekday_of_month_opt(year, m, wd, n);
    let last_monday_may = (1..=5u8)
        .rev()
        .find_map(|n| NaiveDate::from_weekday_of_month_opt(year, 5, Mon, n));
    let mut actual = vec![
        fixed(year, 1, 1),
        nth(1, Mon, 3),
        nth(2, Mon, 3),
        last_monday_may,
        (year >= 2021).then(|| fixed(year, 6, 19)).flatten(),
        fixed(year, 7, 4),
        nth(9, Mon, 1),
        nth(10, Mon, 2),
        fixed(year, 11, 11),
        nth(11, Thu, 4),
        fixed(year, 12, 25),
    ];
    actual.push(fixed(year + 1, 1, 1));
    let mut out: Vec<NaiveDate> = actual
        .into_iter()
        .flatten()
        .map(observed)
        .filter(|d| d.year() == year)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        chrono::Weekday::Sat => d.pred_opt().unwrap_or(d),
        chrono::Weekday::Sun => d.succ_opt().unwrap_or(d),
        _ => d,
    }
}

pub fn is_federal_holiday(d: NaiveDate) -> bool {
    federal_holidays(d.year()).contains(&d)
}
