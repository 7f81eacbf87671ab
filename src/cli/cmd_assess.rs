//! `assess ID` (recorded determination), `evaluate FILE` (stateless what-if) and
//! `deadlines` (every obligation of the open incidents).

use std::path::Path;

use serde::Serialize;

use super::args::{AssessArgs, DeadlinesArgs, EvaluateArgs, RoleArg};
use super::cmd_org::le_policy;
use super::context::Ctx;
use super::interview;
use super::json::{EvaluationOut, ObligationOut};
use super::output::{date_or_dash, print_json, table};
use crate::desk::{
    self, AssessRequest, AssessmentAnswers, DeadlineQuery, Override, WhatIf, status_text,
};
use crate::domain::Role;
use crate::error::{Error, Result, exit};
use crate::intake::facts::{read_facts_file, set_path};
use crate::rules::{self, DeterminationClass, ObligationStatus};

// ---------------------------------------------------------------- assess

pub fn assess(ctx: &Ctx, a: AssessArgs) -> Result<i32> {
    let r#override = match a.override_class {
        Some(c) => Some(Override::new(c, a.rationale.as_deref().unwrap_or(""))?),
        None => None,
    };
    // What the answers start from, and the incident's revision; the database is then closed
    // while a person answers, and the assessment is refused if the incident changed meanwhile.
    let (inc, revision, today) = {
        let office = ctx.open()?;
        let desk = ctx.desk(&office);
        let (inc, revision) = desk.incident_for_change(&a.id)?;
        (inc, revision, desk.today()?)
    };
    let answers_file = match &a.from {
        Some(p) => Some(read_facts_file(p, today)?),
        None => None,
    };
    let mut facts = inc.facts;
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
    let interactive = a.interview
        || (a.from.is_none()
            && a.set.is_empty()
            && r#override.is_none()
            && !a.no_interview
            && ctx.env.stdin_tty);
    if interactive {
        let (mut input, mut err) = (std::io::stdin().lock(), std::io::stderr());
        interview::assessment(&mut facts, &mut input, &mut err)?;
        // A result of "not a breach" needs a reason per factor and a confirmation.
        let class = r#override
            .as_ref()
            .map(|o| o.class)
            .unwrap_or_else(|| rules::determine(&facts).class);
        if class != DeterminationClass::Breach
            && !interview::confirm_not_breach(&mut facts, class, &mut input, &mut err)?
        {
            return Err(Error::invalid(
                "not confirmed: nothing was recorded (run `breachdesk assess` again when ready)",
            ));
        }
    }
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let done = desk.assess(&AssessRequest {
        id: a.id,
        answers: AssessmentAnswers::of(&facts),
        r#override,
        expected: Some(revision),
    })?;
    let record = &done.assessment;
    if ctx.json {
        return print_json(&EvaluationOut::new(&done.evaluation, Some(record))).map(|_| 0);
    }
    println!("{}", rules::explain(&done.evaluation).trim_end());
    if let Some(o) = record.override_class {
        println!(
            "\nHuman override recorded: {} (engine: {}). Rationale: {}",
            o.key(),
            record.engine.class.key(),
            record.rationale
        );
    }
    Ok(0)
}

// ---------------------------------------------------------------- evaluate

pub fn evaluate(ctx: &Ctx, a: EvaluateArgs) -> Result<i32> {
    let today = a.today.unwrap_or_else(|| ctx.env.now.date_naive());
    let facts = if a.file.as_os_str() == "-" {
        // Bounded like a file: standard input may never end.
        crate::intake::facts::read_facts_from(std::io::stdin().lock(), "standard input", today)?
    } else {
        read_facts_file(Path::new(&a.file), today)?
    };
    // The flag wins over the facts file's [organization] role.
    let role = match a.role {
        Some(RoleArg::CoveredEntity) => Role::CoveredEntity,
        Some(RoleArg::BusinessAssociate) => Role::BusinessAssociate,
        None => facts.organization.role.unwrap_or(Role::CoveredEntity),
    };
    let ev = desk::what_if(&WhatIf {
        facts,
        role,
        policy: a.le_policy.map(le_policy),
        override_class: a.override_class,
        today,
    });
    if ctx.json {
        print_json(&EvaluationOut::new(&ev, None))?;
    } else {
        println!(
            "What-if evaluation as of {} for a {} (no database used)\n",
            today.format("%Y-%m-%d"),
            match role {
                Role::CoveredEntity => "covered entity",
                Role::BusinessAssociate => "business associate",
            }
        );
        println!("{}", rules::explain(&ev).trim_end());
    }
    Ok(0)
}

// ---------------------------------------------------------------- deadlines

#[derive(Serialize)]
struct DeadlineOut<'a> {
    incident: &'a str,
    title: &'a str,
    /// The incident's status: a closed incident's unmet duties stay on the board.
    incident_status: &'a str,
    /// A window still running: `keep posted until` / `keep active until` this date.
    keep_until: Option<String>,
    #[serde(flatten)]
    obligation: ObligationOut<'a>,
}

pub fn deadlines(ctx: &Ctx, a: DeadlinesArgs) -> Result<i32> {
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let query = DeadlineQuery {
        incident: a.incident,
        within: a.within,
        all: a.all,
        policy: a.le_policy.map(le_policy),
    };
    let board = desk.deadlines(&query)?;
    let today = board.today;
    if let Some(path) = &a.ics {
        let (text, n) = desk.deadline_calendar(&query)?;
        crate::files::write_atomic(path, text.as_bytes(), false)?;
        if !ctx.json {
            eprintln!(
                "wrote {} calendar event(s) for {n} obligation(s) to {}",
                text.matches("BEGIN:VEVENT").count(),
                path.display()
            );
        }
    }
    if ctx.json {
        let out: Vec<DeadlineOut> = board
            .rows
            .iter()
            .map(|r| DeadlineOut {
                incident: r.incident.as_str(),
                title: &r.title,
                incident_status: r.status.key(),
                keep_until: r.keep_until.map(|k| k.until.format("%Y-%m-%d").to_string()),
                obligation: ObligationOut::new(&r.obligation),
            })
            .collect();
        print_json(&serde_json::json!({
            "today": today.format("%Y-%m-%d").to_string(),
            "policy": board.policy.key(),
            "overdue": board.overdue,
            "deadlines": out,
        }))?;
    } else if board.rows.is_empty() {
        println!(
            "no unmet obligations and no running windows (as of {})",
            today.format("%Y-%m-%d")
        );
    } else {
        let style = ctx.style();
        let mut t = table(&[
            "Due",
            "Days left",
            "Incident",
            "Obligation",
            "Where",
            "Status",
            "Basis",
        ]);
        for r in &board.rows {
            let o = &r.obligation;
            let status = match r.keep_until {
                Some(k) => format!("{}; {}", status_text(&o.status), k.text()),
                None => status_text(&o.status),
            };
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
                if r.status.is_open() {
                    r.incident.to_string()
                } else {
                    format!("{} (closed)", r.incident)
                },
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
            // The policy the dates were computed with (`--le-policy` wins).
            board.policy.describe()
        );
    }
    if a.fail_on_overdue && board.overdue > 0 {
        if !ctx.json {
            eprintln!("{} obligation(s) overdue", board.overdue);
        }
        return Ok(exit::OVERDUE);
    }
    Ok(0)
}
