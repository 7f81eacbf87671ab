//! Calendar export (RFC 5545): one all-day event per obligation deadline, and one per end of
//! a 90-day window, each with reminders (VALARM), written with the `icalendar` crate.
//!
//! - **Stable UIDs.** An event's UID names *what* is due — namespace, incident, kind,
//!   jurisdiction, and whether it is the deadline or the window end — never *when*, so
//!   importing a later export updates the same calendar entries when a deadline moves (a
//!   law-enforcement delay, a revised count). The namespace is a short hash of the
//!   organization's name, so incident `2026-0007` of a real database and of an exercise
//!   database never collide.
//! - **Done is exported too.** An obligation that was met (or sent late) or is no longer
//!   required is exported as a cancelled event without reminders, so re-importing clears
//!   the reminders of work already done.
//! - The export takes [`CalendarItem`]s, not engine types, so any obligation with a date
//!   fits: the HIPAA notices of [`crate::rules`] ([`CalendarItem::from_obligation`]) and
//!   State-law duties alike (kind, jurisdiction, due date, window end).
//! - Nothing here is PHI: incident IDs and titles (titles carry no PHI by contract),
//!   obligation kinds, dates and citations.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use icalendar::{Alarm, Calendar, Component, EventLike, EventStatus, Trigger};
use sha2::{Digest, Sha256};

use crate::rules::{Obligation, ObligationStatus};

/// Reminders before each date: a week, a day, and the morning of the day (09:00).
pub const REMINDERS: &[(&str, i64)] = &[("in 7 days", -7 * 24), ("tomorrow", -24), ("today", 9)];

/// One dated obligation, whatever law it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarItem {
    /// The incident it belongs to, e.g. `2026-0007`.
    pub incident: String,
    /// The incident's short title (no PHI).
    pub title: String,
    /// What is owed, as a stable key: `individual`, `media`, or a State-law kind.
    pub kind: String,
    /// State or jurisdiction (`CA`, `CA:Los Angeles County`), when the duty is per place.
    pub jurisdiction: Option<String>,
    /// What is owed, in words.
    pub description: String,
    /// The last permitted day.
    pub due: NaiveDate,
    /// Set when a delay moved the date: the date before it.
    pub original_due: Option<NaiveDate>,
    /// End of a window that must be kept open (substitute web posting, toll-free line).
    pub window_end: Option<NaiveDate>,
    /// The section that sets the date.
    pub cite: String,
    /// `pending`, `late`, `met`, `not_required`...
    pub status: String,
    /// Still to do (pending, or late and not sent): reminders are set.
    pub open: bool,
    /// Further detail (a policy applied, a note).
    pub note: String,
}

impl CalendarItem {
    /// A HIPAA obligation of the rules engine; `None` when it has no date.
    pub fn from_obligation(incident: &str, title: &str, o: &Obligation) -> Option<CalendarItem> {
        let due = o.due?;
        let open = matches!(
            o.status,
            ObligationStatus::Pending | ObligationStatus::Late { sent: false, .. }
        );
        let mut note = o.note.clone();
        if let Some(p) = &o.policy {
            note = if note.is_empty() {
                p.clone()
            } else {
                format!("{note}; {p}")
            };
        }
        // A State can owe two regulator notices: the recipient is part of what is due (and
        // of the UID). A rule not verified against statute text says so in the event.
        let kind = match &o.recipient {
            Some(r) => format!("{}:{r}", o.kind.key()),
            None => o.kind.key().to_string(),
        };
        let description = match o.verified {
            Some(false) => format!(
                "{} (UNVERIFIED: the State rule was not checked against statute text; counsel should confirm it)",
                o.kind.describe()
            ),
            Some(true) => format!(
                "{} (State rule verified against statute text)",
                o.kind.describe()
            ),
            None => o.kind.describe().to_string(),
        };
        Some(CalendarItem {
            incident: incident.to_string(),
            title: title.to_string(),
            kind,
            jurisdiction: o.jurisdiction.clone(),
            description,
            due,
            original_due: o.original_due,
            window_end: o.window_end,
            cite: o.cite.clone(),
            status: o.status.key().to_string(),
            open,
            note,
        })
    }
}

/// The organization part of every UID: 12 hex digits of SHA-256 of its name.
pub fn namespace(org_name: &str) -> String {
    let h = Sha256::digest(org_name.trim().as_bytes());
    crate::audit::entry::hex(&h[..6])
}

/// Lowercase letters, digits and `-` only.
fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The UID of an item's event: `which` is `due` or `window-end`.
pub fn uid(ns: &str, item: &CalendarItem, which: &str) -> String {
    let place = item
        .jurisdiction
        .as_deref()
        .map(|j| format!("-{}", slug(j)))
        .unwrap_or_default();
    format!(
        "{}-{}{place}-{which}@{ns}.breachdesk",
        slug(&item.incident),
        slug(&item.kind)
    )
}

fn label(item: &CalendarItem) -> String {
    match &item.jurisdiction {
        Some(j) => format!("{} ({j})", item.kind),
        None => item.kind.clone(),
    }
}

fn event(
    ns: &str,
    item: &CalendarItem,
    stamp: DateTime<Utc>,
    date: NaiveDate,
    which: &str,
) -> icalendar::Event {
    let what = if which == "due" {
        format!("due {}", item.due)
    } else {
        format!("window ends {date} (keep it open until then)")
    };
    let summary = match (which, item.open) {
        ("due", true) => format!("{} {}: {} due", item.incident, item.title, label(item)),
        ("due", false) => format!(
            "{} {}: {} ({})",
            item.incident,
            item.title,
            label(item),
            item.status
        ),
        (_, _) => format!(
            "{} {}: {} window ends",
            item.incident,
            item.title,
            label(item)
        ),
    };
    let mut text = format!(
        "Incident {} ({}): {} — {what} ({}); status {}.",
        item.incident, item.title, item.description, item.cite, item.status
    );
    if let Some(orig) = item.original_due {
        text.push_str(&format!(
            " Originally due {orig}, moved by a law-enforcement delay."
        ));
    }
    if !item.note.is_empty() {
        text.push_str(&format!(" {}", item.note));
    }
    text.push_str(" Exported by breachdesk: decision support, not legal advice.");
    let mut e = icalendar::Event::new();
    e.uid(&uid(ns, item, which))
        .timestamp(stamp)
        .last_modified(stamp)
        .summary(&summary)
        .description(&text)
        .starts(date)
        .ends(date.checked_add_days(Days::new(1)).unwrap_or(date))
        .categories(["breachdesk", item.kind.as_str()])
        .status(if item.open {
            EventStatus::Confirmed
        } else {
            EventStatus::Cancelled
        });
    // A window end is worth a reminder even after the notice went out: it must stay up.
    let remind = item.open || which == "window-end";
    if remind {
        for (when, hours) in REMINDERS {
            let d = format!("{}: {} {when}", item.incident, label(item));
            let d = if which == "due" {
                format!("{d} is due")
            } else {
                format!("{d}: window ends")
            };
            e.alarm(Alarm::display(&d, Trigger::from(Duration::hours(*hours))));
        }
    }
    e.done()
}

/// The calendar text (CRLF lines, folded at 75 octets). `stamp` is the export time (DTSTAMP
/// and LAST-MODIFIED), so the same inputs give the same bytes.
pub fn to_ics(org_name: &str, items: &[CalendarItem], stamp: DateTime<Utc>) -> String {
    let ns = namespace(org_name);
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//breachdesk//notification deadlines//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .append_property((
            "X-WR-CALNAME",
            format!("Breach notification deadlines — {org_name}").as_str(),
        ));
    for item in items {
        cal.push(event(&ns, item, stamp, item.due, "due"));
        if let Some(w) = item.window_end {
            cal.push(event(&ns, item, stamp, w, "window-end"));
        }
    }
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(
        kind: &str,
        j: Option<&str>,
        due: &str,
        window: Option<&str>,
        open: bool,
    ) -> CalendarItem {
        CalendarItem {
            incident: "2026-0007".into(),
            title: "Stolen laptop, cardiology".into(),
            kind: kind.into(),
            jurisdiction: j.map(String::from),
            description: "Written notice to each affected individual".into(),
            due: due.parse().expect("date"),
            original_due: None,
            window_end: window.map(|w| w.parse().expect("date")),
            cite: "45 CFR 164.404(b)".into(),
            status: if open { "pending" } else { "met" }.into(),
            open,
            note: String::new(),
        }
    }

    /// Parses the export with an independent parser (the `ical` crate), not the one that
    /// wrote it.
    #[test]
    fn an_independent_parser_reads_events_and_alarms_back() {
        let mut moved = item("individual", None, "2026-12-20", None, true);
        moved.original_due = Some("2026-11-29".parse().expect("date"));
        moved.note = "a note; with, punctuation\nand a line".into();
        let text = to_ics(
            "Lakeside Community Hospital",
            &[moved, item("media", Some("WI"), "2026-11-29", None, true)],
            "2026-11-22T15:00:00Z".parse().expect("instant"),
        );
        let cals: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()))
            .collect::<Result<_, _>>()
            .expect("parses");
        assert_eq!(cals.len(), 1);
        let cal = &cals[0];
        assert_eq!(cal.events.len(), 2);
        let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
            e.properties
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.value.clone())
                .unwrap_or_default()
        };
        let first = &cal.events[0];
        assert_eq!(prop(first, "DTSTART"), "20261220");
        assert!(prop(first, "UID").starts_with("2026-0007-individual-due@"));
        assert!(prop(first, "DESCRIPTION").contains("Originally due 2026-11-29"));
        assert_eq!(first.alarms.len(), 3);
        let triggers: Vec<String> = first
            .alarms
            .iter()
            .flat_map(|a| a.properties.iter())
            .filter(|p| p.name == "TRIGGER")
            .filter_map(|p| p.value.clone())
            .collect();
        // A week and a day before the (all-day) date, and 09:00 on it.
        assert_eq!(triggers, ["-PT604800S", "-PT86400S", "PT32400S"]);
        assert!(prop(&cal.events[1], "UID").contains("-media-wi-due@"));
    }

    #[test]
    fn uids_name_what_is_due_not_when() {
        let ns = namespace("Lakeside Community Hospital");
        let a = item(
            "media",
            Some("CA:Los Angeles County"),
            "2026-11-29",
            None,
            true,
        );
        let mut b = a.clone();
        b.due = "2027-01-15".parse().expect("date");
        assert_eq!(uid(&ns, &a, "due"), uid(&ns, &b, "due"));
        assert_eq!(
            uid(&ns, &a, "due"),
            format!("2026-0007-media-ca-los-angeles-county-due@{ns}.breachdesk")
        );
        assert_ne!(namespace("Another Org"), ns);
    }

    #[test]
    fn lines_are_crlf_and_folded() {
        let text = to_ics(
            "Lakeside Community Hospital",
            &[
                item("individual", None, "2026-11-29", None, true),
                item(
                    "toll_free_line",
                    None,
                    "2026-11-29",
                    Some("2027-02-27"),
                    false,
                ),
            ],
            "2026-11-22T15:00:00Z".parse().expect("instant"),
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n'), "{line:?}");
        }
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 3);
        assert_eq!(
            text.matches("BEGIN:VALARM").count(),
            6,
            "open due + window end"
        );
        assert!(text.contains("DTSTART;VALUE=DATE:20261129"), "{text}");
        assert!(text.contains("DTEND;VALUE=DATE:20261130"), "{text}");
        assert!(text.contains("STATUS:CANCELLED"), "{text}");
    }
}
