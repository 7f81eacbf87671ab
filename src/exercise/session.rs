//! A running exercise ([`ExerciseState`], persisted by the CLI as JSON) and the brief
//! projected in the room at each stage ([`brief`]).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::vocab::state_name;
use crate::domain::{BaRelationship, Facts, ObligationKind, StatementKind};
use crate::rules::DeterminationClass;
use crate::rules::calendar::{days_between, sixty_days};
use crate::rules::explain::status_text;

use super::error::ExerciseError;
use super::scenario::{Scenario, expected, parse_scenario, stage_date, stage_facts, stage_notices};
use super::score::{Decision, required};

/// The state of a running exercise. `scenario_text` keeps the scenario itself, so an
/// exercise started from a file survives the file being moved or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseState {
    pub scenario_id: String,
    pub scenario_text: String,
    /// The current stage (0 = briefing).
    pub stage: usize,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// Discussion notes: (stage, text).
    #[serde(default)]
    pub notes: Vec<(usize, String)>,
}

impl ExerciseState {
    /// A new exercise at stage 0. `text` must be the text `scenario` was parsed from.
    pub fn new(scenario: &Scenario, text: &str) -> ExerciseState {
        ExerciseState {
            scenario_id: scenario.id.clone(),
            scenario_text: text.to_string(),
            stage: 0,
            decisions: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The scenario, parsed again from the stored text; its id must match.
    pub fn scenario(&self) -> Result<Scenario, ExerciseError> {
        let s = parse_scenario(
            &self.scenario_text,
            &format!("exercise state ({})", self.scenario_id),
        )?;
        if s.id != self.scenario_id {
            return Err(ExerciseError::State(format!(
                "the exercise state is for scenario `{}` but its stored scenario text has id `{}`; start the exercise again",
                self.scenario_id, s.id
            )));
        }
        Ok(s)
    }

    /// Moves to the next stage; returns it.
    pub fn advance(&mut self, s: &Scenario) -> Result<usize, ExerciseError> {
        if self.stage >= s.last_stage() {
            return Err(ExerciseError::State(format!(
                "the exercise is at its last stage ({}); write the after-action report",
                s.last_stage()
            )));
        }
        self.stage += 1;
        Ok(self.stage)
    }

    /// Records the room's decision; its stage must have been reached.
    pub fn decide(&mut self, s: &Scenario, d: Decision) -> Result<(), ExerciseError> {
        s.check_stage(d.stage)?;
        if d.stage > self.stage {
            return Err(ExerciseError::State(format!(
                "stage {} has not been reached (the exercise is at stage {}); advance first",
                d.stage, self.stage
            )));
        }
        self.decisions.push(d);
        Ok(())
    }

    /// Records a discussion note at the current stage.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push((self.stage, text.into()));
    }
}

/// One entry of "the situation so far".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SituationEntry {
    pub date: NaiveDate,
    pub heading: String,
    pub text: String,
}

/// The 60-day countdown from the recorded discovery date, 164.404(b). It reveals nothing
/// about the determination or about which notices are owed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Countdown {
    pub discovered: NaiveDate,
    pub outer_limit: NaiveDate,
    pub days_elapsed: i64,
    pub days_left: i64,
}

/// An obligation as shown on a revealed brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BriefObligation {
    pub kind: ObligationKind,
    pub jurisdiction: Option<String>,
    pub due: Option<NaiveDate>,
    /// From the simulated date; negative when past due.
    pub days_left: Option<i64>,
    pub status: String,
    pub cite: String,
    pub note: String,
}

/// The engine's full answer, shown only with `reveal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revealed {
    pub determination: DeterminationClass,
    pub reason: String,
    pub cite: String,
    pub clock_start: Option<NaiveDate>,
    pub clock_basis: String,
    pub delay: Option<String>,
    pub obligations: Vec<BriefObligation>,
}

/// What the room sees at a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Brief {
    pub scenario_id: String,
    pub title: String,
    pub organization: String,
    pub stage: usize,
    pub last_stage: usize,
    pub date: NaiveDate,
    /// Time of day, at stage 0 when the start gives one.
    pub time: Option<String>,
    pub situation: Vec<SituationEntry>,
    /// Facts in force, as (label, value) lines.
    pub facts: Vec<(String, String)>,
    pub questions: Vec<String>,
    pub countdown: Option<Countdown>,
    pub reveal: Option<Revealed>,
}

/// The brief at `stage`. Without `reveal` it shows the situation, the facts in force and
/// the 60-day countdown from discovery only; with `reveal` it adds the engine's answer.
pub fn brief(s: &Scenario, stage: usize, reveal: bool) -> Result<Brief, ExerciseError> {
    let facts = stage_facts(s, stage)?;
    let date = stage_date(s, stage);
    let mut situation = vec![SituationEntry {
        date: s.start.date,
        heading: "Briefing".into(),
        text: s.briefing.trim().to_string(),
    }];
    for (i, inj) in s.injects.iter().take(stage).enumerate() {
        situation.push(SituationEntry {
            date: inj.at,
            heading: format!("Inject {}: {}", i + 1, inj.title),
            text: inj.told.trim().to_string(),
        });
    }
    let discovered = crate::rules::discovery::discover(&facts, s.organization.role).date;
    let countdown = discovered.map(|d| {
        let limit = sixty_days(d);
        Countdown {
            discovered: d,
            outer_limit: limit,
            days_elapsed: days_between(d, date),
            days_left: days_between(date, limit),
        }
    });
    let mut fact_lines = fact_summary(&facts, discovered);
    let sent = stage_notices(s, stage);
    if !sent.is_empty() {
        let list = sent
            .iter()
            .map(|n| {
                let place = n
                    .jurisdiction
                    .as_deref()
                    .map(|j| format!(" ({j})"))
                    .unwrap_or_default();
                format!(
                    "{}{place} on {}, {} recipient(s)",
                    n.kind.key(),
                    n.date,
                    n.count
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        fact_lines.push(("Notices sent".into(), list));
    }
    let reveal = if reveal {
        let ev = expected(s, stage)?;
        let (reason, cite) = match ev.engine.decisive() {
            Some(r) => (r.text.clone(), r.cite.clone()),
            None => (String::new(), ev.effective_class.cite().to_string()),
        };
        Some(Revealed {
            determination: ev.effective_class,
            reason,
            cite,
            clock_start: ev.clock.date,
            clock_basis: ev.clock.basis.clone(),
            delay: ev.delay.as_ref().map(|d| {
                format!(
                    "law-enforcement delay {} ({})",
                    d.describe_periods(),
                    ev.policy.describe()
                )
            }),
            obligations: required(&ev)
                .chain(ev.obligations.iter().filter(|o| {
                    o.kind == ObligationKind::UrgentPhoneOptional && o.status.is_required()
                }))
                .map(|o| BriefObligation {
                    kind: o.kind,
                    jurisdiction: o.jurisdiction.clone(),
                    due: o.due,
                    days_left: o.due.map(|d| days_between(date, d)),
                    status: status_text(&o.status),
                    cite: o.cite.clone(),
                    note: o.note.clone(),
                })
                .collect(),
        })
    } else {
        None
    };
    Ok(Brief {
        scenario_id: s.id.clone(),
        title: s.title.clone(),
        organization: s.organization.legal_name.clone(),
        stage,
        last_stage: s.last_stage(),
        date,
        time: (stage == 0)
            .then(|| s.start.time.map(|t| t.format("%H:%M").to_string()))
            .flatten(),
        situation,
        facts: fact_lines,
        questions: s.questions_at(stage).to_vec(),
        countdown,
        reveal,
    })
}

fn labels<T: fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The facts in force, in plain words (no conclusions).
fn fact_summary(f: &Facts, discovered: Option<NaiveDate>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let b = &f.breach;
    let mut push = |k: &str, v: String| out.push((k.to_string(), v));
    push(
        "Discovered",
        discovered
            .map(|d| d.to_string())
            .unwrap_or_else(|| "not yet established".into()),
    );
    if let Some(d) = b.start {
        push("Breach began", d.to_string());
    }
    if !b.types.is_empty() {
        push("Type", labels(&b.types));
    }
    if !b.locations.is_empty() {
        push("Where", labels(&b.locations));
    }
    if !b.phi.is_empty() {
        push("Information involved", labels(&b.phi));
    }
    let i = &f.individuals;
    let counts = crate::domain::Counts::from_facts(i);
    let mut who = if counts.total == 0 {
        "not yet known".to_string()
    } else {
        format!("{} (estimate)", counts.total)
    };
    if !i.by_state.is_empty() {
        let states = i
            .by_state
            .iter()
            .map(|(k, n)| format!("{} {n}", state_name(k)))
            .collect::<Vec<_>>()
            .join(", ");
        who.push_str(&format!("; residents by State: {states}"));
    }
    push("Individuals", who);
    if i.unreachable > 0 {
        push(
            "Out-of-date contact information",
            format!("{} individual(s)", i.unreachable),
        );
    }
    if i.deceased_with_nok + i.deceased_without_nok > 0 {
        push(
            "Deceased",
            format!(
                "{} with a next-of-kin address, {} without",
                i.deceased_with_nok, i.deceased_without_nok
            ),
        );
    }
    let sec = &f.security;
    let mut enc = if sec.encrypted {
        format!(
            "encrypted{}",
            if sec.encryption_method.trim().is_empty() {
                String::new()
            } else {
                format!(" ({})", sec.encryption_method.trim())
            }
        )
    } else {
        "not encrypted".to_string()
    };
    if let Some(ds) = sec.device_state {
        enc.push_str(&format!("; device state: {}", ds.label()));
    }
    if sec.key_compromised {
        enc.push_str("; key compromised");
    }
    if let Some(d) = sec.destruction {
        enc.push_str(&format!("; destruction: {}", d.label()));
    }
    push("Security", enc);
    let ba = &f.business_associate;
    if ba.involved {
        let rel = match ba.relationship {
            Some(BaRelationship::Agent) => "agent",
            Some(BaRelationship::IndependentContractor) => "independent contractor",
            None => "relationship not yet determined",
        };
        let mut v = format!(
            "{} ({rel})",
            if ba.name.is_empty() { "yes" } else { &ba.name }
        );
        if let Some(d) = ba.discovered {
            v.push_str(&format!("; it discovered the breach on {d}"));
        }
        if let Some(d) = ba.notified_ce {
            v.push_str(&format!("; it notified the covered entity on {d}"));
        }
        push("Business associate", v);
    }
    for le in &f.law_enforcement {
        let kind = match le.kind {
            StatementKind::Oral => "oral",
            StatementKind::Written => "written",
        };
        let mut v = format!("{kind} statement of {}", le.date);
        for part in [&le.official, &le.agency] {
            if !part.trim().is_empty() {
                v.push_str(&format!(", {}", part.trim()));
            }
        }
        if let Some(u) = le.until {
            v.push_str(&format!(", asks for a delay until {u}"));
        }
        push("Law enforcement", v);
    }
    out
}

/// Word-wraps `text` at `width`, each line indented by `indent`.
pub(crate) fn wrap(text: &str, width: usize, indent: &str) -> String {
    hang(text, width, indent, indent)
}

/// Word-wraps with a hanging indent: `first` before the first line, `rest` before the others.
fn hang(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut indent = first;
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let len = indent.chars().count() + line.chars().count() + 1 + word.chars().count();
            if !line.is_empty() && len > width {
                out.push_str(indent);
                out.push_str(&line);
                out.push('\n');
                line.clear();
                indent = rest;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
        indent = rest;
    }
    out
}

const WIDTH: usize = 88;

impl fmt::Display for Brief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "=".repeat(WIDTH);
        writeln!(f, "{rule}")?;
        writeln!(f, "EXERCISE — NOT A REAL NOTICE")?;
        writeln!(f, "{} [{}]", self.title, self.scenario_id)?;
        writeln!(f, "{}", self.organization)?;
        let time = self
            .time
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default();
        writeln!(
            f,
            "Stage {} of {} — simulated date {}{time}",
            self.stage, self.last_stage, self.date
        )?;
        writeln!(f, "{rule}")?;

        writeln!(f, "\nSITUATION SO FAR")?;
        for e in &self.situation {
            writeln!(f, "  {}  {}", e.date, e.heading)?;
            write!(f, "{}", wrap(&e.text, WIDTH, "      "))?;
        }

        writeln!(f, "\nFACTS IN FORCE")?;
        for (k, v) in &self.facts {
            write!(f, "{}", hang(&format!("{k}: {v}"), WIDTH, "  ", "      "))?;
        }

        writeln!(
            f,
            "\nCLOCK (60 calendar days from discovery, 45 CFR 164.404(b))"
        )?;
        match &self.countdown {
            Some(c) if c.days_left >= 0 => {
                writeln!(
                    f,
                    "  Discovered {}: day {} of 60; outer limit {}; {} day(s) left",
                    c.discovered, c.days_elapsed, c.outer_limit, c.days_left
                )?;
                writeln!(
                    f,
                    "  The standard is \"without unreasonable delay\": 60 days is the outer limit."
                )?;
            }
            Some(c) => {
                writeln!(
                    f,
                    "  Discovered {}: day {}; the 60-day outer limit {} passed {} day(s) ago",
                    c.discovered, c.days_elapsed, c.outer_limit, -c.days_left
                )?;
                writeln!(
                    f,
                    "  (unless a law-enforcement delay or a later clock start applies: decide which)."
                )?;
            }
            None => writeln!(
                f,
                "  Discovery date not yet established: the clock cannot be shown."
            )?,
        }

        writeln!(f, "\nQUESTIONS FOR THE ROOM")?;
        if self.questions.is_empty() {
            writeln!(f, "  (none for this stage)")?;
        }
        for (i, q) in self.questions.iter().enumerate() {
            let first = format!("  {}. ", i + 1);
            let body = wrap(q, WIDTH, "     ");
            write!(f, "{first}{}", body.trim_start())?;
        }

        match &self.reveal {
            None => {
                writeln!(
                    f,
                    "\n(The engine's answer is hidden until the room has decided: brief with reveal.)"
                )?;
            }
            Some(r) => {
                writeln!(f, "\nENGINE ANSWER (45 CFR 164.400–414)")?;
                writeln!(
                    f,
                    "  Determination: {} [{}]",
                    r.determination.label(),
                    r.determination.key()
                )?;
                write!(
                    f,
                    "{}",
                    wrap(&format!("Why: {} ({})", r.reason, r.cite), WIDTH, "  ")
                )?;
                let start = r
                    .clock_start
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "not recorded".into());
                write!(
                    f,
                    "{}",
                    wrap(
                        &format!("Clock start {start}: {}", r.clock_basis),
                        WIDTH,
                        "  "
                    )
                )?;
                if let Some(d) = &r.delay {
                    write!(f, "{}", wrap(d, WIDTH, "  "))?;
                }
                if r.obligations.is_empty() {
                    writeln!(f, "  No notice is required.")?;
                }
                for o in &r.obligations {
                    let place = o
                        .jurisdiction
                        .as_deref()
                        .map(|j| format!(" ({j})"))
                        .unwrap_or_default();
                    let due = o
                        .due
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "no date".into());
                    let left = o
                        .days_left
                        .map(|n| format!(", {n} day(s) left"))
                        .unwrap_or_default();
                    writeln!(
                        f,
                        "  - {}{place}: due {due}{left}; {} [{}]",
                        o.kind.key(),
                        o.status,
                        o.cite
                    )?;
                    write!(f, "{}", wrap(&o.note, WIDTH, "      "))?;
                }
            }
        }
        Ok(())
    }
}
