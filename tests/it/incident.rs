//! The incident register: init, new, list, show, update, note, close, reopen; errors.

use crate::common::*;

#[test]
fn init_creates_owner_only_file_and_refuses_to_overwrite() {
    let e = Env::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&e.db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let r = e
        .run(&[
            "init",
            "--pinned-clock",
            "--org",
            "Other",
            "--role",
            "covered-entity",
            "--no-encryption",
        ])
        .code(3);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
}

#[test]
fn missing_database_is_a_clear_error() {
    let e = Env::empty();
    let r = e.run(&["incident", "list"]).code(6);
    assert!(r.stderr.contains("no database at"), "{}", r.stderr);
    assert!(r.stderr.contains("breachdesk init"), "{}", r.stderr);
}

#[test]
fn db_path_flag_beats_environment() {
    let e = Env::plain();
    let other = e.path("other.redb");
    e.run(&[
        "--db",
        s(&other),
        "init",
        "--pinned-clock",
        "--org",
        "B",
        "--role",
        "covered-entity",
        "--no-encryption",
    ])
    .ok();
    let id = e
        .run(&[
            "--db",
            s(&other),
            "incident",
            "new",
            "--title",
            "x",
            "--no-interview",
        ])
        .ok();
    assert_eq!(id.stdout.trim(), "2026-0001");
    // The environment's database has no incidents.
    let r = e.run(&["incident", "list", "--json"]).ok();
    assert_eq!(r.json()["incidents"].as_array().unwrap().len(), 0);
}

#[test]
fn business_associate_must_name_a_covered_entity() {
    let e = Env::empty();
    let r = e
        .run(&[
            "init",
            "--pinned-clock",
            "--org",
            "Billing Co",
            "--role",
            "business-associate",
            "--no-encryption",
        ])
        .code(3);
    assert!(r.stderr.contains("--serves"), "{}", r.stderr);
    assert!(!e.db.exists(), "nothing is left behind");
    e.run(&[
        "init",
        "--pinned-clock",
        "--org",
        "Billing Co",
        "--role",
        "business-associate",
        "--serves",
        "Test Hospital",
        "--no-encryption",
    ])
    .ok();
    let org = e.run(&["org", "show", "--json"]).ok().json();
    assert_eq!(org["role"], "business-associate");
    assert_eq!(org["entity_type"], "business_associate");
    assert_eq!(org["serves"][0], "Test Hospital");
}

#[test]
fn org_update_changes_fields_and_is_audited() {
    let e = Env::plain();
    e.run(&[
        "org",
        "update",
        "--toll-free",
        "1-888-555-0199",
        "--le-policy",
        "extend-by-delay",
    ])
    .ok();
    let org = e.run(&["org", "show", "--json"]).ok().json();
    assert_eq!(org["toll_free"], "1-888-555-0199");
    assert_eq!(org["le_policy"], "extend_by_delay");
    let r = e
        .run(&["org", "update", "--time-zone", "Mars/Olympus"])
        .code(3);
    assert!(r.stderr.contains("IANA"), "{}", r.stderr);
    let log = e.run(&["audit", "log", "--json"]).ok().json();
    let actions: Vec<_> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["store.init", "org.init", "org.update"]);
}

#[test]
fn new_prints_sequential_ids_and_json_includes_id() {
    let e = Env::plain();
    assert_eq!(e.incident(&["--title", "First"]), "2026-0001");
    let r = e
        .run(&[
            "incident",
            "new",
            "--title",
            "Second",
            "--no-interview",
            "--json",
        ])
        .ok();
    let v = r.json();
    assert_eq!(v["id"], "2026-0002");
    assert_eq!(v["facts"]["title"], "Second");
    assert_eq!(v["status"], "reported");
}

#[test]
fn facts_file_round_trips_every_section() {
    let e = Env::plain();
    let f = e.write(
        "facts.toml",
        r#"
title = "Misdirected fax"
[breach]
start = 2026-10-01
discovered = 2026-10-02
types = ["unauthorized_access_disclosure"]
locations = ["other"]
phi = ["name", "diagnosis"]
narrative = "Fax sent to wrong number"
[individuals]
estimated_total = 3
by_state = { NY = 3 }
[business_associate]
involved = false
[assessment.recipient]
kind = "hipaa_entity"
[[law_enforcement]]
kind = "oral"
date = 2026-10-03
official = "Det. Smith, NYPD"
"#,
    );
    let v = e
        .run(&["incident", "new", "--from", s(&f), "--json"])
        .ok()
        .json();
    assert_eq!(v["facts"]["breach"]["discovered"], "2026-10-02");
    assert_eq!(v["facts"]["individuals"]["by_state"]["NY"], 3);
    assert_eq!(
        v["facts"]["assessment"]["recipient"]["kind"],
        "hipaa_entity"
    );
    assert_eq!(v["facts"]["law_enforcement"][0]["kind"], "oral");
    let show = e
        .run(&["incident", "show", "2026-0001", "--json"])
        .ok()
        .json();
    assert_eq!(
        show["facts"]["breach"]["narrative"],
        "Fax sent to wrong number"
    );
}

#[test]
fn malformed_input_names_the_field_and_writes_nothing() {
    let e = Env::plain();
    let before = e.run(&["audit", "log", "--json"]).ok().json()["entries"]
        .as_array()
        .unwrap()
        .len();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--title", "x", "--discovered", "2026-13-01"],
            "--discovered is not a date",
        ),
        (
            vec!["--title", "x", "--type", "stolen"],
            "hacking_it_incident",
        ),
        (
            vec![
                "--title",
                "x",
                "--start",
                "2026-10-05",
                "--discovered",
                "2026-10-01",
            ],
            "breach.discovered is before breach.start",
        ),
        (
            vec!["--title", "x", "--state", "ZZ=5"],
            "State of 45 CFR 160.103",
        ),
        (
            vec!["--title", "x", "--discovered", "2027-01-01"],
            "in the future",
        ),
        (
            vec!["--title", "x", "--set", "individuals.unreachable=-4"],
            "individuals.unreachable",
        ),
        (
            vec!["--title", "x", "--set", "security.encryptd=true"],
            "encryptd",
        ),
        (vec![], "needs a title"),
    ];
    for (args, want) in cases {
        let mut a = vec!["incident", "new", "--no-interview"];
        a.extend(args.iter().copied());
        let r = e.run(&a).code(3);
        assert!(r.stderr.contains(want), "{a:?}: {}", r.stderr);
    }
    let unknown = e.write(
        "bad.toml",
        "title = \"x\"\n[breach]\ndiscoverd = 2026-01-01\n",
    );
    let r = e.run(&["incident", "new", "--from", s(&unknown)]).code(3);
    assert!(
        r.stderr.contains("line 3") && r.stderr.contains("discoverd"),
        "{}",
        r.stderr
    );
    let neg = e.write(
        "neg.toml",
        "title = \"x\"\n[individuals]\nestimated_total = -5\n",
    );
    let r = e.run(&["incident", "new", "--from", s(&neg)]).code(3);
    assert!(
        r.stderr.contains("individuals.estimated_total"),
        "{}",
        r.stderr
    );
    let after = e.run(&["audit", "log", "--json"]).ok().json()["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a refused command writes nothing");
    assert_eq!(
        e.run(&["incident", "list", "--json"]).ok().json()["incidents"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn errors_never_echo_phi() {
    let e = Env::plain();
    let f = e.write(
        "phi.toml",
        "title = \"x\"\n[individuals]\nestimated_total = \"Zebulon Canaryface\"\n",
    );
    let r = e.run(&["incident", "new", "--from", s(&f)]).code(3);
    assert!(!r.stderr.contains("Canaryface"), "{}", r.stderr);
}

#[test]
fn list_filters_by_status_open_closed_and_text() {
    let e = Env::plain();
    e.incident(&["--title", "Lost laptop"]);
    e.incident(&["--title", "Misdirected mail"]);
    e.incident(&["--title", "Snooping in EHR"]);
    e.run(&[
        "incident",
        "update",
        "2026-0002",
        "--status",
        "investigating",
    ])
    .ok();
    e.run(&[
        "incident",
        "close",
        "2026-0003",
        "--disposition",
        "not_breach",
        "--note",
        "exception (i)",
    ])
    .ok();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["incident", "list", "--json"];
        a.extend_from_slice(args);
        e.run(&a).ok().json()["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&[]), ["2026-0001", "2026-0002", "2026-0003"]);
    assert_eq!(ids(&["--open"]), ["2026-0001", "2026-0002"]);
    assert_eq!(ids(&["--closed"]), ["2026-0003"]);
    assert_eq!(ids(&["--status", "investigating"]), ["2026-0002"]);
    assert_eq!(ids(&["--text", "LAPTOP"]), ["2026-0001"]);
    e.run(&["incident", "list", "--status", "bogus"]).code(3);
}

#[test]
fn update_note_close_reopen() {
    let e = Env::new();
    let id = e.incident(&["--title", "Theft", "--discovered", "2026-10-01"]);
    e.run(&[
        "incident",
        "update",
        &id,
        "--set",
        "business_associate.involved=true",
        "--set",
        "business_associate.relationship=independent_contractor",
        "--individuals",
        "40",
    ])
    .ok();
    e.run(&[
        "incident",
        "note",
        &id,
        "Called the vendor",
        "--at",
        "2026-10-02",
    ])
    .ok();
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(
        v["facts"]["business_associate"]["relationship"],
        "independent_contractor"
    );
    assert_eq!(v["facts"]["individuals"]["estimated_total"], 40);
    assert_eq!(v["timeline"][0]["text"], "Called the vendor");
    assert_eq!(v["timeline"][0]["author"], "tester");
    e.run(&["incident", "close", &id, "--disposition", "maybe"])
        .code(3);
    // Closing as breach_notified with notices unmet is refused (issue 9), unless forced
    // with a rationale.
    e.run(&["incident", "close", &id, "--disposition", "breach_notified"])
        .code(3);
    e.run(&[
        "incident",
        "close",
        &id,
        "--disposition",
        "breach_notified",
        "--force",
        "--rationale",
        "notices tracked by counsel",
    ])
    .ok();
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["disposition"], "breach_notified");
    e.run(&["incident", "close", &id, "--disposition", "other"])
        .code(3);
    e.run(&["incident", "reopen", &id]).ok();
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["status"], "investigating");
    e.run(&["incident", "show", "2026-0099"]).code(4);
    e.run(&["incident", "show", "banana"]).code(3);
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn encrypted_database_without_passphrase_still_shows_non_phi() {
    let e = Env::new();
    let id = e.incident(&[
        "--title",
        "Theft",
        "--narrative",
        "Patient Quentin Marblewood's chart",
    ]);
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let r = e.run_with(c, &["incident", "show", &id, "--json"]).ok();
    let v = r.json();
    // Issue 10: a title may name someone, so it is sealed too (it read "Theft" before).
    assert_eq!(v["facts"]["title"], "[encrypted: passphrase required]");
    assert!(
        v["facts"]["breach"]["narrative"]
            .as_str()
            .unwrap()
            .contains("encrypted")
    );
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    let r = e.run_with(c, &["incident", "note", &id, "more"]).code(7);
    assert!(r.stderr.contains("BREACHDESK_PASSPHRASE"), "{}", r.stderr);
    // Issue 10: every change rewrites the sealed text and the obligations snapshot (whose
    // notes can quote it), so a status change needs the key too (it did not before).
    let mut c = e.cmd();
    c.env_remove("BREACHDESK_PASSPHRASE");
    e.run_with(c, &["incident", "update", &id, "--status", "investigating"])
        .code(7);
    let mut c = e.cmd();
    c.env("BREACHDESK_PASSPHRASE", "wrong passphrase");
    e.run_with(c, &["incident", "show", &id]).code(7);
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(
        v["facts"]["breach"]["narrative"],
        "Patient Quentin Marblewood's chart"
    );
    let raw = std::fs::read(&e.db).unwrap();
    assert!(
        !raw.windows(10).any(|w| w == b"Marblewood"),
        "narrative stored in plaintext"
    );
    e.run(&["audit", "verify"]).ok();
}

#[test]
fn newer_schema_is_refused() {
    let e = Env::plain();
    {
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut meta = tx.open_table(crate::common::tables::META).unwrap();
            meta.insert("schema_version", b"99".as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let r = e.run(&["incident", "list"]).code(6);
    assert!(r.stderr.contains("newer breachdesk"), "{}", r.stderr);
}

#[test]
fn second_process_gets_the_lock_error() {
    let e = Env::plain();
    let _held = redb::Database::open(&e.db).unwrap();
    let r = e.run(&["incident", "list"]).code(5);
    assert!(
        r.stderr.contains("in use by another breachdesk process"),
        "{}",
        r.stderr
    );
}

#[test]
fn completions_and_man_page() {
    let e = Env::empty();
    let r = e.run(&["completions", "bash"]).ok();
    assert!(r.stdout.contains("breachdesk"));
    let r = e.run(&["man"]).ok();
    assert!(
        r.stdout.contains(".TH breachdesk"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    e.run(&["frobnicate"]).code(2);
}

#[test]
fn demo_runs_without_input() {
    let e = Env::empty();
    let r = e.run(&["demo"]).ok();
    assert!(r.stdout.contains("audit trail intact"), "{}", r.stdout);
}
