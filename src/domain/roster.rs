//! An affected individual on a roster: the validated value intake produces, the store seals
//! and letters address. No I/O.

use chrono::{Datelike, NaiveDate};

/// Age of majority for notices: a minor's notice goes to the parent or guardian (the
/// personal representative of 164.502(g)(3)). Most States set it at 18.
pub const AGE_OF_MAJORITY: u32 = 18;

/// One affected individual, as validated by `intake::roster_csv`. Text fields are trimmed
/// and empty when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterRow {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    /// Two-letter code of a State of 45 CFR 160.103 (DC, PR, VI, GU, AS and MP included);
    /// `None` only when the state column is blank and the row has no address at all.
    pub state: Option<String>,
    pub zip: String,
    pub email: String,
    /// The individual agreed to electronic notice (45 CFR 164.404(d)(1)(i)).
    pub email_consent: bool,
    pub phone: String,
    pub deceased: bool,
    pub nok_name: String,
    pub nok_address: String,
    pub nok_city: String,
    /// Normalised like `state`; `None` when blank.
    pub nok_state: Option<String>,
    pub nok_zip: String,
    /// Flagged as a minor in the roster; `None` when the roster says nothing (then the date
    /// of birth decides, see [`RosterRow::is_minor_on`]).
    pub minor: Option<bool>,
    pub representative_name: String,
    /// Date of birth, when the roster gives one.
    pub date_of_birth: Option<NaiveDate>,
    /// The person's own enrollment code for the credit-monitoring offer, when the roster
    /// gives one (the vendor issues one per person).
    pub credit_monitoring_code: String,
}

impl RosterRow {
    /// A complete US postal address: address line 1, city, a State and a valid ZIP (5
    /// digits, or ZIP+4). ZIP alone is not enough: the State is needed for the counts, and
    /// a letter needs the city line.
    pub fn has_postal_address(&self) -> bool {
        !self.address1.is_empty()
            && !self.city.is_empty()
            && self.state.is_some()
            && is_valid_zip(&self.zip)
    }

    /// The email may be used for notice: it looks like an address (`local@domain`) and the
    /// individual agreed to electronic notice.
    pub fn email_usable(&self) -> bool {
        self.email_consent && looks_like_email(&self.email)
    }

    /// Written notice can be sent: by post, or by email with consent.
    pub fn reachable(&self) -> bool {
        self.has_postal_address() || self.email_usable()
    }

    /// Next of kin or personal representative known with a complete postal address (same
    /// standard as [`RosterRow::has_postal_address`]).
    pub fn nok_contact_known(&self) -> bool {
        !self.nok_name.is_empty()
            && !self.nok_address.is_empty()
            && !self.nok_city.is_empty()
            && self.nok_state.is_some()
            && is_valid_zip(&self.nok_zip)
    }

    /// A living individual with no usable contact (counts toward substitute notice).
    pub fn is_unreachable_living(&self) -> bool {
        !self.deceased && !self.reachable()
    }

    /// A minor on `date` (the notice date): the roster's flag when it gives one, else the
    /// date of birth (under [`AGE_OF_MAJORITY`] on that day).
    pub fn is_minor_on(&self, date: NaiveDate) -> bool {
        match (self.minor, self.date_of_birth) {
            (Some(flag), _) => flag,
            (None, Some(dob)) => age_on(dob, date) < AGE_OF_MAJORITY,
            (None, None) => false,
        }
    }

    /// First and last name, or whichever is present.
    pub fn display_name(&self) -> String {
        match (self.first_name.is_empty(), self.last_name.is_empty()) {
            (false, false) => format!("{} {}", self.first_name, self.last_name),
            (false, true) => self.first_name.clone(),
            _ => self.last_name.clone(),
        }
    }
}

/// Whole years from `dob` to `on` (0 when `on` is before `dob`). A person born on
/// February 29 turns a year older on March 1 in a common year.
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> u32 {
    if on < dob {
        return 0;
    }
    let years = on.year() - dob.year();
    let birthday_passed = (on.month(), on.day()) >= (dob.month(), dob.day());
    (years - i32::from(!birthday_passed)).max(0) as u32
}

/// A ZIP code as the Postal Service prints it: `12345` or `12345-6789` (nine digits get
/// their hyphen); `None` when it is not a valid ZIP.
pub fn normalize_zip(s: &str) -> Option<String> {
    let s = s.trim();
    if !is_valid_zip(s) {
        return None;
    }
    Some(match s.len() {
        9 => format!("{}-{}", &s[..5], &s[5..]),
        _ => s.to_string(),
    })
}

/// 5 digits, 9 digits, or `12345-6789`.
pub fn is_valid_zip(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 | 9 => digits(b),
        10 => b[5] == b'-' && digits(&b[..5]) && digits(&b[6..]),
        _ => false,
    }
}

pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod age_tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn age_counts_whole_years_and_leap_day_birthdays() {
        assert_eq!(age_on(d("2008-11-20"), d("2026-11-20")), 18);
        assert_eq!(age_on(d("2008-11-21"), d("2026-11-20")), 17);
        // Born on February 29: a year older on March 1 in a common year.
        assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), 18);
        assert_eq!(age_on(d("2030-01-01"), d("2026-01-01")), 0);
        assert_eq!(normalize_zip("123456789").as_deref(), Some("12345-6789"));
        assert_eq!(normalize_zip(" 12345 ").as_deref(), Some("12345"));
        assert_eq!(normalize_zip("1234"), None);
    }
}
