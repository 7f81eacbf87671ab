//! HHS OCR breach-portal exports (`exercise from-ocr`): read every row, and seed a scenario
//! skeleton from every record that reads.
#![no_main]

#[path = "bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::ocr_csv(data));
