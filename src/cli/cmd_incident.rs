//! `incident new|list|show|update|note|close|reopen`.

use serde::Serialize;

use super::args::{
    CloseArgs, IncidentCommand, IncidentListArgs, IncidentNewArgs, IncidentUpdateArgs, NoteArgs,
};
use super::context::Ctx;
use super::interview;
use super::json::{EvaluationOut, IncidentOut, IncidentSummary};
use super::output::{
    basis_cell, date_or_dash, kind_cell, print_json, table, unverified_footnote, where_cell,
};
use crate::desk::records::Derived;
use crate::desk::{
    CloseIncident, IncidentFilter, IncidentView, NewIncident, NewNote, UpdateIncident, status_text,
};
use crate::domain::{Counts, Facts, Incident, IncidentId};
use crate::error::Result;
use crate::intake::facts::read_facts_file;
use crate::rules::Evaluation;

pub fn run(ctx: &Ctx, c: IncidentCommand) -> Result<i32> {
    match c {
        IncidentCommand::New(a) => new(ctx, a),
        IncidentCommand::List(a) => list(ctx, a),
        IncidentCommand::Show { id } => show(ctx, &id),
        IncidentCommand::Update(a) => update(ctx, a),
        IncidentCommand::Note(a) => note(ctx, a),
        IncidentCommand::Close(a) => close(ctx, a),
        IncidentCommand::Reopen { id } => reopen(ctx, &id),
    }
}

fn new(ctx: &Ctx, a: IncidentNewArgs) -> Result<i32> {
    let mut edits = a.facts.patch();
    let interview = a.interview
        || (a.from.is_none() && edits.is_empty() && !a.no_interview && ctx.env.stdin_tty);
    let (facts, today) = {
        let office = ctx.open()?;
        let today = ctx.desk(&office).today()?;
        let facts = match &a.from {
            Some(p) => read_facts_file(p, today)?,
            None => Facts::default(),
        };
        (facts, today)
        // The database is closed here: nobody waits while a person answers.
    };
    if interview {
        edits = interview::incident(&mut std::io::stdin().lock(), &mut std::io::stderr(), today)?;
    }
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let inc = desk.new_incident(NewIncident { facts, edits })?;
    if ctx.json {
        print_json(&IncidentOut::new(&inc))?;
    } else {
        println!("{}", inc.id);
    }
    Ok(0)
}

fn list(ctx: &Ctx, a: IncidentListArgs) -> Result<i32> {
    let office = ctx.open()?;
    let items = ctx.desk(&office).incidents(&IncidentFilter {
        status: a.status,
        open_only: a.open,
        closed_only: a.closed,
        text: a.text,
    })?;
    if ctx.json {
        let out: Vec<IncidentSummary> = items
            .iter()
            .map(|l| IncidentSummary::new(&l.incident, l.individuals, &l.label))
            .collect();
        return print_json(&serde_json::json!({ "incidents": out })).map(|_| 0);
    }
    if items.is_empty() {
        println!("no incidents match");
        return Ok(0);
    }
    let mut t = table(&[
        "ID",
        "Status",
        "Discovered",
        "Individuals",
        "Title (kind without the passphrase)",
    ]);
    for l in &items {
        let i = &l.incident;
        t.add_row(vec![
            i.id.to_string(),
            i.status.key().to_string(),
            date_or_dash(i.facts.breach.discovered),
            l.individuals.to_string(),
            l.label.clone(),
        ]);
    }
    println!("{t}");
    Ok(0)
}

fn show(ctx: &Ctx, id: &IncidentId) -> Result<i32> {
    let office = ctx.open()?;
    let v: IncidentView = ctx.desk(&office).incident_view(id)?;
    let d = &v.derived;
    if ctx.json {
        return print_json(&ShowOut {
            incident: IncidentOut::new(&v.incident),
            counts: &v.counts,
            assessed: d.assessment.is_some(),
            evaluation: EvaluationOut::new(&v.evaluation, d.assessment.as_ref()),
            changes: &d.changes,
            changes_at: d.changed_at.map(|t| t.to_rfc3339()),
            changes_since_last_update: &v.since,
        })
        .map(|_| 0);
    }
    print_incident(&v.incident, &v.counts)?;
    print_evaluation(ctx, &v.incident.id, &v.evaluation, d, v.today)?;
    if !v.since.is_empty() {
        println!("Since the last recorded update (roster imports, the passing days):");
        for c in &v.since {
            println!("  - {c}");
        }
    }
    Ok(0)
}

fn print_evaluation(
    ctx: &Ctx,
    id: &crate::domain::IncidentId,
    ev: &Evaluation,
    d: &Derived,
    today: chrono::NaiveDate,
) -> Result<()> {
    let style = ctx.style();
    println!();
    match &d.assessment {
        Some(a) => {
            println!(
                "{} {}  [{}]",
                style.bold("Determination:"),
                ev.effective_class.label(),
                ev.effective_class.cite()
            );
            if a.override_class.is_some() {
                println!(
                    "  human override of the engine's {} by {} on {}: {}",
                    a.engine.class.key(),
                    a.assessed_by,
                    a.assessed_at.format("%Y-%m-%d"),
                    a.rationale
                );
            }
            if let Some(r) = a.engine.decisive() {
                println!("  because {} [{}]", r.text, r.cite);
            }
        }
        None => println!(
            "{} not yet assessed: breach presumed until assessed (164.402(2)); run `breachdesk assess {}`",
            style.bold("Determination:"),
            id
        ),
    }
    println!(
        "Clock: day 0 = {} ({}) [{}]",
        date_or_dash(ev.clock.date),
        ev.clock.basis,
        ev.clock.cite
    );
    for r in &ev.clock.events {
        println!("  - {} [{}]", r.text, r.cite);
    }
    let mut t = table(&["Obligation", "Where", "Due", "Days left", "Status", "Basis"]);
    for o in &ev.obligations {
        t.add_row(vec![
            kind_cell(o),
            where_cell(o),
            date_or_dash(o.due),
            o.days_remaining
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
            status_text(&o.status),
            basis_cell(o),
        ]);
    }
    println!("Obligations as of {}:\n{t}", today.format("%Y-%m-%d"));
    if let Some(f) = unverified_footnote(ev.obligations.iter()) {
        println!("{f}");
    }
    if let Some(l) = &ev.laws {
        println!(
            "State laws (rules data {}; {}):",
            crate::rules::explain::short(&l.digest),
            l.business_days.describe()
        );
        if l.jurisdictions.is_empty() {
            println!("  no residents of any State are recorded");
        }
        for j in &l.jurisdictions {
            println!(
                "  {} ({} resident(s)): {}{} [{}; {} of {} rules verified]{}",
                j.jurisdiction,
                j.residents,
                j.citation,
                j.effective
                    .map(|e| format!(", version from {e}"))
                    .unwrap_or_default(),
                if j.origin.is_empty() {
                    "no rules data"
                } else {
                    j.origin.as_str()
                },
                j.verified,
                j.rules,
                if j.applies {
                    String::new()
                } else {
                    format!(": nothing owed: {}", j.reason)
                }
            );
            for m in &j.monitoring {
                println!("      credit monitoring: {m}");
            }
            if !j.content.is_empty() {
                println!("      notice content required: {}", j.content.join("; "));
            }
        }
    }
    println!(
        "Keep this documentation until {} [{}]",
        ev.retention_until.format("%Y-%m-%d"),
        ev.retention_cite
    );
    for n in &ev.notes {
        println!("Note: {} [{}]", n.text, n.cite);
    }
    if !d.changes.is_empty() {
        println!(
            "What changed at the last update ({}):",
            d.changed_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        );
        for c in &d.changes {
            println!("  - {c}");
        }
    }
    Ok(())
}

/// `incident show --json`: the incident, the counts used, the evaluation and what changed.
#[derive(Serialize)]
struct ShowOut<'a> {
    #[serde(flatten)]
    incident: IncidentOut<'a>,
    counts: &'a Counts,
    assessed: bool,
    evaluation: EvaluationOut<'a>,
    changes: &'a [String],
    changes_at: Option<String>,
    /// Differences between the obligations now and the snapshot of the last update.
    changes_since_last_update: &'a [String],
}

fn print_incident(inc: &Incident, c: &Counts) -> Result<()> {
    let f = &inc.facts;
    let b = &f.breach;
    println!(
        "Incident {}  {}",
        inc.id,
        crate::desk::label(inc, f.title == crate::desk::SEALED)
    );
    println!(
        "Status: {}{}",
        inc.status.key(),
        inc.disposition
            .map(|d| format!(" ({})", d.key()))
            .unwrap_or_default()
    );
    if let Some(r) = &inc.close_rationale {
        println!("Closed with obligations unmet (--force): {r}");
    }
    if inc.exercise {
        println!("EXERCISE RECORD: not a real incident");
    }
    println!(
        "Breach: {} to {}",
        date_or_dash(b.start),
        date_or_dash(b.end)
    );
    println!(
        "Discovered: {}  ({})",
        date_or_dash(b.discovered),
        b.discovery_method
    );
    if !b.reported_by.is_empty() {
        println!("Reported by: {}", b.reported_by);
    }
    let join = |v: Vec<&str>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    println!(
        "Type of breach: {}",
        join(b.types.iter().map(|t| t.label()).collect())
    );
    println!(
        "Location: {}",
        join(b.locations.iter().map(|t| t.label()).collect())
    );
    println!(
        "PHI involved: {}",
        join(b.phi.iter().map(|t| t.label()).collect())
    );
    match c.source {
        crate::domain::CountSource::Roster => println!(
            "Individuals (roster): {}  (unreachable {}, deceased with next of kin {}, without {})",
            c.total, c.unreachable, c.deceased_with_nok, c.deceased_without_nok
        ),
        crate::domain::CountSource::Estimate => println!("Individuals (estimate): {}", c.total),
    }
    if !c.by_state.is_empty() {
        let s: Vec<String> = c.by_state.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  by State: {}", s.join(", "));
    }
    let ba = &f.business_associate;
    if ba.involved {
        println!(
            "Business associate: {} ({}), discovered {}, notified us {}",
            ba.name,
            ba.relationship
                .map(|r| match r {
                    crate::domain::BaRelationship::Agent => "agent",
                    crate::domain::BaRelationship::IndependentContractor =>
                        "independent contractor",
                })
                .unwrap_or("relationship not recorded"),
            date_or_dash(ba.discovered),
            date_or_dash(ba.notified_ce)
        );
    }
    if !b.narrative.is_empty() {
        println!("Narrative: {}", b.narrative);
    }
    if !inc.timeline.is_empty() {
        println!("Timeline:");
        for t in &inc.timeline {
            println!(
                "  {}  {}: {}",
                t.at.format("%Y-%m-%d %H:%M"),
                t.author,
                t.text
            );
        }
    }
    Ok(())
}

fn update(ctx: &Ctx, a: IncidentUpdateArgs) -> Result<i32> {
    let office = ctx.open()?;
    let desk = ctx.desk(&office);
    let replacement = match &a.from {
        Some(p) => Some(read_facts_file(p, desk.today()?)?),
        None => None,
    };
    let u = desk.update_incident(&UpdateIncident {
        id: a.id,
        replacement,
        edits: a.facts.patch(),
        status: a.status,
        expected: None,
    })?;
    if ctx.json {
        print_json(&IncidentOut::new(&u.incident))?;
    } else {
        println!("updated {}", u.incident.id);
        if !u.moved.is_empty() {
            println!("obligations recomputed; what changed:");
            for c in &u.moved {
                println!("  - {c}");
            }
        }
    }
    Ok(0)
}

fn note(ctx: &Ctx, a: NoteArgs) -> Result<i32> {
    let office = ctx.open()?;
    let n = ctx.desk(&office).add_note(&NewNote {
        id: a.id.clone(),
        text: a.text,
        at: a.at,
        author: a.author,
        expected: None,
    })?;
    if !ctx.json {
        println!("added note {n} to {}", a.id);
    }
    Ok(0)
}

fn close(ctx: &Ctx, a: CloseArgs) -> Result<i32> {
    let office = ctx.open()?;
    let inc = ctx.desk(&office).close_incident(&CloseIncident {
        id: a.id,
        disposition: a.disposition,
        note: a.note,
        force: a.rationale.filter(|_| a.force),
        expected: None,
    })?;
    print_status(ctx, &inc)
}

fn reopen(ctx: &Ctx, id: &IncidentId) -> Result<i32> {
    let office = ctx.open()?;
    let inc = ctx.desk(&office).reopen_incident(id)?;
    print_status(ctx, &inc)
}

fn print_status(ctx: &Ctx, inc: &Incident) -> Result<i32> {
    if ctx.json {
        print_json(&IncidentOut::new(inc))?;
    } else {
        println!("{} is {}", inc.id, inc.status.key());
    }
    Ok(0)
}
