//! The `--json` contract: output types separate from domain types, stable key order; each
//! document gets a `format_version` from [`super::output::print_json`].

use chrono::NaiveDate;
use serde::Serialize;

use crate::desk::records::Assessment as AssessmentRecord;
use crate::domain::*;
use crate::rules::{self, Evaluation, Obligation, ObligationStatus};

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[derive(Serialize)]
pub struct ReasonOut<'a> {
    pub text: &'a str,
    pub cite: &'a str,
}

#[derive(Serialize)]
pub struct ObligationOut<'a> {
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<&'a str>,
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_end: Option<String>,
    pub cite: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<&'a str>,
    pub status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    pub days_remaining: Option<i64>,
    pub days_elapsed: Option<i64>,
    pub required_count: Option<u64>,
    pub sent_count: u64,
    pub note: &'a str,
    /// State-law duties: the regulator's (or a conditional rule's) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<&'a str>,
    /// State-law duties: whether the rule was verified against statute text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// State-law duties: the effective date of the law version used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// State-law duties: where the rule was verified, or its source when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'a str>,
}

impl<'a> ObligationOut<'a> {
    pub fn new(o: &'a Obligation) -> ObligationOut<'a> {
        let (late_days, met_on, reason) = match &o.status {
            ObligationStatus::Late { days, .. } => (Some(*days), None, None),
            ObligationStatus::Met { on } => (None, Some(ymd(*on)), None),
            ObligationStatus::NotRequired { reason } => (None, None, Some(reason.as_str())),
            ObligationStatus::Pending => (None, None, None),
        };
        ObligationOut {
            kind: o.kind.key(),
            jurisdiction: o.jurisdiction.as_deref(),
            due: o.due.map(ymd),
            original_due: o.original_due.map(ymd),
            window_end: o.window_end.map(ymd),
            cite: &o.cite,
            policy: o.policy.as_deref(),
            status: o.status.key(),
            late_days,
            met_on,
            reason,
            days_remaining: o.days_remaining,
            days_elapsed: o.days_elapsed,
            required_count: o.required_count,
            sent_count: o.sent_count,
            note: &o.note,
            recipient: o.recipient.as_deref(),
            verified: o.verified,
            effective: o.effective.map(ymd),
            source: o.source.as_deref(),
        }
    }
}

/// The State laws an evaluation considered (`laws` in the evaluation's JSON).
#[derive(Serialize)]
pub struct LawsUsedOut<'a> {
    pub digest: &'a str,
    pub builtin_digest: &'a str,
    pub counsel_digest: Option<&'a str>,
    pub business_days: &'a str,
    pub jurisdictions: Vec<JurisdictionOut<'a>>,
}

#[derive(Serialize)]
pub struct JurisdictionOut<'a> {
    pub jurisdiction: &'a str,
    pub residents: u64,
    pub effective: Option<String>,
    pub citation: &'a str,
    pub origin: &'a str,
    pub sha256: &'a str,
    pub applies: bool,
    pub reason: &'a str,
    pub monitoring: &'a [String],
    pub content: &'a [String],
    pub rules: usize,
    pub verified: usize,
}

impl<'a> LawsUsedOut<'a> {
    pub fn new(l: &'a rules::state::LawsUsed) -> LawsUsedOut<'a> {
        LawsUsedOut {
            digest: &l.digest,
            builtin_digest: &l.builtin_digest,
            counsel_digest: l.counsel_digest.as_deref(),
            business_days: l.business_days.key(),
            jurisdictions: l
                .jurisdictions
                .iter()
                .map(|j| JurisdictionOut {
                    jurisdiction: &j.jurisdiction,
                    residents: j.residents,
                    effective: j.effective.map(ymd),
                    citation: &j.citation,
                    origin: &j.origin,
                    sha256: &j.sha256,
                    applies: j.applies,
                    reason: &j.reason,
                    monitoring: &j.monitoring,
                    content: &j.content,
                    rules: j.rules,
                    verified: j.verified,
                })
                .collect(),
        }
    }
}

/// A recorded determination: what it used (`assess --json`, `assess --replay --json`).
#[derive(Serialize)]
pub struct RecordedOut<'a> {
    pub number: u32,
    pub recorded_at: String,
    pub recorded_by: &'a str,
    pub engine_version: &'a str,
    pub laws_digest: &'a str,
    pub builtin_digest: &'a str,
    pub counsel_digest: Option<&'a str>,
    pub counsel_files: Vec<serde_json::Value>,
    pub inputs_sha256: &'a str,
}

impl<'a> RecordedOut<'a> {
    pub fn new(r: &'a crate::desk::Recorded) -> RecordedOut<'a> {
        RecordedOut {
            number: r.number,
            recorded_at: r.recorded_at.to_rfc3339(),
            recorded_by: &r.recorded_by,
            engine_version: &r.engine_version,
            laws_digest: &r.laws_digest,
            builtin_digest: &r.builtin_digest,
            counsel_digest: r.counsel_digest.as_deref(),
            counsel_files: r
                .counsel_files
                .iter()
                .map(|(j, s)| serde_json::json!({"jurisdiction": j, "sha256": s}))
                .collect(),
            inputs_sha256: &r.inputs_sha256,
        }
    }
}

#[derive(Serialize)]
pub struct FactorOut<'a> {
    pub factor: &'a str,
    pub name: &'a str,
    pub rating: Rating,
    pub rationale: &'a str,
    pub cite: &'a str,
}

#[derive(Serialize)]
pub struct OverrideOut<'a> {
    pub determination: &'a str,
    pub rationale: &'a str,
    pub by: &'a str,
    pub at: String,
}

/// `evaluate --json`, `assess --json` and the evaluation inside `incident show --json`.
#[derive(Serialize)]
pub struct EvaluationOut<'a> {
    pub determination: &'a str,
    pub engine_determination: &'a str,
    pub overridden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#override: Option<OverrideOut<'a>>,
    pub route: Option<&'a str>,
    pub reasons: Vec<ReasonOut<'a>>,
    pub defeated: Vec<ReasonOut<'a>>,
    pub factors: Vec<FactorOut<'a>>,
    pub clock_start: Option<String>,
    pub clock_basis: ReasonOut<'a>,
    /// One reason per recorded discovery event: the one used, or why another did not count.
    pub discovery_events: Vec<ReasonOut<'a>>,
    pub law_enforcement_delay: Option<serde_json::Value>,
    pub policy: &'a str,
    pub obligations: Vec<ObligationOut<'a>>,
    pub retention_until: String,
    pub retention_cite: &'a str,
    pub notes: Vec<ReasonOut<'a>>,
    /// The State laws considered: digests of the rules data, the business-day policy, and
    /// per State with residents the law version used and whether it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub laws: Option<LawsUsedOut<'a>>,
}

impl<'a> EvaluationOut<'a> {
    pub fn new(ev: &'a Evaluation, rec: Option<&'a AssessmentRecord>) -> EvaluationOut<'a> {
        let reasons = |v: &'a [rules::Reason]| -> Vec<ReasonOut<'a>> {
            v.iter()
                .map(|r| ReasonOut {
                    text: &r.text,
                    cite: &r.cite,
                })
                .collect()
        };
        EvaluationOut {
            determination: ev.effective_class.key(),
            engine_determination: ev.engine.class.key(),
            overridden: ev.overridden,
            r#override: rec.and_then(|r| {
                r.override_class.map(|c| OverrideOut {
                    determination: c.key(),
                    rationale: &r.rationale,
                    by: &r.assessed_by,
                    at: r.assessed_at.to_rfc3339(),
                })
            }),
            route: ev.engine.route.map(|r| r.key()),
            reasons: reasons(&ev.engine.reasons),
            defeated: reasons(&ev.engine.defeated),
            factors: ev
                .engine
                .factors
                .iter()
                .map(|f| FactorOut {
                    factor: &f.factor,
                    name: &f.name,
                    rating: f.rating,
                    rationale: &f.rationale,
                    cite: &f.cite,
                })
                .collect(),
            clock_start: ev.clock.date.map(ymd),
            clock_basis: ReasonOut { text: &ev.clock.basis, cite: &ev.clock.cite },
            discovery_events: reasons(&ev.clock.events),
            law_enforcement_delay: ev.delay.as_ref().map(|d| {
                serde_json::json!({
                    "start": ymd(d.start),
                    "end": ymd(d.end),
                    "periods": d.periods.iter().map(|p| serde_json::json!({"start": ymd(p.start), "end": ymd(p.end), "statement": p.statement})).collect::<Vec<_>>(),
                    "basis": d.basis.iter().map(|r| serde_json::json!({"text": r.text, "cite": r.cite})).collect::<Vec<_>>(),
                })
            }),
            policy: ev.policy.key(),
            obligations: ev.obligations.iter().map(ObligationOut::new).collect(),
            retention_until: ymd(ev.retention_until),
            retention_cite: &ev.retention_cite,
            notes: reasons(&ev.notes),
            laws: ev.laws.as_ref().map(LawsUsedOut::new),
        }
    }
}

/// JSON shape of an incident (`incident show --json`, `incident new --json`).
#[derive(Serialize)]
pub struct IncidentOut<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub disposition: Option<&'a str>,
    pub disposition_note: &'a str,
    /// Closed as breach_notified with obligations unmet (`--force`): why.
    pub close_rationale: Option<&'a str>,
    pub exercise: bool,
    pub created: String,
    pub updated: String,
    pub facts: &'a Facts,
    pub timeline: Vec<TimelineOut<'a>>,
    pub notices: &'a [crate::domain::NoticeRecord],
}

#[derive(Serialize)]
pub struct TimelineOut<'a> {
    pub at: String,
    pub author: &'a str,
    pub text: &'a str,
}

impl<'a> IncidentOut<'a> {
    pub fn new(i: &'a Incident) -> IncidentOut<'a> {
        IncidentOut {
            id: i.id.as_str(),
            status: i.status.key(),
            disposition: i.disposition.map(|d| d.key()),
            disposition_note: &i.disposition_note,
            close_rationale: i.close_rationale.as_deref(),
            exercise: i.exercise,
            created: i.created.to_rfc3339(),
            updated: i.updated.to_rfc3339(),
            facts: &i.facts,
            timeline: i
                .timeline
                .iter()
                .map(|t| TimelineOut {
                    at: t.at.to_rfc3339(),
                    author: &t.author,
                    text: &t.text,
                })
                .collect(),
            notices: &i.notices,
        }
    }
}

#[derive(Serialize)]
pub struct IncidentSummary<'a> {
    id: &'a str,
    status: &'a str,
    /// The title (`[encrypted: …]` without the passphrase: a title may name someone).
    title: &'a str,
    /// The title when the passphrase was given, else the kind (`theft · laptop`).
    label: &'a str,
    discovered: Option<String>,
    individuals: u64,
    exercise: bool,
}

impl<'a> IncidentSummary<'a> {
    pub fn new(i: &'a Incident, individuals: u64, label: &'a str) -> IncidentSummary<'a> {
        IncidentSummary {
            id: i.id.as_str(),
            status: i.status.key(),
            title: &i.facts.title,
            label,
            discovered: i
                .facts
                .breach
                .discovered
                .map(|d| d.format("%Y-%m-%d").to_string()),
            individuals,
            exercise: i.exercise,
        }
    }
}
