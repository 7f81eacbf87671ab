//! Tabletop exercises on the real engine, in their own database, with a simulated clock.
//! The exercise database holds one incident (marked as an exercise) whose facts follow the
//! scenario's injects, and the running state (stage, decisions, notes) beside it, so every
//! step is audit-logged like real work.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::change::{Plan, put_new_incident};
use super::office::{Context, Desk, NoKey, Office};
use super::records::Derived;
use crate::domain::{Incident, IncidentId, IncidentStatus};
use crate::error::{Error, Result};
use crate::exercise::{
    self, Brief, DecidedNotice, Decision, ExerciseError, ExerciseState, Scenario, Score,
};
use crate::rules::DeterminationClass;
use crate::store::phi::PhiCodec;
use crate::store::{Action, Change, Store};

fn ex_err(e: ExerciseError) -> Error {
    Error::invalid(e.to_string())
}

/// A built-in scenario and its text.
pub fn builtin_scenario(id: &str) -> Result<(Scenario, String)> {
    let text = exercise::builtin()
        .into_iter()
        .find(|(i, _)| *i == id)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no built-in scenario `{id}`; `breachdesk exercise list` shows them"
            ))
        })?;
    Ok((exercise::load_builtin(id).map_err(ex_err)?, text))
}

/// A scenario from its text; `origin` names it in errors.
pub fn parse_scenario(text: &str, origin: &str) -> Result<Scenario> {
    exercise::parse_scenario(text, origin).map_err(ex_err)
}

/// Checks a scenario: the facts at every stage, and the engine runs on each. Returns
/// warnings.
pub fn validate_scenario(s: &Scenario) -> Result<Vec<String>> {
    exercise::validate(s).map_err(ex_err)
}

/// The built-in scenarios: (id, title, injects).
pub fn library() -> Result<Vec<(String, String, usize)>> {
    let mut rows = Vec::new();
    for (sid, _) in exercise::builtin() {
        let s = exercise::load_builtin(sid).map_err(ex_err)?;
        rows.push((s.id.clone(), s.title.clone(), s.injects.len()));
    }
    Ok(rows)
}

/// `exercise start`: a scenario, its text (kept in the database so the exercise survives
/// the file), where the exercise database goes, and whether to replace one there.
pub struct StartExercise {
    pub scenario: Scenario,
    pub text: String,
    pub path: PathBuf,
    /// The real database: an exercise never shares its file.
    pub real_db: PathBuf,
    pub force: bool,
}

/// The instant of an exercise step: noon UTC of the simulated date.
fn sim_now(date: NaiveDate, ctx: &Context) -> DateTime<Utc> {
    date.and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(ctx.now)
}

/// Starts an exercise in its own database; returns the simulated date of stage 0.
pub fn start_exercise(req: StartExercise, ctx: &Context) -> Result<NaiveDate> {
    let s = &req.scenario;
    validate_scenario(s)?;
    let path = &req.path;
    if *path == req.real_db && !req.force {
        return Err(Error::invalid(
            "the exercise database would be the real database: exercises keep their own file (--exercise-db)",
        ));
    }
    if path.exists() {
        if !req.force {
            return Err(Error::invalid(format!(
                "{} already holds an exercise; pass --force to replace it, or --exercise-db PATH for another",
                path.display()
            )));
        }
        std::fs::remove_file(path)
            .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))?;
    }
    let org = s.organization.organization();
    let facts = exercise::stage_facts(s, 0).map_err(ex_err)?;
    let date = exercise::stage_date(s, 0);
    let state = ExerciseState::new(s, &req.text);
    let now = sim_now(date, ctx);
    let actor = Context {
        now,
        clock: crate::store::ClockSource::Simulated,
        ..ctx.clone()
    }
    .actor();
    let store = Store::create(path)?;
    // One transaction, one audited subject: the exercise incident, with the running state
    // (and so the scenario and its organization) kept beside it. No PHI: no encryption.
    let written = store.init(&actor, |w| {
        let inc = Incident {
            id: IncidentId::new(date.year(), 1),
            created: now,
            updated: now,
            status: IncidentStatus::Investigating,
            disposition: None,
            disposition_note: String::new(),
            close_rationale: None,
            exercise: true,
            facts,
            timeline: vec![],
            notices: exercise::stage_notices(s, 0),
        };
        let derived = Derived {
            exercise: Some(state),
            ..Derived::default()
        };
        put_new_incident(w, &org, &inc, derived, &PhiCodec::Plain, date)?;
        Ok((
            (),
            Change::incident(Action::ExerciseStart, &inc.id).detail(format!("scenario={}", s.id)),
        ))
    });
    if let Err(e) = written {
        drop(store);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(date)
}

/// `exercise decide`: the room's answers at a stage.
#[derive(Debug, Clone, Default)]
pub struct RoomDecision {
    /// The stage decided (default: the current stage).
    pub stage: Option<usize>,
    pub determination: Option<DeterminationClass>,
    pub notices: Vec<DecidedNotice>,
    /// A discussion note kept with the decision.
    pub note: Option<String>,
}

/// A running exercise: its database, state and scenario.
pub struct ExerciseDesk {
    office: Office,
    ctx: Context,
    incident: IncidentId,
    state: ExerciseState,
    scenario: Scenario,
}

impl ExerciseDesk {
    /// Opens the exercise database at `path` (never a real register).
    pub fn open(path: &Path, ctx: Context) -> Result<ExerciseDesk> {
        if !path.exists() {
            return Err(Error::Database(format!(
                "no exercise at {}; start one with `breachdesk exercise start SCENARIO`",
                path.display()
            )));
        }
        let office = Office::open(path, Box::new(NoKey), &ctx)?;
        let found = office.desk(ctx.clone()).exercise_state()?;
        let Some((incident, state)) = found else {
            return Err(Error::Database(format!(
                "{} is not an exercise database; exercise commands never touch a real register",
                path.display()
            )));
        };
        let scenario = state.scenario().map_err(ex_err)?;
        Ok(ExerciseDesk {
            office,
            ctx,
            incident,
            state,
            scenario,
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn state(&self) -> &ExerciseState {
        &self.state
    }

    /// The situation so far, the simulated clock and time left; `reveal` adds the engine's
    /// answer (for the facilitator).
    pub fn brief(&self, reveal: bool) -> Result<Brief> {
        exercise::brief(&self.scenario, self.state.stage, reveal).map_err(ex_err)
    }

    /// Writes the state (and the stage's facts and notices) in one audited transaction, at
    /// the stage's simulated date.
    fn save(&self, state: ExerciseState, action: Action, detail: String) -> Result<()> {
        let s = &self.scenario;
        let date = exercise::stage_date(s, state.stage);
        let facts = exercise::stage_facts(s, state.stage).map_err(ex_err)?;
        let notices = exercise::stage_notices(s, state.stage);
        let base = self.office.desk(self.ctx.clone());
        let desk: Desk = base.at(sim_now(date, &self.ctx), date);
        let plan = Plan {
            action,
            touch: true,
            refresh: true,
            expect: None,
            record: false,
        };
        desk.change_incident(&self.incident, plan, |e| {
            e.inc.facts = facts;
            e.inc.notices = notices;
            e.derived.exercise = Some(state);
            Ok(((), detail))
        })?;
        Ok(())
    }

    /// `exercise next`: the next inject; returns its stage.
    pub fn advance(&mut self) -> Result<usize> {
        let mut state = self.state.clone();
        let stage = state.advance(&self.scenario).map_err(ex_err)?;
        self.save(
            state.clone(),
            Action::ExerciseNext,
            format!("stage={stage}"),
        )?;
        self.state = state;
        Ok(stage)
    }

    /// `exercise decide`: records the room's decision; returns it.
    pub fn decide(&mut self, req: &RoomDecision) -> Result<Decision> {
        let mut state = self.state.clone();
        let stage = req.stage.unwrap_or(state.stage);
        let decision = Decision {
            stage,
            determination: req.determination,
            notices: req.notices.clone(),
            note: req.note.clone().unwrap_or_default(),
        };
        state
            .decide(&self.scenario, decision.clone())
            .map_err(ex_err)?;
        if let Some(n) = &req.note {
            state.note(n.clone());
        }
        let detail = format!(
            "stage={stage} determination={} notices={}",
            req.determination.map(|d| d.key()).unwrap_or("-"),
            decision.notices.len()
        );
        self.save(state.clone(), Action::ExerciseDecide, detail)?;
        self.state = state;
        Ok(decision)
    }

    /// `exercise note`: a discussion note at the current stage; returns the stage.
    pub fn note(&mut self, text: &str) -> Result<usize> {
        let mut state = self.state.clone();
        state.note(text);
        let stage = state.stage;
        self.save(
            state.clone(),
            Action::ExerciseNote,
            format!("stage={stage}"),
        )?;
        self.state = state;
        Ok(stage)
    }

    /// `exercise score`: every decision against the engine.
    pub fn score(&self) -> Result<Score> {
        exercise::score(&self.scenario, &self.state.decisions).map_err(ex_err)
    }

    /// `exercise report --html`: the after-action report.
    pub fn after_action_html(&self) -> Result<String> {
        exercise::after_action_html(&self.scenario, &self.state).map_err(ex_err)
    }
}

/// A scenario skeleton seeded from a record of HHS's public breach-portal list.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The scenario file's text.
    pub text: String,
    pub scenario_id: String,
    /// The line of the export the record came from.
    pub line: u64,
    /// Records read, and the issues reported while reading.
    pub records: usize,
    pub issues: Vec<String>,
}

/// `exercise from-ocr`: picks a record (by data row, or pseudo-randomly with a seed) and
/// writes a scenario skeleton, checked like any scenario.
pub fn seed_from_ocr(file: &Path, row: Option<usize>, seed: Option<u64>) -> Result<Seeded> {
    // A missing export is "not found", an unreadable one an I/O error, its content invalid.
    let (records, issues) = exercise::ocr::parse_all(file)?;
    if records.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no usable breach record",
            file.display()
        )));
    }
    let rec =
        exercise::ocr::pick(&records, row, seed).map_err(|e| Error::invalid(e.to_string()))?;
    let text = exercise::from_ocr(rec);
    let s = parse_scenario(&text, "seeded scenario")?;
    validate_scenario(&s)?;
    Ok(Seeded {
        scenario_id: s.id,
        line: rec.line,
        records: records.len(),
        issues: issues.iter().map(|i| i.to_string()).collect(),
        text,
    })
}
