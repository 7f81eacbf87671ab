//! breachdesk: HIPAA breach response as a library; `main.rs` is a thin shell over it.
//!
//! Data flows intake → store → rules → letters → audit; see ARCHITECTURE.md.

pub mod audit;
pub mod cli;
pub mod desk;
pub mod domain;
pub mod error;
pub mod exercise;
pub mod files;
pub mod ics;
pub mod intake;
pub mod laws;
pub mod letters;
pub mod rules;
pub mod store;
pub mod web;
