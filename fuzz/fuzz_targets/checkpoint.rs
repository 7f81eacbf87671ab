//! Audit checkpoints (`audit verify --against FILE`): parse, check the signature with and
//! without a trusted key, compare with a chain.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::checkpoint(data));
