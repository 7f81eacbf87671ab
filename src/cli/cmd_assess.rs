//! `assess ID` (recorded determination), `evaluate FILE` (stateless what-if) and
//! `deadlines` (every obligation of the open incidents).

use std::path::Path;

use serde::Serialize;

use super::args::{AssessArgs, DeadlinesArgs, EvaluateArgs, RoleArg};
use super::cmd_org::{business_days, le_policy};
use super::context::Ctx;
use super::interview;
use super::json::{EvaluationOut, ObligationOut, RecordedOut};
use super::output::{
    basis_cell, date_or_dash, kind_cell, print_json, table, unverified_footnote, where_cell,
};
use crate::desk::{
    self, AssessRequest, AssessmentAnswers, DeadlineQuery, LawsFile, Override, Policies, Recorded,
    Replay, ReplayRequest, WhatIf, status_text,
};
use crate::domain::Role;
use crate::error::{Error, Result, exit};
use crate::intake::facts::{read_facts_file, set_path};
use crate::rules::{self, DeterminationClass, ObligationStatus};

// ---------------------------------------------------------------- assess

pub fn assess(ctx: &Ctx, a: AssessArgs) -> Result<i32> {
    if let Some(n) = a.replay {
        return replay(ctx, a.id, (n > 0).then_some(n));
    }
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
        conclusion: None,
    })?;
    let record = &done.assessment;
    if ctx.json {
        #[derive(Serialize)]
        struct AssessOut<'a> {
            #[serde(flatten)]
            evaluation: EvaluationOut<'a>,
            recorded: RecordedOut<'a>,
        }
        return print_json(&AssessOut {
            evaluation: EvaluationOut::new(&done.evaluation, Some(record)),
            recorded: RecordedOut::new(&done.recorded),
        })
        .map(|_| 0);
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
    print_recorded(&done.recorded)?;
    Ok(0)
}

fn print_recorded(r: &Recorded) -> Result<()> {
    println!(
        "\nRecorded as determination {} (replay: `breachdesk assess ID --replay {}`): engine {}; rules data {} (built-in {}, counsel's {}{}); inputs SHA-256 {}",
        r.number,
        r.number,
        r.engine_version,
        r.laws_digest,
        rules::explain::short(&r.builtin_digest),
        r.counsel_digest
            .as_deref()
            .map(rules::explain::short)
            .unwrap_or("none"),
        if r.counsel_files.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                r.counsel_files
                    .iter()
                    .map(|(j, s)| format!("{j} {}", rules::explain::short(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        r.inputs_sha256
    );
    Ok(())
}

// ---------------------------------------------------------------- replay

#[derive(Serialize)]
struct ReplayOut<'a> {
    incident: &'a str,
    determination: RecordedOut<'a>,
    determinations_recorded: usize,
    engine_version_now: &'a str,
    same_engine: bool,
    meaning: &'a str,
    rules_files: Vec<serde_json::Value>,
    builtin_changed: bool,
    builtin_digest_now: &'a str,
    counsel_changed: bool,
    counsel_digest_now: Option<&'a str>,
    reproduced: bool,
    differences_from_recorded: &'a [String],
    replay: EvaluationOut<'a>,
    todays_rules_changes: &'a [String],
    todays_rules: EvaluationOut<'a>,
    inputs_changed: &'a [String],
    todays_facts_changes: &'a [String],
    today: EvaluationOut<'a>,
}

fn replay(ctx: &Ctx, id: crate::domain::IncidentId, number: Option<u32>) -> Result<i32> {
    let office = ctx.open()?;
    let r: Replay = ctx.desk(&office).replay(&ReplayRequest { id, number })?;
    if ctx.json {
        return print_json(&ReplayOut {
            incident: r.incident.as_str(),
            determination: RecordedOut::new(&r.recorded),
            determinations_recorded: r.count,
            engine_version_now: r.engine_now,
            same_engine: r.same_engine,
            meaning: &r.meaning,
            rules_files: r
                .files
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "jurisdiction": f.jurisdiction,
                        "origin": f.origin,
                        "sha256": f.sha256,
                        "restored_from": f.restored_from,
                        "today": f.today.as_ref().map(|(o, s)| serde_json::json!({"origin": o, "sha256": s})),
                        "changed": f.changed(),
                    })
                })
                .collect(),
            builtin_changed: r.builtin_changed,
            builtin_digest_now: &r.builtin_digest_now,
            counsel_changed: r.counsel_changed,
            counsel_digest_now: r.counsel_digest_now.as_deref(),
            reproduced: r.differences.is_empty(),
            differences_from_recorded: &r.differences,
            replay: EvaluationOut::new(&r.replayed, None),
            todays_rules_changes: &r.rules_changes,
            todays_rules: EvaluationOut::new(&r.todays_rules, None),
            inputs_changed: &r.inputs_changed,
            todays_facts_changes: &r.facts_changes,
            today: EvaluationOut::new(&r.current, None),
        })
        .map(|_| 0);
    }
    let rec = &r.recorded;
    println!(
        "Replay of determination {} of {} (of {} recorded), made {} by {} as of {}",
        rec.number,
        r.incident,
        r.count,
        rec.recorded_at.format("%Y-%m-%d %H:%M UTC"),
        rec.recorded_by,
        r.inputs.today
    );
    println!("{}", r.meaning);
    println!(
        "Inputs: SHA-256 {} (checked). Rules data at the decision: {} (built-in {}, counsel's {}).",
        rec.inputs_sha256,
        rec.laws_digest,
        rules::explain::short(&rec.builtin_digest),
        rec.counsel_digest
            .as_deref()
            .map(rules::explain::short)
            .unwrap_or("none")
    );
    if r.builtin_changed {
        println!(
            "The built-in rules data of this binary is NOT the one in force at the decision (built-in digest then {}, now {}): the files the decision used are replayed from the copies kept with the incident.",
            rules::explain::short(&rec.builtin_digest),
            rules::explain::short(&r.builtin_digest_now)
        );
    } else {
        println!("The built-in rules data of this binary is the one in force at the decision.");
    }
    if r.counsel_changed {
        println!(
            "Counsel's rules files have changed since the decision (counsel's digest then {}, now {}).",
            rec.counsel_digest.as_deref().unwrap_or("none"),
            r.counsel_digest_now.as_deref().unwrap_or("none")
        );
    }
    for f in &r.files {
        println!(
            "  {} {} file {} from {}{}",
            f.jurisdiction,
            f.origin,
            rules::explain::short(&f.sha256),
            f.restored_from,
            match (&f.today, f.changed()) {
                (_, false) => "; the same file is in force today".to_string(),
                (Some((o, s)), true) =>
                    format!("; today's file differs ({o} {})", rules::explain::short(s)),
                (None, true) => "; no file is in force today".to_string(),
            }
        );
    }
    println!("\n== The decision, replayed ==");
    println!("{}", rules::explain(&r.replayed).trim_end());
    println!();
    if r.differences.is_empty() {
        println!("Reproduced: the replay gives the result recorded with the decision.");
    } else {
        println!("The replay differs from the result recorded with the decision:");
        for d in &r.differences {
            println!("  - {d}");
        }
    }
    println!("\n== What today's rules would say differently (same facts, same date) ==");
    if r.rules_changes.is_empty() {
        println!("Nothing: today's rules data gives the same result.");
    } else {
        for d in &r.rules_changes {
            println!("  - {d}");
        }
    }
    println!("\n== What today's facts would say differently (today's rules, as of today) ==");
    if r.inputs_changed.is_empty() {
        println!("The inputs are those of the decision.");
    } else {
        println!("Inputs changed since the decision:");
        for d in &r.inputs_changed {
            println!("  - {d}");
        }
    }
    if r.facts_changes.is_empty() {
        println!("The obligations are unchanged.");
    } else {
        println!("Obligations:");
        for d in &r.facts_changes {
            println!("  - {d}");
        }
    }
    Ok(0)
}

// ---------------------------------------------------------------- evaluate

pub fn evaluate(ctx: &Ctx, a: EvaluateArgs) -> Result<i32> {
    let today = a.today.unwrap_or_else(|| ctx.env.now.date_naive());
    // Counsel's draft files, checked like `laws set` checks them.
    let mut drafts = Vec::new();
    for p in &a.laws {
        let f = LawsFile {
            name: p.display().to_string(),
            text: crate::files::read_text(p, crate::files::LAWS_FILE)?,
        };
        desk::check_laws(&f)?;
        drafts.push(f.source());
    }
    let laws = crate::laws::LawSet::in_force(&drafts).map_err(|e| Error::invalid(e.to_string()))?;
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
    let ev = desk::what_if(
        &WhatIf {
            facts,
            role,
            policy: a.le_policy.map(le_policy),
            business_days: a.business_days.map(business_days),
            override_class: a.override_class,
            today,
        },
        &laws,
    );
    if ctx.json {
        print_json(&EvaluationOut::new(&ev, None))?;
    } else {
        println!(
            "What-if evaluation as of {} for a {} (no database used; State laws: {})\n",
            today.format("%Y-%m-%d"),
            match role {
                Role::CoveredEntity => "covered entity",
                Role::BusinessAssociate => "business associate",
            },
            if drafts.is_empty() {
                "the built-in rules data".to_string()
            } else {
                format!(
                    "the built-in rules data with counsel's file(s) for {}",
                    laws.counsel()
                        .map(|l| l.file.jurisdiction.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
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
        policies: Policies {
            le: a.le_policy.map(le_policy),
            business_days: a.business_days.map(business_days),
        },
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
            "business_days": board.business_days.key(),
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
                kind_cell(o),
                where_cell(o),
                status,
                basis_cell(o),
            ]);
        }
        println!(
            "Deadlines as of {} ({}; State deadlines in business days: {})\n{t}",
            today.format("%Y-%m-%d"),
            // The policies the dates were computed with (the flags win).
            board.policy.describe(),
            board.business_days.describe()
        );
        if let Some(f) = unverified_footnote(board.rows.iter().map(|r| &r.obligation)) {
            println!("{f}");
        }
    }
    if a.fail_on_overdue && board.overdue > 0 {
        if !ctx.json {
            eprintln!("{} obligation(s) overdue", board.overdue);
        }
        return Ok(exit::OVERDUE);
    }
    Ok(0)
}
