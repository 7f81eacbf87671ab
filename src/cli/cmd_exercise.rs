//! `exercise …`: tabletop exercises on the real engine, in their own database, with a
//! simulated clock (the use cases are `desk::exercise`).

use std::path::{Path, PathBuf};

use super::args::{ExerciseCommand, ExerciseDecideArgs, ExerciseFromOcrArgs, ExerciseStartArgs};
use super::context::Ctx;
use super::interview;
use super::output::{print_json, table};
use crate::desk::exercise::{
    self as ex, ExerciseDesk, RoomDecision, StartExercise, builtin_scenario, parse_scenario,
    validate_scenario,
};
use crate::error::{Error, Result};
use crate::exercise::Scenario;

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
            force,
        } => report(ctx, db.as_deref(), html, out, force),
        ExerciseCommand::FromOcr(a) => from_ocr(ctx, a),
    }
}

fn list(ctx: &Ctx) -> Result<i32> {
    let rows = ex::library()?;
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
    let text = crate::files::read_text(path, crate::files::SCENARIO)?;
    let s = parse_scenario(&text, &path.display().to_string())?;
    Ok((s, text))
}

fn validate_file(ctx: &Ctx, path: &Path) -> Result<i32> {
    let (s, _) = read_scenario_file(path)?;
    let warnings = validate_scenario(&s)?;
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
    let (scenario, text) = match (&a.scenario, &a.file) {
        (Some(sid), None) => builtin_scenario(sid)?,
        (None, Some(f)) => read_scenario_file(f)?,
        _ => {
            return Err(Error::invalid(
                "give a built-in SCENARIO or --file FILE (one of them)",
            ));
        }
    };
    let path = ctx.exercise_db(a.exercise_db.as_deref());
    let id = scenario.id.clone();
    let date = ex::start_exercise(
        StartExercise {
            scenario,
            text,
            path: path.clone(),
            real_db: ctx.db_path.clone(),
            force: a.force,
        },
        &ctx.context(),
    )?;
    if ctx.json {
        return print_json(&serde_json::json!({"scenario": id, "exercise_db": path, "stage": 0, "date": date.to_string()})).map(|_| 0);
    }
    println!(
        "exercise `{id}` started in {} (simulated date {date}); EXERCISE records only, never real notices.\nNext: `breachdesk exercise brief`",
        path.display(),
    );
    Ok(0)
}

/// Opens the exercise database.
fn open(ctx: &Ctx, db: Option<&Path>) -> Result<ExerciseDesk> {
    ExerciseDesk::open(&ctx.exercise_db(db), ctx.context())
}

fn brief(ctx: &Ctx, db: Option<&Path>, reveal: bool) -> Result<i32> {
    let b = open(ctx, db)?.brief(reveal)?;
    if ctx.json {
        return print_json(&b).map(|_| 0);
    }
    print!("{b}");
    Ok(0)
}

fn next(ctx: &Ctx, db: Option<&Path>) -> Result<i32> {
    let mut room = open(ctx, db)?;
    let stage = room.advance()?;
    let s = room.scenario();
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

fn decide(ctx: &Ctx, a: ExerciseDecideArgs) -> Result<i32> {
    let mut room = open(ctx, a.exercise_db.as_deref())?;
    let mut determination = a.determination;
    let mut notices = a.notices;
    if determination.is_none() && notices.is_empty() && ctx.env.stdin_tty && !a.no_interview {
        let (d, n) =
            interview::room_decision(&mut std::io::stdin().lock(), &mut std::io::stderr())?;
        determination = d;
        notices = n;
    }
    let decision = room.decide(&RoomDecision {
        stage: a.stage,
        determination,
        notices,
        note: a.note,
    })?;
    if ctx.json {
        return print_json(&decision).map(|_| 0);
    }
    println!(
        "recorded the room's decision for stage {}; `breachdesk exercise score` compares it with the engine",
        decision.stage
    );
    Ok(0)
}

fn note(ctx: &Ctx, db: Option<&Path>, text: &str) -> Result<i32> {
    let stage = open(ctx, db)?.note(text)?;
    if !ctx.json {
        println!("discussion note recorded at stage {stage}");
    }
    Ok(0)
}

fn score(ctx: &Ctx, db: Option<&Path>) -> Result<i32> {
    let room = open(ctx, db)?;
    let sc = room.score()?;
    if ctx.json {
        return print_json(&sc).map(|_| 0);
    }
    let s = room.scenario();
    let style = ctx.style();
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
    for n in &sc.notes {
        println!("Note: {n}");
    }
    Ok(0)
}

fn report(
    ctx: &Ctx,
    db: Option<&Path>,
    html: bool,
    out: Option<PathBuf>,
    force: bool,
) -> Result<i32> {
    if !html {
        return Err(Error::invalid(
            "the after-action report is written as HTML: add --html",
        ));
    }
    let room = open(ctx, db)?;
    let h = room.after_action_html()?;
    let out =
        out.unwrap_or_else(|| PathBuf::from(format!("{}-after-action.html", room.scenario().id)));
    crate::files::write_output(&out, h.as_bytes(), true, force)?;
    if ctx.json {
        return print_json(&serde_json::json!({"out": out})).map(|_| 0);
    }
    println!("after-action report written to {}", out.display());
    Ok(0)
}

fn from_ocr(ctx: &Ctx, a: ExerciseFromOcrArgs) -> Result<i32> {
    let seed = if a.random {
        Some(a.seed.unwrap_or(0))
    } else {
        a.seed
    };
    let s = ex::seed_from_ocr(&a.file, a.row, seed)?;
    match &a.out {
        Some(p) => {
            crate::files::write_atomic(p, s.text.as_bytes(), false)?;
            if !ctx.json {
                println!(
                    "scenario skeleton from line {} of {} written to {} ({} record(s) read, {} reported); edit it, then `breachdesk exercise start --file {}`",
                    s.line,
                    a.file.display(),
                    p.display(),
                    s.records,
                    s.issues.len(),
                    p.display()
                );
            }
        }
        None => print!("{}", s.text),
    }
    if ctx.json && a.out.is_some() {
        print_json(&serde_json::json!({"line": s.line, "id": s.scenario_id, "out": a.out}))?;
    }
    for i in s.issues.iter().take(5) {
        eprintln!("note: {i}");
    }
    Ok(0)
}
