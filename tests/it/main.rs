#![allow(clippy::unwrap_used)]

//! One integration-test binary: runs the real `breachdesk` executable against fresh
//! temporary databases with the clock pinned (BREACHDESK_NOW).

mod audit;
mod common;
mod compat;
mod engine;
mod exercise;
mod fuzz_seeds;
mod hostile;
mod incident;
mod layering;
mod letters;
mod roster;
