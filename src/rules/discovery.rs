//! Discovery, 164.404(a)(2) and 164.410(a)(2): the day the 60-day clocks start.
//!
//! A breach is treated as discovered on the first day it is known, or by exercising
//! reasonable diligence would have been known, to any person **other than the person
//! committing it** who is a workforce member or agent of the entity. Facts may record the
//! date directly (`breach.discovered`) or the events that bear on it
//! (`[[discovery_events]]`); the engine takes the earliest that counts:
//!
//! - a workforce member's or an agent's knowledge counts, actual or constructive (an alert
//!   that fired and was ignored starts the clock on the day it fired);
//! - the wrongdoer's own knowledge never counts;
//! - for a covered entity, a business associate's knowledge counts only when the business
//!   associate is its **agent** (federal common law of agency). Policy choice, printed: a
//!   relationship that is not recorded is treated as agency, the conservative reading, as
//!   for `business_associate.discovered`. An independent contractor's knowledge is not
//!   imputed: the covered entity's clock starts at its notice (`rules::obligations`);
//! - for a business associate's own database, the business associate's events are its own
//!   (164.410(a)(2)).
//!
//! A typed `breach.discovered` still counts; when it is later than an event that counts,
//! the earlier date governs and the result carries a warning.

use chrono::NaiveDate;

use crate::domain::{BaRelationship, DiscoveryEvent, DiscoveryWho, Facts, Role};

use super::Reason;

const CITE_CE: &str = "45 CFR 164.404(a)(2)";
const CITE_BA: &str = "45 CFR 164.410(a)(2)";
const CITE_AGENCY: &str = "45 CFR 164.404(a)(2); federal common law of agency";

/// Where the discovery date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `breach.discovered` as typed.
    Typed,
    /// `discovery_events[i]` (0-based).
    Event(usize),
}

/// The organization's own discovery date and its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// `None` when neither a typed date nor an event that counts is recorded.
    pub date: Option<NaiveDate>,
    pub source: Option<Source>,
    /// What the date rests on, in words (names the event used).
    pub basis: String,
    /// One reason per recorded event, in the order given: used, counted but later, or why
    /// it does not count.
    pub events: Vec<Reason>,
    /// E.g. a typed date later than an event that counts.
    pub warnings: Vec<Reason>,
}

/// Why an event does or does not count for `role`.
fn counts(ev: &DiscoveryEvent, f: &Facts, role: Role) -> Result<&'static str, String> {
    match (role, ev.who) {
        (_, DiscoveryWho::Wrongdoer) => Err(
            "does not count: the knowledge of the person who committed the breach is excluded"
                .into(),
        ),
        (Role::CoveredEntity, DiscoveryWho::WorkforceMember) => {
            Ok("a workforce member's knowledge")
        }
        (Role::CoveredEntity, DiscoveryWho::Agent) => {
            Ok("an agent's knowledge is imputed to the covered entity")
        }
        (Role::CoveredEntity, DiscoveryWho::BusinessAssociate) => {
            match f.business_associate.relationship {
                Some(BaRelationship::Agent) => {
                    Ok("the business associate acts as our agent: its knowledge is imputed to us")
                }
                None => Ok(
                    "the business associate's relationship is not recorded, so it is treated conservatively as agency: its knowledge is imputed to us",
                ),
                Some(BaRelationship::IndependentContractor) => Err(
                    "does not count: the business associate is an independent contractor, so its knowledge is not imputed to us; our clock starts at its notice to us (business_associate.notified_ce)"
                        .into(),
                ),
            }
        }
        (Role::BusinessAssociate, DiscoveryWho::WorkforceMember) => Ok(
            "a workforce member's knowledge (an employee, officer or other agent of the business associate)",
        ),
        (Role::BusinessAssociate, DiscoveryWho::Agent) => {
            Ok("an agent's knowledge is imputed to the business associate")
        }
        (Role::BusinessAssociate, DiscoveryWho::BusinessAssociate) => {
            Ok("the business associate's own knowledge")
        }
    }
}

fn label(i: usize, ev: &DiscoveryEvent) -> String {
    let what = if ev.description.trim().is_empty() {
        String::new()
    } else {
        format!(" — \"{}\"", ev.description.trim())
    };
    format!(
        "discovery event {} ({}: {} {}{what})",
        i + 1,
        ev.date,
        ev.who.describe(),
        ev.kind.describe()
    )
}

/// The organization's own discovery under 164.404(a)(2) (covered entity) or 164.410(a)(2)
/// (business associate). Imputation of a business associate's `discovered` date and the
/// independent contractor's notice are applied by `obligations::clock_start` on top.
pub fn discover(f: &Facts, role: Role) -> Discovery {
    let cite = match role {
        Role::CoveredEntity => CITE_CE,
        Role::BusinessAssociate => CITE_BA,
    };
    let typed = f.breach.discovered;
    let verdicts: Vec<Result<&'static str, String>> = f
        .discovery_events
        .iter()
        .map(|ev| counts(ev, f, role))
        .collect();
    // The earliest counting event; the first one listed wins a tie.
    let earliest_event = f
        .discovery_events
        .iter()
        .enumerate()
        .filter(|(i, _)| verdicts[*i].is_ok())
        .min_by_key(|(i, ev)| (ev.date, *i))
        .map(|(i, ev)| (i, ev.date));

    let (date, source) = match (typed, earliest_event) {
        (Some(t), Some((i, d))) if d < t => (Some(d), Some(Source::Event(i))),
        (Some(t), _) => (Some(t), Some(Source::Typed)),
        (None, Some((i, d))) => (Some(d), Some(Source::Event(i))),
        (None, None) => (None, None),
    };

    let mut events = Vec::with_capacity(f.discovery_events.len());
    for (i, ev) in f.discovery_events.iter().enumerate() {
        let text = match &verdicts[i] {
            Err(why) => format!("{}: {why}", label(i, ev)),
            Ok(why) if source == Some(Source::Event(i)) => {
                format!(
                    "{}: counts ({why}) and is the earliest: the clock starts here",
                    label(i, ev)
                )
            }
            Ok(why) => {
                let earlier = match source {
                    Some(Source::Event(j)) => format!("discovery event {} is", j + 1),
                    _ => "the typed breach.discovered is".to_string(),
                };
                let rel = match date {
                    Some(d) if d == ev.date => "as early",
                    _ => "earlier",
                };
                format!("{}: counts ({why}), but {earlier} {rel}", label(i, ev))
            }
        };
        let c = match ev.who {
            DiscoveryWho::BusinessAssociate if role == Role::CoveredEntity => CITE_AGENCY,
            _ => cite,
        };
        events.push(Reason::new(text, c));
    }

    let mut warnings = Vec::new();
    if let (Some(t), Some((i, d))) = (typed, earliest_event)
        && d < t
    {
        warnings.push(Reason::new(
            format!(
                "breach.discovered ({t}) is later than discovery event {} ({d}), which counts: the breach is treated as discovered on the first day it was known or would have been known with reasonable diligence, so the clock starts on {d}; correct breach.discovered",
                i + 1
            ),
            cite,
        ));
    }
    if typed.is_none() && earliest_event.is_none() && !f.discovery_events.is_empty() {
        warnings.push(Reason::new(
            "no recorded discovery event counts and breach.discovered is not recorded: no deadline has a date until one is",
            cite,
        ));
    }

    let basis = match source {
        Some(Source::Typed) => "the typed breach.discovered".to_string(),
        Some(Source::Event(i)) => label(i, &f.discovery_events[i]),
        None => "not recorded".to_string(),
    };
    Discovery {
        date,
        source,
        basis,
        events,
        warnings,
    }
}
