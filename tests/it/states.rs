//! State breach laws through the binary: State duties wherever the engine runs (evaluate,
//! assess, incident show, deadlines and its calendar, the dossier), for every jurisdiction
//! with residents, marked verified or unverified; counsel's overrides (`laws set|show|diff|
//! list|clear`), audited and hashed into determinations; replays.

use crate::common::*;

/// Every jurisdiction with built-in rules data.
const ALL: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "PR", "VI", "GU",
];

/// A breach of names, SSNs and diagnoses with 300 residents in every jurisdiction (and 5 in
/// American Samoa, which has no data), discovered 2026-10-26, determined 2026-10-28.
fn everywhere() -> String {
    let mut by_state: Vec<String> = ALL.iter().map(|c| format!("{c} = 300")).collect();
    by_state.push("AS = 5".into());
    format!(
        r#"title = "Everywhere"

[breach]
discovered = 2026-10-26
types = ["hacking_it_incident"]
locations = ["network_server"]
phi = ["name", "ssn", "diagnosis"]

[individuals]
estimated_total = {}
by_state = {{ {} }}

[state_law]
determined = 2026-10-28
"#,
        300 * ALL.len() + 5,
        by_state.join(", ")
    )
}

fn state_obligations(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"].as_str().unwrap().starts_with("state_"))
        .cloned()
        .collect()
}

/// Every jurisdiction with residents has State duties (or a reason there are none), each
/// with its citation, law version and verification status.
#[track_caller]
fn check_every_jurisdiction(v: &serde_json::Value) {
    let obs = state_obligations(v);
    for code in ALL {
        let mine: Vec<&serde_json::Value> =
            obs.iter().filter(|o| o["jurisdiction"] == *code).collect();
        assert!(!mine.is_empty(), "no State obligation for {code}");
        for o in mine {
            assert!(o["verified"].is_boolean(), "{code}: {o}");
            assert!(o["effective"].is_string(), "{code}: {o}");
            assert!(!o["cite"].as_str().unwrap().is_empty(), "{code}: {o}");
            assert!(o["source"].is_string(), "{code}: {o}");
            if o["status"] == "not_required" {
                assert!(!o["reason"].as_str().unwrap().is_empty(), "{code}: {o}");
            }
        }
    }
    let laws = &v["laws"];
    let used: Vec<&str> = laws["jurisdictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["jurisdiction"].as_str().unwrap())
        .collect();
    for code in ALL.iter().chain(&["AS"]) {
        assert!(used.contains(code), "{code} not considered: {used:?}");
    }
    assert!(obs.iter().any(|o| o["verified"] == true));
    assert!(obs.iter().any(|o| o["verified"] == false));
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"].as_str().unwrap().contains("American Samoa")),
        "AS has no rules data and says so: {}",
        v["notes"]
    );
    // Texas: Attorney General for 250 or more residents, 30 days after the determination
    // (S.B. 768, verified against the enrolled bill).
    let tx_ag = obs
        .iter()
        .find(|o| o["jurisdiction"] == "TX" && o["kind"] == "state_regulator")
        .unwrap();
    assert_eq!(tx_ag["recipient"], "ag");
    assert_eq!(tx_ag["due"], "2026-11-27");
    assert_eq!(tx_ag["verified"], true);
    assert_eq!(tx_ag["effective"], "2023-09-01");
}

#[test]
fn evaluate_shows_state_duties_for_every_jurisdiction_with_residents() {
    let e = Env::empty();
    let f = e.write("everywhere.toml", &everywhere());
    let v = e
        .run(&["evaluate", s(&f), "--today", "2026-11-01", "--json"])
        .ok()
        .json();
    check_every_jurisdiction(&v);
    assert_eq!(v["laws"]["business_days"], "weekends_only");
    assert_eq!(v["laws"]["counsel_digest"], serde_json::Value::Null);

    let text = e
        .run(&["evaluate", s(&f), "--today", "2026-11-01"])
        .ok()
        .stdout;
    assert!(text.contains("state_regulator (TX ag)"), "{text}");
    assert!(text.contains("[UNVERIFIED†]"), "{text}");
    assert!(text.contains("† UNVERIFIED"), "the footnote: {text}");
    assert!(text.contains("State laws (rules data"), "{text}");
    assert!(!text.contains("out of scope"), "{text}");
}

#[test]
fn incident_show_deadlines_ics_and_dossier_show_state_duties_everywhere() {
    let e = Env::new();
    let f = e.write("everywhere.toml", &everywhere());
    let id = e.incident(&["--from", s(&f)]);

    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    check_every_jurisdiction(&v["evaluation"]);
    let text = e.run(&["incident", "show", &id]).ok().stdout;
    assert!(text.contains("UNVERIFIED†"), "{text}");
    assert!(text.contains("† UNVERIFIED"), "{text}");
    assert!(text.contains("TX ag"), "{text}");
    assert!(text.contains("State laws (rules data"), "{text}");

    // The board: every State's open duties, marked, with the policies named.
    let b = e.run(&["deadlines", "--json"]).ok().json();
    assert_eq!(b["business_days"], "weekends_only");
    let rows = b["deadlines"].as_array().unwrap();
    let tx = rows
        .iter()
        .find(|r| r["kind"] == "state_regulator" && r["jurisdiction"] == "TX")
        .unwrap();
    assert_eq!(tx["due"], "2026-11-27");
    assert_eq!(tx["verified"], true);
    let states: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["kind"].as_str().unwrap().starts_with("state_"))
        .map(|r| r["jurisdiction"].as_str().unwrap())
        .collect();
    assert!(states.len() > 10, "open State duties: {states:?}");
    // With --all, every jurisdiction with residents is on the board.
    let all = e.run(&["deadlines", "--all", "--json"]).ok().json();
    for code in ALL {
        assert!(
            all["deadlines"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["jurisdiction"] == *code
                    && r["kind"].as_str().unwrap().starts_with("state_")),
            "{code} on the board"
        );
    }
    let text = e.run(&["deadlines"]).ok().stdout;
    assert!(text.contains("state_regulator"), "{text}");
    assert!(text.contains("UNVERIFIED†"), "{text}");
    assert!(text.contains("business-day policy weekends_only"), "{text}");

    // The calendar: State events read back by an independent parser, one UID each.
    let ics = e.path("deadlines.ics");
    e.run(&["deadlines", "--ics", s(&ics)]).ok();
    let text = std::fs::read_to_string(&ics).unwrap();
    let cal = ical::IcalParser::new(text.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let prop = |ev: &ical::parser::ical::component::IcalEvent, name: &str| {
        ev.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let uids: Vec<String> = cal.events.iter().map(|ev| prop(ev, "UID")).collect();
    let unique: std::collections::BTreeSet<&String> = uids.iter().collect();
    assert_eq!(unique.len(), uids.len(), "UIDs are unique");
    let tx = cal
        .events
        .iter()
        .find(|ev| prop(ev, "UID").contains("state-regulator-ag-tx-due"))
        .expect("the Texas AG notice is an event");
    assert_eq!(prop(tx, "DTSTART"), "20261127");
    assert!(
        prop(tx, "DESCRIPTION").contains("verified against statute text"),
        "{}",
        prop(tx, "DESCRIPTION")
    );
    assert!(
        cal.events
            .iter()
            .any(|ev| prop(ev, "DESCRIPTION").contains("UNVERIFIED")),
        "an unverified rule's event says so"
    );

    // The dossier.
    let out = e.path("dossier.html");
    e.run(&["report", &id, "--html", "--out", s(&out)]).ok();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("State breach-notification laws"),
        "State section"
    );
    assert!(html.contains("UNVERIFIED†"));
    assert!(html.contains("TX (ag)"));
    for code in ALL {
        assert!(
            html.contains(&format!("<tr><td>{code}</td><td>300</td>")),
            "{code}"
        );
    }
    assert!(html.contains("No replayable determination is recorded"));
    e.run(&[
        "assess",
        &id,
        "--no-interview",
        "--set",
        "assessment.nature.answered=true",
    ])
    .ok();
    // The dossier holds PHI: it replaces the earlier one only with --force (issue 10).
    e.run(&["report", &id, "--html", "--out", s(&out), "--force"])
        .ok();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(
        html.contains("Recorded determinations"),
        "the record is listed"
    );
}

/// Roster counts drive the State duties too: 250 Texans on the roster owe the Attorney
/// General's notice although the facts estimated 10.
#[test]
fn roster_counts_drive_state_duties() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Roster",
        "--discovered",
        "2026-10-26",
        "--phi",
        "name,diagnosis",
        "--individuals",
        "10",
        "--state",
        "TX=10",
    ]);
    let ag = |e: &Env| {
        let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
        state_obligations(&v["evaluation"])
            .into_iter()
            .find(|o| o["jurisdiction"] == "TX" && o["kind"] == "state_regulator")
            .unwrap()
    };
    assert_eq!(ag(&e)["status"], "not_required");
    let mut csv = String::from("MRN,First Name,Last Name,Address,City,State,Zip\n");
    for i in 0..250 {
        csv.push_str(&format!("P{i},F{i},L{i},{i} Main St,Austin,TX,78701\n"));
    }
    let f = e.write("roster.csv", &csv);
    e.run(&["roster", "import", &id, s(&f)]).ok();
    let o = ag(&e);
    assert_eq!(o["status"], "pending", "{o}");
    assert_eq!(
        o["due"], "2026-11-25",
        "30 days from discovery (no determination recorded)"
    );
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    assert_eq!(v["counts"]["source"], "roster");
    assert_eq!(
        v["evaluation"]["laws"]["jurisdictions"][0]["residents"],
        250
    );
}

/// A counsel's Texas file: the Attorney General within 15 days, from 100 residents.
fn counsel_tx() -> String {
    let builtin = include_str!("../../src/laws/data/tx.toml");
    // The current version's AG rule (the last `days = 30`): counsel's reading.
    builtin
        .replace("at_least = 250\ndays = 30", "at_least = 100\ndays = 15")
        .replace(
            "# Texas: breach-notification rules.",
            "# Texas, as counsel reads it.",
        )
}

fn audit_log(e: &Env) -> Vec<serde_json::Value> {
    e.run(&["audit", "log", "--json"]).ok().json()["entries"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn laws_commands_list_show_diff_set_clear_audited() {
    let e = Env::new();
    // Without a database: the built-in data, said so.
    let none = Env::empty();
    let r = none.run(&["laws", "list", "--json"]).ok();
    let v = r.json();
    assert_eq!(v["jurisdictions"].as_array().unwrap().len(), 54);
    assert_eq!(v["counsel_digest"], serde_json::Value::Null);
    let md = none.run(&["laws", "list", "--markdown"]).ok().stdout;
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert!(
        readme.contains(&md),
        "README carries `laws list --markdown`"
    );
    let text = none.run(&["laws", "list"]).ok();
    assert!(
        text.stderr.contains("built-in rules data"),
        "{}",
        text.stderr
    );
    assert!(
        text.stdout.contains("rules verified against statute text"),
        "{}",
        text.stdout
    );
    let vv = none
        .run(&["laws", "list", "--verified", "--json"])
        .ok()
        .json();
    assert!(vv["jurisdictions"].as_array().unwrap().len() > 6);

    let show = e.run(&["laws", "show", "tx", "--json"]).ok().json();
    assert_eq!(show["origin"], "built-in");
    assert_eq!(show["versions"].as_array().unwrap().len(), 2);
    let rules = show["versions"][1]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["verified"] == true));
    assert!(rules.iter().any(|r| r["verified"] == false));
    let text = e.run(&["laws", "show", "TX"]).ok().stdout;
    assert!(text.contains("[verified] regulator `ag`"), "{text}");
    assert!(text.contains("UNVERIFIED†"), "{text}");
    e.run(&["laws", "show", "ZZ"]).code(3);
    // A territory without built-in data: named, and what counsel can do about it.
    let r = e.run(&["laws", "show", "AS"]).code(4);
    assert!(
        r.stderr.contains("American Samoa") && r.stderr.contains("no built-in file"),
        "{}",
        r.stderr
    );

    // An open incident with Texans, assessed under the built-in data.
    let id = e.incident(&[
        "--title",
        "Texans",
        "--discovered",
        "2026-10-26",
        "--phi",
        "name,diagnosis",
        "--individuals",
        "120",
        "--state",
        "TX=120",
    ]);
    let before = e
        .run(&[
            "assess",
            &id,
            "--no-interview",
            "--set",
            "assessment.nature.answered=true",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(before["recorded"]["number"], 1);
    assert_eq!(
        before["recorded"]["counsel_digest"],
        serde_json::Value::Null
    );

    let f = e.write("tx-counsel.toml", &counsel_tx());
    let entries = audit_log(&e).len();
    let r = e.run(&["laws", "set", s(&f)]).ok();
    assert!(
        r.stdout.contains("counsel's rules in force for TX"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&id),
        "the open incident's obligations move: {}",
        r.stdout
    );
    let log = audit_log(&e);
    assert_eq!(log.len(), entries + 1, "one entry");
    let last = log.last().unwrap();
    assert_eq!(last["action"], "laws.set");
    assert_eq!(last["subject"], "laws");
    let detail = last["detail"].as_str().unwrap();
    assert!(detail.contains("jurisdiction=TX"), "{detail}");
    assert!(detail.contains("digest="), "{detail}");
    assert!(detail.contains("counsel_digest="), "{detail}");
    // The same file again changes nothing.
    let again = e.run(&["laws", "set", s(&f), "--json"]).ok().json();
    assert_eq!(again["changed"], false);
    assert_eq!(audit_log(&e).len(), entries + 1);

    let list = e.run(&["laws", "list", "--json"]).ok().json();
    let tx = list["jurisdictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["jurisdiction"] == "TX")
        .unwrap();
    assert_eq!(tx["origin"], "counsel");
    assert!(list["counsel_digest"].is_string());
    let show = e.run(&["laws", "show", "TX", "--json"]).ok().json();
    assert_eq!(show["origin"], "counsel");
    assert!(show["builtin_sha256"].is_string());
    assert_eq!(show["counsel_history"].as_array().unwrap().len(), 1);
    assert_eq!(show["counsel_history"][0]["file"], "tx-counsel.toml");
    let diff = e.run(&["laws", "diff", "TX"]).ok().stdout;
    assert!(diff.contains("-at_least = 250"), "{diff}");
    assert!(diff.contains("+at_least = 100"), "{diff}");
    assert!(
        diff.contains("regulators"),
        "the summary names what changes: {diff}"
    );
    let d = e.run(&["laws", "diff", "--json"]).ok().json();
    assert_eq!(d["diffs"].as_array().unwrap().len(), 1);

    // The incident now owes the AG notice under counsel's reading, and a new determination
    // names counsel's file.
    let v = e.run(&["incident", "show", &id, "--json"]).ok().json();
    let ag = state_obligations(&v["evaluation"])
        .into_iter()
        .find(|o| o["kind"] == "state_regulator")
        .unwrap();
    assert_eq!(ag["status"], "late", "overdue on 2026-11-22: {ag}");
    assert_eq!(
        ag["due"], "2026-11-10",
        "15 days from discovery (no determination date)"
    );
    let after = e
        .run(&[
            "assess",
            &id,
            "--no-interview",
            "--set",
            "assessment.nature.answered=true",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(after["recorded"]["number"], 2);
    assert_ne!(
        after["recorded"]["laws_digest"],
        before["recorded"]["laws_digest"]
    );
    assert_eq!(
        after["recorded"]["builtin_digest"],
        before["recorded"]["builtin_digest"]
    );
    assert_eq!(after["recorded"]["counsel_files"][0]["jurisdiction"], "TX");
    let assess_entry = audit_log(&e).last().unwrap().clone();
    let detail = assess_entry["detail"].as_str().unwrap();
    assert!(detail.contains("determination=2"), "{detail}");
    assert!(
        detail.contains(&format!(
            "counsel_digest={}",
            after["recorded"]["counsel_digest"].as_str().unwrap()
        )),
        "{detail}"
    );
    assert!(detail.contains("inputs_sha256="), "{detail}");

    // Clear: audited, the built-in file applies again, the history keeps both versions.
    let c = e.run(&["laws", "clear", "TX", "--json"]).ok().json();
    assert_eq!(c["origin"], "built-in");
    let last = audit_log(&e).last().unwrap().clone();
    assert_eq!(last["action"], "laws.clear");
    e.run(&["laws", "clear", "TX"]).code(4);
    let show = e.run(&["laws", "show", "TX", "--json"]).ok().json();
    assert_eq!(show["origin"], "built-in");
    assert_eq!(show["counsel_history"].as_array().unwrap().len(), 2);
    let r = e.run(&["audit", "verify"]).ok();
    assert!(r.stdout.contains("intact"), "{}", r.stdout);
}

#[test]
fn a_bad_counsel_file_is_refused_naming_file_line_and_field_and_nothing_is_written() {
    let e = Env::plain();
    let entries = audit_log(&e).len();
    let bad = counsel_tx().replace("at_least = 100", "at_least = \"many\"");
    let f = e.write("tx-bad.toml", &bad);
    let r = e.run(&["laws", "set", s(&f)]).code(3);
    assert!(r.stderr.contains("tx-bad.toml"), "{}", r.stderr);
    assert!(r.stderr.contains("line "), "{}", r.stderr);
    assert!(r.stderr.contains("at_least"), "{}", r.stderr);
    let f = e.write(
        "zz.toml",
        &counsel_tx().replace("jurisdiction = \"TX\"", "jurisdiction = \"ZZ\""),
    );
    let r = e.run(&["laws", "set", s(&f)]).code(3);
    assert!(r.stderr.contains("jurisdiction"), "{}", r.stderr);
    e.run(&["laws", "set", s(&e.path("missing.toml"))]).code(4);
    assert_eq!(audit_log(&e).len(), entries, "nothing written");
    // The same file as a what-if draft is refused the same way.
    let f = e.write("tx-bad.toml", &bad);
    let facts = e.write("facts.toml", &everywhere());
    e.run(&["evaluate", s(&facts), "--laws", s(&f)]).code(3);
}

#[test]
fn evaluate_tries_a_draft_of_counsel_and_a_business_day_policy() {
    let e = Env::empty();
    let facts = e.write("facts.toml", &everywhere());
    let draft = e.write("tx-draft.toml", &counsel_tx());
    let v = e
        .run(&[
            "evaluate",
            s(&facts),
            "--laws",
            s(&draft),
            "--today",
            "2026-11-01",
            "--json",
        ])
        .ok()
        .json();
    let tx = state_obligations(&v)
        .into_iter()
        .find(|o| o["jurisdiction"] == "TX" && o["kind"] == "state_regulator")
        .unwrap();
    assert_eq!(tx["due"], "2026-11-12", "15 days from the determination");
    assert!(v["laws"]["counsel_digest"].is_string());
    let text = e
        .run(&[
            "evaluate",
            s(&facts),
            "--laws",
            s(&draft),
            "--today",
            "2026-11-01",
        ])
        .ok()
        .stdout;
    assert!(text.contains("with counsel's file(s) for TX"), "{text}");

    // New York's copy of the HHS notice: 5 business days after HHS's deadline (Friday
    // 2026-12-25): Friday 2027-01-01 counting weekdays, Monday 2027-01-04 skipping New
    // Year's Day. The policy is printed with the date.
    let ny = |policy: &str| {
        let v = e
            .run(&[
                "evaluate",
                s(&facts),
                "--today",
                "2026-11-01",
                "--business-days",
                policy,
                "--json",
            ])
            .ok()
            .json();
        let o = state_obligations(&v)
            .into_iter()
            .find(|o| o["jurisdiction"] == "NY" && o["recipient"] == "ag_hhs")
            .unwrap();
        (
            o["due"].as_str().unwrap().to_string(),
            o["policy"].as_str().unwrap().to_string(),
            v["laws"]["business_days"].clone(),
        )
    };
    let (due, policy, key) = ny("weekends-only");
    assert_eq!(due, "2027-01-01");
    assert!(
        policy.contains("business-day policy weekends_only"),
        "{policy}"
    );
    assert_eq!(key, "weekends_only");
    let (due, policy, key) = ny("federal-holidays");
    assert_eq!(due, "2027-01-04");
    assert!(
        policy.contains("business-day policy federal_holidays"),
        "{policy}"
    );
    assert_eq!(key, "federal_holidays");
}

#[test]
fn the_organization_sets_the_business_day_policy() {
    let e = Env::plain();
    let f = e.write("everywhere.toml", &everywhere());
    let id = e.incident(&["--from", s(&f)]);
    let due = |e: &Env, extra: &[&str]| {
        let mut a = vec!["deadlines", "--json", "--all"];
        a.extend_from_slice(extra);
        let b = e.run(&a).ok().json();
        let o = b["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["jurisdiction"] == "NY" && r["recipient"] == "ag_hhs")
            .cloned()
            .unwrap();
        (
            o["due"].as_str().unwrap().to_string(),
            b["business_days"].clone(),
        )
    };
    assert_eq!(
        due(&e, &[]),
        ("2027-01-01".to_string(), "weekends_only".into())
    );
    assert_eq!(
        due(&e, &["--business-days", "federal-holidays"]),
        ("2027-01-04".to_string(), "federal_holidays".into()),
        "a what-if on the board"
    );
    e.run(&["org", "update", "--business-days", "federal-holidays"])
        .ok();
    let org = e.run(&["org", "show", "--json"]).ok().json();
    assert_eq!(org["business_days"], "federal_holidays");
    let last = audit_log(&e).last().unwrap().clone();
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("business_days=federal_holidays")
    );
    assert_eq!(
        due(&e, &[]),
        ("2027-01-04".to_string(), "federal_holidays".into())
    );
    let text = e.run(&["incident", "show", &id]).ok().stdout;
    assert!(
        text.contains("business-day policy federal_holidays"),
        "{text}"
    );
}

#[test]
fn state_notices_are_recorded_with_their_regulator() {
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Texans",
        "--discovered",
        "2026-10-26",
        "--phi",
        "name,diagnosis",
        "--individuals",
        "300",
        "--state",
        "TX=300",
        "--state",
        "NY=1",
    ]);
    let r = e
        .run(&[
            "notice",
            "record",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "TX",
            "--recipient",
            "ag",
            "--date",
            "2026-11-20",
            "--method",
            "portal",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(r["status"], "met 2026-11-20");
    assert_eq!(r["recorded"]["recipient"], "ag");
    // A regulator the State's rules do not name, a State-law notice without its State,
    // a State that names several regulators without --recipient: refused, nothing written.
    let n = audit_log(&e).len();
    let r = e
        .run(&[
            "notice",
            "record",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "TX",
            "--recipient",
            "sheriff",
            "--date",
            "2026-11-20",
            "--method",
            "mail",
        ])
        .code(3);
    assert!(r.stderr.contains("accepted: ag"), "{}", r.stderr);
    e.run(&[
        "notice",
        "record",
        &id,
        "--kind",
        "state_cra",
        "--date",
        "2026-11-20",
        "--method",
        "mail",
    ])
    .code(3);
    let r = e
        .run(&[
            "notice",
            "record",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "NY",
            "--date",
            "2026-11-20",
            "--method",
            "mail",
        ])
        .code(3);
    assert!(r.stderr.contains("--recipient"), "{}", r.stderr);
    assert_eq!(audit_log(&e).len(), n);
}

fn replay(e: &Env, id: &str, n: Option<&str>) -> serde_json::Value {
    let mut a = vec!["assess", id, "--replay"];
    if let Some(n) = n {
        a.push(n);
    }
    a.push("--json");
    e.run(&a).ok().json()
}

#[test]
fn replay_reproduces_a_decision_and_shows_what_rules_and_facts_changed() {
    let e = Env::new();
    let id = e.incident(&[
        "--title",
        "Texans",
        "--discovered",
        "2026-10-26",
        "--phi",
        "name,diagnosis",
        "--individuals",
        "120",
        "--state",
        "TX=120",
    ]);
    // Not assessed yet: nothing to replay.
    let r = e.run(&["assess", &id, "--replay"]).code(4);
    assert!(
        r.stderr.contains("no replayable determination"),
        "{}",
        r.stderr
    );
    e.run(&[
        "assess",
        &id,
        "--no-interview",
        "--set",
        "assessment.nature.answered=true",
    ])
    .ok();

    let v = replay(&e, &id, None);
    assert_eq!(v["determination"]["number"], 1);
    assert_eq!(v["same_engine"], true);
    assert_eq!(v["reproduced"], true, "{}", v["differences_from_recorded"]);
    assert_eq!(v["builtin_changed"], false);
    assert_eq!(v["todays_rules_changes"].as_array().unwrap().len(), 0);
    assert_eq!(v["rules_files"][0]["jurisdiction"], "TX");
    assert_eq!(
        v["rules_files"][0]["restored_from"],
        "the copy kept with the incident"
    );
    let text = e.run(&["assess", &id, "--replay"]).ok().stdout;
    assert!(text.contains("Replayed exactly as made"), "{text}");
    assert!(text.contains("Reproduced"), "{text}");

    // Counsel's override changes the rules: the replay still reproduces the decision and
    // names what today's rules would change.
    let f = e.write("tx-counsel.toml", &counsel_tx());
    e.run(&["laws", "set", s(&f)]).ok();
    let v = replay(&e, &id, Some("1"));
    assert_eq!(v["reproduced"], true);
    assert_eq!(v["counsel_changed"], true);
    assert_eq!(v["rules_files"][0]["changed"], true);
    let changes: Vec<&str> = v["todays_rules_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| c.contains("state_regulator (TX ag) is now required")),
        "{changes:?}"
    );
    assert_eq!(
        v["inputs_changed"].as_array().unwrap().len(),
        0,
        "{}",
        v["inputs_changed"]
    );
    // The replay used the built-in file as it was; today's evaluation uses counsel's.
    let ag = |ev: &serde_json::Value| {
        state_obligations(ev)
            .into_iter()
            .find(|o| o["kind"] == "state_regulator")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(ag(&v["replay"]), "not_required");
    assert_eq!(
        ag(&v["todays_rules"]),
        "late",
        "due 2026-11-10 under counsel's reading"
    );

    // A facts change: 90 Texans is below counsel's threshold too.
    e.run(&[
        "incident",
        "update",
        &id,
        "--state",
        "TX=90",
        "--individuals",
        "90",
    ])
    .ok();
    let v = replay(&e, &id, None);
    let inputs: Vec<&str> = v["inputs_changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        inputs
            .iter()
            .any(|c| c.contains("facts.individuals.by_state.TX")),
        "{inputs:?}"
    );
    assert!(
        inputs
            .iter()
            .any(|c| c.starts_with("counts.total: 120 → 90")),
        "{inputs:?}"
    );
    let facts: Vec<&str> = v["todays_facts_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        facts
            .iter()
            .any(|c| c.contains("state_regulator (TX ag) is no longer required")),
        "{facts:?}"
    );
    let text = e.run(&["assess", &id, "--replay", "1"]).ok().stdout;
    assert!(
        text.contains("What today's rules would say differently"),
        "{text}"
    );
    assert!(
        text.contains("What today's facts would say differently"),
        "{text}"
    );
    e.run(&["assess", &id, "--replay", "7"]).code(4);
}

/// A replay after the built-in data changed: the record's rules were those of an older
/// release. Simulated by rewriting the stored record as an older binary would have written
/// it (another built-in digest, an older copy of the file and its result); the edit is
/// outside breachdesk, so `audit verify` names it, as it must.
#[test]
fn replay_uses_the_stored_copy_when_the_binary_s_built_in_data_changed() {
    use redb::{ReadableTable, TableDefinition};
    let e = Env::plain();
    let id = e.incident(&[
        "--title",
        "Texans",
        "--discovered",
        "2026-10-26",
        "--phi",
        "name,diagnosis",
        "--individuals",
        "300",
        "--state",
        "TX=300",
    ]);
    e.run(&[
        "assess",
        &id,
        "--no-interview",
        "--set",
        "assessment.nature.answered=true",
    ])
    .ok();
    // The file "as an older release shipped it": the AG rule at 60 days.
    let old = include_str!("../../src/laws/data/tx.toml")
        .replace("at_least = 250\ndays = 30", "at_least = 250\ndays = 45");
    let old_sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(old.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    {
        const DET: TableDefinition<&str, &[u8]> = TableDefinition::new("determinations_v1");
        const TEXTS: TableDefinition<&str, &[u8]> = TableDefinition::new("law_texts_v1");
        let db = redb::Database::open(&e.db).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(DET).unwrap();
            let key = format!("{id}/000001");
            let mut rec: serde_json::Value =
                serde_json::from_slice(t.get(key.as_str()).unwrap().unwrap().value()).unwrap();
            rec["laws"]["builtin_digest"] = "0".repeat(64).into();
            rec["laws"]["used"][0]["sha256"] = old_sha.clone().into();
            // What that release computed: the AG notice 45 days after discovery.
            for o in rec["result"]["obligations"].as_array_mut().unwrap() {
                if o["kind"] == "state_regulator" {
                    o["due"] = "2026-12-10".into();
                }
            }
            t.insert(key.as_str(), serde_json::to_vec(&rec).unwrap().as_slice())
                .unwrap();
            let mut texts = tx.open_table(TEXTS).unwrap();
            texts
                .insert(format!("{id}/{old_sha}").as_str(), old.as_bytes())
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let v = replay(&e, &id, None);
    assert_eq!(v["builtin_changed"], true);
    assert_eq!(v["rules_files"][0]["sha256"], old_sha.as_str());
    assert_eq!(
        v["rules_files"][0]["restored_from"],
        "the copy kept with the incident"
    );
    assert_eq!(v["rules_files"][0]["changed"], true);
    assert_eq!(v["reproduced"], true, "{}", v["differences_from_recorded"]);
    let changes: Vec<&str> = v["todays_rules_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| c
                .contains("state_regulator (TX ag): due date moved from 2026-12-10 to 2026-11-25")),
        "{changes:?}"
    );
    let text = e.run(&["assess", &id, "--replay"]).ok().stdout;
    assert!(
        text.contains("is NOT the one in force at the decision"),
        "{text}"
    );
    // The edit is evidence tampering as far as the chain is concerned: verify names it.
    e.run(&["audit", "verify"]).code(10);
}

/// An exercise that asks for State laws: the engine answers with the Texas Attorney
/// General's notice once a 250th Texan is found, and the room is scored on it.
#[test]
fn an_exercise_scores_state_duties_when_its_scenario_asks() {
    let e = Env::empty();
    let ex = |args: &[&str]| {
        let mut a = vec!["exercise"];
        a.extend_from_slice(args);
        let mut c = e.cmd();
        c.env_remove("BREACHDESK_NOW");
        e.run_with(c, &a)
    };
    ex(&["start", "texas-ag-249-vs-250"]).ok();
    ex(&["next"]).ok();
    let brief = ex(&["brief", "--reveal"]).ok().stdout;
    assert!(brief.contains("state_regulator"), "{brief}");
    ex(&[
        "decide",
        "--no-interview",
        "--determination",
        "breach",
        "--notice",
        "individual=2026-12-05",
        "--notice",
        "hhs_annual=2027-03-01",
        "--notice",
        "state_regulator:TX=2026-11-06",
    ])
    .ok();
    let sc = ex(&["score", "--json"]).ok().json();
    assert_eq!(sc["percent"], 100.0, "{sc}");
    assert!(
        sc["items"].as_array().unwrap().iter().any(|i| i["question"]
            .as_str()
            .unwrap()
            .contains("state_regulator (TX)")),
        "{sc}"
    );
}

/// Two States: 601 Californians (more than 500: the Attorney General gets a sample copy of
/// the notice, Cal. Civ. Code 1798.82(f)) and 300 Texans (250 or more: the Attorney General,
/// Tex. Bus. & Com. Code 521.053(i)), on a roster of named people.
pub fn two_states(e: &Env) -> String {
    let f = e.write(
        "two.toml",
        r#"title = "Two States"

[breach]
discovered = 2026-10-26
types = ["hacking_it_incident"]
locations = ["network_server"]
phi = ["name", "ssn", "diagnosis"]

[state_law]
determined = 2026-10-28
"#,
    );
    let id = e.incident(&["--from", s(&f)]);
    let mut csv = String::from("MRN,First Name,Last Name,Address,City,State,Zip\n");
    for i in 0..901 {
        let (city, st, zip) = if i < 601 {
            ("Lakeside", "CA", "90001")
        } else {
            ("Austin", "TX", "73301")
        };
        csv.push_str(&format!(
            "{i},Quintessa,Rowe{i},{i} Elm Street,{city},{st},{zip}\n"
        ));
    }
    let roster = e.write("roster.csv", &csv);
    e.run(&["roster", "import", &id, s(&roster)]).ok();
    id
}

/// Issue 15: the letters a State prescribes. One notice per State regulator the engine says
/// is owed, each in its own file with the statute, the residents, the timing, method and
/// content counsel must check, and the rule's verification status; California's Attorney
/// General gets the sample copy of the notice to residents, with placeholders where a
/// resident's details would be and nobody's personal information.
#[test]
fn state_regulator_notices_and_the_attorney_general_sample_copy() {
    let e = Env::new();
    let id = two_states(&e);
    let ev = e.run(&["incident", "show", &id, "--json"]).ok().json();
    let owed: Vec<(String, String, bool)> = state_obligations(&ev["evaluation"])
        .iter()
        .filter(|o| o["kind"] == "state_regulator" && o["status"] != "not_required")
        .map(|o| {
            (
                o["jurisdiction"].as_str().unwrap().to_string(),
                o["recipient"].as_str().unwrap().to_string(),
                o["verified"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(owed.iter().any(|o| o.0 == "CA" && o.1 == "ag"), "{owed:?}");
    assert!(owed.iter().any(|o| o.0 == "TX" && o.1 == "ag"), "{owed:?}");

    let out = e.path("regulators");
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "state_regulator",
            "--out",
            s(&out),
            "--json",
        ])
        .ok()
        .json();
    let m = &v["manifest"];
    assert_eq!(m["kind"], "state_regulator");
    assert_eq!(m["count"].as_u64().unwrap() as usize, owed.len(), "{m}");
    let names: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for (st, rid, _) in &owed {
        let want = format!("state_regulator-{st}-{rid}-00001.txt");
        assert!(names.contains(&want.as_str()), "{want} in {names:?}");
    }
    let sample = "state_regulator-CA-ag-sample-copy-00001.txt";
    assert!(names.contains(&sample), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.contains("sample-copy")).count(),
        1,
        "only the regulator the content rule names gets a sample: {names:?}"
    );
    let read = |n: &str| std::fs::read_to_string(out.join(n)).unwrap();

    let ca = read("state_regulator-CA-ag-00001.txt");
    for want in [
        "California Attorney General",
        "affecting 601 California residents",
        "out of 901 individuals affected in all",
        "Cal. Civ. Code 1798.82(f)",
        sample,
        "Social Security number",
        "FOR COUNSEL BEFORE SENDING",
        "Due: December",
        "decision support for counsel",
    ] {
        assert!(ca.contains(want), "{want}: {ca}");
    }
    let tx = read("state_regulator-TX-ag-00001.txt");
    for want in [
        "Texas Attorney General",
        "affecting 300 Texas residents",
        "Tex. Bus. & Com. Code 521.053(i)",
        "Due: November 27, 2026",
        "The statute asks the notice to contain:",
        "the number of residents of this state affected",
    ] {
        assert!(tx.contains(want), "{want}: {tx}");
    }
    assert!(!tx.contains("sample copy"), "{tx}");
    // Every letter says whether its rule was verified against statute text.
    for (st, rid, verified) in &owed {
        let t = read(&format!("state_regulator-{st}-{rid}-00001.txt"));
        assert_eq!(!t.contains("UNVERIFIED"), *verified, "{st} {rid}: {t}");
        assert_eq!(t.contains("WARNING"), !*verified, "{st} {rid}");
    }
    // The sample copy: the notice to residents as they get it, California's headings and
    // all, with placeholders for the addressee and no one's name or address.
    let sc = read(sample);
    for want in [
        "Notice of Data Breach",
        "What Happened?",
        "What Information Was Involved?",
        "What We Are Doing.",
        "What You Can Do.",
        "For More Information.",
        "Dear [Resident's name]:",
        "[Street address]",
    ] {
        assert!(sc.contains(want), "{want}: {sc}");
    }
    for leak in ["Quintessa", "Rowe", "Elm Street", "Austin"] {
        assert!(!sc.contains(leak), "{leak} in the sample copy");
        assert!(!ca.contains(leak), "{leak} in the regulator letter");
    }
    let sample_entry = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == sample)
        .unwrap();
    assert_eq!(sample_entry["count"], 0, "an enclosure, not a notice");

    // One State, one regulator; HTML with the counsel page apart.
    let v = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "Texas",
            "--recipient",
            "ag",
            "--format",
            "html",
            "--out",
            s(&e.path("tx")),
            "--json",
        ])
        .ok()
        .json();
    let files = v["manifest"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["name"], "state_regulator-TX-ag-00001.html");
    let html =
        std::fs::read_to_string(e.path("tx").join("state_regulator-TX-ag-00001.html")).unwrap();
    assert!(html.contains("class=\"counsel-notes\""), "{html}");

    // A State that requires nothing is refused, naming what is owed; nothing is written.
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "NY",
            "--out",
            s(&e.path("ny")),
        ])
        .code(3);
    assert!(r.stderr.contains("owed: CA ag"), "{}", r.stderr);
    assert!(r.stderr.contains("TX ag"), "{}", r.stderr);
    assert!(!e.path("ny").exists());
    // The batches are on record; counsel approves the Texas one, and the notice to the
    // Attorney General is recorded against it (a batch may be cited, not required).
    let b = e.run(&["letters", "batches", &id, "--json"]).ok().json();
    assert_eq!(b["batches"].as_array().map(Vec::len), Some(2), "{b}");
    e.run(&["--actor", "counsel", "letters", "approve", &id, "2"])
        .ok();
    let n = e
        .run(&[
            "notice",
            "record",
            &id,
            "--kind",
            "state_regulator",
            "--jurisdiction",
            "TX",
            "--recipient",
            "ag",
            "--date",
            "2026-11-20",
            "--method",
            "portal",
            "--approved-batch",
            "2",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(n["recorded"]["signoff"]["batch"]["number"], 2, "{n}");
}

/// A State regulator notice of a no-harm determination (Alaska, 45.48.010(c)) says what it
/// is: the determination, residents not notified; never "a breach … we are notifying".
#[test]
fn a_no_harm_regulator_notice_reports_the_determination() {
    let e = Env::new();
    let f = e.write(
        "ak.toml",
        r#"title = "Misdirected statements"

[breach]
discovered = 2026-10-26
types = ["hacking_it_incident"]
locations = ["network_server"]
phi = ["name", "ssn"]

[individuals]
estimated_total = 40
by_state = { AK = 40 }

[state_law]
determined = 2026-10-28

[state_law.harm]
outcome = "not_likely"
date = 2026-11-02
states = ["AK"]
"#,
    );
    let id = e.incident(&["--from", s(&f)]);
    let out = e.path("ak");
    e.run(&[
        "letters",
        "render",
        &id,
        "--kind",
        "state_regulator",
        "--jurisdiction",
        "AK",
        "--recipient",
        "AG_NO_HARM",
        "--out",
        s(&out),
    ])
    .ok();
    let t = std::fs::read_to_string(out.join("state_regulator-AK-ag_no_harm-00001.txt")).unwrap();
    assert!(t.contains("determination that harm is not likely"), "{t}");
    assert!(
        t.contains("residents are not being notified under Alaska law"),
        "{t}"
    );
    assert!(!t.contains("breach of security that affected"), "{t}");
    assert!(
        !t.contains("We are notifying the affected residents"),
        "{t}"
    );
    // The filters belong to this kind only.
    let r = e
        .run(&[
            "letters",
            "render",
            &id,
            "--kind",
            "media",
            "--jurisdiction",
            "AK",
            "--out",
            s(&e.path("m")),
        ])
        .code(3);
    assert!(
        r.stderr.contains("add --kind state_regulator"),
        "{}",
        r.stderr
    );
}
