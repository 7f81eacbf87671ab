//! Law-enforcement delay, 164.412.
//!
//! - A **written** statement delays notice for the period it specifies, 164.412(a). A
//!   written statement with no end date (`until`), or one ending before it was made, is not
//!   a valid delay: it is reported and ignored.
//! - An **oral** statement delays notice no longer than **30 days** from the statement,
//!   164.412(b), unless a valid written statement arrives within those 30 days (inclusive):
//!   then the oral statement is in effect until the written one arrives, and the written
//!   statement's period governs from there, even if it ends sooner.
//! - Each statement is one **period**; periods are never merged into one span, so the days
//!   between two statements are not delay.
//! - Statements are taken in turn, in order of their start, against the deadline **as it
//!   stands**: a statement made after that deadline had passed does not revive it (the
//!   notice was already due, and late from the next day).
//! - It applies to every notice (individual, next of kin, substitute, media, HHS, BA → CE).
//! - Policy choice ([`LePolicy`], the rule is silent): `later_of` (default) holds the
//!   deadline until the delay ends — new due = max(due, period end); `extend_by_delay`
//!   tolls it — the due date moves by the days a statement was in effect **while that
//!   obligation's clock was running** (from its day 0 — discovery, or Dec 31 for the annual
//!   HHS log — on), each day counted once even when statements overlap.

use chrono::NaiveDate;

use crate::domain::{LawEnforcementStatement, LePolicy, StatementKind};

use super::calendar::{ORAL_DELAY_DAYS, days_between, plus_days};
use super::{DelayInfo, DelayPeriod, Reason};

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
    let mut periods: Vec<DelayPeriod> = Vec::new();
    let period = |start, end, i: usize| DelayPeriod {
        start,
        end,
        statement: i + 1,
    };

    let valid_written = |s: &LawEnforcementStatement| {
        s.kind == StatementKind::Written && s.until.is_some_and(|u| u >= s.date)
    };

    for (i, s) in stmts.iter().enumerate() {
        match s.kind {
            StatementKind::Written => match s.until {
                Some(until) if until >= s.date => {
                    periods.push(period(s.date, until, i));
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
                    // The oral statement holds notice until the written one arrives; the
                    // written statement contributes its own period from there.
                    periods.push(period(s.date, w.date, i));
                } else {
                    periods.push(period(s.date, cap, i));
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

    periods.retain(|p| p.end > p.start);
    periods.sort_by_key(|p| (p.start, p.end, p.statement));
    let start = periods.iter().map(|p| p.start).min();
    let end = periods.iter().map(|p| p.end).max();
    match (start, end) {
        (Some(start), Some(end)) => (
            Some(DelayInfo {
                start,
                end,
                basis,
                periods,
            }),
            notes,
        ),
        _ => {
            notes.extend(basis);
            (None, notes)
        }
    }
}

/// What the delay did to one deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The deadline after every statement was taken in turn.
    pub due: NaiveDate,
    /// Statements that came after the deadline as it then stood, in words.
    pub notes: Vec<String>,
}

/// Takes each period in turn against the deadline as it stands. `clock_from` is the day the
/// obligation's clock started (day 0): under `extend_by_delay` only days of delay after it
/// count.
pub fn apply(
    due: NaiveDate,
    clock_from: NaiveDate,
    delay: &DelayInfo,
    policy: LePolicy,
) -> Applied {
    let mut current = due;
    let mut notes = Vec::new();
    // Days already counted under extend_by_delay, as disjoint half-open [start, end) spans.
    let mut counted: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for p in &delay.periods {
        if p.start > current {
            notes.push(format!(
                "the law-enforcement statement of {} came after this notice was due ({current}): a deadline that had passed is not revived (164.412)",
                p.start
            ));
            continue;
        }
        current = match policy {
            LePolicy::LaterOf => current.max(p.end),
            LePolicy::ExtendByDelay => {
                let from = p.start.max(clock_from);
                let days = add_span(&mut counted, from, p.end);
                plus_days(current, days)
            }
        };
    }
    Applied {
        due: current,
        notes,
    }
}

/// Adds `[from, to)` to the disjoint spans in `spans` and returns how many of its days were
/// not already there.
fn add_span(spans: &mut Vec<(NaiveDate, NaiveDate)>, from: NaiveDate, to: NaiveDate) -> u64 {
    if to <= from {
        return 0;
    }
    let total = days_between(from, to);
    let overlap: i64 = spans
        .iter()
        .map(|(a, b)| {
            let lo = (*a).max(from);
            let hi = (*b).min(to);
            if hi > lo { days_between(lo, hi) } else { 0 }
        })
        .sum();
    // Merge into one span with every span it touches.
    let (mut lo, mut hi) = (from, to);
    spans.retain(|(a, b)| {
        let touches = *a <= hi && *b >= lo;
        if touches {
            lo = lo.min(*a);
            hi = hi.max(*b);
        }
        !touches
    });
    spans.push((lo, hi));
    u64::try_from(total - overlap).unwrap_or(0)
}
