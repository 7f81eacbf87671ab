//! Law-enforcement delay, 164.412.
//!
//! - A **written** statement delays notice for the period it specifies, 164.412(a). A
//!   written statement with no end date (`until`), or one ending before it was made, is not
//!   a valid delay: it is reported and ignored.
//! - An **oral** statement delays notice no longer than **30 days** from the statement,
//!   164.412(b), unless a valid written statement arrives within those 30 days (inclusive):
//!   then the written statement's period governs, even if it ends sooner.
//! - The delay runs from the earliest effective statement to the latest effective end.
//! - It applies to every notice (individual, next of kin, substitute, media, HHS, BA → CE)
//!   whose original deadline falls on or after the start of the delay: a deadline that had
//!   already passed when law enforcement spoke is not revived.
//! - Policy choice ([`LePolicy`], the rule is silent): `later_of` (default) holds the
//!   deadline until the delay ends — new due = max(original, delay end); `extend_by_delay`
//!   tolls it — new due = original + (delay end − delay start) days.

use chrono::NaiveDate;

use crate::domain::{LawEnforcementStatement, LePolicy, StatementKind};

use super::calendar::{ORAL_DELAY_DAYS, days_between, plus_days, plus_days_signed};
use super::{DelayInfo, Reason};

const CITE_A: &str = "45 CFR 164.412(a)";
const CITE_B: &str = "45 CFR 164.412(b)";

fn who(s: &LawEnforcementStatement) -> String {
    let mut parts = Vec::new();
    if !s.official.trim().is_empty() {
        parts.push(s.official.trim());
    }
    if !s.agency.trim().is_empty() {
        parts.push(s.agency.trim());
    }
    if parts.is_empty() {
        "law enforcement".into()
    } else {
        parts.join(", ")
    }
}

/// The delay in effect, if any, and notes about statements that are not valid delays.
pub fn compute(stmts: &[LawEnforcementStatement]) -> (Option<DelayInfo>, Vec<Reason>) {
    let mut basis = Vec::new();
    let mut notes = Vec::new();
    let mut periods: Vec<(NaiveDate, NaiveDate)> = Vec::new();

    let valid_written = |s: &LawEnforcementStatement| {
        s.kind == StatementKind::Written && s.until.is_some_and(|u| u >= s.date)
    };

    for s in stmts {
        match s.kind {
            StatementKind::Written => match s.until {
                Some(until) if until >= s.date => {
                    periods.push((s.date, until));
                    basis.push(Reason::new(
                        format!(
                            "written statement of {} from {}: notice delayed until {until}",
                            s.date,
                            who(s)
                        ),
                        CITE_A,
                    ));
                }
                Some(until) => notes.push(Reason::new(
                    format!(
                        "written statement of {} from {} ends ({until}) before it was made: not a valid delay",
                        s.date,
                        who(s)
                    ),
                    CITE_A,
                )),
                None => notes.push(Reason::new(
                    format!(
                        "written statement of {} from {} specifies no time period: not a valid delay; ask for the period in writing",
                        s.date,
                        who(s)
                    ),
                    CITE_A,
                )),
            },
            StatementKind::Oral => {
                let cap = plus_days(s.date, ORAL_DELAY_DAYS);
                let superseded = stmts
                    .iter()
                    .find(|w| valid_written(w) && w.date >= s.date && w.date <= cap);
                if let Some(w) = superseded {
                    basis.push(Reason::new(
                        format!(
                            "oral statement of {} from {} superseded by the written statement of {} received within 30 days: the written period governs",
                            s.date,
                            who(s),
                            w.date
                        ),
                        CITE_B,
                    ));
                    // The written statement contributes its own period above; the oral one
                    // still marks the start of the delay.
                    periods.push((s.date, s.date));
                } else {
                    periods.push((s.date, cap));
                    basis.push(Reason::new(
                        format!(
                            "oral statement of {} from {}: notice delayed no longer than 30 days, until {cap}",
                            s.date,
                            who(s)
                        ),
                        CITE_B,
                    ));
                }
                if s.official.trim().is_empty() {
                    notes.push(Reason::new(
                        format!(
                            "oral statement of {}: document the identity of the official who made it",
                            s.date
                        ),
                        CITE_B,
                    ));
                }
            }
        }
    }

    let start = periods.iter().map(|p| p.0).min();
    let end = periods.iter().map(|p| p.1).max();
    match (start, end) {
        (Some(start), Some(end)) if end > start => (Some(DelayInfo { start, end, basis }), notes),
        _ => {
            notes.extend(basis);
            (None, notes)
        }
    }
}

/// The new deadline under the delay, or `None` when the delay does not move `due`.
pub fn apply(due: NaiveDate, delay: &DelayInfo, policy: LePolicy) -> Option<NaiveDate> {
    if due < delay.start {
        return None;
    }
    let moved = match policy {
        LePolicy::LaterOf => due.max(delay.end),
        LePolicy::ExtendByDelay => plus_days_signed(due, days_between(delay.start, delay.end)),
    };
    (moved != due).then_some(moved)
}
