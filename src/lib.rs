//! breachdesk: HIPAA breach response as a library; `main.rs` is a thin shell over it.
//!
//! Data flows intake → store → rules → letters → audit; see ARCHITECTURE.md.

pub mod domain;
pub mod intake;
pub mod rules;
pub mod store;
