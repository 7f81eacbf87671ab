//! Glue between stored incidents and the pure rules engine: builds the engine's input,
//! and refreshes the obligations snapshot (with what changed) inside a write transaction.

use chrono::{DateTime, NaiveDate, Utc};
use redb::WriteTransaction;

use crate::desk::records::Derived;
use crate::domain::{Counts, Incident, IncidentStatus, LePolicy, Organization};
use crate::error::Result;
use crate::rules::{self, EngineInput, Evaluation};
use crate::store::derived;

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
/// estimates.
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

/// Recomputes the obligations after a change and stores the snapshot with the differences
/// from the previous one. Returns the differences (empty when nothing moved).
pub fn refresh(
    tx: &WriteTransaction,
    org: &Organization,
    inc: &Incident,
    counts: &Counts,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut d = Derived::from(derived::get_write(tx, &inc.id)?);
    let ev = evaluate(org, inc, &d, counts, None, today);
    // The first computation is the baseline, not a change.
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
    derived::put(tx, &inc.id, &(&d).into())?;
    Ok(changes)
}
