//! Tabletop exercises on the real rules engine, with a simulated clock.
//!
//! A facilitator walks a room through a scenario; new facts ("injects") arrive in
//! simulated time and the room decides at each stage: is it a breach, who must be told,
//! by when. The answer key is never written by hand: it is [`crate::rules::evaluate`] on
//! the facts in force at the stage, with `today` = the stage's simulated date. Everything
//! here is pure: no database, no clock.
//!
//! # Scenario file format (TOML, unknown keys rejected)
//!
//! ```toml
//! id = "laptop-encrypted-off"          # lowercase letters, digits, hyphens
//! title = "Stolen encrypted laptop"
//! briefing = """What the room is told at the start (no real patient data)."""
//! start = 2026-03-02T08:30:00          # simulated start: a date or a local date-time
//! questions = ["Is this a breach?", "Who must be told, by when?"]   # stage 0
//!
//! [organization]                       # builds a domain::Organization
//! legal_name = "Riverbend Community Health"
//! role = "covered_entity"              # or "business_associate"
//! entity_type = "healthcare_provider"  # health_plan, healthcare_clearing_house, business_associate
//! toll_free = "1-800-555-0142"         # also: address, privacy_officer, email, website,
//! time_zone = "America/Chicago"        #   postal_address, serves, le_policy
//! le_policy = "later_of"               # or "extend_by_delay" (164.412, policy choice)
//!
//! [facts]                              # a full facts file (domain::Facts): stage 0
//! title = "Stolen laptop, cardiology"
//! [facts.breach]
//! discovered = 2026-03-01
//! [facts.individuals]
//! by_state = { IL = 1240 }
//!
//! [[inject]]                           # stage 1, 2, … in date order
//! at = 2026-03-03                      # on or after start and the previous inject
//! title = "Device logs"
//! told = "What the room is told."
//! questions = ["Does this change the determination?"]
//! [inject.set]                         # dotted fact paths → new values
//! "security.device_state" = "off"
//! "individuals.by_state.IL" = 1241
//! "law_enforcement" = [{ kind = "oral", date = 2026-03-03, official = "Det. A. Ruiz" }]
//! [[inject.notices]]                   # notices sent in simulated time
//! kind = "individual"                  # an ObligationKind key
//! date = 2026-03-03                    # on or before the inject's date
//! method = "mail"
//! count = 1240
//! ```
//!
//! `set` paths are applied through the facts' TOML form (as `--set` is), so every fact is
//! reachable, a whole table or array can be replaced (`"law_enforcement" = [...]`), and a
//! path that names no fact is refused with the inject and the path. Array elements are not
//! addressed by index: set the whole array. Returned mail is modelled by raising
//! `individuals.unreachable`.
//!
//! Stages: stage 0 is `[facts]` on the start date; stage k is after k injects, on the date
//! of inject k. [`expected`] evaluates a stage with the organization's role and
//! law-enforcement policy, counts from the facts' estimates ([`crate::domain::Counts::from_facts`]),
//! the notices recorded by the injects so far, and `last_in_effect` = the stage date.
//!
//! See `src/exercise/scenarios/README.md` for the built-in library.

pub mod error;
pub mod library;
pub mod ocr;
pub mod report;
pub mod scenario;
pub mod score;
pub mod seed;
pub mod session;

#[cfg(test)]
mod tests;

pub use error::ExerciseError;
pub use library::{builtin, load_builtin};
pub use report::{MissedDeadline, after_action_html, missed_deadlines};
pub use scenario::{
    Inject, InjectNotice, Scenario, ScenarioOrg, SimStart, expected, parse_scenario, stage_date,
    stage_facts, stage_notices, validate,
};
pub use score::{DecidedNotice, Decision, Score, ScoreItem, perfect_answers, score};
pub use seed::from_ocr;
pub use session::{Brief, ExerciseState, brief};
