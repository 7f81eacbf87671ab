//! Tabletop scenario files (`exercise start --file`, `exercise validate`): parse, then the
//! full validation, which runs the engine on every stage, and the brief of every stage.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::scenario_toml(data));
