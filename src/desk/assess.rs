//! The breach determination on record (`assess`), the deadline board (`deadlines`) and the
//! stateless what-if (`evaluate`).

use chrono::NaiveDate;

use super::change::{Plan, Revision};
use super::evaluate::{Policies, evaluate};
use super::office::{Desk, counts_or_estimate};
use super::records::{Assessment, Derived};
use crate::domain::{
    AssessmentFacts, BusinessDays, Counts, ExceptionFacts, Facts, Incident, IncidentId,
    IncidentStatus, LePolicy, NoticeMethod, ObligationKind, Role, SecurityFacts,
};
use crate::error::{Error, Result};
use crate::intake::facts::validate;
use crate::laws::LawSet;
use crate::rules::{self, DeterminationClass, Evaluation, Obligation, ObligationStatus};
use crate::store::Action;
use crate::store::records::DeterminationLogRecord;

/// The answers an assessment records: the safe-harbor, exception and four-factor sections
/// of the facts (from an interview, a facts file, `--set`, or a form).
#[derive(Debug, Clone)]
pub struct AssessmentAnswers {
    pub security: SecurityFacts,
    pub exceptions: ExceptionFacts,
    pub assessment: AssessmentFacts,
}

impl AssessmentAnswers {
    /// The answers already in a set of facts.
    pub fn of(f: &Facts) -> AssessmentAnswers {
        AssessmentAnswers {
            security: f.security.clone(),
            exceptions: f.exceptions.clone(),
            assessment: f.assessment.clone(),
        }
    }

    fn apply(&self, f: &mut Facts) {
        f.security = self.security.clone();
        f.exceptions = self.exceptions.clone();
        f.assessment = self.assessment.clone();
    }
}

/// A human override of the engine's result; the rationale is required and kept on record.
#[derive(Debug, Clone)]
pub struct Override {
    pub class: DeterminationClass,
    pub rationale: String,
}

impl Override {
    /// An override with its rationale (refused when the rationale is blank).
    pub fn new(class: DeterminationClass, rationale: &str) -> Result<Override> {
        if rationale.trim().is_empty() {
            return Err(Error::invalid(
                "an override needs --rationale: the reason is kept on record beside the engine's result (164.414(b))",
            ));
        }
        Ok(Override {
            class,
            rationale: rationale.to_string(),
        })
    }
}

/// `assess`.
#[derive(Debug, Clone)]
pub struct AssessRequest {
    pub id: IncidentId,
    pub answers: AssessmentAnswers,
    pub r#override: Option<Override>,
    /// The incident as the assessor saw it (an interview answered with the database
    /// closed): a change since is a conflict.
    pub expected: Option<Revision>,
    /// Why the people assessing agree with a not-a-breach result (the web form asks for it
    /// and a confirmation, as the terminal interview does); kept with the determination.
    pub conclusion: Option<String>,
}

/// What `assess` recorded, and the evaluation that follows from it.
#[derive(Debug, Clone)]
pub struct Assessed {
    pub incident: Incident,
    pub assessment: Assessment,
    pub evaluation: Evaluation,
    /// The replayable record: its number, engine version, rules digests, inputs hash.
    pub recorded: Recorded,
}

/// How a recorded determination names what it used (for printing and the web).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// 1 for the incident's first recorded determination.
    pub number: u32,
    pub engine_version: String,
    pub laws_digest: String,
    pub builtin_digest: String,
    pub counsel_digest: Option<String>,
    /// `(jurisdiction, sha256)` of counsel's files in force.
    pub counsel_files: Vec<(String, String)>,
    pub inputs_sha256: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub recorded_by: String,
}

impl From<&DeterminationLogRecord> for Recorded {
    fn from(r: &DeterminationLogRecord) -> Recorded {
        Recorded {
            number: r.seq,
            engine_version: r.engine_version.clone(),
            laws_digest: r.laws.digest.clone(),
            builtin_digest: r.laws.builtin_digest.clone(),
            counsel_digest: r.laws.counsel_digest.clone(),
            counsel_files: r
                .laws
                .counsel
                .iter()
                .map(|f| (f.jurisdiction.clone(), f.sha256.clone()))
                .collect(),
            inputs_sha256: r.inputs_sha256.clone(),
            recorded_at: r.recorded_at,
            recorded_by: r.recorded_by.clone(),
        }
    }
}

/// Which obligations `deadlines` lists.
#[derive(Debug, Clone, Default)]
pub struct DeadlineQuery {
    /// Only this incident (open or closed); else every open incident.
    pub incident: Option<IncidentId>,
    /// Only obligations due within N days (overdue ones included).
    pub within: Option<i64>,
    /// Also met and not-required obligations.
    pub all: bool,
    /// Policies instead of the organization's (what-if).
    pub policies: Policies,
}

/// One row of the deadline board.
#[derive(Debug, Clone)]
pub struct DeadlineRow {
    pub incident: IncidentId,
    /// The title when the key is at hand, else the incident's kind (see `desk::label`).
    pub title: String,
    /// Where the incident stands (a closed incident's unmet duties stay on the board).
    pub status: IncidentStatus,
    pub obligation: Obligation,
    /// A window still running (164.404(d)(2)(ii)): the web posting stays up, the toll-free
    /// line stays active, until this date.
    pub keep_until: Option<KeepUntil>,
}

/// A notice made whose window has not ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepUntil {
    pub until: NaiveDate,
    /// "keep posted" (substitute notice on the web site) or "keep active" (toll-free line).
    pub what: &'static str,
}

impl KeepUntil {
    /// `keep posted until 2027-02-18`.
    pub fn text(&self) -> String {
        format!("{} until {}", self.what, self.until.format("%Y-%m-%d"))
    }
}

/// What the deadline board lists of one incident's obligations (`deadlines`, and the
/// dashboard the office keeps): every unmet one whatever the incident's status, every
/// window still running, the optional urgent notice while the incident is open; all of them
/// with `q.all`; narrowed by `q.within`.
pub(super) fn board_rows(
    inc: &Incident,
    title: String,
    obligations: Vec<Obligation>,
    today: NaiveDate,
    q: &DeadlineQuery,
) -> Vec<DeadlineRow> {
    let mut rows = Vec::new();
    for o in obligations {
        let keep = keep_until(&o, inc, today);
        let listed = q.all || super::incidents::unmet(&o) || keep.is_some() || {
            // The optional urgent notice shows while the incident is open.
            o.kind == ObligationKind::UrgentPhoneOptional
                && inc.status.is_open()
                && o.status == ObligationStatus::Pending
        };
        let within = q
            .within
            .is_none_or(|w| o.days_remaining.is_none_or(|d| d <= w));
        if listed && within {
            rows.push(DeadlineRow {
                incident: inc.id.clone(),
                title: title.clone(),
                status: inc.status,
                obligation: o,
                keep_until: keep,
            });
        }
    }
    rows
}

/// The board's order: soonest date (a running window's end, else the due date) first.
pub(super) fn sort_board(rows: &mut [DeadlineRow]) {
    rows.sort_by_key(|r| {
        (
            r.keep_until
                .map(|k| k.until)
                .or(r.obligation.due)
                .unwrap_or(NaiveDate::MAX),
            r.incident.clone(),
            r.obligation.kind,
        )
    });
}

/// How many rows are overdue and not yet sent.
pub(super) fn overdue(rows: &[DeadlineRow]) -> usize {
    rows.iter()
        .filter(|r| {
            matches!(
                r.obligation.status,
                ObligationStatus::Late { sent: false, .. }
            )
        })
        .count()
}

/// The running window of a made substitute web posting or toll-free line (90 days from the
/// first notice, 164.404(d)(2)(ii)(A)-(B)); `None` when none is running on `today`. Substitute
/// notice in major print or broadcast media has no window.
fn keep_until(o: &Obligation, inc: &Incident, today: NaiveDate) -> Option<KeepUntil> {
    if !matches!(
        o.status,
        ObligationStatus::Met { .. } | ObligationStatus::Late { sent: true, .. }
    ) {
        return None;
    }
    let what = match o.kind {
        ObligationKind::TollFreeLine => "keep active",
        ObligationKind::SubstituteWebOrMedia
            if inc
                .notices
                .iter()
                .filter(|n| n.kind == o.kind)
                .min_by_key(|n| n.date)
                .is_some_and(|n| n.method == NoticeMethod::Web) =>
        {
            "keep posted"
        }
        _ => return None,
    };
    let until = o.window_end?;
    (today <= until).then_some(KeepUntil { until, what })
}

/// The deadline board, soonest first.
#[derive(Debug, Clone)]
pub struct DeadlineBoard {
    pub today: NaiveDate,
    /// The policies the dates were computed with.
    pub policy: LePolicy,
    pub business_days: BusinessDays,
    pub rows: Vec<DeadlineRow>,
    /// Obligations past due and not sent.
    pub overdue: usize,
}

/// `evaluate`: a what-if over facts, no database.
#[derive(Debug, Clone)]
pub struct WhatIf {
    pub facts: Facts,
    pub role: Role,
    pub policy: Option<LePolicy>,
    pub business_days: Option<BusinessDays>,
    pub override_class: Option<DeterminationClass>,
    pub today: NaiveDate,
}

/// The engine on facts alone: the estimates as counts, no notices sent, the State laws of
/// `laws` (the built-in ones, or with counsel's draft files: `evaluate --laws FILE`).
pub fn what_if(w: &WhatIf, laws: &LawSet) -> Evaluation {
    let counts = Counts::from_facts(&w.facts.individuals);
    let input = rules::EngineInput {
        facts: &w.facts,
        role: w.role,
        counts: &counts,
        notices: &[],
        policy: w.policy.unwrap_or_default(),
        override_class: w.override_class,
        last_in_effect: w.today,
    };
    rules::evaluate_with_laws(
        &input,
        rules::StateOptions {
            laws,
            business_days: w.business_days.unwrap_or_default(),
        },
        w.today,
    )
}

impl Desk<'_> {
    /// `assess`: runs the 164.402 pipeline on the answers and records the result (with any
    /// override); an incident reported or investigating becomes assessed.
    pub fn assess(&self, req: &AssessRequest) -> Result<Assessed> {
        if let Some(o) = &req.r#override {
            Override::new(o.class, &o.rationale)?;
        }
        let today = self.today()?;
        let now = self.ctx.now;
        let plan = Plan {
            action: Action::IncidentAssess,
            touch: true,
            refresh: true,
            expect: req.expected,
            record: true,
        };
        let c = self.change_incident(&req.id, plan, |e| {
            req.answers.apply(&mut e.inc.facts);
            validate(&e.inc.facts, today)?;
            let engine = rules::determine(&e.inc.facts);
            if matches!(
                e.inc.status,
                IncidentStatus::Reported | IncidentStatus::Investigating
            ) {
                e.inc.status = IncidentStatus::Assessed;
            }
            let mut detail = format!("engine={}", engine.class.key());
            if let Some(r) = engine.route {
                detail.push_str(&format!(" route={}", r.key()));
            }
            if let Some(o) = &req.r#override {
                detail.push_str(&format!(" override={}", o.class.key()));
            }
            let a = Assessment {
                engine,
                override_class: req.r#override.as_ref().map(|o| o.class),
                rationale: req
                    .r#override
                    .as_ref()
                    .map(|o| o.rationale.clone())
                    .or_else(|| req.conclusion.as_ref().map(|c| c.trim().to_string()))
                    .unwrap_or_default(),
                assessed_by: self.ctx.who.describe(),
                assessed_at: now,
            };
            e.derived.assessment = Some(a.clone());
            Ok((a, detail))
        })?;
        let recorded = c
            .recorded
            .as_ref()
            .map(Recorded::from)
            .ok_or_else(|| Error::Storage("the determination was not recorded".into()))?;
        // The evaluation as recorded (the same inputs and rules, in the same transaction).
        let laws = super::laws::law_set(&self.reader()?.counsel_laws()?)?;
        let evaluation = evaluate(
            self.org()?,
            &laws,
            &c.incident,
            &c.derived,
            &c.counts,
            Policies::default(),
            today,
        );
        Ok(Assessed {
            incident: c.incident,
            assessment: c.value,
            evaluation,
            recorded,
        })
    }

    /// `deadlines --ics`: the calendar (RFC 5545) of every dated obligation of every incident
    /// (a closed one's too: closing never hides a duty), open or done (done ones come back
    /// cancelled, so a re-import clears their reminders); `within` narrows the open ones as it
    /// narrows the list.
    pub fn deadline_calendar(&self, q: &DeadlineQuery) -> Result<(String, usize)> {
        let org = self.org()?;
        let laws = self.laws()?;
        let today = self.today()?;
        // A calendar goes into other systems: never a title (it may name someone), so it is
        // built from the records without their text.
        let codec = self.office.no_phi();
        let r = self.reader()?;
        let mut items = Vec::new();
        for inc in r.incidents(codec)? {
            if q.incident.as_ref().is_some_and(|id| *id != inc.id) {
                continue;
            }
            let d = Derived::from(r.derived(&inc.id, codec)?);
            let counts = counts_or_estimate(r.roster_counts(&inc.id)?, &inc);
            let ev = evaluate(org, laws, &inc, &d, &counts, q.policies, today);
            items.extend(
                ev.obligations
                    .iter()
                    .filter_map(|o| {
                        crate::ics::CalendarItem::from_obligation(
                            inc.id.as_str(),
                            &super::incidents::label(&inc, true),
                            o,
                        )
                    })
                    .filter(|item| {
                        !item.open || q.within.is_none_or(|w| (item.due - today).num_days() <= w)
                    }),
            );
        }
        let n = items.len();
        Ok((crate::ics::to_ics(&org.legal_name, &items, self.ctx.now), n))
    }

    /// What the engine would conclude from these answers on the incident's facts, without
    /// recording anything (the web form shows it before asking for a confirmation).
    pub fn preview_assessment(
        &self,
        id: &IncidentId,
        answers: &AssessmentAnswers,
    ) -> Result<rules::Determination> {
        let mut facts = self.incident_record(id)?.facts;
        answers.apply(&mut facts);
        validate(&facts, self.today()?)?;
        Ok(rules::determine(&facts))
    }

    /// `deadlines`: every unmet obligation of every incident whatever its status (closing an
    /// incident never hides a duty), and every window still running, soonest first; or
    /// everything of one incident.
    pub fn deadlines(&self, q: &DeadlineQuery) -> Result<DeadlineBoard> {
        let org = self.org()?;
        let laws = self.laws()?;
        let today = self.today()?;
        let codec = self.quiet_codec()?;
        let r = self.reader()?;
        let mut rows = Vec::new();
        for inc in r.incidents(codec)? {
            if q.incident.as_ref().is_some_and(|id| *id != inc.id) {
                continue;
            }
            let d = Derived::from(r.derived(&inc.id, codec)?);
            let counts = counts_or_estimate(r.roster_counts(&inc.id)?, &inc);
            let ev = evaluate(org, laws, &inc, &d, &counts, q.policies, today);
            let title = super::incidents::label(&inc, codec.is_locked());
            rows.extend(board_rows(&inc, title, ev.obligations, today, q));
        }
        sort_board(&mut rows);
        let overdue = overdue(&rows);
        Ok(DeadlineBoard {
            today,
            policy: q.policies.le_for(org),
            business_days: q.policies.business_days_for(org),
            rows,
            overdue,
        })
    }
}
