//! `assess ID` (recorded determination), `evaluate FILE` (stateless what-if) and
//! `deadlines` (every obligation of the open incidents).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::Ctx;
use super::args::{AssessArgs, DeadlinesArgs, EvaluateArgs, LePolicyArg, RoleArg};
use super::cmd_incident::parse_id;
use super::cmd_org::load_org;
use super::engine;
use super::facts_input::{parse_facts, read_facts_file, set_path, validate};
use super::output::{Style, date_or_dash, print_json, table};
use crate::desk::records::{Assessment as AssessmentRecord, Derived};
use crate::domain::vocab::{DestructionMethod, DeviceState, RecipientKind, SensitiveCategory};
use crate::domain::*;
use crate::error::{Error, Result, exit};
use crate::rules::{self, DeterminationClass, Evaluation, Obligation, ObligationStatus};
use crate::store::derived;
use crate::store::phi::PhiCodec;
use crate::store::{Action, Change, incidents};

fn policy(p: Option<LePolicyArg>) -> Option<LePolicy> {
    p.map(|p| match p {
        LePolicyArg::LaterOf => LePolicy::LaterOf,
        LePolicyArg::ExtendByDelay => LePolicy::ExtendByDelay,
    })
}

fn parse_class(s: &str) -> Result<DeterminationClass> {
    DeterminationClass::from_key(s).ok_or_else(|| {
        Error::invalid(
            "--override is not recognised; accepted: not_breach_secured, not_breach_exception, not_breach_low_probability, breach",
        )
    })
}

// ---------------------------------------------------------------- assess

pub fn assess(ctx: &Ctx, a: AssessArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let override_class = match &a.override_class {
        Some(s) => {
            let c = parse_class(s)?;
            if a.rationale.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(Error::invalid(
                    "an override needs --rationale: the reason is kept on record beside the engine's result (164.414(b))",
                ));
            }
            Some(c)
        }
        None => None,
    };
    let answers_file = match &a.from {
        Some(p) => Some(read_facts_file(p, today)?),
        None => None,
    };
    let tx = store.read()?;
    let current = incidents::get_read(&tx, &id, &PhiCodec::Locked)?;
    drop(tx);
    let mut facts = current.facts.clone();
    if let Some(f) = answers_file {
        // Assessment answers: the safe-harbor, exception and factor sections.
        facts.security = f.security;
        facts.exceptions = f.exceptions;
        facts.assessment = f.assessment;
    }
    for s in &a.set {
        if !["security.", "exceptions.", "assessment."]
            .iter()
            .any(|p| s.starts_with(p))
        {
            return Err(Error::invalid(
                "assess --set takes security.*, exceptions.* or assessment.* paths; use `incident update --set` for other facts",
            ));
        }
        set_path(&mut facts, s)?;
    }
    let interactive = a.from.is_none()
        && a.set.is_empty()
        && override_class.is_none()
        && !a.no_interview
        && std::io::stdin().is_terminal();
    if interactive {
        interview(
            &mut facts,
            &mut std::io::stdin().lock(),
            &mut std::io::stderr(),
        )?;
    }
    validate(&facts, today)?;
    let engine_det = rules::determine(&facts);
    let record = AssessmentRecord {
        engine: engine_det.clone(),
        override_class,
        rationale: a.rationale.clone().unwrap_or_default(),
        assessed_by: ctx.actor.name.clone(),
        assessed_at: ctx.actor.now,
    };
    let now = ctx.actor.now;
    let (inc, d) = store.write(&ctx.actor, |tx| {
        let mut inc = incidents::get_write(tx, &id, &PhiCodec::Locked)?;
        inc.facts.security = facts.security.clone();
        inc.facts.exceptions = facts.exceptions.clone();
        inc.facts.assessment = facts.assessment.clone();
        if matches!(
            inc.status,
            IncidentStatus::Reported | IncidentStatus::Investigating
        ) {
            inc.status = IncidentStatus::Assessed;
        }
        inc.updated = now;
        incidents::put_keep_phi(tx, &inc)?;
        let mut d = Derived::from(derived::get_write(tx, &id)?);
        d.assessment = Some(record.clone());
        derived::put(tx, &id, &(&d).into())?;
        let counts = super::roster_glue::counts_write(tx, &inc)?;
        engine::refresh(tx, &org, &inc, &counts, today, now)?;
        let d = Derived::from(derived::get_write(tx, &id)?);
        let mut detail = format!("engine={}", engine_det.class.key());
        if let Some(r) = engine_det.route {
            detail.push_str(&format!(" route={}", r.key()));
        }
        if let Some(o) = override_class {
            detail.push_str(&format!(" override={}", o.key()));
        }
        Ok((
            (inc, d),
            Change::incident(Action::IncidentAssess, &id).detail(detail),
        ))
    })?;
    let counts = super::roster_glue::counts_read(&store.read()?, &inc)?;
    let ev = engine::evaluate(&org, &inc, &d, &counts, None, today);
    if ctx.json {
        return print_json(&EvaluationOut::new(&ev, Some(&record))).map(|_| 0);
    }
    println!("{}", rules::explain(&ev).trim_end());
    if let Some(o) = override_class {
        println!(
            "\nHuman override recorded: {} (engine: {}). Rationale: {}",
            o.key(),
            engine_det.class.key(),
            record.rationale
        );
    }
    Ok(0)
}

/// The guided interview: one screen per step of 164.402, plain-language questions,
/// structured answers and a free-text rationale.
pub fn interview(facts: &mut Facts, input: &mut impl BufRead, out: &mut impl Write) -> Result<()> {
    let mut io = Prompt { input, out };
    io.screen("1/6  Was the PHI secured?  (74 FR 19006; safe harbor)")?;
    let s = &mut facts.security;
    s.encrypted = io.yes_no("Was the data encrypted consistent with HHS guidance (NIST SP 800-111 at rest, FIPS 140-2 in motion)?", s.encrypted)?;
    if s.encrypted {
        s.key_compromised = io.yes_no(
            "Was the key or password compromised, or kept with the data?",
            s.key_compromised,
        )?;
        s.device_state = Some(io.choice(
            "What state was the device in when it happened?",
            DeviceState::ALL,
            |d| d.key(),
        )?);
    }
    if io.yes_no(
        "Does the incident concern disposal of paper or media?",
        s.destruction.is_some(),
    )? {
        s.destruction = Some(io.choice(
            "How were they destroyed?",
            DestructionMethod::ALL,
            |d| d.key(),
        )?);
    }

    io.screen("2/6  Does a statutory exception apply?  (164.402(1))")?;
    let ex = &mut facts.exceptions;
    if io.yes_no("(i) Was it an unintentional access or use by a workforce member or person acting under your authority?", ex.workforce_good_faith.is_some())? {
        let w = ex.workforce_good_faith.get_or_insert_with(Default::default);
        w.under_authority = true;
        w.good_faith = io.yes_no("  Was it made in good faith? (Looking without a job need is never good faith.)", w.good_faith)?;
        w.within_scope = io.yes_no("  Was it within the scope of the person's authority?", w.within_scope)?;
        w.further_disclosure = io.yes_no("  Was the PHI further used or disclosed in a way the Privacy Rule does not permit?", w.further_disclosure)?;
        w.rationale = io.text("  Rationale")?;
    }
    if io.yes_no("(ii) Was it an inadvertent disclosure between two people authorized at your organization (or its OHCA)?", ex.authorized_to_authorized.is_some())? {
        let x = ex.authorized_to_authorized.get_or_insert_with(Default::default);
        x.discloser_authorized = true;
        x.inadvertent = true;
        x.recipient_authorized_same_entity = io.yes_no("  Is the recipient authorized to access PHI at the same entity or OHCA?", x.recipient_authorized_same_entity)?;
        x.further_disclosure = io.yes_no("  Was the PHI further used or disclosed impermissibly?", x.further_disclosure)?;
        x.rationale = io.text("  Rationale")?;
    }
    if io.yes_no("(iii) Do you believe in good faith that the recipient could not reasonably have retained the PHI?", ex.could_not_retain.is_some())? {
        let x = ex.could_not_retain.get_or_insert_with(Default::default);
        x.good_faith_belief = true;
        x.basis = io.text("  What supports that belief (e.g. mail returned unopened)?")?;
    }

    let asm = &mut facts.assessment;
    io.screen("3/6  Factor (i): nature and extent of the PHI  (164.402(2)(i))")?;
    asm.nature.answered = true;
    asm.nature.direct_identifiers = io.yes_no(
        "Were direct identifiers involved (name, address, SSN, MRN, member ID)?",
        asm.nature.direct_identifiers,
    )?;
    asm.nature.financial = io.yes_no(
        "Were SSN, driver's licence, or financial/account data involved?",
        asm.nature.financial,
    )?;
    asm.nature.clinical = io.yes_no(
        "Was clinical detail involved (diagnoses, medications, results)?",
        asm.nature.clinical,
    )?;
    if io.yes_no("Were especially sensitive categories involved (mental health, substance use, HIV/STI, reproductive, genetic)?", !asm.nature.sensitive.is_empty())? {
        asm.nature.sensitive = vec![io.choice("Which one (the most sensitive)?", SensitiveCategory::ALL, |c| c.key())?];
    }
    if !asm.nature.direct_identifiers {
        asm.nature.reidentifiable = io.yes_no(
            "Could the data plausibly be re-identified?",
            asm.nature.reidentifiable,
        )?;
    }
    asm.nature.rationale = io.text("Rationale")?;

    io.screen("4/6  Factor (ii): the unauthorized person  (164.402(2)(ii))")?;
    asm.recipient.kind = Some(io.choice(
        "Who used or received the PHI?",
        RecipientKind::ALL,
        |k| k.key(),
    )?);
    asm.recipient.rationale = io.text("Rationale")?;

    io.screen("5/6  Factor (iii): was the PHI actually acquired or viewed?  (164.402(2)(iii))")?;
    const ACQ: &[AcquisitionStatus] = &[
        AcquisitionStatus::NotAcquiredEvidence,
        AcquisitionStatus::NotAcquiredNoEvidence,
        AcquisitionStatus::Acquired,
        AcquisitionStatus::Viewed,
        AcquisitionStatus::Exfiltrated,
        AcquisitionStatus::Unknown,
    ];
    asm.acquired.status = Some(io.choice("What do you know?", ACQ, |a| match a {
        AcquisitionStatus::NotAcquiredEvidence => "not_acquired_evidence",
        AcquisitionStatus::NotAcquiredNoEvidence => "not_acquired_no_evidence",
        AcquisitionStatus::Acquired => "acquired",
        AcquisitionStatus::Viewed => "viewed",
        AcquisitionStatus::Exfiltrated => "exfiltrated",
        AcquisitionStatus::Unknown => "unknown",
    })?);
    asm.acquired.rationale = io.text("Rationale (e.g. forensic report reference)")?;

    io.screen("6/6  Factor (iv): how far has the risk been mitigated?  (164.402(2)(iv))")?;
    const MIT: &[MitigationStatus] = &[
        MitigationStatus::AttestedDestruction,
        MitigationStatus::Returned,
        MitigationStatus::RemoteWiped,
        MitigationStatus::Partial,
        MitigationStatus::None,
        MitigationStatus::Unknown,
    ];
    asm.mitigation.status = Some(io.choice("What mitigation is in place?", MIT, |m| match m {
        MitigationStatus::AttestedDestruction => "attested_destruction",
        MitigationStatus::Returned => "returned",
        MitigationStatus::RemoteWiped => "remote_wiped",
        MitigationStatus::Partial => "partial",
        MitigationStatus::None => "none",
        MitigationStatus::Unknown => "unknown",
    })?);
    asm.mitigation.rationale = io.text("Rationale")?;
    Ok(())
}

struct Prompt<'a, R, W> {
    input: &'a mut R,
    out: &'a mut W,
}

impl<R: BufRead, W: Write> Prompt<'_, R, W> {
    fn say(&mut self, s: &str) -> Result<()> {
        write!(self.out, "{s}").map_err(|e| Error::io("cannot write the prompt", e))?;
        self.out
            .flush()
            .map_err(|e| Error::io("cannot write the prompt", e))
    }

    fn line(&mut self) -> Result<String> {
        let mut l = String::new();
        let n = self
            .input
            .read_line(&mut l)
            .map_err(|e| Error::io("cannot read the answer", e))?;
        if n == 0 {
            return Err(Error::invalid(
                "the interview ended before every question was answered; nothing was recorded",
            ));
        }
        Ok(l.trim().to_string())
    }

    fn screen(&mut self, title: &str) -> Result<()> {
        self.say(&format!("\n== {title}\n"))
    }

    fn yes_no(&mut self, q: &str, default: bool) -> Result<bool> {
        loop {
            self.say(&format!("{q} [{}] ", if default { "Y/n" } else { "y/N" }))?;
            match self.line()?.to_ascii_lowercase().as_str() {
                "" => return Ok(default),
                "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                _ => self.say("  please answer y or n\n")?,
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        q: &str,
        options: &[T],
        key: impl Fn(&T) -> &'static str,
    ) -> Result<T> {
        loop {
            self.say(&format!("{q}\n"))?;
            for (i, o) in options.iter().enumerate() {
                self.say(&format!("  {}) {}\n", i + 1, key(o)))?;
            }
            self.say("> ")?;
            let a = self.line()?;
            if let Ok(n) = a.parse::<usize>()
                && (1..=options.len()).contains(&n)
            {
                return Ok(options[n - 1]);
            }
            if let Some(o) = options.iter().find(|o| key(o) == a) {
                return Ok(*o);
            }
            self.say("  please answer with a number from the list\n")?;
        }
    }

    fn text(&mut self, q: &str) -> Result<String> {
        self.say(&format!("{q}: "))?;
        self.line()
    }
}

// ---------------------------------------------------------------- evaluate

pub fn evaluate(ctx: &Ctx, a: EvaluateArgs) -> Result<i32> {
    let today = match &a.today {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| Error::invalid("--today is not a date: use YYYY-MM-DD"))?,
        None => ctx.actor.now.date_naive(),
    };
    let facts = if a.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::io("cannot read the facts from standard input", e))?;
        let f = parse_facts(&text, "standard input")?;
        validate(&f, today)?;
        f
    } else {
        read_facts_file(Path::new(&a.file), today)?
    };
    let role = match a.role {
        RoleArg::CoveredEntity => Role::CoveredEntity,
        RoleArg::BusinessAssociate => Role::BusinessAssociate,
    };
    let override_class = match &a.override_class {
        Some(s) => Some(parse_class(s)?),
        None => None,
    };
    let counts = Counts::from_facts(&facts.individuals);
    let input = rules::EngineInput {
        facts: &facts,
        role,
        counts: &counts,
        notices: &[],
        policy: policy(a.le_policy).unwrap_or_default(),
        override_class,
        last_in_effect: today,
    };
    let ev = rules::evaluate(&input, today);
    if ctx.json {
        print_json(&EvaluationOut::new(&ev, None))?;
    } else {
        println!(
            "What-if evaluation as of {} (no database used)\n",
            today.format("%Y-%m-%d")
        );
        println!("{}", rules::explain(&ev).trim_end());
    }
    Ok(0)
}

// ---------------------------------------------------------------- deadlines

#[derive(Serialize)]
struct DeadlineRow<'a> {
    incident: &'a str,
    title: &'a str,
    #[serde(flatten)]
    obligation: ObligationOut<'a>,
}

pub fn deadlines(ctx: &Ctx, a: DeadlinesArgs) -> Result<i32> {
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let only = match &a.incident {
        Some(s) => Some(parse_id(s)?),
        None => None,
    };
    let tx = store.read()?;
    let all = incidents::list(&tx)?;
    let assessments = tx.open_table(crate::store::tables::ASSESSMENTS)?;
    let mut evals: Vec<(Incident, Evaluation)> = Vec::new();
    for inc in all {
        if only.as_ref().is_some_and(|id| *id != inc.id)
            || (only.is_none() && !inc.status.is_open())
        {
            continue;
        }
        let d = Derived::from(derived::get(&assessments, &inc.id)?);
        let counts = super::roster_glue::counts_read(&tx, &inc)?;
        let ev = engine::evaluate(&org, &inc, &d, &counts, policy(a.le_policy), today);
        evals.push((inc, ev));
    }
    let mut rows: Vec<(&Incident, &Obligation)> = evals
        .iter()
        .flat_map(|(inc, ev)| ev.obligations.iter().map(move |o| (inc, o)))
        .filter(|(_, o)| {
            a.all
                || matches!(
                    o.status,
                    ObligationStatus::Pending | ObligationStatus::Late { sent: false, .. }
                )
        })
        .filter(|(_, o)| {
            a.within
                .is_none_or(|w| o.days_remaining.is_none_or(|d| d <= w))
        })
        .collect();
    rows.sort_by_key(|(inc, o)| (o.due.unwrap_or(NaiveDate::MAX), inc.id.clone(), o.kind));
    let overdue = rows
        .iter()
        .filter(|(_, o)| matches!(o.status, ObligationStatus::Late { sent: false, .. }))
        .count();
    if ctx.json {
        let out: Vec<DeadlineRow> = rows
            .iter()
            .map(|(inc, o)| DeadlineRow {
                incident: inc.id.as_str(),
                title: &inc.facts.title,
                obligation: ObligationOut::new(o),
            })
            .collect();
        print_json(&serde_json::json!({
            "today": today.format("%Y-%m-%d").to_string(),
            "policy": policy(a.le_policy).unwrap_or(org.le_policy).key(),
            "overdue": overdue,
            "deadlines": out,
        }))?;
    } else if rows.is_empty() {
        println!("no open obligations (as of {})", today.format("%Y-%m-%d"));
    } else {
        let style = Style {
            color: ctx.env.color,
        };
        let mut t = table(&[
            "Due",
            "Days left",
            "Incident",
            "Obligation",
            "Where",
            "Status",
            "Basis",
        ]);
        for (inc, o) in &rows {
            let status = status_text(&o.status);
            let status = match o.status {
                ObligationStatus::Late { sent: false, .. } => style.red(&status),
                ObligationStatus::Pending if o.days_remaining.is_some_and(|d| d <= 7) => {
                    style.yellow(&status)
                }
                _ => status,
            };
            t.add_row(vec![
                date_or_dash(o.due),
                o.days_remaining
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                inc.id.to_string(),
                o.kind.key().to_string(),
                o.jurisdiction.clone().unwrap_or_default(),
                status,
                format!(
                    "{}{}",
                    o.cite,
                    o.policy
                        .as_ref()
                        .map(|p| format!("; {p}"))
                        .unwrap_or_default()
                ),
            ]);
        }
        println!(
            "Deadlines as of {} ({})\n{t}",
            today.format("%Y-%m-%d"),
            org.le_policy.describe()
        );
    }
    if a.fail_on_overdue && overdue > 0 {
        if !ctx.json {
            eprintln!("{overdue} obligation(s) overdue");
        }
        return Ok(exit::OVERDUE);
    }
    Ok(0)
}

pub fn status_text(s: &ObligationStatus) -> String {
    match s {
        ObligationStatus::Pending => "pending".into(),
        ObligationStatus::Met { on } => format!("met {}", on.format("%Y-%m-%d")),
        ObligationStatus::Late { days, sent: true } => format!("sent {days} day(s) late"),
        ObligationStatus::Late { days, sent: false } => format!("OVERDUE by {days} day(s)"),
        ObligationStatus::NotRequired { reason } => format!("not required: {reason}"),
    }
}

// ---------------------------------------------------------------- JSON contract

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
    pub law_enforcement_delay: Option<serde_json::Value>,
    pub policy: &'a str,
    pub obligations: Vec<ObligationOut<'a>>,
    pub retention_until: String,
    pub retention_cite: &'a str,
    pub notes: Vec<ReasonOut<'a>>,
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
            law_enforcement_delay: ev.delay.as_ref().map(|d| {
                serde_json::json!({
                    "start": ymd(d.start),
                    "end": ymd(d.end),
                    "basis": d.basis.iter().map(|r| serde_json::json!({"text": r.text, "cite": r.cite})).collect::<Vec<_>>(),
                })
            }),
            policy: ev.policy.key(),
            obligations: ev.obligations.iter().map(ObligationOut::new).collect(),
            retention_until: ymd(ev.retention_until),
            retention_cite: &ev.retention_cite,
            notes: reasons(&ev.notes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interview_answers_every_screen() {
        let answers = "n\nn\n\
            y\nn\ny\nn\nlooked without a job need\n\
            n\nn\n\
            y\nn\ny\nn\nnames and diagnoses\n\
            3\nco-worker\n\
            4\nviewed in the EHR log\n\
            5\nno mitigation possible\n";
        let mut facts = Facts::default();
        let mut out = Vec::new();
        interview(&mut facts, &mut answers.as_bytes(), &mut out).expect("completes");
        let w = facts
            .exceptions
            .workforce_good_faith
            .as_ref()
            .expect("exception (i) answered");
        assert!(!w.good_faith);
        assert_eq!(
            facts.assessment.recipient.kind,
            Some(RecipientKind::OwnWorkforce)
        );
        assert_eq!(
            facts.assessment.acquired.status,
            Some(AcquisitionStatus::Viewed)
        );
        assert_eq!(
            facts.assessment.mitigation.status,
            Some(MitigationStatus::None)
        );
        assert_eq!(rules::determine(&facts).class, DeterminationClass::Breach);
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("164.402(2)(iv)"));
    }

    #[test]
    fn interview_cut_short_is_an_error() {
        let mut facts = Facts::default();
        let e = interview(&mut facts, &mut "n\n".as_bytes(), &mut Vec::new()).expect_err("short");
        assert!(e.to_string().contains("nothing was recorded"));
    }
}
