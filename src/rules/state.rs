//! State breach-notification laws beside HIPAA: for every State with residents among the
//! affected individuals, the State's duties with due dates, citations, the version of the
//! law used and whether each rule was verified against statute text. Pure, like the rest of
//! the engine: the laws come in as a [`LawSet`], `today` as a parameter.
//!
//! Policies (each one printed where it applies):
//! - **Which version**: the last version whose `effective` date is on or before the clock
//!   start (discovery, 164.404(a)(2)); the current version when discovery is not recorded.
//!   A breach discovered before the earliest version in the data gets a note, no duties.
//! - **Anchors**: "discovery" is the HIPAA clock start; "determination" is
//!   `[state_law] determined`, or discovery when it is not recorded (the earliest it can be);
//!   "notice to residents" is the first recorded notice to individuals, or the deadline for
//!   it until one is recorded; "notice to HHS" likewise.
//! - **Business days**: [`BusinessDays`], printed with every date counted in business days.
//! - **Law-enforcement delay**: a delay recorded under 164.412 moves State deadlines counted
//!   from discovery or determination under the same policy as HIPAA's (most State laws allow
//!   delay at law enforcement's request; the State's own delay clause is not modelled).
//!   Deadlines counted from another notice move with that notice.
//! - **State individual notice** is listed as owed only when the State's deadline is earlier
//!   than HIPAA's; otherwise it is listed as not required, with both dates.
//! - **HIPAA's finding of no breach** (an exception or a low probability of compromise) does
//!   not decide a State law: the State's duties stay owed unless the State's own exemption,
//!   trigger, coverage or risk-of-harm standard (with a recorded no-harm determination)
//!   rules them out. Secured (encrypted) data are outside every State law.
//! - **Unverified rules** are applied as written and labelled unverified wherever they are
//!   used, including where they rule a duty out.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::vocab::{DataElement, Location, PiElement, state_name};
use crate::domain::{Facts, HarmOutcome, NoticeRecord, ObligationKind, Role};
use crate::laws::schema::{
    Anchor, DayUnit, HipaaEffect, HipaaTreatment, LawVersion, Provenance, Rule, Timing, When,
};
use crate::laws::table::timing_text;
use crate::laws::{LawSet, Pick};

use super::calendar::{BusinessDays, plus_days, plus_days_signed};
use super::obligations::{completion, join_note, not_required, ob, settle};
use super::{
    DeterminationClass, EngineInput, Evaluation, Obligation, ObligationStatus, Reason, delay,
    evaluate,
};

/// What the State pass needs beyond [`EngineInput`].
#[derive(Debug, Clone, Copy)]
pub struct StateOptions<'a> {
    pub laws: &'a LawSet,
    pub business_days: BusinessDays,
}

/// The State laws an evaluation used: enough to name, hash and replay them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LawsUsed {
    /// Digest of the whole rules set in force ([`crate::laws`] documents the encoding).
    pub digest: String,
    pub builtin_digest: String,
    pub counsel_digest: Option<String>,
    pub business_days: BusinessDays,
    pub jurisdictions: Vec<JurisdictionUse>,
}

/// One State with residents among the affected, and what its law said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurisdictionUse {
    pub jurisdiction: String,
    pub residents: u64,
    /// `None` when there is no rules data for the State or none for the discovery date.
    pub effective: Option<NaiveDate>,
    pub citation: String,
    /// `built-in` or `counsel`.
    pub origin: String,
    /// SHA-256 of the rules file used.
    pub sha256: String,
    /// The law applies to this breach (its duties are listed); else `reason` says why not.
    pub applies: bool,
    pub reason: String,
    /// Credit-monitoring mandates triggered by the data involved.
    pub monitoring: Vec<String>,
    /// Content the notice to residents must carry under this State's law.
    pub content: Vec<String>,
    /// Rules of the version used, and how many were verified against statute text.
    pub rules: usize,
    pub verified: usize,
}

/// HIPAA evaluation plus every State's duties.
pub fn evaluate_with_laws(input: &EngineInput, opts: StateOptions, today: NaiveDate) -> Evaluation {
    let mut ev = evaluate(input, today);
    let (obs, notes, used) = state_obligations(input, &ev, opts, today);
    ev.obligations.extend(obs);
    ev.notes.extend(notes);
    ev.laws = Some(used);
    ev
}

/// The State pass over a HIPAA evaluation.
pub fn state_obligations(
    input: &EngineInput,
    ev: &Evaluation,
    opts: StateOptions,
    today: NaiveDate,
) -> (Vec<Obligation>, Vec<Reason>, LawsUsed) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut used = Vec::new();
    let c = input.counts;

    let assigned: u64 = c.by_state.values().sum();
    if c.total > assigned {
        notes.push(Reason::new(
            format!(
                "{} of {} affected individuals are not assigned to a State: the State laws that protect them cannot be applied; record residents per State (or import the roster)",
                c.total - assigned,
                c.total
            ),
            "State breach-notification laws",
        ));
    }

    for (code, residents) in &c.by_state {
        if *residents == 0 {
            continue;
        }
        let Some(law) = opts.laws.get(code) else {
            notes.push(Reason::new(
                format!(
                    "{residents} resident(s) of {}: breachdesk has no rules data for {code}; counsel must check its law",
                    state_name(code)
                ),
                "State breach-notification laws",
            ));
            used.push(JurisdictionUse {
                jurisdiction: code.clone(),
                residents: *residents,
                effective: None,
                citation: String::new(),
                origin: String::new(),
                sha256: String::new(),
                applies: false,
                reason: "no rules data".into(),
                monitoring: Vec::new(),
                content: Vec::new(),
                rules: 0,
                verified: 0,
            });
            continue;
        };
        let v = match law.version_for(ev.clock.date) {
            Pick::Version(v) => v,
            Pick::BeforeData(first) => {
                notes.push(Reason::new(
                    format!(
                        "{residents} resident(s) of {}: the breach was discovered before {first}, the earliest version of {code}'s law in the rules data; counsel must apply the law then in force",
                        state_name(code)
                    ),
                    law.file
                        .version
                        .first()
                        .map(|v| v.citation.clone())
                        .unwrap_or_default(),
                ));
                used.push(JurisdictionUse {
                    jurisdiction: code.clone(),
                    residents: *residents,
                    effective: None,
                    citation: String::new(),
                    origin: law.origin.key().into(),
                    sha256: law.sha256.clone(),
                    applies: false,
                    reason: format!("no version before {first}"),
                    monitoring: Vec::new(),
                    content: Vec::new(),
                    rules: 0,
                    verified: 0,
                });
                continue;
            }
        };
        let ctx = Ctx {
            input,
            ev,
            opts,
            today,
            code,
            residents: *residents,
            v,
        };
        let (obs, ju) = ctx.run(law.origin.key(), &law.sha256);
        out.extend(obs);
        used.push(ju);
    }

    (
        out,
        notes,
        LawsUsed {
            digest: opts.laws.digest.clone(),
            builtin_digest: opts.laws.builtin_digest.clone(),
            counsel_digest: opts.laws.counsel_digest.clone(),
            business_days: opts.business_days,
            jurisdictions: used,
        },
    )
}

/// The elements State laws look for, from the portal's list and `[state_law] elements`.
pub fn pi_elements(f: &Facts) -> Vec<PiElement> {
    use DataElement as D;
    let mut v: Vec<PiElement> = Vec::new();
    for e in &f.breach.phi {
        let m = match e {
            D::Ssn => Some(PiElement::Ssn),
            D::DriversLicense => Some(PiElement::DriversLicense),
            D::FinancialAccount => Some(PiElement::FinancialAccount),
            D::Diagnosis | D::LabResults | D::Medications | D::OtherTreatment => {
                Some(PiElement::Medical)
            }
            D::HealthPlanId | D::Claims => Some(PiElement::HealthInsurance),
            D::DateOfBirth => Some(PiElement::DateOfBirth),
            _ => None,
        };
        v.extend(m);
    }
    v.extend(f.state_law.elements.iter().copied());
    if v.contains(&PiElement::FinancialAccount) && v.contains(&PiElement::AccountAccessCode) {
        v.push(PiElement::FinancialAccountWithCode);
    }
    if v.contains(&PiElement::FinancialAccountWithCode) {
        v.push(PiElement::FinancialAccount);
    }
    v.sort();
    v.dedup();
    v
}

struct Ctx<'a> {
    input: &'a EngineInput<'a>,
    ev: &'a Evaluation,
    opts: StateOptions<'a>,
    today: NaiveDate,
    code: &'a str,
    residents: u64,
    v: &'a LawVersion,
}

/// Why a State's law as a whole does not apply, if it does not.
enum Gate<'a> {
    Applies,
    /// Nothing is owed under this law; the reason (with its provenance), and the rule that
    /// decided it (`None`: an engine policy, no rule of the State's).
    Out(String, Option<Provenance<'a>>),
}

impl<'a> Ctx<'a> {
    fn name(&self) -> &str {
        state_name(self.code)
    }

    fn facts(&self) -> &Facts {
        self.input.facts
    }

    fn run(&self, origin: &str, sha: &str) -> (Vec<Obligation>, JurisdictionUse) {
        let v = self.v;
        let provs = crate::laws::table::provenances(v);
        let mut ju = JurisdictionUse {
            jurisdiction: self.code.to_string(),
            residents: self.residents,
            effective: Some(v.effective),
            citation: v.citation.clone(),
            origin: origin.to_string(),
            sha256: sha.to_string(),
            applies: true,
            reason: String::new(),
            monitoring: Vec::new(),
            content: Vec::new(),
            rules: provs.len(),
            verified: provs.iter().filter(|p| p.is_verified()).count(),
        };
        let gate = self.gate();
        if let Gate::Out(reason, by) = gate {
            ju.applies = false;
            ju.reason = reason.clone();
            let general = self.general();
            let mut o = self.state_ob(
                ObligationKind::StateIndividual,
                None,
                general.map(|r| r.cite.as_str()).unwrap_or(&v.citation),
                general.map(|r| r.provenance()),
            );
            o.required_count = Some(self.residents);
            if let Some(p) = by {
                decided_by(&mut o, p);
            }
            return (vec![not_required(o, reason)], ju);
        }

        let elements = pi_elements(self.facts());
        for m in &v.credit_monitoring {
            if m.when.iter().any(|e| elements.contains(e)) {
                ju.monitoring.push(format!(
                    "{} for {} months ({}; {})",
                    m.service,
                    m.months,
                    m.cite,
                    m.provenance().describe()
                ));
            }
        }
        if let Some(ct) = &v.content {
            if !ct.title.is_empty() {
                ju.content.push(format!("title \"{}\"", ct.title));
            }
            if !ct.headings.is_empty() {
                ju.content
                    .push(format!("headings: {}", ct.headings.join(" / ")));
            }
            ju.content.extend(ct.items.iter().cloned());
            if let Some(p) = ct.min_type_points {
                ju.content.push(format!("at least {p}-point type"));
            }
        }

        let mut out = self.individual();
        out.extend(self.regulators());
        out.extend(self.cra());
        (out, ju)
    }

    fn general(&self) -> Option<&crate::laws::schema::IndividualRule> {
        self.v
            .individual
            .iter()
            .find(|r| r.condition.trim().is_empty())
    }

    fn gate(&self) -> Gate<'a> {
        let v = self.v;
        let name = self.name();
        let prov = |r: &dyn Rule| r.provenance().describe();
        if self.input.role == Role::BusinessAssociate {
            return Gate::Out(
                format!(
                    "a business associate maintains the data for the covered entity, which owes {name}'s notices; {name}'s law requires a maintainer to notify the owner (see `laws show {}`)",
                    self.code
                ),
                None,
            );
        }
        if self.ev.effective_class == DeterminationClass::NotBreachSecured {
            return Gate::Out(
                format!(
                    "the data were secured (encrypted or destroyed; {}): {name}'s law does not reach encrypted data whose key was not compromised ({})",
                    self.ev.effective_class.cite(),
                    v.trigger.cite
                ),
                None,
            );
        }
        let locs = &self.facts().breach.locations;
        if !v.covers_paper && !locs.is_empty() && locs.iter().all(|l| *l == Location::PaperFilms) {
            return Gate::Out(
                format!(
                    "the breach involved paper records only and {name}'s law covers computerized data ({}; {})",
                    v.citation,
                    prov(&v.trigger)
                ),
                Some(v.trigger.provenance()),
            );
        }
        if v.hipaa.treatment == HipaaTreatment::Exempt {
            return Gate::Out(
                format!(
                    "{name}'s law does not apply to entities subject to HIPAA ({}; {}){}",
                    v.hipaa.cite,
                    prov(&v.hipaa),
                    note_suffix(&v.hipaa.note)
                ),
                Some(v.hipaa.provenance()),
            );
        }
        if let Some(reason) = self.not_triggered() {
            return Gate::Out(reason, Some(v.trigger.provenance()));
        }
        if v.trigger.harm_threshold
            && let Some(h) = self.harm_for_state()
            && h.outcome == HarmOutcome::NotLikely
            && !self.ev.effective_class.is_breach()
        {
            return Gate::Out(
                format!(
                    "{name}'s law requires notice only where harm is reasonably likely, and a no-harm determination was recorded on {} ({}; {})",
                    h.date,
                    v.trigger.cite,
                    prov(&v.trigger)
                ),
                Some(v.trigger.provenance()),
            );
        }
        Gate::Applies
    }

    /// `Some(reason)` when the data elements involved are not personal information under the
    /// State's definition. Unknown elements never rule a State out.
    fn not_triggered(&self) -> Option<String> {
        let t = &self.v.trigger;
        let f = self.facts();
        if f.breach.phi.is_empty() && f.state_law.elements.is_empty() {
            return None;
        }
        let els = pi_elements(f);
        let has_name = f.breach.phi.contains(&DataElement::Name);
        let has_identifier = has_name
            || f.breach.phi.iter().any(|e| {
                matches!(
                    e,
                    DataElement::Address
                        | DataElement::MedicalRecordNumber
                        | DataElement::OtherDemographic
                )
            });
        let with_name_ok = if t.identifier_suffices {
            has_identifier
        } else {
            has_name
        };
        let hit = t.alone.iter().any(|e| els.contains(e))
            || (with_name_ok && t.with_name.iter().any(|e| els.contains(e)));
        if hit {
            return None;
        }
        let involved: Vec<&str> = f
            .breach
            .phi
            .iter()
            .map(|e| e.key())
            .chain(f.state_law.elements.iter().map(|e| e.key()))
            .collect();
        let needs_name = !with_name_ok && t.with_name.iter().any(|e| els.contains(e));
        Some(format!(
            "the data elements involved ({}) are not personal information under {}'s law{} ({}; {}){}",
            involved.join(", "),
            self.name(),
            if needs_name {
                ": its elements count only with the individual's name, which was not involved"
            } else {
                ""
            },
            t.cite,
            t.provenance().describe(),
            note_suffix(&t.note)
        ))
    }

    fn harm_for_state(&self) -> Option<&crate::domain::HarmDetermination> {
        self.facts()
            .state_law
            .harm
            .as_ref()
            .filter(|h| h.states.is_empty() || h.states.iter().any(|s| s == self.code))
    }

    /// How an entity subject to HIPAA stands toward a rule of this kind.
    fn hipaa_effect(&self, kind: ObligationKind, explicit: Option<HipaaEffect>) -> HipaaEffect {
        if let Some(e) = explicit {
            return e;
        }
        match (self.v.hipaa.treatment, kind) {
            (HipaaTreatment::None, _) => HipaaEffect::Due,
            (HipaaTreatment::Exempt, _) | (HipaaTreatment::DeemedCompliant, _) => {
                HipaaEffect::Satisfied
            }
            (HipaaTreatment::DeemedCompliantRegulatorDue, ObligationKind::StateIndividual) => {
                HipaaEffect::Satisfied
            }
            (HipaaTreatment::DeemedCompliantRegulatorDue, _) => HipaaEffect::Due,
        }
    }

    fn deemed_reason(&self) -> String {
        let h = &self.v.hipaa;
        format!(
            "{}: {} ({}; {}){}",
            self.name(),
            h.treatment.describe(),
            h.cite,
            h.provenance().describe(),
            note_suffix(&h.note)
        )
    }

    /// A State obligation skeleton.
    fn state_ob(
        &self,
        kind: ObligationKind,
        recipient: Option<&str>,
        cite: &str,
        prov: Option<Provenance>,
    ) -> Obligation {
        let mut o = ob(kind, None, cite, "");
        o.jurisdiction = Some(self.code.to_string());
        o.recipient = recipient.map(String::from);
        o.effective = Some(self.v.effective);
        o.verified = Some(prov.is_some_and(|p| p.is_verified()));
        o.source = prov.map(|p| p.describe());
        o
    }

    fn hipaa_individual(&self) -> Option<&Obligation> {
        self.ev
            .obligations
            .iter()
            .find(|o| o.kind == ObligationKind::Individual && o.status.is_required())
    }

    /// The date an anchor stands for, and how it was found.
    fn anchor(&self, a: Anchor) -> (Option<NaiveDate>, String) {
        let clock = self.ev.clock.date;
        match a {
            Anchor::Discovery => (
                clock,
                match clock {
                    Some(d) => format!("discovery on {d}"),
                    None => "discovery: not recorded".into(),
                },
            ),
            Anchor::Determination => match self.facts().state_law.determined {
                Some(d) => (Some(d), format!("determination on {d}")),
                None => (
                    clock,
                    match clock {
                        Some(d) => format!(
                            "determination not recorded ([state_law] determined): counted from discovery on {d}, the earliest it can be"
                        ),
                        None => "determination and discovery not recorded".into(),
                    },
                ),
            },
            Anchor::IndividualNotice => {
                let sent = self
                    .input
                    .notices
                    .iter()
                    .filter(|n| {
                        n.kind == ObligationKind::Individual
                            || (n.kind == ObligationKind::StateIndividual
                                && n.jurisdiction.as_deref() == Some(self.code))
                    })
                    .map(|n| n.date)
                    .min();
                match sent {
                    Some(d) => (Some(d), format!("notice to residents sent on {d}")),
                    None => {
                        let due = self.individual_due();
                        (
                            due,
                            match due {
                                Some(d) => format!(
                                    "notice to residents not yet recorded: counted from its deadline {d} (moves earlier with the notice)"
                                ),
                                None => "notice to residents: no date yet".into(),
                            },
                        )
                    }
                }
            }
            Anchor::HhsNotice => {
                let sent = self
                    .input
                    .notices
                    .iter()
                    .filter(|n| {
                        matches!(
                            n.kind,
                            ObligationKind::HhsImmediate | ObligationKind::HhsAnnual
                        )
                    })
                    .map(|n| n.date)
                    .min();
                match sent {
                    Some(d) => (Some(d), format!("notice to HHS sent on {d}")),
                    None => {
                        let due = self
                            .ev
                            .obligations
                            .iter()
                            .find(|o| {
                                matches!(
                                    o.kind,
                                    ObligationKind::HhsImmediate | ObligationKind::HhsAnnual
                                ) && o.status.is_required()
                            })
                            .and_then(|o| o.due);
                        (
                            due,
                            match due {
                                Some(d) => format!(
                                    "notice to HHS not yet recorded: counted from its deadline {d} (moves earlier with the notice)"
                                ),
                                None => "notice to HHS: no date (HIPAA requires none here)".into(),
                            },
                        )
                    }
                }
            }
            Anchor::HarmDetermination => match self.harm_for_state() {
                Some(h) => (Some(h.date), format!("no-harm determination on {}", h.date)),
                None => (None, "no harm determination recorded".into()),
            },
        }
    }

    /// The deadline for notice to this State's residents: the State's own (when it has a
    /// number of days) or HIPAA's, whichever is earlier.
    fn individual_due(&self) -> Option<NaiveDate> {
        // A State deadline that HIPAA compliance satisfies does not bind.
        let binding = self.hipaa_effect(ObligationKind::StateIndividual, None) == HipaaEffect::Due;
        let state = self
            .general()
            .filter(|_| binding)
            .and_then(|r| self.due(&r.timing()).0);
        let hipaa = self.hipaa_individual().and_then(|o| o.due);
        match (state, hipaa) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Due date of a timing, its basis, and the date before any law-enforcement delay.
    fn due(&self, t: &Timing) -> (Option<NaiveDate>, String) {
        let Some(days) = t.days else {
            return (None, format!("no number of days: {}", t.standard));
        };
        let one = |days: u32, from: Anchor, unit: DayUnit, before: bool| {
            let (a, basis) = self.anchor(from);
            let d = a.map(|a| {
                if before {
                    plus_days_signed(a, -1)
                } else {
                    match unit {
                        DayUnit::Calendar => plus_days(a, u64::from(days)),
                        DayUnit::Business => self.opts.business_days.add(a, days),
                    }
                }
            });
            let mut basis = basis;
            if unit == DayUnit::Business {
                basis = format!("{basis}; {}", self.opts.business_days.describe());
            }
            if before {
                basis = format!("{basis}; due the day before (it must precede that notice)");
            }
            (d, basis)
        };
        let (d1, b1) = one(days, t.from, t.unit, t.before);
        match t.or {
            None => (d1, b1),
            Some(o) => {
                let (d2, b2) = one(o.days, o.from, o.unit, false);
                match (d1, d2) {
                    (Some(a), Some(b)) if b < a => (Some(b), format!("{b2} (earlier than {b1})")),
                    (None, Some(b)) => (Some(b), b2),
                    _ => (d1, b1),
                }
            }
        }
    }

    /// Names the business-day policy beside a date counted in business days (like the
    /// law-enforcement policy beside a date a delay moved).
    fn day_policy(&self, o: &mut Obligation, t: &Timing) {
        let business =
            t.unit == DayUnit::Business || t.or.is_some_and(|x| x.unit == DayUnit::Business);
        if business && o.due.is_some() {
            o.policy = Some(self.opts.business_days.describe().to_string());
        }
    }

    /// Applies the law-enforcement delay to a date counted from discovery or determination.
    fn delayed(&self, o: &mut Obligation, from: Anchor) {
        if !matches!(from, Anchor::Discovery | Anchor::Determination) {
            return;
        }
        // Statements are taken in turn against the deadline as it stands, counting only days
        // after this obligation's own day 0 (see `delay`).
        if let (Some(due), Some(d), (Some(day0), _)) = (o.due, &self.ev.delay, self.anchor(from)) {
            let applied = delay::apply(due, day0, d, self.ev.policy);
            if applied.due != due {
                o.original_due = Some(due);
                o.due = Some(applied.due);
                let le = self.ev.policy.describe();
                o.policy = Some(match o.policy.take() {
                    Some(p) => format!("{p}; {le}"),
                    None => le.to_string(),
                });
            }
        }
    }

    fn not_breach_note(&self) -> Option<String> {
        let class = self.ev.effective_class;
        if class.is_breach() {
            return None;
        }
        Some(format!(
            "HIPAA's finding ({}) does not decide {}'s law: its own definition of a breach{} applies; counsel decides",
            class.key(),
            self.name(),
            if self.v.trigger.harm_threshold {
                " and its risk-of-harm standard (record a determination in [state_law.harm])"
            } else {
                ""
            }
        ))
    }

    fn individual(&self) -> Vec<Obligation> {
        let mut out = Vec::new();
        for r in &self.v.individual {
            let conditional = !r.condition.trim().is_empty();
            let t = r.timing();
            let mut o = self.state_ob(
                ObligationKind::StateIndividual,
                conditional.then_some(r.id.as_str()),
                &r.cite,
                Some(r.provenance()),
            );
            o.required_count = Some(self.residents);
            let (due, basis) = self.due(&t);
            o.due = due;
            self.day_policy(&mut o, &t);
            self.delayed(&mut o, t.from);
            let mut note = format!(
                "{} resident(s) of {}; {}; {}",
                self.residents,
                self.name(),
                timing_text(&t),
                basis
            );
            if conditional {
                note = format!("applies only to {}; {note}", r.condition);
            }
            note = join_note(&note, &r.note);

            let effect = self.hipaa_effect(ObligationKind::StateIndividual, None);
            if effect == HipaaEffect::Satisfied && !conditional {
                o.note = format!("{note}; {}", r.provenance().describe());
                decided_by(&mut o, self.v.hipaa.provenance());
                let reason = match self.ev.effective_class.is_breach() {
                    true => format!(
                        "{}; the HIPAA notice to individuals (164.404) is the notice to {}'s residents",
                        self.deemed_reason(),
                        self.name()
                    ),
                    false => format!(
                        "{}; HIPAA requires no notice here ({})",
                        self.deemed_reason(),
                        self.ev.effective_class.key()
                    ),
                };
                out.push(not_required(o, reason));
                continue;
            }

            let hipaa_due = if self.ev.effective_class.is_breach() {
                self.hipaa_individual().and_then(|h| h.due)
            } else {
                None
            };
            let earlier = match (o.due, hipaa_due) {
                (Some(s), Some(h)) => s < h,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !earlier && !conditional {
                o.note = format!("{note}; {}", r.provenance().describe());
                let reason = match (o.due, hipaa_due) {
                    (Some(s), Some(h)) => format!(
                        "{}'s deadline ({s}) is not earlier than HIPAA's ({h}): the HIPAA notice, sent on time, meets both",
                        self.name()
                    ),
                    (None, Some(h)) => format!(
                        "{}'s law sets no number of days ({}); HIPAA's deadline ({h}) is the outer limit, and the State's standard still asks for notice without unreasonable delay",
                        self.name(),
                        r.standard
                    ),
                    _ => format!(
                        "{}'s law sets no number of days ({})",
                        self.name(),
                        r.standard
                    ),
                };
                out.push(not_required(o, reason));
                continue;
            }
            if let Some(n) = self.not_breach_note() {
                note = format!("{n}; {note}");
            }
            o.note = format!("{note}; {}", r.provenance().describe());
            let records: Vec<&NoticeRecord> = self
                .input
                .notices
                .iter()
                .filter(|n| {
                    n.kind == ObligationKind::StateIndividual
                        && n.jurisdiction.as_deref() == Some(self.code)
                        && n.recipient == o.recipient
                })
                .collect();
            let mut records = records;
            records.sort_by_key(|n| n.date);
            o.sent_count = records.iter().map(|r| r.count).sum();
            let own = completion(&records, o.required_count);
            // The HIPAA notice to individuals, once complete, is the notice to residents.
            let via_hipaa = self.hipaa_individual().and_then(|h| match h.status {
                ObligationStatus::Met { on } => Some(on),
                ObligationStatus::Late { sent: true, days } => {
                    h.due.map(|d| plus_days_signed(d, days))
                }
                _ => None,
            });
            let done = match (own, via_hipaa) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            settle(&mut o, done, self.today, self.ev.clock.date);
            out.push(o);
        }
        out
    }

    fn regulators(&self) -> Vec<Obligation> {
        let mut out = Vec::new();
        let notice_rules = self
            .v
            .regulator
            .iter()
            .filter(|r| r.when == When::Notice)
            .count();
        for r in &self.v.regulator {
            if r.when == When::NoHarmDetermination {
                match self.harm_for_state() {
                    Some(h) if h.outcome == HarmOutcome::NotLikely => {}
                    _ => continue,
                }
            }
            let t = r.timing();
            let mut o = self.state_ob(
                ObligationKind::StateRegulator,
                Some(&r.id),
                &r.cite,
                Some(r.provenance()),
            );
            let threshold = r.threshold();
            let mut note = format!(
                "{} ({}); {}: {} resident(s) of {}; {}",
                r.name,
                r.id,
                threshold.describe(),
                self.residents,
                self.name(),
                timing_text(&t)
            );
            if !r.condition.is_empty() {
                note = format!("applies only to {}; {note}", r.condition);
            }
            if !r.method.is_empty() {
                note = format!("{note}; method: {}", r.method);
            }
            if !r.content.is_empty() {
                note = format!("{note}; content: {}", r.content.join("; "));
            }
            note = join_note(&note, &r.note);
            let prov = r.provenance().describe();

            if r.when == When::Notice
                && self.hipaa_effect(ObligationKind::StateRegulator, r.hipaa)
                    == HipaaEffect::Satisfied
            {
                o.note = format!("{note}; {prov}");
                decided_by(&mut o, self.v.hipaa.provenance());
                out.push(not_required(o, self.deemed_reason()));
                continue;
            }
            if !threshold.met(self.residents) {
                o.note = format!("{note}; {prov}");
                let reason = format!(
                    "{} resident(s) of {}: the threshold is {} ({}; {})",
                    self.residents,
                    self.name(),
                    threshold.describe(),
                    r.cite,
                    prov
                );
                out.push(not_required(o, reason));
                continue;
            }
            if r.from == Anchor::HhsNotice
                && !self.ev.effective_class.is_breach()
                && !self.input.notices.iter().any(|n| {
                    matches!(
                        n.kind,
                        ObligationKind::HhsImmediate | ObligationKind::HhsAnnual
                    )
                })
            {
                o.note = format!("{note}; {prov}");
                out.push(not_required(
                    o,
                    format!(
                        "owed within {} of notifying the Secretary of HHS, and HIPAA requires no notice to HHS here ({})",
                        t.days.map(|d| format!("{d} {}", t.unit.word())).unwrap_or_default(),
                        self.ev.effective_class.key()
                    ),
                ));
                continue;
            }
            let (due, basis) = self.due(&t);
            o.due = due;
            self.day_policy(&mut o, &t);
            self.delayed(&mut o, t.from);
            note = format!("{note}; {basis}");
            if r.when == When::Notice
                && let Some(n) = self.not_breach_note()
            {
                note = format!("{n}; {note}");
            }
            o.note = format!("{note}; {prov}");
            let mut records: Vec<&NoticeRecord> = self
                .input
                .notices
                .iter()
                .filter(|n| {
                    n.kind == ObligationKind::StateRegulator
                        && n.jurisdiction.as_deref() == Some(self.code)
                        && match &n.recipient {
                            Some(x) => x == &r.id,
                            None => notice_rules == 1 && r.when == When::Notice,
                        }
                })
                .collect();
            records.sort_by_key(|n| n.date);
            o.sent_count = records.iter().map(|r| r.count).sum();
            let done = completion(&records, None);
            settle(&mut o, done, self.today, self.ev.clock.date);
            out.push(o);
        }
        out
    }

    fn cra(&self) -> Vec<Obligation> {
        let Some(r) = &self.v.cra else {
            return Vec::new();
        };
        let t = r.timing();
        let mut o = self.state_ob(
            ObligationKind::StateCra,
            None,
            &r.cite,
            Some(r.provenance()),
        );
        let threshold = r.threshold();
        let mut note = format!(
            "nationwide consumer reporting agencies; {}: {} resident(s) of {}; {}",
            threshold.describe(),
            self.residents,
            self.name(),
            timing_text(&t)
        );
        note = join_note(&note, &r.note);
        let prov = r.provenance().describe();
        if self.hipaa_effect(ObligationKind::StateCra, r.hipaa) == HipaaEffect::Satisfied {
            o.note = format!("{note}; {prov}");
            decided_by(&mut o, self.v.hipaa.provenance());
            return vec![not_required(o, self.deemed_reason())];
        }
        if !threshold.met(self.residents) {
            o.note = format!("{note}; {prov}");
            let reason = format!(
                "{} resident(s) of {}: the threshold is {} ({}; {})",
                self.residents,
                self.name(),
                threshold.describe(),
                r.cite,
                prov
            );
            return vec![not_required(o, reason)];
        }
        let (due, basis) = self.due(&t);
        o.due = due;
        self.day_policy(&mut o, &t);
        self.delayed(&mut o, t.from);
        note = format!("{note}; {basis}");
        if let Some(n) = self.not_breach_note() {
            note = format!("{n}; {note}");
        }
        o.note = format!("{note}; {prov}");
        let mut records: Vec<&NoticeRecord> = self
            .input
            .notices
            .iter()
            .filter(|n| {
                n.kind == ObligationKind::StateCra && n.jurisdiction.as_deref() == Some(self.code)
            })
            .collect();
        records.sort_by_key(|n| n.date);
        o.sent_count = records.iter().map(|r| r.count).sum();
        let done = completion(&records, None);
        settle(&mut o, done, self.today, self.ev.clock.date);
        vec![o]
    }
}

/// A duty ruled out by another rule of the State's (its HIPAA provision, its definition of
/// personal information) is only as sure as that rule: unverified when it is, and its
/// source says which rule decided.
fn decided_by(o: &mut Obligation, by: Provenance) {
    if by.is_verified() {
        return;
    }
    let rule = by.describe();
    o.source = Some(match o.source.take() {
        Some(s) if s == rule => s,
        Some(s) => format!("{s}; ruled out by a rule {rule}"),
        None => format!("ruled out by a rule {rule}"),
    });
    o.verified = Some(false);
}

fn note_suffix(note: &str) -> String {
    if note.trim().is_empty() {
        String::new()
    } else {
        format!("; {note}")
    }
}

/// State obligations grouped by State, for printing.
pub fn by_state(obligations: &[Obligation]) -> BTreeMap<String, Vec<&Obligation>> {
    let mut m: BTreeMap<String, Vec<&Obligation>> = BTreeMap::new();
    for o in obligations.iter().filter(|o| o.kind.is_state()) {
        if let Some(j) = &o.jurisdiction {
            m.entry(j.clone()).or_default().push(o);
        }
    }
    m
}
