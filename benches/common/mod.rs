//! Shared helpers for the benchmarks (each is a `harness = false` binary run by
//! `cargo bench --bench NAME`).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use breachdesk::desk::{ClockMarker, ClockSource, Context, NewEncryption, NoKey, Office, Who};
use breachdesk::domain::{Facts, Incident, IncidentId, IncidentStatus};
use breachdesk::store::{Actor, Store};

/// The benchmarks' caller: a pinned clock, on databases created for it.
pub fn context() -> Context {
    let a = actor();
    Context {
        who: a.who,
        now: a.now,
        clock: a.clock,
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_breachdesk")
}

pub fn actor() -> Actor {
    Actor {
        who: Who::cli("bench", None, None),
        now: chrono::DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .expect("valid")
            .with_timezone(&chrono::Utc),
        clock: ClockSource::Pinned,
    }
}

/// Runs a command with stdout discarded; returns wall time. Panics on failure.
pub fn time(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let st = cmd.stdout(Stdio::null()).status().expect("run");
    let d = t.elapsed();
    assert!(st.success(), "{cmd:?} failed: {st}");
    d
}

/// Best of `n` runs.
pub fn best(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..n).map(|_| f()).min().expect("n > 0")
}

/// A plain (unencrypted) database with an organization.
/// A new unencrypted database for "Bench Health", made by `init`'s own code path.
pub fn new_db(path: &Path) -> Store {
    let org = breachdesk::domain::Organization {
        legal_name: "Bench Health".into(),
        role: breachdesk::domain::Role::CoveredEntity,
        entity_type: breachdesk::domain::vocab::EntityType::HealthcareProvider,
        serves: vec![],
        address: String::new(),
        privacy_officer: String::new(),
        toll_free: "1-800-555-0100".into(),
        email: "privacy@bench.example".into(),
        website: String::new(),
        postal_address: String::new(),
        time_zone: "UTC".into(),
        le_policy: Default::default(),
        business_days: Default::default(),
        weak_passphrase: false,
    };
    drop(
        Office::create(
            path,
            &org,
            NewEncryption::Off,
            ClockMarker::Pinned,
            &context(),
            Box::new(NoKey),
        )
        .expect("init"),
    );
    Store::open(path).expect("open")
}

pub fn incident(i: u32, facts: Facts) -> Incident {
    let now = actor().now;
    Incident {
        id: IncidentId::new(2026, i),
        created: now,
        updated: now,
        status: IncidentStatus::Investigating,
        disposition: None,
        disposition_note: String::new(),
        close_rationale: None,
        exercise: false,
        facts,
        timeline: vec![],
        notices: vec![],
    }
}

pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
