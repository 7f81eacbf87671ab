//! The web front end: `breachdesk serve`. One process owns the database (an
//! [`Office`](crate::desk::Office), unlocked once at start-up) and serves the privacy office
//! over HTTP(S): server-rendered pages that work without JavaScript, people who sign in,
//! roles that decide every route.
//!
//! Shape (axum): a request passes the security-headers layer, the session layer, the CSRF
//! check of every state-changing request (`csrf.rs`), then its route's authorization layer
//! (`auth.rs`, from the one route table in `routes.rs`); the handler turns its input into a
//! typed desk request, calls the desk on a blocking thread (`state.rs`) and renders the
//! result (`pages/`). Handlers hold no database code and no permission checks.
//!
//! This file only declares and re-exports.

mod auth;
mod config;
mod csrf;
mod forms;
mod jobs;
mod page;
mod pages;
mod routes;
mod server;
mod session;
mod state;

pub use config::ServeConfig;
pub use routes::{RouteInfo, route_table};
pub use server::{app, serve};
pub use state::AppState;

#[cfg(test)]
mod tests;
