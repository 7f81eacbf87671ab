//! Roster CSV (`roster import`): any bytes, with and without a `--map` override, must give
//! rows, rejected rows or one fatal error, never a panic, and no message may echo a value.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::roster_csv(data));
