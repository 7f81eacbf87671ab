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
    /// Date of birth, when the roster has one (identity matching; minority at the notice
    /// date is computed from it by the letters when `minor` is absent).
    pub date_of_birth: Option<NaiveDate>,
    /// An explicit minor flag column: `Some(true)` / `Some(false)`; `None` when the roster
    /// has no such column or the cell is blank.
    pub minor: Option<bool>,
    pub representative_name: String,
    /// The covered entity whose individual this is, for a business associate serving
    /// several (empty when the roster has no covered-entity column).
    pub covered_entity: String,
    /// The person's own enrollment code for the credit-monitoring offer, when the roster
    /// gives one (the vendor issues one per person).
    pub credit_monitoring_code: String,
}

/// How a living individual on the roster gets written notice (164.404(d)(1)), or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecipientClass {
    /// First-class mail to a complete postal address.
    Postal,
    /// Electronic mail: the individual agreed to electronic notice and the address is usable.
    Email,
    /// Deceased, next of kin or personal representative known with a complete address:
    /// the next-of-kin letter (164.404(d)(1)(ii)).
    NextOfKin,
    /// Living but not reachable as the roster stands (see [`FixReason`]): counted as
    /// unreachable (substitute notice, 164.404(d)(2)) until the row is fixed.
    NeedsFixing,
    /// Deceased without a next-of-kin address: no notice required.
    NoNotice,
}

impl RecipientClass {
    pub fn key(self) -> &'static str {
        match self {
            RecipientClass::Postal => "postal",
            RecipientClass::Email => "email",
            RecipientClass::NextOfKin => "next_of_kin",
            RecipientClass::NeedsFixing => "needs_fixing",
            RecipientClass::NoNotice => "no_notice",
        }
    }
}

/// Why a living individual's row cannot be mailed as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixReason {
    /// Neither first nor last name holds a name (blank, punctuation, or a placeholder such
    /// as "unknown").
    NoName,
    /// A postal recipient (no e-mail consent with a usable address) without a complete
    /// postal address.
    NoPostalAddress,
}

impl FixReason {
    /// The field the reason is about (a roster field key).
    pub fn field(self) -> &'static str {
        match self {
            FixReason::NoName => "last_name",
            FixReason::NoPostalAddress => "address1",
        }
    }

    /// What is wrong and what to do; never a value.
    pub fn text(self) -> &'static str {
        match self {
            FixReason::NoName => {
                "no usable name (blank, punctuation or a placeholder): a letter cannot be \
                 addressed; fill in the name and import the row again"
            }
            FixReason::NoPostalAddress => {
                "no complete postal address (street, city, State and a valid ZIP) and no \
                 e-mail consent: counted as unreachable (substitute notice) until the \
                 address is completed and the row imported again"
            }
        }
    }
}

/// Placeholders exports put where a name is missing, letters only, lowercase (real
/// surnames such as "Null" or "Test" are not on the list).
const PLACEHOLDER_NAMES: &[&str] = &[
    "unknown",
    "unk",
    "na",
    "none",
    "tbd",
    "xxx",
    "noname",
    "missing",
    "notprovided",
];

/// A name part that names someone: it has a letter and is not a placeholder (`N/A`,
/// `UNKNOWN`, `xxx`, …).
pub fn is_usable_name(s: &str) -> bool {
    // Placeholders are short and ASCII: fold at most 16 letters and digits on the stack.
    let mut buf = [0u8; 16];
    let mut n = 0;
    let mut alpha = false;
    let mut short = true;
    for c in s.chars() {
        alpha |= c.is_alphabetic();
        if c.is_alphanumeric() {
            if c.is_ascii() && n < buf.len() {
                buf[n] = c.to_ascii_lowercase() as u8;
                n += 1;
            } else {
                short = false;
            }
        }
    }
    alpha && !(short && PLACEHOLDER_NAMES.iter().any(|p| p.as_bytes() == &buf[..n]))
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

    /// The email may be used for notice: it looks like an address (`local@domain.tld`) and
    /// the individual agreed to electronic notice.
    pub fn email_usable(&self) -> bool {
        self.email_consent && looks_like_email(&self.email)
    }

    /// First or last name names someone (see [`is_usable_name`]).
    pub fn has_usable_name(&self) -> bool {
        is_usable_name(&self.first_name) || is_usable_name(&self.last_name)
    }

    /// Why a living individual's row cannot be mailed as it stands; `None` when it can (or
    /// the individual is deceased: the next of kin is the recipient).
    pub fn needs_fixing(&self) -> Option<FixReason> {
        if self.deceased {
            return None;
        }
        if !self.has_usable_name() {
            return Some(FixReason::NoName);
        }
        if !self.email_usable() && !self.has_postal_address() {
            return Some(FixReason::NoPostalAddress);
        }
        None
    }

    /// Written notice can be sent to the individual: a usable name, and a postal address or
    /// an e-mail with consent.
    pub fn reachable(&self) -> bool {
        self.has_usable_name() && (self.has_postal_address() || self.email_usable())
    }

    /// How this individual gets notice (164.404(d)(1)): e-mail when they agreed to it and
    /// the address is usable, else post; the next of kin of a deceased individual.
    pub fn recipient_class(&self) -> RecipientClass {
        if self.deceased {
            return if self.nok_contact_known() {
                RecipientClass::NextOfKin
            } else {
                RecipientClass::NoNotice
            };
        }
        match self.needs_fixing() {
            Some(_) => RecipientClass::NeedsFixing,
            None if self.email_usable() => RecipientClass::Email,
            None => RecipientClass::Postal,
        }
    }

    /// Next of kin or personal representative known with a complete postal address (same
    /// standard as [`RosterRow::has_postal_address`]).
    pub fn nok_contact_known(&self) -> bool {
        is_usable_name(&self.nok_name)
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

/// `local@domain.tld`: one `@`, a non-empty local part, a domain of dot-separated labels
/// (letters, digits, hyphens; no label empty or starting or ending with a hyphen) whose last
/// label has at least two letters, and nothing a mail system would refuse (spaces, commas,
/// quotes, angle brackets, consecutive or edge dots in the local part).
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() > 253 || s.len() > 254 {
        return false;
    }
    let local_ok = local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b) || b >= 0x80)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
    };
    let tld = labels[labels.len() - 1];
    labels.iter().all(|l| label_ok(l))
        && tld.chars().count() >= 2
        && tld
            .chars()
            .all(|c| c.is_alphabetic() || c == '-' || c.is_ascii_digit())
        && tld.chars().any(char::is_alphabetic)
}

/// A name reduced for identity matching: letters and digits only, lowercase, accents kept,
/// words in order (`"O'Brien,  Mary-Ann "` → `"obrien maryann"`).
pub fn normalize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    words(s, &mut |w| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    });
    out
}

/// Calls `f` with each word of `s` as [`normalize_name`] forms them (letters and digits,
/// lowercase; words end at spaces and commas, other characters are dropped), without
/// allocating for ASCII words of up to 64 bytes.
fn words(s: &str, f: &mut dyn FnMut(&str)) {
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut long = String::new();
    let flush = |buf: &[u8; 64], n: &mut usize, long: &mut String, f: &mut dyn FnMut(&str)| {
        if !long.is_empty() {
            f(long);
            long.clear();
        } else if *n > 0 {
            f(std::str::from_utf8(&buf[..*n]).unwrap_or(""));
        }
        *n = 0;
    };
    for c in s.chars() {
        if c.is_alphanumeric() {
            if c.is_ascii() && long.is_empty() && n < buf.len() {
                buf[n] = c.to_ascii_lowercase() as u8;
                n += 1;
            } else {
                if long.is_empty() {
                    long.push_str(std::str::from_utf8(&buf[..n]).unwrap_or(""));
                }
                long.extend(c.to_lowercase());
            }
        } else if c.is_whitespace() || c == ',' {
            flush(&buf, &mut n, &mut long, f);
        }
    }
    flush(&buf, &mut n, &mut long, f);
}

/// Feeds `f` the bytes of [`match_name`]`(first, last)`, without allocating.
pub fn match_name_into(first: &str, last: &str, f: &mut dyn FnMut(&[u8])) {
    let part = |s: &str, f: &mut dyn FnMut(&[u8])| {
        words(s, &mut |w| f(w.as_bytes()));
    };
    part(first, f);
    f(b"|");
    part(last, f);
}

/// A person's name reduced for identity matching: first and last name, each with letters and
/// digits only, lowercase (`"Mary-Ann", "O'Brien"` and `"Mary Ann", "OBrien"` match).
pub fn match_name(first: &str, last: &str) -> String {
    let mut out = Vec::new();
    match_name_into(first, last, &mut |b| out.extend_from_slice(b));
    String::from_utf8(out).unwrap_or_default()
}

/// Street abbreviations folded for address matching (USPS Publication 28 suffixes and
/// unit designators most often spelled both ways).
const ADDRESS_WORDS: &[(&str, &str)] = &[
    ("street", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("road", "rd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("boulevard", "blvd"),
    ("court", "ct"),
    ("place", "pl"),
    ("terrace", "ter"),
    ("circle", "cir"),
    ("highway", "hwy"),
    ("parkway", "pkwy"),
    ("square", "sq"),
    ("trail", "trl"),
    ("apartment", "apt"),
    ("suite", "ste"),
    ("unit", "unit"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("northeast", "ne"),
    ("northwest", "nw"),
    ("southeast", "se"),
    ("southwest", "sw"),
];

/// The USPS abbreviation of an address word ([`ADDRESS_WORDS`]), or the word itself. The
/// length and first letter are compared before the text (this runs for every word of every
/// roster row).
fn address_word(w: &str) -> &str {
    let b = w.as_bytes();
    ADDRESS_WORDS
        .iter()
        .find(|(long, _)| long.len() == b.len() && long.as_bytes()[0] == b[0] && *long == w)
        .map_or(w, |(_, short)| short)
}

/// Feeds `f` the bytes of [`normalize_address`]`(row)` without allocating; `false` (and
/// nothing fed) when there is no street line.
pub fn address_key_into(row: &RosterRow, f: &mut dyn FnMut(&[u8])) -> bool {
    if row.address1.trim().is_empty() {
        return false;
    }
    let mut first = true;
    for part in [&row.address1, &row.address2, &row.city] {
        words(part, &mut |w| {
            let w = address_word(w);
            if !first {
                f(b" ");
            }
            first = false;
            f(w.as_bytes());
        });
    }
    f(b"|");
    f(row.state.as_deref().unwrap_or("").as_bytes());
    f(b"|");
    f(row.zip.get(..5).unwrap_or(&row.zip).as_bytes());
    true
}

/// An address reduced for matching: [`normalize_name`] of street, second line, city, State
/// and the 5-digit ZIP, common abbreviations folded (`"12 Elm Street, Apt. 3"` and
/// `"12 elm st apt 3"` match). `None` when there is no street line.
pub fn normalize_address(row: &RosterRow) -> Option<String> {
    let mut out = Vec::new();
    address_key_into(row, &mut |b| out.extend_from_slice(b))
        .then(|| String::from_utf8(out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert!(is_usable_name("Ann"));
        assert!(is_usable_name("Ñúñez"));
        assert!(is_usable_name("Null"), "a real surname");
        for bad in [
            "",
            "  ",
            "-",
            "?",
            "UNKNOWN",
            "n/a",
            "N.A.",
            "xxx",
            "123",
            "Not Provided",
        ] {
            assert!(!is_usable_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@example.org",
            "first.last+tag@mail.example.co.uk",
            "x_y@sub-domain.example.com",
        ] {
            assert!(looks_like_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a@b",
            "a@b.c",
            "@example.org",
            "a@.example.org",
            "a@example..org",
            "a b@example.org",
            "a@@example.org",
            "a,b@example.org",
            ".a@example.org",
            "a..b@example.org",
            "a@-example.org",
            "a@example.123",
            "<a@example.org>",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }

    #[test]
    fn classes() {
        let mut r = RosterRow {
            id: "1".into(),
            last_name: "Lee".into(),
            address1: "1 Main".into(),
            city: "Town".into(),
            state: Some("NY".into()),
            zip: "10001".into(),
            ..RosterRow::default()
        };
        assert_eq!(r.recipient_class(), RecipientClass::Postal);
        r.email = "lee@example.org".into();
        r.email_consent = true;
        assert_eq!(r.recipient_class(), RecipientClass::Email);
        r.email = "not-an-address".into();
        assert_eq!(r.recipient_class(), RecipientClass::Postal);
        r.zip = "1001".into();
        assert_eq!(r.recipient_class(), RecipientClass::NeedsFixing);
        assert_eq!(r.needs_fixing(), Some(FixReason::NoPostalAddress));
        r.zip = "10001".into();
        r.last_name = "Unknown".into();
        assert_eq!(r.needs_fixing(), Some(FixReason::NoName));
        assert!(!r.reachable() && r.is_unreachable_living());
        r.deceased = true;
        assert_eq!(r.recipient_class(), RecipientClass::NoNotice);
        assert_eq!(r.needs_fixing(), None);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_name("O'Brien,  Mary-Ann "), "obrien maryann");
        assert_eq!(
            match_name("Mary-Ann", "O'Brien"),
            match_name("Mary Ann", "OBRIEN")
        );
        assert_ne!(match_name("Ann", "Lee"), match_name("Lee", "Ann"));
        let a = RosterRow {
            address1: "12 Elm Street".into(),
            address2: "Apartment 3".into(),
            city: "Springfield".into(),
            state: Some("IL".into()),
            zip: "62701-1234".into(),
            ..RosterRow::default()
        };
        let b = RosterRow {
            address1: "12 elm st.".into(),
            address2: "apt 3".into(),
            city: "SPRINGFIELD".into(),
            state: Some("IL".into()),
            zip: "62701".into(),
            ..RosterRow::default()
        };
        assert_eq!(normalize_address(&a), normalize_address(&b));
        assert_eq!(normalize_address(&RosterRow::default()), None);
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
