//! Facts files (`incident new --from`, `evaluate`): parse, validate, then run the whole
//! engine for both roles and both delay policies and explain the result. Nothing may panic.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::facts_toml(data));
