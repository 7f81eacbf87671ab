//! `incident new|list|show|update|note|close|reopen`.

use std::io::IsTerminal;

use serde::Serialize;

use super::Ctx;
use super::args::{
    CloseArgs, IncidentCommand, IncidentListArgs, IncidentNewArgs, IncidentUpdateArgs, NoteArgs,
};
use super::cmd_assess::EvaluationOut;
use super::cmd_org::load_org;
use super::engine;
use super::facts_input::{apply_args, interview, read_facts_file, validate};
use super::output::{Style, date_or_dash, print_json, table};
use crate::desk::records::Derived;
use crate::domain::Counts;
use crate::domain::incident::Disposition;
use crate::domain::{Facts, Incident, IncidentId, IncidentStatus, TimelineEntry};
use crate::error::{Error, Result};
use crate::rules::Evaluation;
use crate::store::derived;
use crate::store::phi::PhiCodec;
use crate::store::{Action, Change, Store, incidents};

pub fn parse_id(s: &str) -> Result<IncidentId> {
    IncidentId::parse(s).ok_or_else(|| {
        Error::invalid("an incident ID looks like 2026-0007 (year, dash, four or more digits)")
    })
}

pub fn run(ctx: &Ctx, c: IncidentCommand) -> Result<i32> {
    match c {
        IncidentCommand::New(a) => new(ctx, a),
        IncidentCommand::List(a) => list(ctx, a),
        IncidentCommand::Show { id } => show(ctx, &parse_id(&id)?),
        IncidentCommand::Update(a) => update(ctx, a),
        IncidentCommand::Note(a) => note(ctx, a),
        IncidentCommand::Close(a) => close(ctx, a),
        IncidentCommand::Reopen { id } => reopen(ctx, &parse_id(&id)?),
    }
}

/// Whether these facts carry PHI that must be sealed.
fn has_phi(f: &Facts) -> bool {
    !f.breach.narrative.is_empty()
}

fn codec_for_write(ctx: &Ctx, store: &Store, needs_phi: bool) -> Result<PhiCodec> {
    ctx.codec(store, needs_phi)
}

fn new(ctx: &Ctx, a: IncidentNewArgs) -> Result<i32> {
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let mut facts = match &a.from {
        Some(p) => read_facts_file(p, today)?,
        None => Facts::default(),
    };
    let mut fa = a.facts;
    if a.from.is_none() && fa.is_empty() && !a.no_interview && std::io::stdin().is_terminal() {
        fa = interview(&mut std::io::stdin().lock(), &mut std::io::stderr())?;
    }
    apply_args(&mut facts, &fa)?;
    validate(&facts, today)?;
    if facts.title.trim().is_empty() {
        return Err(Error::invalid(
            "an incident needs a title (no PHI): --title \"Stolen laptop, billing\" or title = \"...\" in the facts file",
        ));
    }
    let codec = codec_for_write(ctx, &store, has_phi(&facts))?;
    let now = ctx.actor.now;
    let inc = store.write(&ctx.actor, |tx| {
        let id = incidents::next_id(tx, chrono::Datelike::year(&today))?;
        let inc = Incident {
            id: id.clone(),
            created: now,
            updated: now,
            status: IncidentStatus::Reported,
            disposition: None,
            disposition_note: String::new(),
            exercise: false,
            facts,
            timeline: vec![],
            notices: vec![],
        };
        incidents::put(tx, &inc, &codec)?;
        let counts = super::roster_glue::counts_write(tx, &inc)?;
        engine::refresh(tx, &org, &inc, &counts, today, now)?;
        Ok((inc, Change::incident(Action::IncidentNew, &id)))
    })?;
    if ctx.json {
        print_json(&IncidentOut::new(&inc))?;
    } else {
        println!("{}", inc.id);
    }
    Ok(0)
}

fn list(ctx: &Ctx, a: IncidentListArgs) -> Result<i32> {
    let store = ctx.open()?;
    let status = match &a.status {
        Some(s) => Some(IncidentStatus::from_key(s).ok_or_else(|| {
            Error::invalid(
                "--status is not recognised; accepted: reported, investigating, assessed, notifying, closed",
            )
        })?),
        None => None,
    };
    let tx = store.read()?;
    let text = a.text.as_deref().map(str::to_lowercase);
    let items: Vec<Incident> = incidents::list(&tx)?
        .into_iter()
        .filter(|i| status.is_none_or(|s| i.status == s))
        .filter(|i| !a.open || i.status.is_open())
        .filter(|i| !a.closed || !i.status.is_open())
        .filter(|i| {
            text.as_ref().is_none_or(|t| {
                i.id.as_str().contains(t.as_str())
                    || i.facts.title.to_lowercase().contains(t.as_str())
            })
        })
        .collect();
    if ctx.json {
        let out = items
            .iter()
            .map(|i| {
                Ok(IncidentSummary::new(
                    i,
                    super::roster_glue::counts_read(&tx, i)?.total,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        return print_json(&serde_json::json!({ "incidents": out })).map(|_| 0);
    }
    if items.is_empty() {
        println!("no incidents match");
        return Ok(0);
    }
    let mut t = table(&["ID", "Status", "Discovered", "Individuals", "Title"]);
    for i in &items {
        let counts = super::roster_glue::counts_read(&tx, i)?;
        t.add_row(vec![
            i.id.to_string(),
            i.status.key().to_string(),
            date_or_dash(i.facts.breach.discovered),
            counts.total.to_string(),
            i.facts.title.clone(),
        ]);
    }
    println!("{t}");
    Ok(0)
}

fn show(ctx: &Ctx, id: &IncidentId) -> Result<i32> {
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let codec = ctx.codec(&store, false)?;
    let tx = store.read()?;
    let inc = incidents::get_read(&tx, id, &codec)?;
    let d = Derived::from(derived::get_read(&tx, id)?);
    let counts = super::roster_glue::counts_read(&tx, &inc)?;
    let ev = engine::evaluate(&org, &inc, &d, &counts, None, today);
    // What moved since the snapshot of the last recorded change: a roster import (whose
    // audit entry is the roster's), or the days passing (a deadline now late).
    let since = if d.obligations.is_empty() {
        vec![]
    } else {
        crate::rules::diff_obligations(&d.obligations, &ev.obligations)
    };
    if ctx.json {
        return print_json(&ShowOut {
            incident: IncidentOut::new(&inc),
            counts: &counts,
            assessed: d.assessment.is_some(),
            evaluation: EvaluationOut::new(&ev, d.assessment.as_ref()),
            changes: &d.changes,
            changes_at: d.changed_at.map(|t| t.to_rfc3339()),
            changes_since_last_update: &since,
        })
        .map(|_| 0);
    }
    print_incident(&inc, &counts);
    print_evaluation(ctx, &ev, &d, today);
    if !since.is_empty() {
        println!("Since the last recorded update (roster imports, the passing days):");
        for c in &since {
            println!("  - {c}");
        }
    }
    Ok(0)
}

fn print_evaluation(ctx: &Ctx, ev: &Evaluation, d: &Derived, today: chrono::NaiveDate) {
    let style = Style {
        color: ctx.env.color,
    };
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
            ev.engine.class.key()
        ),
    }
    println!(
        "Clock: day 0 = {} ({}) [{}]",
        date_or_dash(ev.clock.date),
        ev.clock.basis,
        ev.clock.cite
    );
    let mut t = table(&["Obligation", "Where", "Due", "Days left", "Status", "Basis"]);
    for o in &ev.obligations {
        t.add_row(vec![
            o.kind.key().to_string(),
            o.jurisdiction.clone().unwrap_or_default(),
            date_or_dash(o.due),
            o.days_remaining
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
            super::cmd_assess::status_text(&o.status),
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
    println!("Obligations as of {}:\n{t}", today.format("%Y-%m-%d"));
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

fn print_incident(inc: &Incident, c: &Counts) {
    let f = &inc.facts;
    let b = &f.breach;
    println!("Incident {}  {}", inc.id, f.title);
    println!(
        "Status: {}{}",
        inc.status.key(),
        inc.disposition
            .map(|d| format!(" ({})", d.key()))
            .unwrap_or_default()
    );
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
}

fn update(ctx: &Ctx, a: IncidentUpdateArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let replacement = match &a.from {
        Some(p) => Some(read_facts_file(p, today)?),
        None => None,
    };
    let status = match &a.status {
        Some(s) => match IncidentStatus::from_key(s) {
            Some(IncidentStatus::Closed) => {
                return Err(Error::invalid(
                    "use `breachdesk incident close ID --disposition ...` to close an incident",
                ));
            }
            Some(s) => Some(s),
            None => {
                return Err(Error::invalid(
                    "--status is not recognised; accepted: reported, investigating, assessed, notifying",
                ));
            }
        },
        None => None,
    };
    if replacement.is_none() && a.facts.is_empty() && status.is_none() {
        return Err(Error::invalid(
            "nothing to change: give fact flags, --set PATH=VALUE, --from FILE or --status",
        ));
    }
    let touches_phi = a.facts.narrative.is_some()
        || a.facts
            .set
            .iter()
            .any(|s| s.starts_with("breach.narrative"))
        || replacement.as_ref().is_some_and(has_phi);
    // Reading the current narrative to carry it over needs the key when it is sealed.
    let codec = ctx.codec(&store, touches_phi)?;
    let now = ctx.actor.now;
    let (inc, changes) = store.write(&ctx.actor, |tx| {
        let mut inc = incidents::get_write(tx, &id, &codec)?;
        if codec.is_locked() && !touches_phi {
            // Keep sealed values untouched: `put` skips an unchanged narrative below.
            inc.facts.breach.narrative.clear();
        }
        let before = inc.facts.clone();
        if let Some(r) = &replacement {
            inc.facts = r.clone();
        }
        apply_args(&mut inc.facts, &a.facts)?;
        validate(&inc.facts, today)?;
        if let Some(s) = status {
            inc.status = s;
        }
        inc.updated = now;
        let changed = changed_fields(&before, &inc.facts);
        if codec.is_locked() {
            incidents::put_keep_phi(tx, &inc)?;
        } else {
            incidents::put(tx, &inc, &codec)?;
        }
        let counts = super::roster_glue::counts_write(tx, &inc)?;
        let moved = engine::refresh(tx, &org, &inc, &counts, today, now)?;
        let mut detail = format!("fields={}", changed.join(","));
        if let Some(s) = status {
            detail.push_str(&format!(" status={}", s.key()));
        }
        Ok((
            (inc, moved),
            Change::incident(Action::IncidentUpdate, &id).detail(detail),
        ))
    })?;
    if ctx.json {
        print_json(&IncidentOut::new(&inc))?;
    } else {
        println!("updated {}", inc.id);
        if !changes.is_empty() {
            println!("obligations recomputed; what changed:");
            for c in &changes {
                println!("  - {c}");
            }
        }
    }
    Ok(0)
}

/// Top-level paths of facts that differ (for the audit detail; names only, never values).
fn changed_fields(a: &Facts, b: &Facts) -> Vec<String> {
    let (Ok(va), Ok(vb)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return vec![];
    };
    let mut out = vec![];
    diff_paths("", &va, &vb, &mut out);
    out
}

fn diff_paths(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(ma), serde_json::Value::Object(mb)) => {
            for (k, va) in ma {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match mb.get(k) {
                    Some(vb) => diff_paths(&p, va, vb, out),
                    None => out.push(p),
                }
            }
        }
        _ if a != b => out.push(prefix.to_string()),
        _ => {}
    }
}

fn note(ctx: &Ctx, a: NoteArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let store = ctx.open()?;
    let at = match &a.at {
        Some(s) => super::parse_instant(s).ok_or_else(|| {
            Error::invalid("--at is not a date: use YYYY-MM-DD or RFC 3339 (2026-03-01T09:30:00Z)")
        })?,
        None => ctx.actor.now,
    };
    if a.text.trim().is_empty() {
        return Err(Error::invalid("the note text is empty"));
    }
    let codec = ctx.codec(&store, true)?;
    let author = a.author.clone().unwrap_or_else(|| ctx.actor.name.clone());
    let n = store.write(&ctx.actor, |tx| {
        let mut inc = incidents::get_write(tx, &id, &codec)?;
        inc.timeline.push(TimelineEntry {
            at,
            author,
            text: a.text.clone(),
        });
        inc.updated = ctx.actor.now;
        incidents::put(tx, &inc, &codec)?;
        let n = inc.timeline.len();
        Ok((
            n,
            Change::incident(Action::IncidentNote, &id).detail(format!("note={n}")),
        ))
    })?;
    if !ctx.json {
        println!("added note {n} to {id}");
    }
    Ok(0)
}

fn close(ctx: &Ctx, a: CloseArgs) -> Result<i32> {
    let id = parse_id(&a.id)?;
    let disposition = Disposition::ALL
        .iter()
        .copied()
        .find(|d| d.key() == a.disposition.trim())
        .ok_or_else(|| {
            Error::invalid(
                "--disposition is not recognised; accepted: breach_notified, not_breach, no_phi, duplicate, other",
            )
        })?;
    set_status(ctx, &id, Action::IncidentClose, |inc| {
        if inc.status == IncidentStatus::Closed {
            return Err(Error::invalid(format!("{} is already closed", inc.id)));
        }
        inc.status = IncidentStatus::Closed;
        inc.disposition = Some(disposition);
        inc.disposition_note = a.note.clone();
        Ok(format!("disposition={}", disposition.key()))
    })
}

fn reopen(ctx: &Ctx, id: &IncidentId) -> Result<i32> {
    set_status(ctx, id, Action::IncidentReopen, |inc| {
        if inc.status != IncidentStatus::Closed {
            return Err(Error::invalid(format!("{} is not closed", inc.id)));
        }
        inc.status = IncidentStatus::Investigating;
        inc.disposition = None;
        Ok("status=investigating".into())
    })
}

/// A status change touches no PHI: the record is rewritten, sealed values are kept as stored.
fn set_status(
    ctx: &Ctx,
    id: &IncidentId,
    action: Action,
    f: impl FnOnce(&mut Incident) -> Result<String>,
) -> Result<i32> {
    let store = ctx.open()?;
    let org = load_org(&store)?;
    let today = ctx.today(&org.time_zone);
    let inc = store.write(&ctx.actor, |tx| {
        let mut inc = incidents::get_write(tx, id, &PhiCodec::Locked)?;
        let detail = f(&mut inc)?;
        inc.updated = ctx.actor.now;
        incidents::put_keep_phi(tx, &inc)?;
        let counts = super::roster_glue::counts_write(tx, &inc)?;
        engine::refresh(tx, &org, &inc, &counts, today, ctx.actor.now)?;
        Ok((inc, Change::incident(action, id).detail(detail)))
    })?;
    if ctx.json {
        print_json(&IncidentOut::new(&inc))?;
    } else {
        println!("{} is {}", inc.id, inc.status.key());
    }
    Ok(0)
}

/// JSON shape of an incident (`incident show --json`, `incident new --json`).
#[derive(Serialize)]
pub struct IncidentOut<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub disposition: Option<&'a str>,
    pub disposition_note: &'a str,
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
struct IncidentSummary<'a> {
    id: &'a str,
    status: &'a str,
    title: &'a str,
    discovered: Option<String>,
    individuals: u64,
    exercise: bool,
}

impl<'a> IncidentSummary<'a> {
    fn new(i: &'a Incident, individuals: u64) -> IncidentSummary<'a> {
        IncidentSummary {
            id: i.id.as_str(),
            status: i.status.key(),
            title: &i.facts.title,
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
