//! The fuzz targets' bodies, shared by the libFuzzer targets (`fuzz/fuzz_targets/*.rs`) and
//! by the integration test that replays every seed and regression input on each
//! `cargo test` (`tests/it/fuzz_seeds.rs`). Each takes any bytes and must not panic.

#![allow(dead_code)]

use std::collections::BTreeMap;

use breachdesk::audit::checkpoint::{self, Checkpoint};
use breachdesk::domain::{Counts, Facts, LePolicy, Role};
use breachdesk::exercise::{self, ocr};
use breachdesk::intake::facts::{self, parse_facts, validate};
use breachdesk::intake::roster_csv::{Field, RosterOptions, RosterReader};
use breachdesk::letters;
use breachdesk::rules::{self, EngineInput};
use chrono::NaiveDate;

const CANARY: &str = "Zq9Canary";
/// Roster CSV (`roster import`): any bytes, with and without a `--map` override, must give
/// rows, rejected rows or one fatal error, never a panic, and no message may echo a value.
pub fn roster_csv(data: &[u8]) {
    // Small limits, so the size checks are reached on small inputs too.
    let options = RosterOptions {
        max_field_bytes: 64,
        max_record_bytes: 4096,
    };
    for overrides in [vec![], vec![("mrn".to_string(), Field::Id)]] {
        let Ok(mut reader) = RosterReader::with_options(data, &overrides, options) else {
            continue;
        };
        let mut rows = 0u64;
        loop {
            match reader.next_row() {
                Ok(Some(Ok(row))) => {
                    rows += 1;
                    let _ = (row.reachable(), row.nok_contact_known(), row.display_name());
                }
                Ok(Some(Err(issue))) => {
                    assert!(issue.line >= 1, "line numbers are 1-based");
                    assert!(
                        !issue.to_string().contains(CANARY),
                        "a value leaked: {issue}"
                    );
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(!e.to_string().contains(CANARY), "a value leaked: {e}");
                    break;
                }
            }
        }
        assert!(rows <= data.len() as u64);
        assert!(reader.bytes_read() <= data.len() as u64 + 1);
    }
}

/// Facts files (`incident new --from`, `evaluate`): parse, validate, then run the whole
/// engine for both roles and both delay policies and explain the result. Nothing may panic.
pub fn facts_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(facts) = parse_facts(text, "fuzz.toml") else {
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
    let valid = validate(&facts, today).is_ok();
    // The engine must be total on any parsed facts, valid or not.
    let counts = Counts::from_facts(&facts.individuals);
    for role in [Role::CoveredEntity, Role::BusinessAssociate] {
        for policy in [LePolicy::LaterOf, LePolicy::ExtendByDelay] {
            let input = EngineInput {
                facts: &facts,
                role: facts.organization.role.unwrap_or(role),
                counts: &counts,
                notices: &[],
                policy,
                override_class: None,
                last_in_effect: today,
            };
            let ev = rules::evaluate(&input, today);
            let _ = rules::explain(&ev);
            if valid {
                // Every deadline is on or after the clock start (164.404, 164.412).
                if let Some(start) = ev.clock.date {
                    for o in &ev.obligations {
                        if let Some(due) = o.due {
                            assert!(due >= start, "{} due {due} before {start}", o.kind);
                        }
                    }
                }
            }
        }
    }
}

/// `--set path=value` (incident new/update, assess): each input line is one assignment,
/// applied in turn to facts; whatever is accepted must still evaluate.
pub fn set_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut f = Facts::default();
    for line in text.lines().take(32) {
        let _ = facts::set_path(&mut f, line);
    }
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
    let _ = validate(&f, today);
    let counts = Counts::from_facts(&f.individuals);
    let input = EngineInput {
        facts: &f,
        role: Role::CoveredEntity,
        counts: &counts,
        notices: &[],
        policy: LePolicy::ExtendByDelay,
        override_class: None,
        last_in_effect: today,
    };
    let _ = rules::explain(&rules::evaluate(&input, today));
}

/// Tabletop scenario files (`exercise start --file`, `exercise validate`): parse, then the
/// full validation, which runs the engine on every stage, and the brief of every stage.
pub fn scenario_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = exercise::parse_scenario(text, "fuzz.toml") else {
        return;
    };
    if exercise::validate(&s).is_err() {
        return;
    }
    for stage in 0..=s.last_stage().min(16) {
        let _ = exercise::brief(&s, stage, true);
    }
}

/// HHS OCR breach-portal exports (`exercise from-ocr`): read every row, and seed a scenario
/// skeleton from every record that reads.
pub fn ocr_csv(data: &[u8]) {
    let Ok(reader) = ocr::read_ocr(data) else {
        return;
    };
    for rec in reader.take(64).flatten() {
        let toml = exercise::from_ocr(&rec);
        // A seeded skeleton is always a scenario the parser reads.
        exercise::parse_scenario(&toml, "seeded.toml").expect("seeded scenarios parse");
    }
}

/// Audit checkpoints (`audit verify --against FILE`): parse, check the signature with and
/// without a trusted key, compare with a chain.
pub fn checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cp) = Checkpoint::parse(text) else {
        return;
    };
    let trusted = [7u8; 32];
    let _ = cp.check_signature(None);
    let _ = cp.check_signature(Some(&trusted));
    for head in [0u64, 1, cp.seq, cp.seq.saturating_add(1), u64::MAX] {
        let _ = checkpoint::compare(&cp, head, |_| Some([1u8; 32]));
        let _ = checkpoint::compare(&cp, head, |_| None);
    }
}

const FILES: [&str; 4] = [
    "individual.txt.hbs",
    "next_of_kin.txt.hbs",
    "individual.html.hbs",
    "substitute_web.txt.hbs",
];
/// Counsel's template sets (`letters check DIR`, `letters templates set DIR`, `letters
/// render --templates DIR`): the input is split into up to four templates, which replace
/// the individual, next-of-kin and substitute ones (text and HTML), then the whole set is
/// compiled and checked (rendered against the sample data). Recursive partials, deep
/// nesting and bad syntax must be refused, never overflow the stack.
pub fn templates(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set: BTreeMap<String, String> = text
        .split("\u{1e}")
        .zip(FILES)
        .map(|(src, file)| (file.to_string(), src.to_string()))
        .collect();
    let _ = letters::check_only(&set);
}
