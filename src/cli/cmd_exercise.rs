//! `exercise …`: tabletop exercises on the real engine, in their own database, with a
//! simulated clock. The exercise database holds one incident (marked as an exercise) whose
//! facts follow the scenario's injects, and the running state (stage, decisions, notes)
//! beside it, so every step is audit-logged like real work.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::args::{ExerciseCommand, ExerciseDecideArgs, ExerciseFromOcrArgs, ExerciseStartArgs};
use super::output::{Style, print_json, table};
use super::{Ctx, engine};
use crate::desk::records::Derived;
use crate::domain::*;
use crate::error::{Error, Result};
use crate::exercise::{self, DecidedNotice, Decision, ExerciseError, ExerciseState, Scenario, ocr};
use crate::rules::DeterminationClass;
use crate::store::phi::PhiCodec;
use crate::store::{Action, Change, Store, derived, incidents};

fn ex_err(e: ExerciseError) -> Error {
    Error::invalid(e.to_string())
}

/// The running exercise of an exercise database: its one incident and the state kept
/// beside it. `None` for a real register (one read: the first incident's state).
pub fn exercise_state(store: &Store) -> Result<Option<(IncidentId, ExerciseState)>> {
    use redb::ReadableTable;
    let tx = store.read()?;
    let first = {
        let t = tx.open_table(crate::store::tables::INCIDENTS)?;
        let mut it = t.iter()?;
        match it.next() {
            Some(row) => IncidentId::parse(row?.0.value()),
            None => None,
        }
    };
    let Some(iid) = first else {
        return Ok(None);
    };
    Ok(Derived::from(derived::get_read(&tx, &iid)?)
        .exercise
        .map(|st| (iid, st)))
}

/// The organization of an exercise database: the scenario's.
pub fn exercise_org(store: &Store) -> Result<Option<Organization>> {
    Ok(match exercise_state(store)? {
        Some((_, st)) => Some(st.scenario().map_err(ex_err)?.organization.organization()),
        None => None,
    })
}

/// Where the exercise database is: `--exercise-db`, `BREACHDESK_EXERCISE_DB`, else
/// `breachdesk-exercise.redb` in the current directory. Never the real database.
pub fn exercise_db(ctx: &Ctx, flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| ctx.env.exercise_db.clone())
        .unwrap_or_else(|| PathBuf::from("breachdesk-exercise.redb"))
}

pub fn run(ctx: &Ctx, c: ExerciseCommand) -> Result<i32> {
    match c {
        ExerciseCommand::List => list(ctx),
        ExerciseCommand::Validate { file } => validate_file(ctx, &file),
        ExerciseCommand::Start(a) => start(ctx, a),
        ExerciseCommand::Brief {
            exercise_db: db,
            reveal,
        } => brief(ctx, db.as_deref(), reveal),
        ExerciseCommand::Next { exercise_db: db } => next(ctx, db.as_deref()),
        ExerciseCommand::Decide(a) => decide(ctx, a),
        ExerciseCommand::Note {
            text,
            exercise_db: db,
        } => note(ctx, db.as_deref(), &text),
        ExerciseCommand::Score { exercise_db: db } => score(ctx, db.as_deref()),
        ExerciseCommand::Report {
            exercise_db: db,
            html,
            out,
        } => report(ctx, db.as_deref(), html, out),
        ExerciseCommand::FromOcr(a) => from_ocr(ctx, a),
    }
}

fn list(ctx: &Ctx) -> Result<i32> {
    let mut rows = Vec::new();
    for (sid, _) in exercise::builtin() {
        let s = exercise::load_builtin(sid).map_err(ex_err)?;
        rows.push((s.id.clone(), s.title.clone(), s.injects.len()));
    }
    if ctx.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(i, t, n)| serde_json::json!({"id": i, "title": t, "injects": n}))
            .collect();
        return print_json(&serde_json::json!({"scenarios": v})).map(|_| 0);
    }
    let mut t = table(&["Scenario", "Injects", "Title"]);
    for (i, ti, n) in rows {
        t.add_row(vec![i, n.to_string(), ti]);
    }
    println!(
        "{t}\nStart one with `breachdesk exercise start SCENARIO` (or --file FILE for your own)."
    );
    Ok(0)
}

fn read_scenario_file(path: &Path) -> Result<(Scenario, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read the scenario {}", path.display()), e))?;
    let s = exercise::parse_scenario(&text, &path.display().to_string()).map_err(ex_err)?;
    Ok((s, text))
}

fn validate_file(ctx: &Ctx, path: &Path) -> Result<i32> {
    let (s, _) = read_scenario_file(path)?;
    let warnings = exercise::validate(&s).map_err(ex_err)?;
    if ctx.json {
        return print_json(
            &serde_json::json!({"id": s.id, "stages": s.last_stage() + 1, "warnings": warnings}),
        )
        .map(|_| 0);
    }
    println!(
        "{} is a valid scenario: `{}`, {} stage(s); the engine runs on every stage",
        path.display(),
        s.id,
        s.last_stage() + 1
    );
    for w in warnings {
        println!("warning: {w}");
    }
    Ok(0)
}

fn start(ctx: &Ctx, a: ExerciseStartArgs) -> Result<i32> {
    let (s, text) = match (&a.scenario, &a.file) {
        (Some(sid), None) => {
            let text = exercise::builtin()
                .into_iter()
                .find(|(i, _)| i == sid)
                .map(|(_, t)| t.to_string())
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no built-in scenario `{sid}`; `breachdesk exercise list` shows them"
                    ))
                })?;
            (exercise::load_builtin(sid).map_err(ex_err)?, text)
        }
        (None, Some(f)) => read_scenario_file(f)?,
        _ => {
            return Err(Error::invalid(
                "give a built-in SCENARIO or --file FILE (one of them)",
            ));
        }
    };
    exercise::validate(&s).map_err(ex_err)?;
    let path = exercise_db(ctx, a.exercise_db.as_deref());
    if path == ctx.db_path && !a.force {
        return Err(Error::invalid(
            "the exercise database would be the real database: exercises keep their own file (--exercise-db)",
        ));
    }
    if path.exists() {
        if !a.force {
            return Err(Error::invalid(format!(
                "{} already holds an exercise; pass --force to replace it, or --exercise-db PATH for another",
                path.display()
            )));
        }
        std::fs::remove_file(&path)
            .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))?;
    }
    let org = s.organization.organization();
    let facts = exercise::stage_facts(&s, 0).map_err(ex_err)?;
    let date = exercise::stage_date(&s, 0);
    let state = ExerciseState::new(&s, &text);
    let actor = sim_actor(ctx, date);
    let store = Store::create(&path)?;
    // One transaction, one audited subject: the exercise incident, with the running state
    // (and so the scenario and its organization) kept beside it. No PHI: no encryption.
    let written = store.init_write(&actor, |tx| {
        let inc = Incident {
            id: IncidentId::new(chrono::Datelike::year(&date), 1),
            created: actor.now,
            updated: actor.now,
            status: IncidentStatus::Investigating,
            disposition: None,
            disposition_note: String::new(),
            exercise: true,
            facts,
            timeline: vec![],
            notices: exercise::stage_notices(&s, 0),
        };
        put_stage(tx, &org, &inc, &state, date, actor.now)?;
        Ok((
            (),
            Change::incident(Action::ExerciseStart, &inc.id).detail(format!("scenario={}", s.id)),
        ))
    });
    if let Err(e) = written {
        drop(store);
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    if ctx.json {
        return print_json(&serde_json::json!({"scenario": s.id, "exercise_db": path, "stage": 0, "date": date.to_string()})).map(|_| 0);
    }
    println!(
        "exercise `{}` started in {} (simulated date {}); EXERCISE records only, never real notices.\nNext: `breachdesk exercise brief`",
        s.id,
        path.display(),
        date
    );
    Ok(0)
}

/// The actor for an exercise step: the real actor, at the simulated date.
fn sim_actor(ctx: &Ctx, date: NaiveDate) -> crate::store::Actor {
    crate::store::Actor {
        name: ctx.actor.name.clone(),
        now: date
            .and_hms_opt(12, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(ctx.actor.now),
    }
}

/// Opens the exercise database and reads its state.
fn open(ctx: &Ctx, db: Option<&Path>) -> Result<(Store, ExerciseState, Scenario)> {
    let path = exercise_db(ctx, db);
    if !path.exists() {
        return Err(Error::Database(format!(
            "no exercise at {}; start one with `breachdesk exercise start SCENARIO`",
            path.display()
        )));
    }
    let store = Store::open(&path)?;
    let Some((_, state)) = exercise_state(&store)? else {
        return Err(Error::Database(format!(
            "{} is not an exercise database; exercise commands never touch a real register",
            path.display()
        )));
    };
    let s = state.scenario().map_err(ex_err)?;
    Ok((store, state, s))
}

/// The simulated date of an exercise database, for commands that open it directly
/// (e.g. `--db breachdesk-exercise.redb incident show ...`).
pub fn simulated_today(store: &Store) -> Result<Option<NaiveDate>> {
    Ok(match exercise_state(store)? {
        Some((_, st)) => st
            .scenario()
            .ok()
            .map(|s| exercise::stage_date(&s, st.stage)),
        None => None,
    })
}

/// Writes the exercise incident at a stage, with the running state beside it, and
/// recomputes its obligations on the simulated date.
fn put_stage(
    tx: &redb::WriteTransaction,
    org: &Organization,
    inc: &Incident,
    state: &ExerciseState,
    date: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    incidents::put(tx, inc, &PhiCodec::Plain)?;
    let mut d = Derived::from(derived::get_write(tx, &inc.id)?);
    d.exercise = Some(state.clone());
    derived::put(tx, &inc.id, &(&d).into())?;
    let counts = super::roster_glue::counts_write(tx, inc)?;
    engine::refresh(tx, org, inc, &counts, date, now)?;
    Ok(())
}

/// Writes a new state (and the stage's facts) in one audited transaction.
fn save(
    ctx: &Ctx,
    store: &Store,
    s: &Scenario,
    state: &ExerciseState,
    action: Action,
    detail: String,
) -> Result<()> {
    let org = s.organization.organization();
    let date = exercise::stage_date(s, state.stage);
    let facts = exercise::stage_facts(s, state.stage).map_err(ex_err)?;
    let notices = exercise::stage_notices(s, state.stage);
    let actor = sim_actor(ctx, date);
    let (iid, _) = exercise_state(store)?
        .ok_or_else(|| Error::Database("the exercise state is missing".into()))?;
    store.write(&actor, |tx| {
        let mut inc = incidents::get_write(tx, &iid, &PhiCodec::Plain)?;
        inc.facts = facts.clone();
        inc.notices = notices.clone();
        inc.updated = actor.now;
        put_stage(tx, &org, &inc, state, date, actor.now)?;
        Ok(((), Change::incident(action, &inc.id).detail(detail)))
    })
}

fn brief(ctx: &Ctx, db: Option<&Path>, reveal: bool) -> Result<i32> {
    let (_, state, s) = open(ctx, db)?;
    let b = exercise::brief(&s, state.stage, reveal).map_err(ex_err)?;
    if ctx.json {
        return print_json(&b).map(|_| 0);
    }
    print!("{b}");
    Ok(0)
}

fn next(ctx: &Ctx, db: Option<&Path>) -> Result<i32> {
    let (store, mut state, s) = open(ctx, db)?;
    let stage = state.advance(&s).map_err(ex_err)?;
    save(
        ctx,
        &store,
        &s,
        &state,
        Action::ExerciseNext,
        format!("stage={stage}"),
    )?;
    let inj = &s.injects[stage - 1];
    if ctx.json {
        return print_json(&serde_json::json!({"stage": stage, "date": inj.at.to_string(), "title": inj.title, "told": inj.told})).map(|_| 0);
    }
    println!(
        "EXERCISE — stage {stage} of {}: {} ({})\n\n{}\n\nDecide with `breachdesk exercise decide`; see the situation with `exercise brief`.",
        s.last_stage(),
        inj.title,
        inj.at,
        inj.told.trim()
    );
    Ok(0)
}

/// Parses `KIND[:JURISDICTION][=YYYY-MM-DD]`.
fn parse_notice(s: &str) -> Result<DecidedNotice> {
    let (head, due) = match s.split_once('=') {
        Some((h, d)) => (
            h,
            Some(
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    Error::invalid("--notice due date is not a date: use KIND[:ST]=YYYY-MM-DD")
                })?,
            ),
        ),
        None => (s, None),
    };
    let (kind, jurisdiction) = match head.split_once(':') {
        Some((k, j)) => (
            k,
            Some(
                vocab::normalize_state(j)
                    .map(str::to_string)
                    .unwrap_or_else(|| j.trim().to_string()),
            ),
        ),
        None => (head, None),
    };
    let kind = ObligationKind::from_key(kind).ok_or_else(|| {
        Error::invalid(format!(
            "--notice kind is not recognised; accepted: {} (format KIND[:ST][=YYYY-MM-DD])",
            ObligationKind::accepted()
        ))
    })?;
    Ok(DecidedNotice {
        kind,
        jurisdiction,
        due,
    })
}

fn decide(ctx: &Ctx, a: ExerciseDecideArgs) -> Result<i32> {
    let (store, mut state, s) = open(ctx, a.exercise_db.as_deref())?;
    let mut determination = match &a.determination {
        Some(d) => Some(DeterminationClass::from_key(d).ok_or_else(|| {
            Error::invalid("--determination is not recognised; accepted: not_breach_secured, not_breach_exception, not_breach_low_probability, breach")
        })?),
        None => None,
    };
    let mut notices = a
        .notices
        .iter()
        .map(|n| parse_notice(n))
        .collect::<Result<Vec<_>>>()?;
    if determination.is_none()
        && notices.is_empty()
        && std::io::stdin().is_terminal()
        && !a.no_interview
    {
        let (d, n) = interview(&mut std::io::stdin().lock(), &mut std::io::stderr())?;
        determination = d;
        notices = n;
    }
    let stage = a.stage.unwrap_or(state.stage);
    let decision = Decision {
        stage,
        determination,
        notices,
        note: a.note.clone().unwrap_or_default(),
    };
    state.decide(&s, decision.clone()).map_err(ex_err)?;
    if let Some(n) = &a.note {
        state.note(n.clone());
    }
    save(
        ctx,
        &store,
        &s,
        &state,
        Action::ExerciseDecide,
        format!(
            "stage={stage} determination={} notices={}",
            determination.map(|d| d.key()).unwrap_or("-"),
            decision.notices.len()
        ),
    )?;
    if ctx.json {
        return print_json(&decision).map(|_| 0);
    }
    println!(
        "recorded the room's decision for stage {stage}; `breachdesk exercise score` compares it with the engine"
    );
    Ok(0)
}

/// Asks the room's answer on a terminal.
pub fn interview(
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(Option<DeterminationClass>, Vec<DecidedNotice>)> {
    let mut line = |q: &str| -> Result<String> {
        write!(out, "{q}: ").map_err(|e| Error::io("cannot write the prompt", e))?;
        out.flush()
            .map_err(|e| Error::io("cannot write the prompt", e))?;
        let mut l = String::new();
        input
            .read_line(&mut l)
            .map_err(|e| Error::io("cannot read the answer", e))?;
        Ok(l.trim().to_string())
    };
    let d = line(
        "Determination [not_breach_secured, not_breach_exception, not_breach_low_probability, breach]",
    )?;
    let det = if d.is_empty() {
        None
    } else {
        Some(
            DeterminationClass::from_key(&d)
                .ok_or_else(|| Error::invalid("determination not recognised"))?,
        )
    };
    let mut notices = Vec::new();
    loop {
        let n = line("A notice owed, as KIND[:ST]=YYYY-MM-DD (blank when done)")?;
        if n.is_empty() {
            break;
        }
        notices.push(parse_notice(&n)?);
    }
    Ok((det, notices))
}

fn note(ctx: &Ctx, db: Option<&Path>, text: &str) -> Result<i32> {
    let (store, mut state, s) = open(ctx, db)?;
    state.note(text);
    save(
        ctx,
        &store,
        &s,
        &state,
        Action::ExerciseNote,
        format!("stage={}", state.stage),
    )?;
    if !ctx.json {
        println!("discussion note recorded at stage {}", state.stage);
    }
    Ok(0)
}

fn score(ctx: &Ctx, db: Option<&Path>) -> Result<i32> {
    let (_, state, s) = open(ctx, db)?;
    let sc = exercise::score(&s, &state.decisions).map_err(ex_err)?;
    if ctx.json {
        return print_json(&sc).map(|_| 0);
    }
    let style = Style {
        color: ctx.env.color,
    };
    let mut t = table(&["Stage", "Question", "Room", "Engine", "", "Why"]);
    for i in &sc.items {
        t.add_row(vec![
            i.stage.to_string(),
            i.question.clone(),
            i.answer_given.clone(),
            i.expected.clone(),
            if i.correct {
                style.green("right")
            } else {
                style.red("wrong")
            },
            format!("{} [{}]", i.reason, i.cite),
        ]);
    }
    println!(
        "EXERCISE — {} ({})\n{t}\nScore: {} of {} ({:.0}%)",
        s.title, s.id, sc.correct, sc.total, sc.percent
    );
    Ok(0)
}

fn report(ctx: &Ctx, db: Option<&Path>, html: bool, out: Option<PathBuf>) -> Result<i32> {
    if !html {
        return Err(Error::invalid(
            "the after-action report is written as HTML: add --html",
        ));
    }
    let (_, state, s) = open(ctx, db)?;
    let h = exercise::after_action_html(&s, &state).map_err(ex_err)?;
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}-after-action.html", s.id)));
    std::fs::write(&out, h).map_err(|e| Error::io(format!("cannot write {}", out.display()), e))?;
    if ctx.json {
        return print_json(&serde_json::json!({"out": out})).map(|_| 0);
    }
    println!("after-action report written to {}", out.display());
    Ok(0)
}

fn from_ocr(ctx: &Ctx, a: ExerciseFromOcrArgs) -> Result<i32> {
    let (records, issues) = ocr::parse_all(&a.file).map_err(|e| Error::invalid(e.to_string()))?;
    if records.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no usable breach record",
            a.file.display()
        )));
    }
    let seed = if a.random {
        Some(a.seed.unwrap_or(0))
    } else {
        a.seed
    };
    let rec = ocr::pick(&records, a.row, seed).map_err(|e| Error::invalid(e.to_string()))?;
    let text = exercise::from_ocr(rec);
    let s = exercise::parse_scenario(&text, "seeded scenario").map_err(ex_err)?;
    exercise::validate(&s).map_err(ex_err)?;
    match &a.out {
        Some(p) => {
            std::fs::write(p, &text)
                .map_err(|e| Error::io(format!("cannot write {}", p.display()), e))?;
            if !ctx.json {
                println!(
                    "scenario skeleton from line {} of {} written to {} ({} record(s) read, {} reported); edit it, then `breachdesk exercise start --file {}`",
                    rec.line,
                    a.file.display(),
                    p.display(),
                    records.len(),
                    issues.len(),
                    p.display()
                );
            }
        }
        None => print!("{text}"),
    }
    if ctx.json && a.out.is_some() {
        print_json(&serde_json::json!({"line": rec.line, "id": s.id, "out": a.out}))?;
    }
    for i in issues.iter().take(5) {
        eprintln!("note: {i}");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_syntax() {
        let n = parse_notice("media:ca=2026-11-29").expect("parses");
        assert_eq!(n.kind, ObligationKind::Media);
        assert_eq!(n.jurisdiction.as_deref(), Some("CA"));
        assert_eq!(n.due, NaiveDate::from_ymd_opt(2026, 11, 29));
        assert!(parse_notice("hhs_immediate").is_ok());
        assert!(parse_notice("letters").is_err());
        assert!(parse_notice("individual=2026-13-01").is_err());
    }
}
