//! The facilitator runs the room: start a scenario in the exercise database (never the real
//! register), project the brief, enter the room's decisions, move to the next inject,
//! score, and print the after-action report. One step at a time: the exercise database is
//! opened for each step and closed after it.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::desk::exercise::{
    ExerciseDesk, RoomDecision, StartExercise, builtin_scenario, library, start_exercise,
};
use crate::error::{Error, Result};
use crate::exercise::{Brief, DecidedNotice, ExerciseState, Scenario, Score};
use crate::rules::DeterminationClass;
use crate::web::auth::flash;
use crate::web::forms::Fields;
use crate::web::page::{WebError, csrf_field, date, document, page, see_other};
use crate::web::state::{AppState, CurrentUser};

type Page = std::result::Result<Response, WebError>;

/// Runs one exercise step (the exercise database is opened and closed inside), one at a
/// time, as the facilitator.
async fn step<T: Send + 'static>(
    state: &AppState,
    user: &CurrentUser,
    f: impl FnOnce(Option<ExerciseDesk>, &crate::desk::Context) -> Result<T> + Send + 'static,
) -> Result<T> {
    let st = state.clone();
    let ctx = state.context(Some(&user.name));
    tokio::task::spawn_blocking(move || {
        let _one = st
            .exercise
            .lock()
            .map_err(|_| Error::Storage("exercise lock poisoned".into()))?;
        let path = &st.config.exercise_db;
        let desk = if path.exists() {
            Some(ExerciseDesk::open(path, ctx.clone())?)
        } else {
            None
        };
        f(desk, &ctx)
    })
    .await
    .map_err(|e| Error::Storage(e.to_string()))?
}

struct Room {
    scenario: Scenario,
    state: ExerciseState,
    brief: Brief,
}

fn start_form(user: &CurrentUser, scenarios: &[(String, String, usize)], running: bool) -> Markup {
    html! {
        h2 { @if running { "Start another scenario" } @else { "Start a scenario" } }
        form.stack method="post" action="/exercise/start" {
            (csrf_field(user))
            label for="scenario" { "Scenario" }
            select id="scenario" name="scenario" {
                @for (id, title, injects) in scenarios { option value=(id) { (title) " (" (injects) " inject(s))" } }
            }
            @if running {
                label { input type="checkbox" name="replace" value="yes" required; " Replace the running exercise (its record is discarded with the exercise database)" }
            }
            button type="submit" { "Start" }
        }
    }
}

fn brief_body(b: &Brief, big: bool) -> Markup {
    html! {
        div class=(if big { "projector" } else { "brief" }) {
            p.watermark { "EXERCISE — NOT A REAL INCIDENT" }
            h1 { (b.title) }
            p.sub { (b.organization) " · stage " (b.stage) " of " (b.last_stage) " · simulated date " (b.date.format("%Y-%m-%d")) @if let Some(t) = &b.time { " " (t) } }
            @if let Some(c) = &b.countdown {
                p.countdown { "Discovered " (c.discovered.format("%Y-%m-%d")) ": day " (c.days_elapsed) " of 60 — " strong { (c.days_left) " day(s) left" } " (outer limit " (c.outer_limit.format("%Y-%m-%d")) ", 164.404(b))" }
            }
            @for s in &b.situation {
                section { h2 { (s.heading) " " span.small { (s.date.format("%Y-%m-%d")) } } p.pre { (s.text) } }
            }
            @if !b.facts.is_empty() {
                h2 { "Facts in force" }
                table.facts { @for (k, v) in &b.facts { tr { th { (k) } td { (v) } } } }
            }
            @if !b.questions.is_empty() {
                h2 { "For discussion" }
                ol { @for q in &b.questions { li { (q) } } }
            }
            @if let Some(r) = &b.reveal {
                section.reveal {
                    h2 { "The engine's answer" }
                    p { strong { (r.determination.label()) } " — " (r.reason) " [" (r.cite) "]" }
                    p.small { "Clock start " (date(r.clock_start)) ": " (r.clock_basis) }
                    table {
                        thead { tr { th { "Notice" } th { "Where" } th { "Due" } th { "Days left" } th { "Status" } th { "Basis" } } }
                        tbody { @for o in &r.obligations { tr { td { (o.kind.key()) } td { (o.jurisdiction.clone().unwrap_or_default()) } td { (date(o.due)) } td { (o.days_left.map(|d| d.to_string()).unwrap_or_default()) } td { (o.status) } td.small { (o.cite) } } } }
                    }
                }
            }
        }
    }
}

pub async fn index(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Page {
    let room = step(&state, &user, |desk, _| {
        Ok(match desk {
            None => None,
            Some(d) => Some(Room {
                brief: d.brief(false)?,
                scenario: d.scenario().clone(),
                state: d.state().clone(),
            }),
        })
    })
    .await?;
    let scenarios = library()?;
    let body = html! {
        h1 { "Tabletop exercise" }
        p.small { "Exercises run in their own database (" code { (state.config.exercise_db.display()) } "), with a simulated clock; nothing reaches the real register, boards or HHS logs." }
        @match &room {
            None => p { "No exercise is running." },
            Some(r) => {
                p { "Running: " strong { (r.scenario.title) } ", stage " (r.state.stage) " of " (r.scenario.injects.len()) ", " (r.state.decisions.len()) " decision(s) recorded." }
                p.noprint {
                    a.button href="/exercise/brief" { "Projector: the brief" } " "
                    a.button href="/exercise/brief?reveal=1" { "The brief with the engine's answer" } " "
                    a.button href="/exercise/score" { "Score" } " "
                    a.button href="/exercise/report" { "After-action report" }
                }
                h2 { "The room's decision at stage " (r.state.stage) }
                form.stack method="post" action="/exercise/decide" {
                    (csrf_field(&user))
                    label for="determination" { "Determination" }
                    select id="determination" name="determination" {
                        option value="" { "not decided" }
                        @for c in DeterminationClass::ALL { option value=(c.key()) { (c.label()) } }
                    }
                    label for="notices" { "Notices owed, one per line: KIND[:ST]=YYYY-MM-DD (e.g. individual=2026-11-13, media:PA=2026-11-13)" }
                    textarea id="notices" name="notices" rows="4" {}
                    label for="decision_note" { "Discussion note" }
                    input id="decision_note" name="note" type="text";
                    button type="submit" { "Record the decision" }
                }
                @if r.state.stage < r.scenario.injects.len() {
                    form.inline method="post" action="/exercise/next" {
                        (csrf_field(&user))
                        button type="submit" { "Next inject (" (r.state.stage + 1) " of " (r.scenario.injects.len()) ")" }
                    }
                } @else {
                    p { "Every inject has been played: score the room and print the after-action report." }
                }
                h2 { "The brief" }
                (brief_body(&r.brief, false))
            }
        }
        (start_form(&user, &scenarios, room.is_some()))
    };
    Ok(page("Exercise", &user, body).into_response())
}

#[derive(Deserialize, Default)]
pub struct BriefQuery {
    #[serde(default)]
    reveal: Option<String>,
}

/// The projector page: large type, only the brief.
pub async fn brief(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<BriefQuery>,
) -> Page {
    let reveal = q.reveal.is_some();
    let b = step(&state, &user, move |desk, _| {
        desk.ok_or_else(|| {
            Error::NotFound("no exercise is running; start one on the exercise page".into())
        })?
        .brief(reveal)
    })
    .await?;
    Ok(page("Exercise brief", &user, brief_body(&b, true)).into_response())
}

pub async fn start(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    f: Fields,
) -> Page {
    let id = f.get("scenario").to_string();
    let replace = f.get("replace") == "yes";
    let path = state.config.exercise_db.clone();
    let real = state.office.path().to_path_buf();
    let date = step(&state, &user, move |_, ctx| {
        let (scenario, text) = builtin_scenario(&id)?;
        start_exercise(
            StartExercise {
                scenario,
                text,
                path,
                real_db: real,
                force: replace,
            },
            ctx,
        )
    })
    .await?;
    flash(
        &session,
        format!(
            "Exercise started; simulated date {}.",
            date.format("%Y-%m-%d")
        ),
    )
    .await;
    Ok(see_other("/exercise"))
}

pub async fn next(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
) -> Page {
    let stage = step(&state, &user, |desk, _| {
        desk.ok_or_else(|| Error::NotFound("no exercise is running".into()))?
            .advance()
    })
    .await?;
    flash(&session, format!("Inject {stage} is in play.")).await;
    Ok(see_other("/exercise"))
}

pub async fn decide(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    f: Fields,
) -> Page {
    let determination = match f.opt("determination") {
        None => None,
        Some(k) => Some(
            DeterminationClass::from_key(k)
                .ok_or_else(|| Error::invalid("choose a determination"))?,
        ),
    };
    let notices = f
        .text("notices")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| DecidedNotice::parse(l).map_err(Error::invalid))
        .collect::<Result<Vec<_>>>()?;
    let note = f.opt("note").map(str::to_string);
    let req = RoomDecision {
        stage: None,
        determination,
        notices,
        note,
    };
    let d = step(&state, &user, move |desk, _| {
        desk.ok_or_else(|| Error::NotFound("no exercise is running".into()))?
            .decide(&req)
    })
    .await?;
    flash(
        &session,
        format!("Decision recorded for stage {}.", d.stage),
    )
    .await;
    Ok(see_other("/exercise"))
}

fn score_body(s: &Score) -> Markup {
    html! {
        h1 { "Score" }
        p.result { (s.correct) " of " (s.total) " right (" (format!("{:.0}", s.percent)) "%)" }
        table {
            thead { tr { th { "Stage" } th { "Question" } th { "The room said" } th { "The engine says" } th { "" } th { "Why" } } }
            tbody {
                @for i in &s.items {
                    tr class=(if i.correct { "ok" } else { "bad" }) {
                        td.num { (i.stage) } td { (i.question) } td { (i.answer_given) } td { (i.expected) }
                        td { (if i.correct { "right" } else { "wrong" }) }
                        td.small { (i.reason) " [" (i.cite) "]" }
                    }
                }
            }
        }
    }
}

pub async fn score(State(state): State<AppState>, Extension(user): Extension<CurrentUser>) -> Page {
    let s = step(&state, &user, |desk, _| {
        desk.ok_or_else(|| Error::NotFound("no exercise is running".into()))?
            .score()
    })
    .await?;
    Ok(page("Score", &user, score_body(&s)).into_response())
}

pub async fn report(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Page {
    let html = step(&state, &user, |desk, _| {
        desk.ok_or_else(|| Error::NotFound("no exercise is running".into()))?
            .after_action_html()
    })
    .await?;
    Ok(document(html))
}
