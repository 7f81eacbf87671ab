#![allow(clippy::unwrap_used)]

//! One integration-test binary: runs the real `breachdesk` executable against fresh
//! temporary databases with the clock pinned (BREACHDESK_NOW; the databases are created with
//! `init --pinned-clock`), and on copies of the release-0.1 fixture (a real register: system
//! clock).

mod audit;
mod browser;
mod common;
mod compat;
mod engine;
mod evidence;
mod exercise;
mod fuzz_seeds;
mod hostile;
mod incident;
mod layering;
mod letters;
mod phi;
mod print;
mod roster;
mod roster_data;
mod roster_sealing;
mod serve;
mod states;
mod users;
