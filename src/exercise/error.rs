//! Errors of the exercise core. Messages are lowercase, name the scenario (file or built-in
//! id), the line and the field or inject, and say how to fix it.

use chrono::NaiveDate;

fn at_line(line: &Option<usize>) -> String {
    line.map(|l| format!(", line {l}")).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExerciseError {
    /// The text is not TOML.
    #[error("{origin}, line {line}: not valid toml: {message}; fix the syntax on that line")]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    /// A field of the scenario (or of its `[facts]`) is unknown, missing or mistyped.
    #[error("{origin}{}, field `{path}`: {message}", at_line(.line))]
    Field {
        origin: String,
        line: Option<usize>,
        path: String,
        message: String,
    },
    /// A `set` path of an inject does not name a fact, or its value does not fit.
    #[error(
        "{origin}{}, inject {number} (`{title}`), set `{path}`: {message}; paths are dotted fact fields as in a facts file, e.g. \"individuals.by_state.CA\" or \"security.device_state\"",
        at_line(.line)
    )]
    InjectPath {
        origin: String,
        line: Option<usize>,
        /// 1-based.
        number: usize,
        title: String,
        path: String,
        message: String,
    },
    /// Inject dates must not go back in simulated time.
    #[error(
        "{origin}{}, inject {number} (`{title}`): dated {at}, before {before} ({limit}); injects are played in date order: date each inject on or after the start and the inject before it",
        at_line(.line)
    )]
    InjectOrder {
        origin: String,
        line: Option<usize>,
        number: usize,
        title: String,
        at: NaiveDate,
        /// "the start" or "inject N".
        before: String,
        limit: NaiveDate,
    },
    /// A scenario-level rule is broken (id, empty title, notice dated after its inject, …).
    #[error("{origin}{}: {message}", at_line(.line))]
    Invalid {
        origin: String,
        line: Option<usize>,
        message: String,
    },
    /// The facts in force at a stage fail the facts-file checks.
    #[error("{origin}, stage {stage} ({date}): {message}")]
    Stage {
        origin: String,
        stage: usize,
        date: NaiveDate,
        message: String,
    },
    #[error("stage {stage} does not exist: scenario `{id}` has stages 0 to {last}")]
    NoSuchStage {
        id: String,
        stage: usize,
        last: usize,
    },
    #[error("no built-in scenario `{id}`; available: {available}")]
    UnknownScenario { id: String, available: String },
    /// The exercise state does not belong to the scenario, or cannot be advanced.
    #[error("{0}")]
    State(String),
}
