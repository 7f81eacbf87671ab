//! The one "evaluate an incident" step: a stored incident, its counts and what is recorded
//! beside it, into the pure rules engine. Every use case that shows or stores obligations
//! comes through [`evaluate`]; a new engine input (e.g. State-law rules data) is one edit
//! here.

use chrono::{DateTime, NaiveDate, Utc};

use super::records::Derived;
use crate::domain::{Counts, Incident, IncidentStatus, LePolicy, Organization};
use crate::rules::{self, EngineInput, Evaluation};

/// The date the incident's documentation was last in effect, for retention (164.530(j)):
/// the closing date of a closed incident, else today.
pub fn last_in_effect(inc: &Incident, today: NaiveDate) -> NaiveDate {
    if inc.status == IncidentStatus::Closed {
        inc.updated.date_naive()
    } else {
        today
    }
}

/// Evaluates a stored incident. `counts` are the roster's when one exists, else the facts'
/// estimates; `policy` overrides the organization's law-enforcement delay policy (what-if).
pub fn evaluate(
    org: &Organization,
    inc: &Incident,
    d: &Derived,
    counts: &Counts,
    policy: Option<LePolicy>,
    today: NaiveDate,
) -> Evaluation {
    let input = EngineInput {
        facts: &inc.facts,
        role: org.role,
        counts,
        notices: &inc.notices,
        policy: policy.unwrap_or(org.le_policy),
        override_class: d.assessment.as_ref().and_then(|a| a.override_class),
        last_in_effect: last_in_effect(inc, today),
    };
    rules::evaluate(&input, today)
}

/// Recomputes the obligations after a change into `d`, with the differences from the
/// previous snapshot. Returns the differences (empty when nothing moved; the first
/// computation is the baseline, not a change).
pub fn refresh(
    org: &Organization,
    inc: &Incident,
    d: &mut Derived,
    counts: &Counts,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<String> {
    let ev = evaluate(org, inc, d, counts, None, today);
    let changes = if d.obligations.is_empty() {
        vec![]
    } else {
        rules::diff_obligations(&d.obligations, &ev.obligations)
    };
    if !changes.is_empty() {
        d.changes = changes.clone();
        d.changed_at = Some(now);
    }
    d.obligations = ev.obligations;
    changes
}

/// An obligation's status as the register shows it: `pending`, `met 2026-10-19`,
/// `sent 4 day(s) late`, `OVERDUE by 3 day(s)`, `not required: …`.
pub fn status_text(s: &rules::ObligationStatus) -> String {
    use rules::ObligationStatus;
    match s {
        ObligationStatus::Pending => "pending".into(),
        ObligationStatus::Met { on } => format!("met {}", on.format("%Y-%m-%d")),
        ObligationStatus::Late { days, sent: true } => format!("sent {days} day(s) late"),
        ObligationStatus::Late { days, sent: false } => format!("OVERDUE by {days} day(s)"),
        ObligationStatus::NotRequired { reason } => format!("not required: {reason}"),
    }
}
