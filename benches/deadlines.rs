//! Times `breachdesk deadlines` over a database of 10,000 incidents, against
//! `breachdesk incident list` over the same database (the cost of reading without the
//! rules engine), in the same run.
//!
//! Run: `cargo bench --bench deadlines`.

mod common;

use std::process::Command;

use breachdesk::domain::{Facts, LawEnforcementStatement, StatementKind};

const INCIDENTS: u32 = 10_000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("deadlines.redb");
    let store = common::new_db(&db);
    let base = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    // Varied facts: counts across the 500 line, several States, BAs, delays.
    let incidents: Vec<_> = (1..=INCIDENTS)
        .map(|i| {
            let mut f = Facts {
                title: format!("Bench incident {i}"),
                ..Facts::default()
            };
            f.breach.discovered = Some(base + chrono::Days::new((i % 170) as u64));
            f.individuals.estimated_total = Some((i as u64 * 37) % 2_000);
            f.individuals
                .by_state
                .insert("CA".into(), (i as u64 * 13) % 900);
            f.individuals
                .by_state
                .insert("NV".into(), (i as u64 * 7) % 700);
            f.individuals.unreachable = (i as u64) % 15;
            f.individuals.deceased_with_nok = (i as u64) % 3;
            if i % 5 == 0 {
                f.business_associate.involved = true;
                f.business_associate.relationship =
                    Some(breachdesk::domain::BaRelationship::IndependentContractor);
                f.business_associate.notified_ce = f.breach.discovered;
            }
            if i % 11 == 0 {
                f.law_enforcement.push(LawEnforcementStatement {
                    kind: StatementKind::Oral,
                    date: base + chrono::Days::new(200),
                    until: None,
                    agency: "FBI".into(),
                    official: "SA Bench".into(),
                });
            }
            common::incident(i, f)
        })
        .collect();
    breachdesk::store::bulk::load_incidents(&store, &common::actor(), &incidents).expect("load");
    drop(store);
    let run = |args: &[&str]| {
        common::best(5, || {
            common::time(
                Command::new(common::bin())
                    .env("BREACHDESK_NOW", "2026-11-22")
                    .arg("--db")
                    .arg(&db)
                    .args(args),
            )
        })
    };
    let deadlines = run(&["deadlines", "--all", "--json"]);
    let list = run(&["incident", "list", "--json"]);
    println!("deadlines over {INCIDENTS} incidents (best of 5, JSON output):");
    println!(
        "  breachdesk deadlines --all : {:>8.3} s ({:.1} µs per incident)",
        deadlines.as_secs_f64(),
        deadlines.as_secs_f64() * 1e6 / INCIDENTS as f64
    );
    println!(
        "  breachdesk incident list   : {:>8.3} s (same database, no rules engine)",
        list.as_secs_f64()
    );
    println!(
        "  ratio deadlines / list     : {:>8.2}x",
        common::ratio(deadlines, list)
    );
}
