//! `--set path=value` (incident new/update, assess): each input line is one assignment,
//! applied in turn to facts; whatever is accepted must still evaluate.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::set_path(data));
