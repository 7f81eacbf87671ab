//! The one "evaluate an incident" step: a stored incident, its counts and what is recorded
//! beside it, with the State laws in force, into the pure rules engine. Every use case that
//! shows or stores obligations comes through [`evaluate`]; a new engine input is one edit
//! here. [`record`] turns the same inputs into a replayable determination record.

use chrono::{DateTime, NaiveDate, Utc};

use super::records::{Derived, class_record, determination_record, obligation_record};
use crate::domain::{BusinessDays, Counts, Incident, IncidentStatus, LePolicy, Organization};
use crate::laws::{LawSet, Origin};
use crate::rules::{self, EngineInput, Evaluation, StateOptions};
use crate::store::records::{
    DeterminationLogRecord, InputsRecord, LawFileRecord, LawsUsedRecord, ResultRecord,
};

/// Policies a what-if sets instead of the organization's (`--le-policy`,
/// `--business-days`); `Policies::default()` takes the organization's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policies {
    pub le: Option<LePolicy>,
    pub business_days: Option<BusinessDays>,
}

impl Policies {
    /// The law-enforcement delay policy in force for `org`.
    pub fn le_for(&self, org: &Organization) -> LePolicy {
        self.le.unwrap_or(org.le_policy)
    }

    /// The business-day policy in force for `org`.
    pub fn business_days_for(&self, org: &Organization) -> BusinessDays {
        self.business_days.unwrap_or(org.business_days)
    }
}

/// The date the incident's documentation was last in effect, for retention (164.530(j)):
/// the closing date of a closed incident, else today.
pub fn last_in_effect(inc: &Incident, today: NaiveDate) -> NaiveDate {
    if inc.status == IncidentStatus::Closed {
        inc.updated.date_naive()
    } else {
        today
    }
}

/// The engine's inputs for a stored incident, owned: exactly what [`evaluate`] gives the
/// engine, and what a recorded determination stores (PHI-free: the narrative plays no part
/// in the engine and is left out).
pub fn inputs(
    org: &Organization,
    inc: &Incident,
    d: &Derived,
    counts: &Counts,
    policies: Policies,
    today: NaiveDate,
) -> InputsRecord {
    // Recorded determinations are kept in the clear (`determinations_v1`): every typed string
    // is masked (issue 10), as in the incident's clear part; the engine decides nothing on
    // free text, so the result is the same (its reasons quote the placeholder).
    let mut facts = crate::store::sealing::masked_facts(&inc.facts).unwrap_or_default();
    facts.breach.narrative.clear();
    InputsRecord {
        facts,
        role: org.role,
        counts: counts.clone(),
        notices: inc.notices.clone(),
        le_policy: policies.le_for(org),
        business_days: policies.business_days_for(org),
        override_class: d
            .assessment
            .as_ref()
            .and_then(|a| a.override_class)
            .map(class_record),
        today,
        last_in_effect: last_in_effect(inc, today),
    }
}

/// Runs the engine (HIPAA and the State laws of `laws`) on recorded inputs: the evaluation
/// of [`evaluate`] and of a replay are this one function.
pub fn run(i: &InputsRecord, laws: &LawSet) -> Evaluation {
    let input = EngineInput {
        facts: &i.facts,
        role: i.role,
        counts: &i.counts,
        notices: &i.notices,
        policy: i.le_policy,
        override_class: i.override_class.map(super::records::class),
        last_in_effect: i.last_in_effect,
    };
    rules::evaluate_with_laws(
        &input,
        StateOptions {
            laws,
            business_days: i.business_days,
        },
        i.today,
    )
}

/// Evaluates a stored incident under the laws in force. `counts` are the roster's when one
/// exists, else the facts' estimates; `policies` override the organization's (what-if).
/// The engine gets exactly [`inputs`], so a recorded determination stores what it was given.
pub fn evaluate(
    org: &Organization,
    laws: &LawSet,
    inc: &Incident,
    d: &Derived,
    counts: &Counts,
    policies: Policies,
    today: NaiveDate,
) -> Evaluation {
    run(&inputs(org, inc, d, counts, policies, today), laws)
}

/// Keeps the obligations of a new evaluation `ev` (made after a change) in `d`, with the
/// differences from the previous snapshot. Returns the differences (empty when nothing
/// moved; the first computation is the baseline, not a change).
pub fn refresh(d: &mut Derived, ev: &Evaluation, now: DateTime<Utc>) -> Vec<String> {
    let changes = if d.obligations.is_empty() {
        vec![]
    } else {
        rules::diff_obligations(&d.obligations, &ev.obligations)
    };
    if !changes.is_empty() {
        d.changes = changes.clone();
        d.changed_at = Some(now);
    }
    d.obligations = ev.obligations.clone();
    changes
}

/// A replayable record of the determination just evaluated (`ev`, from `inputs` under
/// `laws`), and the rules files it read, `(sha256, text)`, to keep with it.
pub fn record(
    inputs: InputsRecord,
    laws: &LawSet,
    ev: &Evaluation,
    by: &str,
    at: DateTime<Utc>,
) -> (DeterminationLogRecord, Vec<(String, String)>) {
    let file = |code: &str| {
        laws.get(code).map(|l| LawFileRecord {
            jurisdiction: code.to_string(),
            origin: l.origin.key().to_string(),
            sha256: l.sha256.clone(),
        })
    };
    let used: Vec<LawFileRecord> = ev
        .laws
        .iter()
        .flat_map(|u| &u.jurisdictions)
        .filter_map(|j| file(&j.jurisdiction))
        .collect();
    let texts = used
        .iter()
        .filter_map(|f| {
            laws.get(&f.jurisdiction)
                .map(|l| (l.sha256.clone(), l.text.clone()))
        })
        .collect();
    let inputs_sha256 = inputs.sha256();
    let rec = DeterminationLogRecord {
        seq: 0,
        recorded_at: at,
        recorded_by: by.to_string(),
        engine_version: rules::ENGINE_VERSION.to_string(),
        laws: LawsUsedRecord {
            digest: laws.digest.clone(),
            builtin_digest: laws.builtin_digest.clone(),
            counsel_digest: laws.counsel_digest.clone(),
            counsel: laws
                .iter()
                .filter(|l| l.origin == Origin::Counsel)
                .filter_map(|l| file(&l.file.jurisdiction))
                .collect(),
            used,
        },
        inputs,
        inputs_sha256,
        result: ResultRecord {
            engine: determination_record(&ev.engine),
            effective_class: class_record(ev.effective_class),
            obligations: ev.obligations.iter().map(obligation_record).collect(),
        },
    };
    (rec, texts)
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
