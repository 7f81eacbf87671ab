//! Date arithmetic for the notice deadlines.
//!
//! Reference § 3: all periods are **calendar days** counted from the discovery date
//! (day 0); the day 60 days later is the last permitted day; there is no weekend or
//! holiday roll-forward. Arithmetic saturates at the ends of chrono's range instead of
//! panicking (no realistic date gets near them).

use chrono::{Datelike, Days, Months, NaiveDate};

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
