//! The built-in scenario library, embedded at compile time from
//! `src/exercise/scenarios/*.toml` (see the README there).

use super::error::ExerciseError;
use super::scenario::{Scenario, parse_scenario};

const LIBRARY: &[(&str, &str)] = &[
    (
        "laptop-encrypted-off",
        include_str!("scenarios/laptop-encrypted-off.toml"),
    ),
    (
        "laptop-encrypted-logged-in",
        include_str!("scenarios/laptop-encrypted-logged-in.toml"),
    ),
    (
        "workforce-snooping",
        include_str!("scenarios/workforce-snooping.toml"),
    ),
    (
        "fax-to-covered-entity",
        include_str!("scenarios/fax-to-covered-entity.toml"),
    ),
    (
        "fax-to-unbound-business",
        include_str!("scenarios/fax-to-unbound-business.toml"),
    ),
    (
        "ransomware-exfiltration-unknown",
        include_str!("scenarios/ransomware-exfiltration-unknown.toml"),
    ),
    (
        "ba-agent-vs-contractor",
        include_str!("scenarios/ba-agent-vs-contractor.toml"),
    ),
    (
        "state-500-vs-501",
        include_str!("scenarios/state-500-vs-501.toml"),
    ),
    (
        "law-enforcement-oral-then-written",
        include_str!("scenarios/law-enforcement-oral-then-written.toml"),
    ),
    (
        "returned-mail-9-vs-10",
        include_str!("scenarios/returned-mail-9-vs-10.toml"),
    ),
    (
        "december-leap-year-annual-log",
        include_str!("scenarios/december-leap-year-annual-log.toml"),
    ),
    (
        "count-revised-past-500",
        include_str!("scenarios/count-revised-past-500.toml"),
    ),
    (
        "texas-ag-249-vs-250",
        include_str!("scenarios/texas-ag-249-vs-250.toml"),
    ),
];

/// Every built-in scenario as (id, TOML text), in teaching order.
pub fn builtin() -> Vec<(&'static str, &'static str)> {
    LIBRARY.to_vec()
}

/// Parses a built-in scenario by id (origin `builtin:<id>`).
pub fn load_builtin(id: &str) -> Result<Scenario, ExerciseError> {
    let (_, text) =
        LIBRARY
            .iter()
            .find(|(k, _)| *k == id)
            .ok_or_else(|| ExerciseError::UnknownScenario {
                id: id.to_string(),
                available: LIBRARY
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
    parse_scenario(text, &format!("builtin:{id}"))
}
