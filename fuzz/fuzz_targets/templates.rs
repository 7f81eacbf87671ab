//! Counsel's template sets (`letters check DIR`, `letters templates set DIR`, `letters
//! render --templates DIR`): the input is split into up to four templates, which replace
//! the individual, next-of-kin and substitute ones (text and HTML), then the whole set is
//! compiled and checked (rendered against the sample data). Recursive partials, deep
//! nesting and bad syntax must be refused, never overflow the stack.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::templates(data));
